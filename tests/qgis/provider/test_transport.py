"""The transport contract, checked on both transports against the reference server.

gp_client's RequestsTransport and the provider's QgisTransport must behave the same:
a Response for every HTTP answer whatever its status, params in the query string, form and
multipart bodies, headers both ways, ``stream_to``, and NetworkError (``timeout=True`` on a
timeout) when no answer comes. The QGIS one must also work from a worker thread and apply a
QGIS authentication configuration, only to the origins it is given.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from qgis.core import QgsNetworkAccessManager, QgsNetworkRequestParameters
from qgis.PyQt.QtCore import QCoreApplication

from arcgis_gp.gp_client.errors import NetworkError
from arcgis_gp.gp_client.transport import Response, Transport
from arcgis_gp.gp_client.urls import origin_of
from arcgis_gp.provider.qgis_transport import QgisTransport, site
from tests.qgis.provider.helpers import authcfg, demo_token, wait_until

pytestmark = pytest.mark.timeout(60)

SERVICES = "/arcgis/rest/services"
DEMO = "/arcgis/rest/services/Demo/Analysis/GPServer"
SECURE = "/arcgis/rest/services/Secure/Analysis/GPServer"
TOKENS = "/arcgis/tokens/generateToken"


@pytest.fixture()
def faults(gpserver_faults: Any) -> Any:
    """The server's faults, cleared around the test."""
    return gpserver_faults


# ---------------------------------------------------------------- the shared contract
def test_is_a_transport(transport: Transport) -> None:
    assert isinstance(transport, Transport)


def test_get_with_params(transport: Transport, gpserver_url: str) -> None:
    resp = transport.send("GET", gpserver_url + SERVICES, params={"f": "json"})
    assert isinstance(resp, Response)
    assert resp.status == 200
    assert resp.json()["folders"] == ["Demo", "Secure"]
    assert "json" in resp.header("content-type")
    assert resp.url.startswith(gpserver_url + SERVICES)
    assert "f=json" in resp.url


def test_params_are_added_to_an_existing_query(transport: Transport, gpserver_url: str) -> None:
    resp = transport.send("GET", gpserver_url + DEMO + "?f=json", params={"x": "1"})
    assert resp.status == 200
    assert resp.json()["executionType"] == "esriExecutionTypeAsynchronous"


def test_post_form(transport: Transport, gpserver_url: str) -> None:
    resp = transport.send(
        "POST", gpserver_url + TOKENS,
        data={"username": "demo", "password": "demo-password", "f": "json",
              "client": "requestip"})
    assert resp.status == 200
    assert resp.json()["token"]


def test_post_form_rejected_credentials(transport: Transport, gpserver_url: str) -> None:
    resp = transport.send("POST", gpserver_url + TOKENS,
                          data={"username": "demo", "password": "wrong", "f": "json"})
    assert resp.status == 200
    assert "error" in resp.json()


def test_multipart_upload(transport: Transport, gpserver_url: str) -> None:
    payload = bytes(range(256)) * 40  # binary, with every byte value
    resp = transport.send(
        "POST", gpserver_url + DEMO + "/uploads/upload",
        data={"f": "json", "description": "contract ünïcode"},
        files={"file": ("sample.bin", io.BytesIO(payload), "application/octet-stream")})
    body = resp.json()
    assert resp.status == 200, body
    item = body["item"]
    assert item["itemName"] == "sample.bin"
    assert item["size"] == len(payload)
    assert item["description"] == "contract ünïcode"


def test_request_headers_are_sent(transport: Transport, gpserver_url: str) -> None:
    url = gpserver_url + SECURE
    without = transport.send("GET", url, params={"f": "json"})
    assert without.json()["error"]["code"] == 499
    headers = {"X-Esri-Authorization": f"Bearer {demo_token(gpserver_url)}"}
    with_token = transport.send("GET", url, params={"f": "json"}, headers=headers)
    assert "BufferFeatures" in with_token.json()["tasks"]


def test_stream_to_writes_the_body(transport: Transport, gpserver_url: str,
                                   tmp_path: Path) -> None:
    target = tmp_path / "services.json"
    resp = transport.send("GET", gpserver_url + SERVICES, params={"f": "json"},
                          stream_to=str(target))
    assert resp.status == 200
    assert resp.body == b""
    assert json.loads(target.read_text(encoding="utf-8"))["folders"] == ["Demo", "Secure"]


def test_stream_to_of_an_error_status(transport: Transport, gpserver_url: str, faults: Any,
                                      tmp_path: Path) -> None:
    faults.add(r"/Demo/Analysis/GPServer\?", "status5xx", code=502)
    target = tmp_path / "error.html"
    resp = transport.send("GET", gpserver_url + DEMO, params={"f": "json"},
                          stream_to=str(target))
    assert resp.status == 502
    assert target.stat().st_size > 0


def test_stream_to_times_out(transport: Transport, gpserver_url: str, faults: Any,
                             tmp_path: Path) -> None:
    faults.add(r"/Demo/Analysis/GPServer\?", "delay", seconds=3.0)
    with pytest.raises(NetworkError) as caught:
        transport.send("GET", gpserver_url + DEMO, params={"f": "json"}, timeout=0.5,
                       stream_to=str(tmp_path / "x"))
    assert caught.value.timeout is True


@pytest.mark.parametrize("code", [500, 503])
def test_http_error_status_is_a_response(transport: Transport, gpserver_url: str, faults: Any,
                                         code: int) -> None:
    faults.add(r"/Demo/Analysis/GPServer\?", "status5xx", code=code)
    n = len(faults.history)
    resp = transport.send("GET", gpserver_url + DEMO, params={"f": "json"})
    assert resp.status == code, (faults.history[n:], faults.active())


def test_error_after_success_on_the_same_url(transport: Transport, gpserver_url: str,
                                             faults: Any) -> None:
    # QGIS caches GET answers on disk; a later error must not come back with the old status
    first = transport.send("GET", gpserver_url + DEMO, params={"f": "json"})
    assert first.status == 200
    faults.add(r"/Demo/Analysis/GPServer\?", "status5xx", code=503)
    second = transport.send("GET", gpserver_url + DEMO, params={"f": "json"})
    assert second.status == 503
    assert b"executionType" not in second.body
    third = transport.send("GET", gpserver_url + DEMO, params={"f": "json"})
    assert third.status == 200 and third.json()["executionType"]


def test_html_answer_is_a_response(transport: Transport, gpserver_url: str,
                                   faults: Any) -> None:
    faults.add(r"/Demo/Analysis/GPServer\?", "html")
    resp = transport.send("GET", gpserver_url + DEMO, params={"f": "json"})
    assert resp.status == 200
    assert "html" in resp.header("Content-Type").lower()
    assert b"<" in resp.body


def test_timeout_raises_network_error(transport: Transport, gpserver_url: str,
                                      faults: Any) -> None:
    faults.add(r"/Demo/Analysis/GPServer\?", "delay", seconds=3.0)
    with pytest.raises(NetworkError) as caught:
        transport.send("GET", gpserver_url + DEMO, params={"f": "json"}, timeout=0.5)
    assert caught.value.timeout is True
    assert "127.0.0.1" in str(caught.value)


def test_dropped_connection_raises_network_error(transport: Transport, gpserver_url: str,
                                                 faults: Any) -> None:
    # Every attempt is dropped: Qt itself re-sends a request once or twice when the
    # connection closes before any answer, so a single drop would not reach QgisTransport.
    faults.add(r"/Demo/Analysis/GPServer\?", "drop", count=None)
    with pytest.raises(NetworkError) as caught:
        transport.send("GET", gpserver_url + DEMO, params={"f": "json"}, timeout=10)
    assert caught.value.timeout is False
    assert caught.value.sent is True  # sent; the answer never came


def test_refused_connection_raises_network_error(transport: Transport) -> None:
    with pytest.raises(NetworkError) as caught:
        transport.send("GET", "http://127.0.0.1:9/arcgis/rest/services", timeout=5)
    assert caught.value.timeout is False
    assert caught.value.sent is False  # no connection, nothing sent


def test_refused_post_says_nothing_was_sent(transport: Transport) -> None:
    """A refused submitJob did not start a job: the error must not say it may have."""
    from arcgis_gp.gp_client import GPClient

    client = GPClient(transport=transport)
    url = "http://127.0.0.1:9/arcgis/rest/services/Demo/Analysis/GPServer/Sleep/submitJob"
    with pytest.raises(NetworkError) as caught:
        client.post_json(url, {"Seconds": "1"})
    text = str(caught.value)
    assert "Nothing was sent" in text and "no task was started" in text, text
    assert "may have received" not in text


def test_dropped_post_says_the_server_may_have_it(transport: Transport, gpserver_url: str,
                                                  faults: Any) -> None:
    from arcgis_gp.gp_client import GPClient

    faults.add(r"/Sleep/submitJob", "drop", count=None)
    with pytest.raises(NetworkError) as caught:
        GPClient(transport=transport).post_json(gpserver_url + DEMO + "/Sleep/submitJob",
                                                {"Seconds": "0"})
    assert "the server may have received it" in str(caught.value)
    assert "Nothing was sent" not in str(caught.value)


def test_error_text_holds_no_token(transport: Transport) -> None:
    with pytest.raises(NetworkError) as caught:
        transport.send("GET", "http://127.0.0.1:9/x", params={"token": "s3cr3t-t0ken"},
                       timeout=5)
    assert "s3cr3t-t0ken" not in str(caught.value)


# ---------------------------------------------------------------- QGIS-only behaviour
def _send_in_a_thread(url: str, **kwargs: Any) -> dict[str, Any]:
    """GET ``url`` with a new QgisTransport in a worker thread: {"resp": ...} or {"error": ...}."""
    found: dict[str, Any] = {}

    def work() -> None:
        try:
            found["resp"] = QgisTransport().send("GET", url, params={"f": "json"}, **kwargs)
        except Exception as err:  # noqa: BLE001 - reported by the caller's assertion
            found["error"] = err

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(30)
    return found


def test_qgis_transport_from_a_worker_thread(gpserver_url: str) -> None:
    found = _send_in_a_thread(gpserver_url + SERVICES)
    assert "error" not in found, found.get("error")
    assert found["resp"].json()["folders"] == ["Demo", "Secure"]


def test_qgis_transport_streams_from_a_worker_thread(gpserver_url: str,
                                                     tmp_path: Path) -> None:
    target = tmp_path / "services.json"
    found = _send_in_a_thread(gpserver_url + SERVICES, stream_to=str(target))
    assert "error" not in found, found.get("error")
    assert found["resp"].status == 200
    assert json.loads(target.read_text(encoding="utf-8"))["folders"] == ["Demo", "Secure"]


def test_many_requests_in_background_tasks_keep_their_replies(gpserver_url: str) -> None:
    """Connection tests one after another in QgsTasks: every request gets a live reply.

    A reply freed by a later request's event loop once came back, for the next request,
    as "wrapped C/C++ object of type QNetworkReply has been deleted" (one run in four).
    """
    from qgis.core import QgsApplication

    from arcgis_gp.provider.connections import Connection
    from arcgis_gp.provider.provider import RefreshTask

    connection = Connection(name="local", url=gpserver_url + SERVICES)
    outcomes = []
    for _ in range(20):
        task = RefreshTask([connection], None)
        done: list[bool] = []
        task.done.append(lambda done=done: done.append(True))
        QgsApplication.taskManager().addTask(task)
        assert wait_until(lambda done=done: bool(done), 60)
        outcomes.append(task.outcome.get("local"))
    assert outcomes == [None] * 20


@pytest.fixture()
def esri_token_authcfg(gpserver_url: str) -> Iterator[str]:
    """A QGIS 'EsriToken' authentication configuration holding a valid token."""
    with authcfg("EsriToken", token=demo_token(gpserver_url)) as config_id:
        yield config_id


def test_qgis_transport_applies_authcfg(gpserver_url: str, esri_token_authcfg: str) -> None:
    transport = QgisTransport(esri_token_authcfg, auth_origins=[gpserver_url])
    resp = transport.send("GET", gpserver_url + SECURE, params={"f": "json"})
    assert "BufferFeatures" in resp.json()["tasks"]


def test_qgis_transport_applies_authcfg_when_streaming(gpserver_url: str,
                                                       esri_token_authcfg: str,
                                                       tmp_path: Path) -> None:
    target = tmp_path / "secure.json"
    transport = QgisTransport(esri_token_authcfg, auth_origins=[gpserver_url])
    resp = transport.send("GET", gpserver_url + SECURE, params={"f": "json"},
                          stream_to=str(target))
    assert resp.status == 200
    assert "BufferFeatures" in json.loads(target.read_text(encoding="utf-8"))["tasks"]


def test_qgis_transport_keeps_authcfg_to_its_origins(gpserver_url: str,
                                                     esri_token_authcfg: str) -> None:
    transport = QgisTransport(esri_token_authcfg, auth_origins=["https://elsewhere.example"])
    assert not transport.applies_auth(gpserver_url + SECURE)
    resp = transport.send("GET", gpserver_url + SECURE, params={"f": "json"})
    assert resp.json()["error"]["code"] == 499


def test_origin_makes_default_ports_explicit() -> None:
    assert origin_of("https://Host.example/a") == "https://host.example:443"
    assert origin_of("http://host.example:8080/x") == "http://host.example:8080"


def test_sites_for_authcfg() -> None:
    assert site("https://www.arcgis.com/sharing/rest") == "arcgis.com"
    assert site("https://org.maps.arcgis.com/sharing/rest") == "arcgis.com"
    assert site("https://gis.esri.co.uk/portal") == "esri.co.uk"
    assert site("http://127.0.0.1:8080/arcgis") == "127.0.0.1"
    transport = QgisTransport("abc1234", auth_origins=["https://www.arcgis.com"],
                              auth_sites=[site("https://www.arcgis.com")])
    assert transport.applies_auth("https://www.arcgis.com/sharing/rest/portals/self")
    assert transport.applies_auth("https://analysis.arcgis.com/arcgis/rest/services/tasks")
    assert not transport.applies_auth("http://analysis.arcgis.com/arcgis/rest/services")
    assert not transport.applies_auth("https://arcgis.com.evil.example/x")
    assert not transport.applies_auth("https://results.s3.amazonaws.com/out.tif")
    assert not QgisTransport("").applies_auth("https://www.arcgis.com/")


def test_qgis_requests_reach_the_network_logger(gpserver_url: str, tmp_path: Path) -> None:
    """What QGIS's network logger listens to sees every request, streamed or not."""
    seen: list[str] = []

    def got(request: Any) -> None:
        seen.append(request.request().url().toString())

    signal = QgsNetworkAccessManager.instance().requestAboutToBeCreated[
        QgsNetworkRequestParameters]
    signal.connect(got)
    try:
        transport = QgisTransport()
        transport.send("GET", gpserver_url + SERVICES, params={"f": "json"})
        transport.send("GET", gpserver_url + DEMO, params={"f": "json"},
                       stream_to=str(tmp_path / "demo.json"))
        QCoreApplication.processEvents()  # other threads' managers forward it queued
    finally:
        signal.disconnect(got)
    assert any(u.startswith(gpserver_url + SERVICES + "?") for u in seen), seen
    assert any(u.startswith(gpserver_url + DEMO + "?") for u in seen), seen
