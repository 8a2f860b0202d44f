"""Linear ISO WKB -> flat coordinate arrays (``array('d')``), pure Python.

QGIS hands geometries out as little-endian ISO WKB (``QgsGeometry.asWkb``); the encoder reads
them here in bulk (``array.frombytes``) rather than vertex by vertex through PyQGIS.
"""

from __future__ import annotations

import struct
from array import array
from typing import Any

from .codes import (
    EWKB_M_FLAG,
    EWKB_TYPE_MASK,
    EWKB_Z_FLAG,
    WKB_LINESTRING,
    WKB_LITTLE_ENDIAN,
    WKB_MULTILINESTRING,
    WKB_MULTIPOINT,
    WKB_MULTIPOLYGON,
    WKB_POINT,
    WKB_POLYGON,
)

NAN = float("nan")
pack_uint32 = struct.Struct("<I").pack
unpack_uint32 = struct.Struct("<I").unpack_from


def wkb_dims(code: int) -> tuple[int, bool, bool]:
    """Return (flat type, z, m) of an ISO or extended WKB type code."""
    z = bool(code & EWKB_Z_FLAG)
    m = bool(code & EWKB_M_FLAG)
    code &= EWKB_TYPE_MASK
    thousands = code // 1000
    if thousands in (1, 3):
        z = True
    if thousands in (2, 3):
        m = True
    return code % 1000, z, m


class WkbParser:
    """Reads linear ISO WKB into flat coordinate arrays."""

    __slots__ = ("wkb", "pos")

    def __init__(self, wkb: bytes) -> None:
        self.wkb = wkb
        self.pos = 0

    def header(self) -> tuple[int, bool, bool]:
        """Return (flat type, z, m) of the geometry at the current position."""
        if self.wkb[self.pos] != WKB_LITTLE_ENDIAN:
            raise ValueError("big-endian WKB is not expected from QGIS")
        code = unpack_uint32(self.wkb, self.pos + 1)[0]
        self.pos += 5
        return wkb_dims(code)

    def count(self) -> int:
        """Return the next 32-bit count."""
        n = unpack_uint32(self.wkb, self.pos)[0]
        self.pos += 4
        return n

    def coords(self, n: int, dim: int) -> array:
        """Return the next ``n`` vertices of ``dim`` ordinates as one flat array."""
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
        if flat_type == WKB_POINT:
            return flat_type, z, m, self.coords(1, dim)
        if flat_type == WKB_LINESTRING:
            return flat_type, z, m, self.coords(self.count(), dim)
        if flat_type == WKB_POLYGON:
            return flat_type, z, m, [self.coords(self.count(), dim) for _ in range(self.count())]
        if flat_type in (WKB_MULTIPOINT, WKB_MULTILINESTRING, WKB_MULTIPOLYGON):
            return flat_type, z, m, [self.geometry()[3] for _ in range(self.count())]
        raise ValueError(f"unexpected WKB geometry type {flat_type}")


def parse_linear(wkb: bytes) -> tuple[int, bool, bool, Any]:
    """Fast path of :class:`WkbParser` for the common linear types (one function, no object);
    lines and polygons come back as lists of flat arrays, multi-polygons as nested lists."""
    flat_type, z, m = wkb_dims(unpack_uint32(wkb, 1)[0])
    if flat_type not in (WKB_LINESTRING, WKB_POLYGON, WKB_MULTILINESTRING, WKB_MULTIPOLYGON):
        return WkbParser(wkb).geometry()
    step = 8 * (2 + z + m)
    view = memoryview(wkb)
    unpack = unpack_uint32
    if flat_type == WKB_LINESTRING:
        n = unpack(wkb, 5)[0]
        flat = array("d")
        flat.frombytes(view[9:9 + step * n])
        return flat_type, z, m, flat
    if flat_type == WKB_POLYGON:
        polygons, pos = 1, 0  # a polygon parses like one part of a multipolygon
    else:
        polygons, pos = unpack(wkb, 5)[0], 9
    parts = []
    for _ in range(polygons):
        if flat_type == WKB_MULTILINESTRING:
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
        parts.append(rings[0] if flat_type == WKB_MULTILINESTRING else rings)
    return flat_type, z, m, parts[0] if flat_type == WKB_POLYGON else parts


def flat_from_wkb_line(wkb: bytes, out_dim: int) -> array:
    """Return the flat coordinates of a LineString WKB in ``out_dim`` ordinates (missing ones
    NaN, extra ones dropped)."""
    _flat_type, z, m = wkb_dims(unpack_uint32(wkb, 1)[0])
    in_dim = 2 + z + m
    n = unpack_uint32(wkb, 5)[0]
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


def reshape(parts: Any, zm_in: tuple[bool, bool], zm_out: tuple[bool, bool]) -> Any:
    """Convert (nested lists of) coordinate arrays between Z/M layouts: missing ordinates
    become NaN."""
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
