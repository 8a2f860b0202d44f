"""The two utility algorithms, through Processing and through ``qgis_process.bin``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from qgis.core import (
    QgsApplication,
    QgsCategorizedSymbolRenderer,
    QgsFeature,
    QgsGeometry,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingFeedback,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingUtils,
    QgsProject,
    QgsVectorLayer,
    QgsWkbTypes,
)

from arcgis_gp.esrijson import reader
from arcgis_gp.provider.esrijson_algorithms import (
    EsriJsonToLayerAlgorithm,
    LayerToEsriJsonAlgorithm,
)
from tests.qgis.esrijson.helpers import REPO_ROOT, qgis_wkt, recorded, vertices

pytestmark = pytest.mark.timeout(300)

QGIS_PROCESS = "qgis_process.bin"


@pytest.fixture()
def processing(qgis_processing: Any) -> Any:
    """The ``processing`` Python module, initialised by pytest-qgis."""
    import processing as module

    return module


def _gpkg_features(path: Path) -> list[QgsFeature]:
    layer = QgsVectorLayer(str(path), "out", "ogr")
    assert layer.isValid(), path
    return list(layer.getFeatures())


def test_esri_json_to_geopackage(processing: Any, tmp_path: Path) -> None:
    """INPUT Esri JSON file -> OUTPUT sink (a GeoPackage): same features as the reader."""
    source = recorded("arcgis-rest-js-featureservice", "arcgis", "LineHasZM.json")
    out = tmp_path / "out.gpkg"
    result = processing.run(EsriJsonToLayerAlgorithm(), {"INPUT": str(source),
                                                          "OUTPUT": str(out)})
    assert result["FEATURE_COUNT"] == 3
    layer = QgsVectorLayer(result["OUTPUT"], "out", "ogr")
    assert layer.wkbType() == QgsWkbTypes.Type.MultiLineStringZM
    assert layer.crs().authid() == "EPSG:3857"
    expected = list(reader.read_file(source).features())
    got = list(layer.getFeatures())
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert a["GlobalID"] == b["GlobalID"]
        assert vertices(a.geometry()) == vertices(b.geometry())


def test_layer_to_esri_json_selected_only(processing: Any, tmp_path: Path) -> None:
    """INPUT layer (selected features only) -> OUTPUT .json FeatureSet."""
    layer = QgsVectorLayer("Polygon?crs=EPSG:4326&field=n:integer", "polys", "memory")
    features = []
    for n in range(5):
        feature = QgsFeature(layer.fields())
        feature.setAttributes([n])
        feature.setGeometry(QgsGeometry.fromWkt(
            f"Polygon (({n} 0, {n + 1} 0, {n + 1} 1, {n} 1, {n} 0))"))
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    QgsProject.instance().addMapLayer(layer)
    try:
        layer.selectByIds([f.id() for f in layer.getFeatures() if f["n"] in (1, 3)])
        out = tmp_path / "sel.json"
        result = processing.run(LayerToEsriJsonAlgorithm(), {
            "INPUT": QgsProcessingFeatureSourceDefinition(layer.id(), True),
            "OUTPUT": str(out)})
    finally:
        QgsProject.instance().removeMapLayer(layer.id())
    assert result["FEATURE_COUNT"] == 2
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["geometryType"] == "esriGeometryPolygon"
    assert doc["spatialReference"] == {"wkid": 4326, "latestWkid": 4326}
    assert sorted(f["attributes"]["n"] for f in doc["features"]) == [1, 3]


def test_feature_collection_style_is_applied_when_loaded(qgis_processing: Any,
                                                         tmp_path: Path) -> None:
    """A FeatureCollection's drawingInfo styles the layer Processing loads."""
    symbol = {"type": "esriSFS", "style": "esriSFSSolid", "color": [255, 0, 0, 255]}
    doc = {"layerDefinition": {
        "geometryType": "esriGeometryPolygon",
        "fields": [{"name": "kind", "type": "esriFieldTypeString"}],
        "drawingInfo": {"renderer": {"type": "uniqueValue", "field1": "kind",
                                     "uniqueValueInfos": [{"value": "a", "symbol": symbol}]}}},
        "featureSet": {"geometryType": "esriGeometryPolygon", "spatialReference": {"wkid": 4326},
                       "features": [{"attributes": {"kind": "a"},
                                     "geometry": {"rings": [[[0, 0], [0, 1], [1, 1], [0, 0]]]}}]}}
    path = tmp_path / "fc.json"
    path.write_text(json.dumps(doc))
    project = QgsProject()
    context = QgsProcessingContext()
    context.setProject(project)
    feedback = QgsProcessingFeedback()
    algorithm = EsriJsonToLayerAlgorithm()
    algorithm.initAlgorithm()
    output = QgsProcessingOutputLayerDefinition("TEMPORARY_OUTPUT", project)
    results, ok = algorithm.run({"INPUT": str(path), "OUTPUT": output}, context, feedback)
    assert ok
    dest = results["OUTPUT"]
    assert context.willLoadLayerOnCompletion(dest)
    # what Processing does when it loads the results (processing/gui/Postprocessing.py)
    layer = QgsProcessingUtils.mapLayerFromString(dest, context)
    assert layer is not None and layer.featureCount() == 1
    details = context.layerToLoadOnCompletionDetails(dest)
    assert details.postProcessor() is not None
    details.postProcessor().postProcessLayer(layer, context, feedback)
    assert isinstance(layer.renderer(), QgsCategorizedSymbolRenderer)
    assert layer.renderer().classAttribute() == "kind"


def test_bad_input_is_a_processing_error(processing: Any, tmp_path: Path) -> None:
    """Not an Esri feature set: the run fails with the reader's message."""
    bad = recorded("pyesridump", "us-mi-kent-statistics.json")
    with pytest.raises(QgsProcessingException, match="error response.*code 400"):
        processing.run(EsriJsonToLayerAlgorithm(), {"INPUT": str(bad),
                                                    "OUTPUT": str(tmp_path / "x.gpkg")})
    broken = tmp_path / "broken.json"
    broken.write_text('{"fields": [], "features": [{"geometry": {"x": 1 "y": 2}}]}')
    with pytest.raises(QgsProcessingException, match="line 1 column"):
        processing.run(EsriJsonToLayerAlgorithm(), {"INPUT": str(broken),
                                                    "OUTPUT": str(tmp_path / "y.gpkg")})


def test_record_set_to_a_table(processing: Any, tmp_path: Path) -> None:
    """A record set (no geometry) becomes a GeoPackage table."""
    doc = {"displayFieldName": "", "fields": [{"name": "a", "type": "esriFieldTypeInteger"},
                                              {"name": "d", "type": "esriFieldTypeDate"}],
           "features": [{"attributes": {"a": 1, "d": -86400000}},
                        {"attributes": {"a": None, "d": None}}]}
    path = tmp_path / "table.json"
    path.write_text(json.dumps(doc))
    out = tmp_path / "table.gpkg"
    result = processing.run(EsriJsonToLayerAlgorithm(), {"INPUT": str(path), "OUTPUT": str(out)})
    layer = QgsVectorLayer(result["OUTPUT"], "table", "ogr")
    assert layer.isValid() and not layer.isSpatial()
    rows = [(f["a"], f["d"].toString("yyyy-MM-dd") if f["d"] else None)
            for f in layer.getFeatures()]
    assert rows == [(1, "1969-12-31"), (None, None)]


def test_run_method_directly(tmp_path: Path, qgis_processing: Any) -> None:
    """QgsProcessingAlgorithm.run() on an initialised instance, no Python wrapper."""
    algorithm = EsriJsonToLayerAlgorithm()
    algorithm.initAlgorithm()
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    out = tmp_path / "direct.gpkg"
    results, ok = algorithm.run({"INPUT": str(recorded("gdal-esrijson", "esrizpoint.json")),
                                 "OUTPUT": str(out)}, context, QgsProcessingFeedback())
    assert ok and results["FEATURE_COUNT"] == 1
    (feature,) = _gpkg_features(out)
    assert feature.geometry().asWkt() == qgis_wkt("PointZ (2 49 1)")


# -- qgis_process in a throwaway profile ------------------------------------------------------


@pytest.fixture(scope="module")
def qgis_process_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment of a throwaway profile with this plugin symlinked and enabled."""
    if shutil.which(QGIS_PROCESS) is None:
        pytest.fail(f"{QGIS_PROCESS} is not installed (Debian package 'qgis')")
    root = tmp_path_factory.mktemp("esrijson_profile")
    plugins = root / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "arcgis_gp").symlink_to(REPO_ROOT, target_is_directory=True)
    env = dict(os.environ, QGIS_CUSTOM_CONFIG_PATH=str(root), QT_QPA_PLATFORM="offscreen")
    env.pop("ARCGIS_GP_CONNECTIONS", None)
    done = subprocess.run([QGIS_PROCESS, "plugins", "enable", "arcgis_gp"], env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout + done.stderr
    return env


def _qgis_process(env: dict[str, str], *args: str) -> dict:
    done = subprocess.run([QGIS_PROCESS, "run", *args, "--json"], env=env, capture_output=True,
                          text=True, timeout=240, stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return json.loads(done.stdout[done.stdout.index("{"):])


def test_qgis_process_round_trip(qgis_process_env: dict[str, str], tmp_path: Path) -> None:
    """arcgisgp:esrijsontolayer then arcgisgp:layertoesrijson from the command line."""
    source = recorded("arcgis-rest-js-featureservice", "arcgis", "LineHasZM.json")
    gpkg = tmp_path / "lines.gpkg"
    report = _qgis_process(qgis_process_env, "arcgisgp:esrijsontolayer", "--",
                           f"INPUT={source}", f"OUTPUT={gpkg}")
    assert report["results"]["FEATURE_COUNT"] == 3
    back = tmp_path / "lines.json"
    report = _qgis_process(qgis_process_env, "arcgisgp:layertoesrijson", "--",
                           f"INPUT={gpkg}", f"OUTPUT={back}")
    assert report["results"]["FEATURE_COUNT"] == 3
    original = list(reader.read_file(source).features())
    again = reader.read_file(back)
    assert again.wkb_type == QgsWkbTypes.Type.MultiLineStringZM
    assert again.crs.authid() == "EPSG:3857"
    for a, b in zip(original, again.features()):
        assert vertices(a.geometry()) == vertices(b.geometry())
        assert a["GlobalID"] == b["GlobalID"]


def test_qgis_process_lists_and_describes(qgis_process_env: dict[str, str]) -> None:
    """Both algorithms are registered by the provider and documented."""
    done = subprocess.run([QGIS_PROCESS, "help", "arcgisgp:layertoesrijson"],
                          env=qgis_process_env, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert "INPUT" in done.stdout and "OUTPUT" in done.stdout and "SHAPE" in done.stdout
    registry = QgsApplication.processingRegistry()
    assert registry is not None
