"""Users and tokens (``generateToken`` on the server and on the portal)."""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from .errors import RestError, invalid_token

USERS = {"demo": "demo-password"}
MAX_EXPIRATION_MINUTES = 15 * 24 * 60


@dataclass(frozen=True)
class Token:
    """An issued token."""

    value: str
    username: str
    expires: float  # epoch seconds
    referer: str | None


class Tokens:
    """Issues and checks tokens. ``lifetime`` (seconds), when set, overrides the request."""

    def __init__(self, lifetime: float | None = None, users: dict[str, str] | None = None) -> None:
        self.lifetime = lifetime
        self.users = dict(users or USERS)
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def generate(self, params: dict[str, str]) -> dict[str, Any]:
        """Answer generateToken for the request's form values."""
        username = params.get("username") or ""
        password = params.get("password") or ""
        missing = [
            f"'{name}' must be specified."
            for name, value in (("username", username), ("password", password))
            if not value
        ]
        if missing:
            raise RestError(400, "Unable to generate token.", missing)
        if self.users.get(username) != password:
            raise RestError(400, "Unable to generate token.", ["Invalid username or password."])
        try:
            minutes = float(params.get("expiration") or 60)
        except ValueError as exc:
            raise RestError(
                400, "Unable to generate token.", ["'expiration' must be a number of minutes."]
            ) from exc
        minutes = max(1.0, min(minutes, MAX_EXPIRATION_MINUTES))
        seconds = self.lifetime if self.lifetime is not None else minutes * 60.0
        referer = params.get("referer") or None
        token = Token(secrets.token_urlsafe(32), username, time.time() + seconds, referer)
        with self._lock:
            self._tokens[token.value] = token
        return {"token": token.value, "expires": int(token.expires * 1000), "ssl": False}

    def check(self, value: str) -> Token:
        """Return the token if valid and not expired; raise the 498 error otherwise."""
        with self._lock:
            token = self._tokens.get(value)
        if token is None or token.expires <= time.time():
            raise invalid_token()
        return token

    def expire_all(self) -> None:
        """Make every issued token expired (for tests of refresh-and-retry)."""
        with self._lock:
            for key, tok in list(self._tokens.items()):
                self._tokens[key] = Token(tok.value, tok.username, 0.0, tok.referer)
