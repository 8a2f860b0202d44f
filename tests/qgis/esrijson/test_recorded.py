"""Recorded Esri JSON (../shared/fixtures/recorded) read by esrijson, checked against GDAL.

Every file GDAL's ESRIJSON driver reads is read by both and compared feature by feature
(geometry topologically equal with the same Z/M and the same vertices, attributes, CRS).
Where GDAL 3.6 and the Esri REST documentation part ways (listed in GDAL_DEVIATIONS), the
feature is checked against the file's own JSON instead. Files GDAL cannot read are checked
against their own JSON; the known answers of SOURCES.md are asserted one by one.
"""

from __future__ import annotations

import datetime
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest
from osgeo import gdal
from qgis.core import (
    NULL,
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsProject,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QDate, QDateTime, Qt, QTime

from arcgis_gp.esrijson import reader
from tests.qgis.esrijson.helpers import RECORDED, gdal_layer, qgis_wkt, recorded, vertices

pytestmark = pytest.mark.timeout(120)

ALL_FILES = sorted(p for p in RECORDED.rglob("*.json") if "geojson" not in p.parts)
GDAL_FILES = [p for p in ALL_FILES if gdal_layer(p)[1] is not None]
OTHER_FILES = [p for p in ALL_FILES if p not in GDAL_FILES]

# Where GDAL 3.6 differs from the Esri REST documentation; these features are checked
# against the file's own JSON. (file name -> why)
GDAL_DEVIATIONS = {
    "PointHasM.json": "GDAL 3.6 ignores the 'm' of Esri points; the layer says hasM",
    "PointHasZM.json": "GDAL 3.6 ignores the 'm' of Esri points; the layer says hasM",
    "LineHasZM.json": "GDAL 3.6 drops a geometry with a null M; Esri allows null M values",
}


def _rel(path: Path) -> str:
    return str(path.relative_to(RECORDED))


# GDAL 3.6 (Debian 12) reads Esri dates as strings of milliseconds and cannot read
# GetLatLon.json; GDAL 3.13 (Debian sid) reads dates as DateTime text and reads that file.
GDAL_313 = int(gdal.VersionInfo("VERSION_NUM")) >= 3130000
_GDAL_DATETIME = re.compile(
    r"(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,3}))?(?:([+-]\d\d):?(\d\d)?)?")


def test_fixture_inventory() -> None:
    """The recorded folder is there and GDAL reads most of it (guards the parametrization)."""
    assert RECORDED.is_dir(), f"missing {RECORDED}"
    assert len(GDAL_FILES) >= 28, [_rel(p) for p in GDAL_FILES]
    assert OTHER_FILES  # some files are checked against their own JSON only
    if GDAL_313:
        assert any(p.name == "GetLatLon.json" for p in GDAL_FILES)
    else:
        assert any(p.name == "GetLatLon.json" for p in OTHER_FILES)


# -- helpers ----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Turn a QGIS attribute value into a comparable Python value."""
    if value is None or value == NULL:
        return None
    if isinstance(value, QDateTime):
        return value.toMSecsSinceEpoch()
    return value


def _same_value(ours: Any, gdal_value: Any) -> bool:
    ours = _plain(ours)
    if ours == gdal_value:
        return True
    if isinstance(gdal_value, str) and isinstance(ours, (int, float)):
        if GDAL_313 and _GDAL_DATETIME.fullmatch(gdal_value):
            # GDAL 3.13 reads esriFieldTypeDate as a DateTime: "2003/12/05 00:00:00+00"
            return _gdal_datetime_ms(gdal_value) == ours
        # GDAL 3.6 reads esriFieldTypeDate and esriFieldTypeSingle as strings ("1640908800000")
        return float(gdal_value) == ours
    return False


def _gdal_datetime_ms(text: str) -> int:
    """Milliseconds since 1970 (UTC) of GDAL's DateTime text."""
    y, mo, d, h, mi, sec, frac, tz_h, tz_m = _GDAL_DATETIME.fullmatch(text).groups()
    offset = datetime.timedelta(hours=int(tz_h or 0),
                                minutes=int(tz_m or 0) * (-1 if (tz_h or "+")[0] == "-" else 1))
    when = datetime.datetime(int(y), int(mo), int(d), int(h), int(mi), int(sec),
                             int((frac or "0").ljust(3, "0")) * 1000,
                             tzinfo=datetime.timezone(offset))
    return round(when.timestamp() * 1000)


def _unique_ids(layer: Any) -> bool:
    column = layer.GetFIDColumn()
    layer.ResetReading()
    values = [f[column] for f in layer]
    layer.ResetReading()
    return len(set(values)) == len(values)


def _qgs_from_ogr(geometry: Any) -> QgsGeometry:
    out = QgsGeometry()
    out.fromWkb(bytes(geometry.ExportToIsoWkb()))
    return out


def _same_geometry(ours: QgsGeometry, theirs: QgsGeometry) -> bool:
    if ours.isGeosEqual(theirs):
        return True
    # degenerate (invalid) geometries, e.g. a collapsed ring: GEOS cannot compare them
    return not theirs.isGeosValid() and vertices(ours) == vertices(theirs)


def _expected_vertices(raw: dict, layer_z: bool, layer_m: bool, flags: tuple) -> list[tuple]:
    """Vertices an Esri geometry dict describes, read independently of esrijson."""

    def num(v: Any) -> float:
        return math.nan if v is None else float(v)

    out = []
    if "x" in raw:
        coords = [(num(raw["x"]), num(raw["y"]), num(raw.get("z")), num(raw.get("m")))]
    else:
        fz = raw.get("hasZ", flags[0])
        fm = raw.get("hasM", flags[1])
        parts = raw.get("rings") or raw.get("paths") or [raw.get("points") or []]
        coords = []
        for part in parts:
            for c in part:
                if len(c) == 4:
                    coords.append((num(c[0]), num(c[1]), num(c[2]), num(c[3])))
                elif len(c) == 3 and fm and not fz:
                    coords.append((num(c[0]), num(c[1]), math.nan, num(c[2])))
                elif len(c) == 3:
                    coords.append((num(c[0]), num(c[1]), num(c[2]), math.nan))
                else:
                    coords.append((num(c[0]), num(c[1]), math.nan, math.nan))
    for x, y, z, m in coords:
        out.append(tuple("nan" if math.isnan(v) else round(v, 9)
                         for v in (x, y, z if layer_z else math.nan, m if layer_m else math.nan)))
    return sorted(out)


def _check_against_json(decoded: reader.DecodedFeatureSet, raw_features: list,
                        flags: tuple) -> None:
    features = list(decoded.features())
    assert len(features) == len(raw_features)
    layer_z = QgsWkbTypes.hasZ(decoded.wkb_type)
    layer_m = QgsWkbTypes.hasM(decoded.wkb_type)
    for feature, raw in zip(features, raw_features):
        geometry = raw.get("geometry")
        expected = _expected_vertices(geometry, layer_z, layer_m, flags) if geometry else []
        got = vertices(feature.geometry()) if feature.hasGeometry() else []
        assert got == expected
        for key, value in (raw.get("attributes") or {}).items():
            assert _plain(feature[key]) == value, key


# -- GDAL as the oracle -----------------------------------------------------------------------


@pytest.mark.parametrize("path", GDAL_FILES, ids=_rel)
def test_same_as_gdal(path: Path) -> None:
    """Our reading of the file equals GDAL's: count, CRS, fields, geometries, attributes."""
    decoded = reader.read_file(path)
    features = list(decoded.features())
    _ds, layer = gdal_layer(path)
    theirs = list(layer)
    assert len(features) == len(theirs)
    srs = layer.GetSpatialRef()
    if srs is None:
        assert not decoded.crs.isValid() or decoded.geometry_type is None
    else:
        srs.AutoIdentifyEPSG()
        assert decoded.crs.authid() == f"{srs.GetAuthorityName(None)}:{srs.GetAuthorityCode(None)}"
    names = decoded.fields.names()
    defn = layer.GetLayerDefn()
    assert [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())] == \
        [n for n in names if n != layer.GetFIDColumn() or n in names]
    deviation = GDAL_DEVIATIONS.get(path.name)
    raw_doc = None
    for ours, gdal_feature in zip(features, theirs):
        for key, value in gdal_feature.items().items():
            assert _same_value(ours[key], value), (key, ours[key], value)
        if layer.GetFIDColumn() and _unique_ids(layer):
            assert ours.id() == gdal_feature.GetFID()
        geometry = gdal_feature.GetGeometryRef()
        if deviation is None:
            if geometry is None or geometry.IsEmpty():
                assert not ours.hasGeometry()
                continue
            their_geometry = _qgs_from_ogr(geometry)
            assert _same_geometry(ours.geometry(), their_geometry)
            assert QgsWkbTypes.hasZ(ours.geometry().wkbType()) == bool(geometry.Is3D())
            assert QgsWkbTypes.hasM(ours.geometry().wkbType()) == bool(geometry.IsMeasured())
            assert vertices(ours.geometry()) == vertices(their_geometry)
        else:
            if geometry is not None and not geometry.IsEmpty():
                # what GDAL keeps (X, Y and Z) agrees; the M that GDAL drops is checked below
                without_m = ours.geometry().constGet().clone()
                without_m.dropMValue()
                assert QgsGeometry(without_m).isGeosEqual(_qgs_from_ogr(geometry))
                if geometry.Is3D():
                    ours_z = [v[:3] for v in vertices(ours.geometry())]
                    assert ours_z == [v[:3] for v in vertices(_qgs_from_ogr(geometry))]
            raw_doc = raw_doc or json.loads(path.read_text(encoding="utf-8"))
    if deviation is not None:
        _check_against_json(reader.read_file(path), raw_doc["features"],
                            (raw_doc.get("hasZ"), raw_doc.get("hasM")))


@pytest.mark.parametrize("path", GDAL_FILES, ids=_rel)
def test_file_stream_equals_whole_document(path: Path) -> None:
    """Streaming with tiny chunks and a one-feature sample reads what the dict reader reads
    (esrizpoint.json is not strict JSON: there the default file read is the reference)."""
    if path.name == "esrizpoint.json":
        whole = reader.read_file(path)
        others = [reader.read_file(path, chunk_chars=7, sample_size=1)]
    else:
        whole = reader.read_feature_set(json.loads(path.read_text(encoding="utf-8")))
        others = [reader.read_file(path, chunk_chars=7, sample_size=1), reader.read_file(path)]
    for other in others:
        assert other.wkb_type == whole.wkb_type
        assert other.crs == whole.crs
        assert other.fields.names() == whole.fields.names()
        got = [(f.attributes(), f.geometry().asWkb() if f.hasGeometry() else None)
               for f in other.features()]
        want = [(f.attributes(), f.geometry().asWkb() if f.hasGeometry() else None)
                for f in whole.features()]
        assert got == want
        assert other.exceeded_transfer_limit == whole.exceeded_transfer_limit


# -- files GDAL cannot read -----------------------------------------------------------------


def test_getlatlon_checked_against_its_json() -> None:
    """A PLSS service answer with no fields list and the CRS only inside the geometry."""
    path = recorded("gdal-esrijson", "GetLatLon.json")
    raw = json.loads(path.read_text())
    decoded = reader.read_file(path)
    assert decoded.crs.authid() == "EPSG:4326"
    assert decoded.wkb_type == QgsWkbTypes.Type.MultiPolygon
    assert decoded.fields.names() == ["landdescription"]
    assert any("no 'fields' list" in w for w in decoded.warnings)
    _check_against_json(decoded, raw["features"], (None, None))
    assert reader.read_feature_set(raw).fields.names() == ["landdescription"]


@pytest.mark.parametrize("name,code", [
    ("arcgis-rest-js-gp/ArcGISOnlineAuthError.error.json", "498"),
    ("arcgis-rest-js-gp/ArcGISServerTokenRequired.error.json", "499"),
    ("arcgis-rest-js-gp/GenerateTokenError.error.json", "400"),
    ("arcgis-rest-js-gp/ArcGISOnlineErrorNoMessageCode.error.json", "403"),
    ("pyesridump/us-mi-kent-statistics.json", "400"),
])
def test_error_bodies_raise_with_the_server_message(name: str, code: str) -> None:
    """An ArcGIS error body is reported as such, with its code and message."""
    path = RECORDED / name
    with pytest.raises(reader.EsriJsonError, match=f"error response.*code {code}"):
        reader.read_file(path)
    with pytest.raises(reader.EsriJsonError, match=f"code {code}"):
        reader.read_feature_set(json.loads(path.read_text()))


@pytest.mark.parametrize("name", [
    "arcgis-rest-js-gp/GPJobIdResponse.submitJob.json",
    "arcgis-rest-js-gp/mockCancelledState.jobStatus.json",
    "imagery-explorer-apps-gp/EstimateRasterAnalysisCost_result_outCost.json",
    "imagery-explorer-apps-gp/GenerateRaster_jobStatus.json",
    "esri-leaflet-gp/sampleServiceMetadataResponse.extracted.json",
])
def test_other_json_is_not_a_feature_set(name: str) -> None:
    """Job answers and task descriptions are refused with a message naming their keys."""
    with pytest.raises(reader.EsriJsonError, match="not an Esri feature set.*keys are"):
        reader.read_file(RECORDED / name)


def test_gp_results_values_are_feature_sets() -> None:
    """The values of a results map: empty record sets and a polyline set whose
    spatialReference is an empty list (a quirk of that mock) read without error."""
    doc = json.loads(recorded("arcgis-rest-js-gp", "mockAllResultsRequest.results.json")
                     .read_text())
    stops = reader.read_feature_set(doc["out_stops"])
    assert stops.shape == "RecordSet"
    assert stops.wkb_type == QgsWkbTypes.Type.NoGeometry
    assert list(stops.features()) == []
    routes = reader.read_feature_set(doc["out_routes"])
    assert routes.wkb_type == QgsWkbTypes.Type.MultiLineString
    assert not routes.crs.isValid()
    assert list(routes.features()) == []


def test_task_default_value_schema() -> None:
    """A task's defaultValue (schema only, with both 'Fields' and 'fields') gives the fields."""
    doc = json.loads(recorded("esri-leaflet-gp", "sampleServiceMetadataResponse.extracted.json")
                     .read_text())
    params = {p["name"]: p for p in doc["parameters"]}
    decoded = reader.read_feature_set(params["Output_Drive_Time_Polygons"]["defaultValue"])
    assert decoded.fields.names() == ["FID", "FacilityID"]
    assert decoded.wkb_type == QgsWkbTypes.Type.MultiPolygon
    assert decoded.crs.authid() == "EPSG:4326"
    assert decoded.object_id_field == "FID"


# -- known answers (SOURCES.md) -------------------------------------------------------------


def _only(path: Path) -> Any:
    decoded = reader.read_file(path)
    features = list(decoded.features())
    assert len(features) == 1
    return decoded, features[0]


def test_known_esripoint() -> None:
    """POINT (2 49), EPSG:4326, FID 1 and its attributes (incl. the newer fooDate)."""
    decoded, feature = _only(recorded("gdal-esrijson", "esripoint.json"))
    assert decoded.crs.authid() == "EPSG:4326"
    assert decoded.wkb_type == QgsWkbTypes.Type.Point
    assert feature.geometry().asWkt() == "Point (2 49)"
    assert feature.id() == 1
    assert feature["fooDouble"] == 3.4
    assert feature["fooString"] == "56"
    assert feature["fooSmallInt"] == 2
    assert feature["fooSingle"] == 1.5
    assert feature["fooDate"] == QDateTime(QDate(2021, 12, 31), QTime(0, 0), Qt.TimeSpec.UTC)
    types = {f.name(): f.typeName() for f in decoded.fields}
    assert types["fooSmallInt"] == "esriFieldTypeSmallInteger"
    assert types["objectid"] == "esriFieldTypeOID"


def test_known_esripolygon() -> None:
    """The ring inside the first is its hole; the third ring is a second polygon."""
    _decoded, feature = _only(recorded("gdal-esrijson", "esripolygon.json"))
    expected = QgsGeometry.fromWkt(
        "MULTIPOLYGON (((2 49,2 50,3 50,3 49,2 49),(2.1 49.1,2.1 49.9,2.9 49.9,2.9 49.1,"
        "2.1 49.1)),((-2 49,-2 50,-3 50,-3 49,-2 49)))")
    geometry = feature.geometry()
    assert geometry.isGeosEqual(expected)
    parts = geometry.constGet()
    assert parts.numGeometries() == 2
    assert parts.geometryN(0).numInteriorRings() == 1
    assert parts.geometryN(1).numInteriorRings() == 0


@pytest.mark.parametrize("name,wkt", [
    ("esrimultipoint.json", "MultiPoint ((2 49),(3 50))"),
    ("esrizmultipoint.json", "MultiPointZ ((2 49 1),(3 50 2))"),
    ("esrihasmnozmultipoint.json", "MultiPointM ((2 49 1),(3 50 2))"),
    ("esriinvalidhaszmultipoint.json", "MultiPoint ((2 49),(3 50))"),
    ("esrizmmultipoint.json", "MultiPointZM ((2 49 1 100),(3 50 2 100))"),
    ("esrizpoint.json", "PointZ (2 49 1)"),
])
def test_known_dimensions(name: str, wkt: str) -> None:
    """hasZ/hasM: flags disambiguate, values decide (a flag without values is 2D)."""
    decoded, feature = _only(recorded("gdal-esrijson", name))
    assert feature.geometry().asWkt() == qgis_wkt(wkt)
    assert decoded.wkb_type == QgsGeometry.fromWkt(wkt).wkbType()


def test_known_empty_polygon_keeps_the_feature() -> None:
    """An empty polygon: the feature is kept, without geometry."""
    decoded, feature = _only(recorded("gdal-esrijson", "esripolygonempty.json"))
    assert not feature.hasGeometry()
    assert decoded.wkb_type == QgsWkbTypes.Type.MultiPolygon


def test_known_features_before_header() -> None:
    """One feature although 'features' comes before the other keys."""
    decoded, feature = _only(recorded("gdal-esrijson",
                                      "esrijsonstartingwithfeaturesgeometry.json"))
    assert decoded.geometry_type == "esriGeometryPolygon"
    assert feature.geometry().asWkt() == \
        qgis_wkt("MultiPolygonZ (((2 49 1, 2 50 2, 3 50 3, 3 49 4, 2 49 1)))")


def test_known_trailing_commas_are_tolerated_with_a_warning() -> None:
    """esrizpoint.json is not strict JSON: Python's json refuses it, we read it and say so."""
    path = recorded("gdal-esrijson", "esrizpoint.json")
    with pytest.raises(json.JSONDecodeError):
        json.loads(path.read_text())
    decoded, feature = _only(path)
    assert not decoded.strict_json
    assert any("not strict JSON" in w and "2 trailing commas" in w for w in decoded.warnings)
    assert feature["fooString"] == "56"


def test_known_arizona_wkt_resolves_to_epsg_2223() -> None:
    """The Esri WKT of NAD_1983_StatePlane_Arizona_Central_FIPS_0202_IntlFeet -> EPSG:2223."""
    from osgeo import osr

    srs = osr.SpatialReference()
    srs.ImportFromEPSG(2223)
    srs.MorphToESRI()
    wkt = srs.ExportToWkt()
    assert "Arizona_Central" in wkt
    doc = {"geometryType": "esriGeometryPoint", "spatialReference": {"wkt": wkt},
           "fields": [], "features": [{"attributes": {}, "geometry": {"x": 1, "y": 2}}]}
    assert reader.read_feature_set(doc).crs.authid() == "EPSG:2223"


@pytest.mark.parametrize("before", [True, False])
def test_known_exceeded_transfer_limit_then_null_geometry(tmp_path: Path, before: bool) -> None:
    """exceededTransferLimit (before or after the features) warns; a null geometry is kept."""
    head = '{"geometryType":"esriGeometryPoint","spatialReference":{"wkid":4326},' \
           '"fields":[{"name":"id","type":"esriFieldTypeInteger"}],'
    flag = '"exceededTransferLimit":true'
    features = '"features":[{"attributes":{"id":1},"geometry":null},' \
               '{"attributes":{"id":2},"geometry":{"x":1,"y":2}}]'
    text = head + (flag + "," + features if before else features + "," + flag) + "}"
    path = tmp_path / "page.json"
    path.write_text(text)
    decoded = reader.read_file(path)
    features = list(decoded.features())
    assert [f["id"] for f in features] == [1, 2]
    assert not features[0].hasGeometry()
    assert decoded.exceeded_transfer_limit
    assert any("exceededTransferLimit" in w and "2 features" in w for w in decoded.warnings)
    assert reader.read_feature_set(json.loads(text)).exceeded_transfer_limit


def test_known_arcgisutils_dates_and_null_polyline() -> None:
    """date-parse-error.json: 2003-12-05 and 2002-02-11 UTC; null-polyline.json parses."""
    decoded = reader.read_file(recorded("arcgisutils", "date-parse-error.json"))
    first = next(iter(decoded.features()))
    assert first["datemodified"] == QDateTime(QDate(2003, 12, 5), QTime(0, 0), Qt.TimeSpec.UTC)
    assert first["datecreated"] == QDateTime(QDate(2002, 2, 11), QTime(0, 0), Qt.TimeSpec.UTC)
    assert first["datemodified"].toMSecsSinceEpoch() == 1070582400000
    assert decoded.crs.authid() == "EPSG:2232"
    _decoded, feature = _only(recorded("arcgisutils", "null-polyline.json"))
    assert not feature.hasGeometry()
    assert feature["Status"] == "Proposed"


def test_known_kent_wkt_only() -> None:
    """A spatial reference given only as WKT resolves to its EPSG code, like GDAL's."""
    decoded = reader.read_file(recorded("pyesridump", "us-mi-kent-0.json"))
    assert decoded.crs.authid() == "EPSG:2253"


def test_known_guid_and_globalid_fields() -> None:
    """GUID and GlobalID fields are text of length 38 that remember their Esri type."""
    columbia = reader.read_file(recorded("pyesridump", "us-mo-columbia-0.json"))
    polk = reader.read_file(recorded("pyesridump", "us-esri-test-0.json"))
    kinds = {f.typeName() for f in columbia.fields} | {f.typeName() for f in polk.fields}
    assert {"esriFieldTypeGUID", "esriFieldTypeGlobalID"} <= kinds
    glob = next(f for f in polk.fields if f.typeName() == "esriFieldTypeGlobalID")
    assert glob.length() == 38
    values = [f[glob.name()] for f in polk.features()]
    assert len(values) == 1000 and all(isinstance(v, str) and len(v) == 38 for v in values)


# -- the geojson/ folder: the same server's answer in EPSG:4326 -----------------------------

GEOJSON_PAIRS = [
    ("arcGISPointResponse.json", "geoJSONPointResponse.json"),
    ("arcGISLineResponse.json", "geoJSONLineResponse.json"),
    ("arcGISPolygonResponse.json", "geoJSONPolygonResponse.json"),
    ("PointHasZ.json", "geoJSONPointHasZCRS4326.json"),
    ("LineHasZ.json", "geoJSONLineHasZCRS4326.json"),
    ("PolygonHasZ.json", "geoJSONPolygonHasZCRS4326.json"),
]


@pytest.mark.parametrize("esri_name,geojson_name", GEOJSON_PAIRS)
def test_geojson_known_answer_after_reprojection(esri_name: str, geojson_name: str) -> None:
    """Reprojected to EPSG:4326, our features match the server's own f=geojson answer."""
    folder = RECORDED / "arcgis-rest-js-featureservice"
    decoded = reader.read_file(folder / "arcgis" / esri_name)
    assert decoded.crs.authid() == "EPSG:3857"
    transform = QgsCoordinateTransform(decoded.crs, QgsCoordinateReferenceSystem("EPSG:4326"),
                                       QgsProject.instance())
    ours = {f["OBJECTID"] if "OBJECTID" in f.fields().names() else f.id(): f
            for f in decoded.features()}
    answer = json.loads((folder / "geojson" / geojson_name).read_text())
    assert len(answer["features"]) == len(ours)
    for item in answer["features"]:
        feature = ours[item["properties"].get("OBJECTID", item["id"])]
        for key, value in item["properties"].items():
            assert _plain(feature[key]) == value, key
        geometry = QgsGeometry(feature.geometry())
        assert geometry.transform(transform) == 0
        # f=geojson reverses ring orientation (RFC 7946) and gives a ring's closing vertex the
        # Z of its first one: compare the vertices as sets, closing vertices left out
        got = sorted(_qgis_coords(geometry))
        want = sorted(_geojson_coords(item["geometry"]))
        assert len(got) == len(want)
        for (x, y, z), expected in zip(got, want):
            assert x == pytest.approx(expected[0], abs=1e-7)
            assert y == pytest.approx(expected[1], abs=1e-7)
            if len(expected) > 2:
                assert z == pytest.approx(expected[2])


def _qgis_coords(geometry: QgsGeometry) -> list:
    if geometry.type() != QgsWkbTypes.GeometryType.PolygonGeometry:
        return [(v.x(), v.y(), v.z() if v.is3D() else None) for v in geometry.vertices()]
    out = []
    for part in geometry.constParts():
        rings = [part.exteriorRing()] + [part.interiorRing(i)
                                         for i in range(part.numInteriorRings())]
        for ring in rings:
            points = [ring.pointN(i) for i in range(ring.numPoints() - 1)]
            out.extend((p.x(), p.y(), p.z() if p.is3D() else None) for p in points)
    return out


def _geojson_coords(geometry: dict) -> list:
    coords = geometry["coordinates"]
    kind = geometry["type"]
    if kind == "Point":
        return [coords]
    if kind in ("LineString", "MultiPoint"):
        return list(coords)
    if kind == "MultiLineString":
        return [c for line in coords for c in line]
    if kind == "Polygon":
        return [c for ring in coords for c in ring[:-1]]
    return [c for poly in coords for ring in poly for c in ring[:-1]]
