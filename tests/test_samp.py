"""``hera samp``: registered with a real SAMP hub (astropy's) as "Hera", it stores what a
second SAMP client sends into the workspace through the REST API. Everything runs on
127.0.0.1, with a temporary HOME and hub lock file (the real ~/.samp is never touched)."""
from __future__ import annotations

import hashlib
import http.server
import os
import subprocess
import sys

import numpy as np
import pytest
import requests
from astropy.io import fits
from astropy.samp import SAMPHubServer, SAMPIntegratedClient
from astropy.table import Table

from accounts import users
from conftest import REPO, serve_http, wait_for


@pytest.fixture
def token(app):
    return users.add_user(app.extensions["hera"].engine, "alice")


@pytest.fixture
def hub(tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    lockfile = tmp_path / "samp-hub.lock"
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("SAMP_HUB", f"std-lockurl:file://{lockfile}")
    server = SAMPHubServer(web_profile=False, lockfile=str(lockfile), addr="127.0.0.1", label="test hub")
    server.start(wait=False)
    yield server, lockfile, home
    server.stop()


@pytest.fixture
def hera_samp(hub, live_server, token, tmp_path):
    """``hera samp`` running as a real process against the hub and the live service."""
    _, lockfile, home = hub
    env = {**os.environ, "HOME": str(home), "SAMP_HUB": f"std-lockurl:file://{lockfile}",
           "HERA_URL": live_server, "HERA_TOKEN": token, "XDG_CONFIG_HOME": str(home / ".config")}
    log = open(tmp_path / "hera-samp.log", "w+")
    proc = subprocess.Popen([sys.executable, "-m", "hera", "samp"], cwd=REPO, env=env,
                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    yield proc, log
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    log.close()


@pytest.fixture
def sender(hub):
    server, _, _ = hub
    client = SAMPIntegratedClient(name="sender")
    client.connect(hub=server)
    yield client
    client.disconnect()


def hera_id(sender, proc, log) -> str:
    def find():
        assert proc.poll() is None, log.seek(0) or log.read()
        for client_id in sender.get_registered_clients():
            if sender.get_metadata(client_id).get("samp.name") == "Hera":
                return client_id
        return None
    return wait_for(find, timeout=30, interval=0.2)


def workspace(live_server, token, path):
    return requests.get(f"{live_server}/workspace/{path}", headers={"Authorization": f"Bearer {token}"})


def test_hera_registers_and_subscribes_to_tables_and_images(sender, hera_samp):
    proc, log = hera_samp
    client_id = hera_id(sender, proc, log)
    subscribed = set(sender.get_subscriptions(client_id))
    assert {"table.load.votable", "table.load.fits", "image.load.fits"} <= subscribed
    assert sender.get_metadata(client_id)["hera.url"].startswith("http://127.0.0.1:")


def test_a_votable_sent_to_hera_is_stored_in_the_workspace(sender, hera_samp, tmp_path, live_server, token):
    proc, log = hera_samp
    client_id = hera_id(sender, proc, log)
    table = Table({"scw_id": ["004400000010", "004400000020"], "ra": [83.63, 83.64]})
    path = tmp_path / "crab.xml"
    table.write(path, format="votable")
    reply = sender.ecall_and_wait(client_id, "table.load.votable", "30", url=path.as_uri(), name="Crab selection")
    assert reply["samp.status"] == "samp.ok", reply
    assert reply["samp.result"]["path"] == "samp/Crab_selection.vot"
    stored = workspace(live_server, token, "samp/Crab_selection.vot")
    assert stored.status_code == 200 and stored.content == path.read_bytes()
    # the same name again does not overwrite the first
    again = sender.ecall_and_wait(client_id, "table.load.votable", "30", url=path.as_uri(), name="Crab selection")
    assert again["samp.result"]["path"] == "samp/Crab_selection-2.vot"


def test_fits_tables_and_images_over_http_are_stored(sender, hera_samp, tmp_path, live_server, token):
    proc, log = hera_samp
    client_id = hera_id(sender, proc, log)
    image = tmp_path / "ima.fits"
    fits.PrimaryHDU(np.arange(64, dtype=np.float32).reshape(8, 8)).writeto(image)
    table = tmp_path / "lc.fits"
    Table({"time": [1.0, 2.0], "rate": [3.0, 4.0]}).write(table, format="fits")

    class Files(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(tmp_path), **kw)

        def log_message(self, *args):
            pass

    with serve_http(Files) as base:
        reply = sender.ecall_and_wait(client_id, "image.load.fits", "30", url=f"{base}/ima.fits")
        assert reply["samp.status"] == "samp.ok" and reply["samp.result"]["path"] == "samp/ima.fits"
        # a notification has no reply: the file simply appears
        sender.enotify(client_id, "table.load.fits", url=f"{base}/lc.fits", **{"table-id": "lc"})
        stored = wait_for(lambda: (r := workspace(live_server, token, "samp/lc.fits")).status_code == 200 and r,
                          timeout=20)
    assert hashlib.sha256(stored.content).hexdigest() == hashlib.sha256(table.read_bytes()).hexdigest()
    assert workspace(live_server, token, "samp/ima.fits").content == image.read_bytes()


def test_a_refusal_by_the_service_is_answered_as_a_samp_error(sender, hera_samp, tmp_path, app):
    proc, log = hera_samp
    client_id = hera_id(sender, proc, log)
    with app.extensions["hera"].engine.begin() as conn:
        conn.execute(users.users_table.update().where(users.users_table.c.name == "alice").values(quota_bytes=10))
    path = tmp_path / "big.xml"
    Table({"x": list(range(100))}).write(path, format="votable")
    reply = sender.ecall_and_wait(client_id, "table.load.votable", "30", url=path.as_uri())
    assert reply["samp.status"] == "samp.error"
    assert "quota exceeded" in reply["samp.error"]["samp.errortxt"]


def test_hera_samp_without_a_hub_says_so(tmp_path, live_server, token):
    env = {**os.environ, "HOME": str(tmp_path), "SAMP_HUB": f"std-lockurl:file://{tmp_path / 'none.lock'}",
           "HERA_URL": live_server, "HERA_TOKEN": token}
    out = subprocess.run([sys.executable, "-m", "hera", "samp"], cwd=REPO, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0 and "SAMP" in out.stderr
