"""QgsGeometry of one layer -> Esri JSON geometry text or dicts (the writing direction).

The QGIS side of encoding: null and empty geometries, curves (segmentized, or kept as Esri
curves), Esri's orientation for polygons (``forceRHR``: outer rings clockwise); then
``asWkb()`` goes to :mod:`esrijson.wkb_to_esri`, which writes the coordinates exactly.
"""

from __future__ import annotations

import json
import math
from typing import Any

from qgis.core import (
    QgsAbstractGeometry,
    QgsCircularString,
    QgsCompoundCurve,
    QgsGeometry,
    QgsMultiCurve,
    QgsMultiSurface,
    QgsPoint,
    QgsWkbTypes,
)

from .codes import MULTIPOINT, POINT, POLYGON, POLYLINE
from .errors import EsriJsonWriteError
from .wkb_to_esri import WkbToEsri

ESRI_TYPE_OF_FLAT = {
    QgsWkbTypes.Type.Point: POINT,
    QgsWkbTypes.Type.MultiPoint: MULTIPOINT,
    QgsWkbTypes.Type.LineString: POLYLINE,
    QgsWkbTypes.Type.MultiLineString: POLYLINE,
    QgsWkbTypes.Type.CircularString: POLYLINE,
    QgsWkbTypes.Type.CompoundCurve: POLYLINE,
    QgsWkbTypes.Type.MultiCurve: POLYLINE,
    QgsWkbTypes.Type.Polygon: POLYGON,
    QgsWkbTypes.Type.MultiPolygon: POLYGON,
    QgsWkbTypes.Type.CurvePolygon: POLYGON,
    QgsWkbTypes.Type.MultiSurface: POLYGON,
    QgsWkbTypes.Type.Triangle: POLYGON,
}


def esri_geometry_type(wkb_type: int) -> str | None:
    """Return the Esri geometry type for a QGIS layer type; None for tables."""
    flat = QgsWkbTypes.flatType(wkb_type)
    if flat in (QgsWkbTypes.Type.NoGeometry, QgsWkbTypes.Type.Unknown):
        return None
    kind = ESRI_TYPE_OF_FLAT.get(flat)
    if kind is None:
        raise EsriJsonWriteError(
            f"{QgsWkbTypes.displayString(wkb_type)} layers cannot be written as Esri JSON "
            "(it has no geometry collections): split the layer by geometry type first."
        )
    return kind



class GeometryEncoder:
    """Encodes QgsGeometry of one layer as Esri JSON (text or dict), Esri ring orientation.

    The QGIS part lives here (null and empty geometries, curves, orientation, ``asWkb``);
    the linear WKB is written by :class:`esrijson.wkb_to_esri.WkbToEsri` (``self.linear``).
    """

    def __init__(self, wkb_type: int, keep_curves: bool = False) -> None:
        self.wkb_type = wkb_type
        self.geometry_type = esri_geometry_type(wkb_type)
        self.has_z = QgsWkbTypes.hasZ(wkb_type)
        self.has_m = QgsWkbTypes.hasM(wkb_type)
        self.dim = 2 + self.has_z + self.has_m
        self.keep_curves = keep_curves
        self.linear = WkbToEsri(self.geometry_type or POINT, self.has_z, self.has_m)
        self.warnings: dict[str, int] = {}

    def _warn(self, message: str) -> None:
        self.warnings[message] = self.warnings.get(message, 0) + 1

    def _prepared_wkb(self, geometry: QgsGeometry):
        """Return (WKB bytes, curve parts or None) of a geometry ready for encoding."""
        if geometry is None or geometry.isNull():
            return None, None
        abstract = geometry.constGet()
        if abstract is None or abstract.isEmpty():
            return None, None
        if QgsWkbTypes.isCurvedType(abstract.wkbType()):
            if self.keep_curves and self.geometry_type in (POLYLINE, POLYGON):
                return None, abstract
            geometry = QgsGeometry(abstract.segmentize())
        if self.geometry_type == POLYGON:
            geometry = geometry.forceRHR()
        return geometry.asWkb().data(), None

    def to_text(self, geometry: QgsGeometry) -> str | None:
        """Return the Esri JSON text of a geometry, None when it is null or empty."""
        wkb, curved = self._prepared_wkb(geometry)
        if curved is not None:
            return json.dumps(self._curve_dict(curved), separators=(",", ":"))
        return None if wkb is None else self.linear.careful_text(wkb)

    def wkb_text(self, wkb: bytes) -> str | None:
        """The fast path of :meth:`to_text` for WKB already prepared (see
        :meth:`WkbToEsri.fast_text`): None when :meth:`to_text` must write it."""
        return self.linear.fast_text(wkb)

    def to_dict(self, geometry: QgsGeometry) -> dict | None:
        """Return the Esri JSON geometry dict of a geometry, None when it is null or empty."""
        wkb, curved = self._prepared_wkb(geometry)
        if curved is not None:
            return self._curve_dict(curved)
        return None if wkb is None else self.linear.as_dict(wkb)

    # -- curves kept -----------------------------------------------------------------------

    def _curve_items(self, curve) -> list:
        """Return the Esri curve items (first point, then points and {"c": ...}) of a curve."""
        pieces = []
        if isinstance(curve, QgsCompoundCurve):
            pieces = [curve.curveAt(i) for i in range(curve.nCurves())]
        else:
            pieces = [curve]
        items: list = []
        for piece in pieces:
            pts = [self._pt(piece.pointN(i)) for i in range(piece.numPoints())]
            if not items:
                items.append(pts[0])
            if isinstance(piece, QgsCircularString):
                for k in range(1, len(pts) - 1, 2):
                    start, mid, end = pts[k - 1], pts[k], pts[k + 1]
                    if start[:2] == end[:2]:
                        # a full circle: "c" cannot say it (two points); "a" with its centre can
                        centre = [(start[0] + mid[0]) / 2, (start[1] + mid[1]) / 2]
                        items.append({"a": [end, centre, 0, 0]})
                    else:
                        items.append({"c": [end, mid]})
            else:
                items.extend(pts[1:])
        return items

    def _pt(self, p: QgsPoint) -> list:
        values = [p.x(), p.y()]
        if self.has_z:
            values.append(p.z())
        if self.has_m:
            values.append(p.m())
        return [v if math.isfinite(v) else None for v in values]

    def _curve_dict(self, abstract: QgsAbstractGeometry) -> dict:
        out: dict[str, Any] = {}
        if self.has_z:
            out["hasZ"] = True
        if self.has_m:
            out["hasM"] = True
        if self.geometry_type == POLYLINE:
            curves = [abstract.geometryN(i) for i in range(abstract.numGeometries())] \
                if isinstance(abstract, QgsMultiCurve) else [abstract]
            out["curvePaths"] = [self._curve_items(c) for c in curves]
            return out
        geom = QgsGeometry(abstract.clone()).forceRHR()
        abstract = geom.constGet()
        polys = [abstract.geometryN(i) for i in range(abstract.numGeometries())] \
            if isinstance(abstract, QgsMultiSurface) else [abstract]
        rings = []
        for poly in polys:
            rings.append(self._curve_items(poly.exteriorRing()))
            for k in range(poly.numInteriorRings()):
                rings.append(self._curve_items(poly.interiorRing(k)))
        out["curveRings"] = rings
        return out


