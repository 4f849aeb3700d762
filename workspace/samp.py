"""``hera samp``: Hera as a SAMP client, so that "Send table to → Hera" works from TOPCAT.

Runs on the astronomer's machine. It registers with the running SAMP hub (TOPCAT's,
Aladin's, or astropy's) under the name "Hera", subscribes to ``table.load.votable``,
``table.load.fits`` and ``image.load.fits``, and stores every table or image it is sent
into the user's workspace through the REST API (``PUT /workspace/{folder}/{name}``, with
the user's token), streamed from the URL the sender gives (``file://`` or ``http://``,
usually on the same machine). A name already taken gets a ``-2``, ``-3``… suffix, so
nothing is overwritten. Calls are answered with ``samp.status`` ok (and the stored
path) or error (and the reason).
"""
from __future__ import annotations

import logging
import re
import threading
import time
import urllib.parse
import urllib.request
from pathlib import PurePosixPath

import requests

log = logging.getLogger(__name__)

MTYPES = {"table.load.votable": ".vot", "table.load.fits": ".fits", "image.load.fits": ".fits"}
CHUNK = 1 << 20
_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]+")


def safe_name(name: str, extension: str) -> str:
    """A file name made of ``name`` (a table name, a URL's last part), with ``extension``."""
    stem = _UNSAFE.sub("_", PurePosixPath(name).name).strip("._") or "table"
    stem = stem[:120]
    if not stem.lower().endswith((".vot", ".xml", ".votable", ".fits", ".fit", ".fts", ".fits.gz")):
        stem += extension
    return stem


class Receiver:
    """Stores what SAMP senders send into the workspace at ``url`` (the service's base URL)."""

    def __init__(self, url: str, token: str, folder: str = "samp", session: requests.Session | None = None):
        self.url = url.rstrip("/")
        self.folder = folder.strip("/")
        self.session = session or requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.stored: list[str] = []

    def _free_path(self, name: str) -> str:
        stem, dot, ext = name.partition(".")
        candidate, n = name, 1
        while self.session.head(f"{self.url}/workspace/{self.folder}/{urllib.parse.quote(candidate)}").status_code == 200:
            n += 1
            candidate = f"{stem}-{n}{dot}{ext}"
        return f"{self.folder}/{candidate}"

    def store(self, mtype: str, params: dict) -> str:
        """Fetch ``params["url"]`` and PUT it into the workspace; return the stored path."""
        source = params.get("url")
        if not source:
            raise ValueError(f"{mtype} without a url parameter")
        parsed = urllib.parse.urlsplit(source)
        name = params.get("name") or PurePosixPath(urllib.parse.unquote(parsed.path)).name or params.get("table-id") \
            or params.get("image-id") or "table"
        path = self._free_path(safe_name(name, MTYPES[mtype]))
        with urllib.request.urlopen(source, timeout=60) as stream:  # file:// or http:// of the sender
            length = stream.headers.get("Content-Length")
            # a known length lets the service refuse an upload over the quota before it starts
            body = _Sized(stream, int(length)) if length and length.isdigit() else iter(lambda: stream.read(CHUNK), b"")
            r = self.session.put(f"{self.url}/workspace/{urllib.parse.quote(path)}", data=body,
                                 headers={"Content-Type": "application/octet-stream"})
        if r.status_code not in (200, 201):
            try:
                message = r.json()["error"]
            except ValueError:
                message = r.text.strip()
            raise RuntimeError(f"Hera refused {path}: HTTP {r.status_code}: {message}")
        self.stored.append(path)
        log.info("stored %s (%s bytes) from %s", path, r.json().get("size"), source)
        return path


class _Sized:
    """A stream of known length, which requests sends with that Content-Length, streamed."""

    def __init__(self, stream, length: int):
        self.stream, self.length = stream, length

    def __len__(self):
        return self.length

    def read(self, n: int = -1) -> bytes:
        return self.stream.read(n)


class HeraSampClient:
    """The SAMP side: registration as "Hera", subscriptions, and the answers."""

    def __init__(self, receiver: Receiver, hub=None, hub_params: dict | None = None):
        from astropy.samp import SAMPIntegratedClient

        self.receiver = receiver
        self.client = SAMPIntegratedClient(
            name="Hera", description="Stores tables and images in your Hera workspace",
            metadata={"samp.description.html": "Tables and images sent here go into your Hera workspace",
                      "hera.url": receiver.url}, callable=True)
        self.hub, self.hub_params = hub, hub_params

    def start(self):
        self.client.connect(hub=self.hub, hub_params=self.hub_params)
        for mtype in MTYPES:
            self.client.bind_receive_call(mtype, self._call)
            self.client.bind_receive_notification(mtype, self._notification)
        return self

    def stop(self):
        if self.client.is_connected:
            self.client.disconnect()

    def _notification(self, private_key, sender_id, mtype, params, extra):
        try:
            self.receiver.store(mtype, params)
        except Exception as err:  # a notification has nobody to answer to: log it
            log.error("could not store a %s from %s: %s", mtype, sender_id, err)

    def _call(self, private_key, sender_id, msg_id, mtype, params, extra):
        try:
            path = self.receiver.store(mtype, params)
        except Exception as err:
            self.client.reply(msg_id, {"samp.status": "samp.error",
                                       "samp.error": {"samp.errortxt": str(err)}})
        else:
            self.client.reply(msg_id, {"samp.status": "samp.ok", "samp.result": {"path": path}})


def run(url: str, token: str, folder: str = "samp", echo=print, stop: threading.Event | None = None) -> None:
    """Register with the hub and store what arrives until interrupted (or ``stop`` is set)."""
    client = HeraSampClient(Receiver(url, token, folder)).start()
    echo(f"registered with the SAMP hub as Hera; tables and images sent to Hera go to {url}/workspace/{folder}/")
    stop = stop or threading.Event()
    try:
        while not stop.is_set():
            if not client.client.is_connected:
                echo("the SAMP hub went away")
                return
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        client.stop()
