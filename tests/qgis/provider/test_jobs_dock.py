"""The "ArcGIS GP jobs" panel, offscreen, against the reference server.

Jobs are left in the store as an earlier session (or a killed qgis_process) leaves them;
the panel watches them in the background, cancels them on the server, loads a finished
job's results into the project through the algorithm, and says plainly when a job is
gone from the server or its connection was removed.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from qgis.core import QgsProject, QgsWkbTypes
from qgis.PyQt.QtCore import QCoreApplication
from qgis.PyQt.QtGui import QGuiApplication

from arcgis_gp.provider.job_store import JobRecord, JobStore
from arcgis_gp.provider.provider import GpProvider
from arcgis_gp.ui.gui_entry import GuiEntry
from arcgis_gp.ui.jobs_dock import TITLE, URL_ROLE, JobsDock, JobsPanel

from .helpers import POINTS, jobs_of, real_layer_tree_view, submit, wait_for, wait_until
from .test_jobs import ASYNC

pytestmark = pytest.mark.timeout(180)


@pytest.fixture()
def panel(served_provider: GpProvider, tmp_path: Path) -> Iterator[JobsPanel]:
    """A started panel over a store of its own; stopped afterwards."""
    panel = JobsPanel(JobStore(tmp_path / "jobs.json"), served_provider.store)
    panel.resize(900, 400)
    panel.show()
    panel.start()
    yield panel
    panel.stop()
    panel.close()


def left_behind(job_url: str, task: str, connection: str = "local",
                algorithm: str = "") -> JobRecord:
    """The record a run leaves when it submitted a job."""
    return JobRecord(job_url=job_url, job_id=job_url.rsplit("/", 1)[1],
                     task_url=job_url.rsplit("/jobs/", 1)[0], connection=connection,
                     algorithm_id=algorithm or ASYNC + task.lower(), task=task,
                     submitted=time.time() - 5)


def row(panel: JobsPanel, job_url: str) -> dict:
    """The texts of a job's row, by column."""
    panel.reload()
    for index in range(panel.jobList.topLevelItemCount()):
        item = panel.jobList.topLevelItem(index)
        if item.data(0, URL_ROLE) == job_url:
            header = panel.jobList.headerItem()
            return {header.text(c).lower(): item.text(c) for c in range(item.columnCount())}
    return {}



def test_panel_watches_a_running_job_and_cancels_it(panel: JobsPanel, gpserver: Any) -> None:
    job_url = submit(gpserver.url, "Sleep", Seconds=60)
    panel.store.put(left_behind(job_url, "Sleep"))
    panel.watcher.poll_now()
    assert wait_until(lambda: row(panel, job_url).get("status") == "Running", 30)
    assert wait_until(lambda: (panel.store.get(job_url).progress or 0) > 0, 30)
    assert row(panel, job_url)["task"] == "Sleep"
    assert row(panel, job_url)["connection"] == "local"
    panel.select(job_url)
    assert panel.cancelButton.isEnabled() and not panel.loadButton.isEnabled()
    assert "Sleeping for 60 seconds" in panel.details.toPlainText()
    asked: list[str] = []
    panel.confirm = lambda question: asked.append(question) or True
    panel.cancelButton.click()
    assert asked and "Sleep" in asked[0]
    assert wait_until(lambda: row(panel, job_url).get("status") == "Cancelled", 30)
    server = requests.get(job_url, params={"f": "json"}, timeout=10).json()
    assert server["jobStatus"] == "esriJobCancelled"
    assert panel.store.get(job_url).ended is not None


def test_panel_loads_a_finished_jobs_results_into_the_project(panel: JobsPanel,
                                                              gpserver: Any, qgis_iface: Any,
                                                              monkeypatch: Any) -> None:
    real_layer_tree_view(qgis_iface, monkeypatch)  # QGIS 3.44 hands it to C++
    job_url = submit(gpserver.url, "BufferFeatures", Input_Features=POINTS,
                     Distance={"distance": 500, "units": "esriMeters"})
    wait_for(job_url)
    panel.store.put(left_behind(job_url, "BufferFeatures"))
    assert wait_until(lambda: row(panel, job_url).get("status") == "Succeeded", 30)
    before_jobs = jobs_of(gpserver, "BufferFeatures")
    project = QgsProject.instance()
    before_layers = set(project.mapLayers())
    loaded: list[tuple] = []
    panel.results_loaded.connect(lambda *args: loaded.append(args))
    panel.select(job_url)
    assert panel.loadButton.isEnabled()
    panel.loadButton.click()
    assert wait_until(lambda: bool(loaded), 60)
    assert loaded[0][1], loaded
    new = [project.mapLayer(i) for i in set(project.mapLayers()) - before_layers]
    assert len(new) == 1
    layer = new[0]
    assert layer.name() == "Output Features"
    assert layer.geometryType() == QgsWkbTypes.GeometryType.PolygonGeometry
    assert sorted(f["Name"] for f in layer.getFeatures()) == ["Bern", "Lausanne"]
    assert jobs_of(gpserver, "BufferFeatures") == before_jobs
    assert "Loaded the results of BufferFeatures" in panel.statusLabel.text()
    project.removeMapLayer(layer.id())


def test_panel_says_when_a_job_is_gone_or_its_connection_removed(panel: JobsPanel,
                                                                 gpserver: Any) -> None:
    task_url = f"{gpserver.url}/arcgis/rest/services/Demo/Analysis/GPServer/Sleep"
    gone = f"{task_url}/jobs/jlongforgotten"
    orphan_url = f"{task_url}/jobs/jorphan"
    panel.store.put(left_behind(gone, "Sleep"))
    panel.store.put(left_behind(orphan_url, "Sleep", connection="deleted-connection"))
    panel.watcher.poll_now()
    assert wait_until(lambda: row(panel, gone).get("status") == "Gone from the server", 30)
    assert wait_until(
        lambda: row(panel, orphan_url).get("status") == "Connection removed", 30)
    panel.select(gone)
    assert "jlongforgotten is unknown to the server" in panel.details.toPlainText()
    assert not panel.cancelButton.isEnabled() and not panel.loadButton.isEnabled()
    panel.copyButton.click()
    assert QGuiApplication.clipboard().text() == gone
    panel.removeButton.click()
    assert panel.store.get(gone) is None and row(panel, gone) == {}
    assert row(panel, orphan_url)  # the other one stays


def test_a_job_recorded_by_another_process_shows_up(panel: JobsPanel, gpserver: Any) -> None:
    job_url = submit(gpserver.url, "Sleep", Seconds=0.2)
    JobStore(panel.store.path).put(left_behind(job_url, "Sleep"))  # e.g. qgis_process
    assert wait_until(lambda: row(panel, job_url).get("status") == "Succeeded", 30)


def test_gui_entry_docks_the_panel_and_stops_it(qgis_iface: Any,
                                                served_provider: GpProvider) -> None:
    entry = GuiEntry(qgis_iface, served_provider, refresh_on_start=False)
    entry.add_to_gui()
    try:
        dock = entry.jobs_dock
        assert isinstance(dock, JobsDock) and dock.windowTitle() == TITLE
        assert entry.jobs_action is not None and entry.jobs_action.isCheckable()
        entry.show_jobs()
        QCoreApplication.processEvents()
        assert not dock.isHidden()  # shown (the test main window itself is not)
        watcher = dock.panel.watcher
    finally:
        entry.remove_from_gui()
    assert entry.jobs_dock is None
    assert not watcher.busy


def test_stopping_aborts_a_poll_the_server_is_slow_to_answer(panel: JobsPanel, gpserver: Any,
                                                             gpserver_faults: Any) -> None:
    """Unload (and QGIS's exit, which cancels tasks) never waits for the server."""
    from qgis.core import QgsApplication

    job_url = submit(gpserver.url, "Sleep", Seconds=0.1)
    wait_for(job_url)
    gpserver_faults.add(r"/Sleep/jobs/", "delay", count=None, seconds=60)
    panel.store.put(left_behind(job_url, "Sleep"))
    panel.watcher.poll_now()
    assert wait_until(lambda: panel.watcher.busy, 10)
    manager = QgsApplication.taskManager()

    def watching() -> list[str]:
        return [t.description() for t in manager.activeTasks()
                if t.description().startswith("Watching")]

    assert wait_until(lambda: bool(watching()), 10)
    panel.stop()
    # the request (held 60 s by the server) is aborted: the task ends long before
    assert wait_until(lambda: not watching(), 20), [
        (t.description(), t.status()) for t in manager.activeTasks()]
    assert not panel.watcher.busy
    assert panel.store.get(job_url).status == "esriJobSubmitted"  # nothing learnt, no harm


def test_a_cancelled_feedback_sends_no_request(gpserver: Any, gpserver_faults: Any) -> None:
    """QgsBlockingNetworkRequest hears only a cancel that comes while it waits."""
    from qgis.core import QgsFeedback

    from arcgis_gp.gp_client.errors import NetworkError
    from arcgis_gp.provider.qgis_transport import QgisTransport

    gpserver_faults.add(r"/rest/info", "delay", count=None, seconds=60)
    feedback = QgsFeedback()
    feedback.cancel()
    with pytest.raises(NetworkError, match="was cancelled"):
        QgisTransport(feedback=feedback).send("GET", gpserver.url + "/arcgis/rest/info",
                                              params={"f": "json"})


def test_a_job_this_qgis_waits_for_is_not_polled_by_the_panel_too(
        served_provider: GpProvider, gpserver: Any) -> None:
    """A run in this QGIS polls its own job; the panel, watching the store the run records
    into, shows that job from the run's answers instead of asking the server again."""
    import processing
    from qgis.core import QgsApplication

    from arcgis_gp.provider.job_watch import JobRequestTask

    store = JobStore()  # where runs record their jobs
    panel = JobsPanel(store, served_provider.store)
    asked: list[str] = []  # the job URLs the panel's rounds asked the server about
    manager = QgsApplication.taskManager()

    def added(task_id: int) -> None:
        task = manager.task(task_id)
        if isinstance(task, JobRequestTask):
            asked.extend(record.job_url for record, _connection in task.work)

    manager.taskAdded.connect(added)
    panel.start()
    try:
        # on the main thread the run turns the event loop: the panel's timer fires meanwhile
        result = processing.run(ASYNC + "sleep", {"Seconds": 3})
    finally:
        manager.taskAdded.disconnect(added)
        panel.stop()
        panel.close()
    assert result["Slept"] == pytest.approx(3)
    mine = [r for r in store.all() if r.task_url.endswith("/Demo/Analysis/GPServer/Sleep")
            and r.task_url.startswith(gpserver.url)]
    record = mine[0]
    assert record.status == "esriJobSucceeded" and record.progress == 100.0
    assert record.job_url not in asked
