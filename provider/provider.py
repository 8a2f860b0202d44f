"""The Processing provider ``arcgisgp``."""

from __future__ import annotations

import os

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

ICON_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "icons", "icon.svg")


class GpProvider(QgsProcessingProvider):
    """Processing provider holding the ArcGIS geoprocessing algorithms."""

    def id(self) -> str:
        """Return the provider id used in algorithm ids (``arcgisgp:...``)."""
        return "arcgisgp"

    def name(self) -> str:
        """Return the name shown in the Processing toolbox."""
        return "ArcGIS Geoprocessing"

    def longName(self) -> str:  # noqa: N802 - QGIS API name
        """Return the long name shown in tooltips."""
        return "ArcGIS Geoprocessing Services"

    def icon(self) -> QIcon:
        """Return the provider icon."""
        return QIcon(ICON_PATH)

    def loadAlgorithms(self) -> None:  # noqa: N802 - QGIS API name
        """Add the algorithms of this provider."""
