"""Jobs against the reference server: waits, every terminal status, cancel, messages, context."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from arcgis_gp.gp_client import GPClient, execute, submit
from arcgis_gp.gp_client.errors import (
    BadInputError,
    DeadlineError,
    JobCancelledError,
    JobDeletedError,
    JobError,
    JobFailedError,
    JobTimedOutError,
    ServerError,
)
from arcgis_gp.gp_client.jobs import Context, Job, Message, PollSchedule

pytestmark = pytest.mark.timeout(120)

POINT = {
    "geometryType": "esriGeometryPoint",
    "spatialReference": {"wkid": 4326},
    "fields": [{"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID"}],
    "features": [{"geometry": {"x": 2.0, "y": 49.0}, "attributes": {"OBJECTID": 1}}],
}


def _sleep_url(srv: Any) -> str:
    return srv.task_url("Demo/Analysis", "Sleep")


def _statuses(recording: Any, job: Job) -> list[str]:
    """The jobStatus of every status answer the client received for this job."""
    out = []
    for call in recording.matching(job.job_id + r"$", "GET"):
        out.append(json.loads(call["body"])["jobStatus"])
    return out


def test_wait_returns_results_messages_once_and_progress(gpserver: Any, recording: Any) -> None:
    """A 1.2 s Sleep: each message delivered once and in order, progress rising, result."""
    client = GPClient(transport=recording)
    job = submit(client, _sleep_url(gpserver), {"Seconds": 1.2})
    assert job.last_status is not None and job.last_status.status == "esriJobSubmitted"
    seen: list[Message] = []
    percents: list[float] = []
    answers: list = []
    status = job.wait(deadline=30, on_message=seen.append,
                      on_progress=lambda p: percents.append(p.percent), on_status=answers.append)
    assert status.succeeded and status.is_terminal
    assert seen == list(status.messages)  # every message, once, in order
    assert len({id(m) for m in seen}) == len(seen)
    assert any("Slept 1 of 1.2 seconds" in m.description for m in seen)
    assert percents and percents == sorted(percents)
    assert job.results() == {"Slept": 1.2}
    states = _statuses(recording, job)
    assert states[-1] == "esriJobSucceeded"
    assert [a.status for a in answers] == states  # on_status: every answer, the last too
    assert set(states[:-1]) <= {"esriJobSubmitted", "esriJobExecuting"}
    assert "esriJobExecuting" in states[:-1]  # the wait went on through Executing


@pytest.mark.parametrize(
    ("outcome", "error", "fragment"),
    [("Failed", JobFailedError, "Sleep was asked to fail"),
     ("TimedOut", JobTimedOutError, "timed out"),
     ("Deleted", JobDeletedError, "deleted")],
)
def test_every_terminal_status_ends_the_wait(gpserver: Any, outcome: str,
                                             error: type[JobError], fragment: str) -> None:
    """esriJobFailed, esriJobTimedOut and esriJobDeleted each end the wait with their error."""
    client = GPClient()
    job = submit(client, _sleep_url(gpserver), {"Seconds": 0.2, "Outcome": outcome})
    with pytest.raises(error) as info:
        job.wait(deadline=30)
    err = info.value
    assert fragment in str(err)
    assert err.job_id == job.job_id
    assert err.status == {"Failed": "esriJobFailed", "TimedOut": "esriJobTimedOut",
                          "Deleted": "esriJobDeleted"}[outcome]
    assert job.last_status is not None and job.last_status.is_terminal


def test_job_timed_out_by_the_service_limit(gpserver: Any) -> None:
    """A job running past the service's maximum time ends esriJobTimedOut, with its message."""
    client = GPClient()
    gpserver.set_max_job_seconds(0.3, "Demo/Analysis")
    try:
        job = submit(client, _sleep_url(gpserver), {"Seconds": 5})
        with pytest.raises(JobTimedOutError) as info:
            job.wait(deadline=30)
    finally:
        gpserver.set_max_job_seconds(3600.0)
    assert "maximum time" in str(info.value)


def test_cancel_from_elsewhere_ends_the_wait(gpserver: Any) -> None:
    """A job cancelled by another client ends the wait with JobCancelledError."""
    client = GPClient()
    job = submit(client, _sleep_url(gpserver), {"Seconds": 30})
    other = Job.from_url(GPClient(), job.url)
    timer = threading.Timer(0.3, other.cancel)
    timer.start()
    try:
        with pytest.raises(JobCancelledError) as info:
            job.wait(deadline=30)
    finally:
        timer.cancel()
    assert info.value.status == "esriJobCancelled"
    assert "cancelled on the server" in str(info.value)


def test_should_cancel_reaches_the_server(gpserver: Any) -> None:
    """should_cancel() -> the server job is cancelled, JobCancelledError raised."""
    client = GPClient()
    job = submit(client, _sleep_url(gpserver), {"Seconds": 30})
    calls = {"n": 0}

    def should_cancel() -> bool:
        calls["n"] += 1
        return calls["n"] > 10

    with pytest.raises(JobCancelledError) as info:
        job.wait(deadline=30, should_cancel=should_cancel)
    assert "at your request" in str(info.value)
    again = Job.from_url(GPClient(), job.url).status()
    assert again.status == "esriJobCancelled"
    assert again.messages[-1].description == "Cancel complete."


def test_should_cancel_is_checked_during_long_pauses(gpserver: Any) -> None:
    """With 5 s between polls, a cancel asked for at once is acted on before the next poll."""
    client = GPClient()
    job = submit(client, _sleep_url(gpserver), {"Seconds": 30})
    calls = {"n": 0, "requests_before_cancel": -1}

    def should_cancel() -> bool:
        calls["n"] += 1
        if calls["n"] >= 5:
            calls["requests_before_cancel"] = job.requests
            return True
        return False

    with pytest.raises(JobCancelledError):
        job.wait(deadline=60, should_cancel=should_cancel,
                 schedule=PollSchedule(first=5.0, ceiling=5.0))
    assert calls["n"] == 5
    # no status request happened before the cancel: it came within the first 5 s pause
    assert calls["requests_before_cancel"] == 0
    assert job.last_status is not None and job.last_status.status in (
        "esriJobCancelling", "esriJobCancelled")


def test_deadline(gpserver: Any) -> None:
    """Past the deadline: DeadlineError naming the job; the job keeps running."""
    client = GPClient()
    job = submit(client, _sleep_url(gpserver), {"Seconds": 30})
    try:
        with pytest.raises(DeadlineError) as info:
            job.wait(deadline=0.4)
        assert info.value.job_id == job.job_id
        assert job.url in str(info.value)
        assert job.status().status == "esriJobExecuting"
    finally:
        job.cancel()


def test_always_fails_surfaces_the_server_message(gpserver: Any) -> None:
    """AlwaysFails: JobFailedError carrying the server's error text."""
    client = GPClient()
    url = gpserver.task_url("Demo/Analysis", "AlwaysFails")
    job = submit(client, url, {"Message": "Disk quota exceeded on node 7"})
    with pytest.raises(JobFailedError) as info:
        job.wait(deadline=30)
    err = info.value
    assert "Disk quota exceeded on node 7" in str(err)
    assert "Disk quota exceeded on node 7" in err.error_messages
    assert any(m.description == "About to fail, as asked." for m in err.messages)
    with pytest.raises(JobError, match="no results"):
        job.results()


def test_reattach_from_url(gpserver: Any) -> None:
    """A job URL is enough to wait for the job and read its results later."""
    job = submit(GPClient(), _sleep_url(gpserver), {"Seconds": 0.3})
    again = Job.from_url(GPClient(), job.url)
    assert again.wait(deadline=30).succeeded
    assert again.results() == {"Slept": 0.3}


def test_sync_failure_is_a_job_failure(gpserver: Any) -> None:
    """execute answering the server's error -> JobFailedError with its details."""
    url = gpserver.task_url("Demo/AnalysisSync", "BufferFeatures")
    empty = dict(POINT, features=[])
    with pytest.raises(JobFailedError) as info:
        execute(GPClient(), url, {"Input_Features": empty,
                                  "Distance": {"distance": 1, "units": "esriMeters"}})
    assert "ERROR 000117" in str(info.value)
    assert any("ERROR 000117" in m for m in info.value.error_messages)
    assert isinstance(info.value.__cause__, ServerError)


def test_wrong_operation_is_a_server_error(gpserver: Any) -> None:
    """submitJob on a synchronous service: the server's error, code and details."""
    url = gpserver.task_url("Demo/AnalysisSync", "CopyFeatures")
    with pytest.raises(ServerError) as info:
        submit(GPClient(), url, {"Input_Features": POINT})
    assert info.value.code == 400
    assert any("synchronous" in d for d in info.value.details)


def test_bad_task_url() -> None:
    """A URL that is not a task is refused before any request."""
    with pytest.raises(BadInputError, match="not a GP task URL"):
        submit(GPClient(), "http://127.0.0.1:9/arcgis/rest/services", {})


@pytest.mark.parametrize(("version", "field"), [(None, "context"), ("10.5", "env:outSR")])
def test_context_out_sr_by_server_version(gpserver: Any, recording: Any, version: Any,
                                          field: str) -> None:
    """outSR goes as `context` (10.6.1+, here 10.91) or env:outSR (older); output reprojected."""
    client = GPClient(transport=recording)
    url = gpserver.task_url("Demo/AnalysisSync", "CopyFeatures")
    result = execute(client, url, {"Input_Features": POINT}, context=Context(out_sr=3857),
                     current_version=version, return_z=True)
    sent = recording.matching(r"/execute$", "POST")[-1]["data"]
    assert field in sent
    assert ("context" in sent) == (field == "context")
    assert sent["returnZ"] == "true"
    out = result.outputs["Output_Features"]
    assert out["spatialReference"]["wkid"] in (3857, 102100)
    x = out["features"][0]["geometry"]["x"]
    assert x == pytest.approx(222638.98, rel=1e-4)


def test_async_context_and_service_version_lookup(gpserver: Any, recording: Any) -> None:
    """With no version given, the client asks the service for currentVersion once."""
    client = GPClient(transport=recording)
    url = gpserver.task_url("Demo/Analysis", "CopyFeatures")
    for _ in range(2):
        job = submit(client, url, {"Input_Features": POINT}, context=Context(out_sr=3857))
        job.wait(deadline=30)
        out = job.results()["Output_Features"]
        assert out["features"][0]["geometry"]["x"] == pytest.approx(222638.98, rel=1e-4)
    assert len(recording.matching(r"/Demo/Analysis/GPServer$", "GET")) == 1


def test_sync_bad_parameter_is_a_server_error(gpserver: Any) -> None:
    """execute refusing a parameter value (400): ServerError, as submitJob would raise."""
    url = gpserver.task_url("Demo/AnalysisSync", "BufferFeatures")
    with pytest.raises(ServerError) as info:
        execute(GPClient(), url, {"Input_Features": POINT, "Distance": "5 Parsecs"})
    assert not isinstance(info.value, JobFailedError)
    assert info.value.code == 400
    assert any("Distance" in d for d in info.value.details)
