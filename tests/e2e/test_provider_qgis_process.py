"""qgis_process.bin lists and runs the remote tasks, with ARCGIS_GP_CONNECTIONS set.

Each call is a whole QGIS process in a throwaway profile; the first one fetches the
connection's descriptions (headless, no cache yet) and caches them in the profile.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from osgeo import ogr, osr

from .conftest import QgisProcess

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

BUFFER = "arcgisgp:local_demo_analysis_bufferfeatures"


def write_points(path: Path, points: list[tuple[float, float, str]], epsg: int = 4326) -> Path:
    """Write a GeoPackage of named points with GDAL."""
    driver = ogr.GetDriverByName("GPKG")
    ds = driver.CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(epsg)
    layer = ds.CreateLayer("points", srs, ogr.wkbPoint)
    layer.CreateField(ogr.FieldDefn("Name", ogr.OFTString))
    for x, y, name in points:
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField("Name", name)
        feature.SetGeometry(ogr.CreateGeometryFromWkt(f"POINT ({x} {y})"))
        layer.CreateFeature(feature)
    ds = None
    return path


def read_layer(path: Path) -> list[dict]:
    """Return the features of the first layer of a file as dicts (with the geometry area)."""
    ds = ogr.Open(str(path))
    assert ds is not None, path
    layer = ds.GetLayer(0)
    out = []
    for feature in layer:
        geometry = feature.GetGeometryRef()
        item = {k: feature.GetField(k) for k in feature.keys()}
        item["_type"] = ogr.GeometryTypeToName(geometry.GetGeometryType()) if geometry else None
        out.append(item)
    return out


def test_list_shows_every_remote_task(qp: QgisProcess) -> None:
    listing = qp("list").stdout
    for name in ("local_demo_analysis_bufferfeatures", "local_demo_analysis_sleep",
                 "local_demo_analysis_echoalltypes", "local_demo_analysissync_copyfeatures",
                 "local_tasks_createbuffers"):
        assert f"arcgisgp:{name}" in listing
    assert "arcgisgp:esrijsontolayer" in listing
    cache = list((qp.profile / "profiles" / "default" / "arcgis_gp" / "cache").glob("*.json"))
    assert [p.name for p in cache] == ["local.json"]


def test_help_shows_the_parameters(qp: QgisProcess) -> None:
    text = qp("help", BUFFER).stdout
    for expected in ("Input_Features", "Distance", "Distance_units", "0: Meters",
                     "1: Kilometers", "(Meters: esriMeters)", "Dissolve", "Output_Features",
                     "Creates buffer polygons"):
        assert expected in text
    # the description is plain text, a line per paragraph (qgis_process prints it raw)
    description = text.split("Description\n----------------\n", 1)[1].split("\n----", 1)[0]
    assert "<" not in description, description
    assert "\n- Input Features (Input_Features, required): " in description


def buffer_heights_km(path: Path) -> list[float]:
    """Return the north-south extent of each polygon in kilometres (1 degree ~ 111.2 km)."""
    ds = ogr.Open(str(path))  # keep the data source alive while its layer is read
    heights = []
    for feature in ds.GetLayer(0):
        _, _, ymin, ymax = feature.GetGeometryRef().GetEnvelope()
        heights.append((ymax - ymin) * 111.2)
    return heights


# qgis_process keeps "--distance_units" (any case) for itself when it comes before "--";
# the algorithm must still get the unit, whichever way the user writes it.
@pytest.mark.parametrize("unit_args", [
    ("--Distance_units=1",),
    ("--Distance_units=kilometers",),
    ("--", "Distance_units=1"),
    ("--", "Distance_units=esriKilometers"),
    ("--", "Distance_units=Kilometers"),
], ids=["index-before-separator", "name-before-separator", "after-separator",
        "esri-name-after-separator", "shown-name-after-separator"])
def test_run_buffer_features_writes_a_geopackage(qp: QgisProcess, tmp_path: Path,
                                                 unit_args: tuple[str, ...]) -> None:
    source = write_points(tmp_path / "in.gpkg", [(2.35, 48.85, "Paris"), (4.83, 45.76, "Lyon")])
    output = tmp_path / "buffers.gpkg"
    args = [f"--Input_Features={source}", "--Distance=2", f"--Output_Features={output}"]
    if unit_args[0] == "--":
        args = ["--"] + [a.removeprefix("--") for a in args] + list(unit_args[1:])
    else:
        args += list(unit_args)
    report = qp.run_json(BUFFER, *args)
    assert Path(report["results"]["Output_Features"]).resolve() == output.resolve()
    features = read_layer(output)
    assert sorted(f["Name"] for f in features) == ["Lyon", "Paris"]
    assert {f["_type"] for f in features} <= {"Polygon", "Multi Polygon"}
    assert all(f["BUFF_DIST"] == 2.0 for f in features)
    # a 2 km buffer is about 4 km from north to south; 2 m would be 0.004 km
    assert all(3.6 < h < 4.4 for h in buffer_heights_km(output)), buffer_heights_km(output)


@pytest.mark.parametrize("dissolve", ["ALL", "1"], ids=["name", "index"])
def test_run_takes_a_choice_by_name(qp: QgisProcess, tmp_path: Path, dissolve: str) -> None:
    """--Dissolve=ALL works on QGIS 3.22 too (it knows enum values only as indexes)."""
    source = write_points(tmp_path / "in.gpkg", [(2.35, 48.85, "Paris"), (2.45, 48.85, "East")])
    output = tmp_path / "dissolved.gpkg"
    qp.run_json("arcgisgp:local_demo_analysissync_bufferfeatures",
                f"--Input_Features={source}", "--Distance=20", "--Distance_units=kilometers",
                f"--Dissolve={dissolve}", f"--Output_Features={output}")
    features = read_layer(output)
    assert len(features) == 1  # both buffers merged: the server got "ALL"
    assert "Name" not in features[0]


def test_run_with_a_temporary_output(qp: QgisProcess, tmp_path: Path) -> None:
    """Outputs are required (as native algorithms' are) and take TEMPORARY_OUTPUT.

    qgis_process 3.22 itself refuses a run that leaves out a required output, whatever its
    default (native:buffer without OUTPUT too); qgis_process >= 3.40 runs it into a temporary
    output, as it does for native algorithms.
    """
    from qgis.core import Qgis

    source = write_points(tmp_path / "in.gpkg", [(2.35, 48.85, "Paris"), (4.83, 45.76, "Lyon")])
    alg = "arcgisgp:local_demo_analysissync_copyfeatures"
    unnamed = qp("run", alg, f"--Input_Features={source}", check=False)
    if Qgis.QGIS_VERSION_INT >= 34000:
        assert unnamed.returncode == 0, unnamed.stdout + unnamed.stderr
        assert "Output_Features: 2 features" in unnamed.stdout
        assert "Output_Features:\tOutput_Features_" in unnamed.stdout
    else:
        assert unnamed.returncode != 0
        assert "mandatory parameters were not specified" in unnamed.stdout + unnamed.stderr
    done = qp("run", alg, f"--Input_Features={source}", "--Output_Features=TEMPORARY_OUTPUT")
    assert "Output_Features: 2 features" in done.stdout
    assert "Output_Features:\tOutput_Features_" in done.stdout  # a temporary layer


def test_run_reports_a_failing_task(qp: QgisProcess) -> None:
    done = qp("run", "arcgisgp:local_demo_analysis_alwaysfails",
              "--Message=The server says no", check=False)
    assert done.returncode != 0
    assert "The server says no" in done.stdout + done.stderr


def test_repeated_runs_over_several_inputs(qp: QgisProcess, tmp_path: Path) -> None:
    inputs = {
        "a": [(10.0, 50.0, "a1")],
        "b": [(11.0, 51.0, "b1"), (11.1, 51.1, "b2")],
        "c": [(12.0, 52.0, "c1"), (12.1, 52.1, "c2"), (12.2, 52.2, "c3")],
    }
    for key, points in inputs.items():
        source = write_points(tmp_path / f"{key}.gpkg", points)
        output = tmp_path / f"{key}_out.gpkg"
        qp.run_json("arcgisgp:local_demo_analysissync_bufferfeatures",
                    f"--Input_Features={source}", "--Distance=500",
                    f"--Output_Features={output}")
        assert sorted(f["Name"] for f in read_layer(output)) == [p[2] for p in points]


def build_model(path: Path) -> list[str]:
    """Write a model: points -> remote BufferFeatures -> native:dissolve -> native:fixgeometries."""
    from qgis.core import (
        QgsProcessing,
        QgsProcessingModelAlgorithm,
        QgsProcessingModelChildAlgorithm,
        QgsProcessingModelChildParameterSource,
        QgsProcessingModelOutput,
        QgsProcessingModelParameter,
        QgsProcessingParameterFeatureSource,
    )

    model = QgsProcessingModelAlgorithm("remote_buffer_model", "arcgis_gp_tests")
    model.addModelParameter(
        QgsProcessingParameterFeatureSource("points", "Points",
                                            [QgsProcessing.SourceType.TypeVectorPoint]),
        QgsProcessingModelParameter("points"))

    def child(alg_id: str, child_id: str, sources: dict) -> QgsProcessingModelChildAlgorithm:
        step = QgsProcessingModelChildAlgorithm(alg_id)
        step.setChildId(child_id)
        step.setDescription(child_id)
        for name, source in sources.items():
            step.addParameterSources(name, [source])
        return step

    static = QgsProcessingModelChildParameterSource.fromStaticValue
    remote = child(BUFFER, "remote_buffer", {
        "Input_Features": QgsProcessingModelChildParameterSource.fromModelParameter("points"),
        "Distance": static(5), "Distance_units": static(1), "Dissolve": static(0),
    })
    dissolve = child("native:dissolve", "dissolve", {
        "INPUT": QgsProcessingModelChildParameterSource.fromChildOutput(
            "remote_buffer", "Output_Features"),
    })
    fix = child("native:fixgeometries", "fix", {
        "INPUT": QgsProcessingModelChildParameterSource.fromChildOutput("dissolve", "OUTPUT"),
    })
    output = QgsProcessingModelOutput("result", "Result")
    output.setChildId("fix")
    output.setChildOutputName("OUTPUT")
    fix.setModelOutputs({"result": output})
    for step in (remote, dissolve, fix):
        model.addChildAlgorithm(step)
    model.updateDestinationParameters()
    assert model.toFile(str(path))
    return [d.name() for d in model.destinationParameterDefinitions()]


def test_model_chaining_remote_and_native_algorithms(qp: QgisProcess, qgis_processing: object,
                                                     tmp_path: Path) -> None:
    model = tmp_path / "remote_buffer.model3"
    destinations = build_model(model)
    assert len(destinations) == 1
    source = write_points(tmp_path / "in.gpkg", [(2.35, 48.85, "Paris"), (2.40, 48.86, "B")])
    output = tmp_path / "dissolved.gpkg"
    report = qp.run_json(str(model), f"--points={source}", f"--{destinations[0]}={output}")
    assert report["results"]
    features = read_layer(output)
    assert len(features) == 1  # two overlapping 5 km buffers, dissolved into one
    assert features[0]["_type"] in ("Polygon", "Multi Polygon")
