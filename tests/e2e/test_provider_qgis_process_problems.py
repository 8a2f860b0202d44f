"""What qgis_process users see when a connection cannot be used (it prints no message log)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from tests.faultproxy import FaultProxy

from .conftest import QgisProcess

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]


def closed_port() -> int:
    """Return a loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def with_connections(qp: QgisProcess, value: str) -> dict[str, str]:
    """Return the qgis_process environment with ARCGIS_GP_CONNECTIONS set to ``value``."""
    return dict(qp.env, ARCGIS_GP_CONNECTIONS=value)


def problem_lines(stderr: str, marker: str) -> list[str]:
    """Return the plugin's stderr lines that contain ``marker``."""
    return [line for line in stderr.splitlines()
            if line.startswith("ArcGIS GP: ") and marker in line]


def test_server_down_is_reported_on_stderr(qp: QgisProcess) -> None:
    url = f"http://127.0.0.1:{closed_port()}/arcgis/rest/services"
    env = with_connections(qp, json.dumps([{"name": "down", "url": url}]))
    listed = qp("list", env=env)
    lines = problem_lines(listed.stderr, "Connection 'down'")
    assert len(lines) == 1, listed.stderr
    assert url in lines[0] and "could not be loaded" in lines[0]
    assert "run again" in lines[0]
    ran = qp("run", "arcgisgp:down_demo_analysis_sleep", env=env, check=False)
    assert ran.returncode != 0
    assert problem_lines(ran.stderr, "Connection 'down'"), ran.stderr


def test_wrong_url_is_reported_on_stderr(qp: QgisProcess) -> None:
    url = qp.server_url + "/arcgis/rest/servicez"
    env = with_connections(qp, json.dumps([{"name": "typo", "url": url}]))
    done = qp("list", env=env)
    lines = problem_lines(done.stderr, "Connection 'typo'")
    assert len(lines) == 1, done.stderr
    assert url in lines[0] and "404" in lines[0]
    assert f"No ArcGIS services directory found at {url}: " in lines[0]
    assert "arcgisgp:typo_" not in done.stdout


def test_bad_json_is_reported_on_stderr(qp: QgisProcess) -> None:
    env = with_connections(qp, '[{"name": "local", "url": ')
    done = qp("list", env=env)
    lines = problem_lines(done.stderr, "ARCGIS_GP_CONNECTIONS is not valid JSON")
    assert len(lines) == 1, done.stderr
    assert '"url"' in lines[0]  # shows the expected form


def test_a_broken_task_costs_only_itself(qp: QgisProcess, tmp_path: Path) -> None:
    # A task whose "parameters" is a string used to abort every qgis_process command from
    # the description cache writer, even native:buffer.
    with FaultProxy(qp.server_url) as proxy:
        proxy.add(r"/Demo/Analysis/GPServer/Sleep\?", "replace", count=None,
                  body=b'{"name": "Sleep", "parameters": "Seconds"}')
        url = proxy.url + "/arcgis/rest/services/Demo/Analysis/GPServer"
        env = with_connections(qp, json.dumps([{"name": "broken", "url": url}]))
        listed = qp("list", env=env)
        assert "arcgisgp:broken_demo_analysis_copyfeatures" in listed.stdout
        assert "arcgisgp:broken_demo_analysis_sleep" not in listed.stdout
        lines = problem_lines(listed.stderr, "Connection 'broken'")
        assert len(lines) == 1, listed.stderr
        assert "Demo/Analysis/Sleep" in lines[0], lines[0]
        assert 'its "parameters" is text, not a list' in lines[0], lines[0]
        assert "object has no attribute" not in listed.stderr
        points = tmp_path / "points.geojson"
        points.write_text(json.dumps({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "Point",
                                                            "coordinates": [2, 49]}}]}))
        out = tmp_path / "buffered.geojson"
        ran = qp("run", "native:buffer", f"--INPUT={points}", "--DISTANCE=1",
                 f"--OUTPUT={out}", env=env)
        assert ran.returncode == 0 and out.exists()
