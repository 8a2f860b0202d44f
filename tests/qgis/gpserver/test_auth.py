"""Tokens: generateToken on server and portal, 499 without, 498 when bad or expired."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.gpserver.client import Rest

pytestmark = pytest.mark.timeout(60)

SECURE = "/arcgis/rest/services/Secure/Analysis/GPServer"


def token(rest: Rest, where: str = "/portal/sharing/rest/generateToken", **extra: Any) -> dict:
    """generateToken as a form POST."""
    data = {"username": "demo", "password": "demo-password", "client": "referer",
            "referer": "http://localhost", **extra}
    return rest.post(where, data)


@pytest.fixture(scope="module")
def rest(gpserver_url: str) -> Rest:
    """Anonymous client."""
    return Rest(gpserver_url)


@pytest.mark.parametrize("where", ["/portal/sharing/rest/generateToken",
                                   "/arcgis/tokens/generateToken"])
def test_generate_token(rest: Rest, where: str) -> None:
    """{token, expires (ms), ssl}; expires honours 'expiration' minutes."""
    before = time.time() * 1000
    answer = token(rest, where, expiration=5)
    assert set(answer) == {"token", "expires", "ssl"}
    assert isinstance(answer["token"], str) and answer["ssl"] is False
    assert before + 4.5 * 60000 < answer["expires"] < before + 5.5 * 60000 + 5000


def test_generate_token_wrong_password(rest: Rest) -> None:
    """The same body as the recorded GenerateTokenError."""
    answer = rest.post("/portal/sharing/rest/generateToken",
                       {"username": "demo", "password": "wrong"})
    assert answer == {"error": {"code": 400, "message": "Unable to generate token.",
                                "details": ["Invalid username or password."]}}
    missing = rest.post("/arcgis/tokens/generateToken", {"username": "demo"})
    assert missing["error"]["details"] == ["'password' must be specified."]


def test_token_required(rest: Rest) -> None:
    """499 on the service, its tasks and jobs without a token; directory still lists it."""
    for path in (SECURE, SECURE + "/Sleep", SECURE + "/Sleep/submitJob",
                 SECURE + "/Sleep/jobs/jdoesnotmatter"):
        raw = rest.raw(path)
        assert raw.status == 200
        assert raw.json()["error"]["code"] == 499
    names = [s["name"] for s in rest.get("/arcgis/rest/services/Secure")["services"]]
    assert names == ["Secure/Analysis"]


def test_invalid_token_is_498_everywhere(rest: Rest) -> None:
    """A bad token is refused even on public resources."""
    bad = Rest(rest.base_url, token="not-a-token")
    for path in (SECURE, "/arcgis/rest/services/Demo/Analysis/GPServer",
                 "/portal/sharing/rest/portals/self"):
        err = bad.get(path)["error"]
        assert err["code"] == 498 and err["message"] == "Invalid Token"


@pytest.mark.parametrize("how", ["form", "query", "header"])
def test_token_in_form_query_or_header(rest: Rest, how: str) -> None:
    """The token works as POST field, query parameter and X-Esri-Authorization header."""
    tok = token(rest)["token"]
    url = SECURE + "/Sleep/submitJob"
    if how == "form":
        answer = rest.post(url, {"Seconds": 0, "token": tok})
    elif how == "query":
        answer = rest.post(f"{url}?token={tok}", {"Seconds": 0})
    else:
        answer = rest.post(url, {"Seconds": 0},
                           headers={"X-Esri-Authorization": f"Bearer {tok}"})
    assert answer["jobStatus"] == "esriJobSubmitted"
    final = Rest(rest.base_url, token=tok).wait(rest.url(SECURE + "/Sleep"), answer["jobId"])
    assert final["jobStatus"] == "esriJobSucceeded"


def test_token_expiring_in_the_middle_of_a_job(gpserver: Any) -> None:
    """After the tokens expire, polling answers 498; a fresh token sees the job finish."""
    from tests.gpserver import GPServer

    with GPServer(token_lifetime=600) as srv:
        rest = Rest(srv.url)
        first = Rest(srv.url, token=token(rest)["token"])
        url = srv.task_url("Secure/Analysis", "Sleep")
        job = first.submit(url, {"Seconds": 30})
        first.wait(url, job["jobId"], until={"esriJobExecuting"})
        srv.expire_tokens()
        assert first.get(f"{url}/jobs/{job['jobId']}")["error"]["code"] == 498
        second = Rest(srv.url, token=token(rest)["token"])
        second.post(f"{url}/jobs/{job['jobId']}/cancel")
        assert second.wait(url, job["jobId"])["jobStatus"] == "esriJobCancelled"


def test_token_lifetime_option(gpserver: Any) -> None:
    """token_lifetime overrides the asked expiration."""
    from tests.gpserver import GPServer

    with GPServer(token_lifetime=0) as srv:
        rest = Rest(srv.url)
        answer = token(rest, expiration=60)
        assert answer["expires"] <= time.time() * 1000 + 1000
        assert Rest(srv.url, token=answer["token"]).get(SECURE)["error"]["code"] == 498


def test_portal(rest: Rest) -> None:
    """info has authInfo; portals/self has helperServices.analysis and, signed in, the user."""
    info = rest.get("/portal/sharing/rest/info")
    assert info["authInfo"]["isTokenBasedSecurity"] is True
    assert info["authInfo"]["tokenServicesUrl"].endswith("/portal/sharing/rest/generateToken")
    anon = rest.get("/portal/sharing/rest/portals/self")
    assert anon["helperServices"]["analysis"]["url"] == (
        f"{rest.base_url}/arcgis/rest/services/tasks/GPServer")
    assert "user" not in anon
    signed = Rest(rest.base_url, token=token(rest)["token"])
    assert signed.get("/portal/sharing/rest/portals/self")["user"]["username"] == "demo"
    assert signed.get("/portal/sharing/rest/community/self")["username"] == "demo"
    assert rest.get("/portal/sharing/rest/community/self")["error"]["code"] == 403


def test_server_info_auth(rest: Rest) -> None:
    """/arcgis/rest/info advertises token security and the token service."""
    info = rest.get("/arcgis/rest/info")
    assert info["authInfo"]["isTokenBasedSecurity"] is True
    url = info["authInfo"]["tokenServicesUrl"]
    assert url == f"{rest.base_url}/arcgis/tokens/generateToken"
    assert "token" in token(rest, url)
