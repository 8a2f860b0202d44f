"""``arcgisgp:refreshconnections``: fetch the connections' descriptions again, as an algorithm.

qgis_process reads the description caches at start-up and, once a cache exists, never
fetches again; this algorithm is how a headless user (or a script, or a model) brings the
caches up to date: ``qgis_process.bin run arcgisgp:refreshconnections``, then ``list``.
It reports per connection what was found or what failed, reloads the provider's
algorithms, and fails (exit code 1 in qgis_process) when a connection could not be
refreshed; the caches of the others are rewritten all the same.
"""

from __future__ import annotations

import re
from typing import Optional

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterString,
)

from ..gp_client.discovery import SkippedService
from ..gp_client.model import ServiceDescription
from .cache import DescriptionCache
from .connections import Connection, ConnectionStore
from .explain import skipped_text, tasks_summary
from .i18n import tr as _tr
from .naming import slug
from .refresh import refresh_connections


class RefreshConnectionsAlgorithm(QgsProcessingAlgorithm):
    """Re-fetches connections' task descriptions, rewrites their caches, reloads the toolbox."""

    CONNECTIONS = "CONNECTIONS"
    REPORT = "REPORT"
    TASKS = "TASKS"
    FAILED = "FAILED"

    def createInstance(self) -> RefreshConnectionsAlgorithm:
        """Return a new instance."""
        return RefreshConnectionsAlgorithm()

    def name(self) -> str:
        """Return the algorithm name."""
        return "refreshconnections"

    def displayName(self) -> str:
        """Return the name shown in the toolbox."""
        return _tr("Refresh ArcGIS GP connections")

    def group(self) -> str:
        """Return the group of the plugin's tools."""
        return _tr("Connections")

    def groupId(self) -> str:
        """Return the group id."""
        return "connections"

    def tags(self) -> list[str]:
        """Return search tags."""
        return ["arcgis", "esri", "gpserver", "refresh", "cache", "connections", "update"]

    def shortHelpString(self) -> str:
        """Return the help: what is refreshed and when to use it."""
        return _tr(
            "Fetches the task descriptions of ArcGIS GP connections again, rewrites their "
            "caches and reloads the provider's algorithms, so that new or changed tasks show "
            "up.\n"
            "Connections: names separated by commas; empty refreshes every connection "
            "(stored ones and those of ARCGIS_GP_CONNECTIONS).\n"
            "qgis_process reads the caches at start-up and never fetches a connection that "
            "has one: run this algorithm, then 'qgis_process list'.\n"
            "The log says per connection what was found or what failed; the algorithm fails "
            "when a connection could not be refreshed (the others are refreshed anyway).")

    def initAlgorithm(self, configuration: Optional[dict] = None) -> None:
        """Add the CONNECTIONS parameter and the outputs."""
        names = QgsProcessingParameterString(
            self.CONNECTIONS, _tr("Connections (names separated by commas; empty: all)"),
            None, False, True)
        names.setHelp(_tr("The connections to refresh, by name; leave empty for all."))
        self.addParameter(names)
        self.addOutput(QgsProcessingOutputString(self.REPORT, _tr("Report")))
        self.addOutput(QgsProcessingOutputNumber(self.TASKS, _tr("Tasks found")))
        self.addOutput(QgsProcessingOutputNumber(self.FAILED, _tr("Connections that failed")))

    def processAlgorithm(self, parameters: dict, context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> dict:
        """Fetch each chosen connection, rewrite its cache and report; then reload."""
        provider = self.provider()
        store = getattr(provider, "store", None) or ConnectionStore()
        cache = getattr(provider, "cache", None) or DescriptionCache()
        text = self.parameterAsString(parameters, self.CONNECTIONS, context) or ""
        connections = _chosen(store.all(), text)
        lines: list[str] = []
        tasks = failed = 0
        for index, connection in enumerate(connections):
            if feedback.isCanceled():
                break
            feedback.pushInfo(_tr("Refreshing {} ({})…").format(connection.name,
                                                               connection.url))
            found: dict[str, list[ServiceDescription]] = {}
            skipped: dict[str, list[SkippedService]] = {}
            outcome = refresh_connections([connection], cache, feedback.isCanceled, found,
                                          skipped)
            error = outcome.get(connection.name)
            if error:
                failed += 1
                line = _tr("{}: failed: {}").format(connection.name, error)
                feedback.reportError(line, False)
            else:
                services = found.get(connection.name, [])
                count = sum(len(s.tasks) for s in services)
                tasks += count
                line = _tr("{}: {}, cache written to {}").format(
                    connection.name, tasks_summary(services), cache.path_for(connection))
                feedback.pushInfo(line)
                note = skipped_text(skipped.get(connection.name, []), connection)
                if note:
                    feedback.pushWarning(f"{connection.name}: {note}")
                    line += f"; {note}"
            lines.append(line)
            feedback.setProgress(100.0 * (index + 1) / len(connections))
        if provider is not None and lines:
            # The fetching above runs in Processing's worker thread; the toolbox is reloaded
            # on the provider's (main) thread, queued there when this is not it.
            provider.reload_requested.emit()
        if failed:
            raise QgsProcessingException(
                _tr("{} of {} connections could not be refreshed (their cached algorithms, "
                    "if any, stay as they were):\n{}").format(
                    failed, len(connections), "\n".join(lines)))
        return {self.REPORT: "\n".join(lines), self.TASKS: tasks, self.FAILED: failed}


def _chosen(connections: list[Connection], text: str) -> list[Connection]:
    """Return the connections named in ``text`` (all when it is empty); unknown names raise."""
    names = [n.strip() for n in re.split(r"[,;]", text) if n.strip()]
    if not connections:
        raise QgsProcessingException(_tr(
            "There is no ArcGIS GP connection to refresh. Add one in the connection manager, "
            "or set ARCGIS_GP_CONNECTIONS for qgis_process and scripts."))
    if not names:
        return connections
    by_name = {c.name.lower(): c for c in connections}
    by_key = {c.key: c for c in connections}
    chosen: list[Connection] = []
    unknown = []
    for name in names:
        conn = by_name.get(name.lower()) or by_key.get(slug(name))
        if conn is None:
            unknown.append(name)
        elif conn not in chosen:
            chosen.append(conn)
    if unknown:
        raise QgsProcessingException(_tr("No connection called {}. The connections are: {}.")
                                     .format(", ".join(repr(n) for n in unknown),
                                             ", ".join(c.name for c in connections)))
    return chosen
