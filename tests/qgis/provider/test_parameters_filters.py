"""Task filters shape the parameters: layer types, number ranges, value lists, file types.

Against every real task description of ../shared/fixtures/real-tasks (as recorded) and the
reference server's published filters; value lists and file filters, which no recorded task
has, on descriptions written here.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from qgis.core import (
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
)

from arcgis_gp.gp_client.model import TaskDescription
from arcgis_gp.provider.algorithm import GpTaskAlgorithm
from arcgis_gp.provider.provider import GpProvider
from tests.paths import REAL_TASKS

from .helpers import DESCRIBED_URL, algorithm_for, recorded_task, wire_value

pytestmark = pytest.mark.timeout(120)

POINT = QgsProcessing.SourceType.TypeVectorPoint
LINE = QgsProcessing.SourceType.TypeVectorLine
POLYGON = QgsProcessing.SourceType.TypeVectorPolygon
ANY = QgsProcessing.SourceType.TypeVectorAnyGeometry
# What each Esri geometry type is offered as (QGIS's point layers hold multipoints too).
EXPECTED_KIND = {"esriGeometryPoint": POINT, "esriGeometryMultipoint": POINT,
                 "esriGeometryPolyline": LINE, "esriGeometryPolygon": POLYGON}


def real_tasks() -> list[tuple[str, TaskDescription]]:
    """Every recorded task description (file name, description)."""
    files = sorted((REAL_TASKS / "recorded").rglob("*.json"))
    return [(f.name, recorded_task(f.name)) for f in files]


def expected_layer_types(geometry_types: list[str]) -> list[int]:
    kinds = {EXPECTED_KIND[g] for g in geometry_types}
    if kinds == {POINT, LINE, POLYGON}:
        return [ANY]
    return [k for k in (POINT, LINE, POLYGON) if k in kinds]


def test_every_real_filter_is_applied() -> None:
    """All 121 recorded tasks: each filter of each parameter shows in its definition."""
    tasks = real_tasks()
    assert len(tasks) == 121
    counts: Counter = Counter()
    for file_name, task in tasks:
        alg = algorithm_for(task)
        for p in task.inputs:
            raw = p.extra.get("filter")
            if raw is None:
                continue
            counts[(raw["type"], p.data_type)] += 1
            definition = alg.parameterDefinition(p.name)
            where = f"{file_name}: {p.name}"
            if raw["type"] == "featureClass" and p.data_type == "GPFeatureRecordSetLayer":
                assert isinstance(definition, QgsProcessingParameterFeatureSource), where
                assert definition.dataTypes() == expected_layer_types(raw["list"]), where
            elif raw["type"] == "featureClass":
                assert isinstance(definition, QgsProcessingParameterMultipleLayers), where
                expected = expected_layer_types(raw["list"])
                assert definition.layerType() == (expected[0] if len(expected) == 1 else ANY)
            elif raw["type"] == "range":
                assert isinstance(definition, QgsProcessingParameterNumber), where
                assert (definition.minimum(), definition.maximum()) == \
                    (raw["minimum"], raw["maximum"]), where
                assert definition.dataType() == (
                    QgsProcessingParameterNumber.Type.Integer if p.data_type == "GPLong"
                    else QgsProcessingParameterNumber.Type.Double)
            else:
                pytest.fail(f"{where}: a {raw['type']} filter this test does not know")
    # the corpus as recorded (SOURCES.md: 56 featureClass filters, 4 range filters)
    assert counts == {("featureClass", "GPFeatureRecordSetLayer"): 54,
                      ("featureClass", "GPMultiValue:GPFeatureRecordSetLayer"): 2,
                      ("range", "GPLong"): 3, ("range", "GPDouble"): 1}


def real_task(file_stem: str) -> TaskDescription:
    """One recorded task by its file name without '.json'."""
    return recorded_task(file_stem + ".json")


def test_drive_time_areas_offer_point_layers_only() -> None:
    """The issue's case: CreateDriveTimeAreas no longer offers lines and polygons."""
    alg = algorithm_for(real_task("createdrivetimeareas.tool"))
    assert alg.parameterDefinition("inputLayer").dataTypes() == [POINT]


def test_the_filter_wins_over_a_narrower_default_schema() -> None:
    """Esri's documented example: a polygon schema as default, lines and polygons allowed."""
    task = real_task("gp-task.md.example1.FeatureFiltersLinePolygon")
    p = task.parameter("Input_Features")
    assert p.default_value["geometryType"] == "esriGeometryPolygon"
    alg = algorithm_for(task)
    assert alg.parameterDefinition("Input_Features").dataTypes() == [LINE, POLYGON]


def test_ranges_of_real_numbers() -> None:
    tessellation = algorithm_for(real_task("generatetessellations.tool"))
    resolution = tessellation.parameterDefinition("binResolution")
    assert (resolution.minimum(), resolution.maximum()) == (0, 15)
    rotation = algorithm_for(real_task("exporttrainingdatafordeeplearning_ra.tool"))
    angle = rotation.parameterDefinition("rotationAngle")
    assert angle.maximum() == pytest.approx(360) and angle.defaultValue() == 0


def param(name: str, data_type: str, **more: Any) -> dict:
    """One input parameter as a server publishes it."""
    return {"name": name, "dataType": data_type, "displayName": name, "description": "",
            "direction": "esriGPParameterDirectionInput",
            "parameterType": "esriGPParameterTypeOptional", "category": "", **more}


def made_up(*params: dict) -> GpTaskAlgorithm:
    """An algorithm for a task with the given parameters."""
    return algorithm_for(TaskDescription.from_json(
        {"name": "MadeUp", "executionType": "esriExecutionTypeSynchronous",
         "parameters": list(params)}, url=DESCRIBED_URL + "/MadeUp"))


def value_list(*values: Any) -> dict:
    return {"filter": {"type": "valueList", "list": list(values)}}


def test_value_lists_act_as_choice_lists() -> None:
    alg = made_up(
        param("Mode", "GPString", defaultValue="Fast", **value_list("Fast", "Exact")),
        param("Level", "GPLong", defaultValue=10, **value_list(5, 10, 20)),
        param("Ratio", "GPDouble", **value_list(0.5, 1.5)),
        param("Tags", "GPMultiValue:GPString", parameterInfos=[
            {"name": "String", "dataType": "GPString", **value_list("a", "b", "c")}]),
    )
    mode = alg.parameterDefinition("Mode")
    assert isinstance(mode, QgsProcessingParameterEnum)
    assert mode.options() == ["Fast", "Exact"] and mode.defaultValue() == 0
    level = alg.parameterDefinition("Level")
    assert level.options() == ["5", "10", "20"] and level.defaultValue() == 1
    tags = alg.parameterDefinition("Tags")
    assert tags.allowMultiple() and tags.options() == ["a", "b", "c"]
    assert wire_value(alg, "Mode", {"Mode": "Exact"}) == "Exact"
    assert wire_value(alg, "Level", {"Level": 2}) == 20  # a number, as GPLong wants it
    assert wire_value(alg, "Level", {"Level": "20"}) == 20  # by name
    assert wire_value(alg, "Ratio", {"Ratio": 1}) == 1.5
    assert wire_value(alg, "Tags", {"Tags": ["c", "a"]}) == ["c", "a"]


def test_file_filters_set_the_extensions(tmp_path: Path) -> None:
    alg = made_up(param("Table", "GPDataFile",
                        filter={"type": "file", "list": ["csv", ".TXT", "*.zip"]}),
                  param("Anything", "GPDataFile"))
    table = alg.parameterDefinition("Table")
    assert isinstance(table, QgsProcessingParameterFile)
    assert table.fileFilter() == \
        "Files the service takes (*.csv *.CSV *.txt *.TXT *.zip *.ZIP)"
    assert ".csv, .txt, .zip" in table.help()
    assert alg.parameterDefinition("Anything").fileFilter() != table.fileFilter()
    # a file of another type is refused before anything is sent (a URL's path too)
    pdf = tmp_path / "notes.pdf"
    pdf.write_text("x", encoding="utf-8")
    ok, message = alg.checkParameterValues({"Table": str(pdf)}, QgsProcessingContext())
    assert not ok
    assert message.startswith("Table (Table): the service takes .csv, .txt, .zip files, and "
                              "'notes.pdf' is not one.")
    table_file = tmp_path / "rows.CSV"
    table_file.write_text("a,b\n1,2\n", encoding="utf-8")
    ok, message = alg.checkParameterValues({"Table": "https://files.example/report.pdf?v=2"},
                                           QgsProcessingContext())
    assert not ok and "'report.pdf' is not one" in message
    for fine in (str(table_file), "https://files.example/rows.zip"):
        ok, message = alg.checkParameterValues({"Table": fine}, QgsProcessingContext())
        assert ok, message


def test_multivalue_members_carry_filters() -> None:
    """A GPMultiValue's filter may sit on its member (parameterInfos)."""
    alg = made_up(
        param("Areas", "GPMultiValue:GPFeatureRecordSetLayer", parameterInfos=[
            {"name": "Feature Set", "dataType": "GPFeatureRecordSetLayer",
             "filter": {"type": "featureClass", "list": ["esriGeometryPolygon"]}}]),
        param("Mixed", "GPMultiValue:GPFeatureRecordSetLayer",
              filter={"type": "featureClass", "list": ["esriGeometryPoint",
                                                       "esriGeometryPolyline"]}),
    )
    assert alg.parameterDefinition("Areas").layerType() == POLYGON
    # a multiple-layer parameter has one layer type: two kinds offer any geometry
    assert alg.parameterDefinition("Mixed").layerType() == ANY


def test_reference_server_filters(served_provider: GpProvider) -> None:
    """The filters the reference server publishes reach the dialog's definitions."""
    algorithms = {a.name(): a for a in served_provider.algorithms()}
    copy = algorithms["local_demo_analysissync_copyfeatures"].create()
    # a point schema as default, every geometry allowed by the filter: the filter wins
    assert copy.parameterDefinition("Input_Features").dataTypes() == [ANY]
    sleep = algorithms["local_demo_analysis_sleep"].create()
    seconds = sleep.parameterDefinition("Seconds")
    assert (seconds.minimum(), seconds.maximum()) == (0, 3600)
    buffers = algorithms["local_tasks_createbuffers"].create()
    assert buffers.parameterDefinition("inputLayer").dataTypes() == [ANY]
    # no filter: the default's schema still decides
    buffer = algorithms["local_demo_analysis_bufferfeatures"].create()
    assert buffer.parameterDefinition("Input_Features").dataTypes() == [POINT]
