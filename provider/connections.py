"""Connections to ArcGIS servers and portals: stored in QgsSettings, or given headless.

A connection is a name, a URL (a services directory, a folder, one GPServer service, or a
portal / ArcGIS Online), an optional QGIS authentication configuration id and an optional
referer. Settings only ever hold the authcfg *id*: secrets stay in the QGIS authentication
database. The environment variable ``ARCGIS_GP_CONNECTIONS`` (a JSON list of
``{"name", "url", optional "authcfg", "referer", "execute_timeout", "patience"}``) adds
connections for
``qgis_process`` and scripts; an entry there replaces a stored connection of the same name
for that process.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from qgis.core import QgsSettings

from .naming import slug
from .notices import warn

SETTINGS_PREFIX = "arcgis_gp/connections"
ENV_VAR = "ARCGIS_GP_CONNECTIONS"
SOURCE_SETTINGS = "settings"
SOURCE_ENVIRONMENT = "environment"
_ARCGIS_ONLINE_HOSTS = ("www.arcgis.com", "arcgis.com")


@dataclass(frozen=True)
class Connection:
    """One connection: where the services are and which QGIS auth config to use."""

    name: str
    url: str
    authcfg: str = ""
    referer: str = ""
    source: str = SOURCE_SETTINGS
    #: seconds a synchronous execute may take (0: gp_client's default, 600 s)
    execute_timeout: float = 0.0
    #: seconds a job's wait and result fetch keep trying while the server does not answer
    #: (0: gp_client's default, 300 s)
    patience: float = 0.0

    @property
    def key(self) -> str:
        """Return the name part used in algorithm names and cache files."""
        return slug(self.name)


class InvalidConnectionError(ValueError):
    """A connection definition that cannot be used (says what is wrong)."""


def normalize_url(url: str) -> str:
    """Trim a connection URL; point a bare ArcGIS Online or portal host at its REST root."""
    url = url.strip()
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    host = parts.hostname or ""
    if not path and (host in _ARCGIS_ONLINE_HOSTS or host.endswith(".maps.arcgis.com")):
        path = "/sharing/rest"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def validate(connection: Connection, taken_names: Iterable[str] = ()) -> list[str]:
    """Return what is wrong with a connection (an empty list when it is usable).

    ``taken_names``: the names of the other connections (compared case-insensitively).
    """
    problems = []
    if not connection.name.strip():
        problems.append("The connection needs a name.")
    elif "/" in connection.name or "\\" in connection.name:
        problems.append("A connection name cannot contain '/' or '\\'.")
    elif not connection.key:
        problems.append("A connection name needs at least one letter or digit.")
    parts = urlsplit(connection.url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        problems.append(
            "The URL must start with https:// (or http://) and name a host, e.g. "
            "https://server.example.com/arcgis/rest/services."
        )
    if parts.query or "token=" in connection.url.lower():
        problems.append(
            "The URL must not carry a query string (put credentials in a QGIS authentication "
            "configuration, never in the URL)."
        )
    if connection.name and connection.name.lower() in {n.lower() for n in taken_names}:
        problems.append(f"A connection called '{connection.name}' already exists.")
    return problems


def _check(connection: Connection) -> Connection:
    """Return the connection, or raise InvalidConnectionError saying what is wrong with it."""
    problems = validate(connection)
    if problems:
        raise InvalidConnectionError(" ".join(problems))
    return connection


def _text(value: object) -> str:
    """A settings or JSON value as text ('' for None and other empty values)."""
    return str(value or "")


class ConnectionStore:
    """Reads and writes connections in QgsSettings and reads the headless ones."""

    def __init__(
        self, settings_prefix: str = SETTINGS_PREFIX, environ: Mapping[str, str] | None = None
    ) -> None:
        self.prefix = settings_prefix.rstrip("/")
        self._environ = environ
        self._warned: set[str] = set()

    def _env(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def stored(self) -> list[Connection]:
        """Return the connections kept in QgsSettings, sorted by name."""
        settings = QgsSettings()
        settings.beginGroup(self.prefix)
        try:
            names = settings.childGroups()
            found = []
            for name in names:
                url = _text(settings.value(f"{name}/url", ""))
                if not url:
                    continue
                found.append(Connection(
                    name=name,
                    url=url,
                    authcfg=_text(settings.value(f"{name}/authcfg", "")),
                    referer=_text(settings.value(f"{name}/referer", "")),
                    source=SOURCE_SETTINGS,
                    execute_timeout=_seconds(settings.value(f"{name}/execute_timeout", 0)),
                    patience=_seconds(settings.value(f"{name}/patience", 0)),
                ))
        finally:
            settings.endGroup()
        return sorted(found, key=lambda c: c.name.lower())

    def from_environment(self) -> list[Connection]:
        """Return the connections of ``ARCGIS_GP_CONNECTIONS``; bad entries are logged."""
        raw = self._env().get(ENV_VAR, "").strip()
        if not raw:
            return []
        try:
            entries = json.loads(raw)
        except ValueError as err:
            self._warn(
                f"{ENV_VAR} is not valid JSON ({err}); expected a list like "
                '[{"name": "local", "url": "https://host/arcgis/rest/services"}]. '
                "Its connections are ignored: fix the variable and run again."
            )
            return []
        if isinstance(entries, dict):
            entries = [entries]
        if not isinstance(entries, list):
            self._warn(f"{ENV_VAR} must hold a JSON list of connections like "
                       '[{"name": "local", "url": "https://host/arcgis/rest/services"}]; '
                       "it is ignored.")
            return []
        found: list[Connection] = []
        for index, entry in enumerate(entries):
            try:
                found.append(_from_env_entry(entry))
            except InvalidConnectionError as err:
                self._warn(f"{ENV_VAR} entry {index + 1} is skipped: {err}")
        return found

    def _warn(self, message: str) -> None:
        """Warn once per store about a problem with the headless connections."""
        if message not in self._warned:
            self._warned.add(message)
            warn(message)

    def all(self) -> list[Connection]:
        """Return stored and headless connections; a headless one wins on the same name."""
        merged = {c.key: c for c in self.stored()}
        for conn in self.from_environment():
            merged[conn.key] = conn
        return sorted(merged.values(), key=lambda c: c.name.lower())

    def get(self, name: str) -> Connection | None:
        """Return the connection called ``name`` (or with the same key), if any."""
        wanted = slug(name)
        for conn in self.all():
            if conn.name == name or conn.key == wanted:
                return conn
        return None

    def save(self, connection: Connection, old_name: str | None = None) -> None:
        """Store a connection (renaming ``old_name`` when given); raises on a bad one."""
        _check(connection)
        settings = QgsSettings()
        if old_name and old_name != connection.name:
            settings.remove(f"{self.prefix}/{old_name}")
        base = f"{self.prefix}/{connection.name}"
        settings.setValue(f"{base}/url", normalize_url(connection.url))
        settings.setValue(f"{base}/authcfg", connection.authcfg.strip())
        settings.setValue(f"{base}/referer", connection.referer.strip())
        for key in ("execute_timeout", "patience"):
            if getattr(connection, key):
                settings.setValue(f"{base}/{key}", float(getattr(connection, key)))
            else:
                settings.remove(f"{base}/{key}")
        settings.sync()

    def remove(self, name: str) -> None:
        """Forget a stored connection."""
        settings = QgsSettings()
        settings.remove(f"{self.prefix}/{name}")
        settings.sync()


def _from_env_entry(entry: object) -> Connection:
    if not isinstance(entry, dict):
        raise InvalidConnectionError("each entry must be an object with at least name and url")
    return _check(Connection(
        name=_text(entry.get("name")).strip(),
        url=normalize_url(_text(entry.get("url"))),
        authcfg=_text(entry.get("authcfg")).strip(),
        referer=_text(entry.get("referer")).strip(),
        source=SOURCE_ENVIRONMENT,
        execute_timeout=_seconds(entry.get("execute_timeout")),
        patience=_seconds(entry.get("patience")),
    ))


def _seconds(value: object) -> float:
    """A number of seconds from settings or JSON (0 for none or for what is not a number)."""
    try:
        seconds = float(value or 0)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return seconds if seconds > 0 and seconds != float("inf") else 0.0
