"""The portal's OAuth2: ``/sharing/rest/oauth2/authorize`` (a sign-in form) and ``/token``.

As ArcGIS Online and Enterprise portals do it: an app registered with a client id (and,
for app sign-in, a client secret); the authorization code grant with PKCE (S256) and a
loopback redirect URI on any port, as desktop apps use; refresh tokens; the
client_credentials grant. Access tokens are ordinary ``user`` (or ``app``) tokens of the
server's :class:`~.auth.Tokens`, so they live ``token_lifetime`` seconds when the server
was started with one (short-lived tokens for refresh tests).

The authorize step answers an HTML sign-in form; posting it (``oauth2/signin``) redirects
(302) to ``redirect_uri?code=...&state=...``, the way a browser is sent back to the app.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urlsplit

from .errors import RestError
from .httpd import Request, Response

#: A desktop app (public client: no secret, PKCE) and a server-side app (with a secret).
DESKTOP_CLIENT_ID = "arcgisgp-qgis-desktop"
APP_CLIENT_ID = "arcgisgp-batch-app"
APP_CLIENT_SECRET = "reference-app-secret-0f3c9a"
ACCESS_SECONDS = 1800  # ArcGIS's default for OAuth2 access tokens: 30 minutes
REFRESH_SECONDS = 14 * 24 * 3600  # two weeks, ArcGIS's default for refresh tokens
CODE_SECONDS = 300


@dataclass(frozen=True)
class App:
    """A registered app."""

    client_id: str
    secret: str | None
    redirect_hosts: tuple[str, ...] = ("127.0.0.1", "localhost", "[::1]")


APPS = {
    DESKTOP_CLIENT_ID: App(DESKTOP_CLIENT_ID, None),
    APP_CLIENT_ID: App(APP_CLIENT_ID, APP_CLIENT_SECRET),
}


@dataclass(frozen=True)
class _Grant:
    """What an authorization code or a refresh token stands for."""

    client_id: str
    username: str
    expires: float
    redirect_uri: str = ""
    challenge: str = ""


def _oauth_error(kind: str, description: str) -> RestError:
    err = RestError(400, description, [description])
    err.oauth_kind = kind  # type: ignore[attr-defined]
    return err


class OAuth2:
    """The portal's OAuth2 endpoints and their state (codes, refresh tokens)."""

    def __init__(self, gp: Any) -> None:
        self.gp = gp
        self._codes: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._lock = threading.Lock()
        self.grants: list[str] = []  # the grant_type of every token request, in order

    # -- authorize: the sign-in form ------------------------------------------------------------
    def authorize(self, req: Request) -> Response:
        """``oauth2/authorize``: check the app and the redirect, then show the sign-in form."""
        fields = self._authorize_fields(req)
        return self._form(fields, "")

    def signin(self, req: Request) -> Response:
        """``oauth2/signin`` (the form's POST): right password -> 302 to the app with a code."""
        fields = self._authorize_fields(req)
        username = req.get("username") or ""
        try:
            self.gp.tokens.authenticate(username, req.get("password") or "")
        except RestError:
            return self._form(fields, "Invalid username or password.")
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = _Grant(fields["client_id"], username, time.time() + CODE_SECONDS,
                                       fields["redirect_uri"], fields["code_challenge"])
        query = {"code": code}
        if fields.get("state"):
            query["state"] = fields["state"]
        sep = "&" if "?" in fields["redirect_uri"] else "?"
        return Response(raw=b"", status=302, content_type="text/html; charset=utf-8",
                        headers={"Location": fields["redirect_uri"] + sep + urlencode(query)})

    def _authorize_fields(self, req: Request) -> dict[str, str]:
        app = APPS.get(req.get("client_id") or "")
        if app is None:
            raise RestError(400, "Invalid client_id", ["Invalid client_id"], http_status=400)
        redirect = req.get("redirect_uri") or ""
        host = urlsplit(redirect).netloc.rsplit(":", 1)[0] if redirect else ""
        if not redirect.startswith("http://") or host not in app.redirect_hosts:
            raise RestError(400, "Invalid redirect_uri", ["Invalid redirect_uri"],
                            http_status=400)
        if (req.get("response_type") or "") != "code":
            raise RestError(400, "Unsupported response_type", ["Use response_type=code."],
                            http_status=400)
        challenge = req.get("code_challenge") or ""
        if app.secret is None and (not challenge
                                   or (req.get("code_challenge_method") or "") != "S256"):
            raise RestError(400, "PKCE required", [
                "A public app must send code_challenge with code_challenge_method=S256."],
                http_status=400)
        return {"client_id": app.client_id, "redirect_uri": redirect, "response_type": "code",
                "state": req.get("state") or "", "code_challenge": challenge,
                "code_challenge_method": req.get("code_challenge_method") or ""}

    @staticmethod
    def _form(fields: dict[str, str], problem: str) -> Response:
        hidden = "".join(f'<input type="hidden" name="{html.escape(k)}" '
                         f'value="{html.escape(v)}">' for k, v in fields.items())
        note = f'<p class="error">{html.escape(problem)}</p>' if problem else ""
        page = (
            "<!DOCTYPE html><html><head><title>Sign in</title></head><body>"
            f"<h1>Sign in to Reference Portal</h1>{note}"
            '<form method="post" action="signin">'
            f"{hidden}"
            '<label>Username <input type="text" name="username"></label>'
            '<label>Password <input type="password" name="password"></label>'
            '<button type="submit">Sign In</button></form></body></html>'
        )
        return Response(raw=page.encode("utf-8"), content_type="text/html; charset=utf-8")

    # -- token ----------------------------------------------------------------------------------
    def token(self, req: Request) -> Response:
        """``oauth2/token``: authorization_code (+PKCE), refresh_token, client_credentials."""
        try:
            grant = req.get("grant_type") or ""
            with self._lock:
                self.grants.append(grant)
            if grant == "authorization_code":
                body = self._from_code(req)
            elif grant == "refresh_token":
                body = self._from_refresh(req)
            elif grant == "client_credentials":
                body = self._from_secret(req)
            else:
                raise _oauth_error("unsupported_grant_type", f"Unsupported grant_type {grant!r}")
        except RestError as exc:
            kind = getattr(exc, "oauth_kind", "invalid_request")
            body = {"error": {"code": 400, "error": kind, "error_description": exc.message,
                              "message": exc.message, "details": exc.details}}
        # JSON whatever ``f`` says: OAuth2 clients (QGIS's O2) do not send f=json
        return Response(raw=json.dumps(body).encode("utf-8"),
                        content_type="application/json; charset=utf-8")

    def _app(self, req: Request) -> App:
        app = APPS.get(req.get("client_id") or "")
        if app is None:
            raise _oauth_error("invalid_client", "Invalid client_id")
        return app

    def _from_code(self, req: Request) -> dict[str, Any]:
        app = self._app(req)
        with self._lock:
            grant = self._codes.get(req.get("code") or "")
            self._codes[req.get("code") or ""] = _Grant("", "", 0.0)  # a code works once
        if grant is None or grant.expires < time.time() or grant.client_id != app.client_id:
            raise _oauth_error("invalid_grant", "Invalid authorization code")
        if (req.get("redirect_uri") or "") != grant.redirect_uri:
            raise _oauth_error("invalid_grant", "Invalid redirect_uri")
        verifier = (req.get("code_verifier") or "").encode("ascii", "replace")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=")
        if grant.challenge and digest.decode() != grant.challenge:
            raise _oauth_error("invalid_grant", "Invalid code_verifier")
        if app.secret is not None and not grant.challenge \
                and req.get("client_secret") != app.secret:
            raise _oauth_error("invalid_client", "Invalid client_secret")
        refresh = secrets.token_urlsafe(32)
        with self._lock:
            self._refresh[refresh] = _Grant(app.client_id, grant.username,
                                            time.time() + REFRESH_SECONDS)
        body = self._access(grant.username, "user")
        body.update(refresh_token=refresh, refresh_token_expires_in=REFRESH_SECONDS)
        return body

    def _from_refresh(self, req: Request) -> dict[str, Any]:
        app = self._app(req)
        with self._lock:
            grant = self._refresh.get(req.get("refresh_token") or "")
        if grant is None or grant.expires < time.time() or grant.client_id != app.client_id:
            raise _oauth_error("invalid_grant", "Invalid refresh_token")
        # as ArcGIS does: no new refresh token, the old one stays valid
        return self._access(grant.username, "user")

    def _from_secret(self, req: Request) -> dict[str, Any]:
        app = self._app(req)
        if app.secret is None or req.get("client_secret") != app.secret:
            raise _oauth_error("invalid_client", "Invalid client_id or client_secret")
        return self._access(None, "app")

    def _access(self, username: str | None, kind: str) -> dict[str, Any]:
        token = self.gp.tokens.issue(username, ACCESS_SECONDS, kind=kind)
        body: dict[str, Any] = {"access_token": token.value,
                                # whole seconds, rounded down: a client never
                                # believes a token lives longer than it does
                                "expires_in": max(1, int(token.expires - time.time())),
                                "ssl": False}
        if username:
            body["username"] = username
        return body

    def secrets(self) -> list[str]:
        """Every code and refresh token handed out (for tests that no secret leaks)."""
        with self._lock:
            return [s for s in (*self._codes, *self._refresh) if s]

    def revoke_refresh_tokens(self) -> None:
        """Forget every refresh token (the user must sign in again)."""
        with self._lock:
            self._refresh.clear()


# -- the browser side, for tests -------------------------------------------------------------
class _FormReader(HTMLParser):
    """Collects the first form's action and its input fields."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}
        self.errors: list[str] = []
        self._in_error = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Remember the form's action, its inputs and error paragraphs."""
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = a.get("action", "")
        elif tag == "input" and a.get("name"):
            self.fields[a["name"]] = a.get("value", "")
        self._in_error = tag == "p" and a.get("class") == "error"

    def handle_data(self, data: str) -> None:
        """Keep the text of error paragraphs."""
        if self._in_error and data.strip():
            self.errors.append(data.strip())


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the app's loopback redirect is read, not followed


def browser_sign_in(authorize_url: str, username: str, password: str) -> str:
    """Do in place of a browser what a user does: open the URL, fill the form, submit.

    Returns the URL the portal redirects to (``redirect_uri?code=...&state=...``); raises
    ValueError with the page's error text when the portal shows the form again.
    """
    opener = urllib.request.build_opener(_NoRedirect)
    with opener.open(authorize_url, timeout=30) as page:
        reader = _FormReader()
        reader.feed(page.read().decode("utf-8"))
    if reader.action is None:
        raise ValueError("the authorize page has no sign-in form")
    form = dict(reader.fields, username=username, password=password)
    target = urllib.parse.urljoin(authorize_url, reader.action)
    request = urllib.request.Request(target, data=urlencode(form).encode("ascii"),
                                     method="POST")
    try:
        with opener.open(request, timeout=30) as answer:
            again = _FormReader()
            again.feed(answer.read().decode("utf-8"))
            raise ValueError("; ".join(again.errors) or "the portal did not redirect")
    except urllib.error.HTTPError as exc:  # the 302 (not followed) lands here
        if exc.code in (301, 302, 303, 307) and exc.headers.get("Location"):
            return str(exc.headers["Location"])
        raise
