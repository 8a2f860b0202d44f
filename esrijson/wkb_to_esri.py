"""Linear ISO WKB -> Esri JSON geometry, as text or dict (pure Python, no QGIS import).

The QGIS side (:mod:`esrijson.encode`) prepares a geometry (curves segmentized, polygons in
Esri orientation) and hands over ``asWkb()``; everything after that lives here, so that the
file writer's helper process (:mod:`esrijson.text_helper`) writes the very same text.
Coordinates are written with Python's shortest round-trip repr, so a round trip is exact;
NaN and infinite ordinates go out as ``null``.
"""

from __future__ import annotations

import json
import math
import struct
from array import array
from collections.abc import Callable
from typing import Any

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

LINEAR_WKB_TYPES = frozenset((WKB_POINT, WKB_LINESTRING, WKB_POLYGON, WKB_MULTIPOINT,
                              WKB_MULTILINESTRING, WKB_MULTIPOLYGON))
# the first five bytes (byte order, type code) of little-endian ISO WKB that WkbToEsri writes:
# points, lines, polygons, single or multi, in any dimensions
LINEAR_WKB_HEADS = frozenset(bytes([WKB_LITTLE_ENDIAN]) + pack_uint32(code + dims)
                             for code in LINEAR_WKB_TYPES for dims in (0, 1000, 2000, 3000))
_CACHED_SIZES = 512  # formats and unpackers kept for parts of up to this many vertices


class WkbToEsri:
    """Writes the linear WKB geometries of one layer (one Esri geometry type and dimension)."""

    def __init__(self, geometry_type: str, has_z: bool, has_m: bool) -> None:
        self.geometry_type = geometry_type
        self.has_z = bool(has_z)
        self.has_m = bool(has_m)
        self.dim = 2 + self.has_z + self.has_m
        self.flags = ('"hasZ":true,' if self.has_z else "") + ('"hasM":true,' if self.has_m
                                                               else "")
        self.point_keys = ["x", "y"] + (["z"] if self.has_z else []) + (["m"] if self.has_m
                                                                       else [])
        # text(): ISO WKB type codes in this layer's dimensions -> flat type
        offset = dims_offset(self.has_z, self.has_m)
        wanted = {POINT: (WKB_POINT,), POLYLINE: (WKB_LINESTRING, WKB_MULTILINESTRING),
                  POLYGON: (WKB_POLYGON, WKB_MULTIPOLYGON)}.get(geometry_type, ())
        self._fast_codes = {code + offset: code for code in wanted}
        self._step = 8 * self.dim
        self._formats: dict[int, str] = {}
        self._rings: dict[int, tuple[Callable, str]] = {}
        self._head = "{" + self.flags + ('"rings":[' if geometry_type == POLYGON
                                         else '"paths":[')
        self._point_text = "{" + ",".join(f'"{k}":%r' for k in self.point_keys) + "}"
        self._point_unpack = struct.Struct("<" + "d" * self.dim).unpack_from

    # -- text ------------------------------------------------------------------------------

    def text(self, wkb: bytes) -> str:
        """Return the Esri JSON text of a linear WKB geometry that is not empty (the QGIS
        side leaves empty geometries out: ``QgsGeometry.isEmpty``)."""
        return self.fast_text(wkb) or self.careful_text(wkb)

    def fast_text(self, wkb: bytes) -> str | None:
        """Return the text of linear ISO WKB in the layer's own dimensions, None when
        :meth:`careful_text` must write it: other types or dimensions, empty geometries or
        parts, NaN or infinite ordinates.

        ``struct`` unpacks each part in one call and one cached format per vertex count
        writes it (see :meth:`_ring_text`); the values are those of :meth:`careful_text`.
        """
        try:
            if wkb[0] != WKB_LITTLE_ENDIAN:
                return None
            flat_type = self._fast_codes.get(unpack_uint32(wkb, 1)[0])
            if flat_type is None:
                return None
            if flat_type == WKB_POINT:
                text = self._point_text % self._point_unpack(wkb, 5)
                return None if "n" in text else text
            if flat_type == WKB_POLYGON and unpack_uint32(wkb, 5)[0] == 1:  # one ring: usual
                n = unpack_uint32(wkb, 9)[0]
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
        # repr writes 'nan' and 'inf' only for those: the careful path makes them null
        return None if text.find("n", len(self._head)) >= 0 else text

    def careful_text(self, wkb: bytes) -> str:
        """Return the text of any linear WKB (other dimensions reshaped, NaN as null)."""
        kind, parts = self.parts(wkb)
        if kind == POINT:
            return "{" + ",".join(f'"{k}":{repr(v) if math.isfinite(v) else "null"}'
                                  for k, v in zip(self.point_keys, parts)) + "}"
        if kind == MULTIPOINT:
            flat = array("d")
            for p in parts:
                flat.extend(p)
            return "{" + self.flags + '"points":' + self._coords_text(flat) + "}"
        key = '"paths":[' if kind == POLYLINE else '"rings":['
        return "{" + self.flags + key + ",".join(map(self._coords_text, parts)) + "]}"

    def _wkb_parts(self, wkb: bytes, flat_type: int) -> list[str] | None:
        """Return the coordinate texts of the paths or rings of a linear WKB (line, polygon
        and their multi types), None when a path or ring is empty or a part has other
        dimensions."""
        count = unpack_uint32(wkb, 5)[0]
        multi = flat_type in (WKB_MULTILINESTRING, WKB_MULTIPOLYGON)
        # a multi type code minus 3 is the code of its parts (5 -> 2, 6 -> 3, same dimensions)
        part_code = pack_uint32(unpack_uint32(wkb, 1)[0] - 3) if multi else b""
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
                members = unpack_uint32(wkb, pos)[0]
                pos += 4
            else:
                members = 1
            for _ in range(members):
                n = unpack_uint32(wkb, pos)[0]
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
        if n <= _CACHED_SIZES:
            self._rings[n] = entry
        return entry

    def _format(self, n: int) -> str:
        fmt = self._formats.get(n)
        if fmt is None:
            point = "[" + ",".join(["%r"] * self.dim) + "]"
            fmt = "[" + ",".join([point] * n) + "]"
            if n <= _CACHED_SIZES:
                self._formats[n] = fmt
        return fmt

    def _coords_text(self, flat: array) -> str:
        text = self._format(len(flat) // self.dim) % tuple(flat)
        if "n" in text:  # repr gives 'nan'/'inf' for those only: they go out as null
            return json.dumps(_pairs(flat, self.dim), separators=(",", ":"))
        return text

    # -- parts and dicts -------------------------------------------------------------------

    def parts(self, wkb: bytes) -> tuple[str, Any]:
        """Return (Esri geometry type, parts as flat arrays in the layer's dimensions)."""
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

    def as_dict(self, wkb: bytes) -> dict:
        """Return the Esri JSON geometry dict of a linear WKB geometry."""
        kind, parts = self.parts(wkb)
        out: dict[str, Any] = {}
        if kind == POINT:
            for k, v in zip(self.point_keys, parts):
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


def _pairs(flat: array, dim: int) -> list:
    values = [v if math.isfinite(v) else None for v in flat]
    return [values[i:i + dim] for i in range(0, len(values), dim)]
