"""Authentication strategies: none, a fixed token or API key, user name + password.

A strategy only decorates requests: it gives the headers for one request
(``headers_for``), gets one chance to repair things after an ArcGIS 498/499 error
(``on_auth_error``: True means "retry once"), and lists its secrets so that the client can
mask them in any error text (``secrets``). It gets tokens through a :class:`TokenSource`
the client hands it (two unsigned requests), never through the client itself, and holds
its lock only around its own dictionaries, never during a request.

Tokens travel only in the ``X-Esri-Authorization: Bearer <token>`` header (ArcGIS Server
10.x and later, Portal and ArcGIS Online read it), never in a URL. Signed-in strategies
(:class:`UserPasswordAuth`, and ``oauth2.OAuth2Auth``) keep one token per place they sign
in to, a *scope*: a portal (``.../sharing/rest``) or a server (``<origin>/<context>``).
A token goes only to:

- the portal or server that issued it;
- a server whose own ``<context>/rest/info`` names that token service: a server federated
  with a portal gets a *server token* the portal makes for it (``generateToken`` with
  ``serverUrl`` and the portal token), cached per server and renewed on 498.

Downloads never trigger that lookup, so a result file on another host gets no token.
A token made for a referer is always sent with that ``Referer`` header.
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

    def post_form(self, url: str, data: dict, referer: Optional[str] = None) -> dict:
        """POST ``data`` to a token endpoint (with that Referer header); return the JSON."""
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

    @classmethod
    def from_expiry(cls, value: str, expires_ms: object, default_seconds: float) -> _Token:
        """A token from generateToken's ``expires`` (epoch milliseconds), if it gave one."""
        now = time.time()
        try:
            expires_at = float(expires_ms) / 1000.0  # type: ignore[arg-type]
        except (TypeError, ValueError):
            expires_at = now + default_seconds
        return cls(value, expires_at, max(1.0, expires_at - now))


@dataclass(frozen=True)
class _Key:
    """How a scope gets its token: from ``endpoint``, exchanged for ``server`` if set."""

    endpoint: str
    server: Optional[str] = None


class SignedIn:
    """Base of the strategies that get tokens: scopes, federation, refresh, secrets.

    A subclass says how to get a token from a token endpoint (``_fetch``) and which
    endpoints it may use (``_accepts``); everything else is shared.
    """

    def __init__(self, referer: Optional[str] = None) -> None:
        self.referer = referer
        self._keys: dict[str, Optional[_Key]] = {}  # scope -> how it gets its token
        self._tokens: dict[_Key, _Token] = {}
        self._issued: list[str] = []
        self._lock = threading.Lock()

    # -- the Auth protocol -------------------------------------------------------------

    def headers_for(self, tokens: TokenSource, method: str, url: str, *,
                    discover: bool = True) -> dict:
        """Return the Referer and token headers for ``url`` (getting a token if needed)."""
        headers = {}
        if self.referer:
            headers["Referer"] = self.referer
        key = self._key(tokens, url, discover)
        if key and not same_endpoint(url, key.endpoint):
            headers[AUTH_HEADER] = "Bearer " + self._token(tokens, key)
        return headers

    def on_auth_error(self, tokens: TokenSource, url: str, error: AuthError, *,
                      discover: bool = True) -> bool:
        """Drop the rejected token (or find the token service) so that a retry gets a new one."""
        if is_referer_error(error):
            return False  # a new token would be refused for the same reason
        scope = token_scope(url)
        with self._lock:
            known = scope in self._keys
            key = self._keys.get(scope)
            if key is not None:
                dropped = self._tokens.pop(key, None) is not None
                if dropped:
                    LOGGER.info("Token for %s rejected (%s); getting a new one",
                                redact_url(scope), error.code)
                return dropped
            if not discover:
                return False  # never look for a token service on behalf of a download
            if known:
                del self._keys[scope]  # "no token needed" was wrong: look again
        if self._key(tokens, url, True):
            return True
        if isinstance(error, TokenRequiredError):
            guess = guess_token_url(url)
            if guess and self._accepts(guess, scope):
                with self._lock:
                    self._keys[scope] = _Key(guess)
                return True
        return False

    def secrets(self) -> tuple[str, ...]:
        """The strategy's own secrets and every token issued so far."""
        with self._lock:
            return (*self._own_secrets(), *self._issued)

    # -- for subclasses ----------------------------------------------------------------

    def _fetch(self, tokens: TokenSource, endpoint: str) -> _Token:
        """Get a new token from ``endpoint`` (a generateToken or a portal's)."""
        raise NotImplementedError

    def _accepts(self, endpoint: str, scope: Optional[str]) -> bool:
        """Whether this strategy may get a token from ``endpoint`` for ``scope``."""
        return True

    def _own_secrets(self) -> tuple[str, ...]:
        return ()

    def _forget(self, endpoint: str) -> None:
        """Drop the cached token of ``endpoint`` (it was refused while exchanging it)."""
        with self._lock:
            self._tokens.pop(_Key(endpoint), None)

    # -- internals ---------------------------------------------------------------------

    def _key(self, tokens: TokenSource, url: str, discover: bool) -> Optional[_Key]:
        scope = token_scope(url)
        with self._lock:
            if scope in self._keys:
                return self._keys[scope]
        if not discover:
            return None
        key = self._discover(tokens, url, scope)  # requests: outside the lock
        with self._lock:
            # another thread may have looked at the same time: the first answer stays
            return self._keys.setdefault(scope, key)

    def _discover(self, tokens: TokenSource, url: str, scope: str) -> Optional[_Key]:
        if portal_sharing_root(url):
            endpoint = scope + "/generateToken"
            return _Key(endpoint) if self._accepts(endpoint, scope) else None
        info_url = scope + "/rest/info"
        try:
            info = tokens.get_json(info_url)
        except GPError as exc:
            LOGGER.debug("No token service found at %s: %s", redact_url(info_url), exc)
            return None
        auth_info = info.get("authInfo") or {}
        if not auth_info.get("isTokenBasedSecurity") or not auth_info.get("tokenServicesUrl"):
            LOGGER.debug("%s does not use token security", redact_url(info_url))
            return None
        endpoint = urljoin(info_url, auth_info["tokenServicesUrl"]).rstrip("/")
        # a server whose tokens come from a portal is federated with it: it takes the
        # server tokens that portal makes for it
        server = scope if portal_sharing_root(endpoint) else None
        if not self._accepts(endpoint, scope):
            LOGGER.info("%s names token service %s: not one this sign-in uses, no token "
                        "sent there", redact_url(scope), redact_url(endpoint))
            return None
        LOGGER.debug("Token service for %s: %s%s", redact_url(scope), redact_url(endpoint),
                     " (federated server)" if server else "")
        return _Key(endpoint, server)

    def _token(self, tokens: TokenSource, key: _Key) -> str:
        with self._lock:
            tok = self._tokens.get(key)
            if tok is not None and not tok.expiring(time.time()):
                return tok.value
        if key.server is None:
            tok = self._fetch(tokens, key.endpoint)  # a request: outside the lock
        else:
            tok = self._exchange(tokens, key)
        with self._lock:
            self._tokens[key] = tok
            self._issued.append(tok.value)
            del self._issued[:-20]
        return tok.value

    def _exchange(self, tokens: TokenSource, key: _Key) -> _Token:
        """A federated server's token: the portal's generateToken with serverUrl."""
        for attempt in (0, 1):
            form = {"token": self._token(tokens, _Key(key.endpoint)),
                    "serverUrl": key.server or "", "f": "json"}
            if self.referer:
                form.update(client="referer", referer=self.referer)
            else:
                form["client"] = "requestip"
            try:
                body = tokens.post_form(key.endpoint, form, self.referer)
            except AuthError as exc:
                if attempt == 0 and not is_referer_error(exc):
                    self._forget(key.endpoint)  # the portal token died early: a new one
                    continue
                raise self._exchange_failed(key, exc) from None
            except ServerError as exc:
                raise self._exchange_failed(key, exc) from None
            token = body.get("token")
            if not token or not isinstance(token, str):
                raise AuthError(f"The portal {redact_url(key.endpoint)} made no token for "
                                f"the federated server {redact_url(key.server or '')}.",
                                url=key.endpoint)
            LOGGER.debug("Got a server token for %s", redact_url(key.server or ""))
            return _Token.from_expiry(token, body.get("expires"), 3600.0)
        raise AssertionError("unreachable")  # pragma: no cover

    def _exchange_failed(self, key: _Key, exc: ServerError) -> AuthError:
        return AuthError(
            f"The portal {redact_url(key.endpoint)} would not make a token for the federated "
            f"server {redact_url(key.server or '')}: {_detail(exc)} The server may not be "
            "federated with this portal, or this sign-in may not use it.",
            code=exc.code, server_message=exc.message, details=exc.details, url=key.endpoint)


class UserPasswordAuth(SignedIn):
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
        super().__init__(referer)
        self.username = username
        self._password = password
        self.token_url = token_url.rstrip("/") if token_url else None
        self.expiration_minutes = int(expiration_minutes)
        if self.token_url:
            scope = token_scope(self.token_url)
            self._keys[scope] = _Key(self.token_url)

    def __repr__(self) -> str:
        """Never shows the password or tokens."""
        return (f"UserPasswordAuth(username={self.username!r}, password='***', "
                f"token_url={self.token_url!r}, referer={self.referer!r})")

    def _own_secrets(self) -> tuple[str, ...]:
        return (self._password,)

    def _accepts(self, endpoint: str, scope: Optional[str]) -> bool:
        # The user chose a token service: a server naming another one gets no password
        return not self.token_url or endpoint == self.token_url or (
            scope is not None and origin_of(scope) == origin_of(self.token_url))

    def _fetch(self, tokens: TokenSource, endpoint: str) -> _Token:
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
        url = endpoint
        if urlsplit(url).scheme == "http" and urlsplit(url).hostname not in (
                "127.0.0.1", "localhost", "::1"):
            LOGGER.warning("Sending a password over plain HTTP to %s; use HTTPS",
                           redact_url(url))
        try:
            body = tokens.post_form(url, data, self.referer)
        except AuthError as exc:
            raise self._failed(url, exc) from None
        except ServerError as exc:
            text = (exc.message + " " + " ".join(exc.details)).lower()
            if "https" in text and url.startswith("http://"):
                # Esri's documented quirk: "This request needs to be made over https."
                url = "https://" + url[len("http://"):]
                try:
                    body = tokens.post_form(url, data, self.referer)
                except ServerError as exc2:
                    raise self._failed(url, exc2) from None
            else:
                raise self._failed(url, exc) from None
        token = body.get("token")
        if not token or not isinstance(token, str):
            raise AuthError(f"The token service {redact_url(url)} answered without a token. "
                            "Check the token URL.", url=url)
        tok = _Token.from_expiry(token, body.get("expires"), 60.0 * self.expiration_minutes)
        LOGGER.debug("Got a token from %s valid for %.0f s", redact_url(url), tok.lifetime)
        return tok

    def _failed(self, url: str, exc: ServerError) -> AuthError:
        return AuthError(
            f"Could not get a token for user {self.username!r} from {redact_url(url)}: "
            f"{_detail(exc)} Check the user name, the password and the token URL.",
            code=exc.code, server_message=exc.message, details=exc.details, url=url)


def token_scope(url: str) -> str:
    """Where one token is valid: a portal's ``.../sharing/rest`` or a server's context."""
    return portal_sharing_root(url) or server_context(url)


def is_referer_error(error: GPError) -> bool:
    """True for the server's 498 "invalid referer" (the token is bound to another referer)."""
    text = " ".join([getattr(error, "message", "") or "", *getattr(error, "details", ())])
    return getattr(error, "code", None) == 498 and "referer" in text.lower()


def _detail(exc: ServerError) -> str:
    detail = exc.message or str(exc)
    if exc.details:
        detail += " (" + "; ".join(d for d in exc.details if d != exc.message) + ")"
    return detail.strip() + ("" if detail.strip().endswith(".") else ".")
