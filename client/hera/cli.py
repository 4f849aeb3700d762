"""The ``hera`` command (argparse, standard library only).

``main(argv)`` returns the exit status: 0 success, 1 an error (one line on stderr,
``hera: error: ...``), 2 bad usage, 130 interrupted. The server's ``hera`` command
(vo_service.cli) forwards the names in :data:`COMMANDS` here unchanged.

``console()`` is the ``hera`` console script, which this distribution alone declares:
the server's command where the server is installed (it finds it through an entry
point), else ``main``. ``python -m hera`` is always the client alone.
"""
from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import shlex
import sys
import time
from pathlib import Path

from . import __version__, config
from .batch import Progress, State, read_tasks, run_batch
from .client import Client, Run
from .errors import HeraError
from .script import line_arguments, parse_script, temporaries

#: the client's commands and their one-line help (also shown by the server's ``hera --help``)
SUMMARIES = {
    "login": "Store the service URL and your token (per-user config file).",
    "logout": "Forget the stored login.",
    "run": "Run a tool remotely and wait: hera run fsort infile=in.fits outfile=out.fits method=insert",
    "runsc": "Run a script of tool lines (%1 %2 ... are temporaries kept on the service).",
    "batch": "Run many independent tool runs (lines or CSV) with bounded concurrency.",
    "query": "Run an ADQL query on the TAP catalogue (-o FILE, --save WORKSPACE_PATH).",
    "ws": "Workspace files: ls, put, get, rm, mv, mkdir.",
    "jobs": "Your jobs in every job list: list, show, wait, abort, rm.",
    "tools": "The service's tools: list, show NAME.",
    "samp": "Register with the running SAMP hub as \"Hera\": tables and images sent to Hera go into your "
            "workspace (needs hera-client[samp]).",
}
COMMANDS = tuple(SUMMARIES)
#: ``hera run`` options, recognised anywhere among the tool's words
RUN_FLAGS = {"--keep-remote": "keep_remote", "--async": "async", "--quiet": "quiet", "-q": "quiet"}
RUN_VALUED = {"--run-id", "--timeout", "--dir"}

FORMATS = {".fits": "fits", ".fit": "fits", ".fts": "fits", ".csv": "csv", ".tsv": "tsv",
           ".json": "json", ".vot": "votable", ".xml": "votable", ".votable": "votable"}


def _err(message: str):
    print(f"hera: error: {message}", file=sys.stderr)


def _note(args, message: str):
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


def _client(args) -> Client:
    return Client(args.url, args.token)


# -- login ------------------------------------------------------------------------------
def cmd_login(args) -> int:
    if not args.service:
        s = config.load()
        print(f"url: {s.url or '(none)'}  (from {s.source})\ntoken: {'set' if s.token else '(none)'}")
        return 0
    token = args.login_token or args.token
    if token is None:
        if sys.stdin.isatty():
            token = getpass.getpass("API token (from 'hera user add' on the service): ")
        else:
            token = sys.stdin.readline()
    token = token.strip() or None
    client = Client(args.service, token)
    try:
        client.ws_ls("")
    except HeraError as err:
        if err.status in (None, 401, 403):
            raise HeraError(f"login to {client.url} failed: {err}")
    path = config.save(client.url, token)
    _note(args, f"logged in to {client.url}; saved in {path}")
    return 0


def cmd_logout(args) -> int:
    _note(args, f"removed {config.config_path()}" if config.forget() else "no stored login")
    return 0


# -- run --------------------------------------------------------------------------------
def _split_run_words(words: list[str]) -> tuple[dict, list[str]]:
    """Pull ``hera run``'s own options out of the tool's words (they may come anywhere)."""
    opts, rest, i = {}, [], 0
    while i < len(words):
        w = words[i]
        name, eq, value = w.partition("=")
        if w in RUN_FLAGS:
            opts[RUN_FLAGS[w]] = True
        elif name in RUN_VALUED:
            if not eq:
                i += 1
                if i >= len(words):
                    raise HeraError(f"{name} needs a value")
                value = words[i]
            opts[name[2:].replace("-", "_")] = value
        elif w == "--":
            rest += words[i + 1:]
            break
        else:
            rest.append(w)
        i += 1
    return opts, rest


def _interrupted(run: Run) -> int:
    """Ctrl-C while a job runs: ask whether to abort it."""
    print(f"\ninterrupted; the job runs on: {run.url}", file=sys.stderr)
    try:
        answer = input("abort the remote job? [y/N] ")
    except (KeyboardInterrupt, EOFError):
        answer = "n"
    if answer.strip().lower() in ("y", "yes"):
        job = run.abort()
        print(f"job {job.id}: {job.phase}", file=sys.stderr)
    else:
        print(f"left running; follow it with: hera jobs wait {run.url}", file=sys.stderr)
    return 130


def _report(args, run: Run):
    for _, text in run.text_results():
        sys.stdout.write(text if text.endswith("\n") or not text else text + "\n")
    for name, path in run.outputs.items():
        _note(args, f"{name}: {path}")
    if not run.downloads:
        for name, remote in run.remote_outputs.items():
            _note(args, f"{name}: workspace {remote}")


def _prompt(spec: dict) -> str:
    """Ask for a required parameter, as HEASoft tools prompt for theirs."""
    hint = f" ({spec['description']})" if spec.get("description") else ""
    return input(f"{spec['name']}{hint}: ").strip()


def cmd_run(args) -> int:
    opts, words = _split_run_words(args.words)
    for key in ("keep_remote", "async", "quiet", "run_id", "timeout", "dir"):
        if getattr(args, f"run_{key}", None) not in (None, False):
            opts.setdefault(key, getattr(args, f"run_{key}"))
    if not words:
        raise HeraError("usage: hera run TOOL [name=value | value] ... [--keep-remote] [--async]")
    args.quiet = args.quiet or opts.get("quiet", False)
    client = _client(args)
    keep = opts.get("keep_remote", False) or opts.get("async", False)
    run = client.start(words[0], *words[1:], keep_remote=keep, download_dir=opts.get("dir"),
                       run_id=opts.get("run_id"), ask=_prompt if sys.stdin.isatty() else None)
    if opts.get("async"):
        print(run.url)
        return 0
    _note(args, f"{run.tool} job {run.url}")
    try:
        run.finish(float(opts["timeout"]) if "timeout" in opts else None,
                   on_phase=lambda job: _note(args, f"  {job.phase}"))
    except KeyboardInterrupt:
        return _interrupted(run)
    _report(args, run)
    return 0


# -- runsc ------------------------------------------------------------------------------
def cmd_runsc(args) -> int:
    if args.resume:
        if not args.remote or args.script is not None:
            raise HeraError("--resume URL takes the script from that job: give it with --remote and no SCRIPT")
        client = _client(args)
        failed = client.job(args.resume)
        return _runsc_remote(args, client, failed.parameters.get("script", ""),
                             failed.parameters.get("args", ""))
    if args.script is None:
        raise HeraError("a SCRIPT file (or - for stdin) is needed")
    path = Path("stdin" if args.script == "-" else args.script)
    try:
        text = sys.stdin.read() if args.script == "-" else path.read_text()
    except OSError as err:
        raise HeraError(f"cannot read {path}: {err.strerror}")
    lines = parse_script(text, args.args)
    client = _client(args)
    if args.remote:
        return _runsc_remote(args, client, text, shlex.join(str(a) for a in args.args))
    folder = f"hera-runs/script-{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{path.stem}"
    uses_temporaries, interrupted = bool(temporaries(lines)), False
    try:
        for line in lines:
            where = f"{path.name}:{line.number}"
            try:
                descriptor = client.descriptor(line.tool)
                positional, named = line_arguments(descriptor, line.args, folder)
                run = client.start(line.tool, *positional, keep_remote=args.keep_remote, **named)
            except HeraError as err:
                raise HeraError(f"{where}: {line.tool}: {err}")
            _note(args, f"{where}: {line.tool} {run.url}")
            try:
                run.finish()
            except KeyboardInterrupt:
                interrupted = True  # the job may run on: its temporaries stay
                return _interrupted(run)
            except HeraError as err:
                raise HeraError(f"{where}: {err}")
            _report(args, run)
    finally:
        if uses_temporaries:
            if args.keep_remote or interrupted:
                _note(args, f"temporaries kept in the workspace folder {folder}")
            else:
                try:
                    client.ws_rm(folder, recursive=True, missing_ok=True)
                except HeraError as err:
                    _note(args, f"warning: temporaries not removed from {folder}: {err}")
    return 0


def _runsc_remote(args, client: Client, text: str, script_args: str) -> int:
    """The whole script as one job on the service; the laptop may leave (Ctrl-C) and
    come back with ``hera jobs wait URL``."""
    job = client.start_script(text, script_args)
    _note(args, f"script job: {job.url}")
    try:
        job = client.uws.wait(job)
    except KeyboardInterrupt:
        print(f"\ninterrupted; the script runs on: hera jobs wait {job.url}", file=sys.stderr)
        return 130
    log = job.result("log")
    if log is not None:
        sys.stderr.write(client.http.request("GET", log.href).text())
    if job.phase != "COMPLETED":
        raise HeraError(f"the script ended {job.phase}: {job.error or 'no message'} ({job.url})")
    return 0


# -- batch ------------------------------------------------------------------------------
def cmd_batch(args) -> int:
    tasks = read_tasks(args.file, args.tool)
    state = State(args.state or f"{args.file}.hera-state")
    if args.force and state.path.exists():
        state.path.unlink()
    client = _client(args)
    progress = Progress(0, enabled=args.progress)
    done = {k for k, r in state.load().items() if r.get("phase") == "COMPLETED"}
    progress.total = sum(t.key not in done for t in tasks)
    summary = run_batch(client, tasks, state=state, concurrency=args.jobs,
                        keep_remote=args.keep_remote, progress=progress)
    ran = summary.completed + len(summary.failed)
    print(f"batch {args.file}: {summary.total} runs: {summary.completed} completed, {len(summary.failed)} failed, "
          f"{summary.skipped} skipped (done before) in {summary.wall:.1f} s"
          + (f" ({ran / summary.wall:.1f} runs/s)" if ran and summary.wall else "")
          + ("; interrupted" if summary.interrupted else ""), file=sys.stderr)
    for task, message in summary.failed[:20]:
        print(f"  line {task.number}: {message}", file=sys.stderr)
    if len(summary.failed) > 20:
        print(f"  ... and {len(summary.failed) - 20} more (see {state.path})", file=sys.stderr)
    if summary.abandoned:
        # the threads that still wait for their jobs would hold the exit until they end
        print(f"left {summary.abandoned} run(s) on the service; run the batch again to pick them up",
              file=sys.stderr)
        sys.stderr.flush()
        os._exit(130)
    if summary.interrupted:
        return 130
    return 0 if summary.ok else 1


# -- query ------------------------------------------------------------------------------
def _format_for(path: str | None, default: str) -> str:
    return FORMATS.get(Path(path).suffix.lower(), default) if path else default


def cmd_query(args) -> int:
    adql = args.adql
    if adql == "-":
        adql = sys.stdin.read()
    elif adql.startswith("@"):
        adql = Path(adql[1:]).read_text()
    uploads = {}
    for item in args.upload or []:
        name, sep, source = item.partition("=")
        if not sep:
            raise HeraError(f"--upload needs NAME=FILE_OR_URL, not {item!r}")
        uploads[name] = source
    client = _client(args)
    if args.save:
        job = client.query_save(adql, args.save, fmt=args.format or _format_for(args.save, "votable"),
                                maxrec=args.maxrec, uploads=uploads)
        _note(args, f"saved in the workspace: {args.save} (job {job.url})")
        return 0
    fmt = args.format or _format_for(args.output, "votable" if args.output else "csv")
    if args.output:
        n = client.query_to(adql, args.output, fmt=fmt, maxrec=args.maxrec, async_=args.async_, uploads=uploads)
        _note(args, f"wrote {args.output} ({n} bytes)")
    else:
        client.query_to(adql, sys.stdout.buffer, fmt=fmt, maxrec=args.maxrec, async_=args.async_, uploads=uploads)
        sys.stdout.flush()
    return 0


# -- workspace --------------------------------------------------------------------------
def _size(n) -> str:
    if n is None:
        return "-"
    for unit in ("B", "K", "M", "G", "T"):
        if n < 1024 or unit == "T":
            return f"{n:.0f}{unit}" if unit == "B" else f"{n:.1f}{unit}"
        n /= 1024


def cmd_ws(args) -> int:
    client = _client(args)
    if args.ws == "ls":
        listing = client.ws_ls(args.path)
        if args.json:
            print(json.dumps(listing, indent=1))
            return 0
        for e in listing.get("entries", []):
            name = e["name"] + ("/" if e.get("type") == "folder" else "")
            print(f"{_size(e.get('size')):>8}  {(e.get('modified') or '')[:19]:19}  {name}")
        q = listing.get("quota") or {}
        if q:
            print(f"quota: {_size(q.get('bytes_used'))} of {_size(q.get('bytes_max'))}, "
                  f"{q.get('files_used')} of {q.get('files_max')} files", file=sys.stderr)
    elif args.ws == "put":
        sources, target = args.files, None  # as cp: the last of several is the destination
        if len(args.files) > 1:
            *sources, target = args.files
            if len(sources) > 1 and not target.endswith("/"):
                raise HeraError(f"several files go into a folder: end {target!r} with /")
        for local in sources:
            entry = client.ws_put(local, target)
            _note(args, f"{entry.get('path')} ({entry.get('size')} bytes, sha256 {(entry.get('sha256') or '?')[:16]})")
    elif args.ws == "get":
        path = client.ws_get(args.remote, args.local)
        _note(args, f"wrote {path}")
    elif args.ws == "rm":
        for p in args.paths:
            client.ws_rm(p, recursive=args.recursive)
    elif args.ws == "mv":
        client.ws_mv(args.src, args.dst)
    elif args.ws == "mkdir":
        client.ws_mkdir(args.path)
    return 0


# -- jobs -------------------------------------------------------------------------------
def _show_job(job, label=None):
    print(f"job {job.id}{f' ({label})' if label else ''}: {job.phase}")
    print(f"  url: {job.url}")
    for key in ("run_id", "owner", "creation_time", "start_time", "end_time", "execution_duration", "destruction"):
        value = getattr(job, key)
        if value is not None:
            print(f"  {key.replace('_', ' ')}: {value}")
    if job.parameters:
        print("  parameters:")
        for k, v in job.parameters.items():
            print(f"    {k} = {v}")
    if job.results:
        print("  results:")
        for r in job.results:
            print(f"    {r.id}: {r.href}" + (f" ({r.mime_type}, {r.size} bytes)" if r.size is not None else ""))
    if job.error:
        print(f"  error: {job.error}")
    for k, v in job.info.items():
        print(f"  {k}: {v}")


def cmd_jobs(args) -> int:
    client = _client(args)
    if args.jobs_cmd == "list":
        found = client.jobs([p.upper() for p in args.phase or []], args.last)
        for label, job in found:
            print(f"{label:16} {job.id:20} {job.phase:10} {(job.creation_time or '')[:19]:19} {job.run_id or ''}")
        return 0
    if args.jobs_cmd == "show":
        _show_job(client.job(args.job))
    elif args.jobs_cmd == "wait":
        job = client.wait(args.job, args.timeout)
        print(job.phase)
        if job.error:
            print(f"error: {job.error}", file=sys.stderr)
        return 0 if job.phase == "COMPLETED" else 1
    elif args.jobs_cmd == "abort":
        for ref in args.jobs:
            job = client.abort(ref)
            _note(args, f"{job.id}: {job.phase}")
    elif args.jobs_cmd == "rm":
        for ref in args.jobs:
            client.delete(ref)
    return 0


# -- tools ------------------------------------------------------------------------------
def _range(p: dict) -> str:
    if p.get("options"):
        return "|".join(str(o) for o in p["options"])
    lo, hi = p.get("min"), p.get("max")
    if lo is None and hi is None:
        return ""
    return f"[{'' if lo is None else lo}, {'' if hi is None else hi}]"


def cmd_tools(args) -> int:
    if getattr(args, "local", False):
        raise HeraError("--local lists the service's own registry: it works with the server installation only")
    client = _client(args)
    if args.tools_cmd in (None, "list"):
        for t in client.tools():
            print(f"{t['name']:16} {t.get('version', ''):8} {t.get('summary', '')}")
        return 0
    d = client.descriptor(args.name)
    params = d.get("parameters", [])
    print(f"{d['name']} {d.get('version', '')} — {d.get('summary', '')}")
    if d.get("description"):
        print(f"\n{d['description'].strip()}\n")
    positional = " ".join(p["name"] if p.get("required") else f"[{p['name']}]" for p in params)
    print(f"usage: hera run {d['name']} {positional}   (or name=value, in any order)")
    print("parameters, in positional order:")
    rows = [("name", "type", "dir", "default", "unit", "range/options", "description")]
    for p in params:
        kind = p.get("type", "") + ("*" if p.get("required") else "")
        direction = p.get("direction") or ""
        default = "" if p.get("default") is None else str(p["default"])
        rows.append((p["name"], kind, direction, default, p.get("unit") or "", _range(p), p.get("description") or ""))
    widths = [max(len(r[i]) for r in rows) for i in range(6)]
    for r in rows:
        print("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[6])
    print("  (* required)")
    if d.get("outputs"):
        print("outputs:")
        for o in d["outputs"]:
            print(f"  {o['name']}  {o.get('content_type', '')}  {o.get('description', '')}")
    return 0


# -- samp -------------------------------------------------------------------------------
def cmd_samp(args) -> int:
    try:
        # pyvo's SAMP is the optional extra hera-client[samp]; every other command runs without it
        from . import samp
    except ImportError as err:
        raise HeraError(f"hera samp needs pyvo's SAMP ({err}): pip install 'hera-client[samp]'")
    client = _client(args)
    if not client.token:
        raise HeraError("hera samp needs your API token: --token, HERA_TOKEN or 'hera login'")
    samp.run(client, args.folder, echo=lambda line: print(line, flush=True))
    return 0


# -- the parser -------------------------------------------------------------------------
def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="hera", description="Run Hera's tools, scripts and batches remotely; query its catalogue; use your workspace.",
        epilog="The service comes from --url, else HERA_URL, else 'hera login'; the token likewise (HERA_TOKEN).")
    top.add_argument("--url", help="service URL (overrides HERA_URL and the login)")
    top.add_argument("--token", help="API token (overrides HERA_TOKEN and the login)")
    top.add_argument("-q", "--quiet", action="store_true", help="no progress notes on stderr")
    top.add_argument("--version", action="version", version=f"hera-client {__version__}")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")

    # the global options are also taken right after the command's name, where the
    # server's hera (click) passes them on: hera run --url URL TOOL ...
    after = argparse.ArgumentParser(add_help=False)
    after.add_argument("--url", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    after.add_argument("--token", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    after.add_argument("-q", "--quiet", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)

    def command(name, **kw):
        parents = [] if name == "login" else [after]
        return sub.add_parser(name, help=SUMMARIES[name].replace("%", "%%"), description=SUMMARIES[name],
                              parents=parents, **kw)

    p = command("login")
    p.add_argument("service", nargs="?", metavar="URL", help="the service; without it, show the current settings")
    p.add_argument("--token", dest="login_token", help="the API token (default: asked for, or read from stdin)")
    p.set_defaults(func=cmd_login)
    command("logout").set_defaults(func=cmd_logout)

    p = command("run", usage="hera run TOOL [name=value | value] ... [--keep-remote] [--async] [--run-id ID] "
                             "[--timeout S] [--dir DIR]",
                epilog="Positional values follow the tool's parameter order (hera tools show TOOL). Local files "
                       "given to input file parameters are uploaded; outputs are downloaded into the current "
                       "folder (or --dir) unless --keep-remote (outputs then stay at the workspace paths given). "
                       "--async prints the job URL and returns. ws:PATH names a workspace file explicitly. "
                       "A required parameter left out is asked for when stdin is a terminal.")
    p.add_argument("--keep-remote", dest="run_keep_remote", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--async", dest="run_async", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--run-id", dest="run_run_id", help=argparse.SUPPRESS)
    p.add_argument("--timeout", dest="run_timeout", help=argparse.SUPPRESS)
    p.add_argument("--dir", dest="run_dir", help=argparse.SUPPRESS)
    p.add_argument("words", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_run)

    p = command("runsc", epilog="Script lines: TOOL ARG ...; %1 %2 ... temporaries on the service; $1 $2 ... the "
                                "script's arguments; # comments and blank lines are skipped.")
    p.add_argument("script", nargs="?", help="the script file, or - for stdin")
    p.add_argument("args", nargs="*", help="the script's arguments, $1 $2 ... in its lines")
    p.add_argument("--keep-remote", action="store_true", help="keep outputs and temporaries in the workspace")
    p.add_argument("--remote", action="store_true",
                   help="run the whole script on the service as one job (leave with Ctrl-C, come back with "
                        "'hera jobs wait URL'); a rerun reuses the steps that completed")
    p.add_argument("--resume", metavar="URL",
                   help="with --remote: run the script of the failed script job URL again, from its failed "
                        "step (the completed steps are reused)")
    p.set_defaults(func=cmd_runsc)

    p = command("batch", epilog="FILE: one 'TOOL ARG ...' per line, or a .csv whose header names the parameters "
                                "(and a 'tool' column, or --tool). Finished runs go to FILE.hera-state; running "
                                "again skips the completed ones.")
    p.add_argument("file")
    p.add_argument("--tool", help="the tool of every run (CSV without a tool column, or lines without the tool)")
    p.add_argument("-j", "--jobs", type=int, default=4, help="runs at a time (default 4)")
    p.add_argument("--state", help="the state file (default FILE.hera-state)")
    p.add_argument("--force", action="store_true", help="forget the state file: run everything again")
    p.add_argument("--keep-remote", action="store_true", help="leave outputs in the workspace, download nothing")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress bar on stderr (default: when stderr is a terminal)")
    p.set_defaults(func=cmd_batch)

    p = command("query", epilog="ADQL may be '-' (stdin) or @FILE. Synchronous by default (async by itself when "
                                "the service's sync time limit stops it); --async runs a UWS job; --save runs a "
                                "job that writes the result into the workspace (DEST=) and downloads nothing.")
    p.add_argument("adql")
    p.add_argument("-o", "--output", help="write the result here (default: stdout)")
    p.add_argument("--format", help="votable, votable/td, csv, tsv, fits, json (default: from -o's extension; csv on stdout)")
    p.add_argument("--save", metavar="PATH", help="keep the result in the workspace at PATH")
    p.add_argument("--async", dest="async_", action="store_true", help="run as an async job and wait")
    p.add_argument("--maxrec", type=int)
    p.add_argument("--upload", action="append", metavar="NAME=FILE", help="TAP_UPLOAD a VOTable file or URL as TAP_UPLOAD.NAME")
    p.set_defaults(func=cmd_query)

    p = command("ws")
    ws = p.add_subparsers(dest="ws", metavar="VERB", required=True)
    q = ws.add_parser("ls", help="list a folder")
    q.add_argument("path", nargs="?", default="")
    q.add_argument("--json", action="store_true")
    q = ws.add_parser("put", help="upload files", usage="hera ws put LOCAL [REMOTE] | LOCAL... FOLDER/")
    q.add_argument("files", nargs="+", metavar="LOCAL",
                   help="as cp: the last of several is the workspace path (default: the file's name; "
                        "a trailing / puts the files in that folder)")
    q = ws.add_parser("get", help="download a file")
    q.add_argument("remote")
    q.add_argument("local", nargs="?")
    q = ws.add_parser("rm", help="delete files or folders")
    q.add_argument("paths", nargs="+")
    q.add_argument("-r", "--recursive", action="store_true")
    q = ws.add_parser("mv", help="move or rename")
    q.add_argument("src")
    q.add_argument("dst")
    q = ws.add_parser("mkdir", help="make a folder")
    q.add_argument("path")
    p.set_defaults(func=cmd_ws)

    p = command("jobs", epilog="JOB is a job URL, LIST/ID (a tool name, or tap for TAP async queries) or an ID.")
    jobs = p.add_subparsers(dest="jobs_cmd", metavar="VERB", required=True)
    q = jobs.add_parser("list", help="your jobs in all job lists")
    q.add_argument("--phase", action="append", help="only jobs in this phase (repeatable)")
    q.add_argument("--last", type=int, help="only the N most recent")
    q = jobs.add_parser("show", help="a job's phase, parameters, results and error")
    q.add_argument("job")
    q = jobs.add_parser("wait", help="wait for a job to end; exit 0 when COMPLETED")
    q.add_argument("job")
    q.add_argument("--timeout", type=float)
    q = jobs.add_parser("abort", help="abort jobs")
    q.add_argument("jobs", nargs="+")
    q = jobs.add_parser("rm", help="delete jobs")
    q.add_argument("jobs", nargs="+")
    p.set_defaults(func=cmd_jobs)

    p = command("tools")
    p.add_argument("--local", action="store_true", help="(server installation) this host's registry, not over HTTP")
    tools = p.add_subparsers(dest="tools_cmd", metavar="VERB")
    tools.add_parser("list", help="the tools")
    q = tools.add_parser("show", help="a tool's parameters (types, defaults, units) and outputs")
    q.add_argument("name")
    p.set_defaults(func=cmd_tools)

    p = command("samp", epilog="Accepts table.load.votable, table.load.fits and image.load.fits; a name already "
                               "taken in the folder gets -2, -3, ... Runs until interrupted (Ctrl-C).")
    p.add_argument("--folder", default="samp", help="workspace folder for what arrives (default: samp)")
    p.set_defaults(func=cmd_samp)
    return top


class _Stderr(logging.Handler):
    """Notes of the library (retries) as ``hera: ...`` lines on the current stderr."""

    def emit(self, record):
        print(f"hera: {record.getMessage()}", file=sys.stderr)


def console():
    """The ``hera`` console script. Where Hera's server is installed too, it offers its own
    ``hera`` command through the entry-point group ``hera.server`` (entry ``hera``); that
    command has the server's commands and hands the client's back to :func:`main`.
    Without the server (the astronomer's machine), the client's commands alone."""
    from importlib.metadata import entry_points

    try:
        server = entry_points(group="hera.server")
    except TypeError:  # Python 3.9: entry_points() takes no selection and returns a dict
        server = entry_points().get("hera.server", ())
    for entry in server:
        if entry.name == "hera":
            return entry.load()()
    return main()


def main(argv=None) -> int:
    log = logging.getLogger("hera")
    if not any(isinstance(h, _Stderr) for h in log.handlers):
        log.addHandler(_Stderr(logging.WARNING))
        log.propagate = False
    args = parser().parse_args(argv)
    if not getattr(args, "func", None):
        parser().print_help(sys.stderr)
        return 2
    try:
        return args.func(args)
    except HeraError as err:
        _err(str(err))
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except OSError as err:
        _err(f"{err.filename or ''}: {err.strerror or err}" if err.filename else str(err))
        return 1
