"""Signing in the way organisations do, against the reference portal and a federated server.

Federated server tokens (generateToken with serverUrl), API keys scoped to services,
referer-bound tokens, OAuth2 (authorization code + PKCE through the portal's sign-in form,
refresh tokens, client_credentials): each runs a job, and no secret reaches a URL, an
error or a log line.
"""

from __future__ import annotations

import json
import logging
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from arcgis_gp.gp_client import GPClient, discovery, submit
from arcgis_gp.gp_client.auth import AUTH_HEADER, TokenAuth, UserPasswordAuth
from arcgis_gp.gp_client.errors import (
    AuthError,
    GPError,
    InvalidTokenError,
    PermissionDeniedError,
    TokenRequiredError,
)
from arcgis_gp.gp_client.oauth2 import OAuth2Auth, authorize_url, pkce_pair
from tests.gpserver.auth import API_KEYS
from tests.gpserver.oauth import (
    APP_CLIENT_ID,
    APP_CLIENT_SECRET,
    DESKTOP_CLIENT_ID,
    browser_sign_in,
)
from tests.unit.helpers import assert_not_in_urls

pytestmark = pytest.mark.timeout(120)

PASSWORD = "demo-password"
API_KEY = next(iter(API_KEYS))
REDIRECT = "http://127.0.0.1:7070/callback"


def _sleep(server: Any) -> str:
    return server.task_url("Secure/Analysis", "Sleep")


def _bearer(call: dict) -> str:
    return call["headers"].get(AUTH_HEADER, "")[len("Bearer "):]


def _answers(recording: Any, pattern: str, key: str) -> list[str]:
    """The ``key`` values of the JSON answers of matching POSTs (tokens handed out)."""
    out = []
    for call in recording.matching(pattern, "POST"):
        body = json.loads(call["body"])
        if key in body:
            out.append(body[key])
    return out



def _assert_secret_free(texts: list[str], secrets: list[str]) -> None:
    blob = "\n".join(texts)
    for s in secrets:
        assert s and s not in blob, f"secret leaked: {blob[:300]}"


def _error_texts(err: BaseException) -> list[str]:
    texts = [str(err), repr(err), *[str(a) for a in err.args]]
    for attr in ("url", "message", "excerpt", "details"):
        texts.append(repr(getattr(err, attr, None)))
    return texts


def _oauth(org: Any, **kw: Any) -> tuple[OAuth2Auth, str]:
    """Sign in with the desktop app as a browser would; return the strategy and the code."""
    verifier, challenge = pkce_pair()
    url = authorize_url(org.portal, DESKTOP_CLIENT_ID, REDIRECT, challenge, state="s-1")
    back = browser_sign_in(url, "demo", PASSWORD)
    query = parse_qs(urlsplit(back).query)
    assert back.startswith(REDIRECT + "?") and query["state"] == ["s-1"]
    code = query["code"][0]
    auth = OAuth2Auth(org.portal, DESKTOP_CLIENT_ID, code=code, code_verifier=verifier,
                      redirect_uri=REDIRECT, **kw)
    return auth, code


# -- federated servers ---------------------------------------------------------------------------

def test_user_password_on_a_federated_server(org: Any, recording: Any) -> None:
    """The portal token is exchanged for a server token; only that goes to the server."""
    client = GPClient(transport=recording, auth=UserPasswordAuth("demo", PASSWORD))
    job = submit(client, _sleep(org.federated), {"Seconds": 0.2})
    assert job.wait(deadline=30).succeeded and job.results() == {"Slept": 0.2}
    gen = recording.matching(r"/portal/sharing/rest/generateToken$", "POST")
    assert [bool(g["data"].get("serverUrl")) for g in gen] == [False, True]
    assert gen[1]["data"]["serverUrl"] == org.federated.url + "/arcgis"
    portal_token, server_token = _answers(recording, r"generateToken$", "token")
    assert gen[1]["data"]["token"] == portal_token and "password" not in gen[1]["data"]
    on_server = [c for c in recording.calls if c["url"].startswith(org.federated.url)
                 and "/services/" in c["url"]]
    assert on_server and {_bearer(c) for c in on_server} == {server_token}
    assert_not_in_urls(recording, [portal_token, server_token, PASSWORD])


def test_federated_server_refuses_portal_tokens_and_its_own_token_service(org: Any) -> None:
    """A portal token is 'Invalid Token' there; the server's own generateToken is off."""
    body = GPClient().call_json("POST", org.portal + "/generateToken",
                                data={"username": "demo", "password": PASSWORD},
                                authenticate=False)
    with pytest.raises(InvalidTokenError):
        GPClient(auth=TokenAuth(body["token"])).get_json(
            org.federated.services_url + "/Secure/Analysis/GPServer")
    with pytest.raises(AuthError) as info:
        GPClient(auth=UserPasswordAuth(
            "demo", PASSWORD, token_url=org.federated.url + "/arcgis/tokens/generateToken")
        ).get_json(org.federated.services_url + "/Secure/Analysis/GPServer")
    assert "federated" in str(info.value)


def test_server_tokens_renewed_mid_job_and_a_refused_post_repeated_once(
        short_org: Any, recording: Any) -> None:
    """Tokens living 1.5 s, a 4 s job on the federated server: new server tokens as needed;
    a submitJob refused with 498 (before acting) is sent again once, and one job runs."""
    client = GPClient(transport=recording, auth=UserPasswordAuth("demo", PASSWORD))
    client.get_json(short_org.federated.services_url + "/Secure/Analysis/GPServer")
    short_org.server.expire_tokens()  # the cached server token is now refused
    jobs_before = len(short_org.server.jobs._jobs)
    job = submit(client, _sleep(short_org.federated), {"Seconds": 4})
    assert job.wait(deadline=60).succeeded and job.results() == {"Slept": 4.0}
    submits = recording.matching(r"/submitJob$", "POST")
    assert len(submits) == 2 and b"498" in submits[0]["body"] and b"jobId" in submits[1]["body"]
    assert len(short_org.server.jobs._jobs) == jobs_before + 1  # one job, not two
    exchanges = [c for c in recording.matching(r"generateToken$", "POST")
                 if c["data"].get("serverUrl")]
    assert len(exchanges) >= 3


# -- API keys ------------------------------------------------------------------------------------

def test_api_key_opens_its_services_only(gpserver: Any, file_host: Any, tmp_path: Any,
                                         recording: Any, org: Any) -> None:
    """A key scoped to Secure/Analysis runs a job there; elsewhere it is refused, explained;
    a federated server refuses it; another host never sees it."""
    client = GPClient(transport=recording, auth=TokenAuth(API_KEY))
    job = submit(client, _sleep(gpserver), {"Seconds": 0.1})
    assert job.wait(deadline=30).succeeded
    with pytest.raises(PermissionDeniedError) as info:
        client.get_json(gpserver.services_url + "/Demo/Analysis/GPServer")
    assert "not scoped to this service" in str(info.value)
    with pytest.raises(InvalidTokenError):
        GPClient(auth=TokenAuth(API_KEY, origins=[org.federated.url])).get_json(
            org.federated.services_url + "/Secure/Analysis/GPServer")
    url = file_host.put("k.txt", b"k")
    file_host.seen.clear()
    client.download(url, tmp_path)
    assert AUTH_HEADER.lower() not in {k.lower() for k in file_host.seen[0]["headers"]}
    assert_not_in_urls(recording, [API_KEY])
    _assert_secret_free(_error_texts(info.value), [API_KEY])


# -- referers ------------------------------------------------------------------------------------

def test_referer_bound_token(gpserver: Any, recording: Any) -> None:
    """Made for a referer: works with that Referer header; with another the 498 is explained."""
    referer = "https://maps.example.org/app"
    body = GPClient().call_json("POST", gpserver.url + "/arcgis/tokens/generateToken",
                                data={"username": "demo", "password": PASSWORD,
                                      "client": "referer", "referer": referer},
                                authenticate=False)
    good = GPClient(transport=recording, auth=TokenAuth(body["token"], referer=referer))
    job = submit(good, _sleep(gpserver), {"Seconds": 0.05})
    assert job.wait(deadline=30).succeeded
    assert all(c["headers"].get("Referer") == referer for c in recording.calls)
    recording.clear()
    other = GPClient(transport=recording,
                     auth=TokenAuth(body["token"], referer="https://elsewhere.example"))
    with pytest.raises(InvalidTokenError) as info:
        other.get_json(gpserver.services_url + "/Secure/Analysis/GPServer")
    text = str(info.value)
    assert "referer" in text and "Referer header" in text and "connection's referer" in text
    assert len(recording.calls) == 1  # not retried: a new token would fail the same way
    _assert_secret_free(_error_texts(info.value), [body["token"]])


def test_referer_kept_through_the_federated_exchange(org: Any, recording: Any) -> None:
    """A sign-in with a referer: portal and server tokens are made for it and used with it."""
    referer = "https://qgis.example"
    client = GPClient(transport=recording,
                      auth=UserPasswordAuth("demo", PASSWORD, referer=referer))
    job = submit(client, _sleep(org.federated), {"Seconds": 0.05})
    assert job.wait(deadline=30).succeeded
    gen = recording.matching(r"generateToken$", "POST")
    assert len(gen) == 2 and all(g["data"]["referer"] == referer for g in gen)
    assert all(c["headers"].get("Referer") == referer for c in recording.calls
               if "/rest/info" not in c["url"])


# -- OAuth2 --------------------------------------------------------------------------------------

def test_oauth2_code_with_pkce_runs_a_job_on_the_federated_server(org: Any,
                                                                   recording: Any) -> None:
    """Sign-in form, code + verifier for tokens, then portal self and a federated job."""
    kept: list[str] = []
    auth, code = _oauth(org, on_refresh_token=kept.append)
    client = GPClient(transport=recording, auth=auth)
    me = discovery.portal_self(client, org.portal)
    assert me["user"]["username"] == "demo" and auth.username == "demo"
    job = submit(client, _sleep(org.federated), {"Seconds": 0.1})
    assert job.wait(deadline=30).succeeded
    grants = [c["data"]["grant_type"] for c in recording.matching(r"/oauth2/token$", "POST")]
    assert grants == ["authorization_code"] and len(kept) == 1
    access = _answers(recording, r"/oauth2/token$", "access_token")[0]
    exchange = [c for c in recording.matching(r"generateToken$", "POST")]
    assert len(exchange) == 1 and exchange[0]["data"]["token"] == access
    server_token = _answers(recording, r"generateToken$", "token")[0]
    fed = [c for c in recording.calls if c["url"].startswith(org.federated.url)
           and "/services/" in c["url"]]
    assert fed and {_bearer(c) for c in fed} == {server_token}
    assert_not_in_urls(recording, [access, server_token, kept[0], code])


def test_oauth2_token_goes_to_its_portal_and_federated_servers_only(
        org: Any, gpserver: Any, file_host: Any, recording: Any, tmp_path: Any) -> None:
    """Another server (its own token service) and another host get no OAuth2 token."""
    auth, _ = _oauth(org)
    client = GPClient(transport=recording, auth=auth)
    discovery.portal_self(client, org.portal)
    with pytest.raises(TokenRequiredError):
        client.get_json(gpserver.services_url + "/Secure/Analysis/GPServer")
    other = [c for c in recording.calls if c["url"].startswith(gpserver.url)]
    assert other and not any(AUTH_HEADER in c["headers"] for c in other)
    assert not recording.matching(r"/oauth2/token$|generateToken$", "POST")[1:]
    url = file_host.put("o.txt", b"o")
    file_host.seen.clear()
    client.download(url, tmp_path)
    assert AUTH_HEADER.lower() not in {k.lower() for k in file_host.seen[0]["headers"]}


def test_oauth2_refreshes_its_tokens_mid_job(short_org: Any, recording: Any) -> None:
    """Access and server tokens living 1.5 s, a 4 s federated job: refresh_token grants."""
    auth, _ = _oauth(short_org)
    client = GPClient(transport=recording, auth=auth)
    job = submit(client, _sleep(short_org.federated), {"Seconds": 4})
    assert job.wait(deadline=60).succeeded and job.results() == {"Slept": 4.0}
    grants = [c["data"]["grant_type"] for c in recording.matching(r"/oauth2/token$", "POST")]
    assert grants[0] == "authorization_code" and grants.count("refresh_token") >= 1
    assert all(g in ("authorization_code", "refresh_token") for g in grants)


def test_oauth2_revoked_refresh_token_asks_to_sign_in_again(org: Any) -> None:
    """The portal refusing the refresh token: an AuthError saying to sign in again."""
    auth, _ = _oauth(org)
    client = GPClient(auth=auth)
    discovery.portal_self(client, org.portal)
    org.server.router.oauth.revoke_refresh_tokens()
    org.server.expire_tokens()
    with pytest.raises(AuthError) as info:
        client.get_json(org.federated.services_url + "/Secure/Analysis/GPServer")
    assert "sign in again" in str(info.value) and DESKTOP_CLIENT_ID in str(info.value)
    _assert_secret_free(_error_texts(info.value), list(auth.secrets()))


def test_sign_in_form_and_code_mistakes(org: Any) -> None:
    """Wrong password: the form again with the portal's words; a wrong verifier is refused."""
    verifier, challenge = pkce_pair()
    url = authorize_url(org.portal, DESKTOP_CLIENT_ID, REDIRECT, challenge)
    with pytest.raises(ValueError, match="Invalid username or password"):
        browser_sign_in(url, "demo", "not-it")
    code = parse_qs(urlsplit(browser_sign_in(url, "demo", PASSWORD)).query)["code"][0]
    auth = OAuth2Auth(org.portal, DESKTOP_CLIENT_ID, code=code, code_verifier=verifier + "x",
                      redirect_uri=REDIRECT)
    with pytest.raises(AuthError) as info:
        discovery.portal_self(GPClient(auth=auth), org.portal + "/portals/self")
    assert "Invalid code_verifier" in str(info.value) and "sign in again" in str(info.value)


def test_app_sign_in_with_client_credentials(org: Any, recording: Any) -> None:
    """An app's own token works on the portal; a federated server will not take it."""
    auth = OAuth2Auth(org.portal, APP_CLIENT_ID, client_secret=APP_CLIENT_SECRET)
    client = GPClient(transport=recording, auth=auth)
    body = client.get_json(org.portal + "/portals/self")
    assert body["id"] and "user" not in body
    grant = recording.matching(r"/oauth2/token$", "POST")
    assert [g["data"]["grant_type"] for g in grant] == ["client_credentials"]
    with pytest.raises(AuthError) as info:
        client.get_json(org.federated.services_url + "/Secure/Analysis/GPServer")
    assert "federated" in str(info.value)
    bad = OAuth2Auth(org.portal, APP_CLIENT_ID, client_secret="wrong-secret-value")
    with pytest.raises(AuthError) as info2:
        GPClient(auth=bad).get_json(org.portal + "/portals/self")
    assert "client secret" in str(info2.value)
    assert_not_in_urls(recording, [APP_CLIENT_SECRET])
    for err in (info.value, info2.value):
        _assert_secret_free(_error_texts(err), [APP_CLIENT_SECRET, "wrong-secret-value"])


# -- no secret anywhere ------------------------------------------------------------------------

def test_no_secret_of_any_method_in_errors_or_logs(org: Any, gpserver: Any,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """Every method signs in, fails and refreshes with DEBUG logging on: no token, refresh
    token, client secret, API key or code verifier in a log line or an error."""
    caplog.set_level(logging.DEBUG, logger="arcgis_gp.gp_client")
    errors: list[GPError] = []
    secrets: list[str] = [PASSWORD, API_KEY, APP_CLIENT_SECRET]
    oauth, code = _oauth(org)
    strategies = [UserPasswordAuth("demo", PASSWORD), oauth, TokenAuth(API_KEY),
                  OAuth2Auth(org.portal, APP_CLIENT_ID, client_secret=APP_CLIENT_SECRET)]
    svc = org.federated.services_url + "/Secure/Analysis/GPServer"
    for auth in strategies:
        client = GPClient(auth=auth, retries=0)
        for url in (svc, gpserver.services_url + "/Demo/Analysis/GPServer",
                    org.portal + "/portals/self"):
            try:
                client.get_json(url)
            except GPError as exc:
                errors.append(exc)
        org.server.expire_tokens()
        try:
            job = submit(client, _sleep(org.federated), {"Seconds": -1})
            job.wait(deadline=30)
        except GPError as exc:
            errors.append(exc)
        secrets += list(auth.secrets())
    assert code in secrets and len(errors) >= 4
    assert {type(e).__name__ for e in errors} >= {"AuthError", "JobFailedError"}
    texts = [t for e in errors for t in _error_texts(e)]
    texts += [r.getMessage() for r in caplog.records]
    _assert_secret_free(texts, [s for s in set(secrets) if len(s) >= 8])
    assert any("refresh" in t or "token" in t.lower() for t in texts)


def test_oauth2_reprs_and_form_text_hide_secrets() -> None:
    """repr of the OAuth2 strategies shows no secret; OAuth2 form fields are masked."""
    from arcgis_gp.gp_client._util import redact_text
    from arcgis_gp.gp_client.oauth2 import PortalTokenAuth

    secret = "s3cr3t-OAUTH-value"
    strategies = [
        OAuth2Auth("https://p.example/portal", "app", refresh_token=secret),
        OAuth2Auth("https://p.example/portal", "app", client_secret=secret),
        OAuth2Auth("https://p.example/portal", "app", code=secret, code_verifier=secret),
        PortalTokenAuth("https://p.example/portal", lambda: secret),
    ]
    for auth in strategies:
        assert secret not in repr(auth) and secret not in repr(GPClient(auth=auth))
    form = (f"grant_type=refresh_token&refresh_token={secret}&client_secret={secret}"
            f"&code_verifier={secret}&access_token={secret}")
    assert secret not in redact_text(form)
