"""The seeds' REST workflow (Spatial Analysis CreateBuffers), standard library only.

This follows the Python 3 sample of the seeds step by step (get a token from the portal,
read the analysis URL from portals/self, submitJob, poll, fetch every result through its
paramUrl) and then queries the hosted layer the job created. Parameters are encoded exactly
as the sample does: ``urllib.parse.urlencode`` of a dict holding dicts and lists.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import time
import urllib.parse
import urllib.request
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(60)


def submit_request(request: urllib.request.Request) -> dict[str, Any]:
    """Return the JSON answer of a request (as the seeds' helper does)."""
    with contextlib.closing(urllib.request.urlopen(request)) as response:
        return json.loads(response.read().decode("utf-8"))


def get_token(portal_url: str, username: str, password: str) -> str:
    """Seeds step 1: generateToken on the portal."""
    params = {"username": username, "password": password, "referer": "http://www.arcgis.com",
              "f": "json"}
    data = urllib.parse.urlencode(params).encode("utf-8")
    answer = submit_request(urllib.request.Request(f"{portal_url}/generateToken", data=data))
    assert "token" in answer, answer
    return answer["token"]


def get_analysis_url(portal_url: str, token: str) -> str:
    """Seeds step 2: helperServices.analysis.url from portals/self."""
    url = f"{portal_url}/portals/self?f=json&token={token}"
    answer = submit_request(urllib.request.Request(url))
    return answer["helperServices"]["analysis"]["url"]


def analysis_job(analysis_url: str, task: str, token: str, params: dict[str, Any]):
    """Seeds step 3: submitJob (POST, Referer header, token in the body)."""
    params["f"] = "json"
    params["token"] = token
    headers = {"Referer": "http://www.arcgis.com"}
    task_url = f"{analysis_url}/{task}"
    data = urllib.parse.urlencode(params).encode("utf-8")
    request = urllib.request.Request(f"{task_url}/submitJob?", data=data, headers=headers)
    return task_url, submit_request(request)


def analysis_job_status(task_url: str, job_info: dict[str, Any], token: str) -> dict[str, Any]:
    """Seeds step 4: poll the job until it succeeds (failing on the other end states)."""
    job_url = f"{task_url}/jobs/{job_info['jobId']}?f=json&token={token}"
    seen = []
    job_response = submit_request(urllib.request.Request(job_url))
    while job_response.get("jobStatus") != "esriJobSucceeded":
        seen.append(job_response["jobStatus"])
        time.sleep(0.05)  # the seeds wait 5 s; the reference job takes well under a second
        job_response = submit_request(urllib.request.Request(job_url))
        assert job_response["jobStatus"] not in (
            "esriJobFailed", "esriJobCancelled", "esriJobTimedOut"
        ), job_response
    assert set(seen) <= {"esriJobSubmitted", "esriJobWaiting", "esriJobExecuting"}
    assert "results" in job_response
    return job_response


def analysis_job_results(task_url: str, job_info: dict[str, Any], token: str) -> dict[str, Any]:
    """Seeds step 5: every result through its paramUrl."""
    job_id = job_info["jobId"]
    values = {}
    for key, param in job_info["results"].items():
        url = f"{task_url}/jobs/{job_id}/{param['paramUrl']}?token={token}&f=json"
        values[key] = submit_request(urllib.request.Request(url)).get("value")
    return values


@pytest.fixture()
def http10(monkeypatch: pytest.MonkeyPatch) -> None:
    """The seeds' main block talks HTTP/1.0."""
    monkeypatch.setattr(http.client.HTTPConnection, "_http_vsn", 10)
    monkeypatch.setattr(http.client.HTTPConnection, "_http_vsn_str", "HTTP/1.0")


def test_seeds_create_buffers_workflow(gpserver_url: str, http10: None) -> None:
    """The whole workflow runs unchanged and creates a queryable hosted layer."""
    portal_url = f"{gpserver_url}/portal/sharing/rest"
    token = get_token(portal_url, "demo", "demo-password")
    analysis_url = get_analysis_url(portal_url, token)
    assert analysis_url == f"{gpserver_url}/arcgis/rest/services/tasks/GPServer"

    feature_service = f"{gpserver_url}/arcgis/rest/services/Demo/SamplePoints/FeatureServer/0"
    output_service = "CreateBuffers_20_35_50_feature_service_seeds"
    params = {
        "inputLayer": {"url": feature_service},
        "distances": [20, 35, 50],
        "units": "Miles",
        "dissolveType": "Dissolve",
        "outputName": {"serviceProperties": {"name": output_service}},
    }
    task_url, job_info = analysis_job(analysis_url, "CreateBuffers", token, params)
    assert job_info["jobStatus"] == "esriJobSubmitted"
    assert job_info["jobId"].startswith("j")

    job_info = analysis_job_status(task_url, job_info, token)
    values = analysis_job_results(task_url, job_info, token)

    layer = values["bufferLayer"]
    assert layer["url"] == (
        f"{gpserver_url}/hosted/arcgis/rest/services/{output_service}/FeatureServer/0"
    )
    assert layer["itemId"]

    query = urllib.parse.urlencode(
        {"where": "1=1", "outFields": "*", "returnGeometry": "true", "f": "json"}
    )
    answer = submit_request(urllib.request.Request(f"{layer['url']}/query?{query}"))
    assert answer["geometryType"] == "esriGeometryPolygon"
    assert answer["spatialReference"]["wkid"] == 4326
    # Dissolve: one (multi)polygon per distance
    dists = sorted(f["attributes"]["BUFF_DIST"] for f in answer["features"])
    assert dists == [20, 35, 50]
    assert {f["attributes"]["BUFF_UNITS"] for f in answer["features"]} == {"Miles"}
    assert all(f["geometry"]["rings"] for f in answer["features"])

    # The buffers are real: each disk holds every sample point and grows with its distance.
    from qgis.core import QgsDistanceArea, QgsGeometry, QgsPointXY

    points = submit_request(
        urllib.request.Request(f"{feature_service}/query?where=1%3D1&outFields=*&f=json")
    )["features"]
    areas = []
    for feat in sorted(answer["features"], key=lambda f: f["attributes"]["BUFF_DIST"]):
        rings = feat["geometry"]["rings"]
        polys = QgsGeometry.fromMultiPolygonXY(
            [[[QgsPointXY(x, y) for x, y in ring]] for ring in rings]
        )
        for p in points:
            pt = QgsGeometry.fromPointXY(QgsPointXY(p["geometry"]["x"], p["geometry"]["y"]))
            assert polys.intersects(pt), (feat["attributes"], p["attributes"]["Name"])
        areas.append(polys.area())
    assert areas == sorted(areas) and areas[0] < areas[-1]

    # Distance from a sample point to its 20-mile buffer edge is about 20 miles (ellipsoidal).
    da = QgsDistanceArea()
    da.setEllipsoid("WGS84")
    first = sorted(answer["features"], key=lambda f: f["attributes"]["BUFF_DIST"])[0]
    east = max(
        (x, y) for ring in first["geometry"]["rings"] for x, y in ring
    )
    # The easternmost vertex belongs to Palm Springs' disk (the easternmost point).
    palm = next(p for p in points if p["attributes"]["Name"] == "Palm Springs")["geometry"]
    miles = da.measureLine(QgsPointXY(palm["x"], palm["y"]), QgsPointXY(*east)) / 1609.344
    assert miles == pytest.approx(20, rel=0.01)
