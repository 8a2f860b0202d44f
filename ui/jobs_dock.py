"""The "ArcGIS GP jobs" panel: running and past jobs, watched in the background.

A thin view over the profile's job store (provider/job_store.py) and the background
watcher (provider/job_watch.py). Loading a job's results runs the job's own algorithm with
ARCGISGP_ATTACH_JOB in a QgsProcessingAlgRunnerTask, then lets Processing load the layers
as after any run: the results are converted and styled by the algorithm's code, not a copy.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable, Optional

from qgis.core import (
    QgsApplication,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputLayerDefinition,
    QgsProject,
)
from qgis.gui import QgsDockWidget
from qgis.PyQt import uic
from qgis.PyQt.QtCore import QDateTime, QModelIndex, Qt, QTimer, pyqtSignal
from qgis.PyQt.QtGui import QGuiApplication
from qgis.PyQt.QtWidgets import (
    QApplication,
    QMessageBox,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTreeWidgetItem,
    QWidget,
)

from ..provider.attach import ATTACH_JOB
from ..provider.connections import ConnectionStore
from ..provider.i18n import tr
from ..provider.job_store import JobRecord, JobStore
from ..provider.job_watch import JobWatcher, describe, elapsed_text

_FORM, _ = uic.loadUiType(os.path.join(os.path.dirname(__file__), "jobs_dock.ui"))
TITLE = tr("ArcGIS GP jobs")
OBJECT_NAME = "ArcGisGpJobsDock"
COLUMNS = ("task", "connection", "status", "progress", "elapsed", "submitted")
PROGRESS_COLUMN = COLUMNS.index("progress")
URL_ROLE = Qt.ItemDataRole.UserRole
PERCENT_ROLE = Qt.ItemDataRole.UserRole + 1
LAYER_DESTINATIONS = ("sink", "vectorDestination", "rasterDestination")


class _ProgressDelegate(QStyledItemDelegate):
    """Draws the progress column as a progress bar (nothing when the server gave none)."""

    def paint(self, painter: Any, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        """Paint a bar for a known percentage, the plain cell otherwise."""
        percent = index.data(PERCENT_ROLE)
        if percent is None:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(2, 3, -2, -3)
        bar.minimum, bar.maximum = 0, 100
        bar.progress = int(round(percent))
        bar.text = f"{bar.progress} %"
        bar.textVisible = True
        QApplication.style().drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)


class JobsPanel(QWidget, _FORM):
    """The panel's content: the list, the actions, the selected job's details."""

    results_loaded = pyqtSignal(str, bool, str)  # job URL, ok, message

    def __init__(self, store: Optional[JobStore] = None,
                 connections: Optional[ConnectionStore] = None,
                 project: Optional[QgsProject] = None, parent: Optional[QWidget] = None,
                 ) -> None:
        super().__init__(parent)
        self.setupUi(self)
        self.store = store or JobStore()
        self.project = project or QgsProject.instance()
        self.watcher = JobWatcher(self.store, connections, parent=self)
        self.watcher.changed.connect(self.reload)
        self.watcher.failed.connect(self._poll_failed)
        # replaced in tests: asks before a job (and what it cost) is thrown away
        self.confirm: Callable[[str], bool] = self._ask
        self._loads: list[tuple] = []  # runs loading results, kept alive until they end
        self._problems: dict[str, str] = {}
        self._stamp: Optional[float] = None
        self.jobList.setItemDelegateForColumn(PROGRESS_COLUMN, _ProgressDelegate(self.jobList))
        self.jobList.itemSelectionChanged.connect(self._selection_changed)
        self.cancelButton.clicked.connect(self.cancel_selected)
        self.loadButton.clicked.connect(self.load_selected)
        self.copyButton.clicked.connect(self.copy_selected)
        self.removeButton.clicked.connect(self.remove_selected)
        self._clock = QTimer(self)  # elapsed times tick; records written elsewhere show up
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._tick)
        self.reload()

    # ------------------------------------------------------------------ life
    def start(self) -> None:
        """Start watching the running jobs and ticking the clock."""
        self.watcher.start()
        self._clock.start()

    def stop(self) -> None:
        """Stop watching (nothing waits for the server)."""
        self._clock.stop()
        self.watcher.stop()

    # ------------------------------------------------------------------ the list
    def records(self) -> list[JobRecord]:
        """Return the jobs in the order listed."""
        return self.store.all()

    def reload(self) -> None:
        """Show the store's jobs, keeping the selection."""
        selected = set(self.selected_urls())
        self._stamp = self._mtime()
        self.jobList.clear()
        now = time.time()
        for record in self.records():
            item = QTreeWidgetItem([
                record.task, record.connection, describe(record),
                "" if record.progress is None else f"{record.progress:.0f} %",
                elapsed_text(record, now), _when(record.submitted)])
            item.setData(0, URL_ROLE, record.job_url)
            if record.progress is not None and not record.is_finished:
                item.setData(PROGRESS_COLUMN, PERCENT_ROLE, float(record.progress))
            tip = self._problems.get(record.job_url) or record.job_url
            for column in range(len(COLUMNS)):
                item.setToolTip(column, tip)
            self.jobList.addTopLevelItem(item)
            item.setSelected(record.job_url in selected)
        for column in range(len(COLUMNS)):
            self.jobList.resizeColumnToContents(column)
        self._selection_changed()

    def select(self, job_url: str) -> None:
        """Select one job's row."""
        for index in range(self.jobList.topLevelItemCount()):
            item = self.jobList.topLevelItem(index)
            item.setSelected(item.data(0, URL_ROLE) == job_url)

    def selected_urls(self) -> list[str]:
        """Return the job URLs of the selected rows."""
        return [item.data(0, URL_ROLE) for item in self.jobList.selectedItems()]

    def selected_records(self) -> list[JobRecord]:
        """Return the selected jobs as the store has them now."""
        wanted = set(self.selected_urls())
        return [r for r in self.records() if r.job_url in wanted]

    # ------------------------------------------------------------------ actions
    def cancel_selected(self) -> None:
        """Ask the server to cancel the selected running jobs (after a confirmation)."""
        running = [r for r in self.selected_records() if not r.is_finished]
        if not running:
            return
        names = ", ".join(f"{r.task} ({r.job_id})" for r in running)
        if not self.confirm(tr("Cancel {} on the server? Its results will be lost.").format(names)):
            return
        for record in running:
            self.watcher.cancel_job(record)
        self._say(tr("Cancel requested for {}.").format(names))

    def load_selected(self) -> None:
        """Load the results of the selected succeeded job into the project."""
        records = [r for r in self.selected_records() if r.status == "esriJobSucceeded"]
        if records:
            self.load_results(records[0])

    def load_results(self, record: JobRecord) -> Optional[QgsProcessingAlgRunnerTask]:
        """Run the job's algorithm with ARCGISGP_ATTACH_JOB in the background; load its outputs."""
        alg = QgsApplication.processingRegistry().createAlgorithmById(record.algorithm_id)
        if alg is None:
            self._loaded(record.job_url, False,
                         tr("The algorithm {} is not in the Processing toolbox (was "
                            "connection '{}' removed or renamed?). Add the connection again, "
                            "or use the job URL in a script.").format(record.algorithm_id,
                                                                     record.connection))
            return None
        params: dict[str, Any] = {ATTACH_JOB: record.job_url}
        for definition in alg.destinationParameterDefinitions():
            if definition.type() in LAYER_DESTINATIONS:
                params[definition.name()] = QgsProcessingOutputLayerDefinition(
                    "TEMPORARY_OUTPUT", self.project)
            else:
                params[definition.name()] = "TEMPORARY_OUTPUT"
        context = QgsProcessingContext()
        context.setProject(self.project)
        feedback = QgsProcessingFeedback()
        task = QgsProcessingAlgRunnerTask(alg, params, context, feedback)
        entry = (task, alg, context, feedback, params)
        self._loads.append(entry)
        task.executed.connect(
            lambda ok, _results: self._load_done(entry, record, ok))
        self._say(tr("Loading the results of {} ({})…").format(record.task, record.job_id))
        QgsApplication.taskManager().addTask(task)
        return task

    def copy_selected(self) -> None:
        """Copy the selected jobs' URLs, one a line."""
        urls = self.selected_urls()
        if urls:
            QGuiApplication.clipboard().setText("\n".join(urls))
            self._say(tr("Job URL copied.") if len(urls) == 1
                      else tr("{} job URLs copied.").format(len(urls)))

    def remove_selected(self) -> None:
        """Forget the selected jobs (the server is not asked anything)."""
        for url in self.selected_urls():
            self.store.remove(url)
        self.reload()

    # ------------------------------------------------------------------ internals
    def _load_done(self, entry: tuple, record: JobRecord, ok: bool) -> None:
        task, alg, context, feedback, params = entry
        if entry in self._loads:
            self._loads.remove(entry)
        if not ok:
            self._loaded(record.job_url, False,
                         tr("Could not load the results of {} ({}): {}").format(
                             record.task, record.job_id,
                             _last_error(feedback) or tr("see the Processing log")))
            return
        from processing.gui.Postprocessing import handleAlgorithmResults

        handleAlgorithmResults(alg, context, feedback=feedback, parameters=params)
        self._loaded(record.job_url, True,
                     tr("Loaded the results of {} ({}).").format(record.task, record.job_id))

    def _loaded(self, job_url: str, ok: bool, message: str) -> None:
        self._say(message)
        self.results_loaded.emit(job_url, ok, message)

    def _poll_failed(self, job_url: str, error: str) -> None:
        self._problems[job_url] = error

    def _say(self, message: str) -> None:
        self.statusLabel.setText(message)

    def _ask(self, question: str) -> bool:
        answer = QMessageBox.question(self, TITLE, question)
        return answer == QMessageBox.StandardButton.Yes

    def _tick(self) -> None:
        if self._mtime() != self._stamp:  # another run or process wrote the store
            self.reload()
            self.watcher.poll_now()
            return
        now = time.time()
        for index, record in enumerate(self.records()):
            item = self.jobList.topLevelItem(index)
            if item is None or item.data(0, URL_ROLE) != record.job_url:
                self.reload()
                return
            if not record.is_finished:
                item.setText(COLUMNS.index("elapsed"), elapsed_text(record, now))

    def _mtime(self) -> Optional[float]:
        try:
            return self.store.path.stat().st_mtime
        except OSError:
            return None

    def _selection_changed(self) -> None:
        records = self.selected_records()
        self.cancelButton.setEnabled(any(not r.is_finished for r in records))
        self.loadButton.setEnabled(len(records) == 1 and records[0].status == "esriJobSucceeded")
        self.copyButton.setEnabled(bool(records))
        self.removeButton.setEnabled(bool(records))
        self.details.setPlainText(_details(records[0], self._problems.get(records[0].job_url))
                                  if len(records) == 1 else "")


class JobsDock(QgsDockWidget):
    """The dock widget holding a JobsPanel (View > Panels and the plugin's menu)."""

    def __init__(self, store: Optional[JobStore] = None,
                 connections: Optional[ConnectionStore] = None,
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(TITLE, parent)
        self.setObjectName(OBJECT_NAME)
        self.panel = JobsPanel(store, connections, parent=self)
        self.setWidget(self.panel)


def _when(epoch: float) -> str:
    return QDateTime.fromSecsSinceEpoch(int(epoch)).toString("yyyy-MM-dd HH:mm")


def _last_error(feedback: QgsProcessingFeedback) -> str:
    log = feedback.textLog() if hasattr(feedback, "textLog") else ""
    lines = [line for line in log.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _details(record: JobRecord, problem: Optional[str]) -> str:
    lines = [f"{record.task} on {record.connection}: {describe(record)}",
             f"Job URL: {record.job_url}",
             f"Algorithm: {record.algorithm_id}",
             f"Submitted: {_when(record.submitted)}"
             + (f", ended {_when(record.ended)}" if record.ended else "")]
    if problem:
        lines.append(f"Last poll: {problem}")
    if record.inputs:
        lines.append("Inputs: " + "; ".join(f"{k}={v}" for k, v in record.inputs.items()))
    if record.outputs:
        lines.append("Outputs: " + "; ".join(f"{k}={v}" for k, v in record.outputs.items()))
    if record.messages:
        lines.append("Messages:")
        lines.extend(f"  {text}" for _kind, text in record.messages)
    return "\n".join(lines)
