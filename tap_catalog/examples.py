"""The DALI 1.1 examples document of the TAP service (``/tap/examples``).

Real science-window queries, each runnable as it stands, declared as data and written
as XHTML with RDFa: every example is an element ``typeof="example"`` with an ``id``, a
``name``, a ``query`` and a description (DALI 1.1 §2.3).
"""
from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

XHTML = "http://www.w3.org/1999/xhtml"
VOCABULARY = "http://www.ivoa.net/rdf/examples#"


@dataclass(frozen=True)
class Example:
    id: str
    name: str
    description: str
    query: str


EXAMPLES: tuple[Example, ...] = (
    Example(
        "crab-cone", "Science windows pointed within 5 degrees of the Crab",
        "Pointings whose X axis lies within 5° of the Crab (RA 83.633, Dec 22.014) with at "
        "least 1000 s of IBIS/ISGRI good time: the input of a Crab light curve.",
        """SELECT scw_id, scw_ver, start_time, end_time, good_isgri,
       DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', 83.633, 22.014)) AS offaxis
FROM integral.scw
WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 83.633, 22.014, 5))
  AND scw_type = 'pointing' AND good_isgri >= 1000
ORDER BY start_time"""),
    Example(
        "galactic-centre-time-range", "Galactic Centre pointings in a time range",
        "Pointings within 10° of Sgr A* from 2003 to 2012 (MJD 52640 to 56293), with JEM-X "
        "good time: the input of a JEM-X 1 and 2 mosaic.",
        """SELECT scw_id, start_date, good_jemx1, good_jemx2, ra, dec
FROM integral.scw
WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 266.417, -29.008, 10))
  AND start_time >= 52640 AND end_time <= 56293
ORDER BY start_time"""),
    Example(
        "scw-per-revolution", "Number of science windows and ISGRI time per revolution",
        "How the mission spent each orbit: pointings, their elapsed time and total "
        "IBIS/ISGRI good time, per revolution.",
        """SELECT revolution, COUNT(*) AS n_pointing, SUM(elapsed) AS elapsed,
       SUM(good_isgri) AS isgri_time
FROM integral.scw
WHERE scw_type = 'pointing'
GROUP BY revolution
ORDER BY revolution"""),
    Example(
        "revolution-join", "Pointings with their orbit",
        "Science windows joined to their revolution (orbit): the start of each pointing "
        "after the orbit's start, in days.",
        """SELECT TOP 100 s.scw_id, r.revolution, s.start_time AS scw_start,
       s.start_time - r.start_time AS days_into_orbit, s.good_isgri
FROM integral.scw AS s JOIN integral.revolution AS r ON s.revolution = r.revolution
WHERE s.scw_type = 'pointing'
ORDER BY scw_start"""),
    Example(
        "time-overlap", "Science windows overlapping a time interval",
        "Every science window, pointing or slew, that overlaps the year 2010 (MJD 55197 to "
        "55562), with the user-defined function ivo_interval_overlaps.",
        """SELECT scw_id, scw_type, start_time, end_time, elapsed
FROM integral.scw
WHERE 1 = ivo_interval_overlaps(start_time, end_time, 55197.0, 55562.0)
ORDER BY start_time"""),
    Example(
        "nearest-pointings", "The pointings nearest to Cygnus X-1",
        "The 20 pointings whose axis is closest to Cyg X-1 (RA 299.590, Dec 35.202).",
        """SELECT TOP 20 scw_id, target_name, good_isgri,
       DISTANCE(POINT('ICRS', ra, dec), POINT('ICRS', 299.590, 35.202)) AS dist
FROM integral.scw
WHERE scw_type = 'pointing'
  AND 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 299.590, 35.202, 15))
ORDER BY dist"""),
    Example(
        "exposure-per-target", "Exposure per observed target",
        "Total elapsed and SPI good time per observation target, largest first.",
        """SELECT target_name, COUNT(*) AS n_pointing, SUM(elapsed) AS elapsed, SUM(good_spi) AS spi_time
FROM integral.scw
WHERE scw_type = 'pointing' AND target_name IS NOT NULL
GROUP BY target_name
ORDER BY spi_time DESC"""),
    Example(
        "galactic-plane", "Galactic plane pointings with OMC time",
        "Pointings within 5° of the Galactic plane, and OMC good time, by Galactic longitude.",
        """SELECT TOP 500 scw_id, lii, bii, good_omc
FROM integral.scw
WHERE scw_type = 'pointing' AND bii BETWEEN -5 AND 5 AND good_omc > 0
ORDER BY lii"""),
    Example(
        "public-release", "When proprietary data become public",
        "Per observation, the science windows still proprietary and the date they become "
        "public (you see the rows of the groups you belong to).",
        """SELECT obs_id, target_name, MIN(public_date) AS first_release, COUNT(*) AS n_scw
FROM integral.scw
WHERE status = 'private'
GROUP BY obs_id, target_name
ORDER BY first_release"""),
    Example(
        "obscore-cone", "ObsCore: INTEGRAL observations of the Crab",
        "The same science windows through the standard ObsCore 1.1 view, for clients that "
        "know ObsCore and not INTEGRAL.",
        """SELECT obs_id, t_min, t_max, t_exptime, s_ra, s_dec, access_url
FROM ivoa.obscore
WHERE 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 83.633, 22.014, 5))
ORDER BY t_min"""),
    Example(
        "obsplan", "ObsLocTAP: observations of a region",
        "Observations past and planned (ObsLocTAP 1.0) of the Galactic Centre region.",
        """SELECT target_name, t_min, t_max, execution_status, s_ra, s_dec
FROM ivoa.obsplan
WHERE 1 = CONTAINS(POINT('ICRS', s_ra, s_dec), CIRCLE('ICRS', 266.417, -29.008, 10))
ORDER BY t_min"""),
    Example(
        "long-slews", "The longest slews",
        "Slews between pointings, the longest first: where the spacecraft moved far.",
        """SELECT TOP 50 scw_id, revolution, elapsed, start_date
FROM integral.scw
WHERE scw_type = 'slew'
ORDER BY elapsed DESC"""),
    Example(
        "scw-columns", "The columns of the science-window table",
        "TAP_SCHEMA describes every column with its unit, UCD and meaning.",
        """SELECT column_name, datatype, unit, ucd, description
FROM TAP_SCHEMA.columns
WHERE table_name = 'integral.scw'
ORDER BY column_index"""),
)


def _el(parent, tag: str, text=None, **attrs):
    node = etree.SubElement(parent, f"{{{XHTML}}}{tag}", attrs)
    if text is not None:
        node.text = text
    return node


def examples_document(tap_url: str) -> bytes:
    """The examples as XHTML+RDFa; ``tap_url`` is the service's base URL."""
    html = etree.Element(f"{{{XHTML}}}html", nsmap={None: XHTML})
    head = _el(html, "head")
    _el(head, "title", "Hera TAP examples: INTEGRAL science windows")
    _el(head, "meta", **{"http-equiv": "Content-Type", "content": "application/xhtml+xml; charset=utf-8"})
    body = _el(html, "body", vocab=VOCABULARY)
    _el(body, "h1", "Example queries of the INTEGRAL science-window catalogue")
    intro = _el(body, "p", "Each query runs as it stands on ")
    _el(intro, "a", tap_url, href=tap_url).tail = " (LANG=ADQL)."
    for example in EXAMPLES:
        div = _el(body, "div", id=example.id, resource=f"#{example.id}", typeof="example")
        _el(div, "h2", example.name, property="name")
        _el(div, "p", example.description, property="description")
        _el(div, "pre", example.query, property="query")
    return etree.tostring(html, xml_declaration=True, encoding="UTF-8", pretty_print=True,
                          doctype="<!DOCTYPE html>")
