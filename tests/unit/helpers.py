"""Helpers for the gp_client tests: a recording transport, a plain file host, servers."""

from __future__ import annotations

import functools
import json
import re
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Optional

import pytest

from arcgis_gp.gp_client.transport import RequestsTransport, Response
from tests.gpserver.federated import Organisation


class RecordingTransport(RequestsTransport):
    """The real requests transport, keeping a record of every request it sent."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def send(self, method: str, url: str, **kwargs: Any) -> Response:  # type: ignore[override]
        """Send through requests and record method, URL, headers, form data and status."""
        rec: dict[str, Any] = {
            "method": method, "url": url, "headers": dict(kwargs.get("headers") or {}),
            "params": dict(kwargs.get("params") or {}), "data": dict(kwargs.get("data") or {}),
            "status": None, "body": b"",
        }
        try:
            resp = super().send(method, url, **kwargs)
        except Exception as exc:
            rec["error"] = exc
            with self._lock:
                self.calls.append(rec)
            raise
        rec["status"] = resp.status
        rec["body"] = resp.body[:4000]
        with self._lock:
            self.calls.append(rec)
        return resp

    def matching(self, pattern: str, method: Optional[str] = None) -> list[dict[str, Any]]:
        """Recorded calls whose URL matches the regex (and method, when given)."""
        rx = re.compile(pattern)
        with self._lock:
            return [c for c in self.calls
                    if rx.search(c["url"]) and (method is None or c["method"] == method)]

    def clear(self) -> None:
        """Forget the record."""
        with self._lock:
            self.calls.clear()


@pytest.fixture()
def recording() -> Iterator[RecordingTransport]:
    """A fresh recording transport."""
    t = RecordingTransport()
    yield t
    t.close()


class _QuietHandler(SimpleHTTPRequestHandler):
    seen: list[dict[str, Any]]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Silence."""

    def do_GET(self) -> None:
        """Record the request's headers, then serve the file."""
        self.seen.append({"path": self.path, "headers": dict(self.headers)})
        super().do_GET()


class FileHost:
    """A plain HTTP file server on loopback (another origin than the GP server)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.seen: list[dict[str, Any]] = []
        handler = type("Handler", (_QuietHandler,), {"seen": self.seen})
        self._httpd = ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    def put(self, name: str, data: bytes) -> str:
        """Write a file and return its URL."""
        (self.root / name).write_bytes(data)
        return f"{self.url}/{name}"

    def stop(self) -> None:
        """Shut down."""
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(scope="module")
def file_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FileHost]:
    """A file server on its own port, for inputs by URL and cross-origin downloads."""
    host = FileHost(tmp_path_factory.mktemp("filehost"))
    yield host
    host.stop()


@pytest.fixture(scope="module")
def short_token_server(qgis_app: Any) -> Iterator[Any]:
    """A second reference server whose tokens live 1.5 s, whatever the client asks."""
    from tests.gpserver import GPServer

    srv = GPServer(port=0, token_lifetime=1.5)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()



@pytest.fixture(scope="module")
def org(qgis_app: Any) -> Iterator[Organisation]:
    """A portal with a federated server; tokens live as long as asked."""
    world = Organisation(None)
    yield world
    world.stop()


@pytest.fixture(scope="module")
def short_org(qgis_app: Any) -> Iterator[Organisation]:
    """A portal with a federated server whose tokens (all kinds) live 1.5 s."""
    world = Organisation(1.5)
    yield world
    world.stop()


def assert_not_in_urls(recording: RecordingTransport, secrets: list[str]) -> None:
    """No secret in any URL or query parameter the recording transport sent."""
    for call in recording.calls:
        where = call["url"] + json.dumps(call["params"])
        for s in secrets:
            assert s not in where, "a secret went into a URL"
