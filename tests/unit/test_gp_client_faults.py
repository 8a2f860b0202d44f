"""gp_client through tests/faultproxy.py: jobs and results survive what networks do.

The proxy counts what reached the server, so that a job submitted once and a wait that
survived a restart are asserted. A server that is down mid-job costs a bounded,
logged wait (``Job.patience``), never the job; a sign-in page is a clear error at once.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from arcgis_gp.gp_client import GPClient, execute, submit
from arcgis_gp.gp_client.errors import HTTPError, JobCancelledError, NetworkError, NotJSONError

pytestmark = pytest.mark.timeout(120)

SLEEP = "/arcgis/rest/services/Demo/Analysis/GPServer/Sleep"
STATUS = r"/jobs/[^/?]+\?"  # a job's status request (not its results)
RESULT = r"/jobs/[^/]+/results/"


def _submit(proxy: Any, seconds: float) -> Any:
    client = GPClient(backoff=0.05)
    return submit(client, proxy.url + SLEEP, {"Seconds": seconds})


def _unanswered(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "does not answer" in r.getMessage()]


def test_wait_survives_a_server_restart(faultproxy: Any,
                                        caplog: pytest.LogCaptureFixture) -> None:
    job = _submit(faultproxy, 1.0)
    faultproxy.add(STATUS, "down", seconds=15)
    with caplog.at_level(logging.INFO, logger="arcgis_gp.gp_client"):
        status = job.wait()
    assert status.succeeded
    assert job.results()["Slept"] == pytest.approx(1.0)
    assert faultproxy.count(r"/submitJob$", "POST") == 1
    assert ("down", "GET", f"{SLEEP}/jobs/{job.job_id}") in faultproxy.applied
    assert len(_unanswered(caplog)) == 1, caplog.text
    assert job.job_id in _unanswered(caplog)[0]


def test_wait_gives_up_after_its_patience_saying_where_the_job_is(faultproxy: Any) -> None:
    job = _submit(faultproxy, 30)
    job.patience = 2.0
    faultproxy.add(STATUS, "down", seconds=600)
    with pytest.raises(NetworkError) as caught:
        job.wait()
    text = str(caught.value)
    assert job.job_id in text and job.url in text
    assert "may still be running" in text and "twice" in text
    assert faultproxy.count(r"/submitJob$", "POST") == 1


def test_cancel_works_while_the_server_is_down(faultproxy: Any) -> None:
    job = _submit(faultproxy, 30)
    faultproxy.add(STATUS, "down", seconds=600)
    asked = time.monotonic() + 2.0
    with pytest.raises(JobCancelledError) as caught:
        job.wait(should_cancel=lambda: time.monotonic() > asked)
    assert "cancel request failed" in str(caught.value)


@pytest.mark.parametrize("kind", ["status", "cut", "garble", "reset"])
def test_wait_survives_bad_status_answers(faultproxy: Any, kind: str) -> None:
    job = _submit(faultproxy, 0.5)
    faultproxy.add(STATUS, kind, count=4, code=502)
    assert job.wait().succeeded
    assert job.results()["Slept"] == pytest.approx(0.5)
    assert sum(1 for k, _, _ in faultproxy.applied if k == kind) == 4


def test_results_survive_a_server_restart(faultproxy: Any) -> None:
    job = _submit(faultproxy, 0)
    assert job.wait().succeeded
    faultproxy.add(RESULT, "down", seconds=8)
    assert job.results()["Slept"] == 0
    assert faultproxy.count(RESULT) == 1


@pytest.mark.parametrize("kind", ["cut", "garble", "status"])
def test_results_survive_bad_answers(faultproxy: Any, kind: str, tmp_path: Any) -> None:
    job = _submit(faultproxy, 0)
    assert job.wait().succeeded
    faultproxy.add(RESULT, kind, count=2, code=504)
    assert job.results()["Slept"] == 0
    faultproxy.add(RESULT, kind, count=2, code=504)
    path = job.result_to_file("Slept", tmp_path / "slept.json")
    assert b'"paramName":"Slept"' in path.read_bytes().replace(b" ", b"")


def test_a_sign_in_page_is_a_clear_error_not_retried_forever(faultproxy: Any) -> None:
    job = _submit(faultproxy, 30)
    faultproxy.add(STATUS, "signin", count=None)
    with pytest.raises(NotJSONError) as caught:
        job.wait()
    assert "sign-in page" in str(caught.value) and job.job_id in str(caught.value)
    assert sum(1 for k, _, _ in faultproxy.applied if k == "signin") <= 2
    job.cancel()


# ---------------------------------------------------------------- POSTs: sent once, told truly
SYNC_COPY = "/arcgis/rest/services/Demo/AnalysisSync/GPServer/CopyFeatures"
POINT = {"geometryType": "esriGeometryPoint", "spatialReference": {"wkid": 4326},
         "fields": [], "features": [{"geometry": {"x": 2.0, "y": 49.0}, "attributes": {}}]}


def test_a_reset_submit_job_is_sent_once_and_its_fate_told(faultproxy: Any) -> None:
    faultproxy.add(r"/submitJob$", "reset")
    with pytest.raises(NetworkError) as caught:
        _submit(faultproxy, 0)
    assert faultproxy.count(r"/submitJob$", "POST") == 1
    text = str(caught.value)
    assert "may have received it and started a job of task Sleep" in text
    assert "services/<service>.GPServer/jobs" in text and "twice" in text
    assert caught.value.sent is True and "Nothing was sent" not in text


def test_a_submit_job_to_a_server_that_is_down_says_nothing_was_sent(faultproxy: Any) -> None:
    faultproxy.refuse(600)
    with pytest.raises(NetworkError) as caught:
        _submit(faultproxy, 0)
    assert "Nothing was sent" in str(caught.value) and caught.value.sent is False
    assert faultproxy.count(r"/submitJob$") == 0


@pytest.mark.parametrize("kind", ["cut", "garble", "status"])
def test_a_submit_job_answer_cut_garbled_or_a_gateway_page_is_not_sent_again(
        faultproxy: Any, kind: str) -> None:
    faultproxy.add(r"/submitJob$", kind, keep=0.5, code=504, forward=True)
    with pytest.raises((NetworkError, NotJSONError, HTTPError)) as caught:
        _submit(faultproxy, 0)
    assert faultproxy.count(r"/submitJob$", "POST") == 1
    assert "started a job of task Sleep" in str(caught.value)
    assert "twice" in str(caught.value)


def test_execute_never_outlasts_its_stated_timeout(faultproxy: Any) -> None:
    # The answer trickles in for about 6 s: each byte comes well within the read timeout,
    # but the execute as a whole was given 1 s.
    faultproxy.add(r"/execute$", "slow", seconds=6)
    client = GPClient(execute_timeout=1)
    with pytest.raises(NetworkError) as caught:
        execute(client, faultproxy.url + SYNC_COPY, {"Input_Features": POINT})
    text = str(caught.value)
    assert caught.value.timeout and "within 1 s" in text, text
    assert "may be running task CopyFeatures" in text and "twice" in text
    assert faultproxy.count(r"/execute$", "POST") == 1


def test_a_reset_upload_is_sent_once(faultproxy: Any, tmp_path: Any) -> None:
    path = tmp_path / "input.txt"
    path.write_bytes(b"x" * 100_000)
    faultproxy.add(r"/uploads/upload$", "reset")
    client = GPClient()
    with pytest.raises(NetworkError) as caught:
        client.upload(faultproxy.url + "/arcgis/rest/services/Demo/Analysis/GPServer", path)
    assert faultproxy.count(r"/uploads/upload$", "POST") == 1
    assert "no task was started" in str(caught.value)


# ---------------------------------------------------------------- GETs: survived
def test_a_description_that_hangs_once_is_asked_again(faultproxy: Any) -> None:
    faultproxy.add(r"/GPServer/Sleep\?", "hang", seconds=5)
    body = GPClient(timeout=1, backoff=0.05).get_json(faultproxy.url + SLEEP)
    assert body["name"] == "Sleep"
    assert [k for k, _, _ in faultproxy.applied] == ["hang"]
    assert faultproxy.count(r"/GPServer/Sleep$") == 1  # the hung one never reached it


def test_slow_status_answers_are_waited_for(faultproxy: Any) -> None:
    job = _submit(faultproxy, 0.5)
    faultproxy.add(STATUS, "slow", count=3, seconds=1.0)
    assert job.wait().succeeded
    assert sum(1 for k, _, _ in faultproxy.applied if k == "slow") >= 1
