"""QgsGeometry of one layer -> Esri JSON geometry text or dicts (the writing direction).

Encoding parses ``asWkb()`` (:mod:`esrijson.wkb`) and formats coordinates with Python's
shortest round-trip float repr (``GeometryEncoder.wkb_text``), so a round trip is exact.
Polygons are written in Esri's orientation (``forceRHR``: outer rings clockwise).
"""

from __future__ import annotations

import json
import math
import struct
from array import array
from collections.abc import Callable
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

from .codes import (
    MULTIPOINT,
    POINT,
    POLYGON,
    POLYLINE,
    WKB_LINESTRING,
    WKB_LITTLE_ENDIAN,
    WKB_MULTILINESTRING,
    WKB_MULTIPOINT,
    WKB_MULTIPOLYGON,
    WKB_POINT,
    WKB_POLYGON,
    dims_offset,
)
from .errors import EsriJsonWriteError
from .wkb import pack_uint32, parse_linear, reshape, unpack_uint32

_pack_i = pack_uint32
_unpack_i = unpack_uint32


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
    """Encodes QgsGeometry of one layer as Esri JSON (text or dict), Esri ring orientation."""

    def __init__(self, wkb_type: int, keep_curves: bool = False) -> None:
        self.wkb_type = wkb_type
        self.geometry_type = esri_geometry_type(wkb_type)
        self.has_z = QgsWkbTypes.hasZ(wkb_type)
        self.has_m = QgsWkbTypes.hasM(wkb_type)
        self.dim = 2 + self.has_z + self.has_m
        self.keep_curves = keep_curves
        flags = ""
        if self.has_z:
            flags += '"hasZ":true,'
        if self.has_m:
            flags += '"hasM":true,'
        self._flags = flags
        self._formats: dict[int, str] = {}
        self._point_keys = ["x", "y"] + (["z"] if self.has_z else []) + (["m"] if self.has_m
                                                                         else [])
        self.warnings: dict[str, int] = {}
        # wkb_text: ISO WKB type codes of this layer's dimensions -> flat type
        offset = dims_offset(self.has_z, self.has_m)
        wanted = {POINT: (WKB_POINT,), POLYLINE: (WKB_LINESTRING, WKB_MULTILINESTRING),
                  POLYGON: (WKB_POLYGON, WKB_MULTIPOLYGON)}.get(self.geometry_type, ())
        self._fast_codes = {code + offset: code for code in wanted}
        self._step = 8 * self.dim
        self._rings: dict[int, tuple[Callable, str]] = {}
        self._head = "{" + flags + ('"rings":[' if self.geometry_type == POLYGON else '"paths":[')
        self._point_text = "{" + ",".join(f'"{k}":%r' for k in self._point_keys) + "}"
        self._point_unpack = struct.Struct("<" + "d" * self.dim).unpack_from

    def _warn(self, message: str) -> None:
        self.warnings[message] = self.warnings.get(message, 0) + 1

    # -- preparing ---------------------------------------------------------------------

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

    def _arrays(self, geometry: QgsGeometry):
        """Return (kind, parts) with parts as lists of flat arrays in the layer's dimension."""
        wkb, curved = self._prepared_wkb(geometry)
        if curved is not None:
            return "curve", curved
        if wkb is None:
            return None, None
        flat_type, z, m, parts = parse_linear(wkb)
        if z != self.has_z or m != self.has_m:
            parts = reshape(parts, (z, m), (self.has_z, self.has_m))
        kind = self.geometry_type
        if kind == POINT:
            if flat_type == WKB_MULTIPOINT:
                if len(parts) != 1:
                    raise EsriJsonWriteError(
                        "a multipoint cannot be written to a point feature set")
                parts = parts[0]
            return kind, parts
        if kind == MULTIPOINT:
            return kind, [parts] if flat_type == WKB_POINT else parts
        if kind == POLYLINE:
            return kind, [parts] if flat_type == WKB_LINESTRING else parts
        if flat_type == WKB_POLYGON:
            return kind, parts
        return kind, [ring for poly in parts for ring in poly]

    # -- text ------------------------------------------------------------------------------

    def _format(self, n: int) -> str:
        fmt = self._formats.get(n)
        if fmt is None:
            point = "[" + ",".join(["%r"] * self.dim) + "]"
            fmt = "[" + ",".join([point] * n) + "]"
            if n <= 512:
                self._formats[n] = fmt
        return fmt

    def _coords_text(self, flat: array) -> str:
        text = self._format(len(flat) // self.dim) % tuple(flat)
        if "n" in text:  # repr gives 'nan'/'inf' for those only: they go out as null
            return _dumps_coords(flat, self.dim)
        return text

    def to_text(self, geometry: QgsGeometry) -> str | None:
        """Return the Esri JSON text of a geometry, None when it is null or empty."""
        kind, parts = self._arrays(geometry)
        if kind is None:
            return None
        if kind == POINT:
            values = [None if not math.isfinite(v) else v for v in parts]
            return "{" + ",".join(
                f'"{k}":{"null" if v is None else repr(v)}'
                for k, v in zip(self._point_keys, values)) + "}"
        if kind == "curve":
            return json.dumps(self._curve_dict(parts), separators=(",", ":"))
        if kind == MULTIPOINT:
            flat = array("d")
            for p in parts:
                flat.extend(p)
            return '{' + self._flags + '"points":' + self._coords_text(flat) + "}"
        key = '"paths":[' if kind == POLYLINE else '"rings":['
        return "{" + self._flags + key + ",".join(map(self._coords_text, parts)) + "]}"

    def wkb_text(self, wkb: bytes) -> str | None:
        """Return the Esri JSON text of linear ISO WKB in the layer's own dimensions (polygons
        already in Esri orientation), None when another path must write it: other types or
        dimensions, empty geometries or parts, NaN or infinite ordinates.

        The fast path of :meth:`to_text`, with the same values: ``struct`` unpacks each part
        in one call, and one cached format per vertex count writes it (see :meth:`_ring_text`).
        """
        try:
            if wkb[0] != WKB_LITTLE_ENDIAN:
                return None
            flat_type = self._fast_codes.get(_unpack_i(wkb, 1)[0])
            if flat_type is None:
                return None
            if flat_type == WKB_POINT:
                text = self._point_text % self._point_unpack(wkb, 5)
                return None if "n" in text else text
            if flat_type == WKB_POLYGON and _unpack_i(wkb, 5)[0] == 1:  # one ring, the common case
                n = _unpack_i(wkb, 9)[0]
                if n == 0:
                    return None
                text = self._head + self._ring_text(wkb, 13, n) + "]}"
            else:
                parts = self._wkb_parts(wkb, flat_type)
                if not parts:
                    return None
                text = self._head + ",".join(parts) + "]}"
        except (IndexError, struct.error):
            return None
        return None if text.find("n", len(self._head)) >= 0 else text

    def _wkb_parts(self, wkb: bytes, flat_type: int) -> list[str] | None:
        """Return the coordinate texts of the paths or rings of a linear WKB (line, polygon
        and their multi types), None when a path or ring is empty or a part has other dimensions."""
        count = _unpack_i(wkb, 5)[0]
        multi = flat_type in (WKB_MULTILINESTRING, WKB_MULTIPOLYGON)
        # a multi type code minus 3 is the code of its parts (5 -> 2, 6 -> 3, same dimensions)
        part_code = _pack_i(_unpack_i(wkb, 1)[0] - 3) if multi else b""
        polygons = flat_type in (WKB_POLYGON, WKB_MULTIPOLYGON)
        step = self._step
        ring_text = self._ring_text
        texts: list[str] = []
        pos = 9 if multi else 5  # LineString: its vertex count; Polygon: its ring count
        for _ in range(count if multi else 1):
            if multi:
                if wkb[pos] != WKB_LITTLE_ENDIAN or wkb[pos + 1:pos + 5] != part_code:
                    return None
                pos += 5
            if polygons:
                members = _unpack_i(wkb, pos)[0]
                pos += 4
            else:
                members = 1
            for _ in range(members):
                n = _unpack_i(wkb, pos)[0]
                if n == 0:
                    return None
                texts.append(ring_text(wkb, pos + 4, n))
                pos += 4 + step * n
        return texts

    def _ring_text(self, wkb: bytes, pos: int, n: int) -> str:
        """Return the JSON text of the n vertices at ``pos`` in ``wkb``: ``[[x,y],...]``."""
        unpack, fmt = self._rings.get(n) or self._ring_format(n)
        return fmt % unpack(wkb, pos)

    def _ring_format(self, n: int) -> tuple[Callable, str]:
        """Return (unpacker, repr format) for n vertices, cached for common sizes."""
        entry = (struct.Struct(f"<{n * self.dim}d").unpack_from, self._format(n))
        if n <= 512:
            self._rings[n] = entry
        return entry

    # -- dict ------------------------------------------------------------------------------

    def to_dict(self, geometry: QgsGeometry) -> dict | None:
        """Return the Esri JSON geometry dict of a geometry, None when it is null or empty."""
        kind, parts = self._arrays(geometry)
        if kind is None:
            return None
        out: dict[str, Any] = {}
        if kind == "curve":
            return self._curve_dict(parts)
        if kind == POINT:
            for k, v in zip(self._point_keys, parts):
                out[k] = v if math.isfinite(v) else None
            return out
        if self.has_z:
            out["hasZ"] = True
        if self.has_m:
            out["hasM"] = True
        if kind == MULTIPOINT:
            out["points"] = [_pairs(p, self.dim)[0] for p in parts]
        elif kind == POLYLINE:
            out["paths"] = [_pairs(p, self.dim) for p in parts]
        else:
            out["rings"] = [_pairs(p, self.dim) for p in parts]
        return out

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


def _pairs(flat: array, dim: int) -> list:
    values = [v if math.isfinite(v) else None for v in flat]
    return [values[i:i + dim] for i in range(0, len(values), dim)]


def _dumps_coords(flat: array, dim: int) -> str:
    return json.dumps(_pairs(flat, dim), separators=(",", ":"))
