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

    def initProcessing(self) -> None:  # noqa: N802 - QGIS API name
        """Register the Processing provider (also called headless by qgis_process)."""
        self.provider = GpProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802 - QGIS API name
        """Register the provider; GUI entry points are added by the ui package."""
        self.initProcessing()

    def unload(self) -> None:
        """Remove the provider and every GUI entry point."""
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
