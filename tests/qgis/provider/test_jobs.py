"""Jobs that outlive their run: the profile's job store and ARCGISGP_ATTACH_JOB.

The store on its own (atomic, bounded, free of secrets, shared by threads); then, against
the reference server, every submitted job recorded with its end, and re-attaching to a job
with processing.run: its result, nothing submitted, the inputs not needed, and clear errors
for an unknown, deleted or foreign job.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import requests
from qgis.core import QgsProcessingException, QgsVectorLayer

from arcgis_gp.provider.attach import ATTACH_JOB
from arcgis_gp.provider.job_store import MAX_FINISHED, JobRecord, JobStore
from arcgis_gp.provider.provider import GpProvider

from .helpers import POINTS, jobs_of, submit, wait_for

pytestmark = pytest.mark.timeout(180)

ASYNC = "arcgisgp:local_demo_analysis_"


def record(n: int, *, status: str = "esriJobSucceeded", **changes: Any) -> JobRecord:
    """A job record of task Sleep on a made-up server."""
    url = f"https://gis.example.com/arcgis/rest/services/A/GPServer/Sleep/jobs/j{n}"
    values = dict(job_url=url, job_id=f"j{n}", task_url=url.rsplit("/jobs/", 1)[0],
                  connection="example", algorithm_id="arcgisgp:example_a_sleep", task="Sleep",
                  submitted=1000.0 + n, status=status,
                  ended=2000.0 + n if status == "esriJobSucceeded" else None)
    values.update(changes)
    return JobRecord(**values)


# ---------------------------------------------------------------- the store
def test_store_puts_updates_and_removes(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.json")
    assert store.all() == []
    store.put(record(1, status="esriJobExecuting"))
    store.put(record(2))
    assert [r.job_id for r in store.all()] == ["j2", "j1"]  # newest first
    assert [r.job_id for r in store.running()] == ["j1"]
    changed = store.update(record(1).job_url, lambda r: r.__class__(**{
        **r.__dict__, "status": "esriJobFailed", "ended": 3000.0}))
    assert changed is not None and changed.status == "esriJobFailed"
    assert store.running() == []
    # a second store object on the same file (the next QGIS session) reads the same
    again = JobStore(tmp_path / "jobs.json").get(record(1).job_url)
    assert again == changed
    assert store.remove(record(2).job_url)
    assert not store.remove(record(2).job_url)
    assert [r.job_id for r in store.all()] == ["j1"]
    assert store.update("https://nowhere/GPServer/X/jobs/j9", lambda r: r) is None
    # no temporary file is left behind by the atomic writes
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jobs.json", "jobs.json.lock"]


def test_store_never_holds_a_secret(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.json")
    url = ("https://alice:s3cret-pw@gis.example.com/arcgis/rest/services/A/GPServer/Sleep/jobs/"
           "j1?token=TOKEN-abc123&f=json")
    store.put(record(1, job_url=url, task_url=url.split("/jobs/")[0],
                     messages=(("esriJobMessageTypeInformative",
                                "used https://x/?token=TOKEN-abc123 and password=hunter22"),),
                     inputs={"Layer": "dbname='gis' host=db user='bob' password='hunter22'"},
                     outputs={"Out": "postgres://u:hunter22@db/gis?password=hunter22"}))
    text = (tmp_path / "jobs.json").read_text()
    for secret in ("s3cret-pw", "TOKEN-abc123", "hunter22", "alice:"):
        assert secret not in text
    stored = store.all()[0]
    assert stored.job_url == "https://gis.example.com/arcgis/rest/services/A/GPServer/Sleep/jobs/j1"
    assert "dbname='gis'" in stored.inputs["Layer"]


def test_store_is_bounded_keeping_running_and_newest_finished_jobs(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.json")
    many = [record(n) for n in range(MAX_FINISHED + 40)]
    many += [record(1000 + n, status="esriJobExecuting") for n in range(3)]
    many += [record(2000, messages=tuple(("esriJobMessageTypeInformative", "m" * 5000)
                                         for _ in range(100)))]
    for item in many:
        store.put(item)
    kept = store.all()
    assert len(store.running()) == 3
    finished = [r for r in kept if r.is_finished]
    assert len(finished) == MAX_FINISHED
    # the oldest finished ones went first
    assert min(r.ended for r in finished) == 2000.0 + 41
    big = store.get(record(2000).job_url)
    assert big is not None and len(big.messages) == 30
    assert all(len(text) <= 300 for _type, text in big.messages)
    assert (tmp_path / "jobs.json").stat().st_size < 1_000_000


def test_store_writers_in_threads_lose_nothing(tmp_path: Path) -> None:
    store = JobStore(tmp_path / "jobs.json")

    def write(base: int) -> None:
        for n in range(25):
            JobStore(tmp_path / "jobs.json").put(record(base + n, status="esriJobExecuting"))

    threads = [threading.Thread(target=write, args=(100 * k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.all()) == 100


def test_unreadable_store_is_set_aside(tmp_path: Path) -> None:
    path = tmp_path / "jobs.json"
    path.write_text('{"format": 1, "jobs": [{"job_url": ')
    store = JobStore(path)
    assert store.all() == []
    assert (tmp_path / "jobs.json.bad").exists()
    store.put(record(1))
    assert [r.job_id for r in JobStore(path).all()] == ["j1"]


# ---------------------------------------------------------------- the algorithm's records
def run(alg_id: str, params: dict) -> dict:
    """processing.run on the main thread."""
    import processing

    return processing.run(alg_id, params)


def test_a_submitted_job_is_recorded_with_its_end(served_provider: GpProvider,
                                                  gpserver: Any) -> None:
    result = run(ASYNC + "sleep", {"Seconds": 0.3})
    assert result["Slept"] == pytest.approx(0.3)
    mine = [r for r in JobStore().all() if r.task_url.endswith("/Demo/Analysis/GPServer/Sleep")
            and r.task_url.startswith(gpserver.url)]
    latest = mine[0]
    assert latest.status == "esriJobSucceeded"
    assert latest.ended is not None and latest.ended >= latest.submitted
    assert latest.algorithm_id == ASYNC + "sleep"
    assert latest.connection == "local"
    assert latest.inputs["Seconds"] == "0.3"
    assert any("Sleeping for 0.3 seconds" in text for _type, text in latest.messages)
    assert gpserver.jobs.get(latest.job_id) is not None


def test_attach_waits_for_the_job_and_submits_nothing(served_provider: GpProvider,
                                                      gpserver: Any) -> None:
    job_url = submit(gpserver.url, "Sleep", Seconds=1.5)
    before = jobs_of(gpserver, "Sleep")
    # by job id, without Seconds: the result is the job's (1.5), not the default (1.0)
    result = run(ASYNC + "sleep", {ATTACH_JOB: job_url.rsplit("/", 1)[1]})
    assert result["Slept"] == pytest.approx(1.5)
    assert jobs_of(gpserver, "Sleep") == before
    stored = JobStore().get(job_url)
    assert stored is not None and stored.status == "esriJobSucceeded"


def test_attach_needs_none_of_the_required_inputs(served_provider: GpProvider, gpserver: Any,
                                                  tmp_path: Path) -> None:
    job_url = submit(gpserver.url, "BufferFeatures", Input_Features=POINTS,
                     Distance={"distance": 1000, "units": "esriMeters"})
    wait_for(job_url)
    import processing

    alg = processing.QgsApplication.processingRegistry().createAlgorithmById(
        ASYNC + "bufferfeatures")
    required = [d.name() for d in alg.parameterDefinitions()
                if not d.flags() & d.Flag.FlagOptional and not d.isDestination()]
    assert "Input_Features" in required
    with pytest.raises(QgsProcessingException):  # without a job, the input is needed
        run(ASYNC + "bufferfeatures", {"Output_Features": str(tmp_path / "none.gpkg")})
    before = jobs_of(gpserver, "BufferFeatures")
    out = str(tmp_path / "buffers.gpkg")
    result = run(ASYNC + "bufferfeatures", {ATTACH_JOB: job_url, "Output_Features": out})
    layer = QgsVectorLayer(result["Output_Features"], "buffers", "ogr")
    assert layer.isValid()
    assert sorted(f["Name"] for f in layer.getFeatures()) == ["Bern", "Lausanne"]
    assert layer.geometryType() == 2  # polygons
    assert jobs_of(gpserver, "BufferFeatures") == before


def test_attach_to_a_job_of_another_task_is_refused(served_provider: GpProvider,
                                                    gpserver: Any) -> None:
    job_url = submit(gpserver.url, "Sleep", Seconds=0.1)
    job_id = job_url.rsplit("/", 1)[1]
    with pytest.raises(QgsProcessingException) as caught:
        run(ASYNC + "alwaysfails", {ATTACH_JOB: job_url})
    text = str(caught.value)
    assert job_id in text and "task Sleep" in text and "AlwaysFails" in text
    # by id alone, the server says it does not know that job for this task
    with pytest.raises(QgsProcessingException) as caught:
        run(ASYNC + "alwaysfails", {ATTACH_JOB: job_id})
    assert f"Job {job_id} is unknown to the server" in str(caught.value)


def test_attach_to_an_unknown_or_deleted_job_says_so(served_provider: GpProvider,
                                                     gpserver: Any) -> None:
    with pytest.raises(QgsProcessingException) as caught:
        run(ASYNC + "sleep", {ATTACH_JOB: "jnosuchjob0"})
    assert "Job jnosuchjob0 is unknown to the server" in str(caught.value)
    assert "Nothing was submitted" in str(caught.value)
    job_url = submit(gpserver.url, "Sleep", Seconds=0.1)
    wait_for(job_url)
    requests.post(job_url + "/delete", data={"f": "json"}, timeout=10)
    with pytest.raises(QgsProcessingException) as caught:
        run(ASYNC + "sleep", {ATTACH_JOB: job_url})
    assert f"Job {job_url.rsplit('/', 1)[1]} was deleted on the server" in str(caught.value)
    with pytest.raises(QgsProcessingException) as caught:
        run(ASYNC + "sleep", {ATTACH_JOB: "not a job!"})
    assert "'not a job!' is neither a job id nor a job URL of task Sleep" in str(caught.value)


def test_synchronous_tasks_have_no_attach_parameter(served_provider: GpProvider) -> None:
    from qgis.core import QgsApplication

    registry = QgsApplication.processingRegistry()
    sync = registry.createAlgorithmById("arcgisgp:local_demo_analysissync_bufferfeatures")
    asynchronous = registry.createAlgorithmById(ASYNC + "sleep")
    assert sync.parameterDefinition(ATTACH_JOB) is None
    definition = asynchronous.parameterDefinition(ATTACH_JOB)
    assert definition.flags() & definition.Flag.FlagAdvanced
    assert definition.flags() & definition.Flag.FlagOptional
