"""gp_client's transport on QGIS's network stack (QgsBlockingNetworkRequest).

Going through QgsNetworkAccessManager means QGIS's proxy settings, SSL exceptions and
certificates, authentication configurations and the network logger all apply, as for
QGIS's own providers. QgsBlockingNetworkRequest works from any thread (Processing runs
algorithms in a worker thread) and, on the main thread, keeps the event loop turning
while it waits.

The contract is gp_client.transport's: a Response for every HTTP answer whatever its
status, NetworkError (``timeout=True`` on a timeout, ``sent`` as far as Qt's error code
tells) when no answer came. Limits of this
implementation: request bodies (uploads) are built in memory; a GET with ``stream_to`` goes
through QgsNetworkAccessManager directly and writes the body to the file as it arrives
(QgsBlockingNetworkRequest gives no chunked access in QGIS 3.22). Answers are kept out of
QGIS's HTTP disk cache (see ``_forget``). Qt's HTTP stack re-sends a request (even a POST)
up to twice when the connection closes before any byte of the answer arrives; requests
does not.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterable
from typing import Any, Optional
from urllib.parse import urlencode, urlsplit, urlunsplit

from qgis.core import (
    QgsApplication,
    QgsBlockingNetworkRequest,
    QgsFeedback,
    QgsNetworkAccessManager,
)
from qgis.PyQt.QtCore import QByteArray, QEventLoop, QFile, QIODevice, QUrl
from qgis.PyQt.QtNetwork import QNetworkReply, QNetworkRequest

from ..gp_client._util import origin_of
from ..gp_client.errors import NetworkError
from ..gp_client.transport import FileSpec, Response

_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "ac", "edu", "govt", "mil"}


def site(url: str) -> str:
    """Return the registrable domain of a URL's host (``arcgis.com`` for www.arcgis.com).

    A small heuristic, not the public suffix list: the last two labels, or three under a
    two-letter country code with a generic second level (``esri.co.uk``). IP addresses and
    single-label hosts are their own site.
    """
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    labels = host.split(".")
    if len(labels) < 2 or all(label.isdigit() for label in labels) or ":" in host:
        return host
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


class QgisTransport:
    """A gp_client Transport sending every request through QgsBlockingNetworkRequest.

    ``authcfg`` is a QGIS authentication configuration id applied to each request
    (QgsBlockingNetworkRequest.setAuthCfg) whose origin is in ``auth_origins`` (every
    origin when ``auth_origins`` is None) or, over https, whose host belongs to one of
    ``auth_sites`` (see ``site``), so that credentials never travel to an unrelated host,
    such as one serving a result file. ``feedback`` (optional) aborts a request in
    flight when it is cancelled; ``headers`` are sent with every request. The User-Agent
    is QGIS's own (QgsNetworkAccessManager sets it).
    """

    def __init__(
        self,
        authcfg: str = "",
        *,
        auth_origins: Optional[Iterable[str]] = None,
        auth_sites: Iterable[str] = (),
        feedback: Optional[QgsFeedback] = None,
        headers: Optional[dict] = None,
    ) -> None:
        self.authcfg = authcfg or ""
        self.auth_origins = (
            None if auth_origins is None else {origin_of(u) for u in auth_origins}
        )
        self.auth_sites = {s.lower() for s in auth_sites if s}
        self.feedback = feedback
        self.headers = dict(headers or {})

    def applies_auth(self, url: str) -> bool:
        """Return whether the authcfg is applied to a request to ``url``."""
        if not self.authcfg:
            return False
        if self.auth_origins is None or origin_of(url) in self.auth_origins:
            return True
        parts = urlsplit(url)
        return parts.scheme == "https" and site(url) in self.auth_sites

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
    ) -> Response:
        """Send one request through QGIS and return the answer."""
        if self.feedback is not None and self.feedback.isCanceled():
            # QgsBlockingNetworkRequest only hears a cancel that comes while it waits
            raise NetworkError(f"The request to {url} was cancelled.", url=url)
        method = method.upper()
        full_url = _with_params(url, params)
        request = QNetworkRequest(QUrl(full_url))
        request.setAttribute(QNetworkRequest.Attribute.CacheLoadControlAttribute,
                             QNetworkRequest.CacheLoadControl.AlwaysNetwork)
        request.setAttribute(QNetworkRequest.Attribute.CacheSaveControlAttribute, False)
        if timeout and timeout > 0:
            request.setTransferTimeout(max(1, int(timeout * 1000)))
        body = b""
        upload_path: Optional[str] = None
        if method in ("POST", "PUT"):
            if files:
                # The multipart body goes through a temporary file that Qt reads as it sends,
                # so an uploaded file of any size is never held in memory.
                upload_path, content_type = _multipart_file(data or {}, files)
            else:
                body = urlencode(_form_items(data or {})).encode()
                content_type = "application/x-www-form-urlencoded"
            request.setHeader(QNetworkRequest.KnownHeaders.ContentTypeHeader, content_type)
        for name, value in {**self.headers, **(headers or {})}.items():
            request.setRawHeader(str(name).encode("latin-1"), str(value).encode("latin-1"))

        if stream_to is not None and method == "GET":
            return self._stream_get(request, full_url, stream_to, timeout)

        _forget(full_url)
        blocking = QgsBlockingNetworkRequest()
        if self.applies_auth(full_url):
            blocking.setAuthCfg(self.authcfg)
        feedback = self.feedback
        upload = None
        try:
            if upload_path is not None:
                upload = QFile(upload_path)
                if not upload.open(QIODevice.OpenModeFlag.ReadOnly):
                    raise OSError(f"Could not read the upload body {upload_path}")
            if method == "GET":
                error = blocking.get(request, True, feedback)
            elif method == "POST":
                error = blocking.post(request, upload if upload is not None else QByteArray(body),
                                      True, feedback)
            elif method == "PUT":
                if upload is not None:
                    body = bytes(upload.readAll())
                error = blocking.put(request, QByteArray(body), feedback)
            elif method == "HEAD":
                error = blocking.head(request, True, feedback)
            elif method == "DELETE":
                error = blocking.deleteResource(request, feedback)
            else:
                raise ValueError(f"Unsupported HTTP method {method!r}.")
        finally:
            if upload is not None:
                upload.close()
            if upload_path is not None:
                os.unlink(upload_path)

        reply = blocking.reply()
        final_url = reply.request().url().toString() or full_url
        _forget(full_url, final_url)
        status = reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute)
        if not status:
            raise _no_answer(
                reply, url, timeout, feedback, detail=blocking.errorMessage(),
                timed_out=error == QgsBlockingNetworkRequest.ErrorCode.TimeoutError)
        content = bytes(reply.content())
        if stream_to is not None:
            with open(stream_to, "wb") as handle:
                handle.write(content)
            content = b""
        return Response(status=int(status), headers=_headers(reply), body=content, url=final_url)

    def _stream_get(self, request: QNetworkRequest, url: str, stream_to: str,
                    timeout: float) -> Response:
        """GET straight into a file as the bytes arrive (big results never sit in memory)."""
        authcfg = self.authcfg if self.applies_auth(url) else ""
        manager = QgsApplication.authManager()
        if authcfg and not manager.updateNetworkRequest(request, authcfg):
            raise NetworkError(f"Could not apply the authentication configuration {authcfg} "
                               f"to {url}.", url=url)
        request.setAttribute(QNetworkRequest.Attribute.RedirectPolicyAttribute,
                             QNetworkRequest.RedirectPolicy.NoLessSafeRedirectPolicy)
        reply = QgsNetworkAccessManager.instance().get(request)
        if authcfg:
            manager.updateNetworkReply(reply, authcfg)
        loop = QEventLoop()
        feedback = self.feedback
        with open(stream_to, "wb") as handle:
            reply.readyRead.connect(lambda: handle.write(bytes(reply.readAll())))
            reply.finished.connect(loop.quit)
            if feedback is not None:
                if feedback.isCanceled():
                    reply.abort()
                feedback.canceled.connect(reply.abort)
            if not reply.isFinished():
                loop.exec()
            handle.write(bytes(reply.readAll()))
        try:
            status = reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute)
            if not status:
                raise _no_answer(reply, url, timeout, feedback)
            final_url = reply.url().toString() or url
            return Response(status=int(status), headers=_headers(reply), body=b"", url=final_url)
        finally:
            if feedback is not None:
                try:
                    feedback.canceled.disconnect(reply.abort)
                except (TypeError, RuntimeError):
                    pass
            reply.deleteLater()


def _forget(*urls: str) -> None:
    """Drop URLs from QGIS's HTTP disk cache.

    QgsBlockingNetworkRequest stores every GET answer in the cache whatever the server says
    (it strips Cache-Control), and on a later HTTP error Qt reports the *cached* status with
    the error's body. Job statuses and results must never come from, nor fill, that cache.
    """
    cache = QgsNetworkAccessManager.instance().cache()
    if cache is None:
        return
    for url in urls:
        if url:
            cache.remove(QUrl(url))


def _no_answer(reply: Any, url: str, timeout: float, feedback: Optional[QgsFeedback], *,
               detail: str = "", timed_out: bool = False) -> NetworkError:
    """The NetworkError for a request that got no HTTP answer (cancelled, timed out, failed)."""
    detail = detail or reply.errorString() or "no answer"
    if feedback is not None and feedback.isCanceled():
        return NetworkError(f"The request to {url} was cancelled.", url=url)
    if timed_out or reply.error() in (QNetworkReply.NetworkError.OperationCanceledError,
                                      QNetworkReply.NetworkError.TimeoutError):
        return NetworkError(
            f"Timed out after {timeout:g} s waiting for {url} ({detail}). The server may be "
            "busy; try again or raise the timeout.", url=url, timeout=True)
    return NetworkError(
        f"Could not reach {url}: {detail}. Check the URL, the network and QGIS's proxy "
        "settings (Settings > Options > Network).", url=url, sent=_maybe_sent(reply.error()))


def _headers(reply: Any) -> dict[str, str]:
    """The raw headers of a reply, as text."""
    return {bytes(name).decode("latin-1"): bytes(reply.rawHeader(name)).decode("latin-1")
            for name in reply.rawHeaderList()}


# Errors Qt reports before any byte of the request went out: no connection was made.
_NOT_SENT = (
    QNetworkReply.NetworkError.ConnectionRefusedError,
    QNetworkReply.NetworkError.HostNotFoundError,
    QNetworkReply.NetworkError.SslHandshakeFailedError,
    QNetworkReply.NetworkError.ProxyConnectionRefusedError,
    QNetworkReply.NetworkError.ProxyNotFoundError,
    QNetworkReply.NetworkError.ProxyAuthenticationRequiredError,
)
# Errors after the request was sent (the connection broke before the answer).
_SENT = (
    QNetworkReply.NetworkError.RemoteHostClosedError,
)


def _maybe_sent(error: Any) -> Optional[bool]:
    """Whether a request that got no answer may have reached the server (None: unknown)."""
    if error in _NOT_SENT:
        return False
    if error in _SENT:
        return True
    return None


def _with_params(url: str, params: Optional[dict]) -> str:
    if not params:
        return url
    parts = urlsplit(url)
    query = urlencode(_form_items(params))
    if parts.query:
        query = parts.query + "&" + query
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _form_items(values: dict) -> list[tuple[str, str]]:
    items = []
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            items.extend((str(key), _form_text(v)) for v in value)
        else:
            items.append((str(key), _form_text(value)))
    return items


def _form_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, bytes):
        return value.decode("utf-8")
    return str(value)


def _multipart_file(data: dict, files: dict[str, FileSpec]) -> tuple[str, str]:
    """Write a multipart/form-data body to a temporary file; return its path and content type."""
    boundary = f"----arcgisgp{uuid.uuid4().hex}"
    handle, path = tempfile.mkstemp(prefix="arcgisgp_upload_", suffix=".multipart")
    with os.fdopen(handle, "wb") as out:
        for name, value in _form_items(data):
            out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"'
                      f"\r\n\r\n".encode() + value.encode("utf-8") + b"\r\n")
        for name, spec in files.items():
            filename, fileobj, content_type = spec
            out.write((f"--{boundary}\r\nContent-Disposition: form-data; name=\"{_quote(name)}\"; "
                       f"filename=\"{_quote(filename)}\"\r\nContent-Type: "
                       f"{content_type or 'application/octet-stream'}\r\n\r\n").encode())
            while True:
                chunk = fileobj.read(1 << 20)
                if not chunk:
                    break
                out.write(chunk.encode("utf-8") if isinstance(chunk, str) else chunk)
            out.write(b"\r\n")
        out.write(f"--{boundary}--\r\n".encode())
    return path, f"multipart/form-data; boundary={boundary}"


def _quote(text: str) -> str:
    return str(text).replace("\\", "\\\\").replace('"', "%22").replace("\r", "").replace(
        "\n", "")
