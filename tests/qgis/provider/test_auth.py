"""Connections with QGIS authentication configurations, on the token-protected service.

Basic -> gp_client's UserPasswordAuth (generateToken); EsriToken -> QGIS applies the
configuration to the requests. Settings, caches, logs and Processing parameters never hold
the secret.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from qgis.core import QgsSettings

from arcgis_gp.gp_client.auth import NoAuth, UserPasswordAuth
from arcgis_gp.provider.cache import DescriptionCache
from arcgis_gp.provider.clients import AuthConfigError, make_client
from arcgis_gp.provider.connections import Connection, ConnectionStore
from arcgis_gp.provider.provider import GpProvider
from arcgis_gp.provider.qgis_transport import QgisTransport
from tests.qgis.provider.helpers import (
    DEMO_PASSWORD,
    authcfg,
    demo_token,
    registered,
    run_connection_test,
    temporary_store,
)

pytestmark = pytest.mark.timeout(120)

PASSWORD = DEMO_PASSWORD


@pytest.fixture()
def basic_authcfg() -> Iterator[str]:
    """A Basic configuration with the reference server's demo user."""
    with authcfg("Basic", username="demo", password=PASSWORD) as config_id:
        yield config_id


@pytest.fixture()
def token_authcfg(gpserver_url: str) -> Iterator[str]:
    """An EsriToken configuration holding a token of the demo user."""
    with authcfg("EsriToken", token=demo_token(gpserver_url)) as config_id:
        yield config_id


@pytest.fixture()
def store() -> Iterator[ConnectionStore]:
    """A store under its own settings key."""
    with temporary_store() as store:
        yield store


@pytest.fixture()
def signed_in_provider(qgis_processing: Any, gpserver_url: str, basic_authcfg: str,
                       store: ConnectionStore, tmp_path: Path) -> Iterator[GpProvider]:
    """The registered provider with connection 'secure' signed in with ``basic_authcfg``."""
    store.save(Connection("secure", _secure_url(gpserver_url), authcfg=basic_authcfg))
    with registered(GpProvider(store, DescriptionCache(tmp_path), fetch_missing=False)) as prov:
        yield prov


def _secure_url(gpserver_url: str) -> str:
    return gpserver_url + "/arcgis/rest/services/Secure/Analysis/GPServer"


def test_basic_maps_to_generate_token(gpserver_url: str, basic_authcfg: str) -> None:
    client = make_client(Connection("s", _secure_url(gpserver_url), authcfg=basic_authcfg))
    assert isinstance(client.auth, UserPasswordAuth)
    assert isinstance(client.transport, QgisTransport)
    assert client.transport.authcfg == ""  # gp_client does the tokens, not QGIS
    body = client.get_json(_secure_url(gpserver_url))
    assert "Sleep" in body["tasks"]
    assert PASSWORD not in repr(client)


def test_esri_token_is_applied_by_qgis(gpserver_url: str, token_authcfg: str) -> None:
    client = make_client(Connection("s", _secure_url(gpserver_url), authcfg=token_authcfg))
    assert isinstance(client.auth, NoAuth)
    assert client.transport.authcfg == token_authcfg
    assert client.transport.applies_auth(_secure_url(gpserver_url) + "/Sleep")
    assert not client.transport.applies_auth("https://files.example/result.tif")
    assert "Sleep" in client.get_json(_secure_url(gpserver_url))["tasks"]


def test_unknown_authcfg_says_what_to_do() -> None:
    with pytest.raises(AuthConfigError) as caught:
        make_client(Connection("s", "https://h.example/arcgis/rest/services",
                               authcfg="nosuch1"))
    assert "nosuch1" in str(caught.value)
    assert "Authentication" in str(caught.value)


def test_secure_service_runs_with_basic_and_keeps_secrets_out(
        signed_in_provider: GpProvider, basic_authcfg: str, tmp_path: Path) -> None:
    import processing

    provider = signed_in_provider
    assert provider.refresh_now() == {"secure": None}
    names = {a.name() for a in provider.algorithms()}
    assert "secure_secure_analysis_sleep" in names
    params = {"Seconds": 0.2}
    result = processing.run("arcgisgp:secure_secure_analysis_sleep", params)
    assert result["Slept"] == pytest.approx(0.2)
    assert PASSWORD not in json.dumps(params)
    settings_text = Path(QgsSettings().fileName()).read_text(encoding="utf-8", errors="replace")
    assert basic_authcfg in settings_text
    assert PASSWORD not in settings_text
    for cache_file in tmp_path.glob("*.json"):
        text = cache_file.read_text(encoding="utf-8")
        assert PASSWORD not in text
        assert not re.search(r'"token"\s*:|token=', text, re.IGNORECASE)


SIGN_IN = ("this service needs a sign-in (the server said: Token Required): edit the connection "
           "'secure' and choose a QGIS authentication configuration (Basic: user name and "
           "password, or ESRI token).")


def _no_scripting_advice(text: str) -> None:
    for name in ("UserPasswordAuth", "TokenAuth", "credentials"):
        assert name not in text, text


def test_test_of_a_secured_service_asks_for_a_qgis_sign_in(gpserver_url: str,
                                                             store: ConnectionStore) -> None:
    from arcgis_gp.ui.connections_dialog import ConnectionsDialog

    store.save(Connection("secure", _secure_url(gpserver_url)))
    dialog = ConnectionsDialog(store=store)
    messages = run_connection_test(dialog)
    assert messages and messages[0].startswith("Test failed: "), messages
    assert messages[0].endswith(SIGN_IN), messages[0]
    _no_scripting_advice(messages[0])
    dialog.close()


def test_running_without_a_sign_in_says_what_to_do_in_qgis(
        signed_in_provider: GpProvider, gpserver_url: str, store: ConnectionStore) -> None:
    """The algorithm came from a signed-in refresh; the connection lost its authcfg since."""
    import processing
    from qgis.core import QgsProcessingException

    assert signed_in_provider.refresh_now() == {"secure": None}
    store.save(Connection("secure", _secure_url(gpserver_url)))  # authcfg removed
    with pytest.raises(QgsProcessingException) as caught:
        processing.run("arcgisgp:secure_secure_analysis_sleep", {"Seconds": 0.1})
    assert SIGN_IN in str(caught.value)
    _no_scripting_advice(str(caught.value))


def test_a_refused_sign_in_points_at_the_authentication_configuration(
        gpserver_url: str, store: ConnectionStore) -> None:
    with authcfg("Basic", username="demo", password="not-the-password") as wrong:
        provider = GpProvider(store, None, fetch_missing=False)
        store.save(Connection("secure", _secure_url(gpserver_url), authcfg=wrong))
        outcome = provider.refresh_now()
        text = outcome["secure"] or ""
        assert f"the sign-in with the QGIS authentication configuration '{wrong}' was not " \
               "accepted" in text
        assert "Settings > Options > Authentication" in text
        _no_scripting_advice(text)


def test_dialog_says_which_sign_in_and_whom_it_signs_in_as(gpserver_url: str,
                                                           basic_authcfg: str,
                                                           store: ConnectionStore) -> None:
    """Details name the configuration and its kind; Test adds 'Signed in as demo on ...'."""
    from arcgis_gp.ui.connections_dialog import ConnectionsDialog

    store.save(Connection("secure", _secure_url(gpserver_url), authcfg=basic_authcfg))
    dialog = ConnectionsDialog(store=store)
    details = dialog.detailsLabel.text()
    assert f"id {basic_authcfg}" in details and "(Basic" in details
    assert "user name and password" in details
    messages = run_connection_test(dialog)
    assert messages and messages[0].startswith("Test succeeded: "), messages
    assert messages[0].endswith(
        f"Signed in as demo on {gpserver_url}/portal/sharing/rest."), messages[0]
    assert PASSWORD not in messages[0]
    dialog.close()


def test_api_key_in_an_esri_token_configuration(gpserver_url: str,
                                                store: ConnectionStore) -> None:
    """An API key kept in the QGIS authentication database (EsriToken method) opens the
    service it is scoped to; the dialog says the key is sent by QGIS."""
    from arcgis_gp.ui.connections_dialog import ConnectionsDialog
    from tests.gpserver.auth import API_KEYS

    key = next(iter(API_KEYS))
    with authcfg("EsriToken", token=key) as cfg:
        client = make_client(Connection("k", _secure_url(gpserver_url), authcfg=cfg))
        assert "Sleep" in client.get_json(_secure_url(gpserver_url))["tasks"]
        store.save(Connection("keyed", _secure_url(gpserver_url), authcfg=cfg))
        dialog = ConnectionsDialog(store=store)
        assert "API key that QGIS sends" in dialog.detailsLabel.text()
        assert key not in dialog.detailsLabel.text()
        dialog.close()


def test_a_refused_token_configuration_says_what_to_check(gpserver_url: str,
                                                          store: ConnectionStore) -> None:
    """An EsriToken configuration whose token is refused: the advice is about the token."""
    with authcfg("EsriToken", token="forged-token-0123456789") as wrong:
        provider = GpProvider(store, None, fetch_missing=False)
        store.save(Connection("secure", _secure_url(gpserver_url), authcfg=wrong))
        text = provider.refresh_now()["secure"] or ""
    assert f"configuration '{wrong}' was not accepted" in text
    assert "Check the token or API key it holds" in text
    assert "forged-token-0123456789" not in text
