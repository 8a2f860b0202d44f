"""Results that live on the server come back as layers reading from it (reference server).

A web tool's output feature service and a Spatial Analysis outputName: QGIS's ArcGIS
feature server provider on the new layer, with the connection's authentication, besides the
copy in the output. ARCGISGP_RESULT_MAP_LAYER: the job's result map service through QGIS's
ArcGIS map server provider, drawing the results.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from qgis.core import (
    QgsMapLayer,
    QgsProcessingContext,
    QgsProject,
    QgsRectangle,
    QgsVectorLayer,
)

from arcgis_gp.provider.connections import ENV_VAR
from arcgis_gp.provider.live_layers import LIVE_PREFIX, RESULT_MAP, result_map_url
from tests.qgis.gpserver.helpers import render, rgb

from .helpers import (
    RecordingFeedback,
    authcfg,
    demo_token,
    new_store,
    point_layer,
    registered,
)

pytestmark = pytest.mark.timeout(120)

WEBTOOL = "arcgisgp:local_demo_webtool_bufferfeatures"
RED = (220, 30, 30)  # the reference server draws every result in this colour


@pytest.fixture(scope="module")
def token_cfg(qgis_processing: Any, gpserver_url: str) -> Iterator[str]:
    """An EsriToken authentication configuration of the demo user."""
    with authcfg("EsriToken", token=demo_token(gpserver_url)) as config_id:
        yield config_id


@pytest.fixture(scope="module")
def provider(gpserver_url: str, token_cfg: str,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Connections 'local' (services, with the token config) and 'portal'."""
    from arcgis_gp.provider.cache import DescriptionCache
    from arcgis_gp.provider.provider import GpProvider

    store = new_store({ENV_VAR: json.dumps([
        {"name": "local", "url": gpserver_url + "/arcgis/rest/services", "authcfg": token_cfg},
        {"name": "portal", "url": gpserver_url + "/portal/sharing/rest"},
    ])})
    provider = GpProvider(store, DescriptionCache(tmp_path_factory.mktemp("cache")),
                          fetch_missing=True)
    with registered(provider):
        yield provider


def run(alg_id: str, params: dict) -> tuple[dict, QgsProcessingContext, RecordingFeedback]:
    """processing.run with a context of our own (to see the layers it will load)."""
    import processing

    context = QgsProcessingContext()
    context.setProject(QgsProject.instance())
    feedback = RecordingFeedback()
    result = processing.run(alg_id, params, context=context, feedback=feedback)
    return result, context, feedback


def loaded(context: QgsProcessingContext, output: Any) -> QgsMapLayer:
    """The layer the run will add to the project, checked to be on the load list.

    processing.run answers the layer itself, taken out of the context's layer store.
    """
    assert isinstance(output, QgsMapLayer), output
    assert output.id() in context.layersToLoadOnCompletion()
    layer = output
    assert layer.isValid()
    return layer


def towns() -> QgsVectorLayer:
    """Three points 0.1 degree apart at 50 N."""
    return point_layer([(10.0, 50.0, "a"), (10.1, 50.0, "b"), (10.2, 50.0, "c")])


def test_output_feature_service_comes_back_as_a_live_layer(provider: Any, token_cfg: str
                                                          ) -> None:
    """esri_out_feature_service_name: a feature server layer on the new service, with the
    connection's authcfg, and the copy in the output as before."""
    name = f"live_{uuid.uuid4().hex[:8]}"
    result, context, _feedback = run(WEBTOOL, {
        "Input_Features": towns(), "Distance": 1, "Distance_units": "esriKilometers",
        "esri_out_feature_service_name": name, "Output_Features": "TEMPORARY_OUTPUT"})
    live = loaded(context, result[LIVE_PREFIX + "Output_Features"])
    assert live.providerType() == "arcgisfeatureserver"
    assert f"/hosted/arcgis/rest/services/{name}/FeatureServer/0" in live.source()
    assert f"authcfg={token_cfg}" in live.source()
    assert live.name() == name
    assert sorted(f["Name"] for f in live.getFeatures()) == ["a", "b", "c"]
    copy = result["Output_Features"]
    copy = copy if isinstance(copy, QgsVectorLayer) else QgsVectorLayer(copy)
    assert copy.featureCount() == 3


def test_without_a_service_name_no_live_layer(provider: Any) -> None:
    """No output service asked: only the copy."""
    result, _context, feedback = run(WEBTOOL, {
        "Input_Features": towns(), "Distance": 1, "Distance_units": "esriKilometers",
        "Output_Features": "TEMPORARY_OUTPUT"})
    assert not result.get(LIVE_PREFIX + "Output_Features")
    assert not any("as a layer" in t for t in feedback.texts())
    assert result["Output_Features"].featureCount() == 3


def test_spatial_analysis_output_name_is_a_live_layer(provider: Any) -> None:
    """CreateBuffers with outputName (portal helper service): its hosted layer, live."""
    name = f"sa_{uuid.uuid4().hex[:8]}"
    result, context, _feedback = run("arcgisgp:portal_tasks_createbuffers", {
        "inputLayer": towns(), "distances": "1", "units": 1,
        "outputName": json.dumps({"serviceProperties": {"name": name}}),
        "bufferLayer": "TEMPORARY_OUTPUT"})
    live = loaded(context, result[LIVE_PREFIX + "bufferLayer"])
    assert live.featureCount() == 3


def test_result_map_service_is_added_and_draws_the_results(provider: Any,
                                                          gpserver_url: str) -> None:
    """ARCGISGP_RESULT_MAP_LAYER adds .../MapServer/jobs/<jobId>; QGIS draws it."""
    result, context, feedback = run(WEBTOOL, {
        "Input_Features": towns(), "Distance": 2, "Distance_units": "esriKilometers",
        "ARCGISGP_RESULT_MAP_LAYER": True, "Output_Features": "TEMPORARY_OUTPUT"})
    layer = loaded(context, result[RESULT_MAP])
    assert layer.providerType() == "arcgismapserver"
    job = next(t.split()[2] for t in feedback.texts("info") if t.startswith("Submitted job"))
    assert (f"{gpserver_url}/arcgis/rest/services/Demo/WebTool/MapServer/jobs/{job}"
            in layer.source())
    image = render(layer, QgsRectangle(9.95, 49.95, 10.05, 50.05), 100)
    assert rgb(image, 50, 50) == RED


def test_result_map_url_of_a_service_in_a_folder() -> None:
    """A bare resultMapServerName lives in the GP service's folder, as ArcGIS publishes it."""
    class Service:
        url = "https://h/arcgis/rest/services/Folder/Tool/GPServer"
        result_map_server_name = "Tool"

    assert result_map_url(Service(), "j1") == (
        "https://h/arcgis/rest/services/Folder/Tool/MapServer/jobs/j1")
