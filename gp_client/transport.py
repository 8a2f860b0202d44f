"""The HTTP transport protocol and its requests implementation.

A transport sends one request and returns one :class:`Response`. It does no retrying,
no authentication and no JSON handling: :class:`~.client.GPClient` does those, so that
every transport (requests here, QGIS's network stack in the provider) behaves the same.

Contract for implementers:

- ``send`` returns a :class:`Response` for every HTTP answer, whatever its status.
- A failure to connect, a broken connection or a timeout raises
  :class:`~.errors.NetworkError` (``timeout=True`` for a timeout), with the URL redacted;
  ``sent=False`` when no connection was made (nothing sent), ``True`` when the request went
  out and no answer came, ``None`` when the transport cannot tell.
- ``params`` go in the query string; ``data`` (a dict of str) is sent form-encoded, or as
  multipart fields when ``files`` is given. ``files`` maps a field name to
  ``(filename, fileobj, content_type)``.
- ``stream_to``: write the body to that file path as it arrives (the Response then has
  ``body == b""``); the file is written whatever the status, and the caller removes it.
- ``timeout`` bounds each silence (connecting, waiting for the answer, between its bytes);
  ``deadline`` (optional keyword, given only when set) bounds the whole exchange. Both
  raise NetworkError(timeout=True) stating the figure that applied.
- A body (POST, PUT) is sent at most once: the transport never repeats a request itself.
"""

from __future__ import annotations

import contextlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Optional, Protocol, runtime_checkable

from ._util import redact_text, redact_url
from .errors import NetworkError

FileSpec = tuple[str, BinaryIO, str]


@dataclass
class Response:
    """One HTTP answer: status, headers, body bytes and the final URL."""

    status: int
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    url: str = ""

    def header(self, name: str, default: str = "") -> str:
        """Return a header value, looked up case-insensitively."""
        lname = name.lower()
        for key, value in self.headers.items():
            if key.lower() == lname:
                return value
        return default

    @property
    def content_type(self) -> str:
        """The Content-Type header ('' if none)."""
        return self.header("Content-Type")

    @property
    def text(self) -> str:
        """The body decoded as text (UTF-8, undecodable bytes replaced)."""
        return self.body.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body parsed as JSON (raises ValueError if it is not JSON)."""
        return json.loads(self.body.decode("utf-8-sig"))

    def __repr__(self) -> str:
        """Short form without the body."""
        return f"Response(status={self.status}, url={redact_url(self.url)!r}, " \
               f"bytes={len(self.body)})"


@runtime_checkable
class Transport(Protocol):
    """Sends one HTTP request; see the module docstring for the contract."""

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Optional[dict] = None,
        data: Optional[dict] = None,
        files: Optional[dict[str, FileSpec]] = None,
        headers: Optional[dict] = None,
        timeout: float = 60.0,
        stream_to: Optional[str] = None,
        deadline: Optional[float] = None,
    ) -> Response:
        """Send the request and return the answer."""
        ...


class RequestsTransport:
    """Transport on a ``requests.Session`` (connection pooling, proxies from the environment)."""

    def __init__(self, session: Any = None, *, verify: bool | str = True,
                 user_agent: str = "arcgis_gp-gp_client/0.1") -> None:
        import requests

        self._requests = requests
        self.session = session if session is not None else requests.Session()
        self.verify = verify
        self.user_agent = user_agent

    def send(
        self,
        method: str,
        url: str,
        *,
        params: Optional[dict] = None,
        data: Optional[dict] = None,
        files: Optional[dict[str, FileSpec]] = None,
        headers: Optional[dict] = None,
        timeout: float = 60.0,
        stream_to: Optional[str] = None,
        deadline: Optional[float] = None,
    ) -> Response:
        """Send the request with requests and return the answer."""
        requests = self._requests
        hdrs = {"User-Agent": self.user_agent}
        hdrs.update(headers or {})
        limit = time.monotonic() + deadline if deadline else None
        if deadline:
            timeout = min(timeout, deadline)
        # A (connect, read) pair: connecting should never take long.
        to = (min(timeout, 30.0), timeout)
        try:
            resp = self.session.request(
                method, url, params=params, data=data, files=files, headers=hdrs,
                timeout=to, stream=True, verify=self.verify, allow_redirects=True,
            )
            try:
                body = _read_body(resp, stream_to, limit)
            except _OverdueError:
                raise NetworkError(
                    f"No complete answer from {redact_url(url)} within {deadline:g} s (the time "
                    "allowed for it); the request was sent.", url=url, timeout=True,
                    sent=True) from None
            except (requests.exceptions.ChunkedEncodingError,
                    requests.exceptions.ConnectionError) as exc:
                if _is_read_timeout(exc):
                    raise NetworkError(
                        f"The answer from {redact_url(url)} stopped: no byte came for "
                        f"{timeout:g} s (the timeout for this request).", url=url,
                        timeout=True, sent=True) from None
                raise NetworkError(
                    f"The answer from {redact_url(url)} was cut short: the connection broke "
                    f"before its end ({redact_text(_short(exc))}).", url=url,
                    sent=True) from None
        except requests.exceptions.ConnectTimeout as exc:
            raise NetworkError(
                f"Could not connect to {redact_url(url)} within {min(timeout, 30.0):g} s: "
                f"{redact_text(_short(exc))}. Check the URL, the network and any proxy "
                "settings.", url=url, timeout=True, sent=False) from None
        except requests.exceptions.Timeout as exc:
            raise NetworkError(
                f"No answer from {redact_url(url)} within {timeout:g} s (the timeout for this "
                f"request): {redact_text(_short(exc))}.", url=url, timeout=True,
                sent=True) from None
        except requests.exceptions.RequestException as exc:
            raise _broken(url, exc, _maybe_sent(exc)) from None
        except OSError as exc:
            if stream_to is not None:
                raise  # writing the file failed: that is not a network problem
            raise _broken(url, exc, None) from None
        return Response(status=resp.status_code, headers=dict(resp.headers), body=body,
                        url=resp.url or url)

    def close(self) -> None:
        """Close the pooled connections."""
        self.session.close()


class _OverdueError(Exception):
    """The deadline passed while the body was arriving."""


def _read_body(resp: Any, stream_to: Optional[str], limit: Optional[float]) -> bytes:
    """The body of a requests response, or b"" once it is written to ``stream_to``.

    ``limit``: the monotonic time by which the body must have arrived (checked between
    chunks). An answer shorter than its Content-Length raises NetworkError: Debian's
    urllib3 1.26 hands such a cut-off body over as if it were whole
    (``enforce_content_length`` is off there).
    """
    try:
        if stream_to is None and limit is None:
            body = resp.content
        else:
            parts: list[bytes] = []
            with contextlib.ExitStack() as stack:
                write = parts.append
                if stream_to is not None:
                    write = stack.enter_context(open(stream_to, "wb")).write  # noqa: SIM115
                for chunk in resp.iter_content(chunk_size=64 * 1024):
                    if chunk:
                        write(chunk)
                    if limit is not None and time.monotonic() > limit:
                        raise _OverdueError()
            body = b"".join(parts)
        _check_length(resp)
        return body
    finally:
        resp.close()


def _check_length(resp: Any) -> None:
    """Raise NetworkError when fewer bytes arrived than the Content-Length announced."""
    expected = resp.headers.get("Content-Length")
    raw = getattr(resp, "raw", None)
    if not expected or raw is None or resp.request.method == "HEAD" \
            or resp.status_code in (204, 304):
        return
    try:
        expected_bytes = int(expected)
        got = int(raw.tell())  # bytes read off the wire (before any decompression)
    except (TypeError, ValueError, AttributeError):
        return
    if got < expected_bytes:
        url = resp.url or ""
        raise NetworkError(
            f"The answer from {redact_url(url)} was cut short: {got} of its {expected_bytes} "
            "bytes arrived before the connection broke.", url=url, sent=True)


def _is_read_timeout(exc: BaseException) -> bool:
    from urllib3.exceptions import ReadTimeoutError

    return any(isinstance(a, ReadTimeoutError) for a in getattr(exc, "args", ()))


def _broken(url: str, exc: BaseException, sent: Optional[bool]) -> NetworkError:
    """The NetworkError of a connection that failed or broke, worded by what was sent."""
    where, why = redact_url(url), redact_text(_short(exc))
    if sent is False:
        text = (f"Could not connect to {where}: {why}. Check the URL, the network and any "
                "proxy settings.")
    elif sent:
        text = f"The connection to {where} broke after the request was sent and before " \
               f"its answer came ({why})."
    else:
        text = f"The connection to {where} failed ({why})."
    return NetworkError(text, url=url, sent=sent)


def _maybe_sent(exc: BaseException) -> bool | None:
    """Whether a failed request may have reached the server (False: no connection made)."""
    import requests
    from urllib3.exceptions import NewConnectionError, ProtocolError

    if isinstance(exc, (requests.exceptions.SSLError, requests.exceptions.ProxyError)):
        return False  # the handshake with the server or the proxy failed first
    seen = set()
    inner: BaseException | None = exc
    while inner is not None and id(inner) not in seen:
        seen.add(id(inner))
        if isinstance(inner, (NewConnectionError, ConnectionRefusedError)):
            return False  # refused, unknown host, unreachable network: nothing was sent
        if isinstance(inner, ProtocolError):
            return True  # connected and sent; the connection broke before the answer
        nxt = getattr(inner, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = next((a for a in getattr(inner, "args", ()) if isinstance(a, BaseException)),
                       None)
        inner = nxt if isinstance(nxt, BaseException) else inner.__context__
    return None


def _short(exc: BaseException) -> str:
    """A one-line description of a requests exception: its innermost cause."""
    inner: BaseException = exc
    seen = {id(exc)}
    while True:
        nxt = None
        for arg in getattr(inner, "args", ()):
            if isinstance(arg, BaseException):
                nxt = arg
        reason = getattr(inner, "reason", None)
        if nxt is None and isinstance(reason, BaseException):
            nxt = reason
        if nxt is None or id(nxt) in seen:
            break
        seen.add(id(nxt))
        inner = nxt
    text = str(inner) or type(inner).__name__
    text = re.sub(r"<[^<>]* object at 0x[0-9a-fA-F]+>:\s*", "", text)
    if inner is not exc and type(inner).__name__ not in text:
        text = f"{type(inner).__name__}: {text}"
    text = " ".join(text.split())
    return text if len(text) <= 200 else text[:197] + "..."
