"""A fault-injecting HTTP proxy on loopback, between a client and the reference server.

It fails the way networks and servers do, and counts what reached the server, so that
tests can assert "sent once" and "survived" instead of assuming them::

    with FaultProxy(gpserver.url) as proxy:
        proxy.add(r"/submitJob$", "reset")          # forwarded, then the client is reset
        ...run a job against proxy.url...
        assert proxy.count(r"/submitJob$", "POST") == 1

The client talks to ``proxy.url``; the proxy passes the ``Host`` header through, so the
URLs the server writes into its answers (result files, job URLs) lead back through it.
Each request is forwarded on a new connection to the server; the client's own connection
is kept alive as HTTP/1.1 allows (that is what makes Qt re-send a POST after a reset).

Fault kinds (``add(path_regex, kind, count=1, ...)``; ``count=None`` for every match):

- ``reset``: forwarded (the server acts on it), then the client's connection is reset
  (TCP RST) before any byte of the answer;
- ``reset_unsent``: the client's connection is reset, nothing is forwarded;
- ``cut``: forwarded; the answer's head (with its true Content-Length) and the first
  ``keep`` fraction of its body are sent, then the connection is closed;
- ``garble``: forwarded; the answer keeps its length but its second half is junk;
- ``status``: not forwarded (``forward=True``: forwarded first); answered ``code`` (502,
  503, 504...) with an HTML page, as a gateway does;
- ``signin``: not forwarded; answered 200 with an HTML sign-in page (a proxy or SSO);
- ``hang``: not forwarded (``forward=True``: forwarded first); no answer for ``seconds``,
  then the connection is closed;
- ``slow``: forwarded; the answer trickles out over about ``seconds``;
- ``down``: not forwarded; the client is reset and the proxy refuses every connection for
  ``seconds`` (a server restarting), as ``refuse(seconds)`` does on demand;
- ``replace``: forwarded; the answer's body is replaced by ``body`` (a server publishing
  a broken description).
"""

from __future__ import annotations

import http.client
import re
import select
import socket
import struct
import threading
import time
from dataclasses import dataclass
from typing import Any, Optional
from urllib.parse import urlsplit

KINDS = ("reset", "reset_unsent", "cut", "garble", "status", "signin", "hang", "slow", "down",
         "replace")
_HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "te", "trailer",
        "upgrade", "content-length"}

SIGNIN_PAGE = (b"<!DOCTYPE html><html><head><title>Sign In</title></head><body>"
               b"<h1>Sign in to continue</h1><form method=\"post\" action=\"/login\">"
               b"<input name=\"username\"><input name=\"password\" type=\"password\">"
               b"<button>Sign in</button></form></body></html>")


def gateway_page(code: int) -> bytes:
    """The HTML page a gateway answers with (as nginx writes it)."""
    reason = http.client.responses.get(code, "Error")
    return (f"<html>\r\n<head><title>{code} {reason}</title></head>\r\n<body>\r\n<center><h1>"
            f"{code} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n"
            "</html>\r\n").encode()


@dataclass
class Rule:
    """One armed fault."""

    pattern: re.Pattern[str]
    kind: str
    count: Optional[int] = 1
    method: Optional[str] = None
    code: int = 503
    seconds: float = 1.0
    keep: float = 0.5
    forward: bool = False
    body: bytes = b""
    hits: int = 0

    def matches(self, method: str, target: str) -> bool:
        """Whether this rule applies to a request (and has uses left)."""
        if self.count is not None and self.hits >= self.count:
            return False
        if self.method is not None and self.method != method:
            return False
        return bool(self.pattern.search(target))


@dataclass(frozen=True)
class Seen:
    """A request that reached the server: method, path (no query) and the query string."""

    method: str
    path: str
    query: str


class FaultProxy:
    """The proxy (see the module docstring). Thread-safe; start/stop or use ``with``."""

    def __init__(self, upstream: str, host: str = "127.0.0.1", port: int = 0) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.host = host
        self.port = port
        self.forwarded: list[Seen] = []  # every request that reached the server, in order
        self.applied: list[tuple[str, str, str]] = []  # (kind, method, path) of faults used
        self._rules: list[Rule] = []
        self._lock = threading.Lock()
        self._listener: Optional[socket.socket] = None
        self._down_until = 0.0
        self._stopping = threading.Event()
        self._clients: set[socket.socket] = set()
        self._thread: Optional[threading.Thread] = None

    # ------------------------------------------------------------------ control
    @property
    def url(self) -> str:
        """``http://host:port`` of the proxy."""
        return f"http://{self.host}:{self.port}"

    def start(self) -> FaultProxy:
        """Start listening (``port`` 0 picks a free one)."""
        self._listen()
        self._thread = threading.Thread(target=self._serve, name="faultproxy", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening and close every connection."""
        self._stopping.set()
        self._drop_clients()
        if self._thread is not None:
            self._thread.join(5)
        self._close_listener()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def add(self, path_regex: str, kind: str, count: Optional[int] = 1, *,
            method: Optional[str] = None, code: int = 503, seconds: float = 1.0,
            keep: float = 0.5, forward: bool = False, body: bytes = b"") -> Rule:
        """Arm a fault for the next ``count`` requests whose path and query match."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; use one of {', '.join(KINDS)}")
        rule = Rule(re.compile(path_regex), kind, count, method.upper() if method else None,
                    code, float(seconds), float(keep), forward, body)
        with self._lock:
            self._rules.append(rule)
        return rule

    def clear(self) -> None:
        """Disarm every fault and forget what was counted."""
        with self._lock:
            self._rules.clear()
            self.forwarded.clear()
            self.applied.clear()

    def count(self, path_regex: str, method: Optional[str] = None) -> int:
        """How many requests whose path matches reached the server."""
        pattern = re.compile(path_regex)
        with self._lock:
            return sum(1 for s in self.forwarded if pattern.search(s.path)
                       and (method is None or s.method == method.upper()))

    def refuse(self, seconds: float) -> None:
        """Refuse every connection for ``seconds`` (open ones are reset): a restart."""
        with self._lock:
            self._down_until = max(self._down_until, time.monotonic() + seconds)
        self._close_listener()
        self._drop_clients()

    @property
    def is_down(self) -> bool:
        """Whether connections are being refused now."""
        return time.monotonic() < self._down_until

    # ------------------------------------------------------------------ serving
    def _listen(self) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(64)
        self.port = sock.getsockname()[1]
        self._listener = sock

    def _close_listener(self) -> None:
        with self._lock:
            sock, self._listener = self._listener, None
        if sock is not None:
            try:  # stops listening now, even while the serving thread's select() holds it
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _drop_clients(self) -> None:
        with self._lock:
            clients = list(self._clients)
        for conn in clients:
            try:  # wakes the thread reading it, which then closes it with a reset
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.shutdown(socket.SHUT_RD)
            except OSError:
                pass

    def _serve(self) -> None:
        while not self._stopping.is_set():
            if self._listener is None:
                if self.is_down:
                    time.sleep(0.02)
                    continue
                self._listen()  # back up on the same port
            listener = self._listener
            try:
                ready, _, _ = select.select([listener], [], [], 0.05)
                if not ready:
                    continue
                conn, _ = listener.accept()
            except (OSError, ValueError):
                continue  # closed under us by refuse()
            with self._lock:
                self._clients.add(conn)
            threading.Thread(target=self._client, args=(conn,), daemon=True).start()

    def _client(self, conn: socket.socket) -> None:
        rfile = _Reader(conn)
        try:
            while not self._stopping.is_set():
                request = _read_request(rfile)
                if request is None:
                    return
                if not self._handle(conn, *request):
                    return
        except OSError:
            return
        finally:
            with self._lock:
                self._clients.discard(conn)
            try:
                conn.close()
            except OSError:
                pass

    def _rule_for(self, method: str, target: str) -> Optional[Rule]:
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, target):
                    rule.hits += 1
                    self.applied.append((rule.kind, method, target.split("?", 1)[0]))
                    return rule
        return None

    def _handle(self, conn: socket.socket, method: str, target: str, headers: list,
                body: bytes) -> bool:
        """Answer one request; False when the connection is to be closed."""
        rule = self._rule_for(method, target)
        kind = rule.kind if rule else ""
        if kind == "reset_unsent":
            _reset(conn)
            return False
        if kind == "down":
            self.refuse(rule.seconds)
            _reset(conn)
            return False
        if kind == "signin":
            return _answer(conn, 200, [("Content-Type", "text/html; charset=utf-8")],
                           SIGNIN_PAGE)
        if kind in ("status", "hang") and not rule.forward:
            return self._fail_unforwarded(conn, rule)
        status, reply_headers, reply = self._forward(method, target, headers, body)
        if kind == "reset":
            _reset(conn)
            return False
        if kind in ("status", "hang"):
            return self._fail_unforwarded(conn, rule)
        if kind == "cut":
            keep = max(0, min(len(reply) - 1, int(len(reply) * rule.keep)))
            _answer(conn, status, reply_headers, reply[:keep], length=len(reply))
            return False
        if kind == "garble":
            half = len(reply) // 2
            junk = (b"<html>garbled " * (len(reply) // 14 + 1))[: len(reply) - half]
            reply = reply[:half] + junk
        if kind == "replace":
            reply = rule.body
        if kind == "slow":
            return _answer(conn, status, reply_headers, reply, trickle=rule.seconds)
        return _answer(conn, status, reply_headers, reply)

    def _fail_unforwarded(self, conn: socket.socket, rule: Rule) -> bool:
        if rule.kind == "status":
            return _answer(conn, rule.code, [("Content-Type", "text/html")],
                           gateway_page(rule.code))
        self._stopping.wait(rule.seconds)  # hang: no answer at all
        return False

    def _forward(self, method: str, target: str, headers: list, body: bytes
                 ) -> tuple[int, list, bytes]:
        path, _, query = target.partition("?")
        with self._lock:
            self.forwarded.append(Seen(method, path, query))
        upstream = http.client.HTTPConnection(*self.upstream, timeout=600)
        try:
            upstream.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                if name.lower() not in _HOP:
                    upstream.putheader(name, value)
            if body or method in ("POST", "PUT"):
                upstream.putheader("Content-Length", str(len(body)))
            upstream.putheader("Connection", "close")
            upstream.endheaders(body or None)
            resp = upstream.getresponse()
            reply = resp.read()
            return resp.status, [(k, v) for k, v in resp.getheaders()
                                 if k.lower() not in _HOP], reply
        finally:
            upstream.close()


class _Reader:
    """Buffered reading of a socket (no makefile: closing the socket must reset it now)."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.buffer = b""

    def _fill(self) -> bool:
        chunk = self.conn.recv(65536)
        self.buffer += chunk
        return bool(chunk)

    def readline(self, limit: int = 65537) -> bytes:
        """Bytes up to and including the next newline (less at the end of the stream)."""
        while b"\n" not in self.buffer and len(self.buffer) < limit and self._fill():
            pass
        end = self.buffer.find(b"\n")
        end = len(self.buffer) if end < 0 else end + 1
        line, self.buffer = self.buffer[:end], self.buffer[end:]
        return line

    def read(self, size: int) -> bytes:
        """Exactly ``size`` bytes (less at the end of the stream)."""
        while len(self.buffer) < size and self._fill():
            pass
        data, self.buffer = self.buffer[:size], self.buffer[size:]
        return data


def _read_request(rfile: _Reader) -> Optional[tuple[str, str, list, bytes]]:
    """Read one HTTP/1.1 request: method, target, headers and the (de-chunked) body."""
    line = rfile.readline(65537)
    while line in (b"\r\n", b"\n"):
        line = rfile.readline(65537)
    if not line:
        return None
    method, target, _ = line.decode("latin-1").split(" ", 2)
    headers = []
    while True:
        raw = rfile.readline(65537)
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    lookup = {k.lower(): v for k, v in headers}
    if lookup.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int(rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += rfile.read(size)
            rfile.readline()
    else:
        body = rfile.read(int(lookup.get("content-length") or 0))
    return method.upper(), target, headers, body


def _answer(conn: socket.socket, status: int, headers: list, body: bytes, *,
            length: Optional[int] = None, trickle: float = 0.0) -> bool:
    """Write an answer (``length`` overrides Content-Length); True: keep the connection."""
    reason = http.client.responses.get(status, "Unknown")
    head = [f"HTTP/1.1 {status} {reason}"]
    head += [f"{k}: {v}" for k, v in headers]
    head.append(f"Content-Length: {len(body) if length is None else length}")
    head.append("Connection: keep-alive")
    conn.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1"))
    if trickle > 0 and body:
        pieces = 10
        step = max(1, -(-len(body) // pieces))
        for start in range(0, len(body), step):
            conn.sendall(body[start:start + step])
            time.sleep(trickle / pieces)
    else:
        conn.sendall(body)
    return length is None


def _reset(conn: socket.socket) -> None:
    """Close a connection with a TCP RST (SO_LINGER 0), as a crashing peer does."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
    except OSError:
        pass

