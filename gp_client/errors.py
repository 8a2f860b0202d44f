"""One exception hierarchy for everything gp_client raises.

Every message names the URL involved (with any token removed) and says what to do.
No exception text ever holds a token, an API key or a password: URLs pass through
``redact_url`` and server text through ``redact_text`` before they reach a message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from ._util import excerpt as _excerpt
from ._util import redact_text, redact_url
from .names import ERROR_MESSAGE_TYPES


class GPError(Exception):
    """Root of every error raised by gp_client."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        self.url = redact_url(url) if url else url
        super().__init__(redact_text(message))


class BadInputError(GPError, ValueError):
    """A value given by the caller cannot be used (wrong type, unknown name, ...)."""


class NetworkError(GPError):
    """The server could not be reached, or the connection broke (after any retries).

    ``sent`` says whether the request may have reached the server: False when no
    connection was ever made (refused, unknown host, connect timeout, TLS handshake failed),
    so nothing was sent; True when it was sent and the answer did not come (read timeout,
    connection dropped); None when the transport cannot tell.
    """

    def __init__(self, message: str, *, url: str | None = None, timeout: bool = False,
                 sent: bool | None = None) -> None:
        self.timeout = timeout
        self.sent = sent
        super().__init__(message, url=url)


class HTTPError(GPError):
    """The server answered with an HTTP error status and no ArcGIS error JSON."""

    def __init__(self, message: str, *, status: int, url: str | None = None,
                 excerpt: str = "") -> None:
        self.status = status
        self.excerpt = redact_text(excerpt)
        super().__init__(message, url=url)


class NotJSONError(GPError):
    """The server answered with HTML or other text where JSON was expected.

    ``broken``: the answer began as JSON and was cut short or garbled on the way (asking
    again may get it whole); ``sign_in``: it is an HTML sign-in page (a proxy or single
    sign-on wants the user to sign in; asking again will not help).
    """

    def __init__(self, message: str, *, url: str | None = None, excerpt: str = "",
                 broken: bool = False, sign_in: bool = False) -> None:
        self.excerpt = redact_text(excerpt)
        self.broken = broken
        self.sign_in = sign_in
        super().__init__(message, url=url)


class ServerError(GPError):
    """The server answered ``{"error": {"code", "message", "details"}}``."""

    def __init__(self, message: str, *, code: int | None = None, server_message: str = "",
                 details: Sequence[str] = (), url: str | None = None) -> None:
        self.code = code
        self.message = redact_text(server_message or "")
        self.details = tuple(redact_text(str(d)) for d in details or ())
        super().__init__(message, url=url)


class AuthError(ServerError):
    """Authentication failed: no token, a rejected token, or a token that could not be had."""


class TokenRequiredError(AuthError):
    """The resource needs a token (ArcGIS error 499) and none was accepted."""


class InvalidTokenError(AuthError):
    """The token was rejected as invalid or expired (ArcGIS error 498)."""


class PermissionDeniedError(AuthError):
    """The user is known but may not use this resource (ArcGIS error 403)."""


class BadDescriptionError(GPError):
    """A service or task description that is not shaped as ArcGIS publishes it."""


class CapabilityError(GPError):
    """The service does not offer what was asked (for example uploads)."""


class JobError(GPError):
    """A geoprocessing job (or a synchronous execute) ended without results."""

    def __init__(self, message: str, *, job_id: str | None = None,
                 messages: Sequence[Any] = (), status: str | None = None,
                 url: str | None = None) -> None:
        self.job_id = job_id
        self.messages = tuple(messages)
        self.status = status
        super().__init__(message, url=url)

    @property
    def error_messages(self) -> tuple[str, ...]:
        """The descriptions of the server's error (and abort) messages."""
        out = []
        for m in self.messages:
            mtype = getattr(m, "type", "")
            if mtype in ERROR_MESSAGE_TYPES:
                out.append(getattr(m, "description", str(m)))
        return tuple(out)


class JobFailedError(JobError):
    """The job ended with esriJobFailed (or execute answered with an error)."""


class JobCancelledError(JobError):
    """The job was cancelled (esriJobCancelled), by us or on the server."""


class JobTimedOutError(JobError):
    """The server gave up on the job (esriJobTimedOut)."""


class JobDeletedError(JobError):
    """The job was deleted on the server (esriJobDeleted) before its results were read."""


class DeadlineError(GPError):
    """Waiting took longer than the caller's deadline; the job may still be running."""

    def __init__(self, message: str, *, job_id: str | None = None,
                 url: str | None = None) -> None:
        self.job_id = job_id
        super().__init__(message, url=url)


def error_from_json(body: Any, url: str | None = None) -> ServerError | None:
    """Return the error an ArcGIS ``{"error": ...}`` body stands for, or None if it is none."""
    if not isinstance(body, dict) or "error" not in body:
        return None
    err = body.get("error")
    if not isinstance(err, dict):
        err = {"message": str(err)}
    code = err.get("code")
    try:
        code = int(code) if code is not None else None
    except (TypeError, ValueError):
        code = None
    server_message = str(err.get("message") or "").strip()
    details = err.get("details") or []
    if not isinstance(details, (list, tuple)):
        details = [details]
    details = [str(d) for d in details if d not in (None, "")]
    where = redact_url(url) if url else "the server"
    text = server_message or "no message"
    extra = [d for d in details if d != server_message]
    if extra:
        text += " (" + "; ".join(extra) + ")"
    kwargs = {"code": code, "server_message": server_message, "details": details, "url": url}
    if code == 498 and "referer" in (text + " " + " ".join(details)).lower():
        return InvalidTokenError(
            f"The token was refused at {where} because of its referer: {text}. A token made "
            "for a referer (a web address) is accepted only from requests carrying that "
            "Referer header. Set the connection's referer to the one the token was made for, "
            "or get a new token without one.", **kwargs)
    if code == 498:
        return InvalidTokenError(
            f"Invalid or expired token at {where}: {text}. Sign in again or get a new token.",
            **kwargs)
    if code == 499:
        return TokenRequiredError(
            f"A token is required at {where}: {text}. Give credentials (UserPasswordAuth) or a "
            "token (TokenAuth).", **kwargs)
    if code == 403:
        return PermissionDeniedError(
            f"Permission denied at {where}: {text}. Check that this user may use the resource.",
            **kwargs)
    label = f"error {code}" if code is not None else "error"
    return ServerError(f"Server {label} at {where}: {text}", **kwargs)


def not_json_error(body: bytes, url: str, status: int, content_type: str,
                   reason: str = "", expected: str = "JSON") -> NotJSONError:
    """Build the error for a body that is not the JSON we asked for."""
    snippet = _excerpt(body)
    where = redact_url(url)
    kind = "HTML" if "html" in (content_type or "").lower() or snippet.lstrip().startswith(
        "<") else "a non-JSON body"
    why = f" ({reason})" if reason else ""
    if kind == "HTML" and _SIGN_IN.search(body[:16384].decode("utf-8", errors="replace")):
        return NotJSONError(
            f"An HTML sign-in page answered {where} instead of {expected} (HTTP {status}): "
            f"{snippet!r}. A proxy or single sign-on between you and the server wants you to "
            "sign in: sign in to it in a web browser (or ask your network administrator), "
            "then try again.", url=url, excerpt=snippet, sign_in=True)
    start = body.lstrip(b"\xef\xbb\xbf \t\r\n")[:1]
    if start in (b"{", b"[") and expected == "JSON":
        return NotJSONError(
            f"The JSON answer from {where} was cut short or garbled on the way{why} "
            f"(HTTP {status}, {len(body)} bytes).", url=url, excerpt=snippet, broken=True)
    return NotJSONError(
        f"Expected {expected} from {where} but got {kind}{why} (HTTP {status}): {snippet!r}. "
        "Check that the URL points to an ArcGIS REST endpoint and that no proxy or login page "
        "is in the way.",
        url=url, excerpt=snippet)


_SIGN_IN = re.compile(r"sign[ -]?in|log[ -]?in|single sign-on|<form[^>]*password|"
                      r"type=.?password", re.IGNORECASE)
