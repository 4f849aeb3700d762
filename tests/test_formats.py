"""Output formats (TAP 1.1 RESPONSEFORMAT, DALI 1.1, VOTable 1.4) and the TAP_UPLOAD reader.

Every VOTable written is validated against VOTable.xsd and read back by astropy with
the same values; CSV, TSV, JSON and FITS are read back by csv, json and astropy.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import tracemalloc
from decimal import Decimal
from itertools import count, islice

import numpy as np
import pytest
from astropy.io import fits
from astropy.io.votable import parse as parse_votable
from astropy.table import Table
from astropy.utils.exceptions import AstropyUserWarning

from schemas import assert_valid
from tap_catalog import formats
from tap_catalog.formats import UnsupportedFormat, UploadError, lookup, read_upload, render
from tap_catalog.tableset import Column

NS = "{http://www.ivoa.net/xml/VOTable/v1.3}"

COLUMNS = [
    Column("scw_id", "char", "12", ucd="meta.id;obs", description="Science window identifier"),
    Column("revol", "int", ucd="meta.id", utype="obs:revolution"),
    Column("ra", "double", unit="deg", ucd="pos.eq.ra;meta.main", description="Right ascension"),
    Column("dec", "double", unit="deg", ucd="pos.eq.dec;meta.main"),
    Column("exposure", "float", unit="s"),
    Column("n_events", "long"),
    Column("mode", "short"),
    Column("public", "boolean"),
    Column("object", "char", "*", description="Target <name> & alias"),
    Column("title", "unicodeChar", "*"),
    Column("start_time", "char", "*", xtype="timestamp"),
    Column("pointing", "double", "2", xtype="point", unit="deg"),
    Column("fov", "double", "3", xtype="circle", unit="deg"),
    Column("footprint", "double", "*", xtype="polygon", unit="deg"),
]

ROWS = [
    ("012300450010", 123, 83.633, 22.0145, 2000.5, 123456789012, 41, True, "Crab",
     "Krebsnebel ✓", dt.datetime(2004, 3, 1, 12, 30, 15, 250000), (83.6, 22.0), "83.6 22.0 4.5",
     (1.0, 2.0, 3.0, 2.0, 3.0, 4.0)),
    ("012300460010", 123, -0.0, -89.5, 1.25, -1, -3, False, "Cyg X-1 & <friends>",
     "x", dt.date(2004, 3, 2), "299.59 35.2", (299.59, 35.2, 2.5), "10 20 11 20 11 21 10 21"),
    ("012300470010", None, None, None, None, None, None, None, None, None, None, None, None,
     None),
    ("012300480010", 2**31 - 1, 1e-300, 90.0, 3.0e38, 2**63 - 1, 2**15 - 1, True, "a\tb,c\"d",
     "Ωμέγα", dt.datetime(2005, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=2))), [0.5, -0.5],
     [1, 2, 3], [0, 0, 1, 0, 1, 1]),
]


def expected(column: Column, value):
    """What a reader should see for ``value`` in ``column``: geometry as float tuples,
    timestamps as DALI ISO-8601 text."""
    if value is None:
        return None
    if column.xtype == "timestamp":
        if isinstance(value, dt.datetime) and value.tzinfo:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value.isoformat()
    if column.arraysize and column.datatype == "double":
        return tuple(float(x) for x in (value.split() if isinstance(value, str) else value))
    if column.datatype == "float":
        return float(np.float32(value))
    return value


def expected_rows(rows=ROWS, columns=COLUMNS):
    return [tuple(expected(c, v) for c, v in zip(columns, row)) for row in rows]


def plain(value):
    """A value astropy read, as a plain Python value; NULL (masked, NaN, '') is None."""
    if value is np.ma.masked or value is None:
        return None
    if isinstance(value, np.ndarray):
        if value.size == 0 or np.all(np.ma.getmaskarray(value)):
            return None
        floats = np.ma.filled(value.astype(float), np.nan)
        return None if np.all(np.isnan(floats)) else tuple(floats.tolist())
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value == "":
        return None
    return value


def astropy_rows(data: bytes):
    table = parse_votable(io.BytesIO(data)).get_first_table()
    names = table.array.dtype.names
    rows = [tuple(plain(table.array[name][i]) for name in names) for i in range(len(table.array))]
    return table, rows


def rendered(fmt, columns=COLUMNS, rows=ROWS, **kw) -> bytes:
    kw.setdefault("maxrec", None)
    return b"".join(render(lookup(fmt), columns, iter(rows), **kw))


# --- RESPONSEFORMAT ---------------------------------------------------------------

@pytest.mark.parametrize("spelling, name", [
    ("votable", "votable/b2"),
    ("application/x-votable+xml", "votable/b2"),
    ("text/xml", "votable/b2"),
    ("application/x-votable+xml;serialization=tabledata", "votable/td"),
    ("application/x-votable+xml;serialization=binary", "votable/b"),
    ("application/x-votable+xml;serialization=binary2", "votable/b2"),
    ("Application/X-VOTable+XML; serialization = BINARY2", "votable/b2"),
    ('application/x-votable+xml;serialization="TABLEDATA"', "votable/td"),
    ("votable/td", "votable/td"),
    ("votable/b", "votable/b"),
    ("votable/b2", "votable/b2"),
    ("VOTable/TD", "votable/td"),
    ("csv", "csv"),
    ("text/csv", "csv"),
    ("text/csv;header=present", "csv"),
    ("text/csv; header=present", "csv"),
    ("tsv", "tsv"),
    ("text/tab-separated-values", "tsv"),
    ("fits", "fits"),
    ("application/fits", "fits"),
    ("json", "json"),
    ("application/json", "json"),
    (" JSON ", "json"),
])
def test_every_responseformat_spelling_selects_its_renderer(spelling, name):
    assert lookup(spelling).name == name


def test_no_responseformat_means_binary2_votable():
    assert lookup(None) is formats.BINARY2
    assert lookup("") is formats.BINARY2


def test_an_unknown_format_is_refused_with_the_accepted_list():
    with pytest.raises(UnsupportedFormat) as err:
        lookup("application/x-parquet")
    message = str(err.value)
    assert "application/x-parquet" in message
    for spelling in ("votable", "text/csv", "application/fits", "votable/b2", "tsv"):
        assert spelling in message


def test_an_unknown_serialization_is_refused():
    with pytest.raises(UnsupportedFormat):
        lookup("application/x-votable+xml;serialization=fits")


def test_a_plugin_renderer_registers_and_cannot_steal_a_spelling():
    class Lines(formats.Renderer):
        name = "x-hera-test-lines"
        media_type = "text/x-hera-test-lines"

        def write(self, columns, rows, *, maxrec, **meta):
            for row in islice(rows, maxrec):
                yield (" ".join(map(str, row)) + "\n").encode()

    plugin = formats.register(Lines())
    assert lookup("TEXT/X-HERA-TEST-LINES") is plugin
    assert b"".join(render("x-hera-test-lines", COLUMNS[:2], [("a", 1)], maxrec=5)) == b"a 1\n"

    class Thief(Lines):
        name = "csv"
    with pytest.raises(ValueError, match="taken"):
        formats.register(Thief())
    assert lookup("csv") is formats.CSV


# --- VOTable ------------------------------------------------------------------------

SERIALIZATIONS = ["votable/td", "votable/b", "votable/b2"]


@pytest.mark.parametrize("fmt", SERIALIZATIONS)
def test_votable_is_valid_and_reads_back_with_the_same_values(fmt):
    data = rendered(fmt, maxrec=100, infos=[("request_id", "42", "the request")])
    assert_valid("VOTable.xsd", data)
    table, rows = astropy_rows(data)
    assert rows == expected_rows()
    assert [f.name for f in table.fields] == [c.name for c in COLUMNS]


@pytest.mark.parametrize("fmt", SERIALIZATIONS)
def test_fields_carry_the_column_metadata(fmt):
    root = assert_valid("VOTable.xsd", rendered(fmt, maxrec=10))
    fields = root.findall(f".//{NS}FIELD")
    assert len(fields) == len(COLUMNS)
    for field, column in zip(fields, COLUMNS):
        assert field.get("name") == column.name
        assert field.get("ID") == column.name
        assert field.get("datatype") == column.datatype
        assert field.get("arraysize") == column.arraysize
        for attr in ("unit", "ucd", "utype", "xtype"):
            assert field.get(attr) == getattr(column, attr)
        description = field.find(f"{NS}DESCRIPTION")
        assert (description.text if description is not None else "") == column.description


def test_field_ids_are_valid_xml_ids_even_for_odd_names():
    columns = [Column("a b", "int"), Column("1st", "int"), Column("A_B", "int"), Column("a_b", "int")]
    root = assert_valid("VOTable.xsd", rendered("votable", columns, [(1, 2, 3, 4)]))
    ids = [f.get("ID") for f in root.iter(f"{NS}FIELD")]
    assert [f.get("name") for f in root.iter(f"{NS}FIELD")] == ["a b", "1st", "A_B", "a_b"]
    assert len({i.lower() for i in ids}) == 4


@pytest.mark.parametrize("fmt", SERIALIZATIONS)
def test_query_status_ok_comes_before_the_table(fmt):
    root = assert_valid("VOTable.xsd", rendered(fmt, maxrec=len(ROWS)))
    resource = root.find(f"{NS}RESOURCE")
    assert resource.get("type") == "results"
    children = [(etree_tag(c), c.get("name"), c.get("value")) for c in resource]
    assert children[0] == ("INFO", "QUERY_STATUS", "OK")
    assert children[-1][0] == "TABLE", "no OVERFLOW when the rows fit MAXREC exactly"


def etree_tag(node) -> str:
    return node.tag.rsplit("}", 1)[-1]


@pytest.mark.parametrize("fmt", SERIALIZATIONS)
def test_more_rows_than_maxrec_is_an_overflow_after_the_table(fmt):
    data = rendered(fmt, maxrec=2)
    root = assert_valid("VOTable.xsd", data)
    resource = root.find(f"{NS}RESOURCE")
    children = [etree_tag(c) for c in resource]
    assert children[-2:] == ["TABLE", "INFO"]
    overflow = resource[-1]
    assert (overflow.get("name"), overflow.get("value")) == ("QUERY_STATUS", "OVERFLOW")
    assert astropy_rows(data)[1] == expected_rows()[:2]


@pytest.mark.parametrize("fmt", SERIALIZATIONS)
def test_maxrec_zero_gives_the_metadata_and_an_overflow(fmt):
    data = rendered(fmt, maxrec=0)
    root = assert_valid("VOTable.xsd", data)
    assert root.find(f"{NS}RESOURCE")[-1].get("value") == "OVERFLOW"
    assert astropy_rows(data)[1] == []


@pytest.mark.parametrize("fmt", SERIALIZATIONS)
def test_an_empty_result_is_valid(fmt):
    data = rendered(fmt, rows=[], maxrec=10)
    assert_valid("VOTable.xsd", data)
    assert astropy_rows(data)[1] == []
    assert b"OVERFLOW" not in data


@pytest.mark.parametrize("fmt", SERIALIZATIONS)
def test_many_rows_span_many_chunks_and_read_back(fmt):
    rows = [ROWS[i % len(ROWS)] for i in range(1500)]
    chunks = list(render(lookup(fmt), COLUMNS, iter(rows), maxrec=None))
    assert len(chunks) > 4
    assert max(len(c) for c in chunks) < 2 * formats.renderer.CHUNK_SIZE
    data = b"".join(chunks)
    assert_valid("VOTable.xsd", data)
    assert astropy_rows(data)[1] == expected_rows(rows)


@pytest.mark.parametrize("fmt", SERIALIZATIONS)
def test_a_failure_while_reading_rows_ends_the_document_with_an_error(fmt):
    def failing_cursor():
        yield from ROWS[:2]
        raise RuntimeError("canceling statement due to statement timeout")

    chunks = render(lookup(fmt), COLUMNS, failing_cursor(), maxrec=100)
    sent = []
    with pytest.raises(RuntimeError, match="statement timeout"):
        for chunk in chunks:
            sent.append(chunk)
    root = assert_valid("VOTable.xsd", b"".join(sent))
    last = root.find(f"{NS}RESOURCE")[-1]
    assert (last.get("name"), last.get("value")) == ("QUERY_STATUS", "ERROR")
    assert "statement timeout" in last.text


def test_binary_declares_the_null_value_of_nullable_integers():
    root = assert_valid("VOTable.xsd", rendered("votable/b", maxrec=10))
    nulls = {f.get("name"): f.find(f"{NS}VALUES").get("null")
             for f in root.iter(f"{NS}FIELD") if f.find(f"{NS}VALUES") is not None}
    assert nulls == {"revol": str(-2**31), "n_events": str(-2**63), "mode": str(-2**15)}


def test_binary2_has_no_in_band_null_values():
    root = assert_valid("VOTable.xsd", rendered("votable/b2", maxrec=10))
    assert root.find(f".//{NS}VALUES") is None


def test_tabledata_writes_nulls_as_empty_cells_and_escapes_text():
    data = rendered("votable/td", maxrec=10)
    assert b"<TD>Cyg X-1 &amp; &lt;friends&gt;</TD>" in data
    null_row = data.split(b"<TR>")[3]
    assert null_row.count(b"<TD></TD>") == len(COLUMNS) - 1


def test_special_floats_and_control_characters_survive_tabledata():
    columns = [Column("x", "double"), Column("s", "char", "*")]
    rows = [(math.inf, "bell\x07"), (-math.inf, "ok"), (math.nan, "fine")]
    data = rendered("votable/td", columns, rows)
    assert_valid("VOTable.xsd", data)
    _, back = astropy_rows(data)
    assert back[0] == (math.inf, "bell\ufffd")
    assert back[1][0] == -math.inf and back[2][0] is None


def test_resource_params_infos_and_table_name_are_written():
    params = [(Column("maxrec", "int", description="the limit applied"), 5),
              (Column("note", "char", "*"), "a & <b>")]
    query = "SELECT * FROM integral.scw WHERE object = '@@HERA-ROWS@@' AND ra < 3"
    data = rendered("votable", maxrec=5, params=params, table_name="scw",
                    infos=[("QUERY", query, "the query\x02 as sent")],
                    description="INTEGRAL science windows")
    root = assert_valid("VOTable.xsd", data)
    resource = root.find(f"{NS}RESOURCE")
    assert [p.get("value") for p in resource.findall(f"{NS}PARAM")] == ["5", "a & <b>"]
    assert resource.find(f"{NS}TABLE").get("name") == "scw"
    assert [i.get("value") for i in resource.findall(f"{NS}INFO")] == ["OK", query]
    assert resource.findall(f"{NS}INFO")[1].text == "the query\ufffd as sent"
    assert astropy_rows(data)[1] == expected_rows()[:4]


def test_values_from_postgres_and_sqlite_are_converted():
    columns = [Column("n", "int"), Column("x", "double"), Column("s", "char", "8"),
               Column("b", "boolean")]
    rows = [(Decimal("7"), Decimal("2.5"), "short", 1), (3.0, 4, "toolongvalue", 0)]
    for fmt in SERIALIZATIONS:
        data = rendered(fmt, columns, rows)
        assert_valid("VOTable.xsd", data)
        assert astropy_rows(data)[1] == [(7, 2.5, "short", True), (3, 4.0, "toolongv", False)], fmt


@pytest.mark.parametrize("fmt", ["votable/b", "votable/b2"])
def test_a_value_that_does_not_fit_names_its_column(fmt):
    columns = [Column("revol", "int")]
    with pytest.raises(ValueError, match="revol"):
        rendered(fmt, columns, [("not a number",)])
    with pytest.raises(ValueError, match="revol"):
        rendered(fmt, columns, [(2**40,)])


def test_wrong_geometry_size_is_an_error():
    with pytest.raises(ValueError, match="pointing"):
        rendered("votable", [Column("pointing", "double", "2", xtype="point")], [("1 2 3",)])


def test_error_document_is_valid_and_says_why():
    data = formats.error_document("ADQL syntax error near <FROM> & \x01 co")
    root = assert_valid("VOTable.xsd", data)
    info = root.find(f"{NS}RESOURCE/{NS}INFO")
    assert root.find(f"{NS}RESOURCE").get("type") == "results"
    assert (info.get("name"), info.get("value")) == ("QUERY_STATUS", "ERROR")
    assert info.text == "ADQL syntax error near <FROM> & \ufffd co"
    table = parse_votable(io.BytesIO(data))
    assert table.resources[0].infos[0].value == "ERROR"


def test_error_document_may_carry_another_status():
    root = assert_valid("VOTable.xsd", formats.error_document("gone", query_status="ABORTED"))
    assert root.find(f"{NS}RESOURCE/{NS}INFO").get("value") == "ABORTED"


# --- CSV, TSV, JSON, FITS -----------------------------------------------------------

def text_form(column: Column, value) -> str:
    """The text CSV and TSV show: the cursor's value, not its float32 rounding."""
    value = value if column.datatype == "float" else expected(column, value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return " ".join(repr(v) for v in value)
    return repr(value) if isinstance(value, float) else str(value)


def test_csv_has_a_header_and_reads_back():
    data = rendered("text/csv", maxrec=100)
    assert data.startswith(b"scw_id,revol,ra,")
    assert b"\r\n" in data
    lines = list(csv.reader(io.StringIO(data.decode(), newline="")))
    assert lines[0] == [c.name for c in COLUMNS]
    assert lines[1:] == [[text_form(c, v) for c, v in zip(COLUMNS, row)] for row in ROWS]


def test_csv_numbers_read_back_by_astropy():
    columns, rows = COLUMNS[:7], [r[:7] for r in ROWS]
    table = Table.read(rendered("csv", columns, rows).decode(), format="ascii.csv")
    assert table.colnames == [c.name for c in columns]
    assert [plain(v) for v in table["ra"]] == [83.633, -0.0, None, 1e-300]
    assert [plain(v) for v in table["n_events"]] == [123456789012, -1, None, 2**63 - 1]


def test_tsv_escapes_tabs_and_reads_back():
    data = rendered("tsv", maxrec=100).decode()
    lines = data.split("\n")
    assert lines[-1] == ""
    header, *body = lines[:-1]
    assert header.split("\t") == [c.name for c in COLUMNS]
    unescape = {"\\t": "\t", "\\n": "\n", "\\r": "\r", "\\\\": "\\"}

    def cell(text):
        for k, v in unescape.items():
            text = text.replace(k, v)
        return text
    assert [[cell(x) for x in line.split("\t")] for line in body] == \
        [[text_form(c, v) for c, v in zip(COLUMNS, row)] for row in ROWS]
    assert "a\\tb,c\"d" in data


def test_json_layout_and_values():
    doc = json.loads(rendered("json", maxrec=100))
    assert list(doc) == ["metadata", "data"]
    assert [m["name"] for m in doc["metadata"]] == [c.name for c in COLUMNS]
    assert doc["metadata"][2] == {"name": "ra", "datatype": "double", "arraysize": None,
                                  "xtype": None, "unit": "deg", "ucd": "pos.eq.ra;meta.main",
                                  "utype": None, "description": "Right ascension"}
    want = [[list(v) if isinstance(v, tuple) else v for v in row] for row in expected_rows()]
    want[0][4] = 2000.5  # json keeps the double the cursor gave
    want[3][4] = 3.0e38
    assert doc["data"] == want


def test_json_writes_nan_and_infinity_as_null():
    doc = json.loads(rendered("json", [Column("x", "double")], [(math.nan,), (math.inf,), (1.5,)]))
    assert doc["data"] == [[None], [None], [1.5]]


def test_fits_binary_table_reads_back():
    data = rendered("fits", maxrec=100)
    assert len(data) % 2880 == 0
    with fits.open(io.BytesIO(data)) as hdus:
        header = hdus[1].header
        assert header["NAXIS2"] == len(ROWS)
        assert header["TUNIT3"] == "deg"
        assert header["TNULL2"] == -2**31
        assert header["TFORM14"].startswith("PD(")
    with fits.open(io.BytesIO(data), logical_as_bytes=True) as hdus:
        assert hdus[1].data["public"].tolist() == [b"T", b"F", b"", b"T"]  # the zero byte: NULL
    with pytest.warns(AstropyUserWarning, match="NULL"):
        table = Table.read(io.BytesIO(data), format="fits")
    rows = [tuple(plain(table[c.name][i]) for c in COLUMNS) for i in range(len(table))]
    want = expected_rows()
    want[2] = want[2][:7] + (False,) + want[2][8:]  # astropy reads the NULL logical as False
    assert rows == want


def test_fits_of_an_empty_result_is_valid():
    with fits.open(io.BytesIO(rendered("fits", rows=[], maxrec=10))) as hdus:
        assert hdus[1].header["NAXIS2"] == 0
        assert hdus[1].columns.names == [c.name for c in COLUMNS]


@pytest.mark.parametrize("fmt", ["csv", "tsv", "json", "fits"])
def test_other_formats_stop_at_maxrec(fmt):
    data = rendered(fmt, maxrec=2)
    if fmt == "json":
        assert len(json.loads(data)["data"]) == 2
    elif fmt == "fits":
        with fits.open(io.BytesIO(data)) as hdus:
            assert hdus[1].header["NAXIS2"] == 2
    else:
        assert data.count(b"\n") == 3


# --- streaming ----------------------------------------------------------------------

def endless_rows(consumed: list[int]):
    for i in count():
        consumed[0] = i + 1
        yield ROWS[i % 2]


@pytest.mark.parametrize("fmt", ["votable/b2", "votable/b", "votable/td", "csv", "tsv", "json"])
def test_bytes_leave_before_the_rows_are_all_read(fmt):
    consumed = [0]
    maxrec = 10_000_000
    chunks = render(lookup(fmt), COLUMNS, endless_rows(consumed), maxrec=maxrec)
    first = next(chunks)
    data_chunk = next(chunks)
    assert first and data_chunk
    assert consumed[0] < 10_000, "the first data chunk needed only the rows that fill it"
    chunks.close()


def test_fits_reads_all_rows_before_the_header_but_stops_at_maxrec():
    consumed = [0]
    chunks = render(formats.FITS, COLUMNS, endless_rows(consumed), maxrec=5000)
    header = next(chunks)
    assert header.startswith(b"SIMPLE  =")
    assert consumed[0] == 5000
    chunks.close()


def test_memory_stays_flat_whatever_the_row_count():
    def peak(n):
        rows = islice(endless_rows([0]), n)
        tracemalloc.start()
        for _ in render(formats.BINARY2, COLUMNS, rows, maxrec=n):
            pass
        peak_bytes = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak_bytes

    small, large = peak(1_000), peak(15_000)
    assert large < 2 * small + 200_000, (small, large)
    assert large < 2_000_000


# --- TAP_UPLOAD ---------------------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE><TABLE>
<FIELD name="s" datatype="char" arraysize="*"/>
<DATA><TABLEDATA><TR><TD>&lol9;</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE VOTABLE [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE><TABLE>
<FIELD name="s" datatype="char" arraysize="*"/>
<DATA><TABLEDATA><TR><TD>&secret;</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>
"""

REMOTE_STREAM = b"""<?xml version="1.0"?>
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3"><RESOURCE><TABLE>
<FIELD name="s" datatype="char" arraysize="*"/>
<DATA><BINARY2><STREAM href="file:///etc/passwd"/></BINARY2></DATA></TABLE></RESOURCE></VOTABLE>
"""


def test_upload_refuses_a_billion_laughs():
    with pytest.raises(UploadError, match="DOCTYPE"):
        read_upload(io.BytesIO(BILLION_LAUGHS), 1_000_000)


def test_upload_refuses_an_external_entity():
    with pytest.raises(UploadError, match="DOCTYPE") as err:
        read_upload(io.BytesIO(EXTERNAL_ENTITY), 1_000_000)
    assert "root:" not in str(err.value)


def test_upload_refuses_a_dtd_hidden_in_utf16():
    with pytest.raises(UploadError, match="DOCTYPE"):
        read_upload(io.BytesIO(EXTERNAL_ENTITY.decode().replace(
            'version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16")), 1_000_000)


def test_upload_refuses_a_stream_that_points_elsewhere():
    with pytest.raises(UploadError, match="href"):
        read_upload(io.BytesIO(REMOTE_STREAM), 1_000_000)


def test_upload_refuses_an_oversized_body():
    body = rendered("votable/td", rows=ROWS * 50)
    with pytest.raises(UploadError, match="larger than the limit of 1000 bytes"):
        read_upload(io.BytesIO(body), 1000)


def test_upload_refuses_what_is_not_a_votable():
    with pytest.raises(UploadError, match="well-formed"):
        read_upload(io.BytesIO(b"ra,dec\n1,2\n"), 1000)
    with pytest.raises(UploadError, match="not a VOTable"):
        read_upload(io.BytesIO(b"<html><body/></html>"), 1000)


def test_upload_reads_a_votable_written_by_astropy():
    table = Table({"source": ["Crab", "Vela"], "ra": [83.63, 128.8], "n": np.array([1, 2], "i4")})
    table["ra"].unit = "deg"
    buf = io.BytesIO()
    table.write(buf, format="votable")
    columns, rows = read_upload(io.BytesIO(buf.getvalue()), 100_000)
    assert [(c.name, c.datatype) for c in columns] == [
        ("source", "unicodeChar"), ("ra", "double"), ("n", "int")]
    assert columns[1].unit == "deg"
    assert rows == [("Crab", 83.63, 1), ("Vela", 128.8, 2)]


@pytest.mark.parametrize("fmt", SERIALIZATIONS)
def test_upload_reads_back_what_the_service_writes(fmt):
    columns, rows = read_upload(io.BytesIO(rendered(fmt)), 1_000_000)
    assert [(c.name, c.datatype, c.arraysize, c.xtype, c.unit, c.ucd) for c in columns] == \
        [(c.name, c.datatype, c.arraysize, c.xtype, c.unit, c.ucd) for c in COLUMNS]
    assert [tuple(plain(v) if not isinstance(v, tuple) else v for v in row) for row in rows] == \
        expected_rows()
