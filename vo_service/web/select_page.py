"""The data-selection page: a form over ``integral.scw`` (or an ADQL query for experts),
results fetched by the page from ``/tap/sync``, download and save-to-Hera links."""
from __future__ import annotations

from urllib.parse import urlencode

from flask import render_template, request

from . import selection, targets
from .blueprint import bp, service_url

#: the download buttons: (RESPONSEFORMAT, label, file extension)
DOWNLOADS = (("votable", "VOTable", "xml"), ("csv", "CSV", "csv"), ("fits", "FITS", "fits"))


def sync_url(adql: str, fmt: str, maxrec: int, absolute: bool = False) -> str:
    """The ``/tap/sync`` URL that runs ``adql`` and returns the result as ``fmt``."""
    query = urlencode({"REQUEST": "doQuery", "LANG": "ADQL", "QUERY": adql,
                       "RESPONSEFORMAT": fmt, "MAXREC": maxrec})
    path = "/tap/sync?" + query
    return service_url(path) if absolute else request.script_root + path


def default_save_name(sel: selection.Selection) -> str:
    if sel.position and sel.position.name:
        stem = sel.position.name.lower().replace(" ", "_").replace("*", "").replace("+", "p")
        return f"selections/{stem}_scw.fits"
    return "selections/scw.fits"


@bp.route("/ui/select", methods=["GET", "POST"])
def select():
    # POST only for expert queries too long for a URL; it changes nothing
    form = request.values
    expert = (form.get("adql") or "").strip()
    if expert:
        maxrec = form.get("maxrec", "")
        maxrec = int(maxrec) if maxrec.isdigit() and 0 < int(maxrec) <= selection.MAXREC_LIMIT \
            else selection.DEFAULT_MAXREC
        sel = selection.Selection(expert, maxrec=maxrec, summary=["your ADQL query"])
        run = True
    else:
        sel = selection.build(form)
        run = not selection.is_empty(form) and not sel.errors
    downloads = [(label, sync_url(sel.adql, fmt, sel.maxrec), ext) for fmt, label, ext in DOWNLOADS]
    return render_template(
        "select.html", form=form, sel=sel, run=run, expert=bool(expert),
        instruments=selection.INSTRUMENTS, scw_types=selection.SCW_TYPES, statuses=selection.STATUSES,
        frames=selection.FRAMES,
        default_radius=selection.DEFAULT_RADIUS, default_maxrec=selection.DEFAULT_MAXREC,
        targets=targets.TARGETS, downloads=downloads,
        votable_url=sync_url(sel.adql, "votable", sel.maxrec, absolute=True),
        save_name=default_save_name(sel))
