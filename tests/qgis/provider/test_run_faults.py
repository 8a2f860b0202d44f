"""Runs in QGIS through tests/faultproxy.py: never a job twice, never a job lost.

The proxy counts what reached the server: a submitJob whose connection is reset after
the server got it is not sent again (Qt used to re-send it silently, and the run
"succeeded" with the task run twice), and the user is told what that means; a server
that restarts mid-job costs a wait, not the job; a synchronous execute gets its
connection's own timeout, not QGIS's network timeout.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from qgis.core import QgsNetworkAccessManager, QgsProcessingException

from arcgis_gp.provider.cache import DescriptionCache
from arcgis_gp.provider.connections import ENV_VAR, ConnectionStore
from arcgis_gp.provider.provider import GpProvider

from .helpers import RecordingFeedback, point_layer, registered, run, run_in_task

pytestmark = pytest.mark.timeout(180)

ASYNC = "arcgisgp:px_demo_analysis_"
SYNC = "arcgisgp:px_demo_analysissync_"
STATUS = r"/jobs/[^/?]+\?"


def _provider(proxy: Any, cache: Path, **options: Any) -> Iterator[GpProvider]:
    entry = {"name": "px", "url": proxy.url + "/arcgis/rest/services", **options}
    store = ConnectionStore(f"arcgis_gp_tests/{uuid.uuid4().hex}/connections",
                            environ={ENV_VAR: json.dumps([entry])})
    with registered(GpProvider(store, DescriptionCache(cache), fetch_missing=True)) as provider:
        yield provider


@pytest.fixture()
def via_proxy(qgis_processing: Any, faultproxy: Any, tmp_path: Path) -> Iterator[GpProvider]:
    """The provider with one connection 'px' to the reference server through the proxy."""
    yield from _provider(faultproxy, tmp_path)


@pytest.fixture()
def short_execute(qgis_processing: Any, faultproxy: Any, tmp_path: Path
                  ) -> Iterator[GpProvider]:
    """As via_proxy, the connection allowing a synchronous execute 1 s."""
    yield from _provider(faultproxy, tmp_path, execute_timeout=1)


def test_a_reset_submit_job_is_not_sent_again_and_the_user_is_told(
        via_proxy: GpProvider, faultproxy: Any) -> None:
    faultproxy.add(r"/submitJob$", "reset")
    with pytest.raises(QgsProcessingException) as caught:
        run(ASYNC + "sleep", {"Seconds": 0.1})
    assert faultproxy.count(r"/submitJob$", "POST") == 1
    text = str(caught.value)
    assert "may have received it and started a job of task Sleep" in text, text
    assert "twice" in text and "Nothing was sent" not in text


def test_a_job_survives_a_server_restart(via_proxy: GpProvider, faultproxy: Any) -> None:
    faultproxy.add(STATUS, "down", seconds=12)
    feedback = RecordingFeedback()
    ok, results, _ = run_in_task(ASYNC + "sleep", {"Seconds": 1}, feedback)
    assert ok, feedback.lines
    assert float(results["Slept"]) == pytest.approx(1.0)
    assert faultproxy.count(r"/submitJob$", "POST") == 1
    assert any(kind == "down" for kind, _, _ in faultproxy.applied)


def test_a_synchronous_execute_outlives_qgis_network_timeout(
        via_proxy: GpProvider, faultproxy: Any, gpserver_faults: Any) -> None:
    gpserver_faults.add(r"/CopyFeatures/execute", "delay", seconds=2.5)
    previous = QgsNetworkAccessManager.timeout()
    QgsNetworkAccessManager.setTimeout(1000)
    try:
        result = run(SYNC + "copyfeatures", {"Input_Features": point_layer([(2, 49, "a")]),
                                             "Output_Features": "TEMPORARY_OUTPUT"})
    finally:
        QgsNetworkAccessManager.setTimeout(previous)
    assert result["Output_Features"]
    assert faultproxy.count(r"/execute$", "POST") == 1


def test_the_execute_timeout_of_the_connection_applies_and_is_stated(
        short_execute: GpProvider, faultproxy: Any, gpserver_faults: Any) -> None:
    gpserver_faults.add(r"/CopyFeatures/execute", "delay", seconds=4)
    with pytest.raises(QgsProcessingException) as caught:
        run(SYNC + "copyfeatures", {"Input_Features": point_layer([(2, 49, "a")]),
                                    "Output_Features": "TEMPORARY_OUTPUT"})
    text = str(caught.value)
    assert "within 1 s" in text, text
    assert "may be running task CopyFeatures" in text and "twice" in text
    assert faultproxy.count(r"/execute$", "POST") == 1
