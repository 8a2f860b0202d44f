"""The plugin's GUI entry points: menu, toolbar, toolbox actions, jobs panel, start-up refresh.

plugin.py wires it in two lines (``GuiEntry(iface, provider).add_to_gui()`` in initGui,
``remove_from_gui()`` in unload); everything GUI lives here.
"""

from __future__ import annotations

from typing import Any, Optional

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

from ..provider.i18n import tr

MENU = "&ArcGIS Geoprocessing"


class GuiEntry:
    """Adds and removes the connection manager and refresh actions."""

    def __init__(self, iface: Any, provider: Any, *, refresh_on_start: bool = True) -> None:
        self.iface = iface
        self.provider = provider
        self.refresh_on_start = refresh_on_start
        self.manage_action: Optional[QAction] = None
        self.refresh_action: Optional[QAction] = None
        self.dialog = None
        self.jobs_dock = None
        self.jobs_action: Optional[QAction] = None
        self._toolbox_actions: list = []

    tr = staticmethod(tr)

    def add_to_gui(self) -> None:
        """Create the actions, put them in the menu, toolbar and toolbox; refresh in background."""
        icon = self.provider.icon() if self.provider is not None else QIcon()
        parent = self.iface.mainWindow()
        self.manage_action = QAction(icon, self.tr("ArcGIS GP Connections…"), parent)
        self.manage_action.setObjectName("arcgisgp_manage_connections")
        self.manage_action.setToolTip(self.tr(
            "Add, edit, test and refresh connections to ArcGIS geoprocessing services"))
        self.manage_action.triggered.connect(self.show_connections)
        self.refresh_action = QAction(self.tr("Refresh ArcGIS GP Services"), parent)
        self.refresh_action.setObjectName("arcgisgp_refresh")
        self.refresh_action.triggered.connect(self.refresh)
        self.iface.addPluginToMenu(MENU, self.manage_action)
        self.iface.addPluginToMenu(MENU, self.refresh_action)
        self.iface.addToolBarIcon(self.manage_action)
        self._register_toolbox_actions()
        self._add_jobs_dock()
        if self.refresh_on_start and self.provider is not None:
            self.provider.refresh_in_background()

    def remove_from_gui(self) -> None:
        """Remove every action added by add_to_gui."""
        self._unregister_toolbox_actions()
        self._remove_jobs_dock()
        for action in (self.manage_action, self.refresh_action):
            if action is None:
                continue
            self.iface.removePluginMenu(MENU, action)
            self.iface.removeToolBarIcon(action)
            action.deleteLater()
        self.manage_action = self.refresh_action = None
        if self.dialog is not None:
            self.dialog.close()
            self.dialog = None

    def show_connections(self) -> Any:
        """Open (or raise) the connection manager."""
        from .connections_dialog import ConnectionsDialog

        if self.dialog is None:
            self.dialog = ConnectionsDialog(self.provider, parent=self.iface.mainWindow())
        self.dialog.reload()
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def _add_jobs_dock(self) -> None:
        """Dock the jobs panel (listed in View > Panels) and start watching running jobs.

        It shows itself at start-up when jobs of an earlier session still run.
        """
        from .jobs_dock import JobsDock

        store = self.provider.store if self.provider is not None else None
        self.jobs_dock = JobsDock(connections=store, parent=self.iface.mainWindow())
        self.iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.jobs_dock)
        self.jobs_dock.setVisible(bool(self.jobs_dock.panel.store.running()))
        self.jobs_action = self.jobs_dock.toggleViewAction()
        self.jobs_action.setObjectName("arcgisgp_jobs_panel")
        self.iface.addPluginToMenu(MENU, self.jobs_action)
        self.jobs_dock.panel.start()

    def _remove_jobs_dock(self) -> None:
        if self.jobs_dock is None:
            return
        self.jobs_dock.panel.stop()
        if self.jobs_action is not None:
            self.iface.removePluginMenu(MENU, self.jobs_action)
        self.iface.removeDockWidget(self.jobs_dock)
        self.jobs_dock.deleteLater()
        self.jobs_dock = self.jobs_action = None

    def show_jobs(self) -> Any:
        """Show (and raise) the jobs panel."""
        if self.jobs_dock is not None:
            self.jobs_dock.setUserVisible(True)
        return self.jobs_dock

    def refresh(self) -> None:
        """Refresh every connection in the background."""
        if self.provider is not None:
            self.provider.refresh_in_background()

    # The Processing toolbox (QGIS 3.x, Python Processing plugin) shows registered provider
    # actions as a toolbar button; newer QGIS may not have these classes, hence the guards.
    def _register_toolbox_actions(self) -> None:
        if self.provider is None:
            return
        try:
            from processing.gui.ProviderActions import ProviderActions
        except ImportError:
            return
        self._toolbox_actions = [
            _ToolboxAction(self.tr("Manage Connections…"), self.show_connections),
            _ToolboxAction(self.tr("Refresh Services"), self.refresh),
            _ToolboxAction(self.tr("ArcGIS GP Jobs…"), self.show_jobs),
        ]
        ProviderActions.registerProviderActions(self.provider, self._toolbox_actions)

    def _unregister_toolbox_actions(self) -> None:
        if not self._toolbox_actions or self.provider is None:
            return
        try:
            from processing.gui.ProviderActions import ProviderActions

            ProviderActions.deregisterProviderActions(self.provider)
        except (ImportError, RuntimeError):
            pass
        self._toolbox_actions = []


class _ToolboxAction:
    """An action the Processing toolbox lists under the provider's toolbar button."""

    def __init__(self, name: str, callback: Any) -> None:
        self.name = name
        self.callback = callback
        self.toolbox = None

    def setData(self, toolbox: Any) -> None:
        """Remember the toolbox (the Processing plugin calls this)."""
        self.toolbox = toolbox

    def execute(self, *_args: Any) -> None:
        """Run the action."""
        self.callback()
