"""qgis_process runs a task on a federated server with a saved QGIS OAuth2 sign-in.

A desktop user signs in once (QGIS's OAuth2 method, "persist token" on: here a PyQGIS
process and the test as the browser, tests/e2e/oauth2_sign_in.py); later a headless
qgis_process in the same profile runs the task: QGIS refreshes the expired access token
with the saved refresh token (no browser), gp_client makes server tokens for the
federated server and renews them mid-job (every token lives 4 s, the job 9 s).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e.conftest import QgisProcess, make_profile
from tests.gpserver.federated import Organisation
from tests.paths import REPO_ROOT

pytestmark = pytest.mark.timeout(600)


@pytest.fixture(scope="module")
def org() -> Iterator[Organisation]:
    """Portal + federated server in this process; tokens live 4 s."""
    world = Organisation(4.0)
    yield world
    world.stop()


def test_qgis_process_runs_a_federated_task_with_a_saved_oauth2_sign_in(
        org: Organisation, tmp_path_factory: pytest.TempPathFactory) -> None:
    profile = tmp_path_factory.mktemp("oauth2_profile")
    env = make_profile(profile)
    password = profile / "master-password.txt"
    password.write_text("arcgis-gp-e2e-master", encoding="utf-8")
    env["QGIS_AUTH_PASSWORD_FILE"] = str(password)
    signed = subprocess.run(
        [sys.executable, "-m", "tests.e2e.oauth2_sign_in",
         str(profile / "profiles" / "default"), org.portal],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=180,
        stdin=subprocess.DEVNULL)
    assert signed.returncode == 0, signed.stderr[-3000:]
    authcfg = signed.stdout.strip().splitlines()[-1]
    grants = org.server.router.oauth.grants
    assert grants == ["authorization_code"]
    env["ARCGIS_GP_CONNECTIONS"] = json.dumps([{
        "name": "fed", "url": org.federated.services_url + "/Secure/Analysis/GPServer",
        "authcfg": authcfg}])
    qp = QgisProcess(env=env, profile=profile, server_url=org.server.url)
    report: dict[str, Any] = qp.run_json("arcgisgp:fed_secure_analysis_sleep",
                                         "--Seconds=9")
    assert report["results"]["Slept"] == pytest.approx(9)
    assert "authorization_code" not in grants[1:]  # no second browser sign-in
    assert grants.count("refresh_token") >= 2  # at start (expired) and mid-job
    secrets = [*org.server.tokens.issued(), *org.server.router.oauth.secrets()]
    texts = [json.dumps(report)]
    texts += [p.read_text(encoding="utf-8", errors="replace")
              for p in profile.rglob("*") if p.is_file() and p.suffix in (".ini", ".json")]
    for secret in secrets:
        assert all(secret not in t for t in texts)
