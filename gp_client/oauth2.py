"""OAuth2 sign-in to an ArcGIS portal (ArcGIS Online or Enterprise), as an app registers it.

- :func:`pkce_pair` and :func:`authorize_url`: the authorization code grant with PKCE
  (S256) for a desktop app with a loopback redirect; the browser step (the portal's sign-in
  page, SAML behind it) is the caller's, which gets back ``?code=...``.
- :class:`OAuth2Auth`: a strategy holding the code (exchanged once), a refresh token, or
  an app's client id + secret (client_credentials grant). Its access token is a portal
  token: it goes to the portal, and servers federated with the portal get a server token
  made from it (see :mod:`.auth`); no other place ever gets it. An expired access token is
  renewed with the refresh token; when the portal refuses that too, the error says to
  sign in again.

Endpoints: ``<portal>/sharing/rest/oauth2/authorize`` and ``.../oauth2/token`` (Esri,
"Authorization code flow with PKCE" in the ArcGIS REST API's authentication guide).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Callable, Optional
from urllib.parse import urlencode

from ._util import LOGGER, redact_url
from .auth import SignedIn, TokenSource, _Token
from .errors import AuthError, ServerError
from .urls import portal_sharing_root


def sharing_root(portal_url: str) -> str:
    """``.../sharing/rest`` of a portal given as ``https://host/portal`` or any sharing URL."""
    return portal_sharing_root(portal_url) or portal_url.rstrip("/") + "/sharing/rest"


def pkce_pair() -> tuple[str, str]:
    """Return a fresh (code_verifier, S256 code_challenge) pair (RFC 7636)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(portal_url: str, client_id: str, redirect_uri: str, code_challenge: str,
                  state: str = "", expiration_minutes: Optional[int] = None) -> str:
    """The URL to open in a browser to sign in (authorization code grant with PKCE)."""
    query = {"client_id": client_id, "response_type": "code", "redirect_uri": redirect_uri,
             "code_challenge": code_challenge, "code_challenge_method": "S256"}
    if state:
        query["state"] = state
    if expiration_minutes:
        query["expiration"] = str(int(expiration_minutes))
    return sharing_root(portal_url) + "/oauth2/authorize?" + urlencode(query)


class OAuth2Auth(SignedIn):
    """Signs in to one portal with OAuth2; tokens go to it and its federated servers only.

    Give one of: ``code`` + ``code_verifier`` + ``redirect_uri`` (just back from the
    browser), ``refresh_token`` (a saved sign-in), or ``client_secret`` (an app's own
    sign-in, client_credentials). ``on_refresh_token`` is called with a new refresh token
    when the portal hands one out, for the caller to keep it (securely).
    """

    def __init__(self, portal_url: str, client_id: str, *, code: Optional[str] = None,
                 code_verifier: Optional[str] = None, redirect_uri: Optional[str] = None,
                 refresh_token: Optional[str] = None, client_secret: Optional[str] = None,
                 referer: Optional[str] = None,
                 on_refresh_token: Optional[Callable[[str], None]] = None) -> None:
        if not client_id:
            raise ValueError("OAuth2Auth needs the app's client id")
        if not (code or refresh_token or client_secret):
            raise ValueError("OAuth2Auth needs a code, a refresh token or a client secret")
        super().__init__(referer)
        self.portal = sharing_root(portal_url)
        self.client_id = client_id
        self.username: Optional[str] = None
        self._code = code
        self._code_used = False
        self._verifier = code_verifier
        self._redirect = redirect_uri
        self._refresh = refresh_token
        self._client_secret = client_secret
        self._on_refresh_token = on_refresh_token

    def __repr__(self) -> str:
        """Never shows a token or the secret."""
        return (f"OAuth2Auth(portal={redact_url(self.portal)!r}, client_id={self.client_id!r}, "
                f"username={self.username!r})")

    @property
    def generate_token_url(self) -> str:
        """The portal's generateToken (federated servers name it as their token service)."""
        return self.portal + "/generateToken"

    def _own_secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self._code, self._verifier, self._refresh,
                                 self._client_secret) if s)

    def _accepts(self, endpoint: str, scope: Optional[str]) -> bool:
        # only this portal, and the servers that take their tokens from it
        return endpoint.rstrip("/").lower() == self.generate_token_url.lower()

    def _fetch(self, tokens: TokenSource, endpoint: str) -> _Token:
        form = {"client_id": self.client_id, "f": "json"}
        with self._lock:
            code = None if self._code_used else self._code
            refresh = self._refresh
        if refresh:
            form.update(grant_type="refresh_token", refresh_token=refresh)
        elif code:
            form.update(grant_type="authorization_code", code=code,
                        code_verifier=self._verifier or "", redirect_uri=self._redirect or "")
        else:
            form.update(grant_type="client_credentials", client_secret=self._client_secret or "")
        url = self.portal + "/oauth2/token"
        try:
            body = tokens.post_form(url, form, self.referer)
        except ServerError as exc:
            raise self._refused(form["grant_type"], exc) from None
        access = body.get("access_token")
        if not access or not isinstance(access, str):
            raise AuthError(f"The portal {redact_url(self.portal)} answered its OAuth2 token "
                            "request without an access token.", url=url)
        new_refresh = body.get("refresh_token")
        with self._lock:
            self._code_used = True  # a code works once (it stays a secret to mask)
            if isinstance(new_refresh, str) and new_refresh:
                self._refresh = new_refresh
            if body.get("username"):
                self.username = str(body["username"])
        if isinstance(new_refresh, str) and new_refresh and self._on_refresh_token:
            self._on_refresh_token(new_refresh)
        try:
            seconds = float(body.get("expires_in") or 1800)
        except (TypeError, ValueError):
            seconds = 1800.0
        LOGGER.debug("Got an OAuth2 access token from %s (%s) valid for %.0f s",
                     redact_url(self.portal), form["grant_type"], seconds)
        tok = _Token.from_expiry(access, None, seconds)
        return tok

    def _refused(self, grant: str, exc: ServerError) -> AuthError:
        what = {"refresh_token": "the saved sign-in (refresh token) is expired or revoked: "
                                 "sign in again",
                "authorization_code": "the sign-in code is used or expired: sign in again",
                "client_credentials": "check the app's client id and client secret"}[grant]
        text = exc.message or str(exc)
        return AuthError(
            f"The portal {redact_url(self.portal)} refused the OAuth2 sign-in of app "
            f"{self.client_id!r} ({grant}): {text.rstrip('.')}. {what[0].upper()}{what[1:]}.",
            code=exc.code, server_message=exc.message, details=exc.details,
            url=self.portal + "/oauth2/token")


class PortalTokenAuth(SignedIn):
    """A portal token someone else holds and renews (QGIS's OAuth2 method, for one).

    ``fetch()`` returns the current access token for the portal (it may sign in or refresh
    first). The token goes to the portal as ``X-Esri-Authorization``, and servers
    federated with the portal get server tokens made from it, as with :class:`OAuth2Auth`.
    The holder's expiry is not known here: the token is asked for again every
    ``recheck_seconds`` and after every 498, so that the holder can renew it.
    """

    def __init__(self, portal_url: str, fetch: Callable[[], str], *,
                 referer: Optional[str] = None, recheck_seconds: float = 60.0,
                 label: str = "") -> None:
        super().__init__(referer)
        self.portal = sharing_root(portal_url)
        self._get = fetch
        self.recheck_seconds = float(recheck_seconds)
        self.label = label

    def __repr__(self) -> str:
        """Never shows a token."""
        return f"PortalTokenAuth(portal={redact_url(self.portal)!r}, label={self.label!r})"

    def _accepts(self, endpoint: str, scope: Optional[str]) -> bool:
        return endpoint.rstrip("/").lower() == (self.portal + "/generateToken").lower()

    def _fetch(self, tokens: TokenSource, endpoint: str) -> _Token:
        value = self._get()
        if not value:
            raise AuthError(f"No token for the portal {redact_url(self.portal)}"
                            f"{' from ' + self.label if self.label else ''}: sign in again.",
                            url=self.portal)
        return _Token.from_expiry(value, None, self.recheck_seconds)
