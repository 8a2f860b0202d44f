"""Fault injection: delay, drop, 5xx, HTML page, broken JSON; counts, methods, clearing."""

from __future__ import annotations

import http.client
import json
import urllib.error
from typing import Any

import pytest

from tests.gpserver.client import Rest
from tests.gpserver.faults import parse_spec

pytestmark = pytest.mark.timeout(60)

INFO = "/arcgis/rest/info"


@pytest.fixture()
def rest(gpserver_url: str) -> Rest:
    """Anonymous client."""
    return Rest(gpserver_url)


def test_status5xx_then_normal(rest: Rest, gpserver_faults: Any) -> None:
    """count=2: two 503 HTML answers, then the real one."""
    gpserver_faults.add(r"/arcgis/rest/info", "status5xx", 2, code=503)
    for _ in range(2):
        raw = rest.raw(INFO)
        assert raw.status == 503
        assert raw.headers["Content-Type"].startswith("text/html")
    assert rest.raw(INFO).json()["currentVersion"]
    assert gpserver_faults.active() == []


def test_drop_connection(rest: Rest, gpserver_faults: Any) -> None:
    """drop: the connection closes without an answer."""
    gpserver_faults.add(r"/submitJob", "drop")
    with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
        rest.raw("/arcgis/rest/services/Demo/Analysis/GPServer/Sleep/submitJob",
                 {"Seconds": 0}, method="POST")
    assert rest.get(INFO)["currentVersion"]


def test_html_page(rest: Rest, gpserver_faults: Any) -> None:
    """html: HTTP 200 with an HTML sign-in page instead of JSON."""
    gpserver_faults.add(r"/info\b", "html")
    raw = rest.raw(INFO)
    assert raw.status == 200 and raw.headers["Content-Type"].startswith("text/html")
    assert raw.body.lstrip().startswith(b"<!DOCTYPE html>")


def test_broken_json(rest: Rest, gpserver_faults: Any) -> None:
    """broken_json: a JSON content type whose body does not parse."""
    gpserver_faults.add(r"/info\b", "broken_json")
    raw = rest.raw(INFO)
    assert raw.status == 200 and raw.headers["Content-Type"].startswith("application/json")
    with pytest.raises(ValueError):
        json.loads(raw.body)


def test_delay_then_normal_answer(rest: Rest, gpserver_faults: Any) -> None:
    """delay: the answer is the real one (only later)."""
    gpserver_faults.add(r"/info\b", "delay", seconds=0.2)
    assert rest.get(INFO)["currentVersion"]
    assert gpserver_faults.active() == []


def test_method_filter_and_persistent_fault(rest: Rest, gpserver_faults: Any) -> None:
    """method=POST leaves GET alone; count=None stays until cleared; regex sees the query."""
    gpserver_faults.add(r"/info\?.*f=json", "status5xx", None, code=502, method="POST")
    assert rest.raw(INFO).status == 200
    assert rest.raw(INFO, {"a": 1}, method="POST").status == 200  # f=json is in the body
    for _ in range(3):
        assert rest.raw(INFO + "?f=json", method="POST", f=None).status == 502
    gpserver_faults.clear()
    assert rest.raw(INFO + "?f=json", method="POST", f=None).status == 200


def test_bad_fault_arguments(gpserver_faults: Any) -> None:
    """Unknown kinds and bad codes are refused with a clear message."""
    with pytest.raises(ValueError, match="unknown fault kind"):
        gpserver_faults.add(".*", "explode")
    with pytest.raises(ValueError, match="500 and 599"):
        gpserver_faults.add(".*", "status5xx", code=404)


@pytest.mark.parametrize(
    "spec, expected",
    [
        ("drop@/submitJob", {"kind": "drop", "path_regex": "/submitJob"}),
        ("status5xx,count=2,code=502@/jobs/j[0-9a-f]+$",
         {"kind": "status5xx", "count": 2, "code": 502, "path_regex": "/jobs/j[0-9a-f]+$"}),
        ("delay,seconds=1.5,count=*,method=GET@info",
         {"kind": "delay", "seconds": 1.5, "count": None, "method": "GET", "path_regex": "info"}),
    ],
)
def test_cli_fault_specs(spec: str, expected: dict[str, Any]) -> None:
    """The --fault syntax."""
    assert parse_spec(spec) == expected


@pytest.mark.parametrize("spec", ["drop", "drop,colour=red@x", ",@x"])
def test_cli_fault_spec_errors(spec: str) -> None:
    """Malformed specs say what is wrong."""
    with pytest.raises(ValueError):
        parse_spec(spec)
