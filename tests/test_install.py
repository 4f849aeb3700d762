"""Install as users install: the sdist and the wheel built from it hold every file of the
packages (the ADQL grammar, TOML declarations, schemas, templates, static files), and the
wheel, installed into a fresh virtual environment outside the source tree with the
client's (hera-client, on which it depends), serves a TAP query, a tool job and a
workspace upload with ``hera serve`` on its embedded defaults. The client's wheel alone
gives the ``hera`` command and nothing of the server.

Every other test runs on the editable install of the checkout, where a file missing from
the package data is still found; only this one sees what ``pip install .`` gives a user.
The build and the install reach the package registry (pip's cache keeps them quick)."""
from __future__ import annotations

import fnmatch
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest
import requests
from astropy.io import fits
from lxml import etree

from conftest import REPO, free_port

CLIENT = REPO / "client"
SERVER_PACKAGES = ("vo_service", "uws", "tap_catalog", "tools_registry", "workspace", "fetching", "integral")
pytestmark = pytest.mark.timeout(900)
UWS = {"uws": "http://www.ivoa.net/xml/UWS/v1.0"}


def package_files(project: Path = REPO) -> list[Path]:
    """Every file of the packages that ``project``'s pyproject.toml selects
    ([tool.setuptools.packages.find]), relative to ``project`` (Python byte code aside)."""
    find = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    files = []
    for where in find.get("where", ["."]):
        for top in sorted((project / where).iterdir()):
            if (top / "__init__.py").is_file() and any(fnmatch.fnmatch(top.name, p) for p in find["include"]):
                files += [p.relative_to(project) for p in top.rglob("*")
                          if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"]
    return files


def clean_env(**extra) -> dict:
    """The environment of a user's shell: nothing of this checkout, its venv or its settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("HERA_") and k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "XDG_RUNTIME_DIR")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if not p.startswith(str(REPO)))
    return {**env, **extra}


def run(args, **kw):
    done = subprocess.run(args, capture_output=True, text=True, **kw)
    assert done.returncode == 0, f"{args}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def build(project: Path, top: Path) -> tuple[Path, Path]:
    """The sdist of ``project`` and the wheel that ``python -m build`` makes from it (the
    wheel is built from the unpacked sdist, so it holds only what the sdist carries). Built
    from a copy of the packages: the build writes into its source tree, not this checkout."""
    source = top / "source"
    for relative in package_files(project) + [Path("pyproject.toml"), Path("README.md")]:
        (source / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(project / relative, source / relative)
    run([sys.executable, "-m", "build", "--outdir", str(top / "dist"), str(source)], env=clean_env(), timeout=600)
    sdist, = (top / "dist").glob("*.tar.gz")
    wheel, = (top / "dist").glob("*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """The server's sdist and wheel."""
    return build(REPO, tmp_path_factory.mktemp("build"))


@pytest.fixture(scope="module")
def client_dist(tmp_path_factory):
    """The client's sdist and wheel (client/, the distribution hera-client)."""
    return build(CLIENT, tmp_path_factory.mktemp("build-client"))


@pytest.fixture(scope="module")
def installed(dist, client_dist, tmp_path_factory):
    """A fresh virtual environment (not this one, no system site packages) with the wheel,
    the client's on which it depends, and their dependencies installed by pip, as a user does."""
    venv = tmp_path_factory.mktemp("user") / "venv"
    run([sys.executable, "-m", "venv", str(venv)], env=clean_env(), timeout=120)
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(client_dist[1]), str(dist[1])],
        env=clean_env(), timeout=900)
    return venv


def test_every_file_of_the_packages_is_in_the_sdist_and_the_wheel(dist, client_dist):
    for project, (sdist, wheel) in ((REPO, dist), (CLIENT, client_dist)):
        expected = package_files(project)
        assert Path("tap_catalog/adql/adql.lark" if project == REPO else "hera/cli.py") in expected
        with tarfile.open(sdist) as tar:
            in_sdist = {Path(*Path(name).parts[1:]) for name in tar.getnames()}
        with zipfile.ZipFile(wheel) as whl:
            in_wheel = {Path(name) for name in whl.namelist()}
        assert [str(f) for f in expected if f not in in_sdist] == []
        assert [str(f) for f in expected if f not in in_wheel] == []


def installed_distributions(python: Path, cwd: Path) -> dict:
    """The distributions installed for ``python``: {name: [its console scripts]}."""
    listing = run([str(python), "-c", "import importlib.metadata as m, json; print(json.dumps({d.metadata['Name']: "
                   "[e.name for e in d.entry_points if e.group == 'console_scripts'] for d in m.distributions()}))"],
                  env=clean_env(), cwd=cwd)
    return json.loads(listing.stdout)


def test_the_client_wheel_alone_gives_hera_and_nothing_of_the_server(client_dist, tmp_path):
    venv = tmp_path / "venv"
    run([sys.executable, "-m", "venv", "--without-pip", str(venv)], env=clean_env(), timeout=120)
    run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "-q", str(client_dist[1])],
        env=clean_env(), timeout=300)
    assert installed_distributions(venv / "bin" / "python", tmp_path) == {"hera-client": ["hera"]}
    site_packages, = venv.glob("lib/python*/site-packages")
    assert [name for name in SERVER_PACKAGES if (site_packages / name).exists()] == []
    env = clean_env(HOME=str(tmp_path))
    version = run([str(venv / "bin" / "hera"), "--version"], env=env, cwd=tmp_path)
    assert version.stdout.strip() == "hera-client 0.1.0"
    listing = run([str(venv / "bin" / "hera"), "--help"], env=env, cwd=tmp_path).stdout
    assert "samp" in listing and "serve" not in listing


def test_the_installed_server_runs_its_command_through_the_clients_hera(installed, tmp_path):
    """One distribution declares ``hera`` (the client); with the server beside it, the
    command is the server's, which offers both sets of commands."""
    assert {name: scripts for name, scripts in installed_distributions(installed / "bin" / "python", tmp_path).items()
            if "hera" in scripts} == {"hera-client": ["hera"]}
    env = clean_env(HOME=str(tmp_path))
    version = run([str(installed / "bin" / "hera"), "--version"], env=env, cwd=tmp_path)
    assert version.stdout.strip() == "hera 0.1.0"
    listing = run([str(installed / "bin" / "hera"), "--help"], env=env, cwd=tmp_path).stdout
    assert "\n  serve " in listing and "\n  samp " in listing and "\n  run " in listing


def fits_table(values) -> bytes:
    buffer = io.BytesIO()
    fits.BinTableHDU.from_columns([fits.Column(name="RATE", format="D", array=values)]).writeto(buffer)
    return buffer.getvalue()


def test_the_installed_wheel_serves_a_query_a_tool_job_and_a_workspace(installed, tmp_path):
    bin_dir = installed / "bin"
    cwd = tmp_path / "user"
    (cwd / "home").mkdir(parents=True)
    env = clean_env(HOME=str(cwd / "home"))
    where = run([str(bin_dir / "python"), "-c", "import tap_catalog.adql.parser as p; print(p.__file__)"],
                env=env, cwd=cwd).stdout.strip()
    assert Path(where).is_relative_to(installed), where

    data_dir = cwd / "hera-data"
    added = run([str(bin_dir / "hera"), "user", "add", "alice", "--group", "integral"], env=env, cwd=cwd, timeout=300)
    assert f"in database sqlite:///{data_dir / 'hera.sqlite'}" in added.stdout.splitlines()[0]
    auth = {"Authorization": "Bearer " + added.stdout.splitlines()[-1]}

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with (tmp_path / "serve.out").open("w") as out, (tmp_path / "serve.err").open("w") as err:
        proc = subprocess.Popen([str(bin_dir / "hera"), "serve", "--port", str(port), "--workers", "1"],
                                env=env, cwd=cwd, stdout=out, stderr=err, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                if requests.get(f"{url}/tap/availability", timeout=10).ok:
                    break
            except requests.RequestException:  # not listening yet
                pass
            assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "serve.err").read_text()[-5000:]
            time.sleep(0.5)
        served = (tmp_path / "serve.out").read_text()
        assert served.startswith(f"Hera uses database sqlite:///{data_dir / 'hera.sqlite'} (data directory {data_dir})")
        demo_rows = int(re.search(r"loaded (\d+) demo science windows", served).group(1))

        # TAP: the ADQL grammar and the catalogue's declarations come from the wheel
        def adql(query):
            response = requests.post(f"{url}/tap/sync", data={"REQUEST": "doQuery", "LANG": "ADQL", "FORMAT": "csv",
                                                              "QUERY": query}, timeout=60)
            assert response.status_code == 200, response.text[:3000]
            return [line.split(",") for line in response.text.splitlines()]

        header, (count,) = adql("SELECT COUNT(*) AS n FROM integral.scw")
        assert header == ["n"] and 0 < int(count) <= demo_rows  # anonymous: the public windows
        rows = adql("SELECT TOP 3 scw_id, ra FROM integral.scw WHERE ra BETWEEN 0 AND 360 ORDER BY scw_id DESC")
        assert rows[0] == ["scw_id", "ra"] and len(rows) == 4
        assert [r[0] for r in rows[1:]] == sorted((r[0] for r in rows[1:]), reverse=True)

        # the workspace: a file put is the file got
        values = np.random.default_rng(7).normal(100.0, 15.0, 500)
        table = fits_table(values)
        put = requests.put(f"{url}/workspace/data/rate.fits", data=table, headers=auth, timeout=60)
        assert put.status_code in (200, 201), put.text
        got = requests.get(f"{url}/workspace/data/rate.fits", headers=auth, timeout=60)
        assert got.status_code == 200 and got.content == table

        # a tool job through UWS, run by the embedded Redis's worker on the uploaded file
        created = requests.post(f"{url}/tools/fstatistic", headers=auth, allow_redirects=False, timeout=60,
                                data={"PHASE": "RUN", "infile": "data/rate.fits", "colname": "RATE",
                                      "outfile": "stats/rate.txt"})
        assert created.status_code == 303, created.text
        job = created.headers["Location"]
        deadline = time.monotonic() + 300
        while True:
            root = etree.fromstring(requests.get(f"{job}?WAIT=10", headers=auth, timeout=60).content)
            phase = root.findtext("uws:phase", namespaces=UWS)
            if phase in ("COMPLETED", "ERROR", "ABORTED") or time.monotonic() > deadline:
                break
        assert phase == "COMPLETED", etree.tostring(root).decode()
        report = requests.get(f"{job}/results/outfile", headers=auth, timeout=60).text
        mean = float(re.search(r"The mean of the selected column is:\s+(\S+)", report).group(1))
        assert mean == pytest.approx(values.mean(), rel=1e-12)
        assert requests.get(f"{url}/workspace/stats/rate.txt", headers=auth, timeout=60).text == report
    finally:
        proc.send_signal(signal.SIGTERM)  # serve stops its web server, worker and Redis
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    stderr = (tmp_path / "serve.err").read_text()
    assert proc.returncode == 0, stderr[-5000:]
    assert "MonkeyPatchWarning" not in stderr and "Traceback" not in stderr, stderr[-5000:]
