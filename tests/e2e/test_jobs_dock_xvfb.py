"""The "ArcGIS GP jobs" panel on a real X server (Xvfb), with a running and a finished job.

The screenshot goes to build/screens/jobs_dock.png for a person to look at; the test
checks what the panel showed when it was taken.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]


def test_jobs_dock_under_xvfb(tmp_path: Path) -> None:
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        pytest.skip("xvfb-run is not installed (make setup installs it)")
    out_dir = REPO_ROOT / "build" / "screens"
    out_dir.mkdir(parents=True, exist_ok=True)
    image = out_dir / "jobs_dock.png"
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "p"),
               PYTHONPATH=str(REPO_ROOT))
    done = subprocess.run(
        [xvfb_run, "-a", "-s", "-screen 0 1280x1024x24", sys.executable, "-m",
         "tests.e2e.jobs_dock_screenshot", str(image), str(tmp_path)],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=150,
        stdin=subprocess.DEVNULL)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    assert done.returncode == 0 and lines, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(lines[-1])
    assert report["qpa"] == "xcb"
    assert report["title"] == "ArcGIS GP jobs"
    (sleep, buffer) = report["rows"]
    assert sleep[:3] == ["Sleep", "local", "Running"] and sleep[3].endswith("%")
    assert buffer[:4] == ["Buffer Features", "local", "Succeeded", "100 %"]
    assert "Sleeping for 120 seconds" in report["details"]
    assert report["cancel"] and not report["load"]
    assert image.stat().st_size > 10_000
