"""The description cache: what each connection's services looked like at the last refresh.

One JSON file per connection under ``<QGIS profile>/arcgis_gp/cache/``, holding the
connection's URL, the time of the refresh and every service description as gp_client's
``ServiceDescription.to_json()`` wrote it. QGIS starts from these files without touching
the network. A file for another URL (the connection was edited) is ignored; a service
description that no longer parses is logged and skipped. Files are written atomically
(a temporary file renamed over the old one), so a refresh that dies half-way leaves the
previous cache intact. No credentials are ever written: descriptions hold none and the
connection's authcfg id is not stored here.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from qgis.core import QgsApplication

from ..gp_client.model import ServiceDescription
from .connections import Connection
from .notices import warn

CACHE_FORMAT = 1


def default_cache_dir() -> Path:
    """Return the cache folder inside the active QGIS profile."""
    return Path(QgsApplication.qgisSettingsDirPath()) / "arcgis_gp" / "cache"


@dataclass
class CachedServices:
    """The services of one connection as read from the cache."""

    url: str
    fetched_at: float
    services: list = field(default_factory=list)
    problems: list = field(default_factory=list)


class DescriptionCache:
    """Reads and writes the per-connection description files."""

    def __init__(self, folder: str | os.PathLike | None = None) -> None:
        self._folder = Path(folder) if folder is not None else None

    @property
    def folder(self) -> Path:
        """Return the cache folder (the profile's unless one was given)."""
        return self._folder if self._folder is not None else default_cache_dir()

    def path_for(self, connection: Connection) -> Path:
        """Return the cache file of a connection."""
        return self.folder / f"{connection.key}.json"

    def load(self, connection: Connection) -> CachedServices | None:
        """Return the cached services of a connection, or None when there is no usable file."""
        path = self.path_for(connection)
        if not path.is_file():
            return None
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            warn(f"The cache file {path} cannot be read ({err}); refresh connection "
                 f"'{connection.name}' to rebuild it.")
            return None
        if not isinstance(doc, dict) or doc.get("format") != CACHE_FORMAT:
            return None
        if doc.get("url") != connection.url:
            return None
        cached = CachedServices(url=doc["url"], fetched_at=float(doc.get("fetched_at") or 0))
        for index, raw in enumerate(doc.get("services") or []):
            try:
                cached.services.append(
                    ServiceDescription.from_json(raw["description"], url=raw["url"]))
            except Exception as err:  # noqa: BLE001 - one bad entry must not hide the rest
                cached.problems.append(f"service {index + 1} ({_url_of(raw) or '?'}): {err}")
        for problem in cached.problems:
            warn(f"Connection '{connection.name}': skipped a cached description, {problem}. "
                 "Refresh the connection to rebuild its cache.")
        return cached

    def save(self, connection: Connection, services: Sequence[ServiceDescription]) -> Path:
        """Write the services of a connection and return the file written."""
        folder = self.folder
        folder.mkdir(parents=True, exist_ok=True)
        doc = {
            "format": CACHE_FORMAT,
            "connection": connection.name,
            "url": connection.url,
            "fetched_at": time.time(),
            "services": _writable(connection, services),
        }
        path = self.path_for(connection)
        handle, tmp = tempfile.mkstemp(prefix=f".{connection.key}.", suffix=".tmp", dir=folder)
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(doc, out)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return path

    def remove(self, connection: Connection) -> None:
        """Delete the cache file of a connection, if any."""
        try:
            self.path_for(connection).unlink()
        except FileNotFoundError:
            pass

    def forget_replaced(self, previous: Connection | None, current: Connection) -> None:
        """Delete the file of ``previous`` when ``current`` (its edit) was renamed or moved."""
        if previous is not None and (previous.key != current.key or previous.url != current.url):
            self.remove(previous)


def _writable(connection: Connection, services: Sequence[ServiceDescription]) -> list[dict]:
    """The services as cache entries; one that cannot be written is left out, with a warning.

    A description is checked when it is fetched (gp_client.discovery), so this is the
    last guard: whatever a server published must never stop the cache being written,
    nor the QGIS or qgis_process run that writes it.
    """
    entries = []
    for service in services:
        try:
            entry = {"url": service.url, "description": service.to_json()}
            json.dumps(entry)
        except (TypeError, ValueError, AttributeError, RecursionError):
            warn(f"Connection '{connection.name}': the description of {service.url} cannot "
                 "be cached (its shape is not what ArcGIS publishes); it is left out. Refresh "
                 "the connection once the service is fixed.")
            continue
        entries.append(entry)
    return entries


def _url_of(raw: Any) -> str:
    return str(raw.get("url") or "") if isinstance(raw, dict) else ""
