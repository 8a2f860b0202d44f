"""Esri JSON geometries <-> QgsGeometry.

Decoding builds ISO WKB directly from the coordinate arrays (``array('d')``) and hands it to
``QgsGeometry.fromWkb``: measured at about 4 us for a 21-vertex polygon, against 30 us for
``QgsArcGisRestUtils.convertGeometry`` (which also returns curved types for plain polygons and
ignores ``curveRings``). Encoding parses ``asWkb()`` the same way and formats coordinates with
Python's shortest round-trip float repr (``GeometryEncoder.wkb_text``), so a round trip is
exact.

Curves (``curvePaths``/``curveRings``): ``c`` (circular arc through an interior point) and
``a`` with a ratio of 1 (circular arc from its centre) become ``QgsCircularString`` parts of a
``QgsCompoundCurve``. Elliptic ``a`` arcs (ratio != 1) and cubic Bezier ``b`` segments have no
QGIS 3.22 geometry class: they are approximated by vertices (``ARC_STEPS`` per full turn,
``BEZIER_STEPS`` per segment) and a warning says so.
"""

from __future__ import annotations

import math
import struct
from array import array
from collections.abc import Callable
from itertools import chain
from operator import mul
from typing import Any

from qgis.core import (
    QgsAbstractGeometry,
    QgsCircularString,
    QgsCompoundCurve,
    QgsCurvePolygon,
    QgsGeometry,
    QgsLineString,
    QgsMultiCurve,
    QgsMultiSurface,
    QgsPoint,
    QgsWkbTypes,
)

NAN = float("nan")
ARC_STEPS = 72
BEZIER_STEPS = 32

POINT = "esriGeometryPoint"
MULTIPOINT = "esriGeometryMultipoint"
POLYLINE = "esriGeometryPolyline"
POLYGON = "esriGeometryPolygon"
ENVELOPE = "esriGeometryEnvelope"
ESRI_GEOMETRY_TYPES = (POINT, MULTIPOINT, POLYLINE, POLYGON, ENVELOPE)

_pack_i = struct.Struct("<I").pack
_unpack_i = struct.Struct("<I").unpack_from
_unpack_d = struct.Struct("<d").unpack_from
_ONE = _pack_i(1)


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


def layer_wkb_type(geometry_type: str | None, has_z: bool, has_m: bool,
                   curves: bool = False) -> int:
    """Return the QGIS layer type for an Esri geometry type: lines and polygons are multi."""
    if geometry_type is None:
        return QgsWkbTypes.NoGeometry
    base = {
        POINT: QgsWkbTypes.Point,
        MULTIPOINT: QgsWkbTypes.MultiPoint,
        POLYLINE: QgsWkbTypes.MultiCurve if curves else QgsWkbTypes.MultiLineString,
        POLYGON: QgsWkbTypes.MultiSurface if curves else QgsWkbTypes.MultiPolygon,
        ENVELOPE: QgsWkbTypes.MultiPolygon,
    }[geometry_type]
    if has_z:
        base = QgsWkbTypes.addZ(base)
    if has_m:
        base = QgsWkbTypes.addM(base)
    return base


def _flag(value: Any) -> bool | None:
    if value is None:
        return None
    return bool(value)


def _first_coordinate(geometry: dict) -> Any:
    for key in ("rings", "paths", "curveRings", "curvePaths"):
        parts = geometry.get(key)
        if parts:
            for part in parts:
                if part:
                    return part[0]
    points = geometry.get("points")
    if points:
        return points[0]
    return None


def geometry_dims(geometry: Any, has_z: bool | None, has_m: bool | None
                  ) -> tuple[bool, bool, bool]:
    """Return (z, m, curves) that a geometry's values carry (flags only disambiguate)."""
    if not isinstance(geometry, dict):
        return False, False, False
    fz = _flag(geometry.get("hasZ"))
    fm = _flag(geometry.get("hasM"))
    fz = has_z if fz is None else fz
    fm = has_m if fm is None else fm
    curves = bool(geometry.get("curvePaths") or geometry.get("curveRings"))
    if "x" in geometry or "xmin" in geometry:
        if "x" in geometry:
            return ("z" in geometry and geometry["z"] is not None, "m" in geometry, False)
        return ("zmin" in geometry, "mmin" in geometry, False)
    first = _first_coordinate(geometry)
    if not isinstance(first, list):
        return False, False, curves
    n = len(first)
    if n >= 4:
        return True, True, curves
    if n == 3:
        if fm and not fz:
            return False, True, curves
        return True, False, curves
    return False, False, curves


def _num(value: Any) -> float:
    if value is None:
        return NAN
    try:
        return float(value)
    except (TypeError, ValueError):
        return NAN


class GeometryDecoder:
    """Decodes Esri geometry dicts of one feature set into QgsGeometry of one fixed type."""

    def __init__(self, geometry_type: str | None, has_z: bool, has_m: bool,
                 curves: bool = False, layer_has_z: bool | None = None,
                 layer_has_m: bool | None = None) -> None:
        self.geometry_type = geometry_type
        self.has_z = has_z
        self.has_m = has_m
        self.curves = curves and geometry_type in (POLYLINE, POLYGON)
        # the feature set's own flags, used to read geometries that carry none
        self.layer_has_z = has_z if layer_has_z is None else layer_has_z
        self.layer_has_m = has_m if layer_has_m is None else layer_has_m
        self.wkb_type = layer_wkb_type(geometry_type, has_z, has_m, self.curves)
        self.out_dim = 2 + has_z + has_m
        offset = 1000 * (1 if has_z and not has_m else 2 if has_m and not has_z else
                         3 if has_z and has_m else 0)
        self._offset = offset
        self._point_code = b"\x01" + _pack_i(1 + offset)
        self._line_code = b"\x01" + _pack_i(2 + offset)
        self._poly_code = b"\x01" + _pack_i(3 + offset)
        multi_line = 11 if self.curves else 5
        multi_poly = 12 if self.curves else 6
        self._mpoint_code = b"\x01" + _pack_i(4 + offset)
        self._mline_code = b"\x01" + _pack_i(multi_line + offset)
        self._mpoly_code = b"\x01" + _pack_i(multi_poly + offset)
        self.warnings: dict[str, int] = {}

    # -- public ------------------------------------------------------------------------

    def decode(self, geometry: Any) -> QgsGeometry | None:
        """Return the QgsGeometry for an Esri geometry dict; None for null or empty ones."""
        if not isinstance(geometry, dict) or not geometry:
            return None
        kind = self.geometry_type or guess_geometry_type(geometry)
        if kind is None:
            return None
        try:
            if kind == POINT:
                wkb = self._point(geometry)
            elif kind == MULTIPOINT:
                wkb = self._multipoint(geometry)
            elif kind == POLYLINE:
                if geometry.get("curvePaths"):
                    return self._curved(geometry, polygon=False)
                wkb = self._polyline(geometry)
            elif kind == POLYGON:
                if geometry.get("curveRings"):
                    return self._curved(geometry, polygon=True)
                wkb = self._polygon(geometry)
            else:
                wkb = self._envelope(geometry)
        except (TypeError, ValueError, IndexError, KeyError) as exc:
            self._warn(f"A geometry could not be read ({exc.__class__.__name__}: {exc}); "
                       "the feature was kept without geometry")
            return None
        if wkb is None:
            other = guess_geometry_type(geometry)
            if other is not None and other != kind:
                self._warn(f"Some geometries are {other[12:].lower()}s in a feature set of "
                           f"{kind[12:].lower()}s: those features were kept without geometry")
            return None
        geom = QgsGeometry()
        geom.fromWkb(wkb)
        return geom

    def _warn(self, message: str) -> None:
        self.warnings[message] = self.warnings.get(message, 0) + 1

    # -- coordinate arrays -------------------------------------------------------------

    def _layout(self, geometry: dict) -> tuple[bool, bool]:
        """Return (z, m) meaning of the ordinates of this geometry's coordinate arrays."""
        fz = _flag(geometry.get("hasZ"))
        fm = _flag(geometry.get("hasM"))
        fz = self.layer_has_z if fz is None else fz
        fm = self.layer_has_m if fm is None else fm
        return bool(fz), bool(fm)

    def _coords(self, coords: list, layout: tuple[bool, bool]) -> array:
        """Return the flat coordinate array of ``coords`` in the output dimension."""
        out_dim = self.out_dim
        n = len(coords)
        first_len = len(coords[0]) if n else 0
        if first_len == out_dim and (out_dim == 2 or out_dim == 4 or self._same_meaning(layout)):
            flat = list(chain.from_iterable(coords))
            if len(flat) == n * out_dim:
                try:
                    return array("d", flat)
                except TypeError:
                    pass  # null or string ordinates: the careful path below
        return self._coords_slow(coords, layout)

    def _same_meaning(self, layout: tuple[bool, bool]) -> bool:
        """True when a 3-ordinate input means the same as the 3-ordinate output."""
        fz, fm = layout
        input_is_m = fm and not fz
        return input_is_m == (self.has_m and not self.has_z)

    def _coords_slow(self, coords: list, layout: tuple[bool, bool]) -> array:
        fz, fm = layout
        has_z, has_m = self.has_z, self.has_m
        out = array("d")
        dropped = False
        for c in coords:
            n = len(c)
            x = _num(c[0])
            y = _num(c[1])
            z = m = NAN
            if n >= 4:
                z, m = _num(c[2]), _num(c[3])
            elif n == 3:
                if fm and not fz:
                    m = _num(c[2])
                else:
                    z = _num(c[2])
            if (not has_z and n >= 3 and not math.isnan(z)) or \
               (not has_m and n >= 3 and not math.isnan(m)):
                dropped = True
            out.append(x)
            out.append(y)
            if has_z:
                out.append(z)
            if has_m:
                out.append(m)
        if dropped:
            self._warn("Some Z or M values beyond the layer's dimensions were dropped "
                       "(the layer's dimensions come from the first features)")
        return out

    # -- simple geometries ---------------------------------------------------------------

    def _point(self, g: dict) -> bytes | None:
        x = g.get("x")
        y = g.get("y")
        if x is None or y is None or isinstance(x, str) or isinstance(y, str):
            x, y = _num(x), _num(y)
            if math.isnan(x) or math.isnan(y):
                return None
        values = [x, y]
        if self.has_z:
            values.append(_num(g.get("z")))
        elif g.get("z") is not None:
            self._warn("Some Z or M values beyond the layer's dimensions were dropped "
                       "(the layer's dimensions come from the first features)")
        if self.has_m:
            values.append(_num(g.get("m")))
        return self._point_code + array("d", values).tobytes()

    def _multipoint(self, g: dict) -> bytes | None:
        points = g.get("points")
        if not points:
            return None
        flat = self._coords(points, self._layout(g))
        dim = self.out_dim
        n = len(points)
        point_code = self._point_code
        stride = 8 * dim
        raw = flat.tobytes()
        parts = [self._mpoint_code, _pack_i(n)]
        for i in range(n):
            parts.append(point_code)
            parts.append(raw[i * stride:(i + 1) * stride])
        return b"".join(parts)

    def _polyline(self, g: dict) -> bytes | None:
        paths = [p for p in (g.get("paths") or ()) if p]
        if not paths:
            return None
        layout = self._layout(g)
        parts = [self._mline_code, _pack_i(len(paths))]
        line_code = self._line_code
        for path in paths:
            parts.append(line_code)
            parts.append(_pack_i(len(path)))
            parts.append(self._coords(path, layout).tobytes())
        return b"".join(parts)

    def _envelope(self, g: dict) -> bytes | None:
        xmin, ymin, xmax, ymax = (_num(g.get(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
        if any(math.isnan(v) for v in (xmin, ymin, xmax, ymax)):
            return None
        corners = [(xmin, ymin), (xmin, ymax), (xmax, ymax), (xmax, ymin), (xmin, ymin)]
        flat = array("d")
        for x, y in corners:
            flat.extend((x, y))
            if self.has_z:
                flat.append(_num(g.get("zmin")))
            if self.has_m:
                flat.append(_num(g.get("mmin")))
        return b"".join([self._mpoly_code, _pack_i(1), self._poly_code, _pack_i(1),
                         _pack_i(5), flat.tobytes()])

    # -- polygons ----------------------------------------------------------------------

    def _polygon(self, g: dict) -> bytes | None:
        rings = g.get("rings")
        if not rings:
            return None
        if not all(rings):
            rings = [r for r in rings if r]
            if not rings:
                return None
        layout = self._layout(g)
        dim = self.out_dim
        flats = []
        for ring in rings:
            flat = self._coords(ring, layout)
            if flat[0] != flat[-dim] or flat[1] != flat[-dim + 1]:
                flat.extend(flat[:dim])  # Esri rings are closed; close the ones that are not
            flats.append(flat)
        if len(flats) == 1:
            flat = flats[0]
            return b"".join((self._mpoly_code, _ONE, self._poly_code, _ONE,
                             _pack_i(len(flat) // dim), flat.tobytes()))
        polygons = organize_rings(flats, dim)
        poly_code = self._poly_code
        parts = [self._mpoly_code, _pack_i(len(polygons))]
        for members in polygons:
            parts.append(poly_code)
            parts.append(_pack_i(len(members)))
            for index in members:
                flat = flats[index]
                parts.append(_pack_i(len(flat) // dim))
                parts.append(flat.tobytes())
        return b"".join(parts)

    # -- curves ------------------------------------------------------------------------

    def _point_obj(self, x: float, y: float, z: float, m: float) -> QgsPoint:
        p = QgsPoint(x, y)
        if self.has_z:
            p.addZValue(z)
        if self.has_m:
            p.addMValue(m)
        return p

    def _curve_part(self, items: list, layout: tuple[bool, bool]):
        """Return (QGIS curve, flat segmentized coordinates) for one curvePath/curveRing."""
        fz, fm = layout

        def xyzm(c: list) -> tuple[float, float, float, float]:
            n = len(c)
            z = m = NAN
            if n >= 4:
                z, m = _num(c[2]), _num(c[3])
            elif n == 3:
                if fm and not fz:
                    m = _num(c[2])
                else:
                    z = _num(c[2])
            return _num(c[0]), _num(c[1]), z, m

        compound = QgsCompoundCurve()
        line: list[QgsPoint] = []
        current = None
        for item in items:
            if isinstance(item, list):
                current = xyzm(item)
                line.append(self._point_obj(*current))
                continue
            if not isinstance(item, dict) or current is None:
                raise ValueError("a curve segment must follow a start point")
            if len(line) > 1:
                compound.addCurve(QgsLineString(line))
            if "c" in item:
                end = xyzm(item["c"][0])
                mid = xyzm(item["c"][1])
                compound.addCurve(QgsCircularString(self._point_obj(*current),
                                                    self._point_obj(*mid),
                                                    self._point_obj(*end)))
            elif "a" in item:
                end, pts = self._arc(current, item["a"], xyzm)
                if pts is None:
                    compound.addCurve(QgsCircularString(self._point_obj(*current),
                                                        self._point_obj(*end[1]),
                                                        self._point_obj(*end[0])))
                    end = end[0]
                else:
                    compound.addCurve(QgsLineString([self._point_obj(*p) for p in pts]))
            elif "b" in item:
                end, pts = self._bezier(current, item["b"], xyzm)
                compound.addCurve(QgsLineString([self._point_obj(*p) for p in pts]))
            else:
                raise ValueError(f"unknown curve segment {sorted(item)!r}")
            current = end
            line = [self._point_obj(*current)]
        if len(line) > 1:
            compound.addCurve(QgsLineString(line))
        if compound.nCurves() == 1:
            curve = compound.curveAt(0).clone()
        else:
            curve = compound
        segmented = curve.curveToLine()
        flat = _flat_from_wkb_line(bytes(segmented.asWkb()), self.out_dim)
        return curve, flat

    def _arc(self, start, spec: list, xyzm):
        """Return (end or (end, interior), None) for a circular arc, (end, points) else."""
        end = xyzm(spec[0])
        center = xyzm(spec[1])
        clockwise = bool(spec[3]) if len(spec) > 3 else False
        ratio = float(spec[6]) if len(spec) > 6 and spec[6] is not None else 1.0
        rotation = float(spec[4]) if len(spec) > 4 and spec[4] is not None else 0.0
        sx, sy = start[0] - center[0], start[1] - center[1]
        ex, ey = end[0] - center[0], end[1] - center[1]
        if ratio != 1.0:
            cos_r, sin_r = math.cos(-rotation), math.sin(-rotation)
            sx, sy = sx * cos_r - sy * sin_r, (sx * sin_r + sy * cos_r) / ratio
            ex, ey = ex * cos_r - ey * sin_r, (ex * sin_r + ey * cos_r) / ratio
        a0 = math.atan2(sy, sx)
        a1 = math.atan2(ey, ex)
        sweep = a1 - a0
        if clockwise:
            while sweep >= 0:
                sweep -= 2 * math.pi
        else:
            while sweep <= 0:
                sweep += 2 * math.pi
        if ratio == 1.0:
            radius = math.hypot(sx, sy)
            am = a0 + sweep / 2
            mid = (center[0] + radius * math.cos(am), center[1] + radius * math.sin(am),
                   _mean(start[2], end[2]), _mean(start[3], end[3]))
            return (end, mid), None
        self._warn("Elliptic arcs were approximated by vertices (QGIS has no elliptic arcs)")
        major = math.hypot(sx, sy)
        steps = max(4, int(abs(sweep) / (2 * math.pi) * ARC_STEPS))
        cos_r, sin_r = math.cos(rotation), math.sin(rotation)
        pts = [start]
        for k in range(1, steps):
            t = a0 + sweep * k / steps
            u, v = major * math.cos(t), major * ratio * math.sin(t)
            f = k / steps
            pts.append((center[0] + u * cos_r - v * sin_r, center[1] + u * sin_r + v * cos_r,
                        _lerp(start[2], end[2], f), _lerp(start[3], end[3], f)))
        pts.append(end)
        return end, pts

    def _bezier(self, start, spec: list, xyzm):
        self._warn("Bezier curves were approximated by vertices (QGIS has no Bezier curves)")
        end = xyzm(spec[0])
        c1 = xyzm(spec[1])
        c2 = xyzm(spec[2])
        pts = [start]
        for k in range(1, BEZIER_STEPS):
            t = k / BEZIER_STEPS
            a, b, c, d = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t * t, t ** 3
            pts.append((a * start[0] + b * c1[0] + c * c2[0] + d * end[0],
                        a * start[1] + b * c1[1] + c * c2[1] + d * end[1],
                        _lerp(start[2], end[2], t), _lerp(start[3], end[3], t)))
        pts.append(end)
        return end, pts

    def _curved(self, g: dict, polygon: bool) -> QgsGeometry | None:
        key = "curveRings" if polygon else "curvePaths"
        layout = self._layout(g)
        parts = [self._curve_part(items, layout) for items in g.get(key) or () if items]
        if not parts:
            return None
        if polygon:
            dim = self.out_dim
            for index, (_curve, flat) in enumerate(parts):
                if flat[0] != flat[-dim] or flat[1] != flat[-dim + 1]:
                    raise ValueError(f"curve ring {index} is not closed")
            groups = organize_rings([flat for _, flat in parts], self.out_dim)
            collection = QgsMultiSurface()
            for members in groups:
                poly = QgsCurvePolygon()
                poly.setExteriorRing(parts[members[0]][0].clone())
                for index in members[1:]:
                    poly.addInteriorRing(parts[index][0].clone())
                collection.addGeometry(poly)
        else:
            collection = QgsMultiCurve()
            for curve, _ in parts:
                collection.addGeometry(curve.clone())
        geom = QgsGeometry(collection)
        if not self.curves:
            self._warn("Curves were segmentized: the layer's type comes from the first features, "
                       "which had none")
            geom = QgsGeometry(geom.constGet().segmentize())
            if QgsWkbTypes.flatType(geom.wkbType()) != QgsWkbTypes.flatType(self.wkb_type):
                geom.convertToMultiType()
        return geom


def _mean(a: float, b: float) -> float:
    return (a + b) / 2


def _lerp(a: float, b: float, f: float) -> float:
    return a + (b - a) * f


def _flat_from_wkb_line(wkb: bytes, out_dim: int) -> array:
    """Return the flat coordinates of a LineString WKB in ``out_dim`` ordinates."""
    code = _unpack_i(wkb, 1)[0]
    in_dim = 2 + (code // 1000 in (1, 3)) + (code // 1000 in (2, 3))
    n = _unpack_i(wkb, 5)[0]
    flat = array("d")
    flat.frombytes(wkb[9:9 + 8 * in_dim * n])
    if in_dim == out_dim:
        return flat
    out = array("d")
    for i in range(n):
        part = list(flat[i * in_dim:(i + 1) * in_dim])
        part = (part + [NAN, NAN])[:out_dim] if in_dim < out_dim else part[:out_dim]
        out.extend(part)
    return out


# -- ring organisation ----------------------------------------------------------------------


def signed_area(flat: array, dim: int) -> float:
    """Return twice the signed area of a closed ring (positive: counter-clockwise)."""
    xs = flat[0::dim]
    ys = flat[1::dim]
    return sum(map(mul, xs[:-1], ys[1:])) - sum(map(mul, xs[1:], ys[:-1]))


def _point_in_ring(px: float, py: float, xs: array, ys: array) -> int:
    """Return 1 inside, 0 outside, -1 on the boundary (even-odd rule)."""
    inside = False
    x1, y1 = xs[0], ys[0]
    for x2, y2 in zip(xs[1:], ys[1:]):
        if (y1 > py) != (y2 > py):
            xint = x1 + (py - y1) * (x2 - x1) / (y2 - y1)
            if xint == px:
                return -1
            if px < xint:
                inside = not inside
        elif y1 == py == y2 and min(x1, x2) <= px <= max(x1, x2):
            return -1
        x1, y1 = x2, y2
    return 1 if inside else 0


def organize_rings(flats: list[array], dim: int) -> list[list[int]]:
    """Group rings into polygons by containment, whatever their order or orientation.

    Returns lists of ring indices, each an exterior followed by its holes: a ring inside an
    odd number of rings is a hole of the smallest ring holding it; the others are exteriors
    (islands in holes included). Polygons come in the order of their exterior ring.
    """
    n = len(flats)
    xs = [f[0::dim] for f in flats]
    ys = [f[1::dim] for f in flats]
    areas = [abs(signed_area(f, dim)) for f in flats]
    boxes = [(min(x), min(y), max(x), max(y)) for x, y in zip(xs, ys)]
    order = sorted(range(n), key=lambda i: -areas[i])
    depth = [0] * n
    parent: list[int | None] = [None] * n
    for rank, i in enumerate(order):
        bx0, by0, bx1, by1 = boxes[i]
        for j in reversed(order[:rank]):
            cx0, cy0, cx1, cy1 = boxes[j]
            if bx0 < cx0 or by0 < cy0 or bx1 > cx1 or by1 > cy1:
                continue
            if _ring_inside(xs[i], ys[i], xs[j], ys[j]):
                parent[i] = j
                depth[i] = depth[j] + 1
                break
    polygons: dict[int, list[int]] = {}
    for i in range(n):
        if depth[i] % 2 == 0:
            polygons.setdefault(i, [i])
    for i in range(n):
        if depth[i] % 2 == 1:
            polygons[parent[i]].append(i)  # type: ignore[index]
    return [polygons[i] for i in sorted(polygons)]


def _ring_inside(ixs: array, iys: array, oxs: array, oys: array) -> bool:
    """True when ring i lies inside ring o (rings do not cross; they may touch)."""
    for px, py in zip(ixs, iys):
        where = _point_in_ring(px, py, oxs, oys)
        if where >= 0:
            return where == 1
    # every vertex on the other ring's boundary: inside when a mid-edge point is
    for k in range(len(ixs) - 1):
        where = _point_in_ring((ixs[k] + ixs[k + 1]) / 2, (iys[k] + iys[k + 1]) / 2, oxs, oys)
        if where >= 0:
            return where == 1
    return True


# -- encoding -------------------------------------------------------------------------------

ESRI_TYPE_OF_FLAT = {
    QgsWkbTypes.Point: POINT,
    QgsWkbTypes.MultiPoint: MULTIPOINT,
    QgsWkbTypes.LineString: POLYLINE,
    QgsWkbTypes.MultiLineString: POLYLINE,
    QgsWkbTypes.CircularString: POLYLINE,
    QgsWkbTypes.CompoundCurve: POLYLINE,
    QgsWkbTypes.MultiCurve: POLYLINE,
    QgsWkbTypes.Polygon: POLYGON,
    QgsWkbTypes.MultiPolygon: POLYGON,
    QgsWkbTypes.CurvePolygon: POLYGON,
    QgsWkbTypes.MultiSurface: POLYGON,
    QgsWkbTypes.Triangle: POLYGON,
}


def esri_geometry_type(wkb_type: int) -> str | None:
    """Return the Esri geometry type for a QGIS layer type; None for tables."""
    flat = QgsWkbTypes.flatType(wkb_type)
    if flat in (QgsWkbTypes.NoGeometry, QgsWkbTypes.Unknown):
        return None
    kind = ESRI_TYPE_OF_FLAT.get(flat)
    if kind is None:
        raise ValueError(
            f"{QgsWkbTypes.displayString(wkb_type)} layers cannot be written as Esri JSON "
            "(it has no geometry collections): split the layer by geometry type first."
        )
    return kind


def _wkb_dims(code: int) -> tuple[int, bool, bool]:
    """Return (flat type, z, m) of an ISO or extended WKB type code."""
    z = m = False
    if code & 0x80000000:
        z = True
    if code & 0x40000000:
        m = True
    code &= 0x0FFFFFFF
    thousands = code // 1000
    if thousands == 1:
        z = True
    elif thousands == 2:
        m = True
    elif thousands == 3:
        z = m = True
    return code % 1000, z, m


class WkbParser:
    """Reads linear ISO WKB into flat coordinate arrays."""

    __slots__ = ("wkb", "pos")

    def __init__(self, wkb: bytes) -> None:
        self.wkb = wkb
        self.pos = 0

    def header(self) -> tuple[int, bool, bool]:
        if self.wkb[self.pos] != 1:
            raise ValueError("big-endian WKB is not expected from QGIS")
        code = _unpack_i(self.wkb, self.pos + 1)[0]
        self.pos += 5
        return _wkb_dims(code)

    def count(self) -> int:
        n = _unpack_i(self.wkb, self.pos)[0]
        self.pos += 4
        return n

    def coords(self, n: int, dim: int) -> array:
        end = self.pos + 8 * dim * n
        flat = array("d")
        flat.frombytes(self.wkb[self.pos:end])
        self.pos = end
        return flat

    def geometry(self) -> tuple[int, bool, bool, Any]:
        """Return (flat type, z, m, parts): parts is a flat array (point/line), a list of
        ring arrays (polygon) or a list of sub-geometry parts (multi)."""
        flat_type, z, m = self.header()
        dim = 2 + z + m
        if flat_type == 1:
            return flat_type, z, m, self.coords(1, dim)
        if flat_type == 2:
            return flat_type, z, m, self.coords(self.count(), dim)
        if flat_type == 3:
            return flat_type, z, m, [self.coords(self.count(), dim) for _ in range(self.count())]
        if flat_type in (4, 5, 6):
            return flat_type, z, m, [self.geometry()[3] for _ in range(self.count())]
        raise ValueError(f"unexpected WKB geometry type {flat_type}")


def _parse_linear(wkb: bytes) -> tuple[int, bool, bool, Any]:
    """Fast path of :class:`WkbParser` for the common linear types (one function, no object);
    lines and polygons come back as lists of flat arrays, multi-polygons as nested lists."""
    flat_type, z, m = _wkb_dims(_unpack_i(wkb, 1)[0])
    if flat_type not in (2, 3, 5, 6):
        return WkbParser(wkb).geometry()
    step = 8 * (2 + z + m)
    view = memoryview(wkb)
    unpack = _unpack_i
    if flat_type == 2:
        n = unpack(wkb, 5)[0]
        flat = array("d")
        flat.frombytes(view[9:9 + step * n])
        return flat_type, z, m, flat
    if flat_type == 3:
        polygons, pos = 1, 0  # a polygon parses like one part of a multipolygon
    else:
        polygons, pos = unpack(wkb, 5)[0], 9
    parts = []
    for _ in range(polygons):
        if flat_type == 5:
            count = 1
            pos += 5
        else:
            count = unpack(wkb, pos + 5)[0]
            pos += 9
        rings = []
        for _ in range(count):
            n = unpack(wkb, pos)[0]
            pos += 4
            end = pos + step * n
            flat = array("d")
            flat.frombytes(view[pos:end])
            pos = end
            rings.append(flat)
        parts.append(rings[0] if flat_type == 5 else rings)
    return flat_type, z, m, parts[0] if flat_type == 3 else parts


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
        offset = 1000 * self.has_z + 2000 * self.has_m
        wanted = {POINT: (1,), POLYLINE: (2, 5), POLYGON: (3, 6)}.get(self.geometry_type, ())
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
        flat_type, z, m, parts = _parse_linear(wkb)
        if z != self.has_z or m != self.has_m:
            parts = _reshape(parts, (z, m), (self.has_z, self.has_m))
        kind = self.geometry_type
        if kind == POINT:
            if flat_type == 4:
                if len(parts) != 1:
                    raise ValueError("a multipoint cannot be written to a point feature set")
                parts = parts[0]
            return kind, parts
        if kind == MULTIPOINT:
            return kind, [parts] if flat_type == 1 else parts
        if kind == POLYLINE:
            return kind, [parts] if flat_type == 2 else parts
        if flat_type == 3:
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
            import json

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
            flat_type = self._fast_codes.get(_unpack_i(wkb, 1)[0]) if wkb[0] == 1 else None
            if flat_type is None:
                return None
            if flat_type == 1:
                text = self._point_text % self._point_unpack(wkb, 5)
                return None if "n" in text else text
            if flat_type == 3 and _unpack_i(wkb, 5)[0] == 1:  # one ring, the common case
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
        """Return the coordinate texts of the paths or rings of a linear WKB (types 2, 3, 5,
        6), None when a path or ring is empty or a part has other dimensions."""
        count = _unpack_i(wkb, 5)[0]
        multi = flat_type > 3
        part_code = _pack_i(_unpack_i(wkb, 1)[0] - 3) if multi else b""
        polygons = flat_type in (3, 6)
        step = self._step
        ring_text = self._ring_text
        texts: list[str] = []
        pos = 9 if multi else 5  # LineString: its vertex count; Polygon: its ring count
        for _ in range(count if multi else 1):
            if multi:
                if wkb[pos] != 1 or wkb[pos + 1:pos + 5] != part_code:
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
    import json

    return json.dumps(_pairs(flat, dim), separators=(",", ":"))


def _reshape(parts: Any, zm_in: tuple[bool, bool], zm_out: tuple[bool, bool]) -> Any:
    """Convert coordinate arrays between Z/M layouts: missing ordinates become NaN."""
    z_in, m_in = zm_in
    z_out, m_out = zm_out
    dim_in = 2 + z_in + m_in

    def one(flat: array) -> array:
        out = array("d")
        for i in range(0, len(flat), dim_in):
            out.append(flat[i])
            out.append(flat[i + 1])
            if z_out:
                out.append(flat[i + 2] if z_in else NAN)
            if m_out:
                out.append(flat[i + 2 + z_in] if m_in else NAN)
        return out

    def walk(obj: Any) -> Any:
        if isinstance(obj, array):
            return one(obj)
        return [walk(o) for o in obj]

    return walk(parts)


Encoder = Callable[[QgsGeometry], Any]
