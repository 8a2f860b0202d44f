"""Messages for the user: QGIS's message log, plus stderr when there is no desktop to show it.

qgis_process and standalone scripts never print QgsMessageLog, so a connection that cannot
be loaded there would vanish without a word ("Algorithm ... not found!"). Outside the
desktop application every warning is therefore also written to stderr, as one line.
"""

from __future__ import annotations

import sys

from qgis.core import Qgis, QgsApplication, QgsMessageLog

LOG_TAG = "ArcGIS GP"


def outside_desktop() -> bool:
    """Return whether QGIS runs without its desktop window (qgis_process, a script)."""
    return QgsApplication.platform() != "desktop"


def one_line(text: str) -> str:
    """Return ``text`` with its line breaks and runs of blanks folded into single spaces."""
    return " ".join(str(text).split())


def log(message: str, level: Qgis.MessageLevel = Qgis.MessageLevel.Info) -> None:
    """Write to the plugin's tab of the QGIS message log."""
    QgsMessageLog.logMessage(message, LOG_TAG, level)


def warn(message: str) -> None:
    """Log a warning; outside the desktop application, write it to stderr as well."""
    log(message, Qgis.MessageLevel.Warning)
    if outside_desktop():
        try:
            print(f"{LOG_TAG}: {one_line(message)}", file=sys.stderr, flush=True)
        except (OSError, ValueError):  # a closed stderr must not break loading
            pass
