"""Plugin lifecycle: register the Processing provider and the GUI entry points.

No logic lives here; it only wires the pieces of ``provider`` and ``ui`` to QGIS.
"""

from __future__ import annotations

from qgis.core import QgsApplication

from .provider.provider import GpProvider


class ArcGisGpPlugin:
    """The object QGIS holds for this plugin."""

    def __init__(self, iface) -> None:
        self.iface = iface
        self.provider: GpProvider | None = None
        self.gui = None

    def initProcessing(self) -> None:
        """Register the Processing provider (qgis_process calls only this)."""
        if self.provider is None:
            self.provider = GpProvider()
            QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:
        """Register the provider, then the menu, toolbar and toolbox entries."""
        from .ui.gui_entry import GuiEntry

        self.initProcessing()
        self.gui = GuiEntry(self.iface, self.provider)
        self.gui.add_to_gui()

    def unload(self) -> None:
        """Remove the GUI entries and the provider."""
        if self.gui is not None:
            self.gui.remove_from_gui()
            self.gui = None
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
