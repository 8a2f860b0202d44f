"""Jobs outlive qgis_process: killed mid-job, re-attached with ARCGISGP_ATTACH_JOB.

The reference server runs as a subprocess with its request log on (paths only), so the
tests count the submitJob requests it received. The profile is one throwaway QGIS profile
shared by the qgis_process runs of a test, as a user's is between sessions.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from osgeo import ogr

from arcgis_gp.provider.job_store import JobStore
from tests.paths import REPO_ROOT

from .conftest import QGIS_PROCESS, QgisProcess, make_profile
from .test_provider_qgis_process import write_points

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

SLEEP = "arcgisgp:local_demo_analysis_sleep"
BUFFER = "arcgisgp:local_demo_analysis_bufferfeatures"


@dataclass
class LoggedServer:
    """The reference server in a child process, logging the paths it was asked for."""

    url: str
    log: Path

    def requests(self, method: str, path_end: str) -> int:
        """How many requests of that method ended their path with ``path_end``."""
        count = 0
        for line in self.log.read_text().splitlines():
            parts = line.split('"')
            if len(parts) > 1 and parts[1].startswith(method + " "):
                path = parts[1].split()[1].split("?", 1)[0]
                count += path.endswith(path_end)
        return count


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoggedServer]:
    """The reference server with ``--verbose``, its log in a file."""
    log = tmp_path_factory.mktemp("server") / "requests.log"
    with log.open("w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.gpserver", "--port", "0", "--verbose"],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=sink, text=True,
            env=dict(os.environ, QT_QPA_PLATFORM="offscreen"))
        url = (proc.stdout.readline() if proc.stdout else "").strip()
        if not url.startswith("http://"):
            proc.kill()
            pytest.fail(f"the reference server did not start (it printed {url!r})")
        try:
            yield LoggedServer(url, log)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture()
def qp(server: LoggedServer, tmp_path: Path) -> QgisProcess:
    """qgis_process.bin in a profile of its own, with the connection 'local'."""
    profile = tmp_path / "profile"
    env = make_profile(profile)
    env["ARCGIS_GP_CONNECTIONS"] = json.dumps(
        [{"name": "local", "url": server.url + "/arcgis/rest/services"}])
    return QgisProcess(env=env, profile=profile, server_url=server.url)


def job_store(qp: QgisProcess) -> JobStore:
    """The job store of the test's profile."""
    return JobStore(qp.profile / "profiles" / "default" / "arcgis_gp" / "jobs.json")


def run_until_submitted(qp: QgisProcess, *args: str) -> str:
    """Start ``qgis_process run``, SIGKILL it once it printed 'Submitted job'; return the id."""
    proc = subprocess.Popen([QGIS_PROCESS, "run", *args], env=qp.env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True)
    seen = []
    try:
        for line in proc.stdout or ():
            seen.append(line)
            if line.startswith("Submitted job "):
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)
                return line.split()[2]
        pytest.fail("qgis_process never said 'Submitted job':\n" + "".join(seen[-40:]))
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=30)
    return ""


def features(path: Path) -> list[tuple]:
    """(Name, area rounded to 1 m2) of each feature in a file, read with GDAL."""
    ds = ogr.Open(str(path))
    assert ds is not None, path
    layer = ds.GetLayer(0)
    rows = sorted((f.GetField("Name"), round(f.GetGeometryRef().GetArea(), 10)) for f in layer)
    ds = None
    return rows


def test_killed_run_is_reattached_with_one_submit_job(qp: QgisProcess,
                                                      server: LoggedServer) -> None:
    submits = server.requests("POST", "/Sleep/submitJob")
    job_id = run_until_submitted(qp, SLEEP, "--", "Seconds=3.5")
    assert server.requests("POST", "/Sleep/submitJob") == submits + 1
    # the killed process recorded the job the moment it was submitted
    recorded = job_store(qp).all()
    assert [r.job_id for r in recorded] == [job_id]
    assert recorded[0].status in ("esriJobSubmitted", "esriJobExecuting", "esriJobWaiting")
    assert recorded[0].inputs == {"Seconds": "3.5"}
    assert recorded[0].algorithm_id == SLEEP
    # a new process (the next session of the profile) attaches: no Seconds given
    report = qp.run_json(SLEEP, "--", f"ARCGISGP_ATTACH_JOB={job_id}")
    assert report["results"]["Slept"] == pytest.approx(3.5)
    assert server.requests("POST", "/Sleep/submitJob") == submits + 1
    stored = job_store(qp).all()
    assert len(stored) == 1
    assert stored[0].status == "esriJobSucceeded"
    assert stored[0].submitted == recorded[0].submitted  # the first run's record, updated
    assert stored[0].ended is not None and stored[0].ended > stored[0].submitted


def test_finished_jobs_features_load_again_into_another_file(qp: QgisProcess,
                                                             server: LoggedServer,
                                                             tmp_path: Path) -> None:
    places = write_points(tmp_path / "places.gpkg", [(7.44, 46.95, "Bern"),
                                                     (6.63, 46.52, "Lausanne"),
                                                     (8.54, 47.37, "Zurich")])
    first = tmp_path / "first.gpkg"
    qp("run", BUFFER, "--", f"Input_Features={places}", "Distance=2",
       "Distance_units=esriKilometers", f"Output_Features={first}")
    submits = server.requests("POST", "/BufferFeatures/submitJob")
    record = job_store(qp).all()[0]
    assert record.status == "esriJobSucceeded" and record.outputs["Output_Features"] == str(first)
    time.sleep(1.0)  # "later"
    again = tmp_path / "again.gpkg"
    attach = ("run", BUFFER, "--", f"ARCGISGP_ATTACH_JOB={record.job_url}",
              f"Output_Features={again}")
    # qgis_process checks that mandatory inputs are named before the algorithm can say
    # that attaching needs none: named empty, they pass (and are not used)
    refused = qp(*attach, check=False)
    assert refused.returncode != 0 and "Input_Features" in refused.stderr
    qp(*attach, "Input_Features=")
    assert server.requests("POST", "/BufferFeatures/submitJob") == submits
    assert features(again) == features(first)
    assert [name for name, _area in features(again)] == ["Bern", "Lausanne", "Zurich"]


def test_attach_to_another_tasks_job_fails_naming_it(qp: QgisProcess, server: LoggedServer
                                                     ) -> None:
    job_id = run_until_submitted(qp, SLEEP, "--", "Seconds=0.5")
    job_url = job_store(qp).all()[0].job_url
    done = qp("run", BUFFER, "--", f"ARCGISGP_ATTACH_JOB={job_url}", "Input_Features=",
              "Output_Features=TEMPORARY_OUTPUT", check=False)
    assert done.returncode != 0
    text = done.stdout + done.stderr
    assert f"Job {job_id}" in text and "task Sleep" in text, text[-2000:]
