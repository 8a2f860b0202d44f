"""Results streamed to files (GPClient.get_json_to_file, Job.result_to_file), uploads deleted.

Against the reference server, with its fault injection for the bodies a real server (or a
proxy in front of it) gives instead of the result: an HTML page, an answer cut short, an
ArcGIS error body, 503s.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from arcgis_gp.gp_client import GPClient, UserPasswordAuth, submit
from arcgis_gp.gp_client.errors import (
    BadInputError,
    HTTPError,
    JobError,
    NotJSONError,
    ServerError,
)
from arcgis_gp.gp_client.jobs import Job

from .helpers import RecordingTransport

pytestmark = pytest.mark.timeout(120)

RESULT = r"/results/Output_Features"


def _points(n: int) -> dict:
    return {
        "geometryType": "esriGeometryPoint",
        "spatialReference": {"wkid": 4326},
        "fields": [{"name": "OBJECTID", "type": "esriFieldTypeOID"},
                   {"name": "Label", "type": "esriFieldTypeString", "length": 20}],
        "features": [{"attributes": {"OBJECTID": i + 1, "Label": f"p{i}"},
                      "geometry": {"x": -3.0 + i * 1e-4, "y": 40.0 + (i % 97) * 1e-3}}
                     for i in range(n)],
    }


@pytest.fixture(scope="module")
def copy_job(gpserver: Any) -> Job:
    """A finished CopyFeatures job with 3,000 points (about 250 kB of result)."""
    client = GPClient()
    job = submit(client, gpserver.task_url("Demo/Analysis", "CopyFeatures"),
                 {"Input_Features": _points(3000)})
    job.wait(deadline=60)
    return job


def test_result_streams_to_the_file_as_the_server_sent_it(copy_job: Job, tmp_path: Path
                                                          ) -> None:
    recording = RecordingTransport()
    job = Job(GPClient(transport=recording), copy_job.task_url, copy_job.job_id)
    path = job.result_to_file("Output_Features", tmp_path / "sub" / "out.json")
    assert path == tmp_path / "sub" / "out.json"
    on_disk = json.loads(path.read_bytes())
    in_memory = copy_job.results_json(["Output_Features"])["Output_Features"]
    assert on_disk == in_memory
    assert on_disk["paramName"] == "Output_Features"
    assert len(on_disk["value"]["features"]) == 3000
    fetches = recording.matching(RESULT)
    assert len(fetches) == 1 and fetches[0]["params"]["f"] == "json"
    assert fetches[0]["body"] == b""  # the body went to the file, not to memory


def test_a_sign_in_page_is_a_clear_error_and_leaves_no_file(
        copy_job: Job, gpserver_faults: Any, tmp_path: Path) -> None:
    gpserver_faults.add(RESULT, "html", count=1)
    target = tmp_path / "out.json"
    with pytest.raises(NotJSONError) as caught:
        copy_job.result_to_file("Output_Features", target)
    text = str(caught.value)
    assert "sign-in page" in text and "/results/Output_Features" in text
    assert not target.exists()
    # the next request is answered normally
    assert json.loads(copy_job.result_to_file("Output_Features", target).read_bytes())


def test_an_answer_cut_short_is_fetched_again(copy_job: Job, gpserver_faults: Any,
                                              tmp_path: Path) -> None:
    gpserver_faults.add(RESULT, "broken_json", count=1)
    n = len(gpserver_faults.history)
    target = copy_job.result_to_file("Output_Features", tmp_path / "out.json")
    assert json.loads(target.read_bytes())["paramName"] == "Output_Features"
    assert [k for k, _, _ in gpserver_faults.history[n:]] == ["broken_json"]


def test_an_answer_always_cut_short_is_a_clear_error_and_leaves_no_file(
        copy_job: Job, gpserver_faults: Any, tmp_path: Path) -> None:
    gpserver_faults.add(RESULT, "broken_json", count=None)
    job = Job(GPClient(backoff=0.01), copy_job.task_url, copy_job.job_id, patience=0.5)
    target = tmp_path / "out.json"
    with pytest.raises(NotJSONError) as caught:
        job.result_to_file("Output_Features", target)
    assert "cut short" in str(caught.value) and job.job_id in str(caught.value)
    assert caught.value.broken and not target.exists()


def test_an_arcgis_error_body_raises_the_server_error(gpserver: Any, tmp_path: Path) -> None:
    client = GPClient()
    url = gpserver.task_url("Demo/Analysis", "CopyFeatures") + "/jobs/jnotajob/results/x"
    with pytest.raises(ServerError) as caught:
        client.get_json_to_file(url, tmp_path / "x.json")
    assert caught.value.code == 404 and "Job not found" in str(caught.value)
    assert not (tmp_path / "x.json").exists()


def test_transient_errors_are_retried_and_lasting_ones_reported(
        copy_job: Job, gpserver_faults: Any, tmp_path: Path) -> None:
    client = GPClient(backoff=0.01)
    job = Job(client, copy_job.task_url, copy_job.job_id, patience=1.0)
    gpserver_faults.add(RESULT, "status5xx", count=2, code=503)
    assert job.result_to_file("Output_Features", tmp_path / "a.json").stat().st_size > 100_000
    gpserver_faults.add(RESULT, "status5xx", count=None, code=502)
    with pytest.raises(HTTPError) as caught:
        job.result_to_file("Output_Features", tmp_path / "b.json")
    assert caught.value.status == 502
    assert not (tmp_path / "b.json").exists()


def test_a_rejected_token_is_renewed_once(gpserver: Any, tmp_path: Path) -> None:
    recording = RecordingTransport()
    client = GPClient(transport=recording, auth=UserPasswordAuth("demo", "demo-password"))
    job = submit(client, gpserver.task_url("Secure/Analysis", "Sleep"), {"Seconds": 0.05})
    job.wait(deadline=30)
    gpserver.expire_tokens()
    tokens_before = len(recording.matching(r"generateToken"))
    path = job.result_to_file("Slept", tmp_path / "slept.json")
    assert json.loads(path.read_text())["value"] == pytest.approx(0.05)
    assert len(recording.matching(r"generateToken")) == tokens_before + 1
    assert [c["status"] for c in recording.matching(r"/results/Slept")] == [200, 200]


def test_unknown_result_and_unfinished_job(copy_job: Job, gpserver: Any, tmp_path: Path
                                           ) -> None:
    with pytest.raises(BadInputError) as caught:
        copy_job.result_to_file("Nope", tmp_path / "n.json")
    assert "Output_Features" in str(caught.value)
    client = GPClient()
    job = submit(client, gpserver.task_url("Demo/Analysis", "Sleep"), {"Seconds": 5})
    try:
        with pytest.raises(JobError, match="Wait for it to succeed"):
            job.result_to_file("Slept", tmp_path / "s.json")
    finally:
        job.cancel()


def test_an_uploaded_item_can_be_deleted(gpserver: Any, tmp_path: Path) -> None:
    client = GPClient()
    service = gpserver.services_url + "/Demo/Analysis/GPServer"
    source = tmp_path / "points.json"
    source.write_text(json.dumps(_points(10)))
    item = client.upload(service, source)
    job = submit(client, service + "/CopyFeatures", {"Input_Features": {"itemID": item}})
    job.wait(deadline=60)
    assert len(job.results()["Output_Features"]["features"]) == 10
    assert client.get_json(f"{service}/uploads/{item}")["itemID"] == item
    client.delete_upload(service, item)
    with pytest.raises(ServerError) as caught:
        client.get_json(f"{service}/uploads/{item}")
    assert caught.value.code == 404
