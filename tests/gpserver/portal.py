"""The portal side: ``/portal/sharing/rest`` (info, generateToken, portals/self)."""

from __future__ import annotations

from typing import Any

from .catalog import FULL_VERSION
from .errors import RestError
from .httpd import Request, Response

PORTAL_VERSION = "9.4"
PORTAL_ID = "0123456789ABCDEF"


def _check(gp: Any, req: Request) -> Any:
    token = req.token
    return gp.tokens.check(token, req.headers.get("Referer")) if token else None


def root(gp: Any, req: Request) -> Response:
    """``/portal/sharing/rest``."""
    _check(gp, req)
    return Response({"currentVersion": PORTAL_VERSION}, title="Portal")


def info(gp: Any, req: Request) -> Response:
    """``/portal/sharing/rest/info``."""
    return Response(
        {
            "owningSystemUrl": f"{req.base_url}/portal",
            "fullVersion": FULL_VERSION,
            "authInfo": {
                "tokenServicesUrl": f"{req.base_url}/portal/sharing/rest/generateToken",
                "isTokenBasedSecurity": True,
            },
        },
        title="Portal info",
    )


def generate_token(gp: Any, req: Request) -> Response:
    """``/portal/sharing/rest/generateToken``."""
    return Response(gp.tokens.generate(req.params, req.headers.get("Referer")),
                    title="Generate Token")


def _user(req: Request, username: str) -> dict[str, Any]:
    return {
        "username": username,
        "fullName": "Demo User",
        "firstName": "Demo",
        "lastName": "User",
        "role": "org_publisher",
        "privileges": [
            "portal:user:createItem",
            "portal:publisher:publishFeatures",
            "premium:user:spatialanalysis",
        ],
        "orgId": PORTAL_ID,
    }


def portal_self(gp: Any, req: Request) -> Response:
    """``/portal/sharing/rest/portals/self``: helperServices.analysis points at ``tasks``."""
    token = _check(gp, req)
    services = f"{req.base_url}/arcgis/rest/services"
    body: dict[str, Any] = {
        "id": PORTAL_ID,
        "name": "Reference Portal",
        "isPortal": True,
        "portalName": "Reference Portal (gpserver)",
        "portalHostname": req.base_url.split("://", 1)[1] + "/portal",
        "currentVersion": PORTAL_VERSION,
        "supportsHostedServices": True,
        "helperServices": {
            "analysis": {"url": f"{services}/tasks/GPServer"},
            "geoprocessing": {"url": f"{services}/Demo/Analysis/GPServer"},
        },
        "allSSL": False,
    }
    if token is not None and token.username:  # an app's token signs in no user
        body["user"] = _user(req, token.username)
    return Response(body, title="Portal self")


def community_self(gp: Any, req: Request) -> Response:
    """``/portal/sharing/rest/community/self``: the signed-in user."""
    token = _check(gp, req)
    if token is None:
        raise RestError(
            403,
            "You do not have permissions to access this resource or perform this operation.",
        )
    return Response(_user(req, token.username), title="Community self")
