"""Geometry type codes: ISO WKB integers and Esri geometry type names (pure Python).

The WKB codes are those of the OGC/ISO specification (``QgsWkbTypes`` uses the same values):
a flat type (1 to 17) plus 1000 for Z, 2000 for M, 3000 for ZM. Extended (EWKB) codes put Z
and M in the high bits instead; :func:`esrijson.wkb.wkb_dims` reads both.
"""

from __future__ import annotations

from typing import Any

# flat ISO WKB geometry types
WKB_POINT = 1
WKB_LINESTRING = 2
WKB_POLYGON = 3
WKB_MULTIPOINT = 4
WKB_MULTILINESTRING = 5
WKB_MULTIPOLYGON = 6
WKB_MULTICURVE = 11
WKB_MULTISURFACE = 12
# added to a flat type for its dimensions
WKB_Z = 1000
WKB_M = 2000
WKB_ZM = 3000
# EWKB flags (PostGIS); QGIS writes ISO codes but reads both
EWKB_Z_FLAG = 0x80000000
EWKB_M_FLAG = 0x40000000
EWKB_TYPE_MASK = 0x0FFFFFFF
WKB_LITTLE_ENDIAN = 1

POINT = "esriGeometryPoint"
MULTIPOINT = "esriGeometryMultipoint"
POLYLINE = "esriGeometryPolyline"
POLYGON = "esriGeometryPolygon"
ENVELOPE = "esriGeometryEnvelope"
ESRI_GEOMETRY_TYPES = (POINT, MULTIPOINT, POLYLINE, POLYGON, ENVELOPE)


def dims_offset(has_z: bool, has_m: bool) -> int:
    """Return what ISO WKB adds to a flat type code for these dimensions."""
    return WKB_Z * bool(has_z) + WKB_M * bool(has_m)


def normalize_geometry_type(value: Any) -> str | None:
    """Return the canonical Esri geometry type for a (case-insensitive) name, else None."""
    if not isinstance(value, str):
        return None
    low = value.lower()
    for name in ESRI_GEOMETRY_TYPES:
        if name.lower() == low:
            return name
    return None


def guess_geometry_type(geometry: Any) -> str | None:
    """Return the Esri geometry type a geometry dict has by its keys, None when unknown."""
    if not isinstance(geometry, dict):
        return None
    if "rings" in geometry or "curveRings" in geometry:
        return POLYGON
    if "paths" in geometry or "curvePaths" in geometry:
        return POLYLINE
    if "points" in geometry:
        return MULTIPOINT
    if "x" in geometry:
        return POINT
    if "xmin" in geometry:
        return ENVELOPE
    return None
