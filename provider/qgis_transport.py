"""gp_client's transport on QGIS's network stack (QgsNetworkAccessManager).

Going through QgsNetworkAccessManager means QGIS's proxy settings, SSL exceptions and
certificates, authentication configurations and the network logger all apply, as for
QGIS's own providers. Each request waits in a local event loop, which works from any
thread (Processing runs algorithms in a worker thread) and, on the main thread, keeps
the window alive.

The contract is gp_client.transport's: a Response for every HTTP answer that arrived
whole, whatever its status; NetworkError (``timeout=True`` on a timeout, ``sent`` as far
as Qt tells) when none came or it was cut short, even after its status line arrived.
A body (POST, PUT) is sent at most once: Qt's own silent re-send after a broken
connection is stopped (see ``SendOnce``); repeating is gp_client's decision. ``timeout``
is the longest silence allowed (no byte either way), replacing QGIS's network timeout
for the request. Uploads are read from a temporary file as they are sent, and
``stream_to`` writes the body to its file as it arrives. Answers are kept out of QGIS's
HTTP disk cache (see ``_forget``).
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterable
from typing import Any, Optional
from urllib.parse import urlencode, urlsplit, urlunsplit

from qgis.core import QgsApplication, QgsFeedback, QgsNetworkAccessManager
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QEventLoop, QIODevice, QTimer, QUrl
from qgis.PyQt.QtNetwork import QNetworkReply, QNetworkRequest

from ..gp_client.errors import NetworkError
from ..gp_client.transport import FileSpec, Response
from ..gp_client.urls import origin_of

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
    """A gp_client Transport sending every request through QgsNetworkAccessManager.

    ``authcfg`` is a QGIS authentication configuration id applied to each request
    (QgsAuthManager.updateNetworkRequest) whose origin is in ``auth_origins`` (every
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
        deadline: Optional[float] = None,
    ) -> Response:
        """Send one request through QGIS and return the answer."""
        if self.feedback is not None and self.feedback.isCanceled():
            # QgsBlockingNetworkRequest only hears a cancel that comes while it waits
            raise NetworkError(f"The request to {url} was cancelled.", url=url)
        method = method.upper()
        if method not in ("GET", "POST", "PUT", "HEAD", "DELETE"):
            raise ValueError(f"Unsupported HTTP method {method!r}.")
        full_url = _with_params(url, params)
        request = QNetworkRequest(QUrl(full_url))
        request.setAttribute(QNetworkRequest.Attribute.CacheLoadControlAttribute,
                             QNetworkRequest.CacheLoadControl.AlwaysNetwork)
        request.setAttribute(QNetworkRequest.Attribute.CacheSaveControlAttribute, False)
        request.setAttribute(QNetworkRequest.Attribute.RedirectPolicyAttribute,
                             QNetworkRequest.RedirectPolicy.NoLessSafeRedirectPolicy)
        for name, value in {**self.headers, **(headers or {})}.items():
            request.setRawHeader(str(name).encode("latin-1"), str(value).encode("latin-1"))
        body: Optional[SendOnce] = None
        upload_path: Optional[str] = None
        try:
            if method in ("POST", "PUT"):
                if files:
                    # The multipart body goes through a temporary file read as it is sent,
                    # so an uploaded file of any size is never held in memory.
                    upload_path, content_type = _multipart_file(data or {}, files)
                    body = SendOnce(path=upload_path)
                else:
                    body = SendOnce(urlencode(_form_items(data or {})).encode())
                    content_type = "application/x-www-form-urlencoded"
                request.setHeader(QNetworkRequest.KnownHeaders.ContentTypeHeader, content_type)
                body.prepare(request)
            _forget(full_url)
            return self._exchange(method, request, full_url, body, timeout, stream_to,
                                  deadline)
        except RuntimeError as err:
            if "has been deleted" not in str(err):
                raise
            # Seen in long test runs only, in QgsTask pool threads: PyQt reported the reply
            # deleted while it was awaited. Told as a lost request (a GET is asked again).
            raise NetworkError(
                f"The request to {full_url} was lost inside QGIS's network stack before its "
                "answer could be read.", url=full_url, sent=None) from None
        finally:
            if body is not None and not sip.isdeleted(body):
                body.close()
                sip.delete(body)  # now, in this thread (the reply that read it is gone)
            if upload_path is not None:
                os.unlink(upload_path)

    def _exchange(self, method: str, request: QNetworkRequest, url: str,
                  body: Optional[SendOnce], timeout: float, stream_to: Optional[str],
                  deadline: Optional[float] = None) -> Response:
        """Send on QgsNetworkAccessManager and wait in a local event loop for the answer.

        QgsNetworkAccessManager aborts a request that sees no byte for QGIS's network
        timeout (Settings > Options > Network, 60 s by default); its timer is replaced
        by ours, so that ``timeout`` (a synchronous execute's minutes) is the one that
        applies and the one an error states.
        """
        authcfg = self.authcfg if self.applies_auth(url) else ""
        manager = QgsApplication.authManager()
        if authcfg and not manager.updateNetworkRequest(request, authcfg):
            raise NetworkError(f"Could not apply the authentication configuration {authcfg} "
                               f"to {url}; nothing was sent.", url=url, sent=False)
        nam = QgsNetworkAccessManager.instance()
        if method == "GET":
            reply = nam.get(request)
        elif method == "HEAD":
            reply = nam.head(request)
        elif method == "DELETE":
            reply = nam.deleteResource(request)
        elif method == "POST":
            reply = nam.post(request, body)
        else:
            reply = nam.put(request, body)
        if authcfg:
            manager.updateNetworkReply(reply, authcfg)
        return _Wait(reply, url, timeout, self.feedback, stream_to, body, deadline).run()

def _forget(*urls: str) -> None:
    """Drop URLs from QGIS's HTTP disk cache.

    QGIS's network stack may store GET answers in the cache whatever the server says, and
    on a later HTTP error Qt reports the *cached* status with the error's body. Job statuses
    and results must never come from, nor fill, that cache.
    """
    cache = QgsNetworkAccessManager.instance().cache()
    if cache is None:
        return
    for url in urls:
        if url:
            cache.remove(QUrl(url))


class SendOnce(QIODevice):
    """A request body that Qt can read once only, so that it cannot re-send the request.

    Qt's HTTP stack silently sends a request again (up to three times, even a POST) when
    the connection breaks before the answer starts, rewinding the body to do so. Given
    unbuffered (QNetworkRequest.DoNotBufferUploadDataAttribute, with a Content-Length) as
    a sequential device that refuses to rewind, Qt gives up with ContentReSendError
    instead (QNetworkReply::ContentReSendError: "the request needed to be sent again,
    but this failed for example because the upload data could not be read a second
    time"; QHttpNetworkConnectionChannel::resetUploadData). Checked on Qt 5.15 / QGIS
    3.22 with tests/faultproxy.py counting what reached the server.
    """

    def __init__(self, data: bytes = b"", *, path: Optional[str] = None) -> None:
        super().__init__()
        self._data = data
        self._file = open(path, "rb") if path is not None else None  # noqa: SIM115
        self._size = os.path.getsize(path) if path is not None else len(data)
        self._pos = 0
        self.open(QIODevice.OpenModeFlag.ReadOnly)

    def prepare(self, request: QNetworkRequest) -> None:
        """Tell Qt the body's length and not to buffer (and so rewind) it."""
        request.setHeader(QNetworkRequest.KnownHeaders.ContentLengthHeader, self._size)
        request.setAttribute(QNetworkRequest.Attribute.DoNotBufferUploadDataAttribute, True)

    def isSequential(self) -> bool:
        """Sequential: it cannot be rewound."""
        return True

    def reset(self) -> bool:
        """Refuse to rewind: that is what stops Qt's re-send."""
        return False

    def seek(self, pos: int) -> bool:
        """Refuse to move: the body is read once."""
        return False

    def bytesAvailable(self) -> int:
        """The bytes not read yet."""
        return self._size - self._pos + super().bytesAvailable()

    def readData(self, maxlen: int) -> bytes:
        """The next bytes of the body."""
        if self._file is not None:
            chunk = self._file.read(maxlen)
        else:
            chunk = self._data[self._pos:self._pos + maxlen]
        self._pos += len(chunk)
        return chunk

    def writeData(self, data: bytes) -> int:
        """Not writable."""
        return -1

    def close(self) -> None:
        """Close the device and the file behind it."""
        if self._file is not None:
            self._file.close()
        super().close()


# Qt's errors for an HTTP error status: the answer itself arrived whole.
_STATUS_ERRORS = {
    QNetworkReply.NetworkError.ContentAccessDenied,
    QNetworkReply.NetworkError.ContentOperationNotPermittedError,
    QNetworkReply.NetworkError.ContentNotFoundError,
    QNetworkReply.NetworkError.AuthenticationRequiredError,
    QNetworkReply.NetworkError.ContentConflictError,
    QNetworkReply.NetworkError.ContentGoneError,
    QNetworkReply.NetworkError.UnknownContentError,
    QNetworkReply.NetworkError.ProtocolInvalidOperationError,
    QNetworkReply.NetworkError.InternalServerError,
    QNetworkReply.NetworkError.OperationNotImplementedError,
    QNetworkReply.NetworkError.ServiceUnavailableError,
    QNetworkReply.NetworkError.UnknownServerError,
}
_NO_TIMER = 2 ** 31 - 1  # the longest QTimer interval (ms): QGIS's timer never fires


class _Wait:
    """Waits for one reply in a local event loop: our timeout, cancel, body to memory/file."""

    def __init__(self, reply: QNetworkReply, url: str, timeout: float,
                 feedback: Optional[QgsFeedback], stream_to: Optional[str],
                 body: Optional[SendOnce], deadline: Optional[float] = None) -> None:
        self.reply = reply
        self.deadline = float(deadline) if deadline and deadline > 0 else 0.0
        self.overdue = False
        self.url = url
        self.timeout = float(timeout) if timeout and timeout > 0 else 0.0
        self.feedback = feedback
        self.stream_to = stream_to
        self.body = body
        self.timed_out = False
        self.sent_bytes = 0
        self.chunks: list[bytes] = []
        self.sink_error: Optional[OSError] = None

    def _on_upload(self, sent: int, _total: int) -> None:
        self.sent_bytes = max(self.sent_bytes, sent)
        self._timer.start()

    def _on_download(self, *_: Any) -> None:
        self._timer.start()

    def _on_ready_read(self) -> None:
        try:
            data = bytes(self.reply.readAll())
            if data and self.sink_error is None:
                self._sink(data)
        except (RuntimeError, OSError) as err:  # a full disk; a reply Qt already deleted
            if self.sink_error is None and isinstance(err, OSError):
                self.sink_error = err
                self.reply.abort()

    def _on_timeout(self) -> None:
        self.timed_out = True
        self.reply.abort()

    def _on_deadline(self) -> None:
        self.overdue = True
        self._on_timeout()

    def run(self) -> Response:
        """Wait for the reply and return its Response (NetworkError when none came whole)."""
        reply = self.reply
        figure = self.timeout
        qgis_timer = reply.findChild(QTimer, "timeoutTimer")
        if qgis_timer is not None:
            qgis_timer.stop()
            qgis_timer.setInterval(_NO_TIMER)
        elif QgsNetworkAccessManager.timeout() > 0:  # a QGIS without that timer: it still cuts
            figure = min(figure or 1e12, QgsNetworkAccessManager.timeout() / 1000)
        self.figure = figure
        self._timer = QTimer()
        self._timer.setSingleShot(True)
        self._timer.setInterval(min(_NO_TIMER, max(1, int(self.timeout * 1000))))
        self._timer.timeout.connect(self._on_timeout)
        overall = QTimer()
        overall.setSingleShot(True)
        overall.setInterval(min(_NO_TIMER, max(1, int(self.deadline * 1000))))
        overall.timeout.connect(self._on_deadline)
        loop = QEventLoop()
        feedback = self.feedback
        handle = open(self.stream_to, "wb") if self.stream_to else None  # noqa: SIM115
        self._sink = handle.write if handle is not None else self.chunks.append
        # PyQt ends the process on an exception in a slot: the slots here never raise
        hooks = ((reply.uploadProgress, self._on_upload),
                 (reply.downloadProgress, self._on_download),
                 (reply.readyRead, self._on_ready_read), (reply.finished, loop.quit))
        for signal, slot in hooks:
            signal.connect(slot)
        try:
            if feedback is not None:
                feedback.canceled.connect(reply.abort)
                if feedback.isCanceled():
                    reply.abort()
            if self.timeout:
                self._timer.start()
            if self.deadline:
                overall.start()
            if not reply.isFinished():
                loop.exec()
            self._timer.stop()
            overall.stop()
            self._on_ready_read()
        finally:
            for signal, slot in hooks:
                try:
                    signal.disconnect(slot)
                except (TypeError, RuntimeError):
                    pass
            # Qt objects of this thread die here, not whenever (and wherever) Python's
            # garbage collector gets to them.
            for qobject in (self._timer, overall, loop):
                if not sip.isdeleted(qobject):
                    qobject.blockSignals(True)
                    sip.delete(qobject)
            if handle is not None:
                handle.close()
            if feedback is not None:
                try:
                    feedback.canceled.disconnect(reply.abort)
                except (TypeError, RuntimeError):
                    pass
        if self.sink_error is not None:
            raise self.sink_error
        # The reply is left to its network manager, which deletes it with the thread's
        # manager at the thread's end (on the main thread: when QGIS exits, so a long
        # qgis_process run keeps every reply it made, a few KB each). Deleting it here
        # (deleteLater() or sip.delete) let a later request find a wrapper PyQt still
        # mapped to the freed address: the next reply Qt allocated there came back as
        # "wrapped C/C++ object ... has been deleted"
        # (a connection test in a QgsTask failed or aborted about one run in four; QGIS 3.22;
        # tests/qgis/provider/test_transport.py runs twenty).
        return self._outcome()

    def _outcome(self) -> Response:
        reply = self.reply
        status = reply.attribute(QNetworkRequest.Attribute.HttpStatusCodeAttribute)
        error = reply.error()
        final_url = reply.url().toString() or self.url
        _forget(self.url, final_url)
        if error == QNetworkReply.NetworkError.NoError or (status and error in _STATUS_ERRORS):
            return Response(status=int(status or 0), headers=_headers(reply),
                            body=b"".join(self.chunks), url=final_url)
        raise self._no_answer(error, bool(status))

    def _no_answer(self, error: Any, answered: bool) -> NetworkError:
        """The NetworkError for a request whose answer did not come (whole)."""
        url = self.url
        detail = self.reply.errorString() or "no answer"
        wrote = self.body is not None and self.sent_bytes > 0
        if self.feedback is not None and self.feedback.isCanceled():
            sent = True if (answered or wrote) else None
            return NetworkError(f"The request to {url} was cancelled.", url=url, sent=sent)
        if self.overdue:
            return NetworkError(
                f"No complete answer from {url} within {self.deadline:g} s (the time allowed "
                f"for it){'; the request was sent' if wrote else ''}.", url=url, timeout=True,
                sent=True if (answered or wrote) else None)
        if self.timed_out:
            return NetworkError(
                f"No answer from {url} within {self.figure:g} s (the timeout for this request)"
                f"{'; the request was sent' if wrote else ''}.", url=url, timeout=True,
                sent=True if (answered or wrote) else None)
        if error == QNetworkReply.NetworkError.OperationCanceledError or error == \
                QNetworkReply.NetworkError.TimeoutError:
            return NetworkError(
                f"No answer from {url} within {self.figure:g} s ({detail}).", url=url,
                timeout=True, sent=True if (answered or wrote) else None)
        if answered:
            return NetworkError(
                f"The answer from {url} was cut short: the connection broke before its end "
                f"({detail}).", url=url, sent=True)
        if error == QNetworkReply.NetworkError.ContentReSendError:
            return NetworkError(
                f"The connection to {url} broke after the request was sent and before any "
                "answer came (Qt was kept from sending it a second time).", url=url, sent=True)
        sent = _maybe_sent(error)
        if sent is False:
            return NetworkError(
                f"Could not connect to {url}: {detail}. Check the URL, the network and QGIS's "
                "proxy settings (Settings > Options > Network).", url=url, sent=False)
        return NetworkError(
            f"The connection to {url} broke before an answer came ({detail}).", url=url,
            sent=sent)


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
    QNetworkReply.NetworkError.ContentReSendError,
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
