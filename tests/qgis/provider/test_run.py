"""Running remote tasks through Processing, against the reference server.

processing.run (main thread) and QgsProcessingAlgRunnerTask (the toolbox's worker-thread
path); synchronous and asynchronous services; every GP type through EchoAllTypes; server
messages and progress in the feedback; cancel reaching the server; failures reported; the
remote BufferFeatures against QGIS's native:buffer; selected features only.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
import requests
from osgeo import gdal
from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsProcessing,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingParameterDefinition,
    QgsProject,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QCoreApplication, QDate, QDateTime, QElapsedTimer, Qt, QTime, QTimer

from arcgis_gp.provider import styling
from arcgis_gp.provider.provider import GpProvider

from .helpers import (
    RecordingFeedback,
    job_id_from,
    point_layer,
    real_layer_tree_view,
    run,
    run_in_task,
    serving_provider,
)

pytestmark = pytest.mark.timeout(180)

ASYNC = "arcgisgp:local_demo_analysis_"
SYNC = "arcgisgp:local_demo_analysissync_"


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0) -> bool:
    """Turn the event loop until ``predicate`` holds."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        QCoreApplication.processEvents()
        if predicate():
            return True
        time.sleep(0.005)
    return predicate()


@pytest.fixture(scope="module")
def provider(qgis_processing: Any, gpserver_url: str,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[GpProvider]:
    """The provider, registered, with a connection 'local' to the reference server."""
    with serving_provider(tmp_path_factory.mktemp("cache"),
                          local=gpserver_url + "/arcgis/rest/services",
                          portal=gpserver_url + "/portal/sharing/rest") as provider:
        yield provider


# ---------------------------------------------------------------- messages, progress, failure
def test_messages_and_progress_reach_the_feedback(provider: GpProvider) -> None:
    feedback = RecordingFeedback()
    result = run(ASYNC + "sleep", {"Seconds": 1.2}, feedback)
    assert result["Slept"] == pytest.approx(1.2)
    infos = feedback.texts("info")
    assert any("Sleeping for 1.2 seconds" in t for t in infos)
    assert any("Woke up after 1.2 seconds" in t for t in infos)
    assert len(feedback.progress) >= 3
    assert feedback.progress[-1] == 100
    assert feedback.progress == sorted(feedback.progress)


def test_failing_task_shows_the_server_message(provider: GpProvider) -> None:
    feedback = RecordingFeedback()
    with pytest.raises(QgsProcessingException) as caught:
        run(ASYNC + "alwaysfails", {"Message": "Disk on fire (test)"}, feedback)
    # the failure is the server's error message; its boilerplate ("Failed to execute",
    # "Failed at <date>") and the informative messages are in the log only
    assert str(caught.value) == "Disk on fire (test)"
    errors = feedback.texts("error")
    assert any("Disk on fire (test)" in t for t in errors)
    assert any(t.startswith("Failed at ") for t in errors)
    assert any("About to fail" in t for t in feedback.texts("info"))


def test_cancel_reaches_the_server(provider: GpProvider, gpserver_url: str) -> None:
    feedback = RecordingFeedback()

    def cancel_once_submitted() -> None:
        assert wait_until(lambda: any(t.startswith("Submitted job") for t in feedback.texts()))
        assert wait_until(lambda: any("Sleeping" in t for t in feedback.texts()))
        feedback.cancel()

    ok, _results, _task = run_in_task(ASYNC + "sleep", {"Seconds": 60}, feedback,
                                      cancel_once_submitted)
    assert not ok
    job = job_id_from(feedback)
    url = f"{gpserver_url}/arcgis/rest/services/Demo/Analysis/GPServer/Sleep/jobs/{job}"

    def cancelled() -> bool:
        status = requests.get(url, params={"f": "json"}, timeout=10).json()["jobStatus"]
        return status == "esriJobCancelled"

    assert wait_until(cancelled, 30)


def test_event_loop_keeps_turning_during_a_task(provider: GpProvider) -> None:
    """The toolbox path: the main thread's event loop must never wait on the job."""
    ticks: list[int] = []
    clock = QElapsedTimer()
    clock.start()
    timer = QTimer()
    timer.setInterval(10)
    timer.timeout.connect(lambda: ticks.append(clock.elapsed()))
    timer.start()
    feedback = RecordingFeedback()
    try:
        ok, results, _task = run_in_task(ASYNC + "sleep", {"Seconds": 2.0}, feedback)
    finally:
        timer.stop()
    assert ok, feedback.lines
    assert results["Slept"] == pytest.approx(2.0)
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    print(f"main-thread event loop: {len(ticks)} ticks, longest gap {max(gaps)} ms")
    # A wait on the main thread would stall it for the whole 2 s job; the bound is generous
    # so that a loaded CI machine does not fail it (the figure is printed above).
    assert max(gaps) < 1000


def test_main_thread_run_keeps_the_event_loop_turning(provider: GpProvider) -> None:
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    try:
        run(ASYNC + "sleep", {"Seconds": 1.5})
    finally:
        timer.stop()
    assert len(ticks) >= 5, "the event loop did not turn while the job ran"


# ---------------------------------------------------------------- every type through EchoAllTypes
def _echo_inputs(tmp_path: Path, with_files: bool) -> tuple[dict, dict]:
    """Inputs for EchoAllTypes and what each output must hold."""
    when = QDateTime(QDate(2020, 5, 6), QTime(7, 8, 9), Qt.TimeSpec.UTC)
    table = QgsVectorLayer("None?field=Label:string(10)&field=Count:integer", "t", "memory")
    row = QgsFeature(table.fields())
    row.setAttributes(["row", 5])
    table.dataProvider().addFeatures([row])
    QgsProject.instance().addMapLayer(table)
    points = point_layer([(1.0, 2.0, "one"), (3.0, 4.0, "two")])
    params = {
        "In_GPString": "hello world", "In_GPBoolean": False, "In_GPLong": 7,
        "In_GPDouble": 2.25, "In_GPDate": when,
        "In_GPLinearUnit": 3.0, "In_GPLinearUnit_units": 3,  # esriMiles
        "In_GPArealUnit": 4.5, "In_GPArealUnit_units": 2,  # esriHectares
        "In_GPMultiValue_GPString": "x;y", "In_GPMultiValue_GPLong": "[4, 5]",
        "In_GPMultiValue_GPDouble": "1.5;2", "In_GPSpatialReference": "EPSG:3857",
        "In_GPExtent": "1,3,2,4 [EPSG:4326]", "In_GPEnvelope": "10,30,20,40 [EPSG:3857]",
        "In_Field": "Name", "In_GPValueTable": '[["q", 9]]',
        "In_GPComposite": '{"a": 1}', "In_GPSACellSize": "30",
        "In_GPString_Choice": 2,
        "In_GPFeatureRecordSetLayer": points, "In_GPRecordSet": table,
        "Out_GPFeatureRecordSetLayer": "TEMPORARY_OUTPUT",
        "Out_GPRecordSet": "TEMPORARY_OUTPUT",
    }
    expected = {
        "Out_GPString": "hello world", "Out_GPBoolean": False, "Out_GPLong": 7,
        "Out_GPDouble": 2.25, "Out_GPDate": "2020-05-06T07:08:09+00:00",
        "Out_GPLinearUnit": {"distance": 3.0, "units": "esriMiles"},
        "Out_GPArealUnit": {"area": 4.5, "units": "esriHectares"},
        "Out_GPMultiValue_GPString": ["x", "y"], "Out_GPMultiValue_GPLong": [4, 5],
        "Out_GPMultiValue_GPDouble": [1.5, 2.0],
        "Out_GPSpatialReference": {"wkid": 102100, "latestWkid": 3857},
        "Out_GPExtent": {"xmin": 1.0, "ymin": 2.0, "xmax": 3.0, "ymax": 4.0,
                         "spatialReference": {"wkid": 4326, "latestWkid": 4326}},
        "Out_GPEnvelope": {"xmin": 10.0, "ymin": 20.0, "xmax": 30.0, "ymax": 40.0,
                           "spatialReference": {"wkid": 102100, "latestWkid": 3857}},
        "Out_Field": {"name": "Name"}, "Out_GPValueTable": [["q", 9]],
        "Out_GPComposite": {"a": 1}, "Out_GPSACellSize": 30,
        "Out_GPString_Choice": "Third",
    }
    if with_files:
        data = tmp_path / "notes.txt"
        data.write_bytes(b"file body \x00\x01\x02 end")
        raster = tmp_path / "grid.tif"
        ds = gdal.GetDriverByName("GTiff").Create(str(raster), 4, 3, 1, gdal.GDT_Int16)
        ds.SetGeoTransform((100.0, 10.0, 0.0, 200.0, 0.0, -10.0))
        ds.SetProjection(QgsCoordinateReferenceSystem("EPSG:32631").toWkt())
        ds.GetRasterBand(1).WriteArray(__import__("numpy").arange(12).reshape(3, 4))
        ds = None
        params.update({
            "In_GPDataFile": str(data), "In_GPRasterDataLayer": str(raster),
            "In_GPRasterData": str(raster),
            "Out_GPDataFile": str(tmp_path / "echoed.txt"),
            "Out_GPRasterDataLayer": str(tmp_path / "echoed.tif"),
            "Out_GPRasterData": str(tmp_path / "echoed_data.tif"),
        })
    return params, expected


def _check_echo(results: dict, expected: dict, tmp_path: Path, with_files: bool) -> None:
    for name, want in expected.items():
        got = results[name]
        if isinstance(want, (dict, list)) or name == "Out_GPSACellSize":
            got = json.loads(got)
        assert got == want, name
    features = results["Out_GPFeatureRecordSetLayer"]
    if isinstance(features, str):
        features = QgsVectorLayer(features)
    assert sorted(f["Name"] for f in features.getFeatures()) == ["one", "two"]
    records = results["Out_GPRecordSet"]
    if isinstance(records, str):
        records = QgsVectorLayer(records)
    assert [(f["Label"], f["Count"]) for f in records.getFeatures()] == [("row", 5)]
    if with_files:
        assert Path(results["Out_GPDataFile"]).read_bytes() == b"file body \x00\x01\x02 end"
        for name in ("Out_GPRasterDataLayer", "Out_GPRasterData"):
            ds = gdal.Open(results[name])
            assert (ds.RasterXSize, ds.RasterYSize) == (4, 3)
            assert ds.GetRasterBand(1).ReadAsArray().tolist() == \
                __import__("numpy").arange(12).reshape(3, 4).tolist()
            ds = None


def test_every_type_round_trips_asynchronously(provider: GpProvider, tmp_path: Path) -> None:
    params, expected = _echo_inputs(tmp_path, with_files=True)
    feedback = RecordingFeedback()
    results = run(ASYNC + "echoalltypes", params, feedback)
    assert any(t.startswith("Uploading notes.txt") for t in feedback.texts("info"))
    _check_echo(results, expected, tmp_path, with_files=True)


def test_every_type_round_trips_synchronously(provider: GpProvider, tmp_path: Path) -> None:
    # The synchronous service takes no uploads: files and rasters are left out.
    params, expected = _echo_inputs(tmp_path, with_files=False)
    feedback = RecordingFeedback()
    results = run(SYNC + "echoalltypes", params, feedback)
    assert any(t.startswith("Executing EchoAllTypes") for t in feedback.texts("info"))
    _check_echo(results, expected, tmp_path, with_files=False)


@pytest.mark.parametrize("dissolve, units", [("ALL", "esriKilometers"), (1, 1),
                                              ("1", "kilometers")],
                         ids=["names", "indexes", "index-text-and-short-unit"])
def test_enums_take_their_names_or_indexes(provider: GpProvider, dissolve: Any,
                                           units: Any) -> None:
    """QGIS 3.22 has no named enum values: the algorithm takes the choice itself too."""
    points = point_layer([(650000, 6860000, "a"), (670000, 6860000, "b")], "EPSG:2154")
    result = run(SYNC + "bufferfeatures", {
        "Input_Features": points, "Distance": 1.5, "Distance_units": units,
        "Dissolve": dissolve, "Output_Features": "TEMPORARY_OUTPUT"})
    layer = result["Output_Features"]
    if isinstance(layer, str):
        layer = QgsVectorLayer(layer)
    assert layer.featureCount() == 1  # dissolved: ALL went to the server
    assert [f["BUFF_DIST"] for f in layer.getFeatures()] == [1.5]
    # 1.5 km, not 1.5 m: two discs of about 7.07 km2 each (the points are 20 km apart)
    area = next(layer.getFeatures()).geometry().area()
    assert area == pytest.approx(2 * 3.1416 * 1500 ** 2, rel=0.01)


@pytest.mark.parametrize("prefix", [ASYNC, SYNC], ids=["async", "sync"])
def test_outputs_need_not_be_named(provider: GpProvider, prefix: str) -> None:
    """Outputs are required but default to a temporary output: leaving them out still works."""
    alg = QgsApplication.processingRegistry().createAlgorithmById(prefix + "copyfeatures")
    sink = alg.parameterDefinition("Output_Features")
    assert not sink.flags() & QgsProcessingParameterDefinition.Flag.FlagOptional
    assert sink.defaultValue() == QgsProcessing.TEMPORARY_OUTPUT
    result = run(prefix + "copyfeatures", {"Input_Features": point_layer(CITIES[:3])})
    layer = result["Output_Features"]
    if isinstance(layer, str):
        layer = QgsVectorLayer(layer)
    assert sorted(f["Name"] for f in layer.getFeatures()) == ["Lyon", "Marseille", "Paris"]


def test_file_and_raster_outputs_need_not_be_named(provider: GpProvider, tmp_path: Path) -> None:
    alg = QgsApplication.processingRegistry().createAlgorithmById(ASYNC + "echofile")
    destination = alg.parameterDefinition("Output_File")
    assert not destination.flags() & QgsProcessingParameterDefinition.Flag.FlagOptional
    data = tmp_path / "in.txt"
    data.write_text("some text", encoding="utf-8")
    result = run(ASYNC + "echofile", {"Input_File": str(data)})
    assert Path(result["Output_File"]).read_text(encoding="utf-8") == "some text"
    raster = QgsApplication.processingRegistry().createAlgorithmById(ASYNC + "echoraster")
    assert not raster.parameterDefinition("Output_Raster").flags() & \
        QgsProcessingParameterDefinition.Flag.FlagOptional


def test_a_choice_not_offered_is_refused(provider: GpProvider) -> None:
    with pytest.raises(QgsProcessingException) as caught:
        run(SYNC + "bufferfeatures", {"Input_Features": point_layer(CITIES[:1]),
                                      "Distance": 1, "Dissolve": "SOME",
                                      "Output_Features": "TEMPORARY_OUTPUT"})
    assert "Dissolve" in str(caught.value)


def test_file_input_without_uploads_says_what_to_do(provider: GpProvider,
                                                    tmp_path: Path) -> None:
    data = tmp_path / "x.txt"
    data.write_text("x", encoding="utf-8")
    with pytest.raises(QgsProcessingException) as caught:
        run(SYNC + "echoalltypes", {"In_GPDataFile": str(data)})
    assert "does not allow uploads" in str(caught.value)


# ---------------------------------------------------------------- features
CITIES = [(2.35, 48.85, "Paris"), (4.83, 45.76, "Lyon"), (5.37, 43.30, "Marseille"),
          (-1.55, 47.22, "Nantes")]


def _areas_by_name(layer: Any) -> dict[str, float]:
    if isinstance(layer, str):
        layer = QgsVectorLayer(layer)
    return {f["Name"]: f.geometry().area() for f in layer.getFeatures()}


@pytest.mark.parametrize("prefix", [ASYNC, SYNC], ids=["async", "sync"])
def test_remote_buffer_matches_native_buffer(provider: GpProvider, prefix: str) -> None:
    points = point_layer(CITIES, "EPSG:2154")
    projected = run("native:reprojectlayer", {
        "INPUT": point_layer(CITIES), "TARGET_CRS": "EPSG:2154", "OUTPUT": "memory:"})["OUTPUT"]
    remote = run(prefix + "bufferfeatures", {
        "Input_Features": projected, "Distance": 1500, "Distance_units": 0,
        "Output_Features": "TEMPORARY_OUTPUT"})["Output_Features"]
    local = run("native:buffer", {"INPUT": projected, "DISTANCE": 1500, "SEGMENTS": 16,
                                  "OUTPUT": "memory:"})["OUTPUT"]
    assert points.featureCount() == 4
    if isinstance(remote, str):
        remote = QgsVectorLayer(remote)
    assert remote.featureCount() == local.featureCount() == 4
    assert remote.crs().authid() == "EPSG:2154"
    remote_rows = sorted((f["Name"], f["Rank"]) for f in remote.getFeatures())
    local_rows = sorted((f["Name"], f["Rank"]) for f in local.getFeatures())
    assert remote_rows == local_rows
    remote_areas, local_areas = _areas_by_name(remote), _areas_by_name(local)
    for name, area in local_areas.items():
        assert remote_areas[name] == pytest.approx(area, rel=0.01), name


def test_only_selected_features_are_sent(provider: GpProvider) -> None:
    layer = point_layer(CITIES)
    layer.selectByIds([f.id() for f in layer.getFeatures() if f["Name"] in ("Lyon", "Nantes")])
    source = QgsProcessingFeatureSourceDefinition(layer.id(), True)
    result = run(ASYNC + "copyfeatures", {"Input_Features": source,
                                          "Output_Features": "TEMPORARY_OUTPUT"})
    copied = result["Output_Features"]
    if isinstance(copied, str):
        copied = QgsVectorLayer(copied)
    assert sorted(f["Name"] for f in copied.getFeatures()) == ["Lyon", "Nantes"]


def test_repeated_runs_keep_no_state(provider: GpProvider) -> None:
    alg = QgsApplication.processingRegistry().createAlgorithmById(SYNC + "copyfeatures")
    for count in (1, 3, 2):
        layer = point_layer(CITIES[:count])
        context = QgsProcessingContext()
        context.setProject(QgsProject.instance())
        results, ok = alg.run({"Input_Features": layer, "Output_Features": "TEMPORARY_OUTPUT"},
                              context, RecordingFeedback())
        assert ok
        out = context.getMapLayer(results["Output_Features"])
        assert out.featureCount() == count


@pytest.mark.parametrize("hosted", [False, True], ids=["feature_collection", "hosted_layer"])
def test_portal_analysis_service(provider: GpProvider, hosted: bool) -> None:
    """A portal connection finds its helper (analysis) service; hosted results are read back."""
    params = {"inputLayer": point_layer(CITIES[:2]), "distances": "1;2", "units": 1,
              "bufferLayer": "TEMPORARY_OUTPUT"}
    if hosted:
        params["outputName"] = json.dumps({"serviceProperties": {"name": f"b{uuid.uuid4().hex}"}})
    feedback = RecordingFeedback()
    result = run("arcgisgp:portal_tasks_createbuffers", params, feedback)
    layer = result["bufferLayer"]
    if isinstance(layer, str):
        layer = QgsVectorLayer(layer)
    assert layer.featureCount() == 4  # two points, two distances
    assert layer.crs().authid() == "EPSG:4326"
    assert any("hosted layer" in t for t in feedback.texts("info")) == hosted


@pytest.mark.parametrize("how", ["runAndLoadResults", "task"])
def test_result_layers_get_the_servers_style(provider: GpProvider, how: str, qgis_iface: Any,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A feature collection's drawingInfo styles the loaded layer (the esrijson styler)."""
    import processing

    real_layer_tree_view(qgis_iface, monkeypatch)

    params = {"inputLayer": point_layer(CITIES[:2]), "distances": "1", "units": 1,
              "bufferLayer": "TEMPORARY_OUTPUT"}
    before = set(QgsProject.instance().mapLayers())
    if how == "runAndLoadResults":
        processing.runAndLoadResults("arcgisgp:portal_tasks_createbuffers", params,
                                     feedback=RecordingFeedback())
    else:  # the toolbox's path: a task, then the results loaded on the main thread
        from processing.gui.Postprocessing import handleAlgorithmResults
        from qgis.core import QgsProcessingOutputLayerDefinition

        params["bufferLayer"] = QgsProcessingOutputLayerDefinition("TEMPORARY_OUTPUT",
                                                                   QgsProject.instance())
        alg = QgsApplication.processingRegistry().createAlgorithmById(
            "arcgisgp:portal_tasks_createbuffers")
        context = QgsProcessingContext()
        context.setProject(QgsProject.instance())
        feedback = RecordingFeedback()
        task = QgsProcessingAlgRunnerTask(alg, params, context, feedback)
        outcome: dict[str, Any] = {}
        task.executed.connect(lambda ok, results: outcome.update(ok=ok, results=results))
        QgsApplication.taskManager().addTask(task)
        assert wait_until(lambda: "ok" in outcome, 120), "the task never finished"
        assert outcome["ok"], feedback.texts()
        # by keyword: QGIS >= 3.40 dropped the showResults argument that came before it
        handleAlgorithmResults(alg, context, feedback, parameters=params)
    added = [QgsProject.instance().mapLayer(i) for i in
             set(QgsProject.instance().mapLayers()) - before]
    buffers = [layer for layer in added if layer.name() == "Buffer Layer"]
    assert len(buffers) == 1, [layer.name() for layer in added]
    symbol = buffers[0].renderer().symbol()  # the feature collection's simple renderer
    colour = symbol.color()
    assert (colour.red(), colour.green(), colour.blue()) == (252, 193, 184)
    assert styling.pending_count() == 0  # the styler ran, and nothing holds it any more
    for layer in added:
        QgsProject.instance().removeMapLayer(layer.id())
