"""The connection manager: add, edit, remove, test and refresh ArcGIS GP connections."""

from __future__ import annotations

import os
from typing import Optional

from qgis.core import QgsApplication
from qgis.gui import QgsAuthConfigSelect
from qgis.PyQt import uic
from qgis.PyQt.QtCore import Qt, pyqtSignal
from qgis.PyQt.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QListWidgetItem,
    QMessageBox,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..provider.cache import DescriptionCache
from ..provider.connections import (
    SOURCE_ENVIRONMENT,
    Connection,
    ConnectionStore,
    InvalidConnectionError,
    normalize_url,
    validate,
)
from ..provider.explain import skipped_text, tasks_summary
from ..provider.naming import algorithm_id
from ..provider.provider import RefreshTask
from ..provider.signin import SignInCheck, sign_in_method

_HERE = os.path.dirname(__file__)
_LIST_FORM, _ = uic.loadUiType(os.path.join(_HERE, "connections_dialog.ui"))
_EDIT_FORM, _ = uic.loadUiType(os.path.join(_HERE, "connection_edit_dialog.ui"))
HELP_TEXT = (
    "A connection points at an ArcGIS Server services directory, a folder, one GPServer "
    "service, an ArcGIS Enterprise portal (…/portal/sharing/rest) or ArcGIS Online. Every "
    "task of every geoprocessing service found there becomes an algorithm of the "
    "'ArcGIS Geoprocessing' provider in the Processing toolbox, named "
    "<connection>_<service>_<task>. Test lists the tasks without changing the toolbox; "
    "Refresh Toolbox fetches them again and updates the toolbox. Headless runs "
    "(qgis_process) can add connections with the environment variable ARCGIS_GP_CONNECTIONS."
)


class ConnectionEditDialog(QDialog, _EDIT_FORM):
    """Edits one connection: name, URL, QGIS authentication configuration, referer, how
    long a synchronous task may take and how long to keep trying an unreachable server."""

    def __init__(self, connection: Optional[Connection] = None,
                 taken_names: tuple[str, ...] = (), parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setupUi(self)
        self._taken = taken_names
        self.auth_select = QgsAuthConfigSelect(self.authPlaceholder)
        layout = QVBoxLayout(self.authPlaceholder)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.auth_select)
        if connection is not None:
            self.nameEdit.setText(connection.name)
            self.urlEdit.setText(connection.url)
            self.refererEdit.setText(connection.referer)
            self.auth_select.setConfigId(connection.authcfg)
            self.executeTimeoutSpin.setValue(round(connection.execute_timeout))
            self.patienceSpin.setValue(round(connection.patience))
        self.buttonBox.accepted.connect(self.accept)
        self.buttonBox.rejected.connect(self.reject)

    def connection(self) -> Connection:
        """Return the connection as currently entered."""
        return Connection(
            name=self.nameEdit.text().strip(),
            url=normalize_url(self.urlEdit.text()),
            authcfg=self.auth_select.configId() or "",
            referer=self.refererEdit.text().strip(),
            execute_timeout=float(self.executeTimeoutSpin.value()),  # 0: the default
            patience=float(self.patienceSpin.value()),
        )

    def problems(self) -> list[str]:
        """Return what is wrong with the entered connection."""
        return validate(self.connection(), taken_names=self._taken)

    def accept(self) -> None:
        """Close only when the connection is usable; otherwise say what is wrong."""
        found = self.problems()
        if found:
            self.problemLabel.setText("\n".join(found))
            return
        super().accept()


class ConnectionsDialog(QDialog, _LIST_FORM):
    """Lists the connections and lets the user add, edit, remove, test and refresh them."""

    test_finished = pyqtSignal(str)
    refresh_finished = pyqtSignal(str)

    def __init__(self, provider=None, store: Optional[ConnectionStore] = None,
                 parent: Optional[QWidget] = None) -> None:
        super().__init__(parent)
        self.setupUi(self)
        self.provider = provider
        if store is None:
            store = provider.store if provider is not None else ConnectionStore()
        self.store = store
        self._task: Optional[RefreshTask] = None
        self.taskTree.setHeaderLabels(["Service / task", "Runs as"])
        self.addButton.clicked.connect(self.add_connection)
        self.editButton.clicked.connect(self.edit_connection)
        self.removeButton.clicked.connect(self.remove_connection)
        self.testButton.clicked.connect(self.test_connection)
        self.refreshButton.clicked.connect(self.refresh_toolbox)
        self.connectionList.currentItemChanged.connect(self._selection_changed)
        self.connectionList.itemDoubleClicked.connect(lambda _item: self.edit_connection())
        self.buttonBox.rejected.connect(self.reject)
        self.buttonBox.button(QDialogButtonBox.StandardButton.Close).clicked.connect(self.reject)
        self.buttonBox.helpRequested.connect(self._show_help)
        self.refreshButton.setEnabled(provider is not None)
        self.reload()

    # ------------------------------------------------------------------ list
    def reload(self, select: str = "") -> None:
        """Fill the list from the store, selecting ``select`` if given."""
        current = select or self.selected_name()
        self.connectionList.clear()
        for conn in self.store.all():
            item = QListWidgetItem(conn.name)
            item.setData(Qt.ItemDataRole.UserRole, conn.name)
            if conn.source == SOURCE_ENVIRONMENT:
                font = item.font()
                font.setItalic(True)
                item.setFont(font)
                item.setToolTip("From ARCGIS_GP_CONNECTIONS (read-only here)")
            self.connectionList.addItem(item)
            if conn.name == current:
                self.connectionList.setCurrentItem(item)
        if self.connectionList.currentItem() is None and self.connectionList.count():
            self.connectionList.setCurrentRow(0)
        self._selection_changed()

    def selected_name(self) -> str:
        """Return the name of the selected connection ('' if none)."""
        item = self.connectionList.currentItem()
        return str(item.data(Qt.ItemDataRole.UserRole)) if item is not None else ""

    def selected(self) -> Optional[Connection]:
        """Return the selected connection."""
        name = self.selected_name()
        return self.store.get(name) if name else None

    def _selection_changed(self, *_args) -> None:
        conn = self.selected()
        editable = conn is not None and conn.source != SOURCE_ENVIRONMENT
        self.editButton.setEnabled(editable)
        self.removeButton.setEnabled(editable)
        self.testButton.setEnabled(conn is not None and self._task is None)
        self.taskTree.clear()
        self.statusLabel.clear()
        if conn is None:
            self.detailsLabel.setText("No connection selected. Add one to get started.")
            return
        auth = sign_in_method(conn)
        origin = " (from ARCGIS_GP_CONNECTIONS)" if conn.source == SOURCE_ENVIRONMENT else ""
        self.detailsLabel.setText(f"{conn.url}\n{auth}{origin}")
        self._show_cached(conn)

    def _show_cached(self, conn: Connection) -> None:
        cache = self.provider.cache if self.provider is not None else DescriptionCache()
        cached = cache.load(conn)
        if cached is None:
            self.statusLabel.setText("Not fetched yet: use Test or Refresh Toolbox.")
            return
        self._fill_tree(conn, cached.services)
        self.statusLabel.setText(f"Cached: {tasks_summary(cached.services)}.")

    # ------------------------------------------------------------------ add / edit / remove
    def add_connection(self) -> None:
        """Ask for a new connection and store it."""
        dialog = ConnectionEditDialog(taken_names=tuple(c.name for c in self.store.all()),
                                      parent=self)
        if dialog.exec():
            self.save(dialog.connection())

    def save(self, connection: Connection, old_name: Optional[str] = None) -> None:
        """Store a connection, show it selected and fetch its tasks into the toolbox."""
        previous = self.store.get(old_name) if old_name else None
        try:
            self.store.save(connection, old_name=old_name)
        except InvalidConnectionError as err:
            QMessageBox.warning(self, "ArcGIS GP connection", str(err))
            return
        if self.provider is not None:
            self.provider.cache.forget_replaced(previous, connection)
        self.reload(select=connection.name)
        if self.provider is not None:
            self.refresh_toolbox()

    def edit_connection(self) -> None:
        """Edit the selected connection."""
        conn = self.selected()
        if conn is None or conn.source == SOURCE_ENVIRONMENT:
            return
        others = tuple(c.name for c in self.store.all() if c.name != conn.name)
        dialog = ConnectionEditDialog(conn, taken_names=others, parent=self)
        if dialog.exec():
            self.save(dialog.connection(), old_name=conn.name)

    def remove_connection(self, confirm: bool = True) -> None:
        """Remove the selected connection (after asking) and its cache."""
        conn = self.selected()
        if conn is None or conn.source == SOURCE_ENVIRONMENT:
            return
        if confirm:
            answer = QMessageBox.question(
                self, "Remove connection",
                f"Remove the connection '{conn.name}' and its algorithms from the toolbox?")
            if answer != QMessageBox.StandardButton.Yes:
                return
        self.store.remove(conn.name)
        if self.provider is not None:
            self.provider.cache.remove(conn)
            self.provider.refreshAlgorithms()
        self.reload()

    # ------------------------------------------------------------------ test / refresh
    def test_connection(self) -> Optional[RefreshTask]:
        """List the selected connection's tasks, fetched in the background."""
        conn = self.selected()
        if conn is None or self._task is not None:
            return None
        task = RefreshTask([conn], None)  # no cache: a test changes nothing
        self._task = task
        self.testButton.setEnabled(False)
        self.taskTree.clear()
        self.statusLabel.setText(f"Testing {conn.url} …")
        task.done.append(lambda: self._test_done(conn, task))
        QgsApplication.taskManager().addTask(task)
        return task

    def refresh_toolbox(self) -> None:
        """Fetch the selected connection (or all) again and update the toolbox."""
        if self.provider is None:
            return
        conn = self.selected()
        names = [conn.name] if conn is not None else None
        self.statusLabel.setText("Refreshing…")
        self.refreshButton.setEnabled(False)

        started: list[Optional[RefreshTask]] = []

        def done(outcome: dict) -> None:
            errors = [f"{name}: {err}" for name, err in outcome.items() if err]
            text = "Refresh failed: " + " ".join(errors) if errors else "Toolbox refreshed."
            task = started[0] if started else None
            for connection in task.connections if task is not None else ():
                skipped = skipped_text(task.skipped.get(connection.name, []), connection)
                if skipped:
                    text += f" {connection.name}: {skipped}"
            try:
                self.refreshButton.setEnabled(True)
                self._selection_changed()
                self.statusLabel.setText(text)
            except RuntimeError:  # the dialog was closed meanwhile
                pass
            self.refresh_finished.emit(text)

        started.append(self.provider.refresh_in_background(names, on_done=done))

    def _test_done(self, conn: Connection, task: RefreshTask) -> None:
        self._task = None
        error = task.outcome.get(conn.name)
        services = task.services.get(conn.name, [])
        try:
            self.testButton.setEnabled(True)
            if error:
                self.statusLabel.setText(f"Test failed: {error}")
            elif not task.outcome:
                self.statusLabel.setText("Test cancelled.")
            else:
                self._fill_tree(conn, services)
                text = f"Test succeeded: {tasks_summary(services)}."
                skipped = skipped_text(task.skipped.get(conn.name, []), conn)
                self.statusLabel.setText(f"{text} {skipped}" if skipped else text)
                if conn.authcfg:
                    self._check_sign_in(conn)
                    return
        except RuntimeError:  # the dialog was closed meanwhile
            return
        self.test_finished.emit(self.statusLabel.text())

    def _check_sign_in(self, conn: Connection) -> None:
        """Ask, in the background, whom the connection signs in as; add it to the report."""
        check = SignInCheck(conn)
        self._sign_in_check = check  # kept until it reports

        def report() -> None:
            self._sign_in_check = None
            try:
                self.statusLabel.setText(f"{self.statusLabel.text()} {check.text}")
            except RuntimeError:  # the dialog was closed meanwhile
                return
            self.test_finished.emit(self.statusLabel.text())

        check.done.append(report)
        QgsApplication.taskManager().addTask(check)

    def _fill_tree(self, conn: Connection, services) -> None:
        self.taskTree.clear()
        for service in services:
            mode = "asynchronous" if service.is_async else "synchronous"
            top = QTreeWidgetItem([service.name, mode])
            top.setToolTip(0, service.url)
            for task in service.tasks:
                alg_id = algorithm_id(conn.name, service.url, task.name)
                child = QTreeWidgetItem([task.label, alg_id])
                child.setData(0, Qt.ItemDataRole.UserRole, task.name)
                child.setToolTip(0, task.description or task.url)
                child.setToolTip(1, f"The Processing algorithm id of {task.name}, for "
                                    "processing.run() and qgis_process")
                top.addChild(child)
            self.taskTree.addTopLevelItem(top)
            top.setExpanded(True)
        self.taskTree.resizeColumnToContents(0)

    def task_names(self) -> list[str]:
        """Return ``service/task`` for every task shown."""
        return list(self.runs_as())

    def runs_as(self) -> dict[str, str]:
        """Return ``service/task`` -> the "Runs as" column (the algorithm id) of each task."""
        shown = {}
        for i in range(self.taskTree.topLevelItemCount()):
            top = self.taskTree.topLevelItem(i)
            for j in range(top.childCount()):
                child = top.child(j)
                shown[f"{top.text(0)}/{child.data(0, Qt.ItemDataRole.UserRole)}"] = \
                    child.text(1)
        return shown

    def _show_help(self) -> None:
        QMessageBox.information(self, "ArcGIS GP connections", HELP_TEXT)
