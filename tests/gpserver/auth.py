"""Users, tokens and API keys: ``generateToken`` (server and portal), server tokens, referers.

Kinds of token, as an ArcGIS organisation hands them out:

- ``user``: generateToken with a user name and password, or an OAuth2 access token;
- ``app``: an OAuth2 client_credentials token (no user);
- ``server``: a token for one federated server, from the portal's generateToken with
  ``serverUrl`` (and the portal token, or a user name and password); only it opens a
  federated server, and only that one;
- ``apikey``: a long-lived key that opens only the services it is scoped to.

A token made with ``client=referer`` is refused when the request carries another Referer
header (498 "Invalid Token" with the detail "Invalid referer"). A request with no Referer
header at all is let through, as the Esri sample scripts (the seeds workflow: token made
for www.arcgis.com, then plain GETs) need on ArcGIS Online; a stricter server may refuse it.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import urlsplit

from .errors import RestError, invalid_token

USERS = {"demo": "demo-password"}
MAX_EXPIRATION_MINUTES = 15 * 24 * 60
#: API key -> the services (folder/name, lower case) it opens. Long-lived, never expire here.
API_KEYS = {"AAPK-reference-demo-analysis-key": frozenset({"secure/analysis"})}


@dataclass(frozen=True)
class Token:
    """An issued token (or an API key)."""

    value: str
    username: str | None
    expires: float  # epoch seconds
    referer: str | None
    kind: str = "user"  # user | app | server | apikey
    server: str | None = None  # kind server: the server root it opens
    services: frozenset[str] | None = None  # kind apikey: the services it opens


def server_root(url: str) -> str:
    """``scheme://host:port/<context>`` of a server URL, the way server tokens are bound."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    idx = path.lower().find("/rest")
    if idx >= 0:
        path = path[:idx]
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower(), 0)
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}{path}"


class Tokens:
    """Issues and checks tokens. ``lifetime`` (seconds), when set, overrides the request."""

    def __init__(self, lifetime: float | None = None, users: dict[str, str] | None = None) -> None:
        self.lifetime = lifetime
        self.users = dict(users or USERS)
        self._tokens: dict[str, Token] = {
            key: Token(key, None, float("inf"), None, "apikey", services=scope)
            for key, scope in API_KEYS.items()
        }
        self._lock = threading.Lock()

    def generate(self, params: dict[str, str], referer: str | None = None) -> dict[str, Any]:
        """Answer generateToken for the request's form values (and Referer header)."""
        server_url = params.get("serverUrl") or ""
        portal_token = params.get("token") or ""
        if server_url and portal_token:
            # a federated server's token, exchanged for a portal token
            owner = self.check(portal_token, referer or params.get("referer"))
            if owner.kind != "user":
                raise RestError(400, "Unable to generate token.",
                                ["Only a user's token can be exchanged for a server token."])
            username = owner.username or ""
        else:
            username = self.authenticate(params.get("username") or "",
                                         params.get("password") or "")
        try:
            minutes = float(params.get("expiration") or 60)
        except ValueError as exc:
            raise RestError(
                400, "Unable to generate token.", ["'expiration' must be a number of minutes."]
            ) from exc
        minutes = max(1.0, min(minutes, MAX_EXPIRATION_MINUTES))
        referer = (params.get("referer") or None) if params.get("client") != "requestip" \
            else None
        token = self.issue(
            username, minutes * 60.0, referer,
            kind="server" if server_url else "user",
            server=server_root(server_url) if server_url else None)
        return {"token": token.value, "expires": int(token.expires * 1000), "ssl": False}

    def authenticate(self, username: str, password: str) -> str:
        """Return the user name when the password is right; the ArcGIS 400 error otherwise."""
        missing = [
            f"'{name}' must be specified."
            for name, value in (("username", username), ("password", password))
            if not value
        ]
        if missing:
            raise RestError(400, "Unable to generate token.", missing)
        if self.users.get(username) != password:
            raise RestError(400, "Unable to generate token.", ["Invalid username or password."])
        return username

    def issue(self, username: str | None, seconds: float, referer: str | None = None, *,
              kind: str = "user", server: str | None = None) -> Token:
        """Make and remember a token living ``seconds`` (or the server's fixed lifetime)."""
        life = self.lifetime if self.lifetime is not None else seconds
        token = Token(secrets.token_urlsafe(32), username, time.time() + life, referer, kind,
                      server)
        with self._lock:
            self._tokens[token.value] = token
        return token

    def check(self, value: str, referer: str | None = None, *, service: str | None = None,
              server: str | None = None) -> Token:
        """Return the token if it opens this resource; raise the ArcGIS error otherwise.

        ``referer``: the request's Referer header; ``service``: the GP service asked for
        (API keys are scoped); ``server``: set on a federated server, which takes only its
        own server tokens.
        """
        with self._lock:
            token = self._tokens.get(value)
        if token is None or token.expires <= time.time():
            raise invalid_token()
        if token.referer and referer and referer.rstrip("/") != token.referer.rstrip("/"):
            raise RestError(498, "Invalid Token", ["Invalid referer"])
        if server is not None and (token.kind != "server" or token.server != server_root(server)):
            raise invalid_token()
        if server is None and token.kind == "server":
            raise invalid_token()  # a server token opens its own server only
        if token.kind == "apikey" and service is not None \
                and service.lower() not in (token.services or ()):
            raise RestError(
                403, "You do not have permissions to access this resource or perform this "
                "operation.", ["The API key is not scoped to this service."])
        return token

    def issued(self) -> list[str]:
        """Every token issued so far (for tests that no secret leaks)."""
        with self._lock:
            return [t.value for t in self._tokens.values() if t.kind != "apikey"]

    def expire_all(self) -> None:
        """Make every issued token expired (for tests of refresh-and-retry); keys stay."""
        with self._lock:
            for key, tok in list(self._tokens.items()):
                if tok.kind != "apikey":
                    self._tokens[key] = replace(tok, expires=0.0)
