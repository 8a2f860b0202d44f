"""Esri fields and spatial references, both ways."""

from __future__ import annotations

import json
from typing import Any

import pytest
from qgis.core import (
    NULL,
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsField,
    QgsMemoryProviderUtils,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QByteArray, QDate, QDateTime, Qt, QTime

from arcgis_gp.esrijson import reader, writer
from arcgis_gp.esrijson.qtypes import FieldType
from arcgis_gp.esrijson.spatialref import SpatialReferenceDecoder, encode_spatial_reference

pytestmark = pytest.mark.timeout(60)

ALL_TYPES = [
    ("oid", "esriFieldTypeOID", 7, FieldType.LongLong, 7),
    ("small", "esriFieldTypeSmallInteger", -32768, FieldType.Int, -32768),
    ("int", "esriFieldTypeInteger", 2147483647, FieldType.Int, 2147483647),
    ("big", "esriFieldTypeBigInteger", 2**53 + 1, FieldType.LongLong, 2**53 + 1),
    ("single", "esriFieldTypeSingle", 1.5, FieldType.Double, 1.5),
    ("double", "esriFieldTypeDouble", 0.1, FieldType.Double, 0.1),
    ("text", "esriFieldTypeString", "héllo \"wörld\"", FieldType.String, "héllo \"wörld\""),
    ("date", "esriFieldTypeDate", -2208988800000, FieldType.DateTime,
     QDateTime(QDate(1900, 1, 1), QTime(0, 0), Qt.TimeSpec.UTC)),
    ("guid", "esriFieldTypeGUID", "{478A59A5-65DB-47A0-84F2-685C611B2BB0}", FieldType.String,
     "{478A59A5-65DB-47A0-84F2-685C611B2BB0}"),
    ("gid", "esriFieldTypeGlobalID", "{8E69C614-B8A7-4632-83F8-E96E12FE937E}", FieldType.String,
     "{8E69C614-B8A7-4632-83F8-E96E12FE937E}"),
    ("xml", "esriFieldTypeXML", "<a>1</a>", FieldType.String, "<a>1</a>"),
    ("donly", "esriFieldTypeDateOnly", "2024-02-29", FieldType.Date, QDate(2024, 2, 29)),
    ("tonly", "esriFieldTypeTimeOnly", "13:45:10", FieldType.Time, QTime(13, 45, 10)),
    ("tso", "esriFieldTypeTimestampOffset", "2024-01-02T03:04:05+02:00", FieldType.DateTime,
     QDateTime(QDate(2024, 1, 2), QTime(1, 4, 5), Qt.TimeSpec.UTC)),
]


def _doc(fields: list, attributes: list) -> dict:
    return {"geometryType": "esriGeometryPoint", "spatialReference": {"wkid": 4326},
            "fields": fields,
            "features": [{"attributes": a, "geometry": {"x": 1, "y": 2}} for a in attributes]}


def test_every_esri_field_type_is_read() -> None:
    """Each Esri type gets its QGIS type, value, length and remembers the Esri type."""
    fields = [{"name": n, "type": t, "alias": n.upper()} for n, t, *_ in ALL_TYPES]
    fields[6]["length"] = 80
    decoded = reader.read_feature_set(_doc(fields, [{n: v for n, _, v, *_ in ALL_TYPES},
                                                    {n: None for n, *_ in ALL_TYPES}]))
    first, nulls = list(decoded.features())
    for name, esri_type, _value, qtype, expected in ALL_TYPES:
        field = decoded.fields.field(name)
        assert field.type() == qtype, name
        assert field.typeName() == esri_type
        assert field.alias() == name.upper()
        assert first[name] == expected, name
        assert nulls[name] == NULL, name
    assert decoded.fields.field("text").length() == 80
    assert decoded.fields.field("guid").length() == 38
    assert decoded.object_id_field == "oid"
    assert first.id() == 7


@pytest.mark.parametrize("ms,expected", [
    (0, QDateTime(QDate(1970, 1, 1), QTime(0, 0), Qt.TimeSpec.UTC)),
    (-1, QDateTime(QDate(1969, 12, 31), QTime(23, 59, 59, 999), Qt.TimeSpec.UTC)),
    (-62135596800000, QDateTime(QDate(1, 1, 1), QTime(0, 0), Qt.TimeSpec.UTC)),
    (1640908800000.0, QDateTime(QDate(2021, 12, 31), QTime(0, 0), Qt.TimeSpec.UTC)),
    ("1640908800000", QDateTime(QDate(2021, 12, 31), QTime(0, 0), Qt.TimeSpec.UTC)),
    ("2021-12-31T00:00:00Z", QDateTime(QDate(2021, 12, 31), QTime(0, 0), Qt.TimeSpec.UTC)),
    ("not a date", NULL),
])
def test_dates_are_milliseconds_utc(ms: Any, expected: Any) -> None:
    """Esri dates: ms since 1970 UTC (before 1970 negative); numeric or ISO text tolerated."""
    decoded = reader.read_feature_set(_doc([{"name": "d", "type": "esriFieldTypeDate"}],
                                           [{"d": ms}]))
    (feature,) = decoded.features()
    assert feature["d"] == expected


@pytest.mark.parametrize("esri_type", ["esriFieldTypeBlob", "esriFieldTypeRaster"])
def test_binary_fields_are_skipped_with_a_warning(esri_type: str) -> None:
    """Blob and Raster values are not carried by Esri JSON: the field is left out, loudly."""
    decoded = reader.read_feature_set(_doc(
        [{"name": "a", "type": "esriFieldTypeInteger"}, {"name": "b", "type": esri_type},
         {"name": "shape", "type": "esriFieldTypeGeometry"}], [{"a": 1, "b": "AAEC"}]))
    assert decoded.fields.names() == ["a"]
    assert [w for w in decoded.warnings if "'b'" in w and esri_type in w]
    assert not [w for w in decoded.warnings if "shape" in w]


def test_unknown_type_duplicate_and_empty_names() -> None:
    """Unknown types read as text; duplicate (case-insensitive) and empty names renamed."""
    decoded = reader.read_feature_set(_doc(
        [{"name": "a", "type": "esriFieldTypeFancy"}, {"name": "A", "type": "esriFieldTypeString"},
         {"name": "", "type": "esriFieldTypeString"}], [{"a": 5, "A": "x", "": "y"}]))
    assert decoded.fields.names() == ["a", "A_1", "field_3"]
    (feature,) = decoded.features()
    assert feature.attributes() == [5, "x", "y"]
    text = " ".join(decoded.warnings)
    assert "unknown type 'esriFieldTypeFancy'" in text and "'A_1'" in text


def test_attribute_keys_differing_in_case_and_extra_keys() -> None:
    """Attributes are matched to fields ignoring case when needed; unknown keys ignored."""
    decoded = reader.read_feature_set(_doc(
        [{"name": "OBJECTID", "type": "esriFieldTypeOID"}, {"name": "Name", "type":
                                                            "esriFieldTypeString"}],
        [{"objectid": 3, "NAME": "x", "other": 1}]))
    (feature,) = decoded.features()
    assert feature.attributes() == [3, "x"]


# -- spatial references ---------------------------------------------------------------------


@pytest.mark.parametrize("sr,authid", [
    ({"wkid": 102100, "latestWkid": 3857}, "EPSG:3857"),
    ({"wkid": 102100}, "EPSG:3857"),
    ({"wkid": 102113}, "EPSG:3857"),
    ({"wkid": 102654, "latestWkid": 2232}, "EPSG:2232"),
    ({"wkid": 102654}, "EPSG:2232"),
    ({"wkid": 54030}, "ESRI:54030"),
    ({"wkid": 4326}, "EPSG:4326"),
    ({"latestWkid": 25832, "wkid": 25832}, "EPSG:25832"),
    ({"wkt": QgsCoordinateReferenceSystem("EPSG:2056").toWkt(
        QgsCoordinateReferenceSystem.WktVariant.WKT1_ESRI)}, "EPSG:2056"),
    ({"wkt2": QgsCoordinateReferenceSystem("EPSG:32632").toWkt(
        QgsCoordinateReferenceSystem.WktVariant.WKT2_2019)}, "EPSG:32632"),
])
def test_spatial_references(sr: dict, authid: str) -> None:
    """wkid, latestWkid (preferred), Esri codes with an EPSG twin, wkt and wkt2."""
    crs, warnings = SpatialReferenceDecoder().decode(sr)
    assert crs.authid() == authid
    assert warnings == []


def test_vertical_and_unknown_spatial_references_warn() -> None:
    """A vcsWkid is named in a warning (3.22 layers are 2D-CRS); an unknown wkid too."""
    crs, warnings = SpatialReferenceDecoder().decode({"wkid": 4326, "vcsWkid": 5773})
    assert crs.authid() == "EPSG:4326"
    assert warnings and "5773" in warnings[0]
    crs, warnings = SpatialReferenceDecoder().decode({"wkid": 999999})
    assert not crs.isValid()
    assert warnings and "Unknown spatial reference" in warnings[0]
    assert SpatialReferenceDecoder().decode({})[0].isValid() is False


@pytest.mark.parametrize("crs,expected", [
    ("EPSG:4326", {"wkid": 4326, "latestWkid": 4326}),
    ("EPSG:3857", {"wkid": 102100, "latestWkid": 3857}),
    ("ESRI:54030", {"wkid": 54030}),
])
def test_encode_spatial_reference_as_wkid(crs: str, expected: dict) -> None:
    """CRSs with an EPSG/ESRI id go out as wkid (+ latestWkid)."""
    assert encode_spatial_reference(QgsCoordinateReferenceSystem(crs)) == expected


def test_encode_custom_crs_as_wkt_and_back() -> None:
    """A CRS without an authority id goes out as Esri WKT and reads back as the same CRS."""
    crs = QgsCoordinateReferenceSystem.fromProj(
        "+proj=tmerc +lat_0=0 +lon_0=10.3 +k=0.9996 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m")
    sr = encode_spatial_reference(crs)
    assert list(sr) == ["wkt"]
    back, _ = SpatialReferenceDecoder().decode(sr)
    assert back.isValid()
    ignore = {"+no_defs", "+type=crs"}
    assert set(back.toProj().split()) - ignore == set(crs.toProj().split()) - ignore
    assert encode_spatial_reference(QgsCoordinateReferenceSystem()) is None


# -- writing fields -------------------------------------------------------------------------


def _layer(fields: list[QgsField], rows: list[list]) -> QgsVectorLayer:
    layer = QgsVectorLayer("Point?crs=EPSG:4326", "fields", "memory")
    layer.dataProvider().addAttributes(fields)
    layer.updateFields()
    features = []
    for row in rows:
        feature = QgsFeature(layer.fields())
        feature.setAttributes(row)
        features.append(feature)
    assert layer.dataProvider().addFeatures(features)[0]
    return layer


def _ms(*args: int) -> int:
    """Milliseconds since 1970 UTC, computed with the standard library."""
    import datetime

    when = datetime.datetime(*args, tzinfo=datetime.timezone.utc)
    return int((when - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc))
               .total_seconds() * 1000)


def test_qgis_field_types_to_esri() -> None:
    """QGIS types map to Esri types; values to their wire form; nulls to null."""
    fields = [QgsField("i", FieldType.Int), QgsField("small64", FieldType.LongLong),
              QgsField("big64", FieldType.LongLong), QgsField("d", FieldType.Double),
              QgsField("s", FieldType.String, len=12), QgsField("dt", FieldType.DateTime),
              QgsField("day", FieldType.Date), QgsField("t", FieldType.Time),
              QgsField("b", FieldType.Bool), QgsField("blob", FieldType.ByteArray),
              QgsField("my field", FieldType.String)]
    rows = [[1, 5, 2**40, 0.5, "x", QDateTime(QDate(1960, 5, 6), QTime(7, 8, 9), Qt.TimeSpec.UTC),
             QDate(1960, 5, 6), QTime(7, 8, 9), True, QByteArray(b"\x00\x01"), "y"],
            [None] * 11]
    warnings: list[str] = []
    fs = writer.source_to_feature_set(_layer(fields, rows), warnings=warnings)
    types = {f["name"]: f["type"] for f in fs["fields"]}
    assert types == {
        "i": "esriFieldTypeInteger", "small64": "esriFieldTypeInteger",
        "big64": "esriFieldTypeBigInteger", "d": "esriFieldTypeDouble",
        "s": "esriFieldTypeString", "dt": "esriFieldTypeDate", "day": "esriFieldTypeDate",
        "t": "esriFieldTypeString", "b": "esriFieldTypeSmallInteger",
        "my_field": "esriFieldTypeString"}
    assert next(f for f in fs["fields"] if f["name"] == "s")["length"] == 12
    assert next(f for f in fs["fields"] if f["name"] == "my_field")["alias"] == "my field"
    first, nulls = (f["attributes"] for f in fs["features"])
    assert first == {"i": 1, "small64": 5, "big64": 2**40, "d": 0.5, "s": "x",
                     "dt": _ms(1960, 5, 6, 7, 8, 9), "day": _ms(1960, 5, 6), "t": "07:08:09",
                     "b": 1,
                     "my_field": "y"}
    assert set(nulls.values()) == {None}
    text = " ".join(warnings)
    assert "'blob'" in text and "'my field'" in text
    fs = writer.source_to_feature_set(_layer(fields, rows),
                                      big_integer_type="esriFieldTypeDouble")
    assert {f["name"]: f["type"] for f in fs["fields"]}["big64"] == "esriFieldTypeDouble"


def test_esri_types_survive_a_direct_round_trip() -> None:
    """Fields read from Esri JSON and written back keep their Esri types (typeName)."""
    fields = [{"name": n, "type": t} for n, t, *_ in ALL_TYPES]
    decoded = reader.read_feature_set(_doc(fields, [{n: v for n, _, v, *_ in ALL_TYPES}]))
    layer = QgsVectorLayer("Point?crs=EPSG:4326", "typed", "memory")
    # memory layers drop typeName, so write straight from a feature source that keeps it
    source = _KeptFieldsSource(layer, decoded)
    fs = writer.source_to_feature_set(source)
    assert [f["type"] for f in fs["fields"]] == [t for _, t, *_ in ALL_TYPES]
    (feature,) = fs["features"]
    for name, esri_type, value, *_ in ALL_TYPES:
        if esri_type == "esriFieldTypeTimestampOffset":
            assert QDateTime.fromString(feature["attributes"][name], Qt.DateFormat.ISODate) == \
                QDateTime.fromString(value, Qt.DateFormat.ISODate)
        else:
            assert feature["attributes"][name] == value, name


class _KeptFieldsSource:
    """A feature source over decoded features whose fields keep their typeName (a test
    stand-in for the provider handing a DecodedFeatureSet straight to the writer)."""

    def __init__(self, layer: QgsVectorLayer, decoded: reader.DecodedFeatureSet) -> None:
        self._decoded = decoded
        self._layer = layer

    def fields(self) -> Any:
        return self._decoded.fields

    def wkbType(self) -> int:
        return self._decoded.wkb_type

    def sourceCrs(self) -> QgsCoordinateReferenceSystem:
        return self._decoded.crs

    def sourceName(self) -> str:
        return "decoded"

    def featureCount(self) -> int:
        return self._decoded.feature_count or 0

    def getFeatures(self, request: Any = None) -> Any:
        return iter(list(self._decoded.features()))

    def minimumValue(self, index: int) -> Any:
        return None

    def maximumValue(self, index: int) -> Any:
        return None


def test_safe_names_are_unique_and_short() -> None:
    """Field names Esri would refuse are rewritten, unique and at most 64 characters."""
    long_name = "x" * 80
    fields = [QgsField("1st", FieldType.Int), QgsField("a-b", FieldType.Int),
              QgsField("a_b", FieldType.Int), QgsField(long_name, FieldType.Int)]
    fs = writer.source_to_feature_set(_layer(fields, [[1, 2, 3, 4]]))
    names = [f["name"] for f in fs["fields"]]
    assert names[0] == "F1st"
    assert names[1] != names[2] and {names[1].lower(), names[2].lower()} == {"a_b", "a_b_1"}
    assert len(names[3]) == 64
    assert json.dumps(fs)


def test_no_geometry_source_is_a_record_set() -> None:
    """A table goes out without geometryType/spatialReference and reads back as a table."""
    layer = QgsMemoryProviderUtils.createMemoryLayer(
        "t", _layer([QgsField("a", FieldType.Int)], []).fields(), QgsWkbTypes.Type.NoGeometry,
        QgsCoordinateReferenceSystem())
    feature = QgsFeature(layer.fields())
    feature.setAttributes([4])
    layer.dataProvider().addFeatures([feature])
    fs = writer.source_to_feature_set(layer)
    assert "geometryType" not in fs and "spatialReference" not in fs
    decoded = reader.read_feature_set(fs)
    assert decoded.shape == "RecordSet"
    assert decoded.wkb_type == QgsWkbTypes.Type.NoGeometry
    assert [f["a"] for f in decoded.features()] == [4]
