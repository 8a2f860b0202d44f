"""A gp_client GPClient for a connection: QGIS transport plus the auth its authcfg asks for.

How a QGIS authentication configuration maps to gp_client:

- method ``Basic`` (user name + password): gp_client's ``UserPasswordAuth`` gets tokens
  through ``generateToken`` (the server's or the portal's), refreshes them on 498/499 and
  sends them in the ``X-Esri-Authorization`` header only to the origins that issued them;
- any other method (QGIS's ``EsriToken``, ``OAuth2``, ``APIHeader``, PKI...): QGIS applies
  the configuration to each request itself (QgsBlockingNetworkRequest.setAuthCfg), but only
  to the origins of the connection and its services, and over https to the hosts of the
  connection's own site (ArcGIS Online's www.arcgis.com signs in, its analysis services
  run on analysis.arcgis.com); gp_client adds no auth of its own.

The password is read from the QGIS authentication database when a client is made and
lives only in that client object; it is never logged, stored in settings or put in a
Processing parameter.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Optional

from qgis.core import QgsApplication, QgsAuthMethodConfig, QgsFeedback

from ..gp_client.auth import NoAuth, UserPasswordAuth
from ..gp_client.client import GPClient
from ..gp_client.errors import GPError
from .connections import Connection
from .qgis_transport import QgisTransport, site

BASIC = "Basic"


class AuthConfigError(GPError):
    """The connection's QGIS authentication configuration cannot be used."""


def _load(authcfg: str, full: bool) -> QgsAuthMethodConfig:
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
    timeout: float = 60.0,
) -> GPClient:
    """Return a GPClient for the connection, talking through QGIS's network stack."""
    origins = {connection.url, *(auth_origins or ())}
    headers = {"Referer": connection.referer} if connection.referer else None
    if connection.authcfg:
        config = _load(connection.authcfg, full=True)
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
            return GPClient(transport=transport, auth=auth, timeout=timeout)
        transport = QgisTransport(connection.authcfg, auth_origins=origins,
                                  auth_sites=[site(connection.url)], feedback=feedback,
                                  headers=headers)
        return GPClient(transport=transport, auth=NoAuth(), timeout=timeout)
    return GPClient(transport=QgisTransport(feedback=feedback, headers=headers), auth=NoAuth(),
                    timeout=timeout)
