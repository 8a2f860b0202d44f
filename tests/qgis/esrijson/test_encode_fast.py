"""The file writer's fast paths give the same values as the careful ones, bit for bit.

``write_feature_set_file`` writes linear geometries from their WKB (``wkb_text``) and
attributes with one ``%`` format;
``to_text`` and ``source_to_feature_set`` (the dict writer) keep the plain paths. These tests
compare them on random geometries, values, names and time zones.
"""

from __future__ import annotations

import json
import math
import struct
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsMemoryProviderUtils,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QDate, QDateTime, Qt, QTime

from arcgis_gp.esrijson import writer
from arcgis_gp.esrijson.encode import GeometryEncoder
from arcgis_gp.esrijson.fields import local_time_is_utc
from arcgis_gp.esrijson.qtypes import FieldType
from tests.qgis.esrijson.helpers import gdal_layer

pytestmark = pytest.mark.timeout(300)

SETTINGS = settings(max_examples=80, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])
NAN = float("nan")
SPECIAL = [0.0, -0.0, 5e-324, -5e-324, 2.2250738585072014e-308, 1e-300, 1.7976931348623157e308,
           -1.7976931348623157e308, 2.0**53, 2.0**53 + 2, -(2.0**60), 0.1, 0.30000000000000004,
           123456789.12345679, 1e16, 1e22, 1e23, 4.35, 4503599627370495.5, 0.5, 1.0]


def _no_constant(name: str) -> Any:
    raise ValueError(f"not strict JSON: {name}")


def strict(text: str) -> Any:
    """json.loads that refuses NaN and Infinity (the output must be strict JSON)."""
    return json.loads(text, parse_constant=_no_constant)


def bits(obj: Any) -> Any:
    """Numbers -> their IEEE-754 bytes (ints as the double a parser makes of them)."""
    if isinstance(obj, dict):
        return {k: bits(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [bits(v) for v in obj]
    if isinstance(obj, (int, float)) and not isinstance(obj, bool):
        return struct.pack("<d", float(obj))
    return obj


def on_grid(decimals: int) -> Any:
    """Doubles nearest to multiples of 10**-decimals (as decimal text gives them)."""
    return st.integers(-10**14, 10**14).map(lambda i: i / 10**decimals)


any_double = st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(SPECIAL))


@st.composite
def rings(draw: Any, dim: int, closed: bool) -> list[tuple]:
    """A ring or path: all on one decimal grid, or any doubles, or a mix; M may be NaN."""
    kind = draw(st.sampled_from(["grid", "grid", "any", "mixed"]))
    if kind == "grid":
        value = on_grid(draw(st.integers(0, 12)))
    elif kind == "any":
        value = any_double
    else:
        value = st.one_of(on_grid(draw(st.integers(0, 4))), any_double)
    n = draw(st.integers(1 if not closed else 3, 12))
    points = []
    for _ in range(n):
        point = [draw(value) for _ in range(dim)]
        if dim == 4 and draw(st.integers(0, 9)) == 0:
            point[3] = NAN
        points.append(tuple(point))
    if closed:
        points.append(points[0])
    return points


def _wkb_header(code: int) -> bytes:
    return b"\x01" + struct.pack("<I", code)


def _coords(points: list[tuple]) -> bytes:
    return struct.pack("<I", len(points)) + b"".join(struct.pack(f"<{len(p)}d", *p)
                                                     for p in points)


def build_wkb(kind: str, offset: int, parts: list[list[list[tuple]]]) -> bytes:
    """ISO WKB of a (multi) line string or polygon: parts -> rings (one ring for lines)."""
    if kind == "LineString":
        return _wkb_header(2 + offset) + _coords(parts[0][0])
    if kind == "MultiLineString":
        return _wkb_header(5 + offset) + struct.pack("<I", len(parts)) + b"".join(
            _wkb_header(2 + offset) + _coords(p[0]) for p in parts)
    if kind == "Polygon":
        return _wkb_header(3 + offset) + struct.pack("<I", len(parts[0])) + b"".join(
            _coords(r) for r in parts[0])
    return _wkb_header(6 + offset) + struct.pack("<I", len(parts)) + b"".join(
        _wkb_header(3 + offset) + struct.pack("<I", len(p)) + b"".join(_coords(r) for r in p)
        for p in parts)


@st.composite
def geometry_runs(draw: Any) -> tuple[int, list[QgsGeometry]]:
    """(layer type, geometries) of one kind and dimension, each from WKB."""
    kind = draw(st.sampled_from(["LineString", "MultiLineString", "Polygon", "MultiPolygon"]))
    dims = draw(st.sampled_from(["", "Z", "M", "ZM"]))
    dim = 2 + len(dims)
    offset = {"": 0, "Z": 1000, "M": 2000, "ZM": 3000}[dims]
    polygon = "Polygon" in kind
    multi = kind.startswith("Multi")
    geometries = []
    for _ in range(draw(st.integers(1, 12))):
        parts = []
        for _ in range(draw(st.integers(1, 3)) if multi else 1):
            members = draw(st.integers(1, 3)) if polygon else 1
            parts.append([draw(rings(dim, closed=polygon)) for _ in range(members)])
        geometry = QgsGeometry()
        geometry.fromWkb(build_wkb(kind, offset, parts))
        assert not geometry.isNull()
        geometries.append(geometry)
    layer_type = QgsWkbTypes.parseType("Multi" + kind.replace("Multi", "") + dims)
    return layer_type, geometries


@SETTINGS
@given(geometry_runs())
def test_wkb_text_writes_what_to_text_writes(run: tuple) -> None:
    """Rings with few decimals, full doubles, mixed, -0.0, subnormals, huge values and NaN M:
    the fast text (when it takes the geometry) holds the very doubles of the careful one."""
    layer_type, geometries = run
    fast_encoder = GeometryEncoder(layer_type)  # one encoder for the whole run
    careful = GeometryEncoder(layer_type)
    polygons = QgsWkbTypes.geometryType(layer_type) == QgsWkbTypes.GeometryType.PolygonGeometry
    for geometry in geometries:
        oriented = geometry.forceRHR() if polygons else geometry
        fast = fast_encoder.wkb_text(oriented.asWkb().data())
        expected = careful.to_text(geometry)
        if fast is None:  # NaN (or an empty part): the writer takes to_text's answer
            assert "null" in expected or "[]" in expected
            continue
        assert bits(strict(fast)) == bits(strict(expected))


def test_negative_zero_and_whole_numbers_keep_their_bits(tmp_path: Path) -> None:
    """-0.0 is not 0.0 (== says it is): its sign survives; whole numbers stay exact."""
    layer = QgsMemoryProviderUtils.createMemoryLayer(
        "zeros", QgsFields(), QgsWkbTypes.Type.MultiPolygonZ,
        QgsCoordinateReferenceSystem("EPSG:3857"))
    features = []
    for z in ["0", "-0", "0", "5"]:
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromWkt(
            f"MultiPolygonZ (((0 0 {z}, 0 10 {z}, 10 10 {z}, 10 0 {z}, 0 0 {z})))"))
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    path = tmp_path / "zeros.json"
    writer.write_feature_set_file(layer, path)
    doc = strict(path.read_text(encoding="utf-8"))
    zs = [[math.copysign(1.0, p[2]) for p in f["geometry"]["rings"][0]] for f in doc["features"]]
    assert zs == [[1.0] * 5, [-1.0] * 5, [1.0] * 5, [1.0] * 5]
    assert doc["features"][3]["geometry"]["rings"][0][0] == [0, 0, 5]


# -- attributes -------------------------------------------------------------------------------

text_values = st.text(max_size=12).filter(lambda s: "\x00" not in s)
double_values = st.one_of(st.floats(), st.sampled_from([NAN, math.inf, -math.inf, -0.0]))


@st.composite
def date_times(draw: Any) -> Any:
    ms = draw(st.integers(-62135596800000, 253402300799000))
    utc = QDateTime.fromMSecsSinceEpoch(ms, Qt.TimeSpec.UTC)
    spec = draw(st.sampled_from(["utc", "local", "offset", "null"]))
    if spec == "utc":
        return utc
    if spec == "local":
        return QDateTime(utc.date(), utc.time(), Qt.TimeSpec.LocalTime)
    if spec == "offset":
        return QDateTime(utc.date(), utc.time(), Qt.TimeSpec.OffsetFromUTC,
                         draw(st.integers(-14, 14)) * 1800)
    return QDateTime()


FIELD_KINDS = {
    "int": (FieldType.Int, st.integers(-2**31 + 1, 2**31 - 1)),
    "big": (FieldType.LongLong, st.integers(-2**63 + 1, 2**63 - 1)),
    "double": (FieldType.Double, double_values),
    "text": (FieldType.String, text_values),
    "datetime": (FieldType.DateTime, date_times()),
    "date": (FieldType.Date, st.dates().map(lambda d: QDate(d.year, d.month, d.day))),
    "bool": (FieldType.Bool, st.booleans()),
    "time": (FieldType.Time, st.times().map(lambda t: QTime(t.hour, t.minute, t.second))),
}


@st.composite
def attribute_layers(draw: Any) -> Any:
    """A point layer with some of the field kinds (names with quotes, % and accents), rows
    with nulls."""
    kinds = draw(st.lists(st.sampled_from(sorted(FIELD_KINDS)), min_size=1, max_size=6))
    fields = QgsFields()
    for n, kind in enumerate(kinds):
        name = draw(st.sampled_from([f"f{n}", f'q"{n}', f"pc%d{n}", f"é{n}", f"%%{n}%s"]))
        fields.append(QgsField(name, FIELD_KINDS[kind][0]))
    layer = QgsMemoryProviderUtils.createMemoryLayer(
        "attrs", fields, QgsWkbTypes.Type.Point, QgsCoordinateReferenceSystem("EPSG:4326"))
    features = []
    for _ in range(draw(st.integers(1, 8))):
        feature = QgsFeature(layer.fields())
        feature.setAttributes([None if draw(st.integers(0, 5)) == 0
                               else draw(FIELD_KINDS[kind][1]) for kind in kinds])
        feature.setGeometry(QgsGeometry.fromWkt(f"Point ({draw(on_grid(3))} 1.5)"))
        features.append(feature)
    assert layer.dataProvider().addFeatures(features)[0]
    return layer


@SETTINGS
@given(attribute_layers(), st.sampled_from(["FeatureSet", "FeatureCollection"]),
       st.booleans())
def test_file_attributes_match_the_dict_writer(tmp_path: Path, layer: Any, shape: str,
                                               safe_names: bool) -> None:
    """Ints, doubles (NaN, inf, -0.0), text, date-times of every spec, dates, bools, times
    and nulls: the file holds what source_to_feature_set (the JSON encoder) holds."""
    path = tmp_path / "attrs.json"
    writer.write_feature_set_file(layer, path, shape=shape, safe_names=safe_names)
    doc = strict(path.read_text(encoding="utf-8"))
    expected = writer.source_to_feature_set(layer, shape=shape, safe_names=safe_names)
    if shape == "FeatureCollection":
        doc, expected = doc["featureSet"], expected["featureSet"]
    assert len(doc["features"]) == len(expected["features"])
    for got, want in zip(doc["features"], expected["features"]):
        assert list(got["attributes"]) == list(want["attributes"])
        assert bits(got) == bits(json.loads(json.dumps(want, allow_nan=False)))


@pytest.fixture
def time_zone(monkeypatch: pytest.MonkeyPatch):
    """Set TZ for the test (QDateTime's local time follows it), restored afterwards."""
    def set_zone(name: str) -> None:
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield set_zone
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("zone, utc", [("UTC", True), ("Etc/UTC", True),
                                       ("Europe/Paris", False), ("America/St_Johns", False),
                                       ("Asia/Kolkata", False)])
def test_local_date_times_follow_the_time_zone(tmp_path: Path, time_zone: Any, zone: str,
                                               utc: bool) -> None:
    """Local date-times are written as the instant the machine's zone gives them, whether
    or not the zone is UTC (then the writer skips mktime): as QDateTime computes it."""
    time_zone(zone)
    assert local_time_is_utc() is utc
    fields = QgsFields()
    fields.append(QgsField("when", FieldType.DateTime))
    layer = QgsMemoryProviderUtils.createMemoryLayer(
        "times", fields, QgsWkbTypes.Type.NoGeometry, QgsCoordinateReferenceSystem())
    stamps = [QDateTime(QDate(year, month, 15), QTime(2, 30, 15, 250), Qt.TimeSpec.LocalTime)
              for year in (1, 1850, 1911, 1944, 1970, 1999, 2021, 2100, 9999)
              for month in (1, 3, 7, 10)]
    features = []
    for stamp in stamps:
        feature = QgsFeature(layer.fields())
        feature.setAttributes([stamp])
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    path = tmp_path / "times.json"
    writer.write_feature_set_file(layer, path)
    written = [f["attributes"]["when"] for f in strict(path.read_text())["features"]]
    assert written == [s.toMSecsSinceEpoch() for s in stamps]


def test_gdal_reads_the_coordinates_exactly(tmp_path: Path) -> None:
    """GDAL's ESRIJSON driver (the oracle) reads the very doubles written, for coordinates
    with 0 to 10 decimals and with full precision."""
    layer = QgsMemoryProviderUtils.createMemoryLayer(
        "gdal", QgsFields(), QgsWkbTypes.Type.MultiPolygon,
        QgsCoordinateReferenceSystem("EPSG:3857"))
    features = []
    for decimals in list(range(11)) + [None, 3, 3]:
        scale = 10 ** (decimals or 0)
        ring = [(-13325668 + k * 7.123456789, 4840475 + (k % 2) * 3.987654321) for k in range(5)]
        if decimals is not None:
            ring = [(round(x * scale) / scale, round(y * scale) / scale) for x, y in ring]
        ring.append(ring[0])
        feature = QgsFeature(layer.fields())
        feature.setGeometry(QgsGeometry.fromWkt(
            "MultiPolygon (((" + ",".join(f"{x!r} {y!r}" for x, y in ring) + ")))"))
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    path = tmp_path / "grids.json"
    writer.write_feature_set_file(layer, path)
    ds, gdal = gdal_layer(path)
    assert gdal is not None
    got = []
    for feature in gdal:
        ring = feature.GetGeometryRef()
        while ring.GetGeometryCount():
            ring = ring.GetGeometryRef(0)
        got.append([struct.pack("<2d", *p[:2]) for p in ring.GetPoints()])
    want = []
    for feature in layer.getFeatures():
        oriented = feature.geometry().forceRHR()
        want.append([struct.pack("<2d", p.x(), p.y()) for p in oriented.vertices()])
    assert got == want
