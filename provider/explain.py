"""gp_client's problems told in QGIS terms: what went wrong and what to do in QGIS."""

from __future__ import annotations

from collections.abc import Sequence

from ..gp_client.auth import is_referer_error
from ..gp_client.discovery import SkippedService
from ..gp_client.errors import AuthError, GPError
from .clients import AuthConfigError, load_config
from .connections import ENV_VAR, SOURCE_ENVIRONMENT, Connection
from .naming import service_path

PICK_AUTHCFG = "pick an authentication configuration"
AUTHCFG_KINDS = "Basic: user name and password, or ESRI token"


def explain_error(err: BaseException, connection: Connection) -> str:
    """Return the text of an error for a QGIS user: auth problems in QGIS's terms."""
    if isinstance(err, AuthError):
        return auth_problem(err, connection)
    return str(err) or type(err).__name__


def auth_problem(err: AuthError, connection: Connection) -> str:
    """Return what a sign-in problem means for this connection and how to fix it in QGIS."""
    where = err.url or connection.url
    said = f" (the server said: {err.message})" if err.message else ""
    if not connection.authcfg:
        if connection.source == SOURCE_ENVIRONMENT:
            fix = (f'add "authcfg": "<id>" to the entry \'{connection.name}\' of {ENV_VAR}, '
                   f"the id of a QGIS authentication configuration ({AUTHCFG_KINDS})")
        else:
            fix = (f"edit the connection '{connection.name}' and choose a QGIS "
                   f"authentication configuration ({AUTHCFG_KINDS})")
        return f"{where}: this service needs a sign-in{said}: {fix}."
    return (f"{where}: the sign-in with the QGIS authentication configuration "
            f"'{connection.authcfg}' was not accepted{said}. {_advice(err, connection)} "
            "(Settings > Options > Authentication), or edit the "
            f"connection '{connection.name}' to choose another configuration.")


def _advice(err: AuthError, connection: Connection) -> str:
    """What to check in the configuration, by its method."""
    if is_referer_error(err):
        return (f"The token is bound to another referer: set the connection's referer to the "
                f"one it was made for (now {connection.referer or 'none'})")
    try:
        method = load_config(connection.authcfg, full=False).method()
    except AuthConfigError:
        method = ""
    return {
        "Basic": "Check the user name and password it holds",
        "OAuth2": ("Sign in again (the connection dialog's Test button) and check its client "
                   "id, client secret, token URL and redirect port"),
        "EsriToken": ("Check the token or API key it holds: it may have expired, or not be "
                      "scoped to this service"),
    }.get(method, "Check the user name and password or the token it holds")


def skipped_reason(skipped: SkippedService, connection: Connection) -> str:
    """Return why a service was skipped, e.g. ``Secure/Analysis needs a sign-in — ...``."""
    name = service_path(skipped.url)
    if skipped.kind == "task":
        name = f"{name}/{skipped.url.rstrip('/').rsplit('/', 1)[-1]}"
    elif skipped.kind == "folder":
        name = f"folder {skipped.url.rstrip('/').rsplit('/', 1)[-1]}"
    err = skipped.error
    if isinstance(err, AuthError) and not connection.authcfg:
        return f"{name} needs a sign-in — {PICK_AUTHCFG}"
    if isinstance(err, AuthError):
        return (f"{name} refused the sign-in of authentication configuration "
                f"'{connection.authcfg}' — check the user, password or token it holds")
    return f"{name}: {_short(err)}"


def skipped_text(skipped: Sequence[SkippedService], connection: Connection) -> str:
    """Return one sentence about what was skipped ('' when nothing was)."""
    if not skipped:
        return ""
    counts = []
    for kind in ("service", "task", "folder"):
        count = sum(1 for s in skipped if s.kind == kind)
        if count:
            counts.append(f"{count} {kind}{'s' if count != 1 else ''}")
    reasons = "; ".join(skipped_reason(s, connection) for s in skipped)
    return f"{' and '.join(counts)} skipped: {reasons}."


def tasks_summary(services: Sequence) -> str:
    """Return e.g. ``11 tasks in 3 services`` (singular where it is one)."""
    count = sum(len(s.tasks) for s in services)
    return (f"{count} task{'s' if count != 1 else ''} in {len(services)} "
            f"service{'s' if len(services) != 1 else ''}")


def _short(err: GPError) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text.rstrip(".")
