"""Helpers for the esrijson tests (tests/qgis/esrijson/).

Everything here is opt-in (plain functions and non-autouse fixtures), so the other tests in
this folder are not affected.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

from tests.paths import RECORDED, REPO_ROOT  # noqa: F401  (re-exported for the tests)


def recorded(*parts: str) -> Path:
    """Return the path of a recorded fixture file (../shared/fixtures/recorded/...)."""
    return RECORDED.joinpath(*parts)


def gdal_layer(path: Path) -> Any:
    """Return (datasource, layer) of a file opened by GDAL's ESRIJSON driver, or (None, None)."""
    from osgeo import gdal, ogr

    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        ds = ogr.Open("ESRIJSON:" + str(path))
    finally:
        gdal.PopErrorHandler()
    if ds is None or ds.GetLayerCount() == 0:
        return None, None
    return ds, ds.GetLayer(0)


def gdal_readable(path: Path) -> bool:
    """True when GDAL's ESRIJSON driver reads the file."""
    ds, layer = gdal_layer(path)
    return layer is not None


def vertices(geometry: Any) -> list[tuple]:
    """Return the sorted (x, y, z, m) vertices of a QgsGeometry (NaN for missing Z/M)."""
    out = []
    for v in geometry.vertices():
        z = v.z() if v.is3D() else math.nan
        m = v.m() if v.isMeasure() else math.nan
        out.append(tuple(_key(c) for c in (v.x(), v.y(), z, m)))
    return sorted(out)


def _key(value: float) -> Any:
    return "nan" if math.isnan(value) else round(value, 9)


def square(x: float, y: float, size: float, clockwise: bool = True) -> list:
    """Return a closed square ring as Esri JSON coordinates (clockwise: an outer ring)."""
    ring = [[x, y], [x, y + size], [x + size, y + size], [x + size, y], [x, y]]
    return ring if clockwise else ring[::-1]


# rings in every containment role (no QGIS needed: the unit tests use them too)
NESTED = [
    square(0, 0, 10),            # outer
    square(1, 1, 4, False),      # hole
    square(6, 6, 3, False),      # second hole
    square(2, 2, 1),             # island inside the first hole
    square(20, 0, 5),            # separate polygon
]


def qgis_wkt(compact: str) -> str:
    """The WKT this QGIS writes for ``compact`` ("PointZ (1 2 3)"): QGIS 3.22 writes it as
    given, QGIS >= 3.40 puts a space before the Z/M/ZM ("Point Z (1 2 3)", the ISO form)."""
    from qgis.core import Qgis

    if Qgis.QGIS_VERSION_INT < 34000:
        return compact
    return re.sub(r"\b([A-Z][A-Za-z]*?)(ZM|Z|M) \(", r"\1 \2 (", compact)


def child_processes() -> list[int]:
    """Process ids of this process's living children (Linux /proc)."""
    me = str(os.getpid())
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me and fields[0] != "Z":
                found.append(int(entry))
    return found
