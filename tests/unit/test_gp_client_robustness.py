"""Retries, timeouts and bad answers, with faults injected into the reference server."""

from __future__ import annotations

from typing import Any

import pytest

from arcgis_gp.gp_client import GPClient, execute, submit
from arcgis_gp.gp_client.errors import (
    HTTPError,
    NetworkError,
    NotJSONError,
    ServerError,
)

pytestmark = pytest.mark.timeout(120)

SVC = r"/Demo/Analysis/GPServer(\?|$)"
POINT = {
    "geometryType": "esriGeometryPoint",
    "spatialReference": {"wkid": 4326},
    "features": [{"geometry": {"x": 2.0, "y": 49.0}, "attributes": {"OBJECTID": 1}}],
}


def _svc(srv: Any) -> str:
    return srv.services_url + "/Demo/Analysis/GPServer"


@pytest.mark.parametrize(("kind", "code"), [("status5xx", 502), ("status5xx", 503),
                                            ("status5xx", 504), ("drop", None)])
def test_get_retried_on_transient_failures(gpserver: Any, gpserver_faults: Any,
                                           recording: Any, kind: str, code: Any) -> None:
    """Two failures then success: the GET is retried and answers."""
    gpserver_faults.add(SVC, kind, count=2, **({"code": code} if code else {}))
    before = len(gpserver.faults.history)
    client = GPClient(transport=recording, backoff=0.01)
    body = client.get_json(_svc(gpserver))
    assert "Sleep" in body["tasks"]
    assert len(recording.matching(r"/Demo/Analysis/GPServer$")) == 3
    assert [h[0] for h in gpserver.faults.history[before:]] == [kind, kind]


def test_retries_are_bounded(gpserver: Any, gpserver_faults: Any, recording: Any) -> None:
    """A server that keeps failing: retries + 1 attempts, then HTTPError with the status."""
    gpserver_faults.add(SVC, "status5xx", count=None, code=503)
    client = GPClient(transport=recording, retries=2, backoff=0.01)
    with pytest.raises(HTTPError) as info:
        client.get_json(_svc(gpserver))
    assert info.value.status == 503
    assert "503" in str(info.value) and "try again later" in str(info.value)
    assert len(recording.calls) == 3


def test_no_retry_on_a_client_error_status(gpserver: Any, gpserver_faults: Any,
                                           recording: Any) -> None:
    """500 is not one of the retried statuses: one attempt."""
    gpserver_faults.add(SVC, "status5xx", count=None, code=500)
    client = GPClient(transport=recording, backoff=0.01)
    with pytest.raises(HTTPError) as info:
        client.get_json(_svc(gpserver))
    assert info.value.status == 500
    assert len(recording.calls) == 1


@pytest.mark.parametrize("op", ["submitJob", "execute"])
@pytest.mark.parametrize("kind", ["drop", "status5xx"])
def test_post_never_silently_repeated(gpserver: Any, gpserver_faults: Any, recording: Any,
                                      op: str, kind: str) -> None:
    """submitJob / execute failing on the way: one attempt, an error saying so."""
    service = "Demo/Analysis" if op == "submitJob" else "Demo/AnalysisSync"
    url = gpserver.task_url(service, "CopyFeatures")
    gpserver_faults.add(r"/CopyFeatures/" + op, kind, count=1)
    before = len(gpserver.faults.history)
    client = GPClient(transport=recording, backoff=0.01)
    run = submit if op == "submitJob" else execute
    error = NetworkError if kind == "drop" else HTTPError
    with pytest.raises(error) as info:
        run(client, url, {"Input_Features": POINT})
    assert len(recording.matching(op + "$", "POST")) == 1
    hits = [h for h in gpserver.faults.history[before:] if op in h[2]]
    assert len(hits) == 1
    if kind == "drop":
        assert "not repeated" in str(info.value)
        assert "the server may have received it" in str(info.value)


def test_html_answer(gpserver: Any, gpserver_faults: Any) -> None:
    """An HTML page: NotJSONError quoting it and the URL without the token."""
    gpserver_faults.add(SVC, "html", count=1)
    secret = "tok-THAT-must-not-show"
    with pytest.raises(NotJSONError) as info:
        GPClient().get_json(_svc(gpserver) + "?token=" + secret)
    err = info.value
    assert "Please sign in" in err.excerpt and "Please sign in" in str(err)
    assert "HTML" in str(err)
    assert err.url.startswith(_svc(gpserver))
    assert secret not in str(err) and secret not in err.url


def test_broken_json_answer(gpserver: Any, gpserver_faults: Any) -> None:
    """A truncated JSON body is asked for again; always truncated: NotJSONError saying so."""
    gpserver_faults.add(SVC, "broken_json", count=1)
    assert GPClient(backoff=0.01).get_json(_svc(gpserver))["tasks"]
    gpserver_faults.add(SVC, "broken_json", count=None)
    with pytest.raises(NotJSONError) as info:
        GPClient(backoff=0.01).get_json(_svc(gpserver))
    assert '{"' in info.value.excerpt and info.value.broken
    assert "cut short or garbled" in str(info.value)


def test_timeout_on_every_request(gpserver: Any, gpserver_faults: Any, recording: Any) -> None:
    """A slow answer: GETs time out (and are retried), POSTs time out once."""
    gpserver_faults.add(SVC, "delay", count=None, seconds=1.0)
    client = GPClient(transport=recording, timeout=0.3, retries=1, backoff=0.01)
    with pytest.raises(NetworkError) as info:
        client.get_json(_svc(gpserver))
    assert info.value.timeout and "within 0.3 s" in str(info.value)
    assert len(recording.calls) == 2
    gpserver_faults.clear()
    recording.clear()
    gpserver_faults.add(r"/Sleep/submitJob", "delay", count=1, seconds=1.0)
    with pytest.raises(NetworkError) as info:
        submit(client, gpserver.task_url("Demo/Analysis", "Sleep"), {"Seconds": 0})
    assert info.value.timeout and "not repeated" in str(info.value)
    assert len(recording.calls) == 1


def test_server_error_json(gpserver: Any) -> None:
    """HTTP 200 with {"error": ...}: ServerError with code, message and details."""
    with pytest.raises(ServerError) as info:
        GPClient().get_json(_svc(gpserver) + "/NoSuchTask")
    err = info.value
    assert err.code == 404 and err.message == "Task not found."
    assert err.details and "NoSuchTask" in err.details[0]
    assert "NoSuchTask" in str(err) and "/NoSuchTask" in err.url


def test_unreachable_server() -> None:
    """Nothing listening: NetworkError after the bounded retries, saying what to check."""
    with pytest.raises(NetworkError) as info:
        GPClient(retries=1, backoff=0.01).get_json("http://127.0.0.1:9/arcgis/rest/services")
    assert "Could not connect" in str(info.value) and "2 attempts" in str(info.value)
    assert "ConnectionRefused" in str(info.value) or "refused" in str(info.value)


def test_refused_submit_says_nothing_was_sent() -> None:
    """Connection refused: no job can have started, so the error must not suggest one did."""
    url = "http://127.0.0.1:9/arcgis/rest/services/Demo/Analysis/GPServer/Sleep"
    with pytest.raises(NetworkError) as info:
        submit(GPClient(backoff=0.01), url, {"Seconds": 1})
    assert info.value.sent is False
    assert "Nothing was sent" in str(info.value)
    assert "may have received" not in str(info.value)


def test_wait_survives_a_burst_of_failed_polls(gpserver: Any, gpserver_faults: Any,
                                               recording: Any) -> None:
    """Status requests failing more often than one GET retries: the wait goes on."""
    client = GPClient(transport=recording, retries=1, backoff=0.01)
    job = submit(client, gpserver.task_url("Demo/Analysis", "Sleep"), {"Seconds": 0.8})
    gpserver_faults.add(job.job_id + r"(\?|$)", "status5xx", count=3, code=503)
    gpserver_faults.add(job.job_id + r"(\?|$)", "drop", count=1)
    assert job.wait(deadline=60).succeeded
    assert job.results() == {"Slept": 0.8}
    failed = [c for c in recording.matching(job.job_id + "$")
              if c.get("error") or c["status"] == 503]
    assert len(failed) == 4


def test_wait_gives_up_after_repeated_failures(gpserver: Any, gpserver_faults: Any) -> None:
    """A job resource that never answers: the wait ends with the error, not a hang."""
    client = GPClient(retries=0, backoff=0.01)
    job = submit(client, gpserver.task_url("Demo/Analysis", "Sleep"), {"Seconds": 30})
    gpserver_faults.add(job.job_id + r"(\?|$)", "html", count=None, method="GET")
    try:
        with pytest.raises(NotJSONError):
            job.wait(deadline=60)
    finally:
        gpserver_faults.clear()
        job.cancel()
