"""arcgisgp:refreshconnections brings qgis_process's description caches up to date."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import QgisProcess, make_profile
from .test_provider_qgis_process_problems import closed_port

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]

ECHO_FILE = "arcgisgp:local_demo_analysis_echofile"


@pytest.fixture(scope="module")
def fresh(qp: QgisProcess, tmp_path_factory: pytest.TempPathFactory) -> QgisProcess:
    """qgis_process in a profile of this module's own, with the connection 'local'."""
    profile = tmp_path_factory.mktemp("refresh_profile")
    env = make_profile(profile)
    env["ARCGIS_GP_CONNECTIONS"] = qp.env["ARCGIS_GP_CONNECTIONS"]
    return QgisProcess(env=env, profile=profile, server_url=qp.server_url)


def cache_file(proc: QgisProcess) -> Path:
    """The description cache of the connection 'local'."""
    return proc.profile / "profiles" / "default" / "arcgis_gp" / "cache" / "local.json"


def drop_task(path: Path, service: str, task: str) -> None:
    """Rewrite a cache as an older server state would have left it: without one task."""
    doc = json.loads(path.read_text(encoding="utf-8"))
    for entry in doc["services"]:
        if entry["url"].endswith(f"/{service}/GPServer"):
            description = entry["description"]
            description["tasks"] = [t for t in description["tasks"] if t != task]
            description["gpTaskDescriptions"] = [
                t for t in description["gpTaskDescriptions"] if t["name"] != task]
    path.write_text(json.dumps(doc), encoding="utf-8")


def test_refresh_rewrites_an_old_cache(fresh: QgisProcess) -> None:
    assert ECHO_FILE in fresh("list").stdout  # the first start fetches and caches
    drop_task(cache_file(fresh), "Demo/Analysis", "EchoFile")
    assert ECHO_FILE not in fresh("list").stdout  # the cache is used as it is

    report = fresh.run_json("arcgisgp:refreshconnections")
    assert report["results"]["FAILED"] == 0
    assert report["results"]["TASKS"] >= 11
    assert report["results"]["REPORT"].startswith("local: ")
    assert "1 service skipped: Secure/Analysis needs a sign-in" in report["results"]["REPORT"]

    assert ECHO_FILE in fresh("list").stdout
    assert "EchoFile" in cache_file(fresh).read_text(encoding="utf-8")


def test_refresh_reports_each_connection_and_fails_when_one_fails(fresh: QgisProcess) -> None:
    entries = json.loads(fresh.env["ARCGIS_GP_CONNECTIONS"]) + [
        {"name": "down", "url": f"http://127.0.0.1:{closed_port()}/arcgis/rest/services"}]
    env = dict(fresh.env, ARCGIS_GP_CONNECTIONS=json.dumps(entries))
    done = fresh("run", "arcgisgp:refreshconnections", env=env, check=False)
    output = done.stdout + done.stderr
    assert done.returncode != 0
    assert "1 of 2 connections could not be refreshed" in output
    assert "down: failed: Could not connect to http://127.0.0.1:" in output
    assert "local: " in output and " tasks in " in output
    assert cache_file(fresh).is_file()  # the good one was refreshed all the same


def test_refresh_names_unknown_connections(fresh: QgisProcess) -> None:
    done = fresh("run", "arcgisgp:refreshconnections", "--CONNECTIONS=nosuch", check=False)
    assert done.returncode != 0
    assert "No connection called 'nosuch'. The connections are: local." in \
        done.stdout + done.stderr
    only = fresh.run_json("arcgisgp:refreshconnections", "--CONNECTIONS=LOCAL")
    assert only["results"]["REPORT"].startswith("local: ")
