"""The Hera web interface, served by the service itself: a home page at ``/`` and pages
under ``/ui/`` to select science windows, manage the workspace, run tools and follow jobs.

The pages are server-rendered Jinja templates with a little plain JavaScript (no
external library, font or CDN). They use the service's own HTTP interfaces, as any
client would: ``/tap/sync`` for queries, ``/workspace/`` for files, ``/tools/`` for
tools and the UWS job lists for jobs; the browser signs in once and the session cookie
(``accounts.auth``) authenticates both the pages and their script's requests.
"""
from __future__ import annotations

from flask import Flask

from .blueprint import bp
from . import home, jobs_page, select_page, tools_page, workspace_page  # noqa: F401  (routes on bp)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
