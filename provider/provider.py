"""The Processing provider ``arcgisgp``.

Start-up touches no network: each connection's algorithms are built from its description
cache (see cache.py). A refresh fetches the descriptions again (on demand, or in the
background in a QgsTask), rewrites the caches and calls ``refreshAlgorithms()``. A server
that is down costs one log message and keeps its cached algorithms. The one exception to
"no network at start-up": a connection given headless through ``ARCGIS_GP_CONNECTIONS``
that has no cache yet is fetched synchronously when the provider loads outside the desktop
application (qgis_process, scripts), since there is no later moment to show its algorithms.
Once a cache exists, qgis_process never fetches again: the tool ``arcgisgp:refreshconnections``
(refresh_algorithm.py) refreshes on demand there, and from scripts and models.

Algorithms are grouped by connection and service (``local: Demo/Analysis``) and named
``<connection>_<service path>_<task>`` in lower case (``local_demo_analysis_bufferfeatures``).
A task description that cannot be turned into an algorithm is logged and skipped.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from typing import Any, Callable, Optional

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsProcessingProvider,
    QgsTask,
)
from qgis.PyQt.QtCore import pyqtSignal
from qgis.PyQt.QtGui import QIcon

from ..gp_client.discovery import SkippedService, described_problem
from ..gp_client.model import ServiceDescription
from ..gp_client.names import LOG_JOB_MESSAGE, LOG_SKIPPED_SERVICE, LOGGER_NAME
from .algorithm import GpTaskAlgorithm, TaskSpec
from .cache import DescriptionCache
from .connections import SOURCE_ENVIRONMENT, Connection, ConnectionStore
from .esrijson_algorithms import EsriJsonToLayerAlgorithm, LayerToEsriJsonAlgorithm
from .explain import explain_error, skipped_text
from .naming import PROVIDER_ID, algorithm_name, group_id, service_group_name
from .notices import log, warn
from .refresh import fetch, fetch_services, refresh_connections
from .refresh_algorithm import RefreshConnectionsAlgorithm

__all__ = ["GpProvider", "RefreshTask", "fetch", "fetch_services", "refresh_connections"]

ICON_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "icons", "icon.svg")


class GpClientLogBridge(logging.Handler):
    """Forwards gp_client's log records (already free of secrets) to the QGIS message log."""

    def emit(self, record: logging.LogRecord) -> None:
        """Log one record under the plugin's tag."""
        # gp_client logs each job message too; algorithms already give those to the
        # feedback. It logs each skipped service with gp_client's advice; the provider
        # reports those itself, in QGIS's terms (explain.skipped_text).
        if record.msg in (LOG_JOB_MESSAGE, LOG_SKIPPED_SERVICE):
            return
        if record.levelno >= logging.ERROR:
            level = Qgis.MessageLevel.Critical
        elif record.levelno >= logging.WARNING:
            level = Qgis.MessageLevel.Warning
        else:
            level = Qgis.MessageLevel.Info
        try:
            log(record.getMessage(), level)
        except Exception:  # noqa: BLE001 - logging must never raise
            self.handleError(record)

    def attach(self) -> None:
        """Start forwarding."""
        logging.getLogger(LOGGER_NAME).addHandler(self)

    def detach(self) -> None:
        """Stop forwarding."""
        logging.getLogger(LOGGER_NAME).removeHandler(self)


class GpProvider(QgsProcessingProvider):
    """Processing provider holding the ArcGIS geoprocessing algorithms."""

    # Emit from any thread to reload the algorithms on the provider's own (main) thread.
    reload_requested = pyqtSignal()

    def __init__(
        self,
        store: Optional[ConnectionStore] = None,
        cache: Optional[DescriptionCache] = None,
        *,
        fetch_missing: Optional[bool] = None,
    ) -> None:
        super().__init__()
        self.store = store if store is not None else ConnectionStore()
        self.cache = cache if cache is not None else DescriptionCache()
        self._fetch_missing = fetch_missing
        self._tasks: list[QgsTask] = []
        self.load_problems: list[str] = []
        self._log_bridge = GpClientLogBridge()
        self.reload_requested.connect(self.refreshAlgorithms)

    def id(self) -> str:
        """Return the provider id used in algorithm ids (``arcgisgp:...``)."""
        return PROVIDER_ID

    def name(self) -> str:
        """Return the name shown in the Processing toolbox."""
        return "ArcGIS Geoprocessing"

    def longName(self) -> str:
        """Return the long name shown in tooltips."""
        return "ArcGIS Geoprocessing Services"

    def icon(self) -> QIcon:
        """Return the provider icon."""
        return QIcon(ICON_PATH)

    def svgIconPath(self) -> str:
        """Return the provider icon's path."""
        return ICON_PATH

    def load(self) -> bool:
        """Forward gp_client's log to QGIS's, then load the algorithms."""
        self._log_bridge.attach()
        return super().load()

    def unload(self) -> None:
        """Cancel any refresh still running and stop forwarding gp_client's log."""
        self._log_bridge.detach()
        for task in list(self._tasks):
            try:
                task.cancel()
            except RuntimeError:
                pass
        super().unload()

    # ------------------------------------------------------------------ loading
    def loadAlgorithms(self) -> None:
        """Add the Esri JSON tools and one algorithm per cached (or headless) task."""
        self.load_problems = []
        for algorithm in _utility_algorithms():
            self.addAlgorithm(algorithm)
        seen: set[str] = set()
        for connection in self.store.all():
            services = self._services_for(connection)
            for service in services:
                for task in service.tasks:
                    self._add_task(connection, service, task, seen)

    def _services_for(self, connection: Connection) -> Sequence[ServiceDescription]:
        cached = self.cache.load(connection)
        if cached is not None:
            return cached.services
        if not self._may_fetch_now(connection):
            return ()
        try:
            found = fetch(connection)
        except Exception as err:  # noqa: BLE001 - one bad connection never breaks the rest
            warn(f"Connection '{connection.name}' ({connection.url}) could not be loaded: "
                 f"{_sentence(explain_error(err, connection))} Its algorithms are left out "
                 "until it loads: fix the connection (URL, server, authentication) and run "
                 "again.")
            return ()
        services = found.services
        _warn_skipped(connection, found.skipped)
        try:
            self.cache.save(connection, services)
        except OSError as err:
            warn(f"Could not write the cache of connection '{connection.name}' to "
                 f"{self.cache.folder}: {err}. Check that the QGIS profile folder is "
                 "writable.")
        return services

    def _may_fetch_now(self, connection: Connection) -> bool:
        if self._fetch_missing is not None:
            return self._fetch_missing
        return (connection.source == SOURCE_ENVIRONMENT
                and QgsApplication.platform() != "desktop")

    def _add_task(self, connection: Connection, service: ServiceDescription, task,
                  seen: set[str]) -> None:
        try:
            name = algorithm_name(connection.name, service.url, task.name)
            if name in seen:
                raise ValueError(f"another task already has the algorithm name '{name}'")
            spec = TaskSpec(
                connection=connection, service=service, task=task, name=name,
                group=service_group_name(connection.name, service),
                group_id=group_id(connection.name, service.url), store=self.store,
            )
            probe = GpTaskAlgorithm(spec)
            probe.initAlgorithm()  # a description that cannot become parameters fails here
            if not self.addAlgorithm(GpTaskAlgorithm(spec)):
                raise ValueError("QGIS refused the algorithm")
            seen.add(name)
        except Exception as err:  # noqa: BLE001 - a bad description is logged and skipped
            problem = (f"Skipped task {getattr(task, 'name', '?')} of {service.url} "
                       f"(connection '{connection.name}'): {_task_problem(task, err)}")
            self.load_problems.append(problem)
            warn(problem)

    # ------------------------------------------------------------------ refreshing
    def refresh_now(self, names: Optional[Iterable[str]] = None) -> dict[str, Optional[str]]:
        """Fetch the connections now (blocking), rewrite caches, reload; name -> error."""
        skipped: dict[str, list[SkippedService]] = {}
        connections = self._select(names)
        outcome = refresh_connections(connections, self.cache, skipped=skipped)
        _log_outcome(outcome, connections, skipped)
        self.refreshAlgorithms()
        return outcome

    def refresh_in_background(
        self,
        names: Optional[Iterable[str]] = None,
        on_done: Optional[Callable[[dict[str, Optional[str]]], None]] = None,
    ) -> Optional[QgsTask]:
        """Refresh in a QgsTask; the algorithms reload on the main thread when it ends."""
        connections = self._select(names)
        if not connections:
            if on_done is not None:
                on_done({})
            return None
        task = RefreshTask(connections, self.cache)

        def finished() -> None:
            if task in self._tasks:
                self._tasks.remove(task)
            _log_outcome(task.outcome, task.connections, task.skipped)
            try:
                self.refreshAlgorithms()
            except RuntimeError:  # the provider was removed while the task ran
                return
            if on_done is not None:
                on_done(dict(task.outcome))

        task.done.append(finished)
        self._tasks.append(task)
        QgsApplication.taskManager().addTask(task)
        return task

    def _select(self, names: Optional[Iterable[str]]) -> list[Connection]:
        connections = self.store.all()
        if names is None:
            return connections
        wanted = set(names)
        return [c for c in connections if c.name in wanted]


def _task_problem(task: Any, err: Exception) -> str:
    """What is wrong with a task that could not become an algorithm, in words, not Python's."""
    if isinstance(err, ValueError) and not isinstance(err, (KeyError, UnicodeError)):
        return str(err)
    try:
        shape = described_problem(task.to_json(), "task")
    except Exception:  # noqa: BLE001 - the description is broken beyond description
        shape = ""
    log(f"Task {getattr(task, 'name', '?')}: {type(err).__name__}: {err}")  # for a bug report
    what = f"is broken: {shape}" if shape else "has a shape this plugin cannot use"
    return f"its description {what}; refresh the connection, and report it if it persists"


def _warn_skipped(connection: Connection, skipped: Sequence[SkippedService]) -> None:
    if skipped:
        warn(f"Connection '{connection.name}': {skipped_text(skipped, connection)}")


def _log_outcome(outcome: dict[str, Optional[str]], connections: Sequence[Connection] = (),
                 skipped: Optional[dict[str, list[SkippedService]]] = None) -> None:
    for connection in connections:
        _warn_skipped(connection, (skipped or {}).get(connection.name, ()))
    for name, error in outcome.items():
        if error:
            warn(f"Could not refresh connection '{name}': {_sentence(error)} Its cached "
                 "algorithms (if any) stay available.")


class RefreshTask(QgsTask):
    """Fetches connections' descriptions in the background (and rewrites their caches).

    Without a cache it only looks: the connection dialog's Test uses it that way. The
    services found are in ``services`` (name -> list), the services listed but not readable
    in ``skipped`` (name -> list), errors in ``outcome``.
    """

    def __init__(self, connections: Sequence[Connection],
                 cache: Optional[DescriptionCache] = None) -> None:
        names = ", ".join(c.name for c in connections)
        verb = "Refreshing" if cache is not None else "Testing"
        super().__init__(f"{verb} ArcGIS GP connections: {names}", QgsTask.Flag.CanCancel)
        self.connections = list(connections)
        self.cache = cache
        self.outcome: dict[str, Optional[str]] = {}
        self.services: dict[str, list[ServiceDescription]] = {}
        self.skipped: dict[str, list[SkippedService]] = {}
        self.done: list[Callable[[], None]] = []

    def run(self) -> bool:
        """Fetch every connection (worker thread)."""
        total = max(1, len(self.connections))
        for index, connection in enumerate(self.connections):
            if self.isCanceled():
                return False
            self.outcome.update(refresh_connections([connection], self.cache, self.isCanceled,
                                                    self.services, self.skipped))
            self.setProgress(100.0 * (index + 1) / total)
        return True

    def finished(self, result: bool) -> None:
        """Reload the algorithms (main thread)."""
        for callback in self.done:
            callback()


def _sentence(text: str) -> str:
    """Return ``text`` ending with a full stop, so that another sentence can follow."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _utility_algorithms() -> list:
    """Return the tools: Esri JSON (esrijsontolayer, layertoesrijson), refreshconnections."""
    return [EsriJsonToLayerAlgorithm(), LayerToEsriJsonAlgorithm(),
            RefreshConnectionsAlgorithm()]
