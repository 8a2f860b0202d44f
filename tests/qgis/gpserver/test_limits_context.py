"""The reference server at its limits: maximumRecords, context processSR and extent."""

from __future__ import annotations

from typing import Any

import pytest

from tests.gpserver.client import Rest
from tests.gpserver.limited import LIMITED_MAX_RECORDS
from tests.qgis.gpserver.helpers import points, polygon_area, task

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def rest(gpserver_url: str) -> Rest:
    """A client without token."""
    return Rest(gpserver_url)


def test_service_publishes_its_small_limit(rest: Rest) -> None:
    """Demo/Limited says maximumRecords 5; Demo/Legacy reports 10.5.1."""
    limited = rest.get(f"{rest.base_url}/arcgis/rest/services/Demo/Limited/GPServer")
    assert limited["maximumRecords"] == LIMITED_MAX_RECORDS
    assert "SlowCopy" in limited["tasks"]
    legacy = rest.get(f"{rest.base_url}/arcgis/rest/services/Demo/Legacy/GPServer")
    assert legacy["currentVersion"] == 10.51


@pytest.mark.parametrize("count, kept", [(LIMITED_MAX_RECORDS, True),
                                         (LIMITED_MAX_RECORDS + 1, False)])
def test_result_over_max_records_is_refused_whole(rest: Rest, count: int, kept: bool) -> None:
    """At the limit every feature comes back; one more and none does, flagged."""
    status = rest.run(task(rest, "Demo/Limited", "CopyFeatures"),
                      {"Input_Features": points(count)})
    assert status["jobStatus"] == "esriJobSucceeded"
    out = status["values"]["Output_Features"]
    assert len(out["features"]) == (count if kept else 0)
    assert out["exceededTransferLimit"] is (not kept)
    assert out["geometryType"] == "esriGeometryPoint"


def test_slow_copy_fails_on_a_matching_feature(rest: Rest) -> None:
    """Fail_Where makes the job fail at once, naming the feature."""
    status = rest.run(task(rest, "Demo/Limited", "SlowCopy"),
                      {"Input_Features": points(3), "Seconds": 5, "Fail_Where": "Name = 'p2'"})
    assert status["jobStatus"] == "esriJobFailed"
    errors = [m["description"] for m in status["messages"] if m["type"].endswith("Error")]
    assert any("p2" in e and "Name = 'p2'" in e for e in errors), errors


def _buffer_area(rest: Rest, service: str, extra: dict[str, Any]) -> float:
    status = rest.run(task(rest, service, "BufferFeatures"),
                      {"Input_Features": points(1),
                       "Distance": {"distance": 100, "units": "esriKilometers"}, **extra})
    assert status["jobStatus"] == "esriJobSucceeded", status["messages"]
    return polygon_area(status["values"]["Output_Features"]["features"][0]["geometry"])


def test_process_sr_in_context_changes_the_buffer(rest: Rest) -> None:
    """Buffered in Web Mercator (processSR 3857) at 50 N, 100 km covers cos(50)^2 of UTM's."""
    utm = _buffer_area(rest, "Demo/Analysis", {})
    mercator = _buffer_area(rest, "Demo/Analysis", {"context": {"processSR": {"wkid": 3857}}})
    assert mercator / utm == pytest.approx(0.643 ** 2, rel=0.05)


def test_legacy_server_reads_env_process_sr_and_ignores_context(rest: Rest) -> None:
    """Before 10.6.1: env:processSR is honoured, context is not."""
    utm = _buffer_area(rest, "Demo/Legacy", {})
    env = _buffer_area(rest, "Demo/Legacy", {"env:processSR": "3857"})
    ignored = _buffer_area(rest, "Demo/Legacy", {"context": {"processSR": {"wkid": 3857}}})
    assert env / utm == pytest.approx(0.643 ** 2, rel=0.05)
    assert ignored == pytest.approx(utm, rel=1e-6)


def test_extent_in_context_limits_the_features(rest: Rest) -> None:
    """Only the features inside context.extent (here given in 3857) are processed."""
    extent = {"xmin": 1100000, "ymin": 6400000, "xmax": 1125000, "ymax": 6500000,
              "spatialReference": {"wkid": 3857}}  # 9.88..10.1 E around 50 N
    status = rest.run(task(rest, "Demo/Analysis", "CopyFeatures"),
                      {"Input_Features": points(10), "context": {"extent": extent}})
    names = [f["attributes"]["Name"] for f in status["values"]["Output_Features"]["features"]]
    assert names == ["p1", "p2"]
    assert any("2 of 10 feature(s)" in m["description"] for m in status["messages"])
