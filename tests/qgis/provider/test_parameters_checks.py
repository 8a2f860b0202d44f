"""Inputs refused before anything is sent: missing, wrong geometry, out of range, too many.

checkParameterValues is what the dialog (processing/gui/AlgorithmDialog.py runAlgorithm shows
its message in a box), batch runs and models call, and what processing.run calls before
processAlgorithm: each refusal is asserted there, with the reference server counting every
request to the task (none may arrive). The dialog's widgets keep out most of it already (a
spin box stops at the range's ends, the layer list offers the filter's geometry types).
"""

from __future__ import annotations

from typing import Any

import pytest
from qgis.core import (
    QgsFeature,
    QgsGeometry,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProject,
    QgsVectorLayer,
)

from arcgis_gp.gp_client.model import TaskDescription
from arcgis_gp.provider.algorithm import GpTaskAlgorithm
from arcgis_gp.provider.parameters.checks import one_result_per_feature
from arcgis_gp.provider.provider import GpProvider

from .helpers import algorithm_for, jobs_of, point_layer, recorded_task, run

pytestmark = pytest.mark.timeout(120)

ANALYSIS = "arcgisgp:local_demo_analysis_"
SYNC = "arcgisgp:local_demo_analysissync_"


@pytest.fixture()
def requests_to(gpserver_faults: Any) -> Any:
    """Count the server's requests whose path matches a pattern (a delay of 0 s, every one)."""
    def counter(pattern: str) -> Any:
        return gpserver_faults.add(pattern, "delay", count=None, seconds=0)
    return counter


def layer(definition: str, wkts: list[str], name: str) -> QgsVectorLayer:
    """A memory layer ('LineString?crs=EPSG:4326', 'None' for a table) with the geometries."""
    made = QgsVectorLayer(definition + "&field=Name:string(10)" if "?" in definition
                          else definition + "?field=Name:string(10)", name, "memory")
    features = []
    for i, wkt in enumerate(wkts):
        feature = QgsFeature(made.fields())
        feature.setAttributes([f"f{i}"])
        if wkt:
            feature.setGeometry(QgsGeometry.fromWkt(wkt))
        features.append(feature)
    made.dataProvider().addFeatures(features)
    QgsProject.instance().addMapLayer(made)
    return made


def refused(alg_id: str, parameters: dict) -> str:
    """Run and return the refusal's text (the run must fail)."""
    with pytest.raises(QgsProcessingException) as caught:
        run(alg_id, parameters)
    return str(caught.value)


def test_number_out_of_range(served_provider: GpProvider, requests_to: Any, gpserver: Any) -> None:
    sleep_requests = requests_to(r"/Sleep/")
    jobs_before = jobs_of(gpserver, "Sleep")
    text = refused(ANALYSIS + "sleep", {"Seconds": 7200})
    assert "Seconds (Seconds): 7200 is outside the range the service takes, 0 to 3600" in text
    assert "Nothing was sent to the server" in text
    ok, message = provider_algorithm(ANALYSIS + "sleep").checkParameterValues(
        {"Seconds": -1}, QgsProcessingContext())
    assert not ok and "-1 is outside the range" in message
    assert provider_algorithm(ANALYSIS + "sleep").checkParameterValues(
        {"Seconds": 3600}, QgsProcessingContext())[0]  # the range includes its ends
    assert sleep_requests.hits == 0 and jobs_of(gpserver, "Sleep") == jobs_before


def provider_algorithm(alg_id: str) -> GpTaskAlgorithm:
    """A fresh instance of a registered algorithm."""
    from qgis.core import QgsApplication

    return QgsApplication.processingRegistry().createAlgorithmById(alg_id)


def test_a_table_where_features_are_expected(served_provider: GpProvider, requests_to: Any) -> None:
    copy_requests = requests_to(r"/CopyFeatures/")
    table = layer("None", ["", ""], "plain table")
    text = refused(SYNC + "copyfeatures", {"Input_Features": table,
                                           "Output_Features": "TEMPORARY_OUTPUT"})
    assert "Input Features (Input_Features): the service takes point, line or polygon " \
           "layers only, and 'plain table' is a table without geometry." in text
    assert copy_requests.hits == 0


def test_a_required_input_left_empty(served_provider: GpProvider, requests_to: Any) -> None:
    buffer_requests = requests_to(r"/BufferFeatures/")
    text = refused(ANALYSIS + "bufferfeatures", {"Distance": 5,
                                                 "Output_Features": "TEMPORARY_OUTPUT"})
    assert "Input Features (Input_Features) is required by the task: give a value." in text
    assert buffer_requests.hits == 0
    # a required input with a default in the description is not missing
    ok, message = provider_algorithm(ANALYSIS + "sleep").checkParameterValues(
        {}, QgsProcessingContext())
    assert ok, message


def test_good_inputs_still_run(served_provider: GpProvider, requests_to: Any) -> None:
    copy_requests = requests_to(r"/CopyFeatures/execute")
    lines = layer("LineString?crs=EPSG:4326", ["LineString (0 0, 1 1)"], "lines")
    result = run(SYNC + "copyfeatures", {"Input_Features": lines,
                                         "Output_Features": "TEMPORARY_OUTPUT"})
    assert result["Output_Features"]
    assert copy_requests.hits == 1


def filtered_task(service_url: str, maximum_records: int = 1000) -> GpTaskAlgorithm:
    """A task whose description filters geometry and numbers and gives a result per feature."""
    def param(name: str, data_type: str, **more: Any) -> dict:
        return {"name": name, "dataType": data_type, "displayName": name.replace("_", " "),
                "description": "", "direction": "esriGPParameterDirectionInput",
                "parameterType": "esriGPParameterTypeOptional", "category": "", **more}

    output_schema = {"geometryType": "esriGeometryPoint", "fields": [
        {"name": "OBJECTID", "type": "esriFieldTypeOID"},
        {"name": "ORIG_FID", "type": "esriFieldTypeInteger"}], "features": []}
    task = TaskDescription.from_json({
        "name": "ToPoints", "executionType": "esriExecutionTypeAsynchronous", "parameters": [
            param("Stops", "GPFeatureRecordSetLayer", parameterType="esriGPParameterTypeRequired",
                  filter={"type": "featureClass", "list": ["esriGeometryPoint",
                                                           "esriGeometryMultipoint"]}),
            param("Areas", "GPMultiValue:GPFeatureRecordSetLayer", parameterInfos=[
                {"name": "Feature Set", "dataType": "GPFeatureRecordSetLayer",
                 "filter": {"type": "featureClass", "list": ["esriGeometryPolygon"]}}]),
            param("Levels", "GPMultiValue:GPLong",
                  filter={"type": "range", "minimum": 1, "maximum": 10}),
            param("Resolution", "GPLong", filter={"type": "range", "minimum": 0, "maximum": 15}),
            {**param("Out", "GPFeatureRecordSetLayer"), "defaultValue": output_schema,
             "direction": "esriGPParameterDirectionOutput",
             "parameterType": "esriGPParameterTypeDerived"},
        ]}, url=service_url + "/ToPoints")
    return algorithm_for(task, service_url, maximumRecords=maximum_records)


def check(alg: GpTaskAlgorithm, parameters: dict) -> tuple[bool, str]:
    return alg.checkParameterValues({"Out": "TEMPORARY_OUTPUT", **parameters},
                                    QgsProcessingContext())


def test_filters_checked_on_a_described_task(gpserver_url: str, requests_to: Any) -> None:
    url = gpserver_url + "/arcgis/rest/services/Demo/Limited/GPServer"
    everything = requests_to(r".")
    alg = filtered_task(url)
    points = point_layer([(0, 0, "a"), (1, 1, "b")])
    multipoints = layer("MultiPoint?crs=EPSG:4326", ["MultiPoint ((0 0), (1 1))"], "mp")
    lines = layer("LineString?crs=EPSG:4326", ["LineString (0 0, 1 1)"], "roads")
    polygons = layer("Polygon?crs=EPSG:4326", ["Polygon ((0 0, 1 0, 1 1, 0 0))"], "parks")
    assert check(alg, {"Stops": points}) == (True, "")
    assert check(alg, {"Stops": multipoints})[0]  # multipoint counts as point
    ok, message = check(alg, {"Stops": lines})
    assert not ok
    assert message.startswith("Stops (Stops): the service takes point layers only, and "
                              "'roads' is a line layer. Choose a point layer.")
    ok, message = check(alg, {"Stops": points, "Areas": [polygons, lines]})
    assert not ok and "Areas (Areas): the service takes polygon layers only" in message
    assert check(alg, {"Stops": points, "Areas": [polygons]})[0]
    ok, message = check(alg, {"Stops": points, "Levels": "2;11"})
    assert not ok and "Levels (Levels): 11 is outside the range the service takes, 1 to 10" \
        in message
    assert check(alg, {"Stops": points, "Levels": "[1, 10]"})[0]
    ok, message = check(alg, {"Stops": points, "Resolution": 16})
    assert not ok and "16 is outside the range the service takes, 0 to 15" in message
    ok, message = check(alg, {"Resolution": 3})
    assert not ok and "Stops (Stops) is required by the task" in message
    assert everything.hits == 0


def test_more_features_than_one_result_may_hold(gpserver_url: str, requests_to: Any) -> None:
    url = gpserver_url + "/arcgis/rest/services/Demo/Limited/GPServer"
    everything = requests_to(r".")
    alg = filtered_task(url, maximum_records=5)
    twelve = point_layer([(0.1 * i, 0, f"p{i}") for i in range(12)])
    ok, message = check(alg, {"Stops": twelve})
    assert not ok
    assert message.startswith(
        "Stops (Stops) has 12 features, but Demo/Limited returns at most 5 features in one "
        "result (its maximumRecords) and this task gives one result per input feature")
    assert "ARCGISGP_SPLIT" in message and "to 5 or fewer" in message
    assert check(alg, {"Stops": twelve, "ARCGISGP_SPLIT": 5}) == (True, "")
    assert not check(alg, {"Stops": twelve, "ARCGISGP_SPLIT": 6})[0]
    assert check(alg, {"Stops": point_layer([(0, 0, "a")] * 5)})[0]
    with pytest.raises(QgsProcessingException, match="has 12 features"):
        import processing

        processing.run(alg, {"Stops": twelve, "Out": "TEMPORARY_OUTPUT"})
    assert everything.hits == 0


def test_which_tasks_give_one_result_per_feature() -> None:
    """Esri's documented example publishes ORIG_FID in its output schema; others do not."""
    example = recorded_task("gp-task.md.example1.FeatureFiltersLinePolygon.json")
    assert one_result_per_feature(example).name == "Input_Features"
    assert one_result_per_feature(recorded_task("createbuffers.tool.json")) is None
    assert one_result_per_feature(recorded_task("aggregatepoints.tool.json")) is None



def test_the_dialog_keeps_numbers_in_range(qgis_iface: Any, served_provider: GpProvider,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """In Processing's dialog the range filter is the spin box's limits."""
    from processing.gui.AlgorithmDialog import AlgorithmDialog
    from qgis.gui import QgsBrowserGuiModel

    model = QgsBrowserGuiModel()  # 3.22's dialog asks the iface for one: pytest-qgis has none
    monkeypatch.setattr(qgis_iface, "browserModel", lambda: model, raising=False)
    dialog = AlgorithmDialog(provider_algorithm(ANALYSIS + "sleep"), False,
                             qgis_iface.mainWindow())
    dialog.show()
    seconds = dialog.mainWidget().wrappers["Seconds"]
    seconds.setParameterValue(7200, QgsProcessingContext())
    assert seconds.parameterValue() == 3600
    seconds.setParameterValue(-5, QgsProcessingContext())
    assert seconds.parameterValue() == 0
    dialog.close()
