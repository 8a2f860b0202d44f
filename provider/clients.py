"""A gp_client GPClient for a connection: QGIS transport plus the auth its authcfg asks for.

How a QGIS authentication configuration maps to gp_client:

- method ``Basic`` (user name + password): gp_client's ``UserPasswordAuth`` gets tokens
  through ``generateToken`` (the server's or the portal's), refreshes them on 498/499 and
  sends them in the ``X-Esri-Authorization`` header only to the origins that issued them;
- method ``OAuth2`` (an ArcGIS app registered in the portal; token URL
  ``<portal>/sharing/rest/oauth2/token``): QGIS's OAuth2 method signs in (browser),
  refreshes and keeps the tokens; the plugin asks it for the current access token (by
  letting it decorate a blank request to the portal, on the main thread) and gp_client's
  ``PortalTokenAuth`` sends it as ``X-Esri-Authorization`` to the portal only, and makes
  server tokens from it for the servers federated with the portal. QGIS's own way, the
  ``Authorization`` header on every request, is not used: a federated ArcGIS Server does
  not read it and wants its own server token;
- any other method (QGIS's ``EsriToken`` holding a token or an API key, PKI...): QGIS applies
  the configuration to each request itself (QgsBlockingNetworkRequest.setAuthCfg), but only
  to the origins of the connection and its services, and over https to the hosts of the
  connection's own site (ArcGIS Online's www.arcgis.com signs in, its analysis services
  run on analysis.arcgis.com); gp_client adds no auth of its own.

The password is read from the QGIS authentication database when a client is made and
lives only in that client object; it is never logged, stored in settings or put in a
Processing parameter.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, Optional

from qgis.core import QgsApplication, QgsAuthMethodConfig, QgsFeedback, QgsNetworkAccessManager
from qgis.PyQt.QtCore import (
    QCoreApplication,
    QMetaObject,
    QObject,
    Qt,
    QThread,
    QUrl,
    QUrlQuery,
    pyqtSlot,
)
from qgis.PyQt.QtNetwork import QNetworkRequest

from ..gp_client.auth import NoAuth, UserPasswordAuth
from ..gp_client.client import GPClient
from ..gp_client.errors import GPError
from ..gp_client.oauth2 import PortalTokenAuth
from ..gp_client.urls import portal_sharing_root
from .connections import Connection
from .qgis_transport import QgisTransport, site

BASIC = "Basic"
OAUTH2 = "OAuth2"


class AuthConfigError(GPError):
    """The connection's QGIS authentication configuration cannot be used."""


def load_config(authcfg: str, full: bool) -> QgsAuthMethodConfig:
    """Load a QGIS authentication configuration (``full``: with its secrets, decrypted)."""
    manager = QgsApplication.authManager()
    config = QgsAuthMethodConfig()
    loaded = manager is not None and manager.loadAuthenticationConfig(authcfg, config, full)
    # QGIS 3.22 answers True for an unknown id, with an empty configuration
    if not loaded or not config.method() or config.id() != authcfg:
        raise AuthConfigError(
            f"The QGIS authentication configuration '{authcfg}' could not be loaded. Check "
            "that it exists (Settings > Options > Authentication) and that the "
            "authentication database is unlocked, then edit the connection.")
    return config


def make_client(
    connection: Connection,
    *,
    auth_origins: Optional[Iterable[str]] = None,
    feedback: Optional[QgsFeedback] = None,
    timeout: Optional[float] = None,
) -> GPClient:
    """Return a GPClient for the connection, talking through QGIS's network stack.

    ``timeout`` (each silence of a request) defaults to QGIS's network timeout (Settings >
    Options > Network); a synchronous execute gets the connection's ``execute_timeout``
    instead, and a job's wait the connection's ``patience`` through an outage.
    """
    if timeout is None:
        timeout = QgsNetworkAccessManager.timeout() / 1000 or 60.0
    options = {"timeout": timeout, "execute_timeout": connection.execute_timeout or None,
               "patience": connection.patience or None}
    origins = {connection.url, *(auth_origins or ())}
    headers = {"Referer": connection.referer} if connection.referer else None
    if connection.authcfg:
        config = load_config(connection.authcfg, full=True)
        if config.method() == BASIC:
            username = config.config("username", "")
            password = config.config("password", "")
            if not username or not password:
                missing = "user name" if not username else "password"
                raise AuthConfigError(
                    f"The authentication configuration '{connection.authcfg}' has no "
                    f"{missing}; edit it in Settings > Options > Authentication.")
            transport = QgisTransport(feedback=feedback, headers=headers)
            auth = UserPasswordAuth(username, password, referer=connection.referer or None)
            return GPClient(transport=transport, auth=auth, **options)
        if config.method() == OAUTH2:
            auth = PortalTokenAuth(oauth2_portal(config), QgisOAuth2Token(config),
                                   referer=connection.referer or None,
                                   label=describe(config))
            return GPClient(transport=QgisTransport(feedback=feedback, headers=headers),
                            auth=auth, **options)
        transport = QgisTransport(connection.authcfg, auth_origins=origins,
                                  auth_sites=[site(connection.url)], feedback=feedback,
                                  headers=headers)
        return GPClient(transport=transport, auth=NoAuth(), **options)
    return GPClient(transport=QgisTransport(feedback=feedback, headers=headers), auth=NoAuth(),
                    **options)


def describe(config: QgsAuthMethodConfig) -> str:
    """How messages name a configuration: its name, method and id."""
    return f"QGIS authentication configuration '{config.name()}' ({config.method()}, " \
           f"id {config.id()})"


def oauth2_portal(config: QgsAuthMethodConfig) -> str:
    """The portal (``.../sharing/rest``) whose OAuth2 token URL the configuration uses."""
    try:
        settings: Any = json.loads(config.config("oauth2config", "") or "{}")
    except ValueError:
        settings = {}
    token_url = str(settings.get("tokenUrl") or "") if isinstance(settings, dict) else ""
    portal = portal_sharing_root(token_url)
    if not portal or not token_url.rstrip("/").lower().endswith("/oauth2/token"):
        raise AuthConfigError(
            f"The {describe(config)} cannot sign in to ArcGIS: its token URL "
            f"{token_url or '(none)'!r} is not an ArcGIS portal's. Set the token URL to "
            "https://<portal>/sharing/rest/oauth2/token and the request URL to "
            ".../sharing/rest/oauth2/authorize (Settings > Options > Authentication).")
    return portal


class QgisOAuth2Token(QObject):
    """The access token QGIS's OAuth2 method holds for a configuration, read on demand.

    QGIS signs in (opening the browser the first time), refreshes and stores the token;
    this asks it to decorate a blank request to the portal and reads the token back from
    the header (or query) QGIS set. Always on the main thread: QGIS 3.22's OAuth2 method
    hangs when it has to refresh from a worker thread.
    """

    def __init__(self, config: QgsAuthMethodConfig) -> None:
        super().__init__()
        self.authcfg = config.id()
        self.label = describe(config)
        self.probe_url = oauth2_portal(config) + "/portals/self"
        self._value = ""
        app = QCoreApplication.instance()
        if app is not None and self.thread() is not app.thread():
            self.moveToThread(app.thread())

    def __call__(self) -> str:
        """Return the current access token ('' when QGIS has none)."""
        app = QCoreApplication.instance()
        if app is None or QThread.currentThread() is app.thread():
            self.read()
        else:
            QMetaObject.invokeMethod(self, "read", Qt.ConnectionType.BlockingQueuedConnection)
        value, self._value = self._value, ""
        if not value:
            raise AuthConfigError(
                f"The {self.label} gave no token: the sign-in in the browser did not finish "
                "(cancelled or timed out), or the portal refused the app (client id, client "
                "secret or redirect URL). Sign in again (the connection dialog's Test "
                "button) and check the configuration in Settings > Options > "
                "Authentication.")
        return value

    @pyqtSlot()
    def read(self) -> None:
        """Let QGIS decorate a request to the portal; keep the token it put in."""
        manager = QgsApplication.authManager()
        request = QNetworkRequest(QUrl(self.probe_url))
        answer = manager.updateNetworkRequest(request, self.authcfg)
        ok, request = answer if isinstance(answer, tuple) else (answer, request)
        self._value = _bearer_of(request) if ok else ""


def _bearer_of(request: QNetworkRequest) -> str:
    """The token QGIS put in a request: a ``Bearer`` header, or ``access_token`` in the URL."""
    for name in request.rawHeaderList():
        value = bytes(request.rawHeader(name)).decode("latin-1")
        if value[:7].lower() == "bearer ":
            return value[7:].strip()
    return QUrlQuery(request.url()).queryItemValue("access_token")
