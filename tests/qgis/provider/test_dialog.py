"""The connection manager, offscreen: add a connection through the dialog, test it, edit, remove."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from qgis.core import Qgis, QgsApplication
from qgis.PyQt import sip
from qgis.PyQt.QtCore import QCoreApplication, QTimer
from qgis.PyQt.QtWidgets import QApplication, QDialogButtonBox, QTextEdit

from arcgis_gp.provider.cache import DescriptionCache
from arcgis_gp.provider.connections import Connection, ConnectionStore
from arcgis_gp.provider.provider import GpProvider
from arcgis_gp.ui.connections_dialog import ConnectionEditDialog, ConnectionsDialog
from arcgis_gp.ui.gui_entry import GuiEntry
from tests.paths import REPO_ROOT
from tests.qgis.provider.helpers import (
    dispose,
    headless_store,
    real_layer_tree_view,
    registered,
    run_connection_test,
    temporary_store,
    wait_until,
)

pytestmark = pytest.mark.timeout(60)


@pytest.fixture()
def store() -> Iterator[ConnectionStore]:
    """A connection store under a settings key of its own, without headless connections."""
    with temporary_store() as store:
        yield store


@pytest.fixture()
def local_provider(qgis_iface: Any, qgis_processing: Any, gpserver_url: str, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[GpProvider]:
    """The registered provider with a headless connection 'local' to the Demo folder.

    QGIS 3.22's Processing dialogs ask the iface for a browser model: pytest-qgis's has none.
    """
    from qgis.gui import QgsBrowserGuiModel

    model = QgsBrowserGuiModel()
    monkeypatch.setattr(qgis_iface, "browserModel", lambda: model, raising=False)
    real_layer_tree_view(qgis_iface, monkeypatch)
    store = headless_store(local=gpserver_url + "/arcgis/rest/services/Demo")
    provider = GpProvider(store, DescriptionCache(tmp_path / "cache"), fetch_missing=True)
    with registered(provider):
        yield provider
    # also the dialogs of a test that failed before disposing of them
    for dialog in [w for w in QApplication.topLevelWidgets()
                   if w.inherits("QgsProcessingAlgorithmDialogBase")]:
        dispose(dialog)


def _fill_edit_dialog(name: str, url: str, seen: dict) -> None:
    dialog = QApplication.activeModalWidget()
    seen["dialog"] = type(dialog).__name__
    if not isinstance(dialog, ConnectionEditDialog):
        if dialog is not None:
            dialog.reject()
        return
    dialog.nameEdit.setText(name)
    dialog.urlEdit.setText(url)
    dialog.buttonBox.button(QDialogButtonBox.StandardButton.Ok).click()


def test_add_and_test_a_connection(gpserver_url: str, store: ConnectionStore) -> None:
    dialog = ConnectionsDialog(store=store)
    dialog.show()
    assert dialog.connectionList.count() == 0
    seen: dict[str, Any] = {}
    services = gpserver_url + "/arcgis/rest/services/"
    QTimer.singleShot(0, lambda: _fill_edit_dialog("local", services, seen))
    dialog.addButton.click()
    assert seen["dialog"] == "ConnectionEditDialog"
    assert [c.name for c in store.stored()] == ["local"]
    assert store.stored()[0].url == gpserver_url + "/arcgis/rest/services"  # normalised
    assert dialog.selected_name() == "local"

    messages: list[str] = []
    dialog.test_finished.connect(messages.append)
    assert dialog.testButton.isEnabled()
    dialog.testButton.click()
    assert wait_until(lambda: bool(messages)), "the test never finished"
    assert messages[0].startswith("Test succeeded"), messages[0]
    names = dialog.task_names()
    for expected in ("Demo/Analysis/BufferFeatures", "Demo/Analysis/Sleep",
                     "Demo/AnalysisSync/CopyFeatures"):
        assert expected in names
    # "Runs as" is what processing.run() and qgis_process take, not the REST task name
    assert dialog.taskTree.headerItem().text(1) == "Runs as"
    runs_as = dialog.runs_as()
    assert runs_as["Demo/Analysis/BufferFeatures"] == \
        "arcgisgp:local_demo_analysis_bufferfeatures"
    assert runs_as["Demo/AnalysisSync/CopyFeatures"] == \
        "arcgisgp:local_demo_analysissync_copyfeatures"
    dialog.close()


def test_test_names_the_services_it_skipped(gpserver_url: str, store: ConnectionStore) -> None:
    """Without a sign-in the secured folder is left out, and the Test result says so."""
    store.save(Connection("open", gpserver_url + "/arcgis/rest/services"))
    dialog = ConnectionsDialog(store=store)
    messages = run_connection_test(dialog)
    assert messages, "the test never finished"
    assert messages[0].startswith("Test succeeded: "), messages[0]
    assert ("1 service skipped: Secure/Analysis needs a sign-in — pick an authentication "
            "configuration.") in messages[0]
    assert not [n for n in dialog.task_names() if n.startswith("Secure/")]
    dialog.close()


def test_test_of_a_server_that_is_down_says_why(store: ConnectionStore) -> None:
    store.save(Connection("down", "http://127.0.0.1:9/arcgis/rest/services"))
    dialog = ConnectionsDialog(store=store)
    messages = run_connection_test(dialog)
    assert messages
    assert messages[0].startswith("Test failed")
    assert "127.0.0.1:9" in messages[0]
    assert dialog.task_names() == []
    dialog.close()


def test_edit_dialog_refuses_bad_input() -> None:
    dialog = ConnectionEditDialog(taken_names=("local",))
    dialog.nameEdit.setText("local")
    dialog.urlEdit.setText("ftp://server/arcgis?token=abc")
    problems = dialog.problems()
    assert any("already exists" in p for p in problems)
    assert any("https://" in p for p in problems)
    assert any("query string" in p for p in problems)
    dialog.accept()
    assert dialog.result() == 0
    assert "already exists" in dialog.problemLabel.text()


def test_edit_dialog_keeps_and_sets_the_timeout_and_the_patience(
        store: ConnectionStore) -> None:
    """Editing a connection keeps its execute timeout and patience (it used to drop them
    from the settings); 0 shows as the default and stores nothing."""
    store.save(Connection("slow", "https://gis.example/arcgis/rest/services",
                          execute_timeout=1800.0, patience=900.0))
    (stored,) = store.stored()
    dialog = ConnectionEditDialog(stored)
    assert dialog.executeTimeoutSpin.value() == 1800 and dialog.patienceSpin.value() == 900
    assert dialog.connection() == stored
    dialog.patienceSpin.setValue(0)
    assert dialog.patienceSpin.text() == "Default (300 s)"
    dialog.executeTimeoutSpin.setValue(120)
    store.save(dialog.connection(), old_name="slow")
    (again,) = store.stored()
    assert (again.execute_timeout, again.patience) == (120.0, 0.0)
    dispose(dialog)


def test_edit_refresh_and_remove(gpserver_url: str, store: ConnectionStore,
                                 tmp_path: Any) -> None:
    services = gpserver_url + "/arcgis/rest/services/Demo/AnalysisSync/GPServer"
    store.save(Connection("one", services))
    cache = DescriptionCache(tmp_path)
    provider = GpProvider(store, cache, fetch_missing=False)
    assert provider.refresh_now() == {"one": None}
    assert (tmp_path / "one.json").is_file()
    dialog = ConnectionsDialog(provider)
    assert dialog.selected_name() == "one"
    assert dialog.statusLabel.text().startswith("Cached: 3 tasks")
    done: list[str] = []
    dialog.refresh_finished.connect(done.append)
    dialog.save(Connection("two", services, referer="https://app.example"), old_name="one")
    assert [(c.name, c.referer) for c in store.stored()] == [("two", "https://app.example")]
    assert not (tmp_path / "one.json").exists()  # the renamed connection's cache is gone
    assert wait_until(lambda: bool(done)), "saving did not refresh the toolbox"
    assert done == ["Toolbox refreshed."]
    assert "two_demo_analysissync_copyfeatures" in {a.name() for a in provider.algorithms()}
    dialog.remove_connection(confirm=False)
    assert not (tmp_path / "two.json").exists()
    assert not [a for a in provider.algorithms() if a.name().startswith("two_")]
    assert store.stored() == []
    assert dialog.connectionList.count() == 0
    dialog.close()


def test_headless_connections_are_listed_read_only(store: ConnectionStore) -> None:
    env_store = ConnectionStore(store.prefix, environ={
        "ARCGIS_GP_CONNECTIONS": '[{"name": "ci", "url": "https://example.invalid/arcgis"}]'})
    dialog = ConnectionsDialog(store=env_store)
    assert dialog.selected_name() == "ci"
    assert not dialog.editButton.isEnabled()
    assert not dialog.removeButton.isEnabled()
    assert dialog.testButton.isEnabled()
    dialog.close()


def test_gui_entry_adds_and_removes_its_actions(qgis_iface: Any, store: ConnectionStore,
                                                tmp_path: Any) -> None:
    provider = GpProvider(store, DescriptionCache(tmp_path), fetch_missing=False)
    entry = GuiEntry(qgis_iface, provider, refresh_on_start=False)
    entry.add_to_gui()
    assert entry.manage_action is not None and entry.refresh_action is not None
    dialog = entry.show_connections()
    assert isinstance(dialog, ConnectionsDialog) and dialog.isVisible()
    entry.remove_from_gui()
    assert entry.manage_action is None and entry.dialog is None


def test_processing_dialog_shows_every_parameter(qgis_iface: Any,
                                                 local_provider: GpProvider) -> None:
    """Processing's own algorithm dialog builds a widget for every parameter of a task."""
    from processing.gui.AlgorithmDialog import AlgorithmDialog

    registry = QgsApplication.processingRegistry()
    alg = registry.createAlgorithmById("arcgisgp:local_demo_analysis_bufferfeatures")
    dialog = AlgorithmDialog(alg, False, qgis_iface.mainWindow())
    dialog.show()
    QCoreApplication.processEvents()
    panel = dialog.mainWidget()
    for name in ("Input_Features", "Distance", "Distance_units", "Dissolve",
                 "Output_Features"):
        assert name in panel.wrappers, name
    label = panel.wrappers["Output_Features"].wrappedLabel().text()
    assert label.startswith("Output Features") and "[optional]" not in label, label
    assert not dialog.grab().isNull()
    dispose(dialog)


def test_processing_dialog_shows_the_help_as_paragraphs(qgis_iface: Any,
                                                        local_provider: GpProvider) -> None:
    """The plain-text help reads well in 3.22's dialog: one paragraph per line, no markup.

    A screenshot of the help panel goes to build/screens/help.png for a look.
    """
    from processing.gui.AlgorithmDialog import AlgorithmDialog
    from qgis.PyQt.QtWidgets import QTextBrowser

    registry = QgsApplication.processingRegistry()
    shots = REPO_ROOT / "build" / "screens"
    shots.mkdir(parents=True, exist_ok=True)
    for alg_id, shot in (("arcgisgp:local_demo_analysis_bufferfeatures", "help.png"),
                         ("arcgisgp:local_demo_analysis_echoalltypes", "help_echo.png")):
        alg = registry.createAlgorithmById(alg_id)
        dialog = AlgorithmDialog(alg, False, qgis_iface.mainWindow())
        dialog.resize(1000, 700)
        dialog.show()
        QCoreApplication.processEvents()
        browser = dialog.findChild(QTextBrowser, "textShortHelp")
        assert browser is not None and browser.isVisible()
        shown = [line for line in browser.toPlainText().splitlines() if line.strip()]
        # the title, then each line of shortHelpString as its own paragraph
        assert shown[0] == alg.displayName()
        assert shown[1:] == alg.shortHelpString().splitlines()
        assert not any("<" in line for line in shown)
        assert browser.grab().save(str(shots / shot))
        dispose(dialog)


def test_batch_dialog_runs_rows_with_required_outputs(qgis_iface: Any,
                                                      local_provider: GpProvider,
                                                      tmp_path: Path) -> None:
    """The batch dialog (3.22, main thread): outputs are required columns, rows run."""
    from osgeo import ogr
    from processing.gui.BatchAlgorithmDialog import BatchAlgorithmDialog
    from processing.tools import dataobjects
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsProject, QgsVectorLayer

    registry = QgsApplication.processingRegistry()
    layers = []
    for count in (1, 2):
        layer = QgsVectorLayer("Point?crs=EPSG:4326&field=Name:string(10)", f"p{count}",
                               "memory")
        for i in range(count):
            feature = QgsFeature(layer.fields())
            feature.setAttributes([f"n{i}"])
            feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(i, 45 + i)))
            layer.dataProvider().addFeature(feature)
        QgsProject.instance().addMapLayer(layer)
        layers.append(layer)
    try:
        alg = registry.createAlgorithmById("arcgisgp:local_demo_analysis_copyfeatures")
        dialog = BatchAlgorithmDialog(alg, qgis_iface.mainWindow())
        panel = dialog.mainWidget()
        panel.addRow()
        assert panel.batchRowCount() == 2
        input_col = panel.parameter_to_column["Input_Features"]
        output_col = panel.parameter_to_column["Output_Features"]
        header = panel.tblParameters.horizontalHeaderItem(output_col).text()
        assert header == "Output Features"
        context = dataobjects.createContext()
        for row, layer in enumerate(layers):
            panel.wrappers[row][input_col].setParameterValue(layer.id(), context)
        # QGIS >= 3.40's BatchPanel.parametersForRow takes the context second; 3.22's has none
        takes_context = "context" in inspect.signature(panel.parametersForRow).parameters
        assert takes_context == (Qgis.QGIS_VERSION_INT >= 34000)
        row_args = (context,) if takes_context else ()
        # an empty output cell is refused, as for native algorithms' required outputs
        assert panel.parametersForRow(0, *row_args, warnOnInvalid=True) == ({}, False)
        outputs = [Path(tmp_path) / f"copy{row}.gpkg" for row in range(2)]
        for row, path in enumerate(outputs):
            panel.tblParameters.cellWidget(row + 1, output_col).setValue(str(path))
        parameters, ok = panel.parametersForRow(0, *row_args, warnOnInvalid=True)
        assert ok and parameters["Input_Features"] == layers[0].id()
        dialog.runAlgorithm()
        def counts() -> list[int | None]:
            found = []
            for path in outputs:
                try:  # (GDAL 3.13's bindings raise where 3.6's return None)
                    ds = ogr.Open(str(path)) if path.exists() else None
                except RuntimeError:
                    ds = None
                found.append(None if ds is None else ds.GetLayer(0).GetFeatureCount())
            return found

        def batch_done() -> bool:
            if sip.isdeleted(dialog):  # QGIS 3.44 may delete the dialog once the batch is done
                return True
            log = dialog.findChild(QTextEdit, "txtLog")
            return log is not None and "Batch execution completed" in log.toPlainText()

        if Qgis.QGIS_VERSION_INT >= 34000:  # the rows run as background tasks: wait for all
            assert wait_until(batch_done, 50), "the batch never completed"
        # (QGIS 3.22 runs them on the main thread before runAlgorithm returns)
        assert counts() == [layer.featureCount() for layer in layers]
        if not sip.isdeleted(dialog):
            dispose(dialog)
    finally:
        for layer in layers:
            QgsProject.instance().removeMapLayer(layer.id())
