"""The plugin's one translation helper: every user-facing literal goes through ``tr``."""

from __future__ import annotations

from qgis.PyQt.QtCore import QCoreApplication

# One context for the whole plugin: translators see its strings together in one .ts group.
CONTEXT = "ArcGisGp"


def tr(text: str) -> str:
    """Translate a literal (call ``.format()`` on the result, never inside)."""
    return QCoreApplication.translate(CONTEXT, text)
