"""Layer -> Esri JSON -> layer, lossless for every geometry type, Z/M and field type."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from qgis.core import (
    NULL,
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeedback,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsMemoryProviderUtils,
    QgsPoint,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QDate, QDateTime, Qt, QTime

from arcgis_gp.esrijson import reader, writer
from arcgis_gp.esrijson.qtypes import FieldType
from arcgis_gp.esrijson.rings import signed_area
from tests.qgis.esrijson.helpers import vertices

pytestmark = pytest.mark.timeout(120)

BASE_WKT = {
    "Point": ["Point (1.5 2.25)", "Point (-179.999999999 89.123456789012)"],
    "MultiPoint": ["MultiPoint ((1 2),(3 4),(5 6))", "MultiPoint ((0.1 0.2))"],
    "LineString": ["LineString (0 0, 1 1, 2 0.5)", "LineString (10 10, 11 12)"],
    "MultiLineString": ["MultiLineString ((0 0, 1 1),(2 2, 3 3, 4 2))",
                        "MultiLineString ((5 5, 6 6))"],
    "Polygon": ["Polygon ((0 0, 10 0, 10 10, 0 10, 0 0),(2 2, 2 4, 4 4, 4 2, 2 2))",
                "Polygon ((20 20, 20 25, 25 25, 20 20))"],
    "MultiPolygon": ["MultiPolygon (((0 0, 10 0, 10 10, 0 10, 0 0),(2 2, 2 4, 4 4, 4 2, 2 2),"
                     "(6 6, 6 8, 8 8, 6 6)),((20 0, 30 0, 30 10, 20 0)),"
                     "((3 3, 3.5 3, 3.5 3.5, 3 3)))",
                     "MultiPolygon (((100 100, 100 101, 101 101, 100 100)))"],
}
DIMS = ["", "Z", "M", "ZM"]


def _with_dims(wkt: str, dims: str) -> QgsGeometry:
    """Add Z and/or M ordinates (distinct per vertex, some M NaN) to a 2D WKT geometry."""
    counter = iter(range(10_000))

    def extra(match: re.Match) -> str:
        n = next(counter)
        text = match.group(0)
        if "Z" in dims:
            text += f" {0.5 * n - 3}"
        if "M" in dims:
            text += f" {1000 + n}" if n % 3 else " -999"
        return text

    keyword, rest = wkt.split(" ", 1)
    geometry = QgsGeometry.fromWkt(keyword + dims + " " +
                                   re.sub(r"-?[\d.]+ -?[\d.]+", extra, rest))
    assert not geometry.isNull(), wkt
    for n, vertex in enumerate(list(geometry.vertices())):
        if "M" in dims and vertex.m() == -999:
            vertex.setM(math.nan)  # some M values missing, as servers send them (null)
            _ok, vertex_id = geometry.vertexIdFromVertexNr(n)
            assert geometry.get().moveVertex(vertex_id, vertex)
    return geometry


FIELD_SPECS = [
    ("int_f", FieldType.Int, 0, [0, -2147483647, 2147483647]),
    ("long_f", FieldType.LongLong, 0, [2**62, -(2**53), 7]),
    ("double_f", FieldType.Double, 0, [0.1, -1e-300, 1.7976931348623157e308]),
    ("text_f", FieldType.String, 40, ["", "ünïcödé ✓ \"q\" \\ \n", "x" * 40]),
    ("date_f", FieldType.DateTime, 0, [QDateTime(QDate(1969, 7, 20), QTime(20, 17, 40, 123),
                                                Qt.TimeSpec.UTC),
                                      QDateTime(QDate(2038, 1, 19), QTime(3, 14, 8),
                                                Qt.TimeSpec.UTC),
                                      QDateTime(QDate(1, 1, 1), QTime(0, 0), Qt.TimeSpec.UTC)]),
]


def _layer(kind: str, dims: str, crs: str = "EPSG:32631") -> QgsVectorLayer:
    wkb_type = QgsWkbTypes.parseType(kind + dims)
    fields = QgsFields()
    for name, qtype, length, _values in FIELD_SPECS:
        fields.append(QgsField(name, qtype, len=length))
    layer = QgsMemoryProviderUtils.createMemoryLayer(f"{kind}{dims}", fields, wkb_type,
                                                     QgsCoordinateReferenceSystem(crs))
    features = []
    for row in range(3):
        feature = QgsFeature(layer.fields())
        feature.setAttributes([spec[3][row] for spec in FIELD_SPECS])
        if row < 2:
            feature.setGeometry(_with_dims(BASE_WKT[kind][row], dims))
        features.append(feature)
    nulls = QgsFeature(layer.fields())
    nulls.setAttributes([None] * len(FIELD_SPECS))
    nulls.setGeometry(_with_dims(BASE_WKT[kind][0], dims))
    features.append(nulls)
    assert layer.dataProvider().addFeatures(features)[0]
    assert layer.featureCount() == 4
    return layer


def _assert_same(layer: QgsVectorLayer, decoded: reader.DecodedFeatureSet) -> None:
    source_type = layer.wkbType()
    assert QgsWkbTypes.hasZ(decoded.wkb_type) == QgsWkbTypes.hasZ(source_type)
    assert QgsWkbTypes.hasM(decoded.wkb_type) == QgsWkbTypes.hasM(source_type)
    assert QgsWkbTypes.flatType(decoded.wkb_type) in (
        QgsWkbTypes.flatType(source_type), QgsWkbTypes.flatType(QgsWkbTypes.multiType(
            source_type)))
    assert decoded.crs == layer.crs()
    assert decoded.fields.names() == layer.fields().names()
    for field in layer.fields():
        back = decoded.fields.field(field.name())
        assert back.type() in (field.type(), FieldType.Int, FieldType.LongLong), field.name()
        assert back.length() == field.length()
    ours = list(layer.getFeatures())
    theirs = list(decoded.features())
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        assert [_value(v) for v in a.attributes()] == [_value(v) for v in b.attributes()]
        if not a.hasGeometry():
            assert not b.hasGeometry()
            continue
        assert b.geometry().isGeosEqual(a.geometry())
        assert vertices(b.geometry()) == vertices(a.geometry())


def _value(value: Any) -> Any:
    if value is None or value == NULL:
        return None
    if isinstance(value, QDateTime):
        return value.toMSecsSinceEpoch()
    return value


@pytest.mark.parametrize("dims", DIMS)
@pytest.mark.parametrize("kind", list(BASE_WKT))
def test_round_trip_through_a_file(tmp_path: Path, kind: str, dims: str) -> None:
    """Streamed writer -> streamed reader: same geometries (incl. Z/M), attributes, CRS."""
    layer = _layer(kind, dims)
    path = tmp_path / "out.json"
    assert writer.write_feature_set_file(layer, path) == 4
    doc = json.loads(path.read_text(encoding="utf-8"))  # strict JSON
    assert doc["hasZ"] == ("Z" in dims) and doc["hasM"] == ("M" in dims)
    _assert_same(layer, reader.read_file(path))


@pytest.mark.parametrize("dims", DIMS)
@pytest.mark.parametrize("kind", list(BASE_WKT))
def test_round_trip_through_a_dict(kind: str, dims: str) -> None:
    """source_to_feature_set -> JSON text -> read_feature_set: the same, and the dict equals
    the streamed file."""
    layer = _layer(kind, dims)
    doc = writer.source_to_feature_set(layer)
    _assert_same(layer, reader.read_feature_set(json.loads(json.dumps(doc))))


def test_dict_and_file_writers_agree(tmp_path: Path) -> None:
    """The two writers produce the same document."""
    layer = _layer("MultiPolygon", "ZM")
    path = tmp_path / "out.json"
    writer.write_feature_set_file(layer, path)
    from_file = json.loads(path.read_text(encoding="utf-8"))
    from_dict = json.loads(json.dumps(writer.source_to_feature_set(layer)))
    assert from_file == from_dict


def test_ring_orientation_is_esri(tmp_path: Path) -> None:
    """Outer rings clockwise, holes counter-clockwise, whatever the source had."""
    from array import array

    layer = QgsVectorLayer("Polygon?crs=EPSG:4326", "p", "memory")
    feature = QgsFeature()
    # counter-clockwise outer, clockwise hole: the reverse of Esri's convention
    feature.setGeometry(QgsGeometry.fromWkt(
        "Polygon ((0 0, 10 0, 10 10, 0 10, 0 0),(2 2, 2 4, 4 4, 4 2, 2 2))"))
    layer.dataProvider().addFeatures([feature])
    path = tmp_path / "o.json"
    writer.write_feature_set_file(layer, path)
    outer, hole = json.loads(path.read_text())["features"][0]["geometry"]["rings"]
    assert signed_area(array("d", [c for p in outer for c in p]), 2) < 0
    assert signed_area(array("d", [c for p in hole for c in p]), 2) > 0


def test_nan_and_null_values_are_null(tmp_path: Path) -> None:
    """NaN doubles and NaN M values are written as null (the file stays strict JSON)."""
    layer = QgsVectorLayer("PointM?crs=EPSG:4326&field=d:double", "p", "memory")
    feature = QgsFeature(layer.fields())
    feature.setAttributes([math.nan])
    feature.setGeometry(QgsGeometry(QgsPoint(1, 2, math.nan, math.nan, QgsWkbTypes.Type.PointM)))
    empty = QgsFeature(layer.fields())
    empty.setAttributes([None])
    layer.dataProvider().addFeatures([feature, empty])
    path = tmp_path / "nan.json"
    writer.write_feature_set_file(layer, path)
    doc = json.loads(path.read_text(), parse_constant=lambda c: pytest.fail(f"{c} in JSON"))
    assert doc["features"][0] == {"attributes": {"d": None},
                                  "geometry": {"x": 1.0, "y": 2.0, "m": None}}
    assert doc["features"][1] == {"attributes": {"d": None}}


def test_feature_collection_shape(tmp_path: Path) -> None:
    """The FeatureCollection shape: layerDefinition with an OID field, featureSet."""
    layer = _layer("Polygon", "Z")
    path = tmp_path / "fc.json"
    writer.write_feature_set_file(layer, path, shape="FeatureCollection")
    doc = json.loads(path.read_text())
    assert set(doc) == {"layerDefinition", "featureSet"}
    definition = doc["layerDefinition"]
    assert definition["objectIdField"] == "OBJECTID"
    assert definition["fields"][0] == {"name": "OBJECTID", "type": "esriFieldTypeOID",
                                       "alias": "OBJECTID"}
    assert [f["attributes"]["OBJECTID"] for f in doc["featureSet"]["features"]] == [1, 2, 3, 4]
    assert doc == json.loads(json.dumps(writer.source_to_feature_set(
        layer, shape="FeatureCollection")))
    decoded = reader.read_file(path)
    assert decoded.shape == "FeatureCollection"
    assert decoded.fields.names() == ["OBJECTID"] + layer.fields().names()
    assert decoded.wkb_type == QgsWkbTypes.Type.MultiPolygonZ


def test_selected_features_only() -> None:
    """Only the selection, when asked; a plain source cannot be asked."""
    layer = _layer("Point", "")
    ids = [f.id() for f in layer.getFeatures()]
    layer.selectByIds(ids[1:3])
    doc = writer.source_to_feature_set(layer, selected_only=True)
    assert sorted(f["attributes"]["int_f"] for f in doc["features"]) == [-2147483647,
                                                                         2147483647]
    assert len(writer.source_to_feature_set(layer)["features"]) == 4
    with pytest.raises(ValueError, match="needs a QgsVectorLayer"):
        writer.source_to_feature_set(layer.dataProvider(), selected_only=True)


def test_curves_segmentized_or_kept(tmp_path: Path) -> None:
    """Curves go out as vertices by default, as curveRings with keep_curves."""
    layer = QgsVectorLayer("CurvePolygon?crs=EPSG:3857", "c", "memory")
    feature = QgsFeature()
    wkt = ("CurvePolygon (CompoundCurve (CircularString (0 0, 5 5, 10 0),(10 0, 0 0)),"
           "CircularString (4 1, 5 2, 6 1, 5 0, 4 1))")
    feature.setGeometry(QgsGeometry.fromWkt(wkt))
    layer.dataProvider().addFeatures([feature])
    plain = writer.source_to_feature_set(layer)
    rings = plain["features"][0]["geometry"]["rings"]
    assert len(rings) == 2 and len(rings[0]) > 20
    kept = writer.source_to_feature_set(layer, keep_curves=True)
    curve_rings = kept["features"][0]["geometry"]["curveRings"]
    assert any(isinstance(item, dict) for item in curve_rings[0])
    for doc in (plain, kept):
        path = tmp_path / "curve.json"
        path.write_text(json.dumps(doc))
        (back,) = reader.read_file(path).features()
        assert back.geometry().area() == pytest.approx(feature.geometry().area(), rel=1e-3)
    (back,) = reader.read_feature_set(kept).features()
    assert QgsWkbTypes.isCurvedType(back.geometry().wkbType())


def test_geometry_collections_are_refused() -> None:
    """Esri JSON has no geometry collection: a clear error, before anything is written."""
    layer = QgsVectorLayer("GeometryCollection?crs=EPSG:4326", "gc", "memory")
    with pytest.raises(ValueError, match="no geometry collections"):
        writer.source_to_feature_set(layer)


def test_cancel_leaves_valid_json(tmp_path: Path) -> None:
    """Cancelled after the first thousand features: a valid, shorter file."""
    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=n:integer", "many", "memory")
    features = []
    for n in range(3000):
        feature = QgsFeature(layer.fields())
        feature.setAttributes([n])
        feature.setGeometry(QgsGeometry.fromWkt(f"Point ({n} 0)"))
        features.append(feature)
    layer.dataProvider().addFeatures(features)

    class CancelAfterFirstCheck(QgsFeedback):
        def isCanceled(self) -> bool:  # noqa: N802 - QGIS API name
            return True

    path = tmp_path / "partial.json"
    count = writer.write_feature_set_file(layer, path, feedback=CancelAfterFirstCheck())
    doc = json.loads(path.read_text())
    assert count == len(doc["features"]) == 999
