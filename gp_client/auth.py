"""Authentication strategies: none, a fixed token or API key, and user name + password.

A strategy only decorates requests: it gives the headers for one request
(``headers_for``), gets one chance to repair things after an ArcGIS 498/499 error
(``on_auth_error``: True means "retry once"), and lists its secrets so that the client can
mask them in any error text (``secrets``). It gets tokens through a :class:`TokenSource`
the client hands it (two unsigned requests), never through the client itself, and holds
its lock only around its own dictionaries, never during a request.

Tokens travel only in the ``X-Esri-Authorization: Bearer <token>`` header (ArcGIS Server
10.x and later, Portal and ArcGIS Online read it), never in a URL. A token goes only to:

- the origin (scheme, host, port) of the endpoint that issued it, and
- an origin whose own ``<context>/rest/info`` names that endpoint as its token service
  (a server federated with a portal, or ArcGIS Online's analysis servers).

Downloads never trigger that lookup, so a result file on another host gets no token.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Optional, Protocol
from urllib.parse import urljoin, urlsplit

from ._util import LOGGER, redact_url
from .errors import AuthError, GPError, ServerError, TokenRequiredError
from .urls import guess_token_url, origin_of, portal_sharing_root, same_endpoint, server_context

AUTH_HEADER = "X-Esri-Authorization"


class TokenSource(Protocol):
    """What a strategy may ask of the client: unsigned requests to token services."""

    def get_json(self, url: str) -> dict:
        """GET ``url`` (f=json) without credentials and return the JSON object."""
        ...

    def post_form(self, url: str, data: dict) -> dict:
        """POST ``data`` to a token endpoint without other credentials; return the JSON."""
        ...


class Auth(Protocol):
    """What the client asks of an authentication strategy."""

    def headers_for(self, tokens: TokenSource, method: str, url: str, *,
                    discover: bool = True) -> dict:
        """Return the headers to add to a request to ``url``."""
        ...

    def on_auth_error(self, tokens: TokenSource, url: str, error: AuthError, *,
                      discover: bool = True) -> bool:
        """Repair what can be repaired after a 498/499; True means repeat the request once.

        ``discover`` is False for downloads: an origin not met before must not make the
        strategy look for (or send credentials to) a token service.
        """
        ...

    def secrets(self) -> tuple[str, ...]:
        """Every secret this strategy holds (to be masked in error text)."""
        ...


class NoAuth:
    """No authentication: anonymous access."""

    def headers_for(self, tokens: TokenSource, method: str, url: str, *,
                    discover: bool = True) -> dict:
        """Return no headers."""
        return {}

    def on_auth_error(self, tokens: TokenSource, url: str, error: AuthError, *,
                      discover: bool = True) -> bool:
        """Nothing to repair."""
        return False

    def secrets(self) -> tuple[str, ...]:
        """No secrets."""
        return ()

    def __repr__(self) -> str:
        """Plain name."""
        return "NoAuth()"


class TokenAuth:
    """A fixed token or API key, sent to one set of origins.

    ``origins``: the scheme://host[:port] values the token may go to. When not given, the
    token is bound to the origin of the first request made with it (the service you open),
    and never sent anywhere else.
    """

    def __init__(self, token: str, referer: Optional[str] = None, *,
                 origins: Optional[Iterable[str]] = None) -> None:
        if not token or not isinstance(token, str):
            raise ValueError("TokenAuth needs a non-empty token string")
        self._token = token
        self.referer = referer
        self._origins = {origin_of(o) for o in origins} if origins else set()
        self._lock = threading.Lock()

    def headers_for(self, tokens: TokenSource, method: str, url: str, *,
                    discover: bool = True) -> dict:
        """Return the token header when ``url`` is on an allowed origin."""
        origin = origin_of(url)
        with self._lock:
            if not self._origins and discover:
                self._origins.add(origin)
                LOGGER.debug("TokenAuth bound to %s", origin)
            allowed = origin in self._origins
        headers = {}
        if self.referer:
            headers["Referer"] = self.referer
        if allowed:
            headers[AUTH_HEADER] = "Bearer " + self._token
        return headers

    def on_auth_error(self, tokens: TokenSource, url: str, error: AuthError, *,
                      discover: bool = True) -> bool:
        """A fixed token cannot be refreshed."""
        return False

    def secrets(self) -> tuple[str, ...]:
        """The token."""
        return (self._token,)

    def __repr__(self) -> str:
        """Never shows the token."""
        return f"TokenAuth(token='***', referer={self.referer!r})"


@dataclass
class _Token:
    value: str
    expires_at: float  # time.time() seconds
    lifetime: float

    def expiring(self, now: float) -> bool:
        margin = max(0.0, min(120.0, 0.2 * self.lifetime))
        return now >= self.expires_at - margin


class UserPasswordAuth:
    """User name and password, exchanged for tokens by ``generateToken`` as needed.

    The token endpoint is ``token_url`` when given; otherwise it is found per server from
    ``<context>/rest/info`` (``authInfo.tokenServicesUrl``), or ``<...>/sharing/rest/
    generateToken`` for a portal. Tokens are cached, renewed shortly before they expire, and
    renewed once more when the server answers 498 (invalid token) or 499 (token required).
    """

    def __init__(self, username: str, password: str, *, token_url: Optional[str] = None,
                 referer: Optional[str] = None, expiration_minutes: int = 60) -> None:
        if not username or not password:
            raise ValueError("UserPasswordAuth needs a user name and a password")
        self.username = username
        self._password = password
        self.token_url = token_url.rstrip("/") if token_url else None
        self.referer = referer
        self.expiration_minutes = int(expiration_minutes)
        self._issuers: dict[str, Optional[str]] = {}
        self._tokens: dict[str, _Token] = {}
        self._issued: list[str] = []
        self._lock = threading.Lock()
        if self.token_url:
            self._issuers[origin_of(self.token_url)] = self.token_url

    # -- the Auth protocol -------------------------------------------------------------

    def headers_for(self, tokens: TokenSource, method: str, url: str, *,
                    discover: bool = True) -> dict:
        """Return the token header for ``url`` (getting a token first if needed)."""
        headers = {}
        if self.referer:
            headers["Referer"] = self.referer
        issuer = self._issuer(tokens, url, discover)
        if issuer and not same_endpoint(url, issuer):
            headers[AUTH_HEADER] = "Bearer " + self._get_token(tokens, issuer)
        return headers

    def on_auth_error(self, tokens: TokenSource, url: str, error: AuthError, *,
                      discover: bool = True) -> bool:
        """Drop the rejected token (or find the token service) so that a retry gets a new one."""
        origin = origin_of(url)
        with self._lock:
            issuer = self._issuers.get(origin)
            if issuer:
                if issuer in self._tokens:
                    LOGGER.info("Token for %s rejected (%s); getting a new one",
                                origin, error.code)
                    del self._tokens[issuer]
                    return True
                return False
            if not discover:
                return False  # never look for a token service on behalf of a download
            # Unknown or "no token needed" origin: look again, then guess.
            self._issuers.pop(origin, None)
        found = self._issuer(tokens, url, True)
        if found:
            return True
        if isinstance(error, TokenRequiredError):
            guess = guess_token_url(url)
            if guess:
                with self._lock:
                    self._issuers[origin] = guess
                return True
        return False

    def secrets(self) -> tuple[str, ...]:
        """The password and every token issued so far."""
        with self._lock:
            return (self._password, *self._issued)

    def __repr__(self) -> str:
        """Never shows the password or tokens."""
        return (f"UserPasswordAuth(username={self.username!r}, password='***', "
                f"token_url={self.token_url!r}, referer={self.referer!r})")

    # -- internals ---------------------------------------------------------------------

    def _issuer(self, tokens: TokenSource, url: str, discover: bool) -> Optional[str]:
        origin = origin_of(url)
        with self._lock:
            if origin in self._issuers:
                return self._issuers[origin]
        if not discover:
            return None
        issuer = self._discover(tokens, url)  # a request: outside the lock
        if self.token_url and issuer and issuer != self.token_url \
                and origin != origin_of(self.token_url):
            # The user chose a token service; this server names another one.
            LOGGER.info("%s names token service %s, not %s: no token sent there",
                        origin, redact_url(issuer), redact_url(self.token_url))
            issuer = None
        with self._lock:
            # another thread may have looked at the same time: the first answer stays
            return self._issuers.setdefault(origin, issuer)

    def _discover(self, tokens: TokenSource, url: str) -> Optional[str]:
        sharing = portal_sharing_root(url)
        if sharing:
            return sharing + "/generateToken"
        info_url = server_context(url) + "/rest/info"
        try:
            info = tokens.get_json(info_url)
        except GPError as exc:
            LOGGER.debug("No token service found at %s: %s", redact_url(info_url), exc)
            return None
        auth_info = info.get("authInfo") or {}
        if not auth_info.get("isTokenBasedSecurity"):
            LOGGER.debug("%s does not use token security", redact_url(info_url))
            return None
        token_services = auth_info.get("tokenServicesUrl")
        if not token_services:
            return None
        issuer = urljoin(info_url, token_services).rstrip("/")
        LOGGER.debug("Token service for %s: %s", origin_of(url), redact_url(issuer))
        return issuer

    def _get_token(self, tokens: TokenSource, issuer: str) -> str:
        with self._lock:
            tok = self._tokens.get(issuer)
            if tok is not None and not tok.expiring(time.time()):
                return tok.value
        tok = self._generate(tokens, issuer)  # a request: outside the lock
        with self._lock:
            self._tokens[issuer] = tok
            self._issued.append(tok.value)
            del self._issued[:-20]
        return tok.value

    def _generate(self, tokens: TokenSource, issuer: str) -> _Token:
        data = {
            "username": self.username,
            "password": self._password,
            "expiration": str(self.expiration_minutes),
            "f": "json",
        }
        if self.referer:
            data["client"] = "referer"
            data["referer"] = self.referer
        else:
            data["client"] = "requestip"
        url = issuer
        if urlsplit(url).scheme == "http" and urlsplit(url).hostname not in (
                "127.0.0.1", "localhost", "::1"):
            LOGGER.warning("Sending a password over plain HTTP to %s; use HTTPS",
                           redact_url(url))
        try:
            body = tokens.post_form(url, data)
        except AuthError as exc:
            raise self._failed(url, exc) from None
        except ServerError as exc:
            text = (exc.message + " " + " ".join(exc.details)).lower()
            if "https" in text and url.startswith("http://"):
                # Esri's documented quirk: "This request needs to be made over https."
                url = "https://" + url[len("http://"):]
                try:
                    body = tokens.post_form(url, data)
                except ServerError as exc2:
                    raise self._failed(url, exc2) from None
            else:
                raise self._failed(url, exc) from None
        token = body.get("token")
        if not token or not isinstance(token, str):
            raise AuthError(f"The token service {redact_url(url)} answered without a token. "
                            "Check the token URL.", url=url)
        now = time.time()
        expires = body.get("expires")
        try:
            expires_at = float(expires) / 1000.0
        except (TypeError, ValueError):
            expires_at = now + 60.0 * self.expiration_minutes
        lifetime = max(1.0, expires_at - now)
        LOGGER.debug("Got a token from %s valid for %.0f s", redact_url(url), lifetime)
        return _Token(token, expires_at, lifetime)

    def _failed(self, url: str, exc: ServerError) -> AuthError:
        detail = exc.message or str(exc)
        if exc.details:
            detail += " (" + "; ".join(d for d in exc.details if d != exc.message) + ")"
        return AuthError(
            f"Could not get a token for user {self.username!r} from {redact_url(url)}: "
            f"{detail.strip()} Check the user name, the password and the token URL.",
            code=exc.code, server_message=exc.message, details=exc.details, url=url)
