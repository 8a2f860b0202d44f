"""GPValueTable as a table (QGIS's matrix) and GPComposite as its member types.

The recorded real tasks' value tables and composites, rows and values as the wire gets
them, range filters of columns checked before sending, and a round trip through the
reference server's EchoAllTypes with the columns and members a real service publishes.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from qgis.core import (
    QgsApplication,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingParameterMatrix,
)

from arcgis_gp.provider.provider import GpProvider
from tests.paths import REAL_TASKS

from .helpers import algorithm_for, point_layer, recorded_task, run, wire_value

pytestmark = pytest.mark.timeout(120)



def test_every_real_value_table_is_a_matrix_and_composite_names_its_members() -> None:
    tables = composites = 0
    for path in sorted((REAL_TASKS / "recorded").rglob("*.json")):
        task = recorded_task(path.name)
        alg = algorithm_for(task)
        for p in task.inputs:
            definition = alg.parameterDefinition(p.name)
            if p.data_type == "GPValueTable":
                tables += 1
                assert isinstance(definition, QgsProcessingParameterMatrix), path.name
                assert definition.headers() == [m.display_name for m in p.members]
            elif p.data_type == "GPComposite":
                composites += 1
                assert definition.type() == "string", path.name
                for member in p.members:
                    assert member.data_type in definition.help(), (path.name, p.name)
    assert (tables, composites) == (3, 13)


def test_composite_index_variables_as_rows() -> None:
    alg = algorithm_for(recorded_task("calculatecompositeindex.tool.json"))
    table = alg.parameterDefinition("inputVariables")
    assert table.headers() == ["field", "reverseVariable", "weight"]
    assert "field (GPString), reverseVariable (GPBoolean), weight (GPDouble)" in table.help()
    flat = ["HOUSEHOLDS", "false", "1.5", "POP", "true", "2", "", "", ""]
    rows = [["HOUSEHOLDS", False, 1.5], ["POP", True, 2.0]]
    assert wire_value(alg, "inputVariables", {"inputVariables": flat}) == rows
    # a script's rows, nested or as JSON, go as they are typed
    assert wire_value(alg, "inputVariables", {"inputVariables": [["POP", True, 2]]}) == \
        [["POP", True, 2.0]]
    assert wire_value(alg, "inputVariables",
                {"inputVariables": '[["HOUSEHOLDS", false, 1.5]]'}) == rows[:1]
    ok, message = alg.checkParameterValues(
        {"inputLayer": point_layer([(0, 0, "a")]), "inputVariables": ["POP", "true", "two"]},
        QgsProcessingContext())
    assert not ok
    assert "inputVariables (inputVariables): row 1, weight: 'two' is not a number" in message


def test_documented_value_table_with_ranged_columns() -> None:
    """Esri's example: a long and a double column, each with a range filter."""
    alg = algorithm_for(recorded_task("gp-task.md.example2.filters.json"))
    table = alg.parameterDefinition("Input_range_filters")
    assert table.headers() == ["input long column", "input double column"]
    assert table.defaultValue() == [567, -56756.567, -6567, 67886.678]
    assert wire_value(alg, "Input_range_filters", {"Input_range_filters": ["5", "2.5"]}) == \
        [[5, 2.5]]
    ok, message = alg.checkParameterValues(
        {"Input_range_filters": ["5", "2.5", "100000", "0"]}, QgsProcessingContext())
    assert not ok
    assert ("Input range filters (Input_range_filters), row 2, input long column: 100000 is "
            "outside the range the service takes, -99999 to 99999") in message
    ok, message = alg.checkParameterValues(
        {"Input_range_filters": ["5.5", "1"]}, QgsProcessingContext())
    assert not ok and "row 1, input long column: '5.5' is not a whole number" in message


def test_composites_read_text_as_their_members() -> None:
    alg = algorithm_for(recorded_task("geodesicviewshed_ra.tool.json"))
    distance = alg.parameterDefinition("maximumViewingDistance")
    assert "Field or GPLinearUnit" in distance.help()
    assert "'30 Meters'" in distance.help()
    # the task's help (the dialog's side panel, qgis_process help) says it too
    assert "One value of type Field or GPLinearUnit" in alg.shortHelpString()
    assert wire_value(alg, "maximumViewingDistance", {"maximumViewingDistance": "30 Meters"}) == \
        {"distance": 30.0, "units": "esriMeters"}
    assert wire_value(alg, "maximumViewingDistance",
                {"maximumViewingDistance": "2.5 kilometers"}) == \
        {"distance": 2.5, "units": "esriKilometers"}
    assert wire_value(alg, "maximumViewingDistance", {"maximumViewingDistance": "VIEW_DIST"}) == \
        "VIEW_DIST"
    assert wire_value(alg, "horizontalStartAngle", {"horizontalStartAngle": "45"}) == 45.0
    assert wire_value(alg, "horizontalStartAngle",
                      {"horizontalStartAngle": "AZIMUTH1"}) == "AZIMUTH1"
    assert wire_value(alg, "horizontalStartAngle",
                {"horizontalStartAngle": '{"dataType": "GPDouble", "value": 10}'}) == \
        {"dataType": "GPDouble", "value": 10}


def test_round_trip_through_the_reference_server(served_provider: GpProvider) -> None:
    """EchoAllTypes, described with columns and members as real services publish them."""
    echo = QgsApplication.processingRegistry().algorithmById(
        "arcgisgp:local_demo_analysissync_echoalltypes")
    task = echo.spec.task
    columns = [{"name": "label", "dataType": "GPString", "displayName": "Label"},
               {"name": "count", "dataType": "GPLong", "displayName": "Count"}]
    members = [{"name": "", "dataType": "GPString"}, {"name": "", "dataType": "GPLinearUnit"}]

    def described(p: Any) -> Any:
        infos = {"In_GPValueTable": columns, "In_GPComposite": members}.get(p.name)
        return replace(p, extra={**p.extra, "parameterInfos": infos}) if infos else p

    task = replace(task, parameters=tuple(described(p) for p in task.parameters))
    alg = algorithm_for(task, echo.spec.service.url)
    assert alg.parameterDefinition("In_GPValueTable").headers() == ["Label", "Count"]
    assert "columns Label (GPString), Count (GPLong)" in alg.shortHelpString()
    # without columns a value table stays raw JSON, and the help says so
    assert "no Processing equivalent" in echo.parameterDefinition("In_GPValueTable").help()
    assert "In_GPValueTable, optional): A GPValueTable value, echoed to Out_GPValueTable. " \
        "Category: Values. This GP data type has no Processing equivalent" in echo.shortHelpString()
    result = run(alg, {"In_GPValueTable": ["q", "9", "r", "10"],
                       "In_GPComposite": "2 Kilometers"})
    assert json.loads(result["Out_GPValueTable"]) == [["q", 9], ["r", 10]]
    assert json.loads(result["Out_GPComposite"]) == {"distance": 2.0, "units": "esriKilometers"}
    with pytest.raises(QgsProcessingException, match="row 1, Count: 'nine' is not a number"):
        run(alg, {"In_GPValueTable": ["q", "nine"]})
