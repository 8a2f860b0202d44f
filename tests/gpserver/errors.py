"""Errors the reference server answers with, in ArcGIS Server's JSON shape."""

from __future__ import annotations

from typing import Any


class RestError(Exception):
    """An error answered as ``{"error": {"code", "message", "details"}}`` with HTTP 200."""

    def __init__(
        self,
        code: int,
        message: str,
        details: list[str] | None = None,
        *,
        message_code: str | None = None,
        http_status: int = 200,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = list(details or [])
        self.message_code = message_code
        self.http_status = http_status

    def to_json(self) -> dict[str, Any]:
        """Return the error body as ArcGIS Server writes it."""
        err: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.message_code:
            err["messageCode"] = self.message_code
        err["details"] = self.details
        return {"error": err}


def bad_request(*details: str, message: str = "Unable to complete operation.") -> RestError:
    """Return the 400 error ArcGIS Server gives for invalid parameters."""
    return RestError(400, message, list(details))


def not_found(what: str, *details: str) -> RestError:
    """Return a 404-coded error for an unknown resource."""
    return RestError(404, what, list(details) or [what])


def token_required() -> RestError:
    """Return the 499 error (same shape as the recorded ArcGISServerTokenRequired)."""
    return RestError(499, "Token Required", ["Token Required"], message_code="GWM_0003")


def invalid_token() -> RestError:
    """Return the 498 error for an invalid or expired token."""
    return RestError(498, "Invalid Token", ["Invalid Token"])


class JobFailure(Exception):
    """Raised by a task to fail its job with the given error message(s)."""

    def __init__(self, *messages: str) -> None:
        super().__init__(messages[0] if messages else "Job failed.")
        self.messages = list(messages) or ["Job failed."]


class JobCancelled(Exception):
    """Raised inside a task when its job was asked to cancel."""


class JobTimedOut(Exception):
    """Raised inside a task when its job ran past the service's time limit."""


class JobDeleted(Exception):
    """Raised inside a task to end its job as deleted."""
