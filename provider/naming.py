"""Stable algorithm names and toolbox groups, derived from connection, service and task."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from ..gp_client.discovery import PORTAL_ITEM_KEY
from .i18n import tr

PROVIDER_ID = "arcgisgp"
_NOT_NAME = re.compile(r"[^a-z0-9]+")
_SERVICE_PATH = re.compile(r"/rest/services/(.+?)/GPServer(?:/|$)", re.IGNORECASE)


def slug(text: str) -> str:
    """Lower-case ``text`` and turn every run of other characters into one ``_``."""
    return _NOT_NAME.sub("_", text.lower()).strip("_")


def service_path(service_url: str) -> str:
    """Return a service's folder/name path (``Demo/Analysis``) from its GPServer URL."""
    path = urlsplit(service_url).path
    found = _SERVICE_PATH.search(path)
    if found:
        return found.group(1).strip("/")
    parts = [p for p in path.split("/") if p]
    if parts and parts[-1].lower() == "gpserver":
        parts = parts[:-1]
    return parts[-1] if parts else urlsplit(service_url).netloc


def algorithm_name(connection_name: str, service_url: str, task_name: str) -> str:
    """Return the algorithm name, e.g. ``local_demo_analysis_bufferfeatures``."""
    return "_".join(
        part for part in (slug(connection_name), slug(service_path(service_url)), slug(task_name))
        if part
    )


def algorithm_id(connection_name: str, service_url: str, task_name: str) -> str:
    """Return the full algorithm id, e.g. ``arcgisgp:local_demo_analysis_bufferfeatures``."""
    return f"{PROVIDER_ID}:{algorithm_name(connection_name, service_url, task_name)}"


def group_id(connection_name: str, service_url: str) -> str:
    """Return the toolbox group id of a connection's service."""
    return "_".join(
        part for part in (slug(connection_name), slug(service_path(service_url))) if part
    )


def group_name(connection_name: str, service_url: str) -> str:
    """Return the toolbox group name of a connection's service, e.g. ``local: Demo/Analysis``."""
    return f"{connection_name}: {service_path(service_url)}"


def service_group_name(connection_name: str, service: Any) -> str:
    """The toolbox group of a service: for a portal's web tool, where the user finds it.

    ``portal: My web tools: <item title>``, ``portal: Group <group>: <title>``,
    ``portal: Organization: <title>``; other services ``<connection>: <folder/name>``.
    """
    item = (getattr(service, "extra", None) or {}).get(PORTAL_ITEM_KEY)
    if not isinstance(item, dict):
        return group_name(connection_name, service.url)
    place = str(item.get("place") or "")
    where = {"mine": tr("My web tools"), "organization": tr("Organization"),
             "public": tr("Public")}.get(place, tr("Web tools"))
    if place == "group":
        where = tr("Group {0}").format(item.get("group") or "")
    title = item.get("title") or service_path(service.url)
    return f"{connection_name}: {where}: {title}"
