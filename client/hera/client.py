"""``hera.Client``: the Python API, with the same verbs as the ``hera`` command.

>>> c = hera.Client("https://hera.example.org", token)          # or Client() after hera login
>>> run = c.run("ftcopy", infile="rate.fits[col rate]", outfile="rates.fits")
>>> run.outputs["outfile"]                                         # downloaded here
>>> t = c.query("SELECT TOP 5 * FROM integral.scw")                # an astropy Table

Local files named in a tool's input file parameters are uploaded into the workspace
first (once per content: ``hera-runs/inputs/<sha256>/``); output files are written by
the job into a per-run workspace folder (``hera-runs/<run>/``), downloaded, and the
folder is removed, unless ``keep_remote=True`` (then outputs go to the workspace paths
given, and nothing is downloaded). A value that is not a local file is a workspace
path; ``ws:PATH`` or :class:`WorkspacePath` says so explicitly.
"""
from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
import secrets
import threading
import time
import urllib.parse
from pathlib import Path

from . import config, tables
from .errors import HeraError, JobFailed
from .script import WorkspacePath, bind
from .transport import Transport
from .uws import UWS, JobInfo

log = logging.getLogger("hera")

RUNS_FOLDER = "hera-runs"
FILE_TYPES = ("file", "table")
#: files this large are uploaded in resumable pieces of RESUMABLE_PIECE bytes
RESUMABLE_MIN = 64 << 20
RESUMABLE_PIECE = 16 << 20
#: results that are printed by ``hera run`` when they are text and this small
TEXT_RESULT_MAX = 1 << 20


class _Slice:
    """``n`` bytes of an open file, as a request body."""

    def __init__(self, f, n: int):
        self.f, self.left = f, n

    def read(self, size: int = -1) -> bytes:
        if self.left <= 0:
            return b""
        data = self.f.read(self.left if size is None or size < 0 else min(size, self.left))
        self.left -= len(data)
        return data

    def close(self):
        self.f.close()


def _quote(path: str) -> str:
    return urllib.parse.quote(path.strip("/"), safe="/")


def split_extended(name: str) -> tuple[str, str]:
    """``rate.fits[1][col rate]`` -> (``rate.fits``, ``[1][col rate]``): CFITSIO's
    extended file name syntax stays with the value, the file is what gets uploaded."""
    i = name.find("[")
    return (name, "") if i < 0 else (name[:i], name[i:])


def _sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _folder_spelling(remote: str) -> str:
    """A workspace path as a shell user writes it, made plain: '.' parts and repeated or
    leading slashes dropped ('./', '.', '/' are the workspace's top), a final '/' kept.
    '..' is left for the service to refuse."""
    parts = [p for p in remote.split("/") if p not in ("", ".")]
    folder = remote.endswith("/") or remote.rstrip("/").split("/")[-1] in ("", ".")
    return "/".join(parts) + ("/" if folder and parts else "")


def _is_input(spec: dict) -> bool:
    return spec.get("type") in FILE_TYPES and spec.get("direction") != "out"


def _is_output(spec: dict) -> bool:
    return spec.get("type") in FILE_TYPES and spec.get("direction") == "out"


def _file_list(value, spec: dict) -> list | None:
    """The items of a list of input files, or None for one file. A list is a Python
    list, a local ``@list.txt`` (one file a line, as in HEASoft), or text with commas
    outside CFITSIO brackets when the parameter takes several files (``multiple``) or
    when one of the items is a local file."""
    if isinstance(value, (list, tuple)):
        return list(value)
    if not isinstance(value, str) or spec.get("multiple") is False:
        return None
    if value.startswith("@") and os.path.isfile(value[1:]):  # HEASoft's @list.txt, one file a line
        with open(value[1:]) as f:
            return [line.strip() for line in f if line.strip() and not line.lstrip().startswith("#")]
    items, depth, start = [], 0, 0
    for i, ch in enumerate(value):
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            items.append(value[start:i].strip())
            start = i + 1
    items.append(value[start:].strip())
    if len(items) < 2:
        return None
    if spec.get("multiple") or any(os.path.isfile(split_extended(v)[0]) for v in items):
        return items
    return None


def _plain(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Run:
    """A tool job started by :meth:`Client.start`; :meth:`finish` waits and downloads."""

    def __init__(self, client: "Client", tool: str, descriptor: dict, job: JobInfo,
                 downloads: dict, folder: str | None):
        self.client = client
        self.tool = tool
        self.descriptor = descriptor
        self.job = job
        self.downloads = downloads          # parameter -> (workspace path, local Path)
        self.folder = folder                # the per-run workspace folder, removed after download
        self.outputs: dict[str, Path] = {}  # parameter -> local file, after finish()
        self.remote_outputs = {name: str(v) for name, v in job.parameters.items()
                               if _is_output(self._spec(name))}

    def _spec(self, name: str) -> dict:
        return next((p for p in self.descriptor.get("parameters", []) if p["name"] == name), {})

    @property
    def url(self) -> str:
        return self.job.url

    def wait(self, timeout: float | None = None, on_phase=None) -> JobInfo:
        self.job = self.client.uws.wait(self.job, timeout, on_phase)
        return self.job

    def abort(self) -> JobInfo:
        self.job = self.client.uws.abort(self.job.url)
        return self.job

    def finish(self, timeout: float | None = None, on_phase=None) -> "Run":
        """Wait for the job; raise :class:`JobFailed` unless it completed; download the
        outputs and remove the per-run folder."""
        self.wait(timeout, on_phase)
        if self.job.phase != "COMPLETED":
            if self.job.final:
                reason = self.job.error or ("aborted" if self.job.phase == "ABORTED" else self.job.phase.lower())
                raise JobFailed(f"{self.tool} job {self.job.id} {self.job.phase}: {reason}", self.job)
            raise HeraError(f"{self.tool} job {self.job.id} is still {self.job.phase} after {timeout} s")
        for name, (remote, local) in self.downloads.items():
            local.parent.mkdir(parents=True, exist_ok=True)
            try:
                self.client.ws_get(remote, local)
            except HeraError as err:
                if err.status != 404:
                    raise
                continue  # an optional output the tool did not write
            self.outputs[name] = local
        if self.folder:
            self.client.ws_rm(self.folder, recursive=True, missing_ok=True)
        return self

    def text_results(self) -> list[tuple[str, str]]:
        """Small text results other than the outputs asked for and provenance: what a
        tool prints, such as ``ftlist`` or ``fstatistic`` without an outfile."""
        skip = {"provenance"} | set(self.downloads) | set(self.remote_outputs)
        found = []
        for r in self.job.results:
            if r.id.lower() in skip or not (r.mime_type or "").startswith("text/"):
                continue
            if r.size is not None and r.size > TEXT_RESULT_MAX:
                continue
            found.append((r.id, self.client.http.request("GET", r.href).text()))
        return found

    def provenance(self) -> dict:
        """The job's provenance record (tool, version, parameters, input checksums,
        times, host; ``values``: what the tool returned, such as statistics)."""
        result = self.job.result("provenance")
        if result is None:
            raise HeraError(f"{self.tool} job {self.job.id} has no provenance result")
        return self.client.http.request("GET", result.href).json()

    def table(self, name: str):
        """An output as an astropy Table: the downloaded file, or read from the workspace."""
        if name in self.outputs:
            return tables.read(str(self.outputs[name]))
        if name in self.remote_outputs:
            return self.client.ws_read_table(split_extended(self.remote_outputs[name])[0])
        raise HeraError(f"{self.tool} has no output {name!r}")


class Client:
    """A Hera service. ``url``/``token`` default to ``HERA_URL``/``HERA_TOKEN``, then to
    what ``hera login`` stored."""

    def __init__(self, url: str | None = None, token: str | None = None, *,
                 retries: int | None = None, timeout: float = 120.0):
        settings = config.load(url, token)
        self.url, self.token = settings.url, settings.token
        self.http = Transport(self.url, self.token, retries=retries, timeout=timeout)
        self.uws = UWS(self.http)
        self._descriptors: dict[str, dict] = {}
        self._uploaded: dict[str, str] = {}
        self._lock = threading.Lock()

    # -- tools ------------------------------------------------------------------------
    def tools(self) -> list[dict]:
        """The service's tools: ``[{"name", "version", "summary", "url"}]``."""
        return self.http.get_json("tools", {"format": "json"}).get("tools", [])

    def descriptor(self, tool: str) -> dict:
        """A tool's parameters and outputs (cached for the client's life)."""
        with self._lock:
            if tool in self._descriptors:
                return self._descriptors[tool]
        try:
            found = self.http.get_json(f"tools/{_quote(tool)}/descriptor", {"format": "json"})
        except HeraError as err:
            if err.status == 404:
                raise HeraError(f"no tool {tool!r} on {self.url} ('hera tools list' shows them)", 404)
            raise
        with self._lock:
            self._descriptors[tool] = found
        return found

    # -- runs -------------------------------------------------------------------------
    def start(self, tool: str, *args, keep_remote: bool = False, download_dir=None,
              run_id: str | None = None, ask=None, **params) -> Run:
        """Upload local inputs and start a job of ``tool``; returns at once.

        ``args`` are words as on the command line (``name=value`` or positional, in
        the descriptor's order); ``params`` set parameters by name. ``ask(parameter)``,
        when given, is asked for each required parameter left without a value (as
        HEASoft prompts); an empty answer leaves it unset.
        """
        descriptor = self.descriptor(tool)
        values = bind(descriptor, args, params)
        specs = {p["name"]: p for p in descriptor.get("parameters", [])}
        for name, spec in specs.items():
            if ask and spec.get("required") and name not in values and spec.get("default") is None:
                answer = ask(spec)
                if answer not in (None, ""):
                    values[name] = answer
        values = {name: values[name] for name in specs if name in values}
        folder = None if keep_remote else f"{RUNS_FOLDER}/{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{secrets.token_hex(4)}"
        here = Path(download_dir) if download_dir is not None else Path.cwd()
        if not keep_remote:
            for name, spec in specs.items():  # an output the user did not name goes to its default name
                if _is_output(spec) and name not in values and spec.get("default"):
                    values[name] = spec["default"]
        form, downloads = [], {}
        for name, value in values.items():
            spec = specs[name]
            if _is_input(spec):
                value = self._input_value(value, spec)
            elif _is_output(spec):
                value = self._output_value(name, value, folder, here, downloads)
            form.append((name, _plain(value)))
        job = self.uws.create(f"tools/{_quote(tool)}", form, run=True, run_id=run_id, fetch=False)
        job.parameters = dict(form)
        return Run(self, tool, descriptor, job, downloads, folder if downloads else None)

    def run(self, tool: str, *args, keep_remote: bool = False, download_dir=None,
            timeout: float | None = None, run_id: str | None = None, **params) -> Run:
        """Run ``tool`` and wait: :meth:`start`, then :meth:`Run.finish`."""
        return self.start(tool, *args, keep_remote=keep_remote, download_dir=download_dir,
                          run_id=run_id, **params).finish(timeout)

    def _input_value(self, value, spec: dict) -> str:
        items = _file_list(value, spec)
        if items is not None:  # a comma-separated list of files (fmerge infiles=a.fits,b.fits)
            return ",".join(self._input_value(v, {**spec, "multiple": False}) for v in items)
        if isinstance(value, WorkspacePath):
            return str(value)
        if tables.is_table(value):
            fmt = "votable" if spec.get("type") == "table" else "fits"
            path = tables.write_temporary(value, fmt, spec["name"])
            try:
                return self._upload_input(path, f"{spec['name']}{Path(path).suffix}")
            finally:
                os.unlink(path)
        text = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
        if text.startswith("ws:"):
            return text[3:]
        base, suffix = split_extended(text)
        if base and os.path.isfile(base):
            return self._upload_input(base, Path(base).name) + suffix
        return text

    def _upload_input(self, local, name: str) -> str:
        """Upload a local file once per content; returns its workspace path."""
        digest = _sha256(local)
        remote = f"{RUNS_FOLDER}/inputs/{digest[:24]}/{name}"
        with self._lock:
            if self._uploaded.get(remote) == digest:
                return remote
        listing = self.ws_ls(remote.rsplit("/", 1)[0], missing_ok=True)
        present = any(e.get("name") == name and e.get("sha256") in (digest, None)
                      for e in (listing or {}).get("entries", []))
        if not present:
            self.ws_put(local, remote)
        with self._lock:
            self._uploaded[remote] = digest
        return remote

    def _output_value(self, name, value, folder, here: Path, downloads: dict) -> str:
        if isinstance(value, WorkspacePath):
            return str(value)
        text = os.fspath(value) if isinstance(value, os.PathLike) else str(value)
        if text.startswith("ws:"):
            return text[3:]
        if folder is None:  # keep_remote: the value is the workspace path
            return text
        base, suffix = split_extended(text)
        local = Path(base).expanduser()
        local = local if local.is_absolute() else here / local
        remote = f"{folder}/{local.name}"
        if any(r == remote for r, _ in downloads.values()):
            remote = f"{folder}/{len(downloads)}-{local.name}"
        downloads[name] = (remote, local)
        return remote + suffix

    # -- jobs -------------------------------------------------------------------------
    def job_lists(self) -> list[tuple[str, str]]:
        """(label, path) of every job list: each tool's (``NAME``: the latest version;
        ``NAME@VERSION``: a version pinned), and TAP's ``async``."""
        lists = []
        try:
            for t in self.tools():
                lists.append((t["name"], f"tools/{_quote(t['name'])}"))
                lists += [(f"{t['name']}@{v}", f"tools/{_quote(t['name'])}@{_quote(v)}") for v in t.get("versions", [])]
        except HeraError as err:
            if err.status != 404:
                raise
        return lists + [("tap", "tap/async")]

    def jobs(self, phases=(), last: int | None = None) -> list[tuple[str, JobInfo]]:
        """The caller's jobs in every job list, oldest first."""
        found = []
        for label, path in self.job_lists():
            try:
                found += [(label, j) for j in self.uws.list(path, phases, last)]
            except HeraError as err:
                if err.status != 404:
                    raise
        found.sort(key=lambda item: item[1].creation_time or "")
        return found[-last:] if last else found

    def start_script(self, text: str, args: str = "") -> JobInfo:
        """Submit a whole ``hera runsc`` script as one job of the service's ``runsc`` job
        list (its lines run there as dependent tool jobs; ``args``, its arguments, split
        like a shell line); returns at once."""
        return self.uws.create("runsc", [("script", text), ("args", args)], fetch=False)

    def job_url(self, ref: str) -> str:
        """A job's URL from its URL, ``LIST/ID`` (a tool name or ``tap``), or its ID."""
        if ref.startswith(("http://", "https://")):
            return ref
        if "/" in ref:
            label, job_id = ref.rsplit("/", 1)
            path = "tap/async" if label == "tap" else f"tools/{_quote(label)}"
            return self.http.url(f"{path}/{_quote(job_id)}")
        matches = [j.url for _, j in self.jobs() if j.id == ref]
        if not matches:
            raise HeraError(f"no job {ref!r} in your job lists", 404)
        return matches[0]

    def job(self, ref: str) -> JobInfo:
        return self.uws.job(self.job_url(ref))

    def wait(self, ref: str, timeout: float | None = None) -> JobInfo:
        return self.uws.wait(self.job(ref), timeout)

    def abort(self, ref: str) -> JobInfo:
        return self.uws.abort(self.job_url(ref))

    def delete(self, ref: str) -> None:
        self.uws.delete(self.job_url(ref))

    # -- workspace --------------------------------------------------------------------
    def ws_ls(self, path: str = "", missing_ok: bool = False) -> dict | None:
        """A folder's listing: ``{"path", "entries": [...], "quota": {...}}``."""
        folder = _quote(path)
        try:
            return self.http.get_json(f"workspace/{folder}/" if folder else "workspace/", {"format": "json"})
        except HeraError as err:
            if missing_ok and err.status == 404:
                return None
            raise

    def ws_exists(self, path: str) -> bool:
        try:
            self.http.request("HEAD", f"workspace/{_quote(path)}").close()
            return True
        except HeraError as err:
            if err.status == 404:
                return False
            raise

    def ws_put(self, local, remote: str | None = None) -> dict:
        """Upload a local file (streamed) or an astropy Table; returns the entry."""
        if tables.is_table(local):
            if not remote:
                raise HeraError("ws_put of a Table needs the workspace path")
            path = tables.write_temporary(local, "fits" if remote.endswith((".fits", ".fit")) else "votable")
            try:
                return self.ws_put(path, remote)
            finally:
                os.unlink(path)
        local = Path(local)
        if not local.is_file():
            raise HeraError(f"no local file {str(local)!r}")
        remote = _folder_spelling(remote or local.name)
        if remote == "" or remote.endswith("/"):
            remote += local.name
        size = local.stat().st_size
        if size >= RESUMABLE_MIN:
            return self._put_resumable(local, remote, size)
        return self.ws_put_stream(remote, lambda: open(local, "rb"), size)

    def ws_put_stream(self, remote: str, open_stream, size: int | None = None) -> dict:
        """Upload what ``open_stream()`` reads (it is called again for each retry) to the
        workspace path ``remote``; returns the entry. With ``size``, the service refuses an
        upload over the quota before it starts."""
        length = {} if size is None else {"Content-Length": str(size)}
        response = self.http.request("PUT", f"workspace/{_quote(remote)}", body=open_stream,
                                     headers={**length, "Content-Type": "application/octet-stream"})
        return response.json()

    def _put_resumable(self, local: Path, remote: str, size: int) -> dict:
        """A large upload in pieces (``Content-Range``), resumed from what the service
        already holds: after a broken connection, and across invocations."""
        path = f"workspace/{_quote(remote)}"

        def offset() -> int:
            r = self.http.request("PUT", path, body=b"", ok=(200, 201, 202),
                                  headers={"Content-Range": f"bytes */{size}", "Content-Length": "0"})
            r.close()
            return int(r.headers.get("Upload-Offset") or 0)

        start = offset()
        while True:
            end = min(start + RESUMABLE_PIECE, size) - 1

            def piece(start=start, n=end - start + 1):
                f = open(local, "rb")
                f.seek(start)
                return _Slice(f, n)

            try:
                r = self.http.request("PUT", path, body=piece, ok=(200, 201, 202), headers={
                    "Content-Range": f"bytes {start}-{end}/{size}", "Content-Length": str(end - start + 1),
                    "Content-Type": "application/octet-stream"})
            except HeraError as err:
                if err.status != 409:  # 409: the service has more (or less) than we thought
                    raise
                start = offset()
                continue
            if r.status in (200, 201):
                return r.json()
            r.close()
            start = int(r.headers.get("Upload-Offset") or end + 1)

    def ws_get(self, remote: str, local=None) -> Path:
        """Download a workspace file (streamed); ``local`` defaults to its name here."""
        local = Path(local) if local is not None else Path(Path(remote).name)
        if local.is_dir():
            local = local / Path(remote).name
        self.http.download(f"workspace/{_quote(remote)}", local)
        return local

    def ws_read_table(self, remote: str):
        """A workspace file as an astropy Table."""
        data = self.http.request("GET", f"workspace/{_quote(remote)}").read()
        return tables.read(data, "fits" if data[:6] == b"SIMPLE" else None)

    def ws_rm(self, path: str, recursive: bool = False, missing_ok: bool = False) -> None:
        try:
            self.http.request("DELETE", f"workspace/{_quote(path)}").close()
        except HeraError as err:
            if err.status == 404 and missing_ok:
                return
            if not (recursive and err.status in (400, 409)):
                raise
            for entry in (self.ws_ls(path) or {}).get("entries", []):
                self.ws_rm(f"{path.rstrip('/')}/{entry['name']}", recursive=True, missing_ok=True)
            self.http.request("DELETE", f"workspace/{_quote(path)}").close()

    def ws_mv(self, src: str, dst: str) -> dict:
        return self.http.request("POST", f"workspace/{_quote(src)}", form={"action": "move", "to": dst}).json()

    def ws_mkdir(self, path: str) -> None:
        self.http.request("POST", f"workspace/{_quote(path)}", form={"action": "mkdir"}).close()

    # -- TAP --------------------------------------------------------------------------
    def _tap_form(self, adql, fmt, maxrec, save, uploads):
        form = [("LANG", "ADQL"), ("REQUEST", "doQuery"), ("QUERY", adql)]
        if fmt:
            form.append(("RESPONSEFORMAT", fmt))
        if maxrec is not None:
            form.append(("MAXREC", str(maxrec)))
        if save:
            form.append(("DEST", save))
        files = []
        for name, value in (uploads or {}).items():
            if isinstance(value, str) and value.startswith(("http://", "https://")):
                form.append(("UPLOAD", f"{name},{value}"))
                continue
            data = tables.votable_bytes(value) if tables.is_table(value) else Path(value).read_bytes()
            form.append(("UPLOAD", f"{name},param:{name}"))
            files.append((name, data))
        return form, files

    def _tap_post(self, path, form, files, timeout=None):
        if not files:
            return self.http.request("POST", path, form=form, timeout=timeout)
        boundary = "hera-" + secrets.token_hex(12)
        body = io.BytesIO()
        for name, value in form:
            body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, data in files:
            body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{name}.vot"\r\n'
                       f"Content-Type: application/x-votable+xml\r\n\r\n".encode() + data + b"\r\n")
        body.write(f"--{boundary}--\r\n".encode())
        return self.http.request("POST", path, body=body.getvalue(), timeout=timeout,
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def query_job(self, adql: str, *, fmt: str | None = None, maxrec: int | None = None,
                  save: str | None = None, uploads: dict | None = None) -> JobInfo:
        """Start an async TAP query; returns the job (wait with ``client.uws.wait``)."""
        form, files = self._tap_form(adql, fmt, maxrec, save, uploads)
        response = self._tap_post("tap/async", form + [("PHASE", "RUN")], files)
        from .uws import parse_job
        return parse_job(response.read(), response.url)

    def query_to(self, adql: str, dest, *, fmt: str | None = None, maxrec: int | None = None,
                 async_: bool = False, uploads: dict | None = None, timeout: float | None = None) -> int:
        """Write a query's result to ``dest`` (path or binary file); returns the bytes."""
        if async_:
            job = self.uws.wait(self.query_job(adql, fmt=fmt, maxrec=maxrec, uploads=uploads), timeout)
            self._check_query(job)
            result = job.result("result") or (job.results[0] if job.results else None)
            if result is None:
                raise HeraError(f"TAP job {job.id} completed without a result")
            return self.http.download(result.href, dest)
        form, files = self._tap_form(adql, fmt, maxrec, None, uploads)
        try:
            response = self._tap_post("tap/sync", form, files, timeout)
        except HeraError as err:
            if err.status != 408:
                raise
            # longer than the service's limit for synchronous queries: as a job, then
            log.warning("the query is too long to run synchronously; running it as an async job")
            return self.query_to(adql, dest, fmt=fmt, maxrec=maxrec, async_=True, uploads=uploads, timeout=timeout)
        if hasattr(dest, "write"):
            n = 0
            for chunk in response.iter_content():
                dest.write(chunk)
                n += len(chunk)
            return n
        tmp = Path(f"{dest}.hera-part")
        with open(tmp, "wb") as f:
            for chunk in response.iter_content():
                f.write(chunk)
        os.replace(tmp, dest)
        return Path(dest).stat().st_size

    def _check_query(self, job: JobInfo):
        if job.phase != "COMPLETED":
            raise JobFailed(f"TAP job {job.id} {job.phase}: {job.error or job.phase.lower()}", job)

    def query_save(self, adql: str, path: str, *, fmt: str | None = None, maxrec: int | None = None,
                   uploads: dict | None = None, timeout: float | None = None) -> JobInfo:
        """Run a query whose result stays in the workspace at ``path``: ``DEST=`` on
        the async job; a service that ignores DEST is asked to save the finished job's
        result server-side (``action=save``). Nothing is downloaded."""
        job = self.uws.wait(self.query_job(adql, fmt=fmt, maxrec=maxrec, save=path, uploads=uploads), timeout)
        self._check_query(job)
        if not self.ws_exists(path):
            self.http.request("POST", f"workspace/{_quote(path)}", form={"action": "save", "job": job.url}).close()
        return job

    def tap(self):
        """The service's TAP endpoint as a ``pyvo.dal.TAPService`` that sends your token
        (needs pyvo): for pyvo's own interface next to this client's."""
        try:
            import pyvo
            import requests
        except ImportError:
            raise HeraError("Client.tap() needs pyvo (pip install pyvo), which is not installed")
        session = requests.Session()
        if self.token:
            session.headers["Authorization"] = f"Bearer {self.token}"
        return pyvo.dal.TAPService(f"{self.url}/tap", session=session)

    def query(self, adql: str, *, maxrec: int | None = None, uploads: dict | None = None,
              async_: bool = False, timeout: float | None = None):
        """A query's result: an astropy Table when astropy is installed, else a list of
        dicts (values as text, from CSV). ``uploads`` maps TAP_UPLOAD names to Tables,
        local VOTable files or URLs."""
        buf = io.BytesIO()
        if tables.available():
            self.query_to(adql, buf, fmt="votable", maxrec=maxrec, async_=async_, uploads=uploads, timeout=timeout)
            return tables.read(buf.getvalue(), "votable")
        self.query_to(adql, buf, fmt="csv", maxrec=maxrec, async_=async_, uploads=uploads, timeout=timeout)
        return list(csv.DictReader(io.StringIO(buf.getvalue().decode("utf-8"))))
