"""Tokens against the reference server: generateToken, refresh, origins, and no secret leaks."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest

from arcgis_gp.gp_client import GPClient, discovery, submit
from arcgis_gp.gp_client.auth import AUTH_HEADER, TokenAuth, UserPasswordAuth
from arcgis_gp.gp_client.errors import (
    AuthError,
    GPError,
    InvalidTokenError,
    TokenRequiredError,
)
from tests.unit.helpers import assert_not_in_urls

pytestmark = pytest.mark.timeout(120)

PASSWORD = "demo-password"


def _secure_sleep(srv: Any) -> str:
    return srv.task_url("Secure/Analysis", "Sleep")


def _tokens(recording: Any) -> list[str]:
    """Every token the token service handed out in this recording."""
    out = []
    for call in recording.matching(r"generateToken$", "POST"):
        body = json.loads(call["body"])
        if "token" in body:
            out.append(body["token"])
    return out



def test_user_password_on_a_secured_service(gpserver: Any, recording: Any) -> None:
    """Token found from /rest/info, sent only in the header, job runs, result arrives."""
    auth = UserPasswordAuth("demo", PASSWORD)
    client = GPClient(transport=recording, auth=auth)
    svc = discovery.service(client, gpserver.services_url + "/Secure/Analysis/GPServer")
    assert {t.name for t in svc.tasks} == {"BufferFeatures", "Sleep"}
    job = submit(client, _secure_sleep(gpserver), {"Seconds": 0.2})
    assert job.wait(deadline=30).succeeded
    assert job.results() == {"Slept": 0.2}
    info = recording.matching(r"/arcgis/rest/info$")
    assert len(info) == 1 and AUTH_HEADER not in info[0]["headers"]
    gen = recording.matching(r"/arcgis/tokens/generateToken$", "POST")
    assert len(gen) == 1
    assert gen[0]["data"]["username"] == "demo" and gen[0]["data"]["expiration"] == "60"
    tokens = _tokens(recording)
    services = [c for c in recording.calls if "/services/" in c["url"]]
    assert services and all(c["headers"][AUTH_HEADER] == "Bearer " + tokens[0]
                            for c in services)
    assert_not_in_urls(recording, tokens + [PASSWORD])
    for call in services:
        assert "token" not in call["data"]


def test_token_expiring_during_a_job_is_renewed(short_token_server: Any, recording: Any) -> None:
    """Tokens living 1.5 s, a 4 s job: renewed before expiry, and the result arrives."""
    srv = short_token_server
    auth = UserPasswordAuth("demo", PASSWORD, referer="https://qgis.example")
    client = GPClient(transport=recording, auth=auth)
    job = submit(client, _secure_sleep(srv), {"Seconds": 4})
    assert job.wait(deadline=60).succeeded
    assert job.results() == {"Slept": 4.0}
    tokens = _tokens(recording)
    assert len(tokens) >= 3 and len(set(tokens)) == len(tokens)
    gen = recording.matching(r"generateToken$", "POST")
    assert all(g["data"]["client"] == "referer" for g in gen)
    assert all(g["data"]["referer"] == "https://qgis.example" for g in gen)
    statuses = [c for c in recording.calls if "/jobs/" in c["url"]]
    assert all(c["headers"].get("Referer") == "https://qgis.example" for c in statuses)
    assert_not_in_urls(recording, tokens)


def test_rejected_token_is_refreshed_once_and_retried(gpserver: Any, recording: Any) -> None:
    """Every token revoked mid-job: the next request gets 498, a new token, then succeeds."""
    auth = UserPasswordAuth("demo", PASSWORD)
    client = GPClient(transport=recording, auth=auth)
    job = submit(client, _secure_sleep(gpserver), {"Seconds": 1.5})
    timer = threading.Timer(0.5, gpserver.expire_tokens)
    timer.start()
    try:
        assert job.wait(deadline=60).succeeded
    finally:
        timer.cancel()
    assert job.results() == {"Slept": 1.5}
    rejected = [c for c in recording.calls
                if c["status"] == 200 and b'"code":498' in c["body"].replace(b" ", b"")]
    assert len(rejected) == 1
    assert len(_tokens(recording)) == 2


def test_wrong_password(gpserver: Any) -> None:
    """generateToken refusing: AuthError with the server's words and no password in it."""
    secret = "not-the-Password-42"
    client = GPClient(auth=UserPasswordAuth("demo", secret))
    with pytest.raises(AuthError) as info:
        client.get_json(gpserver.services_url + "/Secure/Analysis/GPServer")
    err = info.value
    assert "Invalid username or password" in str(err)
    assert "'demo'" in str(err)
    _assert_secret_free(err, [secret])


def test_no_credentials_on_a_secured_service(gpserver: Any) -> None:
    """499: TokenRequiredError that says what to do."""
    with pytest.raises(TokenRequiredError) as info:
        GPClient().get_json(gpserver.services_url + "/Secure/Analysis/GPServer")
    assert "UserPasswordAuth" in str(info.value)
    assert info.value.code == 499


def test_fixed_token_works_and_a_bad_one_is_not_retried(gpserver: Any, recording: Any) -> None:
    """TokenAuth: a valid token runs the job; an invalid one is one 498, no retry loop."""
    body = GPClient().call_json("POST", gpserver.url + "/arcgis/tokens/generateToken",
                                data={"username": "demo", "password": PASSWORD,
                                      "client": "requestip"}, authenticate=False)
    token = body["token"]
    client = GPClient(transport=recording, auth=TokenAuth(token))
    job = submit(client, _secure_sleep(gpserver), {"Seconds": 0.1})
    assert job.wait(deadline=30).succeeded
    assert_not_in_urls(recording, [token])

    bad = "0123456789abcdef-forged-token"
    recording.clear()
    client = GPClient(transport=recording, auth=TokenAuth(bad))
    with pytest.raises(InvalidTokenError) as info:
        client.get_json(gpserver.services_url + "/Secure/Analysis/GPServer")
    assert len(recording.calls) == 1
    _assert_secret_free(info.value, [bad])


def test_tokens_go_only_to_their_origin(gpserver: Any, file_host: Any, tmp_path: Any) -> None:
    """A download from another host (another port) gets no token; the server's own does."""
    url = file_host.put("public.txt", b"public data")
    for auth in (UserPasswordAuth("demo", PASSWORD), None):
        client = GPClient(auth=auth)
        if auth is None:
            body = client.call_json("POST", gpserver.url + "/arcgis/tokens/generateToken",
                                    data={"username": "demo", "password": PASSWORD},
                                    authenticate=False)
            client = GPClient(auth=TokenAuth(body["token"]))
        # first use binds / discovers the GP server's origin
        client.get_json(gpserver.services_url + "/Secure/Analysis/GPServer")
        file_host.seen.clear()
        path = client.download(url, tmp_path)
        assert path.read_bytes() == b"public data"
        assert len(file_host.seen) == 1
        headers = {k.lower() for k in file_host.seen[0]["headers"]}
        assert AUTH_HEADER.lower() not in headers and "authorization" not in headers


def test_download_host_asking_for_a_token_gets_no_credentials(gpserver: Any, file_host: Any,
                                                             tmp_path: Any,
                                                             recording: Any) -> None:
    """Another host answering 499 to a download: no token lookup there, no password sent."""
    url = file_host.put("result.json", json.dumps(
        {"error": {"code": 499, "message": "Token Required", "details": []}}).encode())
    client = GPClient(transport=recording, auth=UserPasswordAuth("demo", PASSWORD))
    client.get_json(gpserver.services_url + "/Secure/Analysis/GPServer")
    file_host.seen.clear()
    recording.clear()
    with pytest.raises(TokenRequiredError):
        client.download(url, tmp_path)
    assert [c["url"] for c in recording.calls] == [url]
    assert [s["path"] for s in file_host.seen] == ["/result.json"]
    assert AUTH_HEADER.lower() not in {k.lower() for k in file_host.seen[0]["headers"]}
    assert list(tmp_path.iterdir()) == []


def test_secure_scratch_download_carries_the_token(gpserver: Any, tmp_path: Any) -> None:
    """The same origin's result files do get the token (the server requires it)."""
    client = GPClient(auth=UserPasswordAuth("demo", PASSWORD))
    job = submit(client, _secure_sleep(gpserver), {"Seconds": 0.05})
    job.wait(deadline=30)
    # a job resource is a file-like resource on the secured service: fetch it as a download
    path = client.download(job.url + "?f=json", tmp_path, "job.json")
    assert json.loads(path.read_text())["jobStatus"] == "esriJobSucceeded"
    with pytest.raises(TokenRequiredError):
        GPClient().download(job.url + "?f=json", tmp_path)


def test_portal_token_and_portal_self(gpserver: Any, recording: Any) -> None:
    """Portal generateToken; portals/self lists helper services and the signed-in user."""
    portal = gpserver.url + "/portal/sharing/rest"
    anonymous = discovery.portal_self(GPClient(), gpserver.url + "/portal")
    assert "user" not in anonymous
    client = GPClient(transport=recording, auth=UserPasswordAuth("demo", PASSWORD))
    me = discovery.portal_self(client, portal)
    assert me["user"]["username"] == "demo"
    assert recording.matching(r"/portal/sharing/rest/generateToken$", "POST")
    assert discovery.helper_service_urls(me) == [
        gpserver.services_url + "/tasks/GPServer",
        gpserver.services_url + "/Demo/Analysis/GPServer"]


def _assert_secret_free(err: BaseException, secrets: list[str]) -> None:
    texts = [str(err), repr(err), *[str(a) for a in err.args]]
    for attr in ("url", "message", "excerpt", "details", "messages"):
        val = getattr(err, attr, None)
        if val is not None:
            texts.append(repr(val))
    blob = "\n".join(texts)
    for s in secrets:
        assert s not in blob, f"secret leaked in {type(err).__name__}: {blob[:300]}"


def test_no_secret_in_any_error_or_log_line(gpserver: Any, gpserver_faults: Any,
                                            caplog: pytest.LogCaptureFixture,
                                            tmp_path: Any) -> None:
    """Provoke every kind of error with credentials in play; no token/password anywhere."""
    caplog.set_level(logging.DEBUG, logger="arcgis_gp.gp_client")
    auth = UserPasswordAuth("demo", PASSWORD)
    client = GPClient(auth=auth, retries=1, backoff=0.01)
    svc = gpserver.services_url + "/Secure/Analysis/GPServer"
    client.get_json(svc)  # get a token
    errors: list[GPError] = []

    def provoke(kind: str, path: str = r"/Secure/Analysis/GPServer(\?|$)", **kw: Any) -> None:
        gpserver_faults.clear()
        gpserver_faults.add(path, kind, count=None, **kw)
        try:
            with pytest.raises(GPError) as info:
                client.get_json(svc)
            errors.append(info.value)
        finally:
            gpserver_faults.clear()

    provoke("html")
    provoke("broken_json")
    provoke("status5xx", code=503)
    provoke("drop")
    with pytest.raises(GPError) as info:
        client.get_json(svc + "/NoSuchTask")
    errors.append(info.value)
    with pytest.raises(GPError) as info:
        submit(client, _secure_sleep(gpserver), {"Seconds": -1}).wait(deadline=30)
    errors.append(info.value)
    with pytest.raises(GPError) as info:
        client.download(svc + "/Sleep/jobs/jnope/scratch/x.txt", tmp_path)
    errors.append(info.value)
    gpserver_faults.add(r"/Secure/", "drop", count=1, method="POST")
    with pytest.raises(GPError) as info:
        submit(client, _secure_sleep(gpserver), {"Seconds": 0})
    errors.append(info.value)
    gpserver.expire_tokens()
    bad = GPClient(auth=TokenAuth(auth.secrets()[-1]))
    with pytest.raises(InvalidTokenError) as info:
        bad.get_json(svc)
    errors.append(info.value)
    with pytest.raises(AuthError) as info:
        GPClient(auth=UserPasswordAuth("demo", "wrong-" + PASSWORD)).get_json(svc)
    errors.append(info.value)

    secrets = [s for s in auth.secrets()] + ["wrong-" + PASSWORD]
    assert len(secrets) >= 3  # the password and at least one token
    kinds = {type(e).__name__ for e in errors}
    assert {"NotJSONError", "HTTPError", "NetworkError", "ServerError", "JobFailedError",
            "InvalidTokenError", "AuthError"} <= kinds
    for err in errors:
        _assert_secret_free(err, secrets)
    log_text = "\n".join(r.getMessage() for r in caplog.records)
    assert "generateToken" in log_text or "token" in log_text.lower()
    for s in secrets:
        assert s not in log_text
