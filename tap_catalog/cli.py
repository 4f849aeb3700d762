"""``catalog`` commands: create the catalogue, ingest science-window tables, load demo data.

The group is mounted on the ``hera`` command (``hera catalog ...``), where the database is
the Flask app's ``HERA_DATABASE_URL``; run on its own, the commands take ``--database-url``
(default: the environment variable ``HERA_DATABASE_URL``).
"""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import ScriptInfo

# ingest and demo are imported by their commands: they need astropy (integral.time), which
# every `hera` command, the client's included, would otherwise load at start
from . import database, tap_schema
from .row_access import PROPRIETARY_DAYS
from .tableset import TableSet

database_url_option = click.option(
    "--database-url", envvar="HERA_DATABASE_URL", default=None,
    help="SQLAlchemy URL of the database (default: the app's HERA_DATABASE_URL, or the "
         "environment variable HERA_DATABASE_URL).")


def _engine(database_url: str | None):
    """The engine for ``database_url``, else for the running Flask app's configuration."""
    if not database_url:
        database_url = _app_database_url()
    if not database_url:
        raise click.UsageError("no database: give --database-url or set HERA_DATABASE_URL")
    return database.make_engine(database_url)


def _app_database_url() -> str | None:
    """HERA_DATABASE_URL of the Flask app (see :func:`_app_setting`)."""
    return _app_setting("HERA_DATABASE_URL")


def _app_setting(key: str):
    """A setting of the Flask app: the current one, or the one the ``hera`` command would
    build (its ScriptInfo); None without an app."""
    try:
        return current_app.config.get(key)
    except RuntimeError:  # outside an application context
        pass
    ctx = click.get_current_context(silent=True)
    info = ctx.find_object(ScriptInfo) if ctx else None
    if info is None:
        return None
    try:
        app = info.load_app()
    except Exception:  # noqa: BLE001 - no app to be found: fall back to the usage error
        return None
    with app.app_context():
        return current_app.config.get(key)


def _where(engine) -> str:
    """The database a command wrote to, in its report: one run with another HERA_DATA_DIR
    (or from another folder) than the service's is seen at once."""
    return f"database {engine.url.render_as_string(hide_password=True)}"


def _prepare(engine, tableset: TableSet) -> None:
    database.create_catalog(engine, tableset)
    tap_schema.fill(engine, tableset)


@click.group("catalog")
def catalog():
    """The INTEGRAL science-window catalogue and TAP_SCHEMA."""


@catalog.command("init")
@database_url_option
@click.option("--drop", is_flag=True, help="Drop the catalogue's tables first (their rows are lost).")
def init(database_url, drop):
    """Create the declared schemas, tables, views and indexes, and fill TAP_SCHEMA."""
    tableset = TableSet.load()
    engine = _engine(database_url)
    if drop:
        database.drop_catalog(engine, tableset)
    _prepare(engine, tableset)
    click.echo(f"catalogue ready in {_where(engine)}: {', '.join(tableset.table_names())}")


@catalog.command("ingest")
@database_url_option
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bar on stderr.")
@click.option("--proprietary-days", type=click.FloatRange(min=0), envvar="HERA_PROPRIETARY_DAYS", default=None,
              help="A private window whose file gives no public date becomes public this many days after "
                   f"its end (default: the app's HERA_PROPRIETARY_DAYS, else {PROPRIETARY_DAYS}).")
def ingest(database_url, files, progress, proprietary_days):
    """Load science windows from FILES (FITS, CSV or VOTable: HEASARC's intscw or ISDC's
    rev3 scw table, as the archives give them) in one transaction; a science window already
    present is replaced by a newer scw_ver and completed by the same one."""
    from .ingest import IngestError, ingest as ingest_files  # heavy (astropy): loaded by this command only

    tableset = TableSet.load()
    engine = _engine(database_url)
    _prepare(engine, tableset)
    if proprietary_days is None:
        configured = _app_setting("HERA_PROPRIETARY_DAYS")
        proprietary_days = PROPRIETARY_DAYS if configured is None else float(configured)
    try:
        counts = ingest_files(engine, tableset, files, progress=progress, proprietary_days=proprietary_days)
    except IngestError as err:
        raise click.ClickException(f"nothing ingested: {err}")
    if counts["demo_removed"]:
        click.echo(f"removed the demo catalogue ({counts['demo_removed']} invented science windows) first")
    click.echo(f"ingested {counts['windows']} science windows ({counts['read']} rows) from "
               f"{counts['files']} file(s) into {_where(engine)}")


@catalog.command("refresh")
@database_url_option
def refresh(database_url):
    """Recompute integral.revolution's totals from the science windows everyone may see
    now; run it daily (cron) so that windows past their public date are counted."""
    from .ingest import refresh_revolutions  # heavy (astropy): loaded by this command only

    engine = _engine(database_url)
    with engine.begin() as conn:
        n = refresh_revolutions(conn)
    click.echo(f"refreshed {n} revolutions in {_where(engine)}")


@catalog.command("demo")
@database_url_option
@click.option("--rows", type=click.IntRange(min=1), default=10000, show_default=True,
              help="Number of science windows.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the fifteen fixed columns as CSV to this file ('-' for stdout) "
                   "instead of loading the database.")
@click.option("--append", is_flag=True, help="Keep the science windows already loaded.")
@click.option("--progress/--no-progress", default=True, show_default=True, help="Progress bar on stderr.")
def demo_command(database_url, rows, seed, csv_path, append, progress):
    """Generate a realistic INTEGRAL catalogue of ROWS science windows, the same for the
    same --rows and --seed on every machine; load it (replacing the catalogue's windows
    unless --append) or write it as CSV."""
    from . import demo  # heavy (astropy, the generator): loaded by this command only

    if csv_path is not None:
        if str(csv_path) == "-":
            n = demo.write_csv(sys.stdout, demo.generate(rows, seed))
        else:
            with csv_path.open("w", newline="") as out:
                n = demo.write_csv(out, demo.generate(rows, seed))
            click.echo(f"wrote {n} science windows to {csv_path}", err=True)
        return
    tableset = TableSet.load()
    engine = _engine(database_url)
    _prepare(engine, tableset)
    n = demo.load(engine, tableset, demo.generate(rows, seed), replace=not append, progress=progress)
    if not append:
        demo.mark_as_demo(engine)  # a later real ingest replaces it rather than mixing with it
    click.echo(f"loaded {n} science windows (seed {seed}) into {_where(engine)}")
