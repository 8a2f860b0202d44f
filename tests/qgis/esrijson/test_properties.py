"""Property-based tests (hypothesis): random geometries, holes, attributes and nulls."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qgis.core import (
    NULL,
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsMemoryProviderUtils,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QDateTime, Qt

from arcgis_gp.esrijson import reader, writer
from arcgis_gp.esrijson.qtypes import FieldType
from tests.qgis.esrijson.helpers import vertices

pytestmark = pytest.mark.timeout(300)

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

coordinate = st.floats(min_value=-1e7, max_value=1e7, allow_nan=False, allow_infinity=False)


def _star(cx: float, cy: float, radii: list[float], clockwise: bool) -> list[list[float]]:
    """A simple (star-shaped, so never self-crossing) closed ring around (cx, cy)."""
    n = len(radii)
    ring = []
    for k, r in enumerate(radii):
        angle = 2 * math.pi * k / n * (-1 if clockwise else 1)
        ring.append([cx + r * math.cos(angle), cy + r * math.sin(angle)])
    ring.append(list(ring[0]))
    return ring


@st.composite
def polygon_sets(draw: Any) -> tuple[list, list[tuple[int, int]]]:
    """Rings of 1-3 polygons on a grid, each with 0-3 holes (and maybe an island in a
    hole), shuffled and with random orientations. Returns (rings, [(holes, islands)])."""
    rings: list = []
    layout = []
    for p in range(draw(st.integers(1, 3))):
        cx, cy = p * 100.0, draw(st.floats(-50, 50))
        rings.append(_star(cx, cy, draw(st.lists(st.floats(40, 45), min_size=8, max_size=16)),
                           draw(st.booleans())))
        holes = draw(st.integers(0, 3))
        islands = 0
        for h in range(holes):
            hx, hy = cx - 15 + h * 15, cy
            rings.append(_star(hx, hy, draw(st.lists(st.floats(5, 6), min_size=4,
                                                      max_size=8)), draw(st.booleans())))
            if draw(st.booleans()):
                rings.append(_star(hx, hy, [1.5, 1.5, 1.5, 1.5], draw(st.booleans())))
                islands += 1
        layout.append((holes, islands))
    order = draw(st.permutations(range(len(rings))))
    return [rings[i] for i in order], layout


@SETTINGS
@given(polygon_sets())
def test_random_rings_find_their_polygons(data: tuple) -> None:
    """Whatever the order and orientation: one polygon per outer ring and per island, each
    hole in its outer, and the result is a valid geometry covering the same area."""
    rings, layout = data
    doc = {"geometryType": "esriGeometryPolygon", "fields": [],
           "features": [{"geometry": {"rings": rings}}]}
    (feature,) = reader.read_feature_set(doc).features()
    geometry = feature.geometry()
    assert geometry.isGeosValid()
    collection = geometry.constGet()
    expected_polygons = sum(1 + islands for _holes, islands in layout)
    assert collection.numGeometries() == expected_polygons
    holes = sorted(collection.geometryN(i).numInteriorRings()
                   for i in range(collection.numGeometries()))
    assert sum(holes) == sum(h for h, _ in layout)
    # the area is the even-odd area of all rings
    assert geometry.area() == pytest.approx(_even_odd_area(rings), rel=1e-9)


def _xy(point: list) -> Any:
    from qgis.core import QgsPointXY

    return QgsPointXY(point[0], point[1])


def _even_odd_area(rings: list) -> float:
    """Area by nesting depth: outers and islands add, holes subtract (independent of ours)."""
    polygons = [QgsGeometry.fromPolygonXY([[_xy(p) for p in r]]) for r in rings]
    total = 0.0
    for i, polygon in enumerate(polygons):
        depth = sum(1 for j, other in enumerate(polygons)
                    if j != i and other.area() > polygon.area() and other.contains(
                        polygon.pointOnSurface()))
        total += polygon.area() * (1 if depth % 2 == 0 else -1)
    return total


# -- random layers through a file -------------------------------------------------------------

attribute_rows = st.lists(st.tuples(
    st.one_of(st.none(), st.integers(-2**31 + 1, 2**31 - 1)),
    st.one_of(st.none(), st.integers(-2**63 + 1, 2**63 - 1)),
    st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
    st.one_of(st.none(), st.text(max_size=30).filter(lambda s: "\x00" not in s)),
    st.one_of(st.none(), st.integers(-62135596800000, 253402300799000)),
), min_size=1, max_size=8)


@st.composite
def geometries(draw: Any, kind: str, z: bool, m: bool) -> QgsGeometry | None:
    if draw(st.integers(0, 9)) == 0:
        return None

    def point() -> str:
        values = [draw(coordinate), draw(coordinate)]
        if z:
            values.append(draw(coordinate))
        if m:
            values.append(draw(st.floats(-1e6, 1e6)))
        return " ".join(repr(v) for v in values)

    dims = ("Z" if z else "") + ("M" if m else "")
    if kind == "Point":
        wkt = f"Point{dims} ({point()})"
    elif kind == "MultiPoint":
        wkt = f"MultiPoint{dims} (" + ",".join(
            f"({point()})" for _ in range(draw(st.integers(1, 4)))) + ")"
    elif kind == "MultiLineString":
        wkt = f"MultiLineString{dims} (" + ",".join(
            "(" + ",".join(point() for _ in range(draw(st.integers(2, 6)))) + ")"
            for _ in range(draw(st.integers(1, 3)))) + ")"
    else:
        rings, _ = draw(polygon_sets())
        built = reader.read_feature_set({"geometryType": "esriGeometryPolygon", "fields": [],
                                         "features": [{"geometry": {"rings": rings}}]})
        geometry = next(iter(built.features())).geometry()
        if z:
            geometry.get().addZValue(draw(coordinate))
        if m:
            geometry.get().addMValue(draw(st.floats(-1e6, 1e6)))
        return geometry
    geometry = QgsGeometry.fromWkt(wkt)
    assert not geometry.isNull(), wkt
    return geometry


@st.composite
def layers(draw: Any) -> Any:
    kind = draw(st.sampled_from(["Point", "MultiPoint", "MultiLineString", "MultiPolygon"]))
    z, m = draw(st.booleans()), draw(st.booleans())
    wkb_type = QgsWkbTypes.parseType(kind + ("Z" if z else "") + ("M" if m else ""))
    fields = QgsFields()
    for name, qtype in [("i", FieldType.Int), ("big", FieldType.LongLong),
                        ("d", FieldType.Double), ("s", FieldType.String),
                        ("t", FieldType.DateTime)]:
        fields.append(QgsField(name, qtype))
    layer = QgsMemoryProviderUtils.createMemoryLayer("random", fields, wkb_type,
                                                     QgsCoordinateReferenceSystem("EPSG:3857"))
    features = []
    for row in draw(attribute_rows):
        feature = QgsFeature(layer.fields())
        values = list(row)
        if values[4] is not None:
            values[4] = QDateTime.fromMSecsSinceEpoch(values[4], Qt.TimeSpec.UTC)
        feature.setAttributes(values)
        geometry = draw(geometries(kind, z, m))
        if geometry is not None:
            feature.setGeometry(geometry)
        features.append(feature)
    assert layer.dataProvider().addFeatures(features)[0]
    return layer


def _plain(value: Any) -> Any:
    if value is None or value == NULL:
        return None
    if isinstance(value, QDateTime):
        return value.toMSecsSinceEpoch()
    return value


@SETTINGS
@given(layers(), st.sampled_from([7, 64, 1 << 20]))
def test_random_layers_round_trip(tmp_path: Path, layer: Any, chunk: int) -> None:
    """Any layer written to a file and streamed back (any chunk size) is the same layer."""
    path = tmp_path / "random.json"
    count = writer.write_feature_set_file(layer, path)
    assert count == layer.featureCount()
    json.loads(path.read_text(encoding="utf-8"))  # strict JSON
    decoded = reader.read_file(path, chunk_chars=chunk, sample_size=3)
    back = list(decoded.features())
    assert len(back) == count
    assert QgsWkbTypes.hasZ(decoded.wkb_type) == QgsWkbTypes.hasZ(layer.wkbType()) or \
        not any(f.hasGeometry() for f in back[:3])
    for original, copy in zip(layer.getFeatures(), back):
        assert [_plain(v) for v in original.attributes()] == \
            [_plain(v) for v in copy.attributes()]
        assert original.hasGeometry() == copy.hasGeometry()
        if original.hasGeometry():
            assert copy.geometry().isGeosEqual(original.geometry()) or \
                vertices(copy.geometry()) == vertices(original.geometry())
            if QgsWkbTypes.hasZ(decoded.wkb_type) == QgsWkbTypes.hasZ(layer.wkbType()) and \
               QgsWkbTypes.hasM(decoded.wkb_type) == QgsWkbTypes.hasM(layer.wkbType()):
                assert vertices(copy.geometry()) == vertices(original.geometry())


@SETTINGS
@given(layers(), st.integers(0, 4))
def test_formatting_does_not_matter(tmp_path: Path, layer: Any, indent: int) -> None:
    """Pretty-printed or compact, streamed or whole: the same features."""
    doc = writer.source_to_feature_set(layer)
    path = tmp_path / "pretty.json"
    path.write_text(json.dumps(doc, indent=indent or None, ensure_ascii=bool(indent % 2)),
                    encoding="utf-8")
    whole = [(f.attributes(), f.geometry().asWkb() if f.hasGeometry() else None)
             for f in reader.read_feature_set(doc).features()]
    streamed = [(f.attributes(), f.geometry().asWkb() if f.hasGeometry() else None)
                for f in reader.read_file(path, chunk_chars=13, sample_size=len(whole) + 1)
                .features()]
    assert streamed == whole
