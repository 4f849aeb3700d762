"""The server's ``hera`` command: its own options and commands (not Flask's), the client's
global options before or after the command's name, commands that say which database they
wrote to, and ``hera serve`` (what it prints, where gunicorn's control socket goes, a clean
start-up without gevent's MonkeyPatchWarning, a clean stop)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import requests

from conftest import free_port

HERA = [sys.executable, "-m", "vo_service.cli"]


@pytest.fixture
def env(tmp_path):
    """No HERA_ setting and no stored login: the command's own defaults, from tmp_path."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("HERA_")}
    clean.update(XDG_CONFIG_HOME=str(tmp_path / "xdg"), HERA_RETRIES="0")
    return clean


def hera(args, env, cwd):
    return subprocess.run(HERA + list(args), env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_help_shows_heras_commands_and_options_not_flasks(env, tmp_path):
    shown = hera(["--help"], env, tmp_path)
    assert shown.returncode == 0, shown.stderr
    for flask_option in ("--env-file", "--app", "--debug"):
        assert flask_option not in shown.stdout
    for option in ("--url", "--token", "-q, --quiet", "--version"):
        assert option in shown.stdout
    for name in ("serve", "worker", "user", "catalog", "run", "query", "ws", "jobs"):
        assert f"\n  {name} " in shown.stdout, name
    for refused in (["-A", "x:y", "user", "list"], ["--debug", "user", "list"]):
        assert hera(refused, env, tmp_path).returncode == 2


@pytest.mark.parametrize("words", [
    ["--url", "{url}", "jobs", "list"],
    ["jobs", "--url", "{url}", "list"],
    ["-q", "--url", "{url}", "jobs", "list"],
    ["jobs", "-q", "--url", "{url}", "list"],
])
def test_the_clients_global_options_work_before_or_after_the_command(env, tmp_path, words):
    closed = f"http://127.0.0.1:{free_port()}"
    aimed = hera([w.format(url=closed) for w in words], env, tmp_path)
    assert aimed.returncode == 1
    assert aimed.stderr.strip() == f"hera: error: cannot reach {closed}: [Errno 111] Connection refused"


def test_quiet_before_or_after_the_command_silences_the_clients_notes(env, tmp_path):
    assert hera(["logout"], env, tmp_path).stderr == "no stored login\n"
    assert hera(["-q", "logout"], env, tmp_path).stderr == ""
    assert hera(["--quiet", "logout"], env, tmp_path).stderr == ""
    assert hera(["logout", "-q"], env, tmp_path).stderr == ""
    assert hera(["-q", "run"], env, tmp_path).stderr.startswith("hera: error: usage: hera run TOOL")


def test_the_clients_global_options_are_refused_before_a_server_command(env, tmp_path):
    refused = hera(["--url", "http://127.0.0.1:1", "user", "list"], env, tmp_path)
    assert refused.returncode == 2
    assert "--url, --token and -q are options of the client's commands" in refused.stderr
    assert "not of user" in refused.stderr
    assert not (tmp_path / "hera-data").exists()


def test_global_url_sends_tools_to_the_service_not_the_local_registry(env, tmp_path):
    closed = f"http://127.0.0.1:{free_port()}"
    remote = hera(["--url", closed, "tools", "list"], env, tmp_path)
    assert remote.returncode == 1 and remote.stderr.startswith(f"hera: error: cannot reach {closed}")
    local = hera(["tools", "list"], env, tmp_path)
    assert local.returncode == 0 and "fstatistic" in local.stdout


def test_user_commands_say_which_database_they_wrote_to(env, tmp_path):
    """Run from another folder without HERA_DATA_DIR, ``hera user add`` makes a second data
    directory; the line naming the database shows it."""
    (tmp_path / "elsewhere").mkdir()
    data_dir = tmp_path / "elsewhere" / "hera-data"
    added = hera(["user", "add", "alice", "--group", "integral"], env, tmp_path / "elsewhere")
    assert added.returncode == 0, added.stderr
    lines = added.stdout.splitlines()
    assert lines[0] == (f"created user alice in groups integral in database sqlite:///{data_dir / 'hera.sqlite'} "
                        f"(data directory {data_dir})")
    assert (data_dir / "hera.sqlite").is_file() and len(lines[-1]) > 20
    renewed = hera(["user", "token", "alice"], {**env, "HERA_DATA_DIR": str(data_dir)}, tmp_path)
    assert renewed.returncode == 0, renewed.stderr
    assert f"in database sqlite:///{data_dir / 'hera.sqlite'}" in renewed.stdout.splitlines()[0]
    assert renewed.stdout.splitlines()[-1] != lines[-1]
    listed = hera(["user", "list"], {**env, "HERA_DATA_DIR": str(data_dir)}, tmp_path)
    assert listed.stdout == "alice\tintegral\n"
    assert f"database sqlite:///{data_dir / 'hera.sqlite'}" in listed.stderr


def test_catalogue_commands_say_which_database_they_wrote_to(env, tmp_path):
    loaded = hera(["catalog", "demo", "--rows", "20", "--no-progress"], env, tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == (f"loaded 20 science windows (seed 0) into database "
                                     f"sqlite:///{tmp_path / 'hera-data' / 'hera.sqlite'}")
    refreshed = hera(["catalog", "refresh"], env, tmp_path)
    assert refreshed.stdout.strip().endswith(f"revolutions in database sqlite:///{tmp_path / 'hera-data' / 'hera.sqlite'}")


def test_a_database_password_is_not_printed(env, tmp_path, postgres_database_url):
    from sqlalchemy.engine import make_url

    url = make_url(postgres_database_url).set(password="s3cret-word")
    ready = hera(["init"], {**env, "HERA_DATABASE_URL": url.render_as_string(hide_password=False)}, tmp_path)
    assert ready.returncode == 0, ready.stderr  # trust authentication: the password is not checked
    assert ready.stdout.startswith("ready: database postgresql+psycopg://postgres:***@127.0.0.1")
    assert "s3cret-word" not in ready.stdout + ready.stderr


# -- hera serve -----------------------------------------------------------------------------------
@pytest.mark.timeout(240)
def test_serve_says_what_it_uses_keeps_its_control_socket_and_starts_without_warnings(env, tmp_path):
    port = free_port()
    home = tmp_path / "home"
    home.mkdir()
    env = {**env, "HOME": str(home), "HERA_TAP_DEMO_ROWS": "50"}
    env.pop("XDG_RUNTIME_DIR", None)  # gunicorn's default control socket would go there, else under HOME
    out, err = (tmp_path / "serve.out").open("w+"), (tmp_path / "serve.err").open("w+")
    proc = subprocess.Popen(HERA + ["serve", "--port", str(port), "--workers", "1"], env=env, cwd=tmp_path,
                            stdout=out, stderr=err, start_new_session=True)
    data_dir = tmp_path / "hera-data"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(f"http://127.0.0.1:{port}/tap/availability", timeout=10).ok:
                    break
            except requests.RequestException:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.err").read_text()
            time.sleep(0.3)
        children = psutil.Process(proc.pid).children(recursive=True)
        assert (data_dir / "gunicorn.ctl").is_socket()
        control = subprocess.run([str(Path(sys.executable).parent / "gunicornc"), "-s", str(data_dir / "gunicorn.ctl"),
                                  "-c", "show workers", "-j"], capture_output=True, text=True, timeout=60)
        assert json.loads(control.stdout)["count"] == 1, control.stderr
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    stdout, stderr = (tmp_path / "serve.out").read_text(), (tmp_path / "serve.err").read_text()
    assert stdout.splitlines()[0] == (f"Hera uses database sqlite:///{data_dir / 'hera.sqlite'} "
                                      f"(data directory {data_dir})")
    assert f"Control socket listening at {data_dir / 'gunicorn.ctl'}" in stderr
    assert not (home / ".gunicorn").exists()
    assert "MonkeyPatchWarning" not in stderr and "Traceback" not in stderr, stderr
    # the web server, the workers and the embedded Redis are gone with it
    assert children and not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE]


# -- the tests' Workers helper --------------------------------------------------------------------
def test_a_worker_that_dies_at_start_fails_the_test_at_once_with_its_output(config, tmp_path):
    from conftest import Workers

    config["HERA_DATABASE_URL"] = "nosuchdialect://nowhere/x"
    with open(tmp_path / "workers.log", "wb") as log:
        pool = Workers(config, log)
        with pytest.raises(pytest.fail.Exception) as failed:
            pool.start(1, timeout=600)
        pool.stop()
    assert "exited with status 1 at start" in str(failed.value)
    assert "Can't load plugin: sqlalchemy.dialects:nosuchdialect" in str(failed.value)

