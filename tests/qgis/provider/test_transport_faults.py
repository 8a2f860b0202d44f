"""Both transports against the network as it fails, through tests/faultproxy.py.

The proxy counts what reached the server, so "sent once" is asserted: a POST whose
connection is reset after the server got it must not be sent again (Qt re-sent it by
itself before), and the error must say it may have arrived. An answer cut short is an
error on both transports, even when its status line arrived whole.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from qgis.core import QgsNetworkAccessManager

from arcgis_gp.gp_client.errors import NetworkError
from arcgis_gp.gp_client.transport import Transport
from arcgis_gp.provider.qgis_transport import QgisTransport

pytestmark = pytest.mark.timeout(60)

SERVICE = "/arcgis/rest/services/Demo/Analysis/GPServer"
SLEEP = SERVICE + "/Sleep"


def _warm(transport: Transport, proxy: Any) -> None:
    """One answered GET first, so that the POST goes out on a kept-alive connection."""
    assert transport.send("GET", proxy.url + SLEEP, params={"f": "json"}).status == 200


def test_post_reset_after_the_server_got_it_is_sent_once(transport: Transport,
                                                          faultproxy: Any) -> None:
    _warm(transport, faultproxy)
    faultproxy.add(r"/submitJob$", "reset")
    with pytest.raises(NetworkError) as caught:
        transport.send("POST", faultproxy.url + SLEEP + "/submitJob",
                       data={"f": "json", "Seconds": "0.1"})
    assert faultproxy.count(r"/submitJob$", "POST") == 1
    assert caught.value.sent is True
    assert "after the request was sent" in str(caught.value)


def test_upload_reset_after_the_server_got_it_is_sent_once(transport: Transport,
                                                            faultproxy: Any) -> None:
    _warm(transport, faultproxy)
    faultproxy.add(r"/uploads/upload$", "reset")
    payload = io.BytesIO(b"x" * 300_000)
    with pytest.raises(NetworkError) as caught:
        transport.send("POST", faultproxy.url + SERVICE + "/uploads/upload",
                       data={"f": "json"}, files={"file": ("a.bin", payload, "")})
    assert faultproxy.count(r"/uploads/upload$", "POST") == 1
    assert caught.value.sent is True


def test_post_to_a_refusing_server_says_nothing_was_sent(transport: Transport,
                                                         faultproxy: Any) -> None:
    faultproxy.refuse(30)
    with pytest.raises(NetworkError) as caught:
        transport.send("POST", faultproxy.url + SLEEP + "/submitJob",
                       data={"f": "json"}, timeout=5)
    assert caught.value.sent is False
    assert faultproxy.count(r"/submitJob$") == 0
    assert str(caught.value).startswith("Could not connect to ")


def test_post_answered_after_a_fault_free_warm_up_is_sent_once(transport: Transport,
                                                               faultproxy: Any) -> None:
    _warm(transport, faultproxy)
    resp = transport.send("POST", faultproxy.url + SLEEP + "/submitJob",
                          data={"f": "json", "Seconds": "0"})
    assert resp.status == 200 and resp.json()["jobId"]
    assert faultproxy.count(r"/submitJob$", "POST") == 1


@pytest.mark.parametrize("stream", [False, True], ids=["memory", "stream_to"])
def test_answer_cut_short_is_an_error(transport: Transport, faultproxy: Any, stream: bool,
                                      tmp_path: Path) -> None:
    faultproxy.add(r"/Sleep\?", "cut", keep=0.4)
    target = str(tmp_path / "body") if stream else None
    with pytest.raises(NetworkError) as caught:
        transport.send("GET", faultproxy.url + SLEEP, params={"f": "json"}, stream_to=target)
    assert caught.value.sent is True
    assert "cut short" in str(caught.value)
    assert faultproxy.count(r"/Sleep$") == 1


def test_gateway_page_is_a_response(transport: Transport, faultproxy: Any) -> None:
    faultproxy.add(r"/Sleep\?", "status", code=502)
    resp = transport.send("GET", faultproxy.url + SLEEP, params={"f": "json"})
    assert resp.status == 502 and b"Bad Gateway" in resp.body
    assert faultproxy.count(r"/Sleep$") == 0


def test_hang_times_out_and_states_the_figure(transport: Transport, faultproxy: Any) -> None:
    faultproxy.add(r"/submitJob$", "hang", forward=True, seconds=20)
    with pytest.raises(NetworkError) as caught:
        transport.send("POST", faultproxy.url + SLEEP + "/submitJob",
                       data={"f": "json", "Seconds": "0"}, timeout=1.5)
    assert caught.value.timeout is True
    assert "1.5 s" in str(caught.value)
    assert faultproxy.count(r"/submitJob$") == 1


def test_qgis_network_timeout_does_not_cut_a_longer_request_timeout(
        faultproxy: Any, gpserver_faults: Any) -> None:
    # A synchronous execute may run for minutes: the request's own timeout is the one that
    # applies, not QGIS's network timeout (Settings > Options > Network, 60 s by default).
    gpserver_faults.add(r"/CopyFeatures/execute", "delay", seconds=2.5)
    url = faultproxy.url + "/arcgis/rest/services/Demo/AnalysisSync/GPServer/CopyFeatures"
    previous = QgsNetworkAccessManager.timeout()
    QgsNetworkAccessManager.setTimeout(1000)
    try:
        resp = QgisTransport().send("POST", url + "/execute", data={"f": "json"}, timeout=30)
    finally:
        QgsNetworkAccessManager.setTimeout(previous)
    assert resp.status == 200, resp.body[:300]
    assert faultproxy.count(r"/execute$") == 1
