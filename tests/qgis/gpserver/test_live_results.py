"""Results that live on the server: a web tool's output feature service, a job's result map
service, loaded by QGIS's own ArcGIS providers."""

from __future__ import annotations

import uuid

import pytest
import requests
from qgis.core import (
    QgsRasterLayer,
    QgsRectangle,
    QgsVectorLayer,
)
from qgis.PyQt.QtGui import QColor, QImage

from tests.gpserver.client import Rest
from tests.gpserver.mapservice import RESULT_COLOR
from tests.qgis.gpserver.helpers import points, render, rgb, task

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def rest(gpserver_url: str) -> Rest:
    """A client without token."""
    return Rest(gpserver_url)


def buffer_job(rest: Rest, **extra: str) -> dict:
    """A finished BufferFeatures job of Demo/WebTool on three points (2 km)."""
    url = task(rest, "Demo/WebTool", "BufferFeatures")
    status = rest.run(url, {"Input_Features": points(3),
                            "Distance": {"distance": 2, "units": "esriKilometers"}, **extra})
    assert status["jobStatus"] == "esriJobSucceeded", status["messages"]
    return status


def test_web_tool_describes_its_result_map_service(rest: Rest) -> None:
    """resultMapServerName names the map service; the task has esri_out_feature_service_name."""
    service = rest.get(f"{rest.base_url}/arcgis/rest/services/Demo/WebTool/GPServer")
    assert service["resultMapServerName"] == "Demo/WebTool"
    described = rest.get(task(rest, "Demo/WebTool", "BufferFeatures"))
    assert described["parameters"][-2]["name"] == "esri_out_feature_service_name"


def test_output_feature_service_loads_in_qgis(rest: Rest) -> None:
    """With a name, the output is a new hosted layer that QGIS's provider reads whole."""
    name = f"buffers_{uuid.uuid4().hex[:8]}"
    status = buffer_job(rest, esri_out_feature_service_name=name)
    url = status["values"]["Output_Features"]["url"]
    assert url.endswith(f"/hosted/arcgis/rest/services/{name}/FeatureServer/0")
    layer = QgsVectorLayer(f"crs='EPSG:4326' url='{url}'", name, "arcgisfeatureserver")
    assert layer.isValid(), layer.error().summary()
    assert layer.featureCount() == 3
    assert sorted(f["Name"] for f in layer.getFeatures()) == ["p1", "p2", "p3"]
    assert all(f.geometry().area() > 0 for f in layer.getFeatures())


def test_result_map_service_info_and_export(rest: Rest) -> None:
    """The job's map service lists its result layer and draws it (red inside, clear outside)."""
    job = buffer_job(rest)["jobId"]
    base = f"{rest.base_url}/arcgis/rest/services/Demo/WebTool/MapServer/jobs/{job}"
    info = rest.get(base)
    assert [layer["name"] for layer in info["layers"]] == ["Output_Features"]
    assert info["fullExtent"]["spatialReference"]["wkid"] == 4326
    answer = requests.get(base + "/export", timeout=30, params={
        "bbox": "9.95,49.95,10.05,50.05", "size": "100,100", "format": "png",
        "transparent": "true", "f": "image"})
    assert answer.headers["Content-Type"] == "image/png"
    image = QImage.fromData(answer.content, "PNG")
    assert (image.width(), image.height()) == (100, 100)
    assert QColor(image.pixel(50, 50)) == RESULT_COLOR  # on p1
    assert QColor.fromRgba(image.pixel(2, 2)).alpha() == 0  # 3.5 km from p1, outside


def test_result_map_service_of_an_unknown_job_is_not_found(rest: Rest) -> None:
    """A job id the service never ran: the ArcGIS not-found error."""
    body = rest.get(f"{rest.base_url}/arcgis/rest/services/Demo/WebTool/MapServer/jobs/jnone")
    assert body["error"]["code"] == 404


def test_qgis_renders_the_result_map_service(rest: Rest) -> None:
    """QGIS's arcgismapserver provider loads the job's map service and draws the buffers."""
    job = buffer_job(rest)["jobId"]
    url = f"{rest.base_url}/arcgis/rest/services/Demo/WebTool/MapServer/jobs/{job}"
    layer = QgsRasterLayer(f"crs='EPSG:4326' format='png' layer='0' url='{url}'", "result",
                           "arcgismapserver")
    assert layer.isValid(), layer.error().summary()
    assert layer.extent().contains(QgsRectangle(9.99, 49.99, 10.01, 50.01))
    image = render(layer, QgsRectangle(9.94, 49.94, 10.06, 50.06), 120)
    assert rgb(image, 60, 60) == (RESULT_COLOR.red(), RESULT_COLOR.green(), RESULT_COLOR.blue())
