"""HTTP plumbing: request parsing (GET, urlencoded and multipart POST), responses, faults."""

from __future__ import annotations

import html
import json
import socket
import sys
import time
import traceback
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from .errors import RestError


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes


@dataclass
class Request:
    """A parsed request: query and form values merged (form wins), names case-insensitive."""

    method: str
    path: str
    raw_path: str
    params: dict[str, str]
    files: dict[str, UploadedFile]
    headers: Any
    base_url: str

    def get(self, name: str, default: str | None = None) -> str | None:
        """Return a parameter value by name, ignoring case."""
        if name in self.params:
            return self.params[name]
        low = name.lower()
        for key, value in self.params.items():
            if key.lower() == low:
                return value
        return default

    def has(self, name: str) -> bool:
        """True if the parameter was sent."""
        return self.get(name) is not None

    @property
    def f(self) -> str:
        """The response format asked for (``html`` when not given, as ArcGIS Server does)."""
        return (self.get("f") or "html").strip().lower()

    @property
    def token(self) -> str | None:
        """The token from the form/query or the ``X-Esri-Authorization: Bearer`` header."""
        value = self.get("token")
        if value:
            return value
        for header in ("X-Esri-Authorization", "Authorization"):
            auth = self.headers.get(header) or ""
            if auth.lower().startswith("bearer "):
                return auth[7:].strip() or None
        return None


@dataclass
class Response:
    """What a route answers: JSON (formatted by ``f``) or raw bytes."""

    body: Any = None
    raw: bytes | None = None
    content_type: str = "application/json; charset=utf-8"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    title: str = ""


def _parse_multipart(
    content_type: str, body: bytes
) -> tuple[dict[str, str], dict[str, UploadedFile]]:
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    fields: dict[str, str] = {}
    files: dict[str, UploadedFile] = {}
    if not message.is_multipart():
        raise RestError(400, "Unable to complete operation.", ["Malformed multipart body."])
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        filename = part.get_filename()
        payload = part.get_payload(decode=True) or b""
        if filename is not None:
            files[name] = UploadedFile(filename, part.get_content_type(), payload)
        else:
            charset = part.get_content_charset() or "utf-8"
            fields[name] = payload.decode(charset, errors="replace")
    return fields, files


def render(req_f: str, resp: Response) -> tuple[bytes, str]:
    """Return (body bytes, content type) for a response and the asked format."""
    if resp.raw is not None:
        return resp.raw, resp.content_type
    if req_f == "json":
        return json.dumps(resp.body, separators=(",", ":")).encode("utf-8"), resp.content_type
    if req_f == "pjson":
        return json.dumps(resp.body, indent=2).encode("utf-8"), "text/plain; charset=utf-8"
    title = html.escape(resp.title or "ArcGIS REST Services Directory")
    text = (
        "<!DOCTYPE html><html><head><title>" + title + "</title></head><body>"
        "<h2>" + title + "</h2>"
        "<p>This is the HTML view of the reference server. Ask for <code>f=json</code> or "
        "<code>f=pjson</code> to get JSON.</p><pre>"
        + html.escape(json.dumps(resp.body, indent=2))
        + "</pre></body></html>"
    )
    return text.encode("utf-8"), "text/html; charset=utf-8"


class Handler(BaseHTTPRequestHandler):
    """Turns HTTP requests into ``Request`` objects for the router, applying faults first."""

    protocol_version = "HTTP/1.1"
    server_version = "gpserver/1.0"
    # Headers and body go out in separate writes; without TCP_NODELAY, Nagle's algorithm and
    # delayed ACKs hold the body back about 40 ms on every answer.
    disable_nagle_algorithm = True
    server: GPHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Log only when the server is verbose (tokens never appear: they are not logged)."""
        if self.server.gp.verbose:
            sys.stderr.write("gpserver: " + (format % args).split("?", 1)[0] + "\n")

    def do_GET(self) -> None:
        """Handle GET."""
        self._handle("GET")

    def do_POST(self) -> None:
        """Handle POST."""
        self._handle("POST")

    def do_HEAD(self) -> None:
        """Handle HEAD like GET without a body."""
        self._handle("HEAD")

    # ---------------------------------------------------------------------------------------
    def _handle(self, method: str) -> None:
        gp = self.server.gp
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        # the control API stays reachable whatever faults are armed
        fault = None if self.path.startswith("/_control/") else gp.faults.take(method, self.path)
        if fault is not None:
            if fault.kind == "delay":
                time.sleep(fault.seconds)
            elif fault.kind == "drop":
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            elif fault.kind == "status5xx":
                page = (
                    f"<html><head><title>{fault.code} Error</title></head><body>"
                    f"<h1>{fault.code} Error</h1><p>Injected by the reference server.</p>"
                    "</body></html>"
                ).encode()
                self._send(fault.code, page, "text/html; charset=utf-8", method)
                return
            elif fault.kind == "html":
                page = (
                    b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>"
                    b"<h1>Please sign in</h1><form><input name='user'></form>"
                    b"<p>(An HTML page injected by the reference server.)</p></body></html>"
                )
                self._send(fault.code, page, "text/html; charset=utf-8", method)
                return
        request: Request | None = None
        try:
            request = self._request(method, body)
            resp = gp.router.dispatch(request)
        except RestError as exc:
            request_f = request.f if request is not None else "json"
            resp = Response(exc.to_json(), status=exc.http_status, title="Error")
            payload, ctype = render(request_f, resp)
            self._finish(resp, payload, ctype, method, fault)
            return
        except Exception as exc:  # noqa: BLE001 - answer 500 JSON instead of a dropped socket
            traceback.print_exc()
            err = RestError(500, "Internal server error.", [f"{type(exc).__name__}: {exc}"])
            payload, ctype = render("json", Response(err.to_json()))
            self._finish(Response(err.to_json()), payload, ctype, method, fault)
            return
        payload, ctype = render(request.f, resp)
        self._finish(resp, payload, ctype, method, fault)

    def _finish(self, resp: Response, payload: bytes, ctype: str, method: str, fault: Any) -> None:
        if fault is not None and fault.kind == "broken_json":
            payload = payload[: max(1, len(payload) // 2)] + b'{"'
            ctype = "application/json; charset=utf-8"
        self._send(resp.status, payload, ctype, method, resp.headers)

    def _send(
        self,
        status: int,
        payload: bytes,
        ctype: str,
        method: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Cache-Control", "no-cache")
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _request(self, method: str, body: bytes) -> Request:
        split = urlsplit(self.path)
        params: dict[str, str] = dict(parse_qsl(split.query, keep_blank_values=True))
        files: dict[str, UploadedFile] = {}
        ctype = self.headers.get("Content-Type") or ""
        if method == "POST" and body:
            if ctype.lower().startswith("multipart/form-data"):
                fields, files = _parse_multipart(ctype, body)
                params.update(fields)
            else:
                charset = "utf-8"
                params.update(
                    parse_qsl(body.decode(charset, errors="replace"), keep_blank_values=True)
                )
        host = self.headers.get("Host") or self.server.gp.host_port
        path = unquote(split.path)
        if len(path) > 1:
            path = path.rstrip("/")
        return Request(method, path, self.path, params, files, self.headers, f"http://{host}")


class GPHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that knows its GPServer."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], gp: Any) -> None:
        self.gp = gp
        super().__init__(address, Handler)
