"""Esri JSON geometry dicts -> ISO WKB of one layer type (pure Python, no QGIS import).

Decoding builds ISO WKB directly from the coordinate arrays (``array('d')``); the QGIS side
(:mod:`esrijson.decode`) hands it to ``QgsGeometry.fromWkb`` and builds curves, which need
QGIS classes. Rings are grouped into polygons by :mod:`esrijson.rings`. Malformed geometries
are dropped or kept with a warning counted in :class:`FeatureWarnings` (see README.md).
"""

from __future__ import annotations

import math
from array import array
from itertools import chain
from typing import Any

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
from .wkb import pack_uint32

NAN = float("nan")
CURVED = "curved"  # what EsriToWkb.to_wkb returns for curvePaths/curveRings: QGIS builds them

_pack_i = pack_uint32
_ONE = _pack_i(1)
_LE = b"\x01"  # little-endian byte order mark of each WKB geometry


class FeatureWarnings:
    """Warnings counted by message, each with the positions of its first features."""

    SHOWN = 5

    def __init__(self) -> None:
        self._seen: dict[str, tuple[list[int], list[int]]] = {}
        self.count = 0  # warnings added, all messages together

    def add(self, message: str, position: int | None) -> None:
        """Count one feature (by its position in the features array, from 1) for a message."""
        self.count += 1
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



class EsriToWkb:
    """Decodes Esri geometry dicts of one feature set into ISO WKB of one fixed type."""

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
        self._builders = {POINT: self._point, MULTIPOINT: self._multipoint,
                          POLYLINE: self._polyline, POLYGON: self._polygon,
                          ENVELOPE: self._envelope}

    # -- public ------------------------------------------------------------------------

    def to_wkb(self, geometry: Any, position: int | None = None) -> bytes | str | None:
        """Return the ISO WKB of an Esri geometry dict, None for null, empty or dropped ones
        (with a warning when dropped), :data:`CURVED` for curves (the QGIS side builds those).

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
        if (kind == POLYLINE and geometry.get("curvePaths")) or \
                (kind == POLYGON and geometry.get("curveRings")):
            return CURVED
        wkb = self._guarded(self._builders[kind], geometry)
        if wkb is None:
            other = guess_geometry_type(geometry)
            if other is None and not _FLAG_KEYS.issuperset(geometry):
                self._warn(NOT_A_GEOMETRY)
            elif other is not None and other != kind:
                self._warn(f"Some geometries are {other[12:].lower()}s in a feature set of "
                           f"{kind[12:].lower()}s: those features were kept without geometry")
        return wkb

    def _guarded(self, build: Any, geometry: dict) -> Any:
        """Return ``build(geometry)``, None (with a warning) when the geometry is unreadable;
        numbers written as text are counted once per geometry."""
        self._text_numbers = False
        try:
            return build(geometry)
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
