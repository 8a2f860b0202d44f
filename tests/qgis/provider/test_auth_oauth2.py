"""QGIS's real OAuth2 method signing a connection in to the reference portal (offscreen).

An OAuth2 configuration for an ArcGIS app (authorization code; QGIS 3.22 has no PKCE, so
the app has a client secret) signs in once through the portal's sign-in form (the test is
the browser), then runs a task on a server federated with the portal: the plugin reads
the access token QGIS holds, gp_client exchanges it for a server token, and both are
renewed mid-job (tokens live 3 s). No token, refresh token or client secret reaches the
settings, the cache, the logs, the messages or a URL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from qgis.core import QgsApplication, QgsSettings

from arcgis_gp.gp_client.oauth2 import PortalTokenAuth
from arcgis_gp.provider.cache import DescriptionCache
from arcgis_gp.provider.clients import AuthConfigError, make_client
from arcgis_gp.provider.connections import Connection, ConnectionStore
from arcgis_gp.provider.provider import GpProvider
from tests.gpserver.federated import Organisation
from tests.gpserver.oauth import APP_CLIENT_ID, APP_CLIENT_SECRET
from tests.qgis.provider.helpers import (
    Browser,
    RecordingFeedback,
    authcfg,
    free_port,
    oauth2_authcfg_values,
    registered,
    run,
    run_connection_test,
    run_in_task,
    temporary_store,
)

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def org(qgis_app: Any) -> Iterator[Organisation]:
    """Portal + federated server; every token lives 3 s."""
    world = Organisation(3.0)
    yield world
    world.stop()


@pytest.fixture()
def signed_in(org: Organisation) -> Iterator[tuple[str, Browser]]:
    """A QGIS OAuth2 configuration for the reference app, and the browser standing by."""
    port = free_port()
    browser = Browser(org.portal, APP_CLIENT_ID, port)
    try:
        values = oauth2_authcfg_values(org.portal, APP_CLIENT_ID, APP_CLIENT_SECRET, port,
                                       persist=True)
        with authcfg("OAuth2", **values) as cfg:
            yield cfg, browser
    finally:
        browser.stop()
    assert not browser.errors, browser.errors


@pytest.fixture()
def store() -> Iterator[ConnectionStore]:
    """A store under its own settings key."""
    with temporary_store() as store:
        yield store


def _fed_url(org: Organisation) -> str:
    return org.federated.services_url + "/Secure/Analysis/GPServer"


def _secrets(org: Organisation) -> list[str]:
    return [APP_CLIENT_SECRET, *org.server.tokens.issued(), *org.server.router.oauth.secrets()]


def test_oauth2_config_runs_a_federated_task_refreshing_mid_job(
        qgis_processing: Any, org: Organisation, signed_in: tuple[str, Browser],
        store: ConnectionStore, tmp_path: Path) -> None:
    """Sign in once, list the tasks, run a 7 s job (tokens live 3 s) on the main thread and
    a 4 s one in a background task (the token is read on the main thread); QGIS refreshes
    the access token, gp_client the server tokens, and nobody signs in twice. The secrets
    stay out of everything the plugin writes, and out of QGIS's token cache file."""
    cfg, browser = signed_in
    grants_before = len(org.server.router.oauth.grants)
    logged: list[str] = []
    QgsApplication.messageLog().messageReceived.connect(
        lambda message, *_: logged.append(message))
    client = make_client(Connection("fed", _fed_url(org), authcfg=cfg))
    assert isinstance(client.auth, PortalTokenAuth)
    assert client.transport.authcfg == ""  # QGIS does not decorate the requests itself
    store.save(Connection("fed", _fed_url(org), authcfg=cfg))
    cache = DescriptionCache(tmp_path)
    with registered(GpProvider(store, cache, fetch_missing=False)) as provider:
        assert provider.refresh_now() == {"fed": None}
        assert browser.visits == 1
        feedback = RecordingFeedback()
        result = run("arcgisgp:fed_secure_analysis_sleep", {"Seconds": 7}, feedback)
        assert result["Slept"] == pytest.approx(7)
        grants = org.server.router.oauth.grants[grants_before:]
        assert grants[0] == "authorization_code" and "refresh_token" in grants
        before = len(org.server.router.oauth.grants)
        task_feedback = RecordingFeedback()
        ok, outcome, _task = run_in_task("arcgisgp:fed_secure_analysis_sleep",
                                         {"Seconds": 4}, task_feedback)
        assert ok and outcome["Slept"] == pytest.approx(4), task_feedback.texts()
        later = org.server.router.oauth.grants[before:]
        assert later and set(later) <= {"refresh_token", "authorization_code"}
    assert browser.visits == 1  # refreshed throughout, never a second sign-in
    assert "authorization_code" not in org.server.router.oauth.grants[grants_before + 1:]
    texts = [Path(QgsSettings().fileName()).read_text(encoding="utf-8", errors="replace")]
    texts += [p.read_text(encoding="utf-8") for p in tmp_path.rglob("*") if p.is_file()]
    # QGIS's own token cache ("persist token"): QGIS encrypts what it keeps there
    cache_dir = Path(QgsApplication.qgisSettingsDirPath()) / "oauth2-cache"
    texts += [p.read_text(encoding="utf-8", errors="replace") for p in cache_dir.glob("*")]
    texts += logged + feedback.texts() + task_feedback.texts() + [json.dumps(result)]
    blob = "\n".join(texts)
    for secret in _secrets(org):
        assert secret not in blob


def test_oauth2_config_that_is_not_a_portal_names_the_configuration(
        org: Organisation) -> None:
    """A token URL that is no portal's: the error names the configuration and the fix."""
    values = oauth2_authcfg_values("https://login.example.com/oauth", "app", "s", free_port())
    with authcfg("OAuth2", **values) as cfg:
        with pytest.raises(AuthConfigError) as caught:
            make_client(Connection("fed", _fed_url(org), authcfg=cfg))
    text = str(caught.value)
    assert cfg in text and "OAuth2" in text and "/sharing/rest/oauth2/token" in text
    assert "Settings > Options > Authentication" in text


def test_dialog_signs_in_with_oauth2_and_says_as_whom(
        org: Organisation, signed_in: tuple[str, Browser], store: ConnectionStore) -> None:
    """The dialog names the OAuth2 configuration; Test signs in (browser) and reports
    'Signed in as demo on <portal>'."""
    from arcgis_gp.ui.connections_dialog import ConnectionsDialog

    cfg, browser = signed_in
    store.save(Connection("fed", _fed_url(org), authcfg=cfg))
    dialog = ConnectionsDialog(store=store)
    details = dialog.detailsLabel.text()
    assert f"id {cfg}" in details and "(OAuth2" in details and "portal" in details
    messages = run_connection_test(dialog)
    assert messages and messages[0].startswith("Test succeeded: "), messages
    assert messages[0].endswith(f"Signed in as demo on {org.portal}."), messages[0]
    assert browser.visits == 1
    for secret in _secrets(org):
        assert secret not in messages[0]
    dialog.close()
