"""The ``hera`` client (command and Python API) against a real service.

The service runs in a subprocess (werkzeug, threaded) with its own data directory and
queue, jobs run on real ``hera worker`` processes, and the client talks to it over
HTTP exactly as it would from a laptop. One such service with two workers serves the
module (each test signs in as a new user: its own jobs and workspace); the tests that
need a service without workers start their own. Retries and error messages are
checked against tiny HTTP servers started by the tests; parsing of tool lines and
scripts needs no network at all.
"""
from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import pytest

import hera
from hera import cli
from hera.batch import State, Task, read_tasks
from hera.errors import HeraError
from hera.script import WorkspacePath, bind, line_arguments, parse_script, temporaries

from conftest import free_port, serve_http

REPO = Path(__file__).resolve().parents[1]
TESTS = Path(__file__).resolve().parent

#: the service under test: the application as ``hera serve`` builds it, plus the UWS
#: tests' job list at /test-jobs, served by werkzeug on a free port; prints its URL and
#: the token of a user alice on its first line
SERVER = r"""
import json
from werkzeug.serving import make_server
from accounts import users
from uws import JobList
from uws.binding import mount
from vo_service import create_app
from vo_service.app import init_database

app = create_app()
init_database(app)
mount(app, JobList("test", "uws_test_executors:run", title="test jobs"), "/test-jobs")
token = users.add_user(app.extensions["hera"].engine, "alice", ["integral"])
server = make_server("127.0.0.1", 0, app, threaded=True)
url = f"http://127.0.0.1:{server.server_port}"
app.config["HERA_BASE_URL"] = url
print(json.dumps({"url": url, "token": token}), flush=True)
server.serve_forever()
"""


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    """Every test has its own XDG config home and no HERA_URL/HERA_TOKEN from outside."""
    (tmp_path / "xdg").mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("HERA_URL", raising=False)
    monkeypatch.delenv("HERA_TOKEN", raising=False)
    monkeypatch.setenv("HERA_RETRIES", "2")


def start_service(config: dict, log_path: Path):
    """The service in a subprocess: (process, url, token of user alice)."""
    env = {**os.environ, **{k: str(v) for k, v in config.items()},
           "PYTHONPATH": os.pathsep.join([str(TESTS), str(REPO)])}
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([sys.executable, "-c", SERVER], env=env, cwd=REPO, stdout=subprocess.PIPE,
                                stderr=log, start_new_session=True)
    line = proc.stdout.readline()
    if not line:
        proc.wait(10)
        pytest.fail("the service did not start:\n" + log_path.read_text()[-3000:])
    info = json.loads(line)
    return proc, info["url"], info["token"]


def stop_service(proc):
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(10)


@pytest.fixture
def service(config, tmp_path):
    """A service of the test's own, with no worker: ``(url, token)`` of user alice."""
    proc, url, token = start_service(config, tmp_path / "service.log")
    yield url, token
    stop_service(proc)


@pytest.fixture(scope="module")
def shared(tmp_path_factory, redis_url):
    """One service and two real ``hera worker`` processes for the tests of this module
    that need a worker; each test signs in as a user of its own (``account``), so
    their jobs and workspaces never meet. Yields (url, database URL)."""
    from conftest import Workers
    from vo_service import config as configuration
    base = tmp_path_factory.mktemp("shared-service")
    config = {"HERA_DATA_DIR": str(base / "data"), "HERA_REDIS_URL": redis_url,
              "HERA_QUEUE": f"hera-test-{uuid.uuid4().hex[:8]}", "HERA_SWEEP_INTERVAL": 1,
              "HERA_HEARTBEAT_TIMEOUT": 3}
    proc, url, _ = start_service(config, base / "service.log")
    with open(base / "workers.log", "wb") as log:
        pool = Workers(config, log).start(2)
        try:
            yield url, configuration.load(config)["HERA_DATABASE_URL"]
        finally:
            pool.stop()
            stop_service(proc)


def new_user(shared, **quota) -> tuple[str, str, str]:
    """A new user of the shared service: ``(url, token, name)``."""
    from tap_catalog.database import make_engine
    from accounts import users
    url, database = shared
    engine = make_engine(database)
    name = f"u{uuid.uuid4().hex[:10]}"
    try:
        token = users.add_user(engine, name, ["integral"], **quota)
    finally:
        engine.dispose()
    return url, token, name


@pytest.fixture
def account(shared):
    """A new user of the shared service: ``(url, token, name)``."""
    return new_user(shared)


@pytest.fixture
def logged_in(account, monkeypatch):
    """HERA_URL and HERA_TOKEN of a new user of the shared service, and a Client."""
    url, token, name = account
    monkeypatch.setenv("HERA_URL", url)
    monkeypatch.setenv("HERA_TOKEN", token)
    client = hera.Client()
    client.user_name = name  # for the tests' checks of ownership
    return client


def hera_cmd(capsys, *argv) -> tuple[int, str, str]:
    """Run the ``hera`` command in this process: (exit status, stdout, stderr)."""
    status = cli.main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


# -- tool lines and scripts, without the network ----------------------------------------
FTLIST = {"name": "ftlist", "parameters": [
    {"name": "infile", "type": "file", "direction": "in", "required": True},
    {"name": "option", "type": "string", "required": True},
    {"name": "outfile", "type": "file", "direction": "out"},
    {"name": "rownum", "type": "boolean"},
]}


def test_positional_words_follow_the_descriptor_order_and_names_may_come_anywhere():
    assert bind(FTLIST, ["rate.fits", "hck", "outfile=out.txt"]) == \
        {"infile": "rate.fits", "option": "hck", "outfile": "out.txt"}
    # a name given takes its parameter out of the positional order
    assert bind(FTLIST, ["option=H", "rate.fits", "o.txt"]) == \
        {"infile": "rate.fits", "option": "H", "outfile": "o.txt"}
    # names match case-insensitively and keep the descriptor's spelling
    assert bind(FTLIST, ["INFILE=a.fits", "K"], {"RowNum": True}) == \
        {"infile": "a.fits", "option": "K", "rownum": True}


def test_words_with_equals_signs_inside_filters_stay_positional():
    assert bind(FTLIST, ["rate.fits[rate==100]", "x=1"]) == {"infile": "rate.fits[rate==100]", "option": "x=1"}


@pytest.mark.parametrize("args,params,words", [
    (["infile=a", "nosuch=1"], {}, None),  # an unknown name=value is positional: one too many here
    (["a", "b", "c", "d", "e"], {}, "too many positional"),
    (["infile=a"], {"infile": "b"}, "given twice"),
    ([], {"colour": "red"}, "no parameter 'colour'"),
])
def test_bad_tool_words_are_one_clear_error(args, params, words):
    if words is None:
        assert bind(FTLIST, args, params)["option"] == "nosuch=1"
        return
    with pytest.raises(HeraError, match=words):
        bind(FTLIST, args, params)


def test_scripts_skip_comments_and_blank_lines_and_keep_line_numbers():
    text = ("# the seed's script\n\nftcopy 'rate.fit[col rate]' %1\n  # indented comment\n"
            "ftcopy '%1[rate > 100]' %2\nftlist %2 hck outfile=$1\n")
    lines = parse_script(text, ["out.txt"])
    assert [(line.number, line.tool) for line in lines] == [(3, "ftcopy"), (5, "ftcopy"), (6, "ftlist")]
    assert lines[0].args == ["rate.fit[col rate]", "%1"]
    assert lines[1].args == ["%1[rate > 100]", "%2"]
    assert lines[2].args == ["%2", "hck", "outfile=out.txt"]
    assert temporaries(lines) == {1, 2}


def test_temporaries_become_workspace_paths_with_their_filters():
    positional, named = line_arguments(FTLIST, ["%1[rate > 100]", "hck", "outfile=%2"], "hera-runs/s")
    assert positional == [WorkspacePath("hera-runs/s/tmp1.fits", "[rate > 100]"), "hck"]
    assert named == {"outfile": WorkspacePath("hera-runs/s/tmp2.fits")}
    assert str(positional[0]) == "hera-runs/s/tmp1.fits[rate > 100]"


@pytest.mark.parametrize("text,words", [
    ("ftlist $2 H\n", "line 1: \\$2 is used but the script got 1 argument"),
    ("# c\nftcopy 'a.fits[col x] b\n", "line 2: No closing quotation"),
])
def test_script_errors_name_the_line(text, words):
    with pytest.raises(HeraError, match=words):
        parse_script(text, ["one"])


def test_batch_files_are_lines_or_csv_and_the_state_file_remembers_finished_runs(tmp_path):
    lines = tmp_path / "runs.txt"
    lines.write_text("# two runs\nftlist a.fits H\n\nftlist b.fits K outfile=b.txt\n")
    tasks = read_tasks(lines)
    assert [(t.number, t.tool, t.args) for t in tasks] == [(2, "ftlist", ["a.fits", "H"]),
                                                           (4, "ftlist", ["b.fits", "K", "outfile=b.txt"])]
    table = tmp_path / "runs.csv"
    table.write_text("infile,option,outfile\na.fits,H,\nb.fits,K,b.txt\n")
    tasks = read_tasks(table, tool="ftlist")
    assert [(t.number, t.params) for t in tasks] == [(2, {"infile": "a.fits", "option": "H"}),
                                                      (3, {"infile": "b.fits", "option": "K", "outfile": "b.txt"})]
    with pytest.raises(HeraError, match="no tool"):
        read_tasks(table)
    (tmp_path / "bad.txt").write_text("ftcopy a.fits %1\n")
    with pytest.raises(HeraError, match="temporaries belong in scripts"):
        read_tasks(tmp_path / "bad.txt")
    state = State(tmp_path / "s")
    key = Task(2, "ftlist", ["a.fits", "H"]).key
    state.add({"key": key, "phase": "ERROR"})
    state.add({"key": key, "phase": "COMPLETED"})
    with open(state.path, "a") as f:
        f.write('{"key": "cut by a cra')
    assert state.load()[key]["phase"] == "COMPLETED"
    assert Task(2, "ftlist", ["a.fits", "K"]).key != key


def test_global_options_may_also_follow_the_command_name():
    args = cli.parser().parse_args(["run", "--url", "http://h:1", "--token", "t", "-q", "ftlist", "a.fits", "H"])
    assert (args.url, args.token, args.quiet, args.words) == ("http://h:1", "t", True, ["ftlist", "a.fits", "H"])
    args = cli.parser().parse_args(["--url", "http://h:1", "ws", "ls"])
    assert (args.url, args.token, args.quiet) == ("http://h:1", None, False)
    args = cli.parser().parse_args(["--token", "t", "login", "http://h:2"])
    assert (args.token, args.service, args.login_token) == ("t", "http://h:2", None)


def test_issued_tokens_cannot_be_taken_for_an_option_and_older_ones_pass_with_equals(tmp_path):
    from sqlalchemy import create_engine
    from accounts import users
    engine = create_engine(f"sqlite:///{tmp_path / 'users.db'}")
    users.metadata.create_all(engine)
    issued = [users.add_user(engine, f"u{i}") for i in range(20)] + [users.renew_token(engine, "u0")]
    assert all(t.startswith("hera_") and len(t) > 40 for t in issued)
    assert len(set(issued)) == len(issued)
    args = cli.parser().parse_args([f"--token={issued[0]}", "ws", "ls"])
    assert args.token == issued[0]
    # a token of the old form (before the prefix) may begin with '-': '=' keeps it a value
    args = cli.parser().parse_args(["run", "--token=-0Ttg8RuB", "ftlist", "a.fits"])
    assert args.token == "-0Ttg8RuB"


def test_run_options_may_come_anywhere_among_the_tool_words():
    opts, words = cli._split_run_words(["fsort", "--keep-remote", "infile=a.fits", "--run-id", "r1", "x=1"])
    assert opts == {"keep_remote": True, "run_id": "r1"}
    assert words == ["fsort", "infile=a.fits", "x=1"]
    assert cli._split_run_words(["t", "--", "--keep-remote"])[1] == ["t", "--keep-remote"]


# -- login and configuration ------------------------------------------------------------
def test_login_stores_url_and_token_privately_and_the_environment_overrides_it(account, capsys, tmp_path, monkeypatch):
    url, token, _ = account
    status, _, err = hera_cmd(capsys, "login", url + "/", "--token", token)
    assert status == 0, err
    path = tmp_path / "xdg" / "hera" / "config.json"
    assert json.loads(path.read_text()) == {"url": url, "token": token}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert hera.Client().url == url and hera.Client().token == token
    status, out, _ = hera_cmd(capsys, "login")
    assert f"url: {url}" in out and str(path) in out
    monkeypatch.setenv("HERA_URL", "http://elsewhere.example:9")
    monkeypatch.setenv("HERA_TOKEN", "other")
    client = hera.Client()
    assert (client.url, client.token) == ("http://elsewhere.example:9", "other")
    assert hera.Client("http://explicit:1", "t").url == "http://explicit:1"
    assert hera_cmd(capsys, "logout")[0] == 0
    assert not path.exists()


def test_login_with_a_wrong_token_fails_in_one_line_and_stores_nothing(account, capsys, tmp_path):
    url, _, _ = account
    status, _, err = hera_cmd(capsys, "login", url, "--token", "not-a-token")
    assert status == 1
    assert err.count("\n") == 1 and err.startswith("hera: error: login to") and "401" in err
    assert not (tmp_path / "xdg" / "hera" / "config.json").exists()


def test_without_a_service_the_client_says_how_to_configure_one(capsys):
    status, _, err = hera_cmd(capsys, "jobs", "list")
    assert status == 1
    assert err == "hera: error: no service URL: run 'hera login URL' or set HERA_URL\n"


# -- retries and error messages, against a tiny HTTP server -----------------------------
class Flaky(http.server.BaseHTTPRequestHandler):
    """Answers GET /tools with ``plan[n]`` for the n-th request: (status, JSON body)."""

    plan: list = []
    seen: list = []

    def do_GET(self):
        self.seen.append((self.path, self.headers.get("Authorization")))
        status, body = self.plan[min(len(self.seen), len(self.plan)) - 1]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky():
    Flaky.plan, Flaky.seen = [], []
    with serve_http(Flaky) as base:
        yield base, Flaky


def test_5xx_answers_are_retried_with_backoff_until_the_service_answers(flaky, capsys):
    url, handler = flaky
    tools = {"tools": [{"name": "ftcopy", "version": "1.0", "summary": "copy"}]}
    handler.plan = [(503, {"error": "busy"}), (502, {"error": "gateway"}), (200, tools)]
    start = time.monotonic()
    status, out, err = hera_cmd(capsys, "--url", url, "--token", "tok", "tools", "list")
    assert status == 0, err
    assert out.split() == ["ftcopy", "1.0", "copy"]
    assert len(handler.seen) == 3
    assert all(auth == "Bearer tok" for _, auth in handler.seen)
    assert "retry 1/2" in err and "retry 2/2" in err
    assert time.monotonic() - start >= 0.3 * 3  # backoff 0.5 s then 1 s, with +-25% jitter


def test_retries_give_up_with_the_services_own_message(flaky, capsys):
    url, handler = flaky
    handler.plan = [(503, {"error": "the queue is full"})]
    status, _, err = hera_cmd(capsys, "--url", url, "tools", "list")
    assert status == 1 and len(handler.seen) == 3
    assert err.splitlines()[-1] == "hera: error: GET /tools?format=json: 503 the queue is full"


def test_client_errors_are_not_retried(flaky):
    url, handler = flaky
    handler.plan = [(400, {"error": "no such format"})]
    with pytest.raises(HeraError, match="400 no such format") as info:
        hera.Client(url).tools()
    assert info.value.status == 400 and len(handler.seen) == 1


class Cutting(http.server.BaseHTTPRequestHandler):
    """Serves ``data`` with an ETag and byte ranges, but the first answer breaks halfway."""

    data = bytes(range(256)) * 40
    seen: list = []

    def do_GET(self):
        self.seen.append((self.headers.get("Range"), self.headers.get("If-Range")))
        first = int(self.headers["Range"][6:-1]) if self.headers.get("Range") else 0
        body = self.data[first:]
        self.send_response(206 if first else 200)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", '"v1"')
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if len(self.seen) == 1:
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)  # the connection breaks
            return
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_a_download_broken_midway_resumes_with_a_range_request(tmp_path, capsys):
    Cutting.seen = []
    with serve_http(Cutting) as base:
        status, _, err = hera_cmd(capsys, "--url", base, "ws", "get", "data/rate.fits", str(tmp_path / "rate.fits"))
    assert status == 0, err
    assert (tmp_path / "rate.fits").read_bytes() == Cutting.data
    half = len(Cutting.data) // 2
    assert Cutting.seen == [(None, None), (f"bytes={half}-", '"v1"')]
    assert f"resuming at byte {half}" in err
    assert not (tmp_path / "rate.fits.hera-part").exists()


def test_network_failures_are_retried_then_reported_in_one_line(capsys):
    port = free_port()
    status, _, err = hera_cmd(capsys, "--url", f"http://127.0.0.1:{port}", "ws", "ls")
    assert status == 1
    lines = err.splitlines()
    assert len(lines) == 3 and "retry 1/2" in lines[0] and "retry 2/2" in lines[1]
    assert lines[2].startswith(f"hera: error: cannot reach http://127.0.0.1:{port}: ") and "refused" in lines[2]


# -- UWS job verbs against the real service ----------------------------------------------
def test_jobs_show_wait_abort_and_rm_work_on_job_urls(logged_in, capsys):
    done = logged_in.uws.create("test-jobs", {"sleep": "0.2", "echo": "hello"})
    status, out, err = hera_cmd(capsys, "jobs", "wait", done.url)
    assert (status, out) == (0, "COMPLETED\n"), err
    status, out, _ = hera_cmd(capsys, "jobs", "show", done.url)
    assert f"job {done.id}: COMPLETED" in out and "sleep = 0.2" in out and "out: " in out
    assert logged_in.job(done.url).owner == logged_in.user_name

    failing = logged_in.uws.create("test-jobs", {"fail": "the detector is off"})
    status, out, err = hera_cmd(capsys, "jobs", "wait", failing.url)
    assert (status, out) == (1, "ERROR\n") and "the detector is off" in err

    slow = logged_in.uws.create("test-jobs", {"sleep": "60"})
    logged_in.uws.wait(slow, timeout=0)
    status, _, err = hera_cmd(capsys, "jobs", "abort", slow.url)
    assert status == 0 and "ABORTED" in err
    assert logged_in.job(slow.url).phase == "ABORTED"

    assert hera_cmd(capsys, "jobs", "rm", slow.url)[0] == 0
    status, _, err = hera_cmd(capsys, "jobs", "show", slow.url)
    assert status == 1 and "404" in err and err.count("\n") == 1


def test_wait_with_a_timeout_returns_the_phase_it_found(logged_in, capsys):
    pending = logged_in.uws.create("test-jobs", {"sleep": "1"}, run=False)
    start = time.monotonic()
    status, out, _ = hera_cmd(capsys, "jobs", "wait", pending.url, "--timeout", "1")
    assert (status, out) == (1, "PENDING\n")
    assert time.monotonic() - start < 10


# -- tools, scripts and batches end to end ----------------------------------------------
def make_rate_file(path: Path, n: int = 200, seed: int = 7):
    """A light-curve-like FITS table (TIME, RATE) and its columns, for checks."""
    from astropy.io import fits
    rng = np.random.default_rng(seed)
    time_ = np.arange(n, dtype=float) * 8.0
    rate = rng.uniform(0.0, 200.0, n).astype(np.float32)
    fits.BinTableHDU.from_columns([fits.Column("TIME", "D", unit="s", array=time_),
                                   fits.Column("RATE", "E", unit="count/s", array=rate)],
                                  name="RATE").writeto(path)
    return time_, rate


@pytest.fixture
def here(tmp_path, monkeypatch):
    """A fresh current folder, as the astronomer's laptop folder."""
    folder = tmp_path / "laptop"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def card(text: str, keyword: str, hdu: int) -> str:
    """The value of ``keyword`` in the ftlist K listing of HDU ``hdu``."""
    block = text.split(f"HDU {hdu}:\n", 1)[1].split("\nEND", 1)[0]
    line = next(line for line in block.splitlines() if line.startswith(keyword.ljust(8) + "="))
    return line[10:].split("/")[0].strip().strip("'").strip()


def test_the_seeds_script_runs_end_to_end_with_temporaries_on_the_service(logged_in, here, capsys):
    _, rate = make_rate_file(here / "rate.fit")
    (here / "seed.hera").write_text(
        "# the seed's script: rates above 100 counts/s, listed\n"
        "ftcopy 'rate.fit[col rate]' %1\n"
        "\n"
        "ftcopy '%1[rate > 100]' %2\n"
        "ftlist %2 hck outfile=out.txt\n")
    status, _, err = hera_cmd(capsys, "runsc", "seed.hera")
    assert status == 0, err
    listing = (here / "out.txt").read_text()
    assert card(listing, "NAXIS2", 2) == str(int((rate > 100).sum()))  # the row filter, counted here
    assert card(listing, "TFIELDS", 2) == "1" and card(listing, "TTYPE1", 2) == "RATE"  # [col rate]
    assert "HDU 2   RATE               BinTable   1 cols x" in listing  # H
    assert "      1 RATE             E [count/s]" in listing            # C
    for n in (2, 4, 5):
        assert f"seed.hera:{n}: " in err
    # the temporaries lived on the service and are gone; the input was uploaded once
    runs = logged_in.ws_ls("hera-runs")
    assert [e["name"] for e in runs["entries"]] == ["inputs"]
    uploaded = logged_in.ws_ls(f"hera-runs/inputs/{logged_in.ws_ls('hera-runs/inputs')['entries'][0]['name']}")
    assert [e["name"] for e in uploaded["entries"]] == ["rate.fit"]


def test_a_failing_script_line_stops_the_script_with_its_number_and_the_jobs_error(logged_in, here, capsys):
    make_rate_file(here / "rate.fit")
    (here / "bad.hera").write_text("ftcopy rate.fit %1\nfstatistic %1 NOSUCH\nftlist %1 H outfile=never.txt\n")
    status, _, err = hera_cmd(capsys, "runsc", "bad.hera")
    assert status == 1
    last = err.splitlines()[-1]
    assert last.startswith("hera: error: bad.hera:2: fstatistic job ") and "ERROR" in last and "NOSUCH" in last
    assert "bad.hera:3" not in err and not (here / "never.txt").exists()


def test_script_arguments_fill_dollar_placeholders(logged_in, here, capsys, monkeypatch):
    import io
    _, rate = make_rate_file(here / "rate.fit")
    (here / "stats.hera").write_text("fstatistic $1 RATE outfile=$2\n")
    status, _, err = hera_cmd(capsys, "runsc", "stats.hera", "rate.fit", "stats.txt")
    assert status == 0, err
    assert f"{rate.astype(float).sum():.6f}"[:8] in (here / "stats.txt").read_text()
    monkeypatch.setattr(sys, "stdin", io.StringIO("fstatistic rate.fit RATE rows=1-10 outfile=$1\n"))
    status, _, err = hera_cmd(capsys, "runsc", "-", "ten.txt")  # the script from stdin
    assert status == 0, err
    assert "The number of points used in calculation is: 10" in (here / "ten.txt").read_text()


def test_run_with_the_ftools_spelling_uploads_inputs_and_downloads_outputs(logged_in, here, capsys):
    from astropy.table import Table
    _, rate = make_rate_file(here / "intable.fits")
    status, _, err = hera_cmd(capsys, "run", "fsort", "infile=intable.fits", "outfile=temp.fits",
                              "method=insert", "columns=-RATE")
    assert status == 0, err
    assert np.array_equal(Table.read(here / "temp.fits")["RATE"], np.sort(rate)[::-1])
    assert "hera-runs/2" not in str(logged_in.ws_ls("hera-runs"))  # the run's folder was removed


def test_positional_words_follow_the_tools_order_and_text_results_are_printed(logged_in, here, capsys):
    _, rate = make_rate_file(here / "rate.fit")
    status, out, err = hera_cmd(capsys, "run", "ftlist", "rate.fit[1][#row <= 3]", "T")
    assert status == 0, err
    rows = out.splitlines()
    assert rows[0].split() == ["TIME", "RATE"]
    assert [float(r.split()[2]) for r in rows[1:4]] == pytest.approx(rate[:3], rel=1e-6)


def test_several_local_inputs_are_uploaded_from_a_comma_list_or_an_at_list(logged_in, here, capsys):
    from astropy.table import Table
    _, a = make_rate_file(here / "a.fits", n=30, seed=1)
    _, b = make_rate_file(here / "b.fits", n=20, seed=2)
    status, _, err = hera_cmd(capsys, "run", "fmerge", "a.fits,b.fits[#row <= 5]", "ab.fits")
    assert status == 0, err
    assert np.array_equal(Table.read(here / "ab.fits")["RATE"], np.concatenate([a, b[:5]]))
    (here / "list.txt").write_text("# the inputs\nb.fits\na.fits\n")
    status, _, err = hera_cmd(capsys, "run", "fmerge", "infiles=@list.txt", "outfile=ba.fits")
    assert status == 0, err
    assert np.array_equal(Table.read(here / "ba.fits")["RATE"], np.concatenate([b, a]))


def test_a_missing_required_parameter_is_asked_for_on_a_terminal(logged_in, here, capsys, monkeypatch):
    import io
    _, rate = make_rate_file(here / "intable.fits")
    answers = io.StringIO("RATE\n")
    answers.isatty = lambda: True
    monkeypatch.setattr(sys, "stdin", answers)
    status, out, err = hera_cmd(capsys, "run", "fsort", "infile=intable.fits", "outfile=temp.fits", "method=insert")
    assert status == 0, err
    from astropy.table import Table
    assert np.array_equal(Table.read(here / "temp.fits")["RATE"], np.sort(rate))
    assert out.startswith("columns (")  # the prompt names the parameter


def test_keep_remote_leaves_outputs_in_the_workspace_and_async_prints_the_job(logged_in, here, capsys):
    make_rate_file(here / "rate.fit")
    status, _, err = hera_cmd(capsys, "run", "ftcopy", "rate.fit[rate > 150]", "bright/rate.fits", "--keep-remote")
    assert status == 0, err
    assert not (here / "bright").exists()
    assert [e["name"] for e in logged_in.ws_ls("bright")["entries"]] == ["rate.fits"]
    status, out, _ = hera_cmd(capsys, "run", "--async", "ftlist", "ws:bright/rate.fits", "H", "outfile=h.txt")
    url = out.strip()
    assert status == 0 and url.startswith(logged_in.url + "/tools/ftlist/")
    assert hera_cmd(capsys, "jobs", "wait", url)[1] == "COMPLETED\n"
    assert logged_in.ws_exists("h.txt") and not (here / "h.txt").exists()
    status, out, _ = hera_cmd(capsys, "jobs", "list")
    job_id = url.rsplit("/", 1)[1]
    assert any(line.split()[:3] == ["ftlist", job_id, "COMPLETED"] for line in out.splitlines())
    for ref in (f"ftlist/{job_id}", job_id):  # LIST/ID, or an ID looked up in every list
        status, out, _ = hera_cmd(capsys, "jobs", "show", ref)
        assert status == 0 and out.startswith(f"job {job_id}: COMPLETED\n  url: {url}\n")


def test_a_tool_version_can_be_pinned_and_its_jobs_are_listed(logged_in, here, capsys):
    make_rate_file(here / "rate.fit")
    version = logged_in.descriptor("ftlist")["version"]
    status, out, err = hera_cmd(capsys, "run", f"ftlist@{version}", "rate.fit", "H")
    assert status == 0, err
    assert "HDU 2   RATE" in out
    status, out, _ = hera_cmd(capsys, "jobs", "list")
    pinned = [line.split() for line in out.splitlines() if line.startswith(f"ftlist@{version} ")]
    assert len(pinned) == 1 and pinned[0][2] == "COMPLETED"


def test_ctrl_c_on_run_asks_and_aborts_the_remote_job(service, here, tmp_path):
    """The service has no worker, so the job stays queued while the command waits for it."""
    make_rate_file(here / "rate.fit")
    url, token = service
    logged_in = hera.Client(url, token)
    env = {**os.environ, "PYTHONPATH": str(REPO / "client"), "HERA_URL": url, "HERA_TOKEN": token}
    proc = subprocess.Popen([sys.executable, "-m", "hera", "run", "ftlist", "rate.fit", "H"], cwd=here, env=env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    started = proc.stderr.readline()  # "ftlist job URL": the command now waits for the job
    assert started.startswith("ftlist job ") and proc.poll() is None, started
    assert [j.phase for _, j in logged_in.jobs()] == ["QUEUED"]
    time.sleep(0.3)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate("y\n", timeout=30)
    assert proc.returncode == 130
    assert "abort the remote job? [y/N]" in out + err
    (label, job), = logged_in.jobs()
    assert job.phase == "ABORTED" and f"job {job.id}: ABORTED" in err


def test_batch_runs_many_with_bounded_concurrency_and_a_rerun_skips_the_done_ones(logged_in, here, capsys):
    _, rate = make_rate_file(here / "rate.fit")
    lines = [f"fstatistic 'rate.fit[#row <= {10 * i}]' RATE outfile=stats/s{i}.txt" for i in range(1, 9)]
    (here / "runs.txt").write_text("# eight statistics and one mistake\n" + "\n".join(lines)
                                   + "\nfstatistic rate.fit NOSUCH\n")
    status, _, err = hera_cmd(capsys, "batch", "runs.txt", "-j", "3", "--progress")
    assert status == 1
    assert "9 runs: 8 completed, 1 failed, 0 skipped" in err
    assert "line 10: fstatistic job" in err and "NOSUCH" in err
    assert "] 9/9 ok 8 failed 1" in err  # the progress bar's last state
    for i in range(1, 9):
        text = (here / "stats" / f"s{i}.txt").read_text()
        assert f"The number of points used in calculation is: {10 * i}" in text
    state = [json.loads(line) for line in (here / "runs.txt.hera-state").read_text().splitlines()]
    assert len(state) == 9 and all(r["seconds"] > 0 for r in state)
    status, _, err = hera_cmd(capsys, "batch", "runs.txt")
    assert status == 1 and "9 runs: 0 completed, 1 failed, 8 skipped" in err
    (here / "runs.csv").write_text("infile,colname,rows\nrate.fit,RATE,1-5\nrate.fit,TIME,1-2\n")
    status, _, err = hera_cmd(capsys, "batch", "runs.csv", "--tool", "fstatistic", "--keep-remote")
    assert status == 0 and "2 runs: 2 completed" in err


def test_ctrl_c_on_batch_waits_for_the_runs_in_flight_and_twice_leaves_them(service, here):
    """The service has no worker: the runs in flight wait until the second Ctrl-C."""
    make_rate_file(here / "rate.fit")
    url, token = service
    (here / "runs.txt").write_text("".join(f"fstatistic rate.fit RATE minval=-{i}\n" for i in range(5)))
    env = {**os.environ, "PYTHONPATH": str(REPO / "client"), "HERA_URL": url, "HERA_TOKEN": token}
    proc = subprocess.Popen([sys.executable, "-m", "hera", "batch", "runs.txt", "-j", "2"], cwd=here, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    client = hera.Client(url, token)
    deadline = time.monotonic() + 30
    while len(client.jobs()) < 2:
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    time.sleep(1.0)
    assert proc.poll() is None  # still waiting for the two runs in flight
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "interrupted: waiting for the 2 run(s) in flight" in err
    assert "5 runs: 0 completed, 0 failed, 0 skipped" in err and "interrupted" in err.splitlines()[-2]
    assert "left 2 run(s) on the service" in err
    assert len(client.jobs()) == 2  # nothing more was submitted
    assert not (here / "runs.txt.hera-state").exists()


def test_tools_list_and_show_come_from_the_descriptors(logged_in, capsys):
    status, out, _ = hera_cmd(capsys, "tools", "list")
    assert status == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert {"ftcopy", "ftlist", "fsort", "fstatistic"} <= set(names)
    status, out, _ = hera_cmd(capsys, "tools", "show", "fsort")
    descriptor = logged_in.descriptor("fsort")
    order = [p["name"] for p in descriptor["parameters"]]
    assert f"usage: hera run fsort {order[0]} {order[1]} {order[2]}" in out
    method = next(line for line in out.splitlines() if line.startswith("  method "))
    assert "enum" in method and "heap|insert|shell" in method
    status, _, err = hera_cmd(capsys, "tools", "show", "nosuch")
    assert status == 1 and "no tool 'nosuch'" in err


# -- the Python API -----------------------------------------------------------------
def test_the_python_api_runs_tools_with_astropy_tables_in_and_out(logged_in, here):
    from astropy.table import Table
    _, rate = make_rate_file(here / "rate.fit")
    client = hera.Client(logged_in.url, logged_in.token)
    run = client.run("ftcopy", infile="rate.fit[rate > 150]", outfile="bright.fits")
    assert run.job.phase == "COMPLETED" and run.outputs["outfile"] == here / "bright.fits"
    assert np.array_equal(run.table("outfile")["RATE"], rate[rate > 150])
    table = Table({"x": np.arange(5.0), "y": [3, 1, 4, 1, 5]})
    run = client.run("fsort", infile=table, columns="y", outfile="sorted.fits")
    assert list(run.table("outfile")["y"]) == [1, 1, 3, 4, 5]
    assert run.provenance()["inputs"]["infile"]["path"].startswith("hera-runs/inputs/")
    with pytest.raises(hera.JobFailed, match="NOSUCH") as info:
        client.run("fstatistic", "rate.fit", "NOSUCH")
    assert info.value.job.phase == "ERROR"


# -- workspace and queries ---------------------------------------------------------------
def test_ws_verbs_move_files_both_ways(logged_in, here, capsys):
    (here / "notes.txt").write_text("INTEGRAL\n")
    assert hera_cmd(capsys, "ws", "mkdir", "papers")[0] == 0
    assert hera_cmd(capsys, "ws", "put", "notes.txt", "papers/")[0] == 0
    status, out, _ = hera_cmd(capsys, "ws", "ls", "papers")
    assert out.split()[-1] == "notes.txt"
    assert hera_cmd(capsys, "ws", "mv", "papers/notes.txt", "papers/n.txt")[0] == 0
    assert hera_cmd(capsys, "ws", "get", "papers/n.txt", "back.txt")[0] == 0
    assert (here / "back.txt").read_text() == "INTEGRAL\n"
    status, out, _ = hera_cmd(capsys, "ws", "ls", "papers", "--json")
    entry, = json.loads(out)["entries"]
    import hashlib
    assert entry["sha256"] == hashlib.sha256(b"INTEGRAL\n").hexdigest()
    (here / "a.txt").write_text("a")
    (here / "b.txt").write_text("b")
    assert hera_cmd(capsys, "ws", "put", "a.txt", "b.txt", "papers/two/")[0] == 0
    assert [e["name"] for e in logged_in.ws_ls("papers/two")["entries"]] == ["a.txt", "b.txt"]
    status, _, err = hera_cmd(capsys, "ws", "put", "a.txt", "b.txt", "papers/x")
    assert status == 1 and "end 'papers/x' with /" in err
    assert hera_cmd(capsys, "ws", "rm", "-r", "papers")[0] == 0
    status, _, err = hera_cmd(capsys, "ws", "get", "papers/n.txt")
    assert status == 1 and "404" in err


def test_a_nearly_full_workspace_is_announced_and_a_full_one_refused_in_one_line(shared, here, capsys):
    url, token, _ = new_user(shared, quota_bytes=1000)
    (here / "a.bin").write_bytes(b"x" * 950)
    status, _, err = hera_cmd(capsys, "--url", url, "--token", token, "ws", "put", "a.bin")
    assert status == 0
    assert "hera: the service warns: workspace 95% full: 950 of 1000 bytes" in err
    status, _, err = hera_cmd(capsys, "--url", url, "--token", token, "ws", "put", "a.bin", "b.bin")
    assert status == 1 and err.count("\n") == 1 and err.startswith("hera: error: PUT /workspace/b.bin: ")
    assert "quota" in err


def test_large_uploads_go_in_pieces_and_resume_where_a_broken_one_stopped(logged_in, here, monkeypatch):
    import hashlib
    from hera import client as client_module
    monkeypatch.setattr(client_module, "RESUMABLE_MIN", 1000)
    monkeypatch.setattr(client_module, "RESUMABLE_PIECE", 700)
    data = os.urandom(3000)
    (here / "big.bin").write_bytes(data)
    # an earlier attempt that broke after its first piece
    first = logged_in.http.request("PUT", "workspace/big/b.bin", body=data[:700], ok=(202,),
                                   headers={"Content-Range": "bytes 0-699/3000", "Content-Length": "700"})
    assert first.headers["Upload-Offset"] == "700"
    sent = []
    original = logged_in.http.request

    def spy(method, path, **kw):
        sent.append((kw.get("headers") or {}).get("Content-Range"))
        return original(method, path, **kw)

    monkeypatch.setattr(logged_in.http, "request", spy)
    entry = logged_in.ws_put(here / "big.bin", "big/b.bin")
    assert entry["size"] == 3000 and entry["sha256"] == hashlib.sha256(data).hexdigest()
    assert sent == ["bytes */3000", "bytes 700-1399/3000", "bytes 1400-2099/3000", "bytes 2100-2799/3000",
                    "bytes 2800-2999/3000"]


QUERY = "SELECT table_name FROM TAP_SCHEMA.tables WHERE table_name LIKE 'integral.%' ORDER BY table_name"


def test_query_sync_async_to_files_and_saved_in_the_workspace(logged_in, here, capsys):
    from astropy.table import Table
    expected = ["integral.revolution", "integral.scw"]
    status, out, _ = hera_cmd(capsys, "query", QUERY)
    assert status == 0 and out.splitlines() == ["table_name"] + expected
    assert hera_cmd(capsys, "query", QUERY, "-o", "t.fits")[0] == 0
    assert list(Table.read(here / "t.fits")["table_name"]) == expected
    assert hera_cmd(capsys, "query", QUERY, "--async", "-o", "t.vot")[0] == 0
    assert list(Table.read(here / "t.vot")["table_name"]) == expected
    listed = [line.split() for line in hera_cmd(capsys, "jobs", "list")[1].splitlines()]
    assert [(row[0], row[2]) for row in listed] == [("tap", "COMPLETED")]  # the async query, in the TAP list
    assert list(logged_in.query(QUERY)["table_name"]) == expected
    status, _, err = hera_cmd(capsys, "query", QUERY, "--save", "q/tables.vot")
    assert status == 0, err
    assert list(logged_in.ws_read_table("q/tables.vot")["table_name"]) == expected
    from astropy.table import Table as T
    sources = T({"name": ["a", "b", "c"], "flux": [1.5, 2.5, 3.5]})
    bright = logged_in.query("SELECT name FROM TAP_UPLOAD.src WHERE flux > 2 ORDER BY name", uploads={"src": sources})
    assert list(bright["name"]) == ["b", "c"]
    sources.write(here / "src.vot", format="votable")
    status, out, _ = hera_cmd(capsys, "query", "SELECT COUNT(*) AS n FROM TAP_UPLOAD.src", "--upload", "src=src.vot")
    assert status == 0 and out.splitlines() == ["n", "3"]
    assert [str(v) for v in logged_in.tap().search(QUERY).to_table()["table_name"]] == expected  # pyvo, signed in
    status, _, err = hera_cmd(capsys, "query", "SELEC nothing")
    assert status == 1 and err.startswith("hera: error: POST /tap/sync: 400 ADQL syntax error")


def test_a_query_too_long_for_sync_runs_as_an_async_job(config, tmp_path, workers, here, capsys, monkeypatch):
    # SQLite checks the deadline every 20,000 steps of its engine: a limit of a nanosecond
    # stops, on any machine however fast, every sync query that runs that long (the join below
    # of a table of hundreds of rows with itself three times, say); async jobs have no such limit
    config["HERA_TAP_SYNC_TIMEOUT"] = 1e-9
    proc, url, token = start_service(config, tmp_path / "service.log")
    workers.start(1)
    try:
        monkeypatch.setenv("HERA_URL", url)
        monkeypatch.setenv("HERA_TOKEN", token)
        n = int(hera_cmd(capsys, "query", "SELECT COUNT(*) AS n FROM TAP_SCHEMA.columns")[1].split()[1])
        slow = ("SELECT COUNT(*) AS n FROM TAP_SCHEMA.columns AS a, TAP_SCHEMA.columns AS b, "
                "TAP_SCHEMA.columns AS c")
        status, out, err = hera_cmd(capsys, "query", slow)
    finally:
        stop_service(proc)
    assert status == 0, err
    assert out.split() == ["n", str(n ** 3)]
    assert "too long to run synchronously; running it as an async job" in err


# -- the server's hera command offers the client's ----------------------------------------
def test_the_server_command_forwards_the_client_commands(tmp_path):
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HERA_RETRIES": "0"}
    env.pop("HERA_URL", None)
    server_cli = [sys.executable, "-m", "vo_service.cli"]
    listing = subprocess.run(server_cli + ["--help"], env=env, capture_output=True, text=True, cwd=tmp_path)
    for name in ("serve", "worker", "user", "run", "runsc", "batch", "query", "ws", "jobs", "login", "tools"):
        assert f"\n  {name} " in listing.stdout, name
    usage = subprocess.run(server_cli + ["run", "--help"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert usage.returncode == 0 and usage.stdout.startswith("usage: hera run TOOL")
    failed = subprocess.run(server_cli + ["query", "SELECT 1"], env=env, capture_output=True, text=True, cwd=tmp_path)
    assert failed.returncode == 1 and failed.stderr.strip().startswith("hera: error: no service URL")
    # the client's global options, after the command's name, pass through the server's command
    closed = f"http://127.0.0.1:{free_port()}"
    aimed = subprocess.run(server_cli + ["jobs", "--url", closed, "list"], env=env, capture_output=True, text=True,
                           cwd=tmp_path)
    assert aimed.returncode == 1 and aimed.stderr.strip() == f"hera: error: cannot reach {closed}: [Errno 111] Connection refused"


def test_hera_tools_is_the_local_registry_unless_a_service_is_configured(tmp_path):
    """The one name both sides have: the server's registry without a service URL or
    with --local, the service's tools over HTTP once HERA_URL (or a login) is set."""
    closed = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "xdg"), "HERA_RETRIES": "0"}
    env.pop("HERA_URL", None)

    def tools(*args, **extra):
        return subprocess.run([sys.executable, "-m", "vo_service.cli", "tools", *args], env={**env, **extra},
                              capture_output=True, text=True, cwd=tmp_path)

    local = tools("list")
    assert local.returncode == 0 and "ftlist" in local.stdout
    remote = tools("list", HERA_URL=closed)
    assert remote.returncode == 1 and remote.stderr.startswith(f"hera: error: cannot reach {closed}")
    forced = tools("--local", "list", HERA_URL=closed)
    assert forced.returncode == 0 and forced.stdout == local.stdout


# -- install footprint ----------------------------------------------------------------
def test_the_client_imports_the_standard_library_only_but_in_its_extras():
    """Every module of client/hera imports the standard library and hera; astropy only in
    tables.py (the extra 'tables'), pyvo only in samp.py (the extra 'samp') and in
    Client.tap() (pyvo's TAPService, with a requests session of pyvo's)."""
    import ast
    extras = {"tables.py": {"astropy"}, "samp.py": {"pyvo"}, "client.py": {"pyvo", "requests"}}
    beyond = {}
    for module in sorted((REPO / "client" / "hera").glob("*.py")):
        imported = set()
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
        others = imported - set(sys.stdlib_module_names) - {"hera"} - extras.get(module.name, set())
        if others:
            beyond[module.name] = sorted(others)
    assert beyond == {}


def test_the_client_installs_alone_in_under_10_mb_and_runs_tools(tmp_path, account, here):
    """A fresh venv (without pip) holding only the client: under 10 MB in total, no
    Flask, click or astropy in it, and it runs a tool on the service."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    source = shutil.copytree(REPO / "client", tmp_path / "client", ignore=shutil.ignore_patterns(
        "build", "*.egg-info", "__pycache__"))  # pip builds in the source tree: not in the checkout
    installed = subprocess.run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
                                "-q", str(source)], capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr[-3000:]
    size = sum(p.lstat().st_size for p in venv.rglob("*") if not p.is_symlink() and p.is_file())
    assert size < 10 * 1024 * 1024, size
    probe = subprocess.run([str(venv / "bin" / "python"), "-c",
                            "import sys, hera, hera.cli; import importlib.util as u; "
                            "print(hera.__version__, *(u.find_spec(m) is None for m in ('flask', 'click', 'astropy')))"],
                           capture_output=True, text=True, cwd=tmp_path)
    assert probe.stdout.split() == [hera.__version__, "True", "True", "True"], probe.stderr
    version = subprocess.run([str(venv / "bin" / "hera"), "--version"], capture_output=True, text=True)
    assert version.stdout.strip() == f"hera-client {hera.__version__}"
    _, rate = make_rate_file(here / "rate.fit")
    url, token, _ = account
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    stats = subprocess.run([str(venv / "bin" / "hera"), "--url", url, "--token", token, "run", "fstatistic",
                            "rate.fit", "RATE"], capture_output=True, text=True, cwd=here, env=env)
    assert stats.returncode == 0, stats.stderr
    assert f"The number of points used in calculation is: {len(rate)}" in stats.stdout


@pytest.mark.parametrize("written, plain", [
    ("./", ""), (".", ""), ("/", ""), ("./data/", "data/"), ("data//x.fits", "data/x.fits"),
    ("./a.fits", "a.fits"), ("data/.", "data/"), ("../x", "../x")])
def test_workspace_paths_as_a_shell_user_writes_them(written, plain):
    """'hera ws put FILE ./' puts FILE at the top of the workspace (the service refuses
    '.' parts; '..' is still sent, for the service to refuse)."""
    from hera.client import _folder_spelling
    assert _folder_spelling(written) == plain
