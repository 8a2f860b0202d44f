"""Which sign-in a connection uses, and whom it signs in as: the connection dialog's words."""

from __future__ import annotations

from qgis.core import QgsTask

from ..gp_client.auth import SignedIn
from ..gp_client.client import GPClient
from ..gp_client.errors import GPError
from ..gp_client.oauth2 import OAuth2Auth, PortalTokenAuth
from ..gp_client.urls import portal_sharing_root, server_context
from .clients import BASIC, OAUTH2, AuthConfigError, describe, load_config, make_client
from .connections import Connection
from .explain import explain_error

_KINDS = {
    BASIC: "user name and password; the plugin gets tokens from generateToken",
    OAUTH2: "OAuth2 sign-in to an ArcGIS portal; QGIS keeps and refreshes the tokens",
    "EsriToken": "an ArcGIS token or API key that QGIS sends",
}


def sign_in_method(connection: Connection) -> str:
    """One line saying how the connection signs in (no request is made)."""
    if not connection.authcfg:
        return "Sign-in: none (anonymous access)."
    try:
        config = load_config(connection.authcfg, full=False)
    except AuthConfigError as err:
        return f"Sign-in: {err}"
    kind = _KINDS.get(config.method(), "applied by QGIS to the connection's own servers")
    return f"Sign-in: {describe(config)}: {kind}."


def _portal_of(client: GPClient, connection: Connection) -> str:
    """The portal the connection signs in to ('' when there is none to ask)."""
    if isinstance(client.auth, (OAuth2Auth, PortalTokenAuth)):
        return client.auth.portal
    portal = portal_sharing_root(connection.url)
    if portal:
        return portal
    info = client.call_json("GET", server_context(connection.url) + "/rest/info",
                            authenticate=False)
    owner = str(info.get("owningSystemUrl") or "").rstrip("/")
    return owner + "/sharing/rest" if owner else ""


def signed_in_as(connection: Connection, client: GPClient | None = None) -> str:
    """Ask the portal whom the connection signs in as: 'Signed in as demo on <portal>.'.

    Raises GPError (explained for QGIS users by the caller) when the sign-in fails.
    """
    if not connection.authcfg:
        return "Not signed in (anonymous access)."
    client = client or make_client(connection)
    portal = _portal_of(client, connection)
    if portal:
        me = client.get_json(portal + "/portals/self")
        user = (me.get("user") or {}).get("username")
        if user:
            return f"Signed in as {user} on {portal}."
        if isinstance(client.auth, (SignedIn, OAuth2Auth)):
            return f"Signed in to {portal} as an app (no user)."
    return f"Signed in with {connection.authcfg}; the server names no portal to ask whom as."


class SignInCheck(QgsTask):
    """Finds out, in the background, whom a connection signs in as (``text``)."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(f"Checking the sign-in of {connection.name}", QgsTask.Flag.CanCancel)
        self.connection = connection
        self.text = ""
        self.done: list = []

    def run(self) -> bool:
        """Ask the portal (worker thread)."""
        try:
            self.text = signed_in_as(self.connection)
        except GPError as err:
            self.text = f"Sign-in check failed: {explain_error(err, self.connection)}"
            return False
        return True

    def finished(self, result: bool) -> None:
        """Tell the dialog (main thread)."""
        for callback in self.done:
            callback()
