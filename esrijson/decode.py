"""Esri JSON geometry dicts -> QgsGeometry of one layer type (the reading direction).

Decoding builds ISO WKB directly from the coordinate arrays (``array('d')``) and hands it to
``QgsGeometry.fromWkb``: measured at about 4 us for a 21-vertex polygon, against 30 us for
``QgsArcGisRestUtils.convertGeometry`` (which also returns curved types for plain polygons and
ignores ``curveRings``). Rings are grouped into polygons by :mod:`esrijson.rings`.

Curves (``curvePaths``/``curveRings``): ``c`` (circular arc through an interior point) and
``a`` with a ratio of 1 (circular arc from its centre) become ``QgsCircularString`` parts of a
``QgsCompoundCurve``. Elliptic ``a`` arcs (ratio != 1) and cubic Bezier ``b`` segments have no
QGIS 3.22 geometry class: they are approximated by vertices (``ARC_STEPS`` per full turn,
``BEZIER_STEPS`` per segment) and a warning says so.
"""

from __future__ import annotations

import math
from array import array
from itertools import chain
from typing import Any

from qgis.core import (
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

from .codes import (
    ENVELOPE,
    MULTIPOINT,
    POINT,
    POLYGON,
    POLYLINE,
    WKB_LINESTRING,
    WKB_MULTICURVE,
    WKB_MULTILINESTRING,
    WKB_MULTIPOINT,
    WKB_MULTIPOLYGON,
    WKB_MULTISURFACE,
    WKB_POINT,
    WKB_POLYGON,
    dims_offset,
    guess_geometry_type,
)
from .rings import organize_rings
from .wkb import flat_from_wkb_line, pack_uint32

NAN = float("nan")
ARC_STEPS = 72
BEZIER_STEPS = 32

_pack_i = pack_uint32
_ONE = _pack_i(1)
_LE = b"\x01"  # little-endian byte order mark of each WKB geometry


class FeatureWarnings:
    """Warnings counted by message, each with the positions of its first features."""

    SHOWN = 5

    def __init__(self) -> None:
        self._seen: dict[str, tuple[list[int], list[int]]] = {}

    def add(self, message: str, position: int | None) -> None:
        """Count one feature (by its position in the features array, from 1) for a message."""
        entry = self._seen.get(message)
        if entry is None:
            entry = self._seen[message] = ([0], [])
        entry[0][0] += 1
        if position is not None and len(entry[1]) < self.SHOWN:
            entry[1].append(position)

    def clear(self) -> None:
        """Forget every warning (the features are read again)."""
        self._seen.clear()

    def lines(self) -> list[str]:
        """Return one sentence a message: how many features, and where the first ones are."""
        out = []
        for message, ([n], positions) in self._seen.items():
            plural = "s" if n != 1 else ""
            where = ""
            if positions:
                more = ", ..." if n > len(positions) else ""
                where = (f", at position{'s' if len(positions) > 1 else ''} "
                         f"{', '.join(map(str, positions))}{more} in 'features'")
            out.append(f"{message} ({n} feature{plural}{where}).")
        return out


def layer_wkb_type(geometry_type: str | None, has_z: bool, has_m: bool,
                   curves: bool = False) -> int:
    """Return the QGIS layer type for an Esri geometry type: lines and polygons are multi."""
    if geometry_type is None:
        return QgsWkbTypes.Type.NoGeometry
    base = {
        POINT: QgsWkbTypes.Type.Point,
        MULTIPOINT: QgsWkbTypes.Type.MultiPoint,
        POLYLINE: QgsWkbTypes.Type.MultiCurve if curves else QgsWkbTypes.Type.MultiLineString,
        POLYGON: QgsWkbTypes.Type.MultiSurface if curves else QgsWkbTypes.Type.MultiPolygon,
        ENVELOPE: QgsWkbTypes.Type.MultiPolygon,
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


# warnings for malformed geometries (the feature is kept; see esrijson/README.md)
NOT_FINITE = ("Geometries with NaN or infinite x/y coordinates were dropped (the features were "
              "kept without geometry)")
TEXT_COORDINATE = ("Geometries with text where a coordinate must be a number were dropped (the "
                   "features were kept without geometry)")
TEXT_NUMBER = "Coordinates written as text (\"12.5\") were read as the numbers they spell"
# kept as they are, as GDAL's ESRIJSON driver keeps them: nothing is lost, the user is told
SHORT_RING = ("Polygon rings of fewer than 4 points (no area) were kept as they are: those "
              "polygons are not valid")
ONE_POINT_PATH = ("Polyline paths of a single point (no length) were kept as they are: those "
                  "lines are not valid")
NOT_A_GEOMETRY = ("Geometries that are not Esri JSON geometry objects were dropped (the "
                  "features were kept without geometry)")
_FLAG_KEYS = frozenset({"spatialReference", "hasZ", "hasM"})


class _UnreadableGeometryError(Exception):
    """A geometry that is dropped; the message is the warning."""


def _check_xy(flat: array, dim: int) -> None:
    """Raise :class:`_UnreadableGeometryError` when an x or y is NaN or infinite (NaN Z and M are
    values Esri allows: null ordinates)."""
    if not (all(map(math.isfinite, flat[0::dim])) and all(map(math.isfinite, flat[1::dim]))):
        raise _UnreadableGeometryError(NOT_FINITE)



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
        offset = dims_offset(has_z, has_m)
        self._point_code = _LE + _pack_i(WKB_POINT + offset)
        self._line_code = _LE + _pack_i(WKB_LINESTRING + offset)
        self._poly_code = _LE + _pack_i(WKB_POLYGON + offset)
        multi_line = WKB_MULTICURVE if self.curves else WKB_MULTILINESTRING
        multi_poly = WKB_MULTISURFACE if self.curves else WKB_MULTIPOLYGON
        self._mpoint_code = _LE + _pack_i(WKB_MULTIPOINT + offset)
        self._mline_code = _LE + _pack_i(multi_line + offset)
        self._mpoly_code = _LE + _pack_i(multi_poly + offset)
        self.warnings = FeatureWarnings()
        self._position: int | None = None
        self._text_numbers = False

    # -- public ------------------------------------------------------------------------

    def decode(self, geometry: Any, position: int | None = None) -> QgsGeometry | None:
        """Return the QgsGeometry for an Esri geometry dict; None for null or empty ones.

        ``position`` (of the feature in its array, from 1) is named in the warnings."""
        self._position = position
        if not isinstance(geometry, dict) or not geometry:
            if geometry is not None and not isinstance(geometry, dict):
                self._warn(NOT_A_GEOMETRY)
            return None
        kind = self.geometry_type or guess_geometry_type(geometry)
        if kind is None:
            if not _FLAG_KEYS.issuperset(geometry):
                self._warn(NOT_A_GEOMETRY)
            return None
        self._text_numbers = False
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
        except _UnreadableGeometryError as exc:
            self._warn(str(exc))
            return None
        except (TypeError, ValueError, IndexError, KeyError, OverflowError,
                RecursionError) as exc:
            self._warn(f"A geometry could not be read ({exc.__class__.__name__}: {exc}); "
                       "the feature was kept without geometry")
            return None
        finally:
            if self._text_numbers:
                self._warn(TEXT_NUMBER)
        if wkb is None:
            other = guess_geometry_type(geometry)
            if other is None and not _FLAG_KEYS.issuperset(geometry):
                self._warn(NOT_A_GEOMETRY)
            elif other is not None and other != kind:
                self._warn(f"Some geometries are {other[12:].lower()}s in a feature set of "
                           f"{kind[12:].lower()}s: those features were kept without geometry")
            return None
        geom = QgsGeometry()
        geom.fromWkb(wkb)
        return geom

    def _warn(self, message: str) -> None:
        self.warnings.add(message, self._position)

    # -- numbers ---------------------------------------------------------------------------

    def _num(self, value: Any) -> float:
        """Return an ordinate as a float: null and "NaN" are NaN (Esri's empty values); text
        that spells a number is that number, with a warning; other text drops the geometry."""
        if value is None:
            return NAN
        if isinstance(value, str):
            if value.strip().lower() == "nan":
                return NAN
            try:
                number = float(value)
            except ValueError:
                raise _UnreadableGeometryError(TEXT_COORDINATE) from None
            self._text_numbers = True
            return number
        return float(value)

    def _xyzm(self, c: list, m_only: bool) -> tuple[float, float, float, float]:
        """Return (x, y, z, m) of one Esri coordinate (NaN where missing); three ordinates
        are x, y, m when ``m_only`` (the geometry says hasM and not hasZ), x, y, z otherwise."""
        num = self._num
        n = len(c)
        z = m = NAN
        if n >= 4:
            z, m = num(c[2]), num(c[3])
        elif n == 3:
            if m_only:
                m = num(c[2])
            else:
                z = num(c[2])
        return num(c[0]), num(c[1]), z, m

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
                    total = sum(flat)  # on the list: no float objects made, unlike the array
                except TypeError:
                    pass  # null or string ordinates: the careful path below
                else:
                    values = array("d", flat)
                    if total - total != 0.0:  # a NaN or infinity somewhere (or an overflow)
                        _check_xy(values, out_dim)
                    return values
        values = self._coords_slow(coords, layout)
        _check_xy(values, out_dim)  # the careful path: null ordinates are NaN there
        return values

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
        m_only = fm and not fz
        for c in coords:
            n = len(c)
            x, y, z, m = self._xyzm(c, m_only)
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
        x, y = self._num(g.get("x")), self._num(g.get("y"))
        if math.isnan(x) or math.isnan(y):
            return None  # null or "NaN": Esri's empty point
        if not (math.isfinite(x) and math.isfinite(y)):
            raise _UnreadableGeometryError(NOT_FINITE)
        values = [x, y]
        if self.has_z:
            values.append(self._num(g.get("z")))
        elif g.get("z") is not None:
            self._warn("Some Z or M values beyond the layer's dimensions were dropped "
                       "(the layer's dimensions come from the first features)")
        if self.has_m:
            values.append(self._num(g.get("m")))
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
        flats = [self._coords(path, layout) for path in paths]
        dim = self.out_dim
        if min(map(len, flats)) < 2 * dim:
            self._warn(ONE_POINT_PATH)
        parts = [self._mline_code, _pack_i(len(flats))]
        line_code = self._line_code
        for flat in flats:
            parts.append(line_code)
            parts.append(_pack_i(len(flat) // dim))
            parts.append(flat.tobytes())
        return b"".join(parts)

    def _envelope(self, g: dict) -> bytes | None:
        num = self._num
        xmin, ymin, xmax, ymax = (num(g.get(k)) for k in ("xmin", "ymin", "xmax", "ymax"))
        if any(math.isnan(v) for v in (xmin, ymin, xmax, ymax)):
            return None  # null or "NaN": an empty envelope
        if not all(map(math.isfinite, (xmin, ymin, xmax, ymax))):
            raise _UnreadableGeometryError(NOT_FINITE)
        corners = [(xmin, ymin), (xmin, ymax), (xmax, ymax), (xmax, ymin), (xmin, ymin)]
        flat = array("d")
        for x, y in corners:
            flat.extend((x, y))
            if self.has_z:
                flat.append(self._num(g.get("zmin")))
            if self.has_m:
                flat.append(self._num(g.get("mmin")))
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
        shortest = 4 * dim
        for ring in rings:
            flat = self._coords(ring, layout)
            if flat[0] != flat[-dim] or flat[1] != flat[-dim + 1]:
                flat.extend(flat[:dim])  # Esri rings are closed; close the ones that are not
            flats.append(flat)
            if len(flat) < shortest:
                shortest = 0
        if not shortest:
            self._warn(SHORT_RING)
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
        m_only = fm and not fz

        def xyzm(c: list) -> tuple[float, float, float, float]:
            return self._xyzm(c, m_only)

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
        flat = flat_from_wkb_line(bytes(segmented.asWkb()), self.out_dim)
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
        for _curve, flat in parts:
            _check_xy(flat, self.out_dim)
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

