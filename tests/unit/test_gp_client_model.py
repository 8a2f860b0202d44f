"""gp_client.model, job statuses and error bodies on the recorded responses (no server)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcgis_gp.gp_client import errors, values
from arcgis_gp.gp_client.jobs import ExecuteResult, JobStatus, Message
from arcgis_gp.gp_client.model import (
    TASKS_KEY,
    ParameterDescription,
    ServiceDescription,
    TaskDescription,
)

# ../shared beside the repository (as in CI)
from tests.paths import RECORDED

GP_DIRS = ("arcgis-rest-js-gp", "imagery-explorer-apps-gp", "esri-leaflet-gp")
LEAFLET = RECORDED / "esri-leaflet-gp" / "sampleServiceMetadataResponse.extracted.json"


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _gp_files() -> list[Path]:
    return sorted(p for d in GP_DIRS for p in (RECORDED / d).glob("*.json"))


def test_recorded_gp_files_are_there() -> None:
    """The fixtures this module reads exist (a missing folder must fail, not skip)."""
    names = {p.name for p in _gp_files()}
    assert len(names) >= 14
    assert LEAFLET.name in names


@pytest.mark.parametrize("path", _gp_files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_recorded_gp_response_parses(path: Path) -> None:
    """Each recorded GP answer is understood for what it is."""
    body = _load(path)
    name = path.name
    if name.endswith(".error.json"):
        err = errors.error_from_json(body, "https://host/arcgis/rest/services/X/GPServer/T")
        assert isinstance(err, errors.ServerError)
        assert err.code == body["error"]["code"]
        assert err.message == body["error"]["message"]
        assert body["error"]["message"] in str(err)
        expected = {498: errors.InvalidTokenError, 499: errors.TokenRequiredError,
                    403: errors.PermissionDeniedError}.get(err.code, errors.ServerError)
        assert type(err) is expected
    elif "jobStatus" in name or "submitJob" in name:
        st_ = JobStatus.from_json(body)
        assert st_.job_id == body["jobId"]
        assert st_.status == body["jobStatus"]
        assert len(st_.messages) == len(body.get("messages") or [])
        assert st_.is_terminal == (body["jobStatus"] in (
            "esriJobSucceeded", "esriJobFailed", "esriJobCancelled", "esriJobTimedOut",
            "esriJobDeleted"))
        for ref in st_.results.values():
            assert ref["paramUrl"].startswith("results/")
    elif name.endswith(".results.json"):
        decoded = {k: values.decode(r["dataType"], r["value"]) for k, r in body.items()}
        assert set(decoded) == set(body)
        assert decoded["out_routes"]["geometryType"] == "esriGeometryPolyline"
    elif "_result_" in name:
        assert values.decode(body["dataType"], body["value"]) == body["value"]
    else:
        task = TaskDescription.from_json(body, url="https://h/arcgis/rest/services/S/GPServer/"
                                         + body["name"])
        assert task.to_json() == body
        assert list(task.to_json()) == list(body)


def test_cancelled_recorded_status() -> None:
    """mockCancelledState: terminal, cancelled, two informative messages."""
    body = _load(RECORDED / "arcgis-rest-js-gp" / "mockCancelledState.jobStatus.json")
    st_ = JobStatus.from_json(body)
    assert st_.is_terminal and st_.status == "esriJobCancelled"
    assert st_.messages[-1] == Message("esriJobMessageTypeInformative", "Cancel complete.")


def test_imagery_submit_answers_new() -> None:
    """A submitJob answering esriJobNew is a running job, not a finished one."""
    st_ = JobStatus.from_json(_load(RECORDED / "imagery-explorer-apps-gp"
                                    / "EstimateRasterAnalysisCost_submitJob.json"))
    assert st_.status == "esriJobNew" and not st_.is_terminal


def test_generate_raster_status_keeps_inputs() -> None:
    """inputs paramUrls are kept beside results."""
    st_ = JobStatus.from_json(_load(RECORDED / "imagery-explorer-apps-gp"
                                    / "GenerateRaster_jobStatus.json"))
    assert set(st_.inputs) == {"outputType", "rasterFunction", "OutputName"}
    assert st_.results == {"outputRaster": {"paramUrl": "results/outputRaster"}}


def test_leaflet_task_with_fields_and_Fields() -> None:
    """The esri-leaflet task: both `Fields` and `fields` survive, execution type, inputs."""
    body = _load(LEAFLET)
    task = TaskDescription.from_json(body, url="https://h/arcgis/rest/services/S/GPServer/x")
    assert not task.is_async
    assert [p.name for p in task.inputs] == ["Input_Location", "Drive_Times"]
    assert [p.name for p in task.outputs] == ["Output_Drive_Time_Polygons"]
    loc = task.parameter("Input_Location")
    assert loc.is_required and loc.data_type == "GPFeatureRecordSetLayer"
    assert set(loc.default_value) == {"geometryType", "spatialReference", "Fields", "fields"}
    assert not task.parameter("Drive_Times").is_required
    again = TaskDescription.from_json(task.to_json(), url=task.url)
    assert again == task
    assert again.to_json() == body
    # to_json hands out copies: changing them does not change the description
    out = task.to_json()
    out["parameters"][0]["defaultValue"]["Fields"].clear()
    assert task.to_json() == body


def test_unknown_keys_and_types_are_kept() -> None:
    """Keys and data types the model does not know go out as they came in."""
    body = {
        "name": "Future",
        "executionType": "esriExecutionTypeAsynchronous",
        "parameters": [
            {"name": "P", "dataType": "GPQuantumField", "direction":
             "esriGPParameterDirectionInput", "filter": {"type": "range", "list": [0, 9]},
             "defaultValue": None, "parameterType": "esriGPParameterTypeRequired"},
            {"name": "Q", "dataType": "GPValueTable", "parameterInfos": [{"name": "c"}],
             "direction": "esriGPParameterDirectionOutput"},
        ],
        "someNewKey": {"x": [1, 2]},
        "category": None,
    }
    task = TaskDescription.from_json(body, url="https://h/GPServer/Future")
    assert task.extra == {"someNewKey": {"x": [1, 2]}}
    assert task.parameters[0].extra == {"filter": {"type": "range", "list": [0, 9]}}
    assert task.parameters[0].default_value is None
    assert task.to_json() == body
    assert task.is_async and task.parameters[0].is_required


def test_service_round_trip_and_cached_tasks() -> None:
    """A service with fetched tasks writes them under one key and reads them back."""
    body = {"currentVersion": 10.91, "serviceDescription": "d",
            "executionType": "esriExecutionTypeAsynchronous",
            "tasks": ["CoolAnalysis"], "resultMapServerName": "", "maximumRecords": 1000,
            "capabilities": "Uploads", "newThing": True}
    url = "https://h/arcgis/rest/services/Demo/Analysis/GPServer"
    svc = ServiceDescription.from_json(body, url=url)
    assert svc.to_json() == body
    assert svc.is_async and svc.supports_uploads and svc.version == 10.91
    assert svc.task_names == ("CoolAnalysis",) and svc.name == "Demo/Analysis"
    task = TaskDescription.from_json(_load(LEAFLET), url=url + "/CoolAnalysis")
    full = svc.with_tasks((task,))
    cached = json.loads(json.dumps(full.to_json()))
    assert cached[TASKS_KEY][0]["name"] == "CoolAnalysis"
    back = ServiceDescription.from_json(cached, url=url)
    assert back == full
    assert back.task("CoolAnalysis").url == url + "/CoolAnalysis"
    assert back.to_json() == cached


def test_service_without_uploads() -> None:
    """No capabilities (or others only) means no uploads."""
    assert not ServiceDescription.from_json({"capabilities": "Query"}, url="u").supports_uploads
    assert not ServiceDescription.from_json({}, url="u").supports_uploads
    assert ServiceDescription.from_json({"capabilities": "Query, uploads"},
                                        url="u").supports_uploads


def test_model_rejects_non_objects() -> None:
    """A description that is not a JSON object is a clear TypeError."""
    with pytest.raises(TypeError, match="JSON object"):
        TaskDescription.from_json(["not", "a", "task"])  # type: ignore[arg-type]


def test_execute_result_indexing() -> None:
    """result["name"] reads outputs."""
    r = ExecuteResult(outputs={"a": 1})
    assert r["a"] == 1


KEYS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJ_", min_size=1, max_size=12)
LEAF = st.none() | st.booleans() | st.integers() | st.text(max_size=10)
JSONV = st.recursive(LEAF, lambda c: st.lists(c, max_size=3)
                     | st.dictionaries(KEYS, c, max_size=3), max_leaves=8)


@given(base=st.fixed_dictionaries(
    {"name": st.text(max_size=10), "dataType": st.text(max_size=20)},
    optional={"displayName": st.none() | st.text(max_size=10),
              "defaultValue": JSONV, "choiceList": st.lists(st.text(max_size=5), max_size=3),
              "direction": st.sampled_from(["esriGPParameterDirectionInput",
                                            "esriGPParameterDirectionOutput"]),
              "parameterType": st.none() | st.text(max_size=10)}),
       more=st.dictionaries(KEYS, JSONV, max_size=4))
def test_parameter_round_trip_property(base: dict, more: dict) -> None:
    """to_json(from_json(x)) == x for any parameter, with any extra keys, in order."""
    body = {**more, **base}
    p = ParameterDescription.from_json(body)
    assert p.to_json() == body
    assert list(p.to_json()) == list(body)
