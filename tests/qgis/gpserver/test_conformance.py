"""The server's answers have the keys and value types of the recorded real/mock responses.

The recorded files in ../shared/fixtures/recorded are read as they are, never edited.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from tests.gpserver.client import Rest
from tests.paths import RECORDED as SHARED_RECORDED

pytestmark = pytest.mark.timeout(60)

RECORDED = Path(os.environ.get("ARCGIS_GP_FIXTURES", str(SHARED_RECORDED)))
JOB_STATUSES = {
    "esriJobNew", "esriJobSubmitted", "esriJobWaiting", "esriJobExecuting", "esriJobSucceeded",
    "esriJobFailed", "esriJobTimedOut", "esriJobCancelling", "esriJobCancelled",
    "esriJobDeleting", "esriJobDeleted",
}
MESSAGE_TYPES = {
    "esriJobMessageTypeInformative", "esriJobMessageTypeWarning", "esriJobMessageTypeError",
}


def recorded(name: str) -> Any:
    """A recorded JSON file."""
    path = RECORDED / name
    if not path.exists():
        pytest.fail(f"recorded fixture missing: {path} (set ARCGIS_GP_FIXTURES)")
    return json.loads(path.read_text(encoding="utf-8"))


def same_shape(ours: Any, theirs: Any, where: str = "$", ignore: frozenset = frozenset()) -> None:
    """Every key of ``theirs`` is in ``ours`` with a value of the same JSON type (recursively)."""
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), f"{where}: object expected, got {type(ours).__name__}"
        for key, value in theirs.items():
            if key in ignore:
                continue
            assert key in ours, f"{where}: key {key!r} missing (have {sorted(ours)})"
            same_shape(ours[key], value, f"{where}.{key}", ignore)
    elif isinstance(theirs, list):
        assert isinstance(ours, list), f"{where}: array expected"
        if theirs and ours:
            for item in ours:
                same_shape(item, theirs[0], f"{where}[]", ignore)
    elif isinstance(theirs, bool):
        assert isinstance(ours, bool), f"{where}: boolean expected"
    elif isinstance(theirs, (int, float)):
        assert isinstance(ours, (int, float)) and not isinstance(ours, bool), f"{where}: number"
    elif isinstance(theirs, str):
        assert isinstance(ours, str), f"{where}: string expected, got {ours!r}"


@pytest.fixture(scope="module")
def rest(gpserver_url: str) -> Rest:
    """Anonymous client."""
    return Rest(gpserver_url)


@pytest.fixture(scope="module")
def analysis(rest: Rest) -> str:
    """Demo/Analysis URL."""
    return rest.url("/arcgis/rest/services/Demo/Analysis/GPServer")


def test_submit_job_answer(rest: Rest, analysis: str) -> None:
    """submitJob answers like GPJobIdResponse / EstimateRasterAnalysisCost_submitJob."""
    answer = rest.submit(analysis + "/Sleep", {"Seconds": 0})
    for name in ("arcgis-rest-js-gp/GPJobIdResponse.submitJob.json",
                 "imagery-explorer-apps-gp/EstimateRasterAnalysisCost_submitJob.json"):
        theirs = recorded(name)
        same_shape(answer, theirs)
        assert set(answer) == set(theirs)
    assert answer["jobStatus"] in JOB_STATUSES
    assert answer["jobId"].startswith("j") and len(answer["jobId"]) == 33


def test_succeeded_job_status(rest: Rest, analysis: str) -> None:
    """A succeeded job matches the recorded succeeded statuses (results, inputs, messages)."""
    status = rest.run(analysis + "/Sleep", {"Seconds": 0})
    del status["values"]
    for name in ("arcgis-rest-js-gp/GPJobInfoWithResults.jobStatus.json",
                 "arcgis-rest-js-gp/mockAllResults.jobStatus.json",
                 "imagery-explorer-apps-gp/GenerateRaster_jobStatus.json",
                 "imagery-explorer-apps-gp/EstimateRasterAnalysisCost_jobStatus.json"):
        theirs = recorded(name)
        # result and input names differ per task: compare one entry's shape
        reduced = dict(theirs)
        for key in ("results", "inputs"):
            if key in theirs:
                reduced[key] = {}
                ref = next(iter(theirs[key].values()))
                for entry in status[key].values():
                    same_shape(entry, ref, f"{name}:{key}")
                    assert set(entry) == set(ref)
        same_shape(status, reduced, name)
    assert status["results"] == {"Slept": {"paramUrl": "results/Slept"}}
    assert {m["type"] for m in status["messages"]} <= MESSAGE_TYPES


def test_cancelled_job_status(rest: Rest, analysis: str) -> None:
    """A cancelled job matches mockCancelledState (messages of type/description)."""
    job = rest.submit(analysis + "/Sleep", {"Seconds": 30})
    rest.wait(analysis + "/Sleep", job["jobId"], until={"esriJobExecuting"})
    rest.post(f"{analysis}/Sleep/jobs/{job['jobId']}/cancel")
    status = rest.wait(analysis + "/Sleep", job["jobId"])
    theirs = recorded("arcgis-rest-js-gp/mockCancelledState.jobStatus.json")
    same_shape(status, theirs)
    assert status["jobStatus"] == theirs["jobStatus"]
    assert status["messages"][0] == theirs["messages"][0]  # "Submitted."
    assert status["messages"][-1] == theirs["messages"][-1]  # "Cancel complete."
    for message in status["messages"]:
        assert set(message) == {"type", "description"}


def test_results(rest: Rest, analysis: str) -> None:
    """results/<p> answers like mockAllResultsRequest's entries (record set, feature set)."""
    record_set = {"fields": [{"name": "v", "type": "esriFieldTypeInteger", "alias": "v"}],
                  "features": [{"attributes": {"v": 1}}]}
    features = {"geometryType": "esriGeometryPolyline", "spatialReference": {"wkid": 4326},
                "fields": [{"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OID"}],
                "features": [{"attributes": {"OBJECTID": 1},
                              "geometry": {"paths": [[[0, 0], [1, 1]]]}}]}
    status = rest.run(analysis + "/EchoAllTypes",
                      {"In_GPRecordSet": record_set, "In_GPFeatureRecordSetLayer": features})
    job = f"{analysis}/EchoAllTypes/jobs/{status['jobId']}"
    theirs = recorded("arcgis-rest-js-gp/mockAllResultsRequest.results.json")
    rs = rest.get(job + "/results/Out_GPRecordSet")
    same_shape(rs, theirs["out_stops"])
    assert set(rs["value"]) == set(theirs["out_stops"]["value"])
    fs = rest.get(job + "/results/Out_GPFeatureRecordSetLayer")
    # the mock writes an empty spatialReference as [], a real server writes an object
    same_shape(fs, theirs["out_routes"], ignore=frozenset({"spatialReference"}))
    assert set(theirs["out_routes"]["value"]) <= set(fs["value"])
    assert fs["value"]["spatialReference"] == {"wkid": 4326}
    # the whole-results extension has the same layout as the mock
    every = rest.get(job + "/results")
    same_shape(every["Out_GPRecordSet"], theirs["out_stops"])
    one = recorded("imagery-explorer-apps-gp/EstimateRasterAnalysisCost_result_outCost.json")
    assert set(rest.get(job + "/results/Out_GPString")) == set(one)


def test_task_description(rest: Rest) -> None:
    """A task description has esri-leaflet-gp's keys; parameters have theirs."""
    theirs = recorded("esri-leaflet-gp/sampleServiceMetadataResponse.extracted.json")
    ours = rest.get("/arcgis/rest/services/Demo/AnalysisSync/GPServer/BufferFeatures")
    same_shape(ours, {k: v for k, v in theirs.items() if k != "parameters"})
    assert ours["executionType"] == theirs["executionType"]
    ref = theirs["parameters"][1]  # a GPString parameter
    for param in ours["parameters"]:
        same_shape({k: v for k, v in param.items() if k != "defaultValue"},
                   {k: v for k, v in ref.items() if k != "defaultValue"}, param["name"])
        assert "defaultValue" in param
    fs_default = ours["parameters"][0]["defaultValue"]
    same_shape(fs_default, {k: v for k, v in theirs["parameters"][0]["defaultValue"].items()
                            if k != "Fields"})


def test_token_errors(rest: Rest) -> None:
    """499 is the recorded ArcGISServerTokenRequired body; 498 has the recorded shape."""
    required = rest.get("/arcgis/rest/services/Secure/Analysis/GPServer")
    assert required == recorded("arcgis-rest-js-gp/ArcGISServerTokenRequired.error.json")
    invalid = Rest(rest.base_url, token="expired").get("/arcgis/rest/services")
    theirs = recorded("arcgis-rest-js-gp/ArcGISOnlineAuthError.error.json")
    same_shape(invalid, theirs)
    assert invalid["error"]["code"] == 498


def test_generate_token_error(rest: Rest) -> None:
    """A wrong password answers exactly the recorded GenerateTokenError."""
    answer = rest.post("/arcgis/tokens/generateToken",
                       {"username": "demo", "password": "nope", "referer": "x"})
    assert answer == recorded("arcgis-rest-js-gp/GenerateTokenError.error.json")


def test_bad_parameter_and_unknown_resource_errors(rest: Rest) -> None:
    """400 for bad values, 404 for unknown resources: the recorded error shape, HTTP 200."""
    theirs = recorded("pyesridump/us-mi-kent-statistics.json")
    bad = rest.raw("/arcgis/rest/services/Demo/Analysis/GPServer/Sleep/submitJob",
                   {"Seconds": "soon"}, method="POST")
    assert bad.status == 200
    same_shape(bad.json(), theirs)
    assert bad.json()["error"]["code"] == 400
    for path in ("/arcgis/rest/services/Nope/GPServer", "/arcgis/rest/services/Demo/Nope/GPServer",
                 "/arcgis/rest/services/Demo/Analysis/GPServer/Nope",
                 "/arcgis/rest/services/Demo/Analysis/GPServer/Sleep/jobs/j0000",
                 "/arcgis/rest/services/Nope", "/arcgis/rest/nothing/here"):
        raw = rest.raw(path)
        assert raw.status == 200, path
        body = raw.json()
        same_shape(body, theirs, path)
        assert body["error"]["code"] == 404, path


def test_feature_service_query_matches_recorded_pages(rest: Rest) -> None:
    """A query page has the recorded FeatureServer query keys."""
    theirs = recorded("arcgis-rest-js-featureservice/arcgis/arcGISPointResponse.json")
    ours = rest.get("/arcgis/rest/services/Demo/SamplePoints/FeatureServer/0/query",
                    where="1=1", outFields="*")
    keys = {"objectIdFieldName", "geometryType", "spatialReference", "fields", "features"}
    assert keys <= set(theirs) and keys <= set(ours)
    same_shape({k: ours[k] for k in keys},
               {k: theirs[k] for k in keys},
               ignore=frozenset({"required", "length", "description", "attributes", "geometry"}))


def test_formats(rest: Rest) -> None:
    """f=json compact, f=pjson indented, other or no f: an HTML page."""
    compact = rest.raw("/arcgis/rest/info", f="json")
    pretty = rest.raw("/arcgis/rest/info", f="pjson")
    assert json.loads(compact.body) == json.loads(pretty.body)
    assert b"\n" not in compact.body and b"\n  " in pretty.body
    for f in ("html", "kmz", None):
        page = rest.raw("/arcgis/rest/info", f=f)
        assert page.headers["Content-Type"].startswith("text/html")
        assert page.body.startswith(b"<!DOCTYPE html>")


def test_get_and_post_work_for_every_operation(rest: Rest) -> None:
    """submitJob, job status, results, cancel and generateToken by GET as well as POST."""
    url = rest.url("/arcgis/rest/services/Demo/Analysis/GPServer/Sleep")
    job = rest.get(url + "/submitJob", Seconds=0)
    status = rest.wait(url, job["jobId"])
    assert rest.raw(f"{url}/jobs/{job['jobId']}", method="POST").json() == status
    assert rest.get(f"{url}/jobs/{job['jobId']}/results/Slept")["value"] == 0
    assert rest.get(f"{url}/jobs/{job['jobId']}/cancel")["jobStatus"] == "esriJobSucceeded"
    assert "token" in rest.get("/portal/sharing/rest/generateToken", username="demo",
                               password="demo-password")
    sync = rest.url("/arcgis/rest/services/Demo/AnalysisSync/GPServer/EchoAllTypes/execute")
    assert rest.get(sync, In_GPLong=5)["results"]
    multipart = rest.raw(url + "/submitJob", {"Seconds": "0"}, files={"unused": ("x", b"")})
    assert multipart.json()["jobStatus"] == "esriJobSubmitted"
    upload = rest.url("/arcgis/rest/services/Demo/Analysis/GPServer/uploads/upload")
    assert rest.raw(upload, {"x": "1"}, files={"file": ("a.txt", b"a")}).json()["success"]


def test_wrong_operation_for_the_execution_type(rest: Rest) -> None:
    """execute on an async service and submitJob on a sync one are refused."""
    a = rest.post("/arcgis/rest/services/Demo/Analysis/GPServer/Sleep/execute", {"Seconds": 0})
    s = rest.post("/arcgis/rest/services/Demo/AnalysisSync/GPServer/CopyFeatures/submitJob")
    assert a["error"]["code"] == 400 and "submitJob" in a["error"]["details"][0]
    assert s["error"]["code"] == 400 and "execute" in s["error"]["details"][0]


def test_directory(rest: Rest) -> None:
    """The services directory, folders and GPServer service resources."""
    root = rest.get("/arcgis/rest/services")
    assert set(root) == {"currentVersion", "folders", "services"}
    assert root["folders"] == ["Demo", "Secure"]
    assert {"name": "tasks", "type": "GPServer"} in root["services"]
    demo = rest.get("/arcgis/rest/services/Demo")
    assert {"name": "Demo/Analysis", "type": "GPServer"} in demo["services"]
    service = rest.get("/arcgis/rest/services/Demo/Analysis/GPServer")
    assert service["executionType"] == "esriExecutionTypeAsynchronous"
    assert service["capabilities"] == "Uploads"
    assert isinstance(service["maximumRecords"], int)
    assert isinstance(service["resultMapServerName"], str)
    assert service["tasks"] == ["BufferFeatures", "CopyFeatures", "Sleep", "AlwaysFails",
                                "EchoAllTypes", "EchoRaster", "EchoFile"]
    sync = rest.get("/arcgis/rest/services/Demo/AnalysisSync/GPServer")
    assert sync["executionType"] == "esriExecutionTypeSynchronous"
    assert sync["tasks"] == ["BufferFeatures", "CopyFeatures", "EchoAllTypes"]
