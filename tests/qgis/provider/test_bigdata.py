"""Big inputs and results through the provider, against the reference server.

A big feature input goes to a service with the Uploads capability as an uploaded Esri JSON
file ({"itemID"}), a small one inline; feature results of asynchronous jobs are streamed to
a file and read from there (feature by feature above 1 MiB), and a bad result body (an HTML
page, an answer cut short) fails the run with gp_client's error. The synchronous service
(no uploads) keeps the inline path both ways. Memory is measured by
benchmarks/bench_provider_results.py, not here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from qgis.core import (
    QgsApplication,
    QgsFeature,
    QgsGeometry,
    QgsPointXY,
    QgsProcessingAlgRunnerTask,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProject,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QCoreApplication, QDate, QDateTime, Qt, QTime

from arcgis_gp.provider.provider import GpProvider

from .helpers import serving_provider

pytestmark = pytest.mark.timeout(300)

ASYNC = "arcgisgp:bigdata_demo_analysis_"
SYNC = "arcgisgp:bigdata_demo_analysissync_"
BIG = 30_000  # points: about 4.6 MB of Esri JSON; with a long text it is over 5 MiB


class Recorder(QgsProcessingFeedback):
    """Keeps the lines the algorithm reported."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def pushInfo(self, info: str) -> None:
        """Record an informative line."""
        self.lines.append(info)
        super().pushInfo(info)

    def pushWarning(self, warning: str) -> None:
        """Record a warning."""
        self.lines.append("WARNING " + warning)
        super().pushWarning(warning)

    def reportError(self, error: str, fatalError: bool = False) -> None:
        """Record an error."""
        self.lines.append("ERROR " + error)
        super().reportError(error, fatalError)

    def job_id(self) -> str:
        """The job id the algorithm reported when it submitted the job."""
        for line in self.lines:
            if line.startswith("Submitted job "):
                return line.split()[2]
        raise AssertionError(f"no job was submitted: {self.lines}")


@pytest.fixture(scope="module")
def provider(qgis_processing: Any, gpserver_url: str,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[GpProvider]:
    """The provider, registered, with a connection 'bigdata' to the reference server."""
    with serving_provider(tmp_path_factory.mktemp("cache"),
                          bigdata=gpserver_url + "/arcgis/rest/services/Demo") as provider:
        yield provider


def points(n: int, note: str = "") -> QgsVectorLayer:
    """A memory layer of n points with text, integer, double and date attributes."""
    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=Name:string(80)&field=Rank:integer"
                           "&field=Value:double&field=Seen:datetime", "points", "memory")
    day = QDateTime(QDate(2021, 3, 4), QTime(5, 6, 7), Qt.TimeSpec.UTC)
    features = []
    for i in range(n):
        feature = QgsFeature(layer.fields())
        feature.setAttributes([f"point {i} {note}", i, i / 7.0,
                               day.addSecs(i * 61) if i % 10 else None])
        feature.setGeometry(QgsGeometry.fromPointXY(
            QgsPointXY(-3.7 + (i % 200) * 0.0013, 40.4 + (i // 200) * 0.0011)))
        features.append(feature)
    assert layer.dataProvider().addFeatures(features)
    QgsProject.instance().addMapLayer(layer)
    return layer


def run(alg_id: str, params: dict, feedback: QgsProcessingFeedback) -> dict:
    """processing.run on the main thread."""
    import processing

    return processing.run(alg_id, params, feedback=feedback)


def same_features(expected: QgsVectorLayer, got: QgsVectorLayer) -> None:
    """Every input feature is in the output with equal attributes and the same point."""
    assert got.featureCount() == expected.featureCount()
    names = [f.name() for f in expected.fields()]
    assert [n for n in got.fields().names() if n in names] == names
    by_rank = {f["Rank"]: f for f in got.getFeatures()}
    assert len(by_rank) == expected.featureCount()
    for feature in expected.getFeatures():
        other = by_rank[feature["Rank"]]
        for name in names:
            a, b = feature[name], other[name]
            if isinstance(a, float):
                assert math.isclose(a, b, rel_tol=0, abs_tol=0), (name, a, b)
            else:
                assert a == b, (name, a, b)
        assert other.geometry().asPoint() == feature.geometry().asPoint()


def job_input(gpserver_url: str, task: str, job: str) -> Any:
    """The Input_Features value the server received for a job."""
    url = (f"{gpserver_url}/arcgis/rest/services/Demo/Analysis/GPServer/{task}/jobs/{job}"
           "/inputs/Input_Features")
    return requests.get(url, params={"f": "json"}, timeout=30).json()["value"]


@pytest.fixture(scope="module")
def big_layer(qgis_app: Any) -> QgsVectorLayer:
    """30,000 points with a long name: over UPLOAD_MIN_BYTES of Esri JSON."""
    return points(BIG, note="x" * 60)


def test_big_input_is_uploaded_and_the_result_streamed(
        provider: GpProvider, big_layer: QgsVectorLayer, gpserver_url: str,
        tmp_path: Path) -> None:
    feedback = Recorder()
    out = str(tmp_path / "copy.gpkg")
    result = run(ASYNC + "copyfeatures",
                 {"Input_Features": big_layer, "Output_Features": out}, feedback)
    uploading = [line for line in feedback.lines if line.startswith("Uploading Input_Features")]
    assert uploading and f"{BIG} features" in uploading[0], feedback.lines
    assert any("feature by feature" in line for line in feedback.lines), feedback.lines
    sent = job_input(gpserver_url, "CopyFeatures", feedback.job_id())
    assert set(sent) == {"itemID"}
    # the run deleted its upload once the job had ended
    item = requests.get(f"{gpserver_url}/arcgis/rest/services/Demo/Analysis/GPServer/uploads/"
                        f"{sent['itemID']}", params={"f": "json"}, timeout=30).json()
    assert item["error"]["code"] == 404
    layer = QgsVectorLayer(result["Output_Features"], "copy", "ogr")
    assert layer.isValid()
    assert layer.crs().authid() == "EPSG:4326"
    same_features(big_layer, layer)


def test_small_input_goes_inline_and_small_results_are_read_whole(
        provider: GpProvider, gpserver_url: str) -> None:
    layer = points(50)
    feedback = Recorder()
    result = run(ASYNC + "copyfeatures", {"Input_Features": layer,
                                          "Output_Features": "TEMPORARY_OUTPUT"}, feedback)
    assert not any(line.startswith("Uploading") for line in feedback.lines)
    assert not any("feature by feature" in line for line in feedback.lines)
    sent = job_input(gpserver_url, "CopyFeatures", feedback.job_id())
    assert len(sent["features"]) == 50
    same_features(layer, result["Output_Features"])


def test_result_over_the_streaming_threshold_without_an_upload(provider: GpProvider) -> None:
    """Inline input (under 5 MiB) and a result over 1 MiB: read feature by feature."""
    layer = points(12_000)
    feedback = Recorder()
    result = run(ASYNC + "copyfeatures", {"Input_Features": layer,
                                          "Output_Features": "TEMPORARY_OUTPUT"}, feedback)
    assert not any(line.startswith("Uploading") for line in feedback.lines)
    assert any("feature by feature" in line for line in feedback.lines), feedback.lines
    same_features(layer, result["Output_Features"])


def test_streamed_result_in_the_toolbox_worker_thread(provider: GpProvider) -> None:
    """QgsProcessingAlgRunnerTask (the toolbox's path): the result streams in a worker thread."""
    layer = points(12_000)
    alg = QgsApplication.processingRegistry().createAlgorithmById(ASYNC + "copyfeatures")
    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    feedback = Recorder()
    task = QgsProcessingAlgRunnerTask(
        alg, {"Input_Features": layer, "Output_Features": "TEMPORARY_OUTPUT"}, context,
        feedback)
    outcome: dict[str, Any] = {}
    task.executed.connect(lambda ok, results: outcome.update(ok=ok, results=results))
    QgsApplication.taskManager().addTask(task)
    end = time.monotonic() + 120
    while "ok" not in outcome and time.monotonic() < end:
        QCoreApplication.processEvents()
        time.sleep(0.005)
    assert outcome.get("ok"), feedback.lines
    assert any("feature by feature" in line for line in feedback.lines), feedback.lines
    output = context.takeResultLayer(outcome["results"]["Output_Features"])
    same_features(layer, output)


def test_synchronous_service_keeps_the_inline_path(provider: GpProvider,
                                                   big_layer: QgsVectorLayer) -> None:
    """Demo/AnalysisSync has no Uploads: the big input goes in the execute body."""
    feedback = Recorder()
    result = run(SYNC + "copyfeatures", {"Input_Features": big_layer,
                                         "Output_Features": "TEMPORARY_OUTPUT"}, feedback)
    assert not any(line.startswith("Uploading") for line in feedback.lines)
    same_features(big_layer, result["Output_Features"])


def test_a_sign_in_page_for_the_result_fails_the_run_clearly(provider: GpProvider,
                                                             gpserver_faults: Any) -> None:
    layer = points(2_000)
    gpserver_faults.add(r"/CopyFeatures/jobs/[^/]+/results/Output_Features", "html", count=1)
    feedback = Recorder()
    with pytest.raises(QgsProcessingException) as caught:
        run(ASYNC + "copyfeatures", {"Input_Features": layer,
                                     "Output_Features": "TEMPORARY_OUTPUT"}, feedback)
    text = str(caught.value)
    assert "sign-in page" in text and "/results/Output_Features" in text, text
    assert "Traceback" not in text


def test_a_result_cut_short_once_is_fetched_again(provider: GpProvider,
                                                  gpserver_faults: Any) -> None:
    layer = points(2_000)
    gpserver_faults.add(r"/CopyFeatures/jobs/[^/]+/results/Output_Features", "broken_json",
                        count=1)
    n = len(gpserver_faults.history)
    result = run(ASYNC + "copyfeatures", {"Input_Features": layer,
                                          "Output_Features": "TEMPORARY_OUTPUT"}, Recorder())
    same_features(layer, result["Output_Features"])
    assert [k for k, _, _ in gpserver_faults.history[n:]] == ["broken_json"]

