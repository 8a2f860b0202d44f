"""Draws the "ArcGIS GP jobs" panel with a running and a finished job, and saves a PNG.

Run under an X server (``xvfb-run``) by test_jobs_dock_xvfb.py:
``python -m tests.e2e.jobs_dock_screenshot <out.png> <store folder>``. It starts the
reference server in-process, submits a long Sleep job and a BufferFeatures job that
finishes, records both as the algorithm does, lets the panel watch them, selects the
running one (its messages show below the list), grabs the dock and prints a JSON report.
"""

from __future__ import annotations

import json
import sys
import time

from qgis.core import QgsApplication
from qgis.PyQt.QtCore import QSize, QTimer


def main(out_png: str, store_dir: str) -> int:
    """Build the scene, grab it when the watcher has seen both jobs, print the report."""
    app = QgsApplication([], True)
    app.initQgis()
    from arcgis_gp.provider.connections import ConnectionStore
    from arcgis_gp.provider.job_store import JobRecord, JobStore
    from arcgis_gp.ui.jobs_dock import JobsDock
    from tests.gpserver import GPServer
    from tests.qgis.provider.helpers import POINTS, submit, wait_for

    server = GPServer(port=0)
    server.start()
    connections = ConnectionStore("arcgis_gp_xvfb_jobs/connections", {
        "ARCGIS_GP_CONNECTIONS": json.dumps(
            [{"name": "local", "url": server.url + "/arcgis/rest/services"}])})
    store = JobStore(f"{store_dir}/jobs.json")
    finished = submit(server.url, "BufferFeatures", Input_Features=POINTS,
                      Distance={"distance": 2, "units": "esriKilometers"})
    wait_for(finished)
    running = submit(server.url, "Sleep", Seconds=120)
    now = time.time()
    for url, task, algorithm, ago, inputs in (
            (finished, "Buffer Features", "bufferfeatures", 840,
             {"Input_Features": "places", "Distance": "2", "Distance_units": "esriKilometers"}),
            (running, "Sleep", "sleep", 95, {"Seconds": "120"})):
        store.put(JobRecord(job_url=url, job_id=url.rsplit("/", 1)[1],
                            task_url=url.rsplit("/jobs/", 1)[0], connection="local",
                            algorithm_id=f"arcgisgp:local_demo_analysis_{algorithm}",
                            task=task, submitted=now - ago, inputs=inputs))
    dock = JobsDock(store, connections)
    dock.resize(QSize(900, 420))
    dock.show()
    dock.panel.start()
    report: dict = {}

    def ready() -> bool:
        states = {r.job_url: r for r in store.all()}
        return (states[finished].status == "esriJobSucceeded"
                and (states[running].progress or 0) > 2)

    def grab() -> None:
        if not ready() and time.monotonic() < deadline:
            QTimer.singleShot(200, grab)
            return
        dock.panel.select(running)
        app.processEvents()
        image = dock.grab()
        image.save(out_png)
        panel = dock.panel
        rows = []
        for index in range(panel.jobList.topLevelItemCount()):
            item = panel.jobList.topLevelItem(index)
            rows.append([item.text(c) for c in range(item.columnCount())])
        report.update(qpa=app.platformName(), title=dock.windowTitle(), rows=rows,
                      width=image.width(), height=image.height(),
                      details=panel.details.toPlainText(),
                      cancel=panel.cancelButton.isEnabled(), load=panel.loadButton.isEnabled())
        dock.panel.stop()
        app.quit()

    deadline = time.monotonic() + 60
    QTimer.singleShot(500, grab)
    app.exec()
    server.stop()
    print(json.dumps(report))
    return 0 if report else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
