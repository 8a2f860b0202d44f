"""The file writer's helper process writes the very file the writer writes alone.

``write_feature_set_file(helper=True)`` hands the features' plain values to a second Python
process (esrijson/text_helper.py); these tests compare its files byte for byte with
``helper=False`` on layers holding every case the writer distinguishes, and check cancel,
errors and the fallback when no helper can start.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFeedback,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsMemoryProviderUtils,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QDate, QDateTime, Qt, QTime

from arcgis_gp.esrijson import helper_process, text_helper, writer
from arcgis_gp.esrijson.errors import EsriJsonWriteError
from tests.qgis.esrijson.helpers import child_processes, gdal_layer

pytestmark = pytest.mark.timeout(300)

GEOMETRIES = {
    "Polygon": ["Polygon ((0 0, 0 10, 10 10, 10 0, 0 0))",
                "Polygon ((0 0, 10 0, 10 10, 0 10, 0 0),(2 2, 2 4, 4 4, 4 2, 2 2))",
                "MultiPolygon (((0 0, 1 0, 1 1, 0 0)),((5 5, 6 5, 6 6, 5 5)))",
                "CurvePolygon (CompoundCurve (CircularString (0 0, 5 5, 10 0),(10 0, 0 0)))",
                "Polygon ((0.1 0.2, 1e-300 3, 123456789.12345679 4, 0.1 0.2))",
                "Polygon EMPTY", None],
    "LineStringZM": ["LineStringZM (0 0 1 2, 1 1 3 4, 2 0 5 6)",
                     "MultiLineStringZM ((0 0 1 2, 1 1 3 4),(5 5 1 1, 6 6 2 2))",
                     "CircularStringZM (0 0 1 1, 1 1 1 1, 2 0 1 1)", None],
    "PointM": ["PointM (1.5 -2.25 7)", "PointM (0.30000000000000004 1e22 nan)", None],
    "MultiPoint": ["MultiPoint ((0 0),(1 1))", "Point (3 4)", None],
    "NoGeometry": [None, None],
}


def _layer(kind: str, rows: int | None = None):
    """A memory layer of ``kind`` with every usual field type and awkward values: NULLs,
    NaN and infinite doubles, escapes and non-ASCII text, dates before 1970 and invalid."""
    fields = QgsFields()
    for name, qtype in (("n", "int"), ("big", "int8"), ("x", "double"), ("s", "string"),
                        ("when", "datetime"), ("day", "date")):
        fields.append(QgsField(name, {"int": 2, "int8": 4, "double": 6, "string": 10,
                                      "datetime": 16, "date": 14}[qtype]))
    layer = QgsMemoryProviderUtils.createMemoryLayer(
        kind, fields, QgsWkbTypes.parseType(kind), QgsCoordinateReferenceSystem("EPSG:3857"))
    wkts = GEOMETRIES[kind]
    values = [
        [1, 2**40, 0.1, "plain", QDateTime(QDate(2020, 5, 17), QTime(8, 30), Qt.TimeSpec.UTC),
         QDate(2020, 5, 17)],
        [2, -5, math.nan, 'quote " back \\ tab \t ünï ✓ %s %d', QDateTime(
            QDate(1969, 7, 20), QTime(20, 17, 40, 123), Qt.TimeSpec.UTC), QDate(1900, 1, 1)],
        [None, None, None, None, None, None],
        [4, 0, math.inf, "", QDateTime(), QDate()],
        [5, 1, -0.0, "x" * 300, QDateTime(QDate(2038, 1, 19), QTime(3, 14, 8),
                                          Qt.TimeSpec.LocalTime), QDate(1, 1, 1)],
    ]
    features = []
    for row in range(rows or max(len(wkts), len(values))):
        feature = QgsFeature(layer.fields())
        feature.setAttributes(list(values[row % len(values)]))
        wkt = wkts[row % len(wkts)]
        if wkt is not None:
            feature.setGeometry(QgsGeometry.fromWkt(wkt))
        features.append(feature)
    assert layer.dataProvider().addFeatures(features)[0]
    return layer


@pytest.mark.parametrize("kind", sorted(GEOMETRIES))
@pytest.mark.parametrize("shape", [writer.FEATURE_SET, writer.FEATURE_COLLECTION])
def test_the_helper_writes_the_same_bytes(tmp_path: Path, kind: str, shape: str) -> None:
    layer = _layer(kind, rows=2500)  # three batches, the last one short
    alone, helped = tmp_path / "alone.json", tmp_path / "helped.json"
    assert writer.write_feature_set_file(layer, alone, shape=shape, helper=False) == 2500
    assert writer.write_feature_set_file(layer, helped, shape=shape, helper=True) == 2500
    assert helped.read_bytes() == alone.read_bytes()
    doc = json.loads(helped.read_text(encoding="utf-8"))
    features = (doc["featureSet"] if shape == writer.FEATURE_COLLECTION else doc)["features"]
    assert len(features) == 2500
    assert features[1]["attributes"]["x"] is None  # NaN
    assert features[1]["attributes"]["s"] == 'quote " back \\ tab \t ünï ✓ %s %d'
    assert features[2]["attributes"]["n"] is None
    if kind == "Polygon" and shape == writer.FEATURE_SET:  # GDAL reads feature sets only
        _ds, gdal = gdal_layer(helped)
        assert gdal is not None and gdal.GetFeatureCount() == 2500


def test_a_big_source_uses_the_helper_by_default(tmp_path: Path, monkeypatch) -> None:
    """From HELPER_MIN_FEATURES features on two cores: the helper runs (a child process
    appears while the writer works) and the file is the one written alone; with
    ARCGIS_GP_HELPER=0 no process is started."""
    layer = _layer("Polygon", rows=writer.HELPER_MIN_FEATURES)
    assert helper_process.helper_python() is not None, "Debian has /usr/bin/python3.X"
    before = set(child_processes())  # the suite may run other processes (the reference server)
    children: list[int] = []

    class Watch(QgsFeedback):
        def isCanceled(self) -> bool:  # noqa: N802 - QGIS API name
            children.extend(set(child_processes()) - before)
            return False

    auto, alone = tmp_path / "auto.json", tmp_path / "alone.json"
    writer.write_feature_set_file(layer, auto, feedback=Watch())
    writer.write_feature_set_file(layer, alone, helper=False)
    assert auto.read_bytes() == alone.read_bytes()
    if (os.cpu_count() or 1) > 1:
        assert children, "no helper process ran"
    assert not set(child_processes()) - before, "the helper process outlived the write"

    children.clear()
    monkeypatch.setenv("ARCGIS_GP_HELPER", "0")
    kept = tmp_path / "kept.json"
    writer.write_feature_set_file(layer, kept, feedback=Watch())
    assert children == [] and kept.read_bytes() == alone.read_bytes()


def test_cancel_with_the_helper_leaves_the_same_valid_json(tmp_path: Path) -> None:
    layer = _layer("Polygon", rows=3000)

    class CancelAtFirstCheck(QgsFeedback):
        def isCanceled(self) -> bool:  # noqa: N802 - QGIS API name
            return True

    helped, alone = tmp_path / "helped.json", tmp_path / "alone.json"
    count = writer.write_feature_set_file(layer, helped, feedback=CancelAtFirstCheck(),
                                          helper=True)
    writer.write_feature_set_file(layer, alone, feedback=CancelAtFirstCheck(), helper=False)
    assert count == 999
    assert helped.read_bytes() == alone.read_bytes()
    assert len(json.loads(helped.read_text(encoding="utf-8"))["features"]) == 999


def test_what_esri_json_cannot_hold_is_the_same_error_with_the_helper(tmp_path: Path) -> None:
    """A two-point multipoint in a point layer: the helper's error is the writer's."""
    fields = QgsFields()
    layer = QgsMemoryProviderUtils.createMemoryLayer(
        "p", fields, QgsWkbTypes.Type.Point, QgsCoordinateReferenceSystem("EPSG:4326"))
    feature = QgsFeature(fields)
    feature.setGeometry(QgsGeometry.fromWkt("MultiPoint ((0 0),(1 1))"))
    assert layer.dataProvider().addFeatures([feature])[0]
    messages = []
    for helper in (False, True):
        with pytest.raises(EsriJsonWriteError) as caught:
            writer.write_feature_set_file(layer, tmp_path / f"{helper}.json", helper=helper)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert "multipoint cannot be written to a point feature set" in messages[1]


def test_no_interpreter_means_no_helper_and_the_writer_goes_on(tmp_path: Path) -> None:
    spec = {"geometry": None, "attributes": None}
    assert text_helper.TextHelper.start(str(tmp_path / "x.json"), spec,
                                        python=str(tmp_path / "no-python")) is None
    # an interpreter that starts but does not answer 'ready' (not a Python: exits at once)
    assert text_helper.TextHelper.start(str(tmp_path / "x.json"), spec,
                                        python="/bin/false") is None


def test_a_broken_helper_is_a_clear_error(tmp_path: Path) -> None:
    """Values the helper was not told how to write: it stops with a message naming it."""
    path = tmp_path / "x.json"
    path.write_text("")
    helper = text_helper.TextHelper.start(str(path), {"geometry": None, "attributes": None})
    assert helper is not None
    helper.send([[1, 2]] * 3, None)  # attribute values, but the spec gave no attributes
    with pytest.raises(EsriJsonWriteError) as caught:
        helper.finish()
    text = str(caught.value)
    assert f"The helper process writing {path} failed (AttributeError" in text
    assert "the file is incomplete" in text and "ARCGIS_GP_HELPER=0" in text


def test_the_helper_imports_no_qgis() -> None:
    """The helper runs without QGIS: its modules import in a plain interpreter (-I -S)."""
    root = Path(helper_process.__file__).absolute().parents[2]
    package = helper_process.__name__.rsplit(".", 2)[0]
    code = (f"import sys; sys.path.insert(0, {str(root)!r}); "
            f"import {package}.esrijson.text_helper, {package}.esrijson.read_helper; "
            "print(sorted(m for m in sys.modules if m.startswith(('qgis', 'PyQt'))))")
    out = subprocess.run([helper_process.helper_python() or sys.executable, "-I", "-S", "-c",
                          code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
