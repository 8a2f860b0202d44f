"""Unit enums show readable names (Meters, Square Kilometers); the wire gets the Esri name.

Index, shown name and Esri name all keep working: in the algorithm's own parameter
handling, in processing.run against the reference server, and in a model that stores the
unit as a static value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from qgis.core import (
    QgsFeature,
    QgsGeometry,
    QgsPointXY,
    QgsProcessing,
    QgsProcessingContext,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterFeatureSource,
    QgsProject,
    QgsVectorLayer,
)

from arcgis_gp.gp_client.model import TaskDescription
from arcgis_gp.gp_client.values import AREAL_UNITS, LINEAR_UNITS
from arcgis_gp.provider.algorithm import GpTaskAlgorithm
from arcgis_gp.provider.parameters.choices import unit_label
from arcgis_gp.provider.provider import GpProvider

from .helpers import algorithm_for, wire_value

pytestmark = pytest.mark.timeout(120)

BUFFER = "arcgisgp:local_demo_analysissync_bufferfeatures"


def test_unit_labels_are_readable_and_distinct() -> None:
    linear = [unit_label(u) for u in LINEAR_UNITS]
    areal = [unit_label(u) for u in AREAL_UNITS]
    assert linear[:5] == ["Meters", "Kilometers", "Feet", "Miles", "Nautical Miles"]
    assert "International Feet" in linear and "Decimal Degrees" in linear
    assert areal[:3] == ["Square Meters", "Square Kilometers", "Hectares"]
    assert "Unknown Area Units" in areal
    assert len(set(linear)) == len(linear) and len(set(areal)) == len(areal)
    assert all(not label.startswith("esri") for label in linear + areal)
    assert unit_label("esriFurlongs") == "Furlongs"  # a unit only a task's default names


def made_up_algorithm(default_units: str = "esriSquareMeters") -> GpTaskAlgorithm:
    """An algorithm with one GPLinearUnit and one GPArealUnit input (no server needed)."""
    url = "https://gis.example/arcgis/rest/services/Units/GPServer"
    task = TaskDescription.from_json({
        "name": "Units", "executionType": "esriExecutionTypeSynchronous",
        "parameters": [
            {"name": "Reach", "dataType": "GPLinearUnit", "direction":
             "esriGPParameterDirectionInput", "parameterType": "esriGPParameterTypeRequired",
             "defaultValue": {"distance": 5, "units": "Kilometers"}},
            {"name": "Size", "dataType": "GPArealUnit", "direction":
             "esriGPParameterDirectionInput", "parameterType": "esriGPParameterTypeRequired",
             "defaultValue": {"area": 2, "units": default_units}},
        ]}, url=url + "/Units")
    return algorithm_for(task, url)


def wire_units(alg: GpTaskAlgorithm, parameters: dict) -> tuple[Any, Any]:
    """The wire values of Reach and Size once the algorithm normalised the parameters."""
    ok, message = alg.checkParameterValues(parameters, QgsProcessingContext())
    assert ok, message
    return tuple(wire_value(alg, name, parameters) for name in ("Reach", "Size"))


def test_unit_enums_offer_readable_names_with_the_task_default() -> None:
    alg = made_up_algorithm()
    reach = alg.parameterDefinition("Reach_units")
    size = alg.parameterDefinition("Size_units")
    assert reach.options() == [unit_label(u) for u in LINEAR_UNITS]
    # "Kilometers" (no esri prefix) in the task's default is the table's esriKilometers
    assert reach.options()[reach.defaultValue()] == "Kilometers"
    assert size.options()[size.defaultValue()] == "Square Meters"
    assert "esriMeters" in reach.help()  # the help says what the wire gets


@pytest.mark.parametrize("reach, size", [
    (1, 1),
    ("1", "1"),
    ("Kilometers", "Square Kilometers"),
    ("kilometers", "square kilometers"),
    ("esriKilometers", "esriSquareKilometers"),
    ("ESRIKILOMETERS", "square_kilometers"),
], ids=["index", "index-text", "shown-name", "lower-case", "esri-name", "any-spelling"])
def test_units_by_index_shown_name_or_esri_name_send_the_esri_name(reach: Any,
                                                                   size: Any) -> None:
    alg = made_up_algorithm()
    sent = wire_units(alg, {"Reach": 3, "Reach_units": reach, "Size": 4, "Size_units": size})
    assert sent == ({"distance": 3.0, "units": "esriKilometers"},
                    {"area": 4.0, "units": "esriSquareKilometers"})


def test_international_units_and_unknown_names() -> None:
    alg = made_up_algorithm()
    sent = wire_units(alg, {"Reach": 1, "Reach_units": "International Feet", "Size": 1,
                            "Size_units": "Hectares"})
    assert sent == ({"distance": 1.0, "units": "esriIntFeet"},
                    {"area": 1.0, "units": "esriHectares"})
    assert wire_units(alg, {"Reach": 1, "Reach_units": "esriIntFeet", "Size": 1})[0] == \
        {"distance": 1.0, "units": "esriIntFeet"}
    ok, message = alg.checkParameterValues(
        {"Reach": 1, "Reach_units": "parsecs", "Size": 1}, QgsProcessingContext())
    assert not ok and "Reach" in message


def test_an_unusual_task_default_is_offered_first() -> None:
    alg = made_up_algorithm(default_units="esriSquareFurlongs")
    size = alg.parameterDefinition("Size_units")
    assert size.options()[0] == "Square Furlongs" and size.defaultValue() == 0
    assert wire_units(alg, {"Reach": 1, "Size": 2})[1] == \
        {"area": 2.0, "units": "esriSquareFurlongs"}


def two_points() -> QgsVectorLayer:
    """Two points 20 km apart in Lambert-93, so that buffer areas are in square metres."""
    layer = QgsVectorLayer("Point?crs=EPSG:2154&field=Name:string(20)", "points", "memory")
    for x, name in ((650000, "a"), (670000, "b")):
        feature = QgsFeature(layer.fields())
        feature.setAttributes([name])
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(x, 6860000)))
        layer.dataProvider().addFeature(feature)
    QgsProject.instance().addMapLayer(layer)
    return layer


def buffered_area(result: dict, key: str) -> float:
    """The total area of the buffers an output holds."""
    layer = result[key]
    if isinstance(layer, str):
        layer = QgsVectorLayer(layer)
    return sum(f.geometry().area() for f in layer.getFeatures())


KM_DISCS = 2 * 3.14159 * 1500 ** 2  # two discs of 1.5 km radius


@pytest.mark.parametrize("units", ["Kilometers", "esriKilometers", 1])
def test_processing_run_takes_every_unit_form(served_provider: GpProvider, units: Any) -> None:
    import processing

    result = processing.run(BUFFER, {
        "Input_Features": two_points(), "Distance": 1.5, "Distance_units": units,
        "Output_Features": "TEMPORARY_OUTPUT"})
    assert buffered_area(result, "Output_Features") == pytest.approx(KM_DISCS, rel=0.01)


@pytest.mark.parametrize("units", ["Kilometers", "esriKilometers", 1])
def test_a_model_storing_the_unit_runs_it(served_provider: GpProvider, units: Any,
                                          tmp_path: Path) -> None:
    """A saved model keeps the unit as it was given (index or name) and runs it."""
    import processing

    model = QgsProcessingModelAlgorithm("units_model", "arcgis_gp_tests")
    model.addModelParameter(
        QgsProcessingParameterFeatureSource("points", "Points",
                                            [QgsProcessing.SourceType.TypeVectorPoint]),
        QgsProcessingModelParameter("points"))
    step = QgsProcessingModelChildAlgorithm(BUFFER)
    step.setChildId("buffer")
    static = QgsProcessingModelChildParameterSource.fromStaticValue
    step.addParameterSources("Input_Features", [
        QgsProcessingModelChildParameterSource.fromModelParameter("points")])
    for name, value in (("Distance", 1.5), ("Distance_units", units), ("Dissolve", 0)):
        step.addParameterSources(name, [static(value)])
    output = QgsProcessingModelOutput("buffers", "Buffers")
    output.setChildId("buffer")
    output.setChildOutputName("Output_Features")
    step.setModelOutputs({"buffers": output})
    model.addChildAlgorithm(step)
    model.updateDestinationParameters()
    saved = tmp_path / "units.model3"
    assert model.toFile(str(saved))
    loaded = QgsProcessingModelAlgorithm()
    assert loaded.fromFile(str(saved))
    assert loaded.childAlgorithm("buffer").parameterSources()["Distance_units"][0] \
        .staticValue() == units
    [sink] = loaded.destinationParameterDefinitions()
    result = processing.run(loaded, {"points": two_points(), sink.name(): "TEMPORARY_OUTPUT"})
    assert buffered_area(result, sink.name()) == pytest.approx(KM_DISCS, rel=0.01)
