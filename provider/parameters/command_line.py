"""The one place that reads the process's command line: options qgis_process kept for itself."""

from __future__ import annotations

from qgis.PyQt.QtCore import QCoreApplication

# qgis_process (3.22 and later) reads --distance_units and --area_units, in any letter case,
# as its own options, so "--Distance_units=1" written before the "--" separator never
# reaches the algorithm and the task would silently run in its default unit.
QGIS_PROCESS_RESERVED = ("distance_units", "area_units")


def swallowed_by_qgis_process(name: str) -> str | None:
    """Return the value given as ``--<name>=v`` on a qgis_process command line it kept."""
    if name.lower() not in QGIS_PROCESS_RESERVED:
        return None
    prefix = f"--{name.lower()}="
    for argument in QCoreApplication.arguments():
        if argument.lower().startswith(prefix):
            return argument[len(prefix):]
    return None
