"""The GP type table on descriptions the reference server does not publish.

Multiple layers and files, fields tied to a layer, unusual units and defaults, empty
optional inputs, CRS without an EPSG code; conversions run for real (uploads go to the
reference server), with Processing's own parameter evaluation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from osgeo import gdal
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingParameterDefinition,
    QgsProject,
    QgsVectorLayer,
)

from arcgis_gp.gp_client.client import GPClient
from arcgis_gp.gp_client.model import ServiceDescription, TaskDescription
from arcgis_gp.provider.algorithm import GpTaskAlgorithm, TaskSpec
from arcgis_gp.provider.connections import Connection, normalize_url
from arcgis_gp.provider.naming import algorithm_name, service_path, slug
from arcgis_gp.provider.parameters import (
    MISSING,
    RunEnv,
    crs_to_sr,
    gp_type,
    sr_to_crs,
)
from arcgis_gp.provider.qgis_transport import QgisTransport

pytestmark = pytest.mark.timeout(60)

IN = "esriGPParameterDirectionInput"
OPTIONAL = "esriGPParameterTypeOptional"
REQUIRED = "esriGPParameterTypeRequired"


def param(name: str, data_type: str, **more: Any) -> dict:
    """One task parameter as a server would publish it."""
    return {"name": name, "dataType": data_type, "displayName": name.replace("_", " "),
            "description": f"{name} help", "direction": IN,
            "parameterType": more.pop("parameterType", OPTIONAL), **more}


@pytest.fixture()
def algorithm(gpserver_url: str) -> GpTaskAlgorithm:
    """An algorithm for a made-up task of the reference server's Demo/Analysis service."""
    service_url = gpserver_url + "/arcgis/rest/services/Demo/Analysis/GPServer"
    task = TaskDescription.from_json({
        "name": "Made_Up", "displayName": "Made up", "description": "Not on the server.",
        "executionType": "esriExecutionTypeAsynchronous",
        "parameters": [
            param("Layers", "GPMultiValue:GPFeatureRecordSetLayer"),
            param("Files", "GPMultiValue:GPDataFile"),
            param("Rasters", "GPMultiValue:GPRasterDataLayer"),
            param("Colours", "GPMultiValue:GPString", choiceList=["red", "green", "blue"],
                  defaultValue=["green", "blue"]),
            param("Points", "GPFeatureRecordSetLayer", parameterType=REQUIRED),
            param("Key_Field", "Field", dependency="Points",
                  defaultValue={"name": "Name", "type": "esriFieldTypeString"}),
            param("Reach", "GPLinearUnit", defaultValue={"distance": 2, "units": "esriFurlongs"},
                  category="Advanced"),
            param("Note", "GPString"),
        ],
    }, url=service_url + "/Made_Up")
    service = ServiceDescription.from_json(
        {"currentVersion": 10.91, "executionType": "esriExecutionTypeAsynchronous",
         "capabilities": "Uploads", "tasks": ["Made_Up"]}, url=service_url).with_tasks((task,))
    spec = TaskSpec(connection=Connection("Test Server", service_url), service=service,
                    task=task, name=algorithm_name("Test Server", service_url, task.name),
                    group="g", group_id="g")
    alg = GpTaskAlgorithm(spec)
    alg.initAlgorithm()
    return alg


def points(names: list[str]) -> QgsVectorLayer:
    """A memory layer of named points."""
    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=Name:string(10)", "p", "memory")
    for i, name in enumerate(names):
        feature = QgsFeature(layer.fields())
        feature.setAttributes([name])
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(i, i)))
        layer.dataProvider().addFeature(feature)
    QgsProject.instance().addMapLayer(layer)
    return layer


def env_for(alg: GpTaskAlgorithm, parameters: dict, tmp_path: Path) -> RunEnv:
    """A run environment whose uploads really go to the reference server."""
    client = GPClient(transport=QgisTransport())
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    service_url = alg.spec.service.url
    return RunEnv(algorithm=alg, parameters=parameters, context=context,
                  feedback=QgsProcessingFeedback(), work_dir=str(tmp_path),
                  upload=lambda path: client.upload(service_url, path),
                  download=lambda url, folder: client.download(url, folder),
                  get_json=client.get_json)


def wire(alg: GpTaskAlgorithm, env: RunEnv, name: str) -> Any:
    """The wire value of one input."""
    p = alg.spec.task.parameter(name)
    return gp_type(p.data_type).to_wire(p, env)


def test_made_up_task_parameters(algorithm: GpTaskAlgorithm) -> None:
    assert algorithm.name() == "test_server_demo_analysis_made_up"
    kinds = {d.name(): d.type() for d in algorithm.parameterDefinitions()
             if not d.name().startswith("ARCGISGP_")}  # ours: test_split_context
    assert kinds == {
        "Layers": "multilayer", "Files": "multilayer", "Rasters": "multilayer",
        "Colours": "enum", "Points": "source", "Key_Field": "field", "Reach": "number",
        "Reach_units": "enum", "Note": "string",
    }
    colours = algorithm.parameterDefinition("Colours")
    assert colours.allowMultiple() and colours.defaultValue() == [1, 2]
    key = algorithm.parameterDefinition("Key_Field")
    assert key.parentLayerParameterName() == "Points"
    assert key.defaultValue() == "Name"
    reach_units = algorithm.parameterDefinition("Reach_units")
    assert reach_units.options()[reach_units.defaultValue()] == "Furlongs"
    for name in ("Reach", "Reach_units"):
        flags = algorithm.parameterDefinition(name).flags()
        assert flags & QgsProcessingParameterDefinition.Flag.FlagAdvanced
    assert not algorithm.parameterDefinition("Points").flags() & \
        QgsProcessingParameterDefinition.Flag.FlagOptional


def test_made_up_task_conversions(algorithm: GpTaskAlgorithm, tmp_path: Path) -> None:
    one, two = points(["a"]), points(["b", "c"])
    text = tmp_path / "a.csv"
    text.write_text("x,y\n1,2\n", encoding="utf-8")
    raster = tmp_path / "r.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(raster), 2, 2, 1, gdal.GDT_Byte)
    ds.SetGeoTransform((0, 1, 0, 2, 0, -1))
    ds = None
    parameters = {
        "Layers": [one, two], "Files": [str(text), "https://files.example/b.csv"],
        "Rasters": [str(raster)], "Colours": [0, 2], "Points": one, "Key_Field": "Name",
        "Reach": 1.5, "Note": "",
    }
    env = env_for(algorithm, parameters, tmp_path)
    layers = wire(algorithm, env, "Layers")
    assert [len(fs["features"]) for fs in layers] == [1, 2]
    assert layers[1]["features"][0]["attributes"]["Name"] == "b"
    files = wire(algorithm, env, "Files")
    assert files[0]["itemID"] and files[1] == {"url": "https://files.example/b.csv"}
    rasters = wire(algorithm, env, "Rasters")
    assert rasters[0]["itemID"]
    assert wire(algorithm, env, "Colours") == ["red", "blue"]
    assert wire(algorithm, env, "Key_Field") == "Name"
    assert wire(algorithm, env, "Reach") == {"distance": 1.5, "units": "esriFurlongs"}
    assert wire(algorithm, env, "Note") is MISSING  # empty optional input: not sent
    assert env.crs_used and env.crs_used[0].authid() == "EPSG:4326"


def test_missing_file_says_what_to_do(algorithm: GpTaskAlgorithm, tmp_path: Path) -> None:
    from qgis.core import QgsProcessingException

    env = env_for(algorithm, {"Files": [str(tmp_path / "nope.csv")]}, tmp_path)
    with pytest.raises(QgsProcessingException) as caught:
        wire(algorithm, env, "Files")
    assert "nope.csv" in str(caught.value) and "is not a file" in str(caught.value)


def test_spatial_references() -> None:
    assert crs_to_sr(QgsCoordinateReferenceSystem("EPSG:2154")) == \
        {"wkid": 2154, "latestWkid": 2154}
    assert crs_to_sr(QgsCoordinateReferenceSystem("EPSG:3857")) == \
        {"wkid": 102100, "latestWkid": 3857}
    custom = QgsCoordinateReferenceSystem.fromProj(
        "+proj=lcc +lat_1=40 +lat_2=50 +lat_0=45 +lon_0=5 +datum=WGS84 +units=m +no_defs")
    sr = crs_to_sr(custom)
    assert list(sr) == ["wkt"] and "PROJCS" in sr["wkt"]
    assert sr_to_crs({"wkid": 102100, "latestWkid": 3857}).authid() == "EPSG:3857"
    assert sr_to_crs({"wkid": 102100}).authid() == "EPSG:3857"
    assert not sr_to_crs(None).isValid()


def test_names_and_urls() -> None:
    assert slug("Böblingen GIS-Server (prod)") == "b_blingen_gis_server_prod"
    assert service_path("https://h.example/arcgis/rest/services/A/B/GPServer") == "A/B"
    assert service_path("https://h.example/server/rest/services/Tools/GPServer/") == "Tools"
    assert algorithm_name("ArcGIS Online", "https://analysis.arcgis.com/arcgis/rest/services/"
                          "tasks/GPServer", "CreateBuffers") == "arcgis_online_tasks_createbuffers"
    assert normalize_url(" https://www.arcgis.com/ ") == "https://www.arcgis.com/sharing/rest"
    assert normalize_url("https://org.maps.arcgis.com") == \
        "https://org.maps.arcgis.com/sharing/rest"
    assert normalize_url("https://h.example/arcgis/rest/services/") == \
        "https://h.example/arcgis/rest/services"


def test_raw_json_fallback_keeps_text_that_is_not_json(algorithm: GpTaskAlgorithm,
                                                       tmp_path: Path) -> None:
    raw = TaskDescription.from_json({"name": "T", "parameters": [
        param("Odd", "GPThing")]}, url=algorithm.spec.task.url)
    p = raw.parameters[0]
    spec = TaskSpec(connection=algorithm.spec.connection, service=algorithm.spec.service,
                    task=raw, name="t", group="g", group_id="g")
    alg = GpTaskAlgorithm(spec)
    alg.initAlgorithm()
    for given, expected in (('{"a": [1, 2]}', {"a": [1, 2]}), ("plain words", "plain words")):
        env = env_for(alg, {"Odd": given}, tmp_path)
        assert gp_type(p.data_type).to_wire(p, env) == expected
    assert "no Processing equivalent" in alg.parameterDefinition("Odd").help()


@pytest.mark.parametrize("given, sent", [
    (["blue", "red"], ["blue", "red"]),
    ("red,blue", ["red", "blue"]),
    ([0, "Blue"], ["red", "blue"]),
    ([2], ["blue"]),
])
def test_multiple_choices_by_name(algorithm: GpTaskAlgorithm, tmp_path: Path, given: Any,
                                  sent: list) -> None:
    """A choice list allowing several values takes names (a list or 'a,b') and indexes."""
    parameters = {"Colours": given, "Points": points(["a"])}
    ok, message = algorithm.checkParameterValues(parameters, QgsProcessingContext())
    assert ok, message
    by_index = algorithm.normalized_parameters(parameters)
    assert wire(algorithm, env_for(algorithm, by_index, tmp_path), "Colours") == sent


def test_unit_by_name_and_unknown_unit(algorithm: GpTaskAlgorithm) -> None:
    context = QgsProcessingContext()
    base = {"Points": points(["a"]), "Reach": 3}
    assert algorithm.checkParameterValues({**base, "Reach_units": "esriFurlongs"}, context)[0]
    assert algorithm.checkParameterValues({**base, "Reach_units": "miles"}, context)[0]
    ok, message = algorithm.checkParameterValues({**base, "Reach_units": "parsecs"}, context)
    assert not ok and "Reach" in message


def test_field_to_wire_uses_no_deprecated_api(algorithm: GpTaskAlgorithm, tmp_path: Path) -> None:
    """QGIS >= 3.40 deprecates parameterAsFields (a DeprecationWarning): parameterAsStrings."""
    import warnings

    env = env_for(algorithm, {"Points": points(["a"]), "Key_Field": "Name"}, tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert wire(algorithm, env, "Key_Field") == "Name"
