"""The processing environment a job runs in: ``context`` processSR and extent.

ArcGIS Server 10.6.1 and later read them from the ``context`` parameter; earlier releases
from ``env:processSR`` (there was no extent then). A service published before 10.6.1
ignores ``context`` entirely, which is what lets a test tell the two forms apart.
"""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsProject,
    QgsRectangle,
)

from . import esri
from .errors import JobFailure

CONTEXT_VERSION = 10.61  # `context` replaced the env: parameters at 10.6.1


def _context(job: Any) -> dict[str, Any]:
    ctx = job.inputs.get("__context__")
    return ctx if isinstance(ctx, dict) else {}


def _sr(value: Any) -> Any:
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit()):
        return {"wkid": int(value)}
    return value


def process_crs(job: Any) -> QgsCoordinateReferenceSystem | None:
    """The processing CRS the job was given (context processSR or env:processSR), if any."""
    value = _context(job).get("processSR")
    if not value:
        return None
    try:
        crs = esri.crs_from_sr(_sr(value))
    except esri.ConversionError as exc:
        raise JobFailure(f"ERROR 000622: Invalid processSR: {exc}") from exc
    if not crs.isValid():
        raise JobFailure(f"ERROR 000622: Invalid processSR: {value!r}")
    return crs


def clip_to_extent(job: Any, fs: dict[str, Any]) -> dict[str, Any]:
    """Keep the features whose geometry meets the job's processing extent (all without one)."""
    extent = _context(job).get("extent")
    if not isinstance(extent, dict) or not fs.get("geometryType"):
        return fs
    try:
        rect = QgsRectangle(float(extent["xmin"]), float(extent["ymin"]),
                            float(extent["xmax"]), float(extent["ymax"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise JobFailure(f"ERROR 000622: Invalid extent in context: {extent!r}") from exc
    area = QgsGeometry.fromRect(rect)
    src = esri.crs_from_sr(extent.get("spatialReference")) if extent.get(
        "spatialReference") else QgsCoordinateReferenceSystem()
    dst = esri.crs_from_sr(fs.get("spatialReference")) if fs.get(
        "spatialReference") else QgsCoordinateReferenceSystem()
    if src.isValid() and dst.isValid() and src != dst:
        area.transform(QgsCoordinateTransform(src, dst, QgsProject.instance()))
    has_z, has_m = bool(fs.get("hasZ")), bool(fs.get("hasM"))
    kept = []
    for feat in fs.get("features") or []:
        geometry = feat.get("geometry")
        if not geometry:
            continue
        g = esri.geometry_from_esri(geometry, fs.get("geometryType"), has_z, has_m)
        if g.intersects(area):
            kept.append(feat)
    job.add_message(
        f"Processing extent: {len(kept)} of {len(fs.get('features') or [])} feature(s) "
        "inside it.")
    return dict(fs, features=kept)
