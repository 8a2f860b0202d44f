"""The streaming file reader: document shapes, non-strict JSON, errors, memory."""

from __future__ import annotations

import json
import sys
import tracemalloc
from pathlib import Path

import pytest
from qgis.core import QgsWkbTypes

from arcgis_gp.esrijson import reader
from arcgis_gp.esrijson._stream import JsonStream

pytestmark = pytest.mark.timeout(120)

POINTS = {"geometryType": "esriGeometryPoint", "spatialReference": {"wkid": 4326},
          "fields": [{"name": "id", "type": "esriFieldTypeInteger"},
                     {"name": "name", "type": "esriFieldTypeString"}],
          "features": [{"attributes": {"id": i, "name": f"n{i}"},
                        "geometry": {"x": i, "y": -i}} for i in range(5)]}


def _write(tmp_path: Path, obj: object | str, name: str = "in.json") -> Path:
    path = tmp_path / name
    path.write_text(obj if isinstance(obj, str) else json.dumps(obj, indent=1),
                    encoding="utf-8")
    return path


def _ids(decoded: reader.DecodedFeatureSet) -> list:
    return [f["id"] for f in decoded.features()]


@pytest.mark.parametrize("wrap,shape", [
    (lambda fs: fs, "FeatureSet"),
    (lambda fs: {"layerDefinition": {"geometryType": fs["geometryType"], "fields": fs["fields"],
                                     "drawingInfo": {"renderer": {"type": "simple"}}},
                 "featureSet": {k: v for k, v in fs.items() if k != "fields"}},
     "FeatureCollection"),
    (lambda fs: {"paramName": "Output", "dataType": "GPFeatureRecordSetLayer", "value": fs},
     "FeatureSet"),
    (lambda fs: {"featureCollection": {"layers": [
        {"layerDefinition": {"fields": fs["fields"]}, "featureSet": {
            k: v for k, v in fs.items() if k != "fields"}}]}}, "FeatureCollection"),
])
def test_document_shapes(tmp_path: Path, wrap, shape: str) -> None:
    """FeatureSet, FeatureCollection, GP result value and web-map collections, file or dict."""
    doc = wrap(POINTS)
    for decoded in (reader.read_file(_write(tmp_path, doc)), reader.read_feature_set(doc)):
        assert decoded.shape == shape
        assert decoded.wkb_type == QgsWkbTypes.Type.Point
        assert decoded.crs.authid() == "EPSG:4326"
        assert _ids(decoded) == [0, 1, 2, 3, 4]
    if shape == "FeatureCollection" and "layerDefinition" in doc:
        assert decoded.drawing_info == {"renderer": {"type": "simple"}}


def test_several_layers_read_the_first_with_a_warning(tmp_path: Path) -> None:
    """A collection of two layers: the first is read, the warning says so."""
    second = dict(POINTS, features=POINTS["features"][:1])
    doc = {"layers": [{"featureSet": POINTS}, {"featureSet": second}]}
    decoded = reader.read_file(_write(tmp_path, doc))
    assert _ids(decoded) == [0, 1, 2, 3, 4]
    assert any("2 layers" in w for w in decoded.warnings)


def test_record_set_without_geometry(tmp_path: Path) -> None:
    """A GPRecordSet: fields and features, no geometry at all."""
    doc = {"displayFieldName": "", "fields": POINTS["fields"],
           "features": [{"attributes": {"id": 1, "name": "a"}}], "exceededTransferLimit": False}
    decoded = reader.read_file(_write(tmp_path, doc))
    assert decoded.shape == "RecordSet"
    assert decoded.wkb_type == QgsWkbTypes.Type.NoGeometry
    assert _ids(decoded) == [1]
    assert not decoded.exceeded_transfer_limit


@pytest.mark.parametrize("chunk", [5, 64, 1 << 20])
def test_header_after_features_costs_a_first_pass(tmp_path: Path, chunk: int) -> None:
    """fields/geometryType/spatialReference after the features (as some writers do)."""
    text = json.dumps({"features": POINTS["features"], "fields": POINTS["fields"],
                       "spatialReference": {"wkid": 3857}, "geometryType": "esriGeometryPoint"})
    decoded = reader.read_file(_write(tmp_path, text), chunk_chars=chunk, sample_size=2)
    assert decoded.crs.authid() == "EPSG:3857"
    assert decoded.feature_count == 5
    assert _ids(decoded) == [0, 1, 2, 3, 4]
    assert _ids(decoded) == [0, 1, 2, 3, 4]  # iterable again


def test_features_can_be_iterated_twice_when_streamed(tmp_path: Path) -> None:
    """The first iteration continues the header pass; later ones read the file again."""
    decoded = reader.read_file(_write(tmp_path, POINTS), sample_size=2)
    assert _ids(decoded) == _ids(decoded) == [0, 1, 2, 3, 4]
    assert decoded.progress == 1.0


@pytest.mark.parametrize("text,warning", [
    ('{"fields":[],"geometryType":"esriGeometryPoint","features":[{"geometry":{"x":1,"y":2,},'
     '"attributes":{},},],}', "4 trailing commas"),
    ('\ufeff{"fields":[],"geometryType":"esriGeometryPoint","features":[{"geometry":'
     '{"x":1,"y":2}}]}', None),
    ('{"fields":[],"geometryType":"esriGeometryPoint","features":[{"geometry":'
     '{"x":1,"y":NaN}},{"geometry":{"x":1,"y":2}}]}', None),
])
def test_lenient_json(tmp_path: Path, text: str, warning: str | None) -> None:
    """Trailing commas (with a warning), a byte-order mark and NaN literals are accepted."""
    decoded = reader.read_file(_write(tmp_path, text), chunk_chars=8)
    features = list(decoded.features())
    assert features[-1].geometry().asWkt() == "Point (1 2)"
    if warning:
        assert any(warning in w for w in decoded.warnings)
        assert not decoded.strict_json
    else:
        assert decoded.strict_json


@pytest.mark.parametrize("text,message", [
    ('{"fields":[],\n"features":[\n{"geometry":{"x":1 "y":2}}]}', "line 3 column"),
    ('{"fields":[],"features":[{"geometry":{"x":1,"y":2}}', "ends inside"),
    ('{"fields":[],"features":[{"geometry":{"x":1,"y":2}}]} trailing', "after the end"),
    ("", "empty"),
    ("[1, 2]", "expected '{'"),
    ("{'fields': []}", "line 1 column 2"),
    ('{"fields":[] // comment\n}', "line 1 column"),
])
def test_invalid_json_says_where(tmp_path: Path, text: str, message: str) -> None:
    """Anything else that is not JSON stops with the line and column."""
    with pytest.raises(reader.EsriJsonSyntaxError, match=message):
        decoded = reader.read_file(_write(tmp_path, text), chunk_chars=16)
        list(decoded.features())


def test_not_utf8_and_missing_file(tmp_path: Path) -> None:
    """Non-UTF-8 bytes and a missing file give clear errors."""
    path = tmp_path / "latin1.json"
    path.write_bytes(b'{"fields":[{"name":"caf\xe9"}],"features":[]}')
    with pytest.raises(reader.EsriJsonSyntaxError, match="not UTF-8"):
        reader.read_file(path)
    with pytest.raises(reader.EsriJsonError, match="does not exist"):
        reader.read_file(tmp_path / "missing.json")


def test_geojson_is_refused_with_advice(tmp_path: Path) -> None:
    """GeoJSON is named as such (QGIS opens it directly)."""
    point = {"type": "Point", "coordinates": [1, 2]}
    doc = {"type": "FeatureCollection",
           "features": [{"type": "Feature", "properties": {}, "geometry": point}]}
    with pytest.raises(reader.EsriJsonError, match="GeoJSON"):
        reader.read_file(_write(tmp_path, doc))


def test_one_feature_bigger_than_a_chunk(tmp_path: Path) -> None:
    """A polygon of 50,000 vertices read with 1 KiB chunks (the buffer grows as needed)."""
    ring = [[i % 100, i // 100] for i in range(50_000)] + [[0, 0]]
    doc = {"geometryType": "esriGeometryPolyline", "spatialReference": {"wkid": 3857},
           "fields": [], "features": [{"geometry": {"paths": [ring]}}]}
    decoded = reader.read_file(_write(tmp_path, doc), chunk_chars=1024)
    (feature,) = decoded.features()
    assert feature.geometry().constGet().vertexCount() == 50_001


def _big_file(path: Path, count: int) -> int:
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"geometryType":"esriGeometryPolygon","spatialReference":{"wkid":3857},'
                  '"fields":[{"name":"n","type":"esriFieldTypeString"}],"features":[')
        for i in range(count):
            ring = [[i + k * 0.001, i - k * 0.002] for k in range(20)] + [[i, i]]
            out.write(("," if i else "") + json.dumps(
                {"attributes": {"n": f"feature {i}"}, "geometry": {"rings": [ring]}}))
        out.write("]}")
    return path.stat().st_size


def _peak(path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        decoded = reader.read_file(path, sample_size=100)
        count = sum(1 for _ in decoded.features())
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return count, peak


def test_memory_stays_flat_on_a_big_file(tmp_path: Path) -> None:
    """Streaming: the Python memory peak does not grow with the file (chunk + sample)."""
    small_size = _big_file(tmp_path / "small.json", 6_000)
    big_size = _big_file(tmp_path / "big.json", 30_000)
    small_count, small_peak = _peak(tmp_path / "small.json")
    big_count, big_peak = _peak(tmp_path / "big.json")
    assert (small_count, big_count) == (6_000, 30_000)
    assert big_size > 4.5 * small_size
    assert big_peak < 1.5 * small_peak, (small_peak, big_peak)
    assert big_peak < big_size / 2, (big_peak, big_size)


def test_trailing_comma_is_found_from_either_error_position(tmp_path: Path) -> None:
    """Python < 3.13 reports a trailing comma at the bracket after it, >= 3.13 at the comma."""
    text = '[1,2, \n]'
    with pytest.raises(json.JSONDecodeError) as err:
        json.loads(text)
    comma, bracket = text.index(", "), text.index("]")
    assert err.value.pos == (comma if sys.version_info >= (3, 13) else bracket)
    for pos in (comma, bracket):  # the reader accepts both, whichever Python runs it
        stream = JsonStream(str(tmp_path / "unused.json"))
        stream._buf = text
        assert stream._fix_trailing_comma(pos)
        assert stream._buf == '[1,2 \n]' and stream.trailing_commas == 1
