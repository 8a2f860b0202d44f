"""Transfer limits explained, split and parallel jobs, and the processing context.

Against the reference server's Demo/Limited (maximumRecords 5), Demo/Analysis (10.9.1,
``context``) and Demo/Legacy (10.5.1, ``env:processSR``).
"""

from __future__ import annotations

import pytest
import requests
from qgis.core import (
    QgsApplication,
    QgsCoordinateReferenceSystem,
    QgsDistanceArea,
    QgsProcessingException,
    QgsProcessingParameterDefinition,
    QgsProject,
    QgsVectorLayer,
)

from arcgis_gp.gp_client.model import ParameterDescription
from arcgis_gp.provider.provider import GpProvider
from arcgis_gp.provider.run_options import MAX_PARALLEL
from arcgis_gp.provider.transfer_limit import LimitInfo
from arcgis_gp.provider.transfer_limit import check as check_transfer_limit

from .helpers import RecordingFeedback, point_layer, run, run_in_task
from .helpers import wait_until as turn_until

pytestmark = pytest.mark.timeout(180)

LIMITED = "arcgisgp:local_demo_limited_"
ANALYSIS = "arcgisgp:local_demo_analysis_"
LEGACY = "arcgisgp:local_demo_legacy_"
ADVANCED = QgsProcessingParameterDefinition.Flag.FlagAdvanced


def towns(count: int) -> QgsVectorLayer:
    """``count`` named points c1..cN, 0.1 degree apart eastwards from 10 E, 50 N."""
    return point_layer([(10.0 + 0.1 * i, 50.0, f"c{i + 1}") for i in range(count)])


def names(result: dict, key: str = "Output_Features") -> list[str]:
    """The Name of every output feature, in the output's order."""
    layer = result[key]
    if isinstance(layer, str):
        layer = QgsVectorLayer(layer)
    return [f["Name"] for f in layer.getFeatures()]


def job_ids(feedback: RecordingFeedback) -> list[str]:
    """The ids of the jobs the run submitted, in order."""
    return [t.split()[2].rstrip(":") for t in feedback.texts("info")
            if t.startswith("Submitted job ")]


def job_status(gpserver_url: str, service: str, task: str, job: str) -> str:
    """A job's status, asked from the server."""
    url = f"{gpserver_url}/arcgis/rest/services/{service}/GPServer/{task}/jobs/{job}"
    return requests.get(url, params={"f": "json"}, timeout=10).json()["jobStatus"]


# ---------------------------------------------------------------- the parameters
def test_advanced_parameters_of_tasks(served_provider: GpProvider) -> None:
    """Feature tasks get split/parallel/copy; every task without its own context gets it."""
    registry = QgsApplication.processingRegistry()
    copy = registry.algorithmById(LIMITED + "slowcopy")
    ours = [d for d in copy.parameterDefinitions() if d.name().startswith("ARCGISGP_")]
    assert {d.name() for d in ours} >= {"ARCGISGP_SPLIT", "ARCGISGP_PARALLEL",
                                        "ARCGISGP_PROCESS_SR", "ARCGISGP_EXTENT",
                                        "ARCGISGP_COPY_INPUTS"}
    assert all(d.flags() & ADVANCED for d in ours)
    split = copy.parameterDefinition("ARCGISGP_SPLIT")
    assert split.defaultValue() == 0 and "each feature on its own" in split.help()
    assert copy.parameterDefinition("ARCGISGP_PARALLEL").maximum() == MAX_PARALLEL
    sleep = registry.algorithmById(ANALYSIS + "sleep")
    assert sleep.parameterDefinition("ARCGISGP_SPLIT") is None
    assert sleep.parameterDefinition("ARCGISGP_PROCESS_SR") is not None


def test_parallel_above_the_cap_is_refused_before_sending(served_provider: GpProvider) -> None:
    """ARCGISGP_PARALLEL beyond its maximum fails the parameter check."""
    with pytest.raises(QgsProcessingException, match="ARCGISGP_PARALLEL|Jobs running at once"):
        run(LIMITED + "copyfeatures", {"Input_Features": towns(2), "ARCGISGP_SPLIT": 1,
                                       "ARCGISGP_PARALLEL": MAX_PARALLEL + 1,
                                       "Output_Features": "TEMPORARY_OUTPUT"})


# ---------------------------------------------------------------- transfer limits
def test_result_over_the_limit_is_explained(served_provider: GpProvider) -> None:
    """12 features through a 5-record service: what happened, the numbers, what to do."""
    with pytest.raises(QgsProcessingException) as caught:
        run(LIMITED + "copyfeatures", {"Input_Features": towns(12),
                                       "Output_Features": "TEMPORARY_OUTPUT"})
    text = str(caught.value)
    assert "sent none of the result's features" in text
    assert "limit of 5 features per result (maximumRecords)" in text
    assert "The input had 12 features" in text
    assert "ARCGISGP_SPLIT" in text and "5 features or fewer" in text
    assert "job (j" in text  # the job succeeded, and which it was
    assert "exceededTransferLimit" not in text  # no bare server vocabulary


@pytest.mark.parametrize("parallel", [1, 3])
def test_split_brings_every_feature_back_in_input_order(served_provider: GpProvider,
                                                        parallel: int) -> None:
    """SPLIT=5 on the 5-record service: 12 features in 3 jobs, merged in order."""
    feedback = RecordingFeedback()
    result = run(LIMITED + "copyfeatures",
                 {"Input_Features": towns(12), "ARCGISGP_SPLIT": 5,
                  "ARCGISGP_PARALLEL": parallel, "Output_Features": "TEMPORARY_OUTPUT"},
                 feedback)
    assert names(result) == [f"c{i}" for i in range(1, 13)]
    assert len(job_ids(feedback)) == 3
    assert any("12 features in 3 jobs of at most 5" in t for t in feedback.texts("info"))


def test_split_on_a_synchronous_service_runs_jobs_one_after_another(
        served_provider: GpProvider) -> None:
    """execute cannot overlap: the three chunks run in turn, merged in order."""
    feedback = RecordingFeedback()
    result = run("arcgisgp:local_demo_analysissync_copyfeatures",
                 {"Input_Features": towns(5), "ARCGISGP_SPLIT": 2, "ARCGISGP_PARALLEL": 3,
                  "Output_Features": "TEMPORARY_OUTPUT"}, feedback)
    assert names(result) == ["c1", "c2", "c3", "c4", "c5"]
    executed = [t for t in feedback.texts("info") if t.startswith("Executing job")]
    assert executed == ["Executing job 1/3 (features 1-2)", "Executing job 2/3 (features 3-4)",
                        "Executing job 3/3 (features 5-5)"]


def test_a_result_cut_short_is_written_with_a_warning() -> None:
    """Some features and exceededTransferLimit (a server that cuts): kept, and explained."""
    feedback = RecordingFeedback()
    output = ParameterDescription.from_json({
        "name": "Out", "dataType": "GPFeatureRecordSetLayer", "displayName": "Out",
        "direction": "esriGPParameterDirectionOutput"})
    value = {"geometryType": "esriGeometryPoint", "features": [{"attributes": {}}] * 2,
             "exceededTransferLimit": True}
    check_transfer_limit(output, value, LimitInfo("Demo/Cut", 2, 9, "j1"), feedback)
    [warning] = feedback.texts("warning")
    assert "sent only 2 of the result's features" in warning
    assert "limit of 2 features per result" in warning and "The input had 9" in warning


def test_split_buffer_equals_the_unsplit_one(served_provider: GpProvider) -> None:
    """A per-feature task split in jobs gives the geometries of one job."""
    layer = towns(7)
    common = {"Input_Features": layer, "Distance": 2, "Distance_units": "esriKilometers",
              "Output_Features": "TEMPORARY_OUTPUT"}
    whole = run(ANALYSIS + "bufferfeatures", common)["Output_Features"]
    split = run(LIMITED + "bufferfeatures",
                {**common, "ARCGISGP_SPLIT": 3, "ARCGISGP_PARALLEL": 3})["Output_Features"]
    whole_layer = QgsVectorLayer(whole) if isinstance(whole, str) else whole
    split_layer = QgsVectorLayer(split) if isinstance(split, str) else split
    a = list(whole_layer.getFeatures())
    b = list(split_layer.getFeatures())
    assert [f["Name"] for f in b] == [f["Name"] for f in a]
    for x, y in zip(a, b):
        assert x.geometry().symDifference(y.geometry()).area() < 1e-9


def test_a_failed_job_fails_the_run_after_cancelling_the_others(
        served_provider: GpProvider, gpserver_url: str) -> None:
    """Job 3 fails at once: jobs 1, 2 and 4 (30 s each) are cancelled, its message shown."""
    feedback = RecordingFeedback()
    with pytest.raises(QgsProcessingException) as caught:
        run(LIMITED + "slowcopy",
            {"Input_Features": towns(12), "Seconds": 30, "Fail_Where": "Name = 'c7'",
             "ARCGISGP_SPLIT": 3, "ARCGISGP_PARALLEL": 4,
             "Output_Features": "TEMPORARY_OUTPUT"}, feedback)
    assert "c7" in str(caught.value) and "cannot be processed" in str(caught.value)
    ids = job_ids(feedback)
    assert len(ids) == 4
    statuses = [job_status(gpserver_url, "Demo/Limited", "SlowCopy", j) for j in ids]
    assert statuses[2] == "esriJobFailed"
    others = [j for i, j in enumerate(ids) if i != 2]
    assert turn_until(lambda: all(
        job_status(gpserver_url, "Demo/Limited", "SlowCopy", j) == "esriJobCancelled"
        for j in others), 20)


def test_cancel_cancels_every_job(served_provider: GpProvider, gpserver_url: str) -> None:
    """Cancel in QGIS (the toolbox path): every running job is cancelled on the server."""
    feedback = RecordingFeedback()

    def cancel_when_all_submitted() -> None:
        assert turn_until(lambda: len(job_ids(feedback)) == 3, 60)
        feedback.cancel()

    ok, _results, _task = run_in_task(
        LIMITED + "slowcopy",
        {"Input_Features": towns(9), "Seconds": 60, "ARCGISGP_SPLIT": 3,
         "ARCGISGP_PARALLEL": 3, "Output_Features": "TEMPORARY_OUTPUT"},
        feedback, cancel_when_all_submitted)
    assert not ok
    ids = job_ids(feedback)
    assert turn_until(lambda: all(
        job_status(gpserver_url, "Demo/Limited", "SlowCopy", j) == "esriJobCancelled"
        for j in ids), 20)


# ---------------------------------------------------------------- processing context
def _area(result: dict) -> float:
    layer = result["Output_Features"]
    if isinstance(layer, str):
        layer = QgsVectorLayer(layer)
    measure = QgsDistanceArea()
    measure.setSourceCrs(layer.crs(), QgsProject.instance().transformContext())
    measure.setEllipsoid("WGS84")
    return sum(measure.measureArea(f.geometry()) for f in layer.getFeatures())


@pytest.mark.parametrize("prefix", [ANALYSIS, LEGACY], ids=["context", "env_processSR"])
def test_process_sr_reaches_the_server(served_provider: GpProvider, prefix: str) -> None:
    """A buffer in Web Mercator at 50 N covers cos(50)^2 of the UTM one, on both releases."""
    params = {"Input_Features": towns(1), "Distance": 100, "Distance_units": "esriKilometers",
              "Output_Features": "TEMPORARY_OUTPUT"}
    plain = _area(run(prefix + "bufferfeatures", params))
    mercator = _area(run(prefix + "bufferfeatures",
                         {**params, "ARCGISGP_PROCESS_SR":
                          QgsCoordinateReferenceSystem("EPSG:3857")}))
    assert mercator / plain == pytest.approx(0.643 ** 2, rel=0.05)


def test_extent_limits_the_features_processed(served_provider: GpProvider) -> None:
    """Only the towns inside ARCGISGP_EXTENT come back (10.9.1: context.extent)."""
    extent = "9.95,10.15,49.9,50.1 [EPSG:4326]"
    result = run(ANALYSIS + "copyfeatures", {"Input_Features": towns(6),
                                             "ARCGISGP_EXTENT": extent,
                                             "Output_Features": "TEMPORARY_OUTPUT"})
    assert names(result) == ["c1", "c2"]


def test_extent_on_an_old_server_is_not_sent_and_the_log_says_so(
        served_provider: GpProvider) -> None:
    """10.5.1 has no processing extent: every feature is processed, with a warning."""
    feedback = RecordingFeedback()
    result = run(LEGACY + "bufferfeatures",
                 {"Input_Features": towns(3), "Distance": 1, "Distance_units": "esriKilometers",
                  "ARCGISGP_EXTENT": "9.95,10.15,49.9,50.1 [EPSG:4326]",
                  "Output_Features": "TEMPORARY_OUTPUT"}, feedback)
    assert names(result) == ["c1", "c2", "c3"]
    assert any("no processing extent" in t and "10.51" in t for t in feedback.texts("warning"))
