"""gp_client's problems told in QGIS terms: what went wrong and what to do in QGIS."""

from __future__ import annotations

from collections.abc import Sequence

from ..gp_client.discovery import SkippedService
from ..gp_client.errors import AuthError, GPError
from .connections import Connection
from .naming import service_path

PICK_AUTHCFG = "pick an authentication configuration"


def skipped_reason(skipped: SkippedService, connection: Connection) -> str:
    """Return why a service was skipped, e.g. ``Secure/Analysis needs a sign-in — ...``."""
    name = service_path(skipped.url)
    err = skipped.error
    if isinstance(err, AuthError) and not connection.authcfg:
        return f"{name} needs a sign-in — {PICK_AUTHCFG}"
    if isinstance(err, AuthError):
        return (f"{name} refused the sign-in of authentication configuration "
                f"'{connection.authcfg}' — check the user, password or token it holds")
    return f"{name}: {_short(err)}"


def skipped_text(skipped: Sequence[SkippedService], connection: Connection) -> str:
    """Return one sentence about the skipped services ('' when none was skipped)."""
    if not skipped:
        return ""
    count = len(skipped)
    reasons = "; ".join(skipped_reason(s, connection) for s in skipped)
    return f"{count} service{'s' if count != 1 else ''} skipped: {reasons}."


def _short(err: GPError) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text.rstrip(".")
