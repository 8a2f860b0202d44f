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

from arcgis_gp.gp_client import GPClient, submit
from arcgis_gp.gp_client.errors import JobCancelledError, NetworkError, NotJSONError

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
