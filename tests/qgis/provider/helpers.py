"""Set-up shared by the provider tests (tests/qgis/test_provider_*.py).

Throwaway connection stores, the provider registered in Processing for the length of a test,
QGIS authentication configurations for the reference server's demo user, and waiting while
the event loop turns. Plain functions and context managers: each test module makes its own
fixtures from them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Callable

import requests
from qgis.core import (
    QgsApplication,
    QgsAuthMethodConfig,
    QgsFeature,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProject,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QCoreApplication

from arcgis_gp.provider.cache import DescriptionCache
from arcgis_gp.provider.connections import ENV_VAR, ConnectionStore
from arcgis_gp.provider.provider import GpProvider

MASTER = "arcgis-gp-tests"
DEMO_PASSWORD = "demo-password"


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Turn the event loop until ``predicate`` holds (or the time is up)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        QCoreApplication.processEvents()
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def dispose(widget: Any) -> None:
    """Close and delete a dialog now: one left alive under the main window reacts to the
    project's layers being removed when QGIS exits, and QGIS >= 3.44 aborts there."""
    from qgis.PyQt.QtCore import QEvent

    widget.close()
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def real_layer_tree_view(iface: Any, monkeypatch: Any) -> Any:
    """Give pytest-qgis's iface a real layer tree view (its own is a mock): QGIS >= 3.44 hands
    iface.layerTreeView() to C++ when Processing loads result layers."""
    from qgis.core import QgsLayerTreeModel, QgsProject
    from qgis.gui import QgsLayerTreeView

    view = QgsLayerTreeView()
    view.setModel(QgsLayerTreeModel(QgsProject.instance().layerTreeRoot(), view))
    monkeypatch.setattr(iface, "layerTreeView", lambda: view, raising=False)
    return view


def new_store(environ: Mapping[str, str] | None = None) -> ConnectionStore:
    """A connection store under a settings key of its own (no headless connections unless
    ``environ`` gives some)."""
    return ConnectionStore(f"arcgis_gp_tests/{uuid.uuid4().hex}/connections",
                           environ=dict(environ or {}))


def headless_store(**urls: str) -> ConnectionStore:
    """A store whose only connections are headless ones, ``name=url``."""
    entries = [{"name": name, "url": url} for name, url in urls.items()]
    return new_store({ENV_VAR: json.dumps(entries)})


@contextmanager
def temporary_store() -> Iterator[ConnectionStore]:
    """A new store whose stored connections are removed afterwards."""
    store = new_store()
    try:
        yield store
    finally:
        for conn in store.stored():
            store.remove(conn.name)


@contextmanager
def registered(provider: GpProvider) -> Iterator[GpProvider]:
    """``provider`` in the Processing registry (instead of any other arcgisgp) while inside."""
    registry = QgsApplication.processingRegistry()
    old = registry.providerById("arcgisgp")
    if old is not None:
        registry.removeProvider(old)
    assert registry.addProvider(provider)
    try:
        yield provider
    finally:
        registry.removeProvider(provider)


def run_connection_test(dialog: Any) -> list[str]:
    """Start Test in a ConnectionsDialog and return its report once it came (or [])."""
    messages: list[str] = []
    dialog.test_finished.connect(messages.append)
    dialog.test_connection()
    wait_until(lambda: bool(messages))
    return messages


def store_authcfg(method: str, **values: str) -> str:
    """Store an authentication configuration in the test profile; return its id."""
    manager = QgsApplication.authManager()
    if not manager.masterPasswordIsSet():
        assert manager.setMasterPassword(MASTER, True)
    config = QgsAuthMethodConfig(method)
    config.setName(f"arcgis_gp test {method} {uuid.uuid4().hex[:6]}")
    for key, value in values.items():
        config.setConfig(key, value)
    ok, stored = manager.storeAuthenticationConfig(config)
    assert ok
    return stored.id()


@contextmanager
def authcfg(method: str, **values: str) -> Iterator[str]:
    """An authentication configuration (see ``store_authcfg``), removed afterwards."""
    config_id = store_authcfg(method, **values)
    try:
        yield config_id
    finally:
        QgsApplication.authManager().removeAuthenticationConfig(config_id)


def demo_token(gpserver_url: str) -> str:
    """A token of the reference server's demo user."""
    return requests.post(gpserver_url + "/arcgis/tokens/generateToken", timeout=30, data={
        "username": "demo", "password": DEMO_PASSWORD, "client": "requestip", "f": "json",
    }).json()["token"]


# ---------------------------------------------------------------- jobs (test_jobs*, the dock)
SERVICE = "/arcgis/rest/services/Demo/Analysis/GPServer"
POINTS = {"geometryType": "esriGeometryPoint", "spatialReference": {"wkid": 4326},
          "fields": [{"name": "Name", "type": "esriFieldTypeString", "length": 20}],
          "features": [{"geometry": {"x": 7.44, "y": 46.95}, "attributes": {"Name": "Bern"}},
                       {"geometry": {"x": 6.63, "y": 46.52},
                        "attributes": {"Name": "Lausanne"}}]}


def submit(gpserver_url: str, task: str, **inputs: Any) -> str:
    """Submit a job as another client would; return its URL."""
    url = f"{gpserver_url}{SERVICE}/{task}"
    data = {k: json.dumps(v) if isinstance(v, dict) else v for k, v in inputs.items()}
    answer = requests.post(url + "/submitJob", data={**data, "f": "json"}, timeout=30).json()
    return f"{url}/jobs/{answer['jobId']}"


def wait_for(job_url: str, status: str = "esriJobSucceeded", timeout: float = 60) -> None:
    """Wait until the server says the job has that status."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if requests.get(job_url, params={"f": "json"}, timeout=10).json()["jobStatus"] == status:
            return
        time.sleep(0.05)
    raise AssertionError(f"{job_url} never reached {status}")


def jobs_of(gpserver: Any, task: str) -> int:
    """How many jobs of a task the server has been given."""
    return sum(1 for job in gpserver.jobs.all() if job.task.name == task)


# ---------------------------------------------------------------- runs (feedback, layers)
class RecordingFeedback(QgsProcessingFeedback):
    """Keeps what the algorithm reported, with its severity."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[tuple[str, str]] = []
        self.progress: list[float] = []
        self.progressChanged.connect(self.progress.append)

    def pushInfo(self, info: str) -> None:
        """Record an informative line."""
        self.lines.append(("info", info))
        super().pushInfo(info)

    def pushWarning(self, warning: str) -> None:
        """Record a warning."""
        self.lines.append(("warning", warning))
        super().pushWarning(warning)

    def reportError(self, error: str, fatalError: bool = False) -> None:
        """Record an error."""
        self.lines.append(("error", error))
        super().reportError(error, fatalError)

    def texts(self, kind: str | None = None) -> list[str]:
        """The recorded lines (of one kind)."""
        return [t for k, t in self.lines if kind is None or k == kind]


def point_layer(points: list[tuple[float, float, str]], crs: str = "EPSG:4326"
                ) -> QgsVectorLayer:
    """A memory layer of named points."""
    layer = QgsVectorLayer(f"Point?crs={crs}&field=Name:string(20)&field=Rank:integer",
                           "points", "memory")
    features = []
    for rank, (x, y, name) in enumerate(points):
        feature = QgsFeature(layer.fields())
        feature.setAttributes([name, rank])
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    QgsProject.instance().addMapLayer(layer)
    return layer


def run_in_task(alg_id: str, params: dict, feedback: QgsProcessingFeedback,
                on_started: Callable[[], None] | None = None,
                ) -> tuple[bool, dict, QgsProcessingAlgRunnerTask]:
    """Run as the toolbox does: QgsProcessingAlgRunnerTask on the task manager."""
    alg = QgsApplication.processingRegistry().createAlgorithmById(alg_id)
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    task = QgsProcessingAlgRunnerTask(alg, params, context, feedback)
    outcome: dict[str, Any] = {}
    task.executed.connect(lambda ok, results: outcome.update(ok=ok, results=results))
    QgsApplication.taskManager().addTask(task)
    if on_started is not None:
        on_started()
    assert wait_until(lambda: "ok" in outcome, 120), "the task never finished"
    return outcome["ok"], outcome["results"], task


def job_id_from(feedback: RecordingFeedback) -> str:
    """The job id the algorithm reported when it submitted the job."""
    for text in feedback.texts("info"):
        if text.startswith("Submitted job "):
            return text.split()[2]
    raise AssertionError(f"no job was submitted: {feedback.lines}")


@contextmanager
def serving_provider(cache_dir: Any, **urls: str) -> Iterator[GpProvider]:
    """A provider with headless connections ``name=url``, registered while inside."""
    provider = GpProvider(headless_store(**urls), DescriptionCache(cache_dir),
                          fetch_missing=True)
    with registered(provider):
        yield provider


def run(alg_id: str, params: dict, feedback: QgsProcessingFeedback | None = None) -> dict:
    """processing.run on the main thread."""
    import processing

    return processing.run(alg_id, params, feedback=feedback or RecordingFeedback())


# ------------------------------------------------ OAuth2 (test_auth_oauth2): the browser step
def free_port() -> int:
    """A loopback port nobody listens on (for QGIS's OAuth2 redirect listener)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def oauth2_authcfg_values(portal: str, client_id: str, client_secret: str, port: int,
                          custom_header: str = "", persist: bool = False) -> dict[str, str]:
    """The ``oauth2config`` JSON of a QGIS 3.22 OAuth2 configuration for an ArcGIS app.

    grantFlow 0 = authorization code (3.22 has no PKCE: the app has a client secret),
    configType 1 = custom, accessMethod 0 = header (``customHeader`` names it, the
    ``Authorization`` header when empty). ``persist``: QGIS keeps the tokens in its
    profile's oauth2-cache (encrypted) instead of a temporary file; on 3.22 a temporary
    cache vanished mid-session in the test run (QGIS then unlinks and asks for a new
    browser sign-in), a persisted one did not.
    """
    config = {
        "id": "", "name": "arcgis_gp test app", "description": "", "version": 1,
        "configType": 1, "grantFlow": 0, "clientId": client_id,
        "clientSecret": client_secret, "requestUrl": portal + "/oauth2/authorize",
        "tokenUrl": portal + "/oauth2/token", "refreshTokenUrl": portal + "/oauth2/token",
        "redirectPort": port, "redirectUrl": "", "scope": "", "apiKey": "",
        "persistToken": persist, "accessMethod": 0, "customHeader": custom_header,
        "requestTimeout": 30, "queryPairs": {},
    }
    return {"oauth2config": json.dumps(config)}


class Browser:
    """Stands in for the system browser of QGIS's OAuth2 sign-in.

    QGIS 3.22 opens the authorize URL through an authentication handler only the desktop
    application installs (none in a headless process, none settable from Python), so the
    test makes the URL as QGIS's O2 does (response_type=code, client_id, redirect_uri
    ``http://127.0.0.1:<port>/``) once QGIS listens on the redirect port, signs in on the
    portal's form like a user, and hands the code to QGIS's listener by following the
    redirect. ``visits`` counts the sign-ins.
    """

    def __init__(self, portal: str, client_id: str, port: int) -> None:
        import threading

        self.portal, self.client_id, self.port = portal, client_id, port
        self.visits = 0
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        import socket
        import urllib.parse
        import urllib.request

        from tests.gpserver.oauth import browser_sign_in

        while not self._stop.is_set():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                time.sleep(0.05)
                continue
            try:
                url = self.portal + "/oauth2/authorize?" + urllib.parse.urlencode({
                    "response_type": "code", "client_id": self.client_id,
                    "redirect_uri": f"http://127.0.0.1:{self.port}/"})
                back = browser_sign_in(url, "demo", DEMO_PASSWORD)
                urllib.request.urlopen(back, timeout=10).read()
                self.visits += 1
            except Exception as exc:  # noqa: BLE001 - kept for the test to report
                self.errors.append(exc)
            # QGIS closes its listener once it has the code; wait for that
            while not self._stop.is_set():
                try:
                    socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                    time.sleep(0.05)
                except OSError:
                    break

    def stop(self) -> None:
        """Stop watching the redirect port."""
        self._stop.set()
        self._thread.join(5)


# ---------------------------------------------------------------- algorithms from descriptions
DESCRIBED_URL = "https://gis.example/arcgis/rest/services/Real/GPServer"


def recorded_task(file_name: str, service_url: str = DESCRIBED_URL) -> Any:
    """A task description of ../shared/fixtures/real-tasks by its file name, as recorded."""
    from arcgis_gp.gp_client.model import TaskDescription
    from tests.paths import REAL_TASKS

    path = next((REAL_TASKS / "recorded").rglob(file_name))
    return TaskDescription.from_json(json.loads(path.read_text(encoding="utf-8")),
                                     url=f"{service_url}/{path.stem}")


def algorithm_for(task: Any, service_url: str = DESCRIBED_URL,
                  **service: Any) -> Any:
    """An initialised GpTaskAlgorithm for a task description (building it needs no server).

    ``service`` adds keys to the service description (``maximumRecords=5``).
    """
    from arcgis_gp.gp_client.model import ServiceDescription
    from arcgis_gp.provider.algorithm import GpTaskAlgorithm, TaskSpec
    from arcgis_gp.provider.connections import Connection

    described = ServiceDescription.from_json(
        {"currentVersion": 11.1, "executionType": task.execution_type
         or "esriExecutionTypeAsynchronous", "tasks": [task.name], **service},
        url=service_url).with_tasks((task,))
    alg = GpTaskAlgorithm(TaskSpec(connection=Connection("local", service_url),
                                   service=described, task=task, name=task.name.lower(),
                                   group="g", group_id="g"))
    alg.initAlgorithm()
    return alg


def wire_value(alg: Any, name: str, parameters: dict) -> Any:
    """The wire value of one input, from parameters as a script gives them (no uploads)."""
    from pathlib import Path

    from arcgis_gp.provider.parameters import RunEnv, gp_type

    env = RunEnv(algorithm=alg, parameters=alg.normalized_parameters(parameters),
                 context=QgsProcessingContext(), feedback=QgsProcessingFeedback(), work_dir="",
                 upload=lambda path: "", download=lambda url, folder: Path(folder))
    p = alg.spec.task.parameter(name)
    return gp_type(p.data_type).to_wire(p, env)
