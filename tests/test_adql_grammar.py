"""The ADQL 2.1 parser against the IVOA validation queries, and its error reports.

Every ``<query>`` of ``tests/ivoa-adql-tests`` (a copy of ``../shared/ivoa-adql-tests``,
GPL-3.0 as its LICENSE says) is one test: the parser must accept it when
``<adql valid="true">`` and raise ADQLSyntaxError when ``valid="false"``.
User-defined functions declared in the file's or the query's ``<functions>`` are
passed to the parser, as a service would declare its own.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from tap_catalog.adql import ADQLSyntaxError, ast, parse

SUITE = Path(__file__).resolve().parent / "ivoa-adql-tests"


def _declared_functions(element) -> set[str]:
    names = set()
    functions = element.find("functions")
    if functions is not None:
        for form in functions.iter("form"):
            match = re.match(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*\(", form.text or "")
            if match:
                names.add(match.group(1))
    return names


def _cases():
    cases = []
    for path in sorted(SUITE.glob("*/*.xml")):
        root = etree.parse(str(path)).getroot()
        file_udfs = _declared_functions(root)
        for n, query in enumerate(root.iter("query")):
            adql = query.find("adql")
            udfs = file_udfs | _declared_functions(query)
            valid = adql.get("valid", "false") == "true"
            case_id = f"{path.parent.name}/{path.stem}#{n}-{query.get('uuid')[:8]}"
            cases.append(pytest.param(adql.text or "", valid, frozenset(udfs), id=case_id))
    return cases


CASES = _cases()


def test_the_suite_is_there():
    assert len(CASES) >= 484


@pytest.mark.parametrize("text, valid, udfs", CASES)
def test_ivoa_verdict(text, valid, udfs):
    if valid:
        assert isinstance(parse(text, udfs=udfs), ast.Query)
    else:
        with pytest.raises(ADQLSyntaxError):
            parse(text, udfs=udfs)
