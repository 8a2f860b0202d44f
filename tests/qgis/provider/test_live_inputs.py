"""Feature server layers the task's server can read go as {"url", "filter"}, not copied."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from qgis.core import QgsProcessingFeatureSourceDefinition, QgsProject, QgsVectorLayer

from .helpers import RecordingFeedback, job_id_from, run

pytestmark = pytest.mark.timeout(120)

COPY = "arcgisgp:local_demo_analysis_copyfeatures"
BIG_TOWNS = ["San Bernardino", "Riverside", "Temecula"]  # Population > 100000


def towns_layer(root: str) -> QgsVectorLayer:
    """Demo/SamplePoints through QGIS's ArcGIS feature server provider."""
    url = f"{root}/arcgis/rest/services/Demo/SamplePoints/FeatureServer/0"
    layer = QgsVectorLayer(f"crs='EPSG:4326' url='{url}'", "towns", "arcgisfeatureserver")
    assert layer.isValid(), layer.error().summary()
    QgsProject.instance().addMapLayer(layer)
    return layer


def sent(gpserver_url: str, feedback: RecordingFeedback) -> Any:
    """The Input_Features value the server received for the run's job."""
    job = job_id_from(feedback)
    url = (f"{gpserver_url}/arcgis/rest/services/Demo/Analysis/GPServer/CopyFeatures/jobs/"
           f"{job}/inputs/Input_Features")
    return requests.get(url, params={"f": "json"}, timeout=10).json()["value"]


def names(result: dict) -> list[str]:
    """Names of the output's features, sorted."""
    layer = result["Output_Features"]
    layer = layer if isinstance(layer, QgsVectorLayer) else QgsVectorLayer(layer)
    return sorted(f["Name"] for f in layer.getFeatures())


def test_layer_on_the_same_server_goes_as_its_url(served_provider: Any, gpserver_url: str) -> None:
    """The server reads the six towns itself: nothing copied."""
    feedback = RecordingFeedback()
    layer = towns_layer(gpserver_url)
    result = run(COPY, {"Input_Features": layer, "Output_Features": "TEMPORARY_OUTPUT"},
                 feedback)
    assert sent(gpserver_url, feedback) == {"url": layer.dataProvider().uri().param("url")}
    assert len(names(result)) == 6
    assert any("reads the layer itself" in t for t in feedback.texts("info"))


def test_subset_string_goes_as_the_filter(served_provider: Any, gpserver_url: str) -> None:
    """The provider's subset string (the service's where clause) becomes the filter.

    QGIS 3.22's ArcGIS feature server provider has no subset strings (newer ones have):
    there the layer refuses one, so it always goes unfiltered (the test above).
    """
    layer = towns_layer(gpserver_url)
    accepted = layer.setSubsetString("Population > 100000")
    if not layer.dataProvider().supportsSubsetString():  # QGIS 3.22
        assert not accepted and layer.subsetString() == ""
        return
    assert accepted
    feedback = RecordingFeedback()
    result = run(COPY, {"Input_Features": layer, "Output_Features": "TEMPORARY_OUTPUT"},
                 feedback)
    assert sent(gpserver_url, feedback) == {"url": layer.dataProvider().uri().param("url"),
                                            "filter": "Population > 100000"}
    assert names(result) == sorted(BIG_TOWNS)


def test_a_copy_when_asked(served_provider: Any, gpserver_url: str) -> None:
    """ARCGISGP_COPY_INPUTS: the (filtered) features themselves go out."""
    feedback = RecordingFeedback()
    result = run(COPY, {"Input_Features": towns_layer(gpserver_url),
                        "ARCGISGP_COPY_INPUTS": True, "Output_Features": "TEMPORARY_OUTPUT"},
                 feedback)
    value = sent(gpserver_url, feedback)
    assert "url" not in value and len(value["features"]) == 6
    assert len(names(result)) == 6


def test_a_selection_is_copied(served_provider: Any, gpserver_url: str) -> None:
    """Selected features only: the selection can only be told by copying it."""
    layer = towns_layer(gpserver_url)
    layer.selectByExpression("Name = 'Barstow'")
    feedback = RecordingFeedback()
    result = run(COPY, {"Input_Features": QgsProcessingFeatureSourceDefinition(
        layer.id(), True), "Output_Features": "TEMPORARY_OUTPUT"}, feedback)
    assert "url" not in sent(gpserver_url, feedback)
    assert names(result) == ["Barstow"]


def test_a_layer_of_another_server_is_copied(served_provider: Any, gpserver_url: str,
                                            faultproxy: Any) -> None:
    """Another origin (the same layers behind a proxy's port): the task's server may not
    reach it. (Not "localhost": a chroot without /etc/hosts entries cannot resolve it.)"""
    feedback = RecordingFeedback()
    result = run(COPY, {"Input_Features": towns_layer(faultproxy.url),
                        "Output_Features": "TEMPORARY_OUTPUT"}, feedback)
    assert "url" not in sent(gpserver_url, feedback)
    assert len(names(result)) == 6
