"""``hera samp``: Hera as a SAMP client, so that "Send table to → Hera" works from TOPCAT.

Runs on the astronomer's machine. It registers with the running SAMP hub (TOPCAT's,
Aladin's, or astropy's) under the name "Hera", subscribes to ``table.load.votable``,
``table.load.fits`` and ``image.load.fits``, and stores every table or image it is sent
into the user's workspace through the REST API (``PUT /workspace/{folder}/{name}``, with
the user's token), streamed from the URL the sender gives (``file://`` or ``http://``,
usually on the same machine). A name already taken gets a ``-2``, ``-3``… suffix, so
nothing is overwritten. Calls are answered with ``samp.status`` ok (and the stored
path) or error (and the reason).

The SAMP side is pyvo's (``pyvo.samp``, astropy's SAMP until astropy 8 moved it there),
the optional extra ``hera-client[samp]``: the rest of the client stays standard library only.
"""
from __future__ import annotations

import logging
import re
import threading
import time
import urllib.parse
import urllib.request
from pathlib import PurePosixPath

from pyvo.samp import SAMPClientError, SAMPHubError, SAMPIntegratedClient, SAMPProxyError

from .client import Client
from .errors import HeraError

log = logging.getLogger(__name__)

MTYPES = {"table.load.votable": ".vot", "table.load.fits": ".fits", "image.load.fits": ".fits"}
_UNSAFE = re.compile(r"[^A-Za-z0-9_.+-]+")


def safe_name(name: str, extension: str) -> str:
    """A file name made of ``name`` (a table name, a URL's last part), with ``extension``."""
    stem = _UNSAFE.sub("_", PurePosixPath(name).name).strip("._") or "table"
    stem = stem[:120]
    if not stem.lower().endswith((".vot", ".xml", ".votable", ".fits", ".fit", ".fts", ".fits.gz")):
        stem += extension
    return stem


class Receiver:
    """Stores what SAMP senders send into the workspace of ``client``'s user."""

    def __init__(self, client: Client, folder: str = "samp"):
        self.client = client
        self.url = client.url
        self.folder = folder.strip("/")
        self.stored: list[str] = []

    def _free_path(self, name: str) -> str:
        stem, dot, ext = name.partition(".")
        candidate, n = name, 1
        while self.client.ws_exists(f"{self.folder}/{candidate}"):
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
        # file:// or http:// of the sender, opened again for each retry of the upload
        first = [urllib.request.urlopen(source, timeout=60)]
        length = first[0].headers.get("Content-Length")
        try:
            entry = self.client.ws_put_stream(
                path, lambda: first.pop() if first else urllib.request.urlopen(source, timeout=60),
                int(length) if length and length.isdigit() else None)
        except HeraError as err:
            raise HeraError(f"Hera refused {path}: {err}")
        finally:
            for unsent in first:
                unsent.close()
        self.stored.append(path)
        log.info("stored %s (%s bytes) from %s", path, entry.get("size"), source)
        return path


class HeraSampClient:
    """The SAMP side: registration as "Hera", subscriptions, and the answers."""

    def __init__(self, receiver: Receiver, hub=None, hub_params: dict | None = None):
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
        except Exception as err:  # whatever went wrong is the sender's answer
            self.client.reply(msg_id, {"samp.status": "samp.error",
                                       "samp.error": {"samp.errortxt": str(err)}})
        else:
            self.client.reply(msg_id, {"samp.status": "samp.ok", "samp.result": {"path": path}})


def run(client: Client, folder: str = "samp", echo=print, stop: threading.Event | None = None) -> None:
    """Register with the hub and store what arrives until interrupted (or ``stop`` is set)."""
    try:
        samp = HeraSampClient(Receiver(client, folder)).start()
    except (SAMPHubError, SAMPClientError, SAMPProxyError) as err:  # no hub running, the hub refused us
        raise HeraError(f"SAMP: {err}")
    echo(f"registered with the SAMP hub as Hera; tables and images sent to Hera go to "
         f"{client.url}/workspace/{folder}/")
    stop = stop or threading.Event()
    try:
        while not stop.is_set():
            if not samp.client.is_connected:
                echo("the SAMP hub went away")
                return
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        samp.stop()
