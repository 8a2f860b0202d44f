"""Runs inside the QGIS desktop (``qgis.bin --code <this file>``) and reports as JSON.

It never blocks the event loop while waiting: each step is a QTimer callback that either
moves on or polls again, and a deadline ends the run with the step it was stuck in.
Configured by environment variables:

- ``ARCGIS_GP_SMOKE_OUT``: folder for ``report.json`` and the screenshots (required);
- ``ARCGIS_GP_SMOKE_ALG``: the remote algorithm id to open and run;
- ``ARCGIS_GP_SMOKE_DEADLINE``: seconds before the driver gives up (default 80).

QGIS executes this file with ``exec`` in its console namespace, so everything lives in
one class and a single global keeps the instance alive.
"""

from __future__ import annotations

import json
import os
import time
import traceback
from typing import Any, Callable, Optional

from qgis.core import (
    Qgis,
    QgsApplication,
    QgsFeature,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QModelIndex, QTimer
from qgis.PyQt.QtGui import QGuiApplication
from qgis.PyQt.QtWidgets import QTextEdit
from qgis.utils import iface, plugins

POLL_MS = 100
LOG_TAG = "ArcGIS GP"
POINTS = (("Paris", 2.3522, 48.8566), ("Lyon", 4.8357, 45.7640), ("Lille", 3.0573, 50.6292))


class SmokeDriver:
    """Steps through the smoke scenario and writes what it saw to report.json."""

    def __init__(self) -> None:
        self.out = os.environ["ARCGIS_GP_SMOKE_OUT"]
        self.alg_id = os.environ.get("ARCGIS_GP_SMOKE_ALG",
                                     "arcgisgp:desktop_demo_analysis_bufferfeatures")
        self.deadline = time.monotonic() + float(os.environ.get("ARCGIS_GP_SMOKE_DEADLINE", "80"))
        self.report: dict[str, Any] = {"steps": [], "log": [], "screenshots": {}}
        self.step_name = "start"
        self.layer: Optional[QgsVectorLayer] = None
        self.dialog: Any = None
        self.dialog_finished: Optional[dict] = None
        self.paint_ticks = 0
        QgsApplication.messageLog().messageReceived.connect(self._on_log)

    # ------------------------------------------------------------------ plumbing
    def _on_log(self, message: str, tag: str, level: Qgis.MessageLevel) -> None:
        if tag in (LOG_TAG, "Processing", "Python error"):
            self.report["log"].append({"tag": tag, "level": int(level), "message": message})

    def start(self) -> None:
        """Begin with the first step once the event loop runs."""
        self._later(self.wait_for_plugin)

    def _later(self, step: Callable[[], None], ms: int = 0) -> None:
        QTimer.singleShot(ms, lambda: self._run(step))

    def _run(self, step: Callable[[], None]) -> None:
        self.step_name = step.__name__
        if time.monotonic() > self.deadline:
            self.finish(f"deadline passed while in step '{self.step_name}'")
            return
        try:
            step()
        except Exception:  # noqa: BLE001 - everything goes to the report
            self.finish(f"step '{self.step_name}' raised:\n{traceback.format_exc()}")

    def _done(self, name: str, **facts: Any) -> None:
        self.report["steps"].append(name)
        self.report.update(facts)

    def _shot(self, key: str, pixmap: Any) -> None:
        path = os.path.join(self.out, f"{key}.png")
        saved = bool(pixmap.save(path, "PNG"))
        self.report["screenshots"][key] = {"path": path, "saved": saved,
                                           "width": pixmap.width(), "height": pixmap.height()}

    def finish(self, error: Optional[str] = None) -> None:
        """Write the report and quit QGIS (exit code 0 only without an error)."""
        self.report["error"] = error
        self.report["last_step"] = self.step_name
        path = os.path.join(self.out, "report.json")
        with open(path + ".part", "w", encoding="utf-8") as handle:
            json.dump(self.report, handle, indent=1, default=str)
        os.replace(path + ".part", path)
        if self.dialog is not None:
            self.dialog.close()
        # QGIS 3.22 can crash tearing down a project that still holds layers when the app
        # quits from a script: empty the project first and quit on a later turn.
        QgsProject.instance().clear()
        code = 0 if error is None else 3
        QTimer.singleShot(200, lambda: QgsApplication.exit(code))

    # ------------------------------------------------------------------ steps
    def wait_for_plugin(self) -> None:
        """Poll until the plugin is loaded and its background refresh added the algorithm."""
        registry = QgsApplication.processingRegistry()
        provider = registry.providerById("arcgisgp")
        ready = ("arcgis_gp" in plugins and "processing" in plugins and provider is not None
                 and registry.algorithmById(self.alg_id) is not None)
        if not ready:
            self._later(self.wait_for_plugin, POLL_MS)
            return
        self._done("plugin_loaded",
                   plugins=sorted(plugins), provider_name=provider.name(),
                   algorithms=sorted(a.id() for a in provider.algorithms()))
        self._later(self.show_toolbox)

    def show_toolbox(self) -> None:
        """Add a point layer, maximise the window, open the toolbox filtered on the task."""
        layer = QgsVectorLayer("Point?crs=EPSG:4326&field=Name:string(20)", "cities", "memory")
        features = []
        for name, x, y in POINTS:
            feature = QgsFeature(layer.fields())
            feature.setAttributes([name])
            feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, y)))
            features.append(feature)
        layer.dataProvider().addFeatures(features)
        layer.updateExtents()
        QgsProject.instance().addMapLayer(layer)
        self.layer = layer
        window = iface.mainWindow()
        # no window manager under Xvfb: showMaximized() would not fill the screen
        window.setGeometry(QGuiApplication.primaryScreen().availableGeometry())
        iface.mapCanvas().setExtent(layer.extent().buffered(2.0))
        toolbox = plugins["processing"].toolbox
        toolbox.show()
        toolbox.raise_()
        toolbox.searchBox.setText("Buffer")
        algorithm = QgsApplication.processingRegistry().algorithmById(self.alg_id)
        tree = toolbox.algorithmTree
        found = _find_in_tree(tree, self.alg_id)
        if found is not None:
            tree.setCurrentIndex(found)
            tree.scrollTo(found)
        self._done("toolbox_shown", toolbox_visible=toolbox.isVisible(),
                   toolbox_selected=(tree.selectedAlgorithm().id()
                                     if tree.selectedAlgorithm() is not None else None),
                   display_name=algorithm.displayName(), group=algorithm.group())
        self._later(self.open_dialog, 300)

    def open_dialog(self) -> None:
        """Open the algorithm's dialog (non-modal) with the layer and a distance filled in."""
        import processing

        algorithm = QgsApplication.processingRegistry().algorithmById(self.alg_id)
        units = algorithm.parameterDefinition("Distance_units").options()
        self.report["distance_units"] = list(units)
        params = {"Input_Features": self.layer.id(), "Distance": 20,
                  "Distance_units": units.index("Kilometers")}
        dialog = processing.createAlgorithmDialog(self.alg_id, params)
        dialog.algorithmFinished.connect(self._on_dialog_finished)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()
        self.dialog = dialog
        self._done("dialog_opened",
                   parameters=[p.name() for p in algorithm.parameterDefinitions()],
                   parameter_types={p.name(): p.type() for p in algorithm.parameterDefinitions()},
                   outputs=[o.name() for o in algorithm.outputDefinitions()],
                   dialog_title=dialog.windowTitle(),
                   dialog_widgets=sorted(dialog.mainWidget().wrappers))
        self._later(self.wait_dialog_painted)

    def wait_dialog_painted(self) -> None:
        """Poll until the dialog is exposed on screen, then let it paint a few times."""
        handle = self.dialog.windowHandle()
        if handle is None or not handle.isExposed():
            self._later(self.wait_dialog_painted, POLL_MS)
            return
        self.paint_ticks += 1
        if self.paint_ticks < 5:  # a few event-loop turns for layout and paint
            self._later(self.wait_dialog_painted, POLL_MS)
            return
        self._shot("main_window", iface.mainWindow().grab())
        self._shot("algorithm_dialog", self.dialog.grab())
        self._shot("screen_before_run", QGuiApplication.primaryScreen().grabWindow(0))
        self._done("screenshots_taken")
        self._later(self.run_from_script)

    def run_from_script(self) -> None:
        """Run the algorithm with processing.run, as a user would from the Python console."""
        import processing

        units = self.report["distance_units"]
        result = processing.run(self.alg_id, {
            "Input_Features": self.layer, "Distance": 20,
            "Distance_units": units.index("Kilometers"), "Dissolve": 0,
            "Output_Features": "TEMPORARY_OUTPUT"})
        output = result["Output_Features"]
        if isinstance(output, str):
            output = QgsVectorLayer(output, "out", "ogr")
        names = sorted(str(f["Name"]) for f in output.getFeatures())
        self._done("processing_run", run_result_keys=sorted(result),
                   run_feature_count=output.featureCount(), run_names=names,
                   run_fields=[f.name() for f in output.fields()],
                   run_geometry_type=output.geometryType(),
                   run_crs=output.crs().authid(),
                   run_area_min=min(f.geometry().area() for f in output.getFeatures()))
        self._later(self.run_from_dialog)

    def _on_dialog_finished(self, ok: bool, results: dict) -> None:
        self.dialog_finished = {"ok": bool(ok), "results": {k: str(v) for k, v in results.items()}}

    def run_from_dialog(self) -> None:
        """Press Run in the dialog: the toolbox path (a QgsProcessingAlgRunnerTask)."""
        self.dialog.runButton().click()
        self._done("dialog_run_clicked")
        self._later(self.wait_dialog_run, POLL_MS)

    def wait_dialog_run(self) -> None:
        """Poll until the dialog's run finished, then take the after-run screenshots."""
        if self.dialog_finished is None:
            self._later(self.wait_dialog_run, POLL_MS)
            return
        layers = [lyr.name() for lyr in QgsProject.instance().mapLayers().values()]
        log_widget = self.dialog.findChild(QTextEdit, "txtLog")
        self._done("dialog_run_finished", dialog_run=self.dialog_finished, project_layers=layers,
                   dialog_log=log_widget.toPlainText() if log_widget is not None else None)
        self._later(self.shots_after_run, 300)

    def shots_after_run(self) -> None:
        """Screenshots of the dialog's log and of the whole screen after the run."""
        self._shot("algorithm_dialog_log", self.dialog.grab())
        self._shot("screen_after_run", QGuiApplication.primaryScreen().grabWindow(0))
        self.dialog.close()
        canvas = iface.mapCanvas()
        canvas.setExtent(canvas.fullExtent().buffered(0.5))
        canvas.refreshAllLayers()
        self._later(self.shot_map, 300)

    def shot_map(self) -> None:
        """Once the map has drawn, screenshot the main window with the result, then quit."""
        if iface.mapCanvas().isDrawing():
            self._later(self.shot_map, POLL_MS)
            return
        self._shot("main_window_after_run", iface.mainWindow().grab())
        self.dialog = None
        self.finish()


def _find_in_tree(tree: Any, alg_id: str, parent: Any = None) -> Any:
    """Return the toolbox tree's index of an algorithm (None when it is not shown)."""
    model = tree.model()
    parent = parent if parent is not None else QModelIndex()
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        algorithm = tree.algorithmForIndex(index)
        if algorithm is not None and algorithm.id() == alg_id:
            return index
        found = _find_in_tree(tree, alg_id, index)
        if found is not None:
            return found
    return None


_ARCGIS_GP_SMOKE_DRIVER = SmokeDriver()
_ARCGIS_GP_SMOKE_DRIVER.start()
