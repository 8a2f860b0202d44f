"""Desktop smoke test: the real QGIS window under Xvfb loads the plugin and runs a remote task.

QGIS starts in a throwaway profile with the plugin symlinked and enabled, a connection
``desktop`` to the reference server (a subprocess) given through ARCGIS_GP_CONNECTIONS,
and ``--code tests/e2e/desktop_smoke_driver.py``. The driver waits for the provider's
algorithms, opens the Processing toolbox and the BufferFeatures dialog, takes screenshots,
runs the task with ``processing.run`` and with the dialog's Run button, writes
``report.json`` and quits. The screenshots are also copied to ``build/screens/``.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .desktop_harness import (
    REPO_ROOT,
    distinct_colours,
    image_size,
    make_desktop_profile,
    run_qgis_desktop,
    xvfb,
)

pytestmark = [pytest.mark.timeout(120), pytest.mark.slow]

ALG_ID = "arcgisgp:desktop_demo_analysis_bufferfeatures"
DRIVER = Path(__file__).with_name("desktop_smoke_driver.py")
SCREENS = REPO_ROOT / "build" / "screens"
SCREENSHOTS = ("main_window", "algorithm_dialog", "screen_before_run", "algorithm_dialog_log",
               "screen_after_run", "main_window_after_run")


@pytest.fixture(scope="module")
def desktop_report(gpserver_process: str, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run the desktop scenario once; return the driver's report (with ``_run`` details)."""
    root = tmp_path_factory.mktemp("desktop")
    profile_root = root / "config"
    make_desktop_profile(profile_root)
    out = root / "out"
    out.mkdir()
    connections = [{"name": "desktop", "url": gpserver_process + "/arcgis/rest/services"}]
    env = {"ARCGIS_GP_CONNECTIONS": json.dumps(connections), "ARCGIS_GP_SMOKE_OUT": str(out),
           "ARCGIS_GP_SMOKE_ALG": ALG_ID, "ARCGIS_GP_SMOKE_DEADLINE": "75"}
    with xvfb() as display:
        run = run_qgis_desktop(profile_root, display, DRIVER, env=env, timeout=95, workdir=root)
    report_path = out / "report.json"
    if not report_path.exists():
        pytest.fail(f"the driver wrote no report.json\n{run.describe()}")
    report = json.loads(report_path.read_text(encoding="utf-8"))
    SCREENS.mkdir(parents=True, exist_ok=True)
    for png in out.glob("*.png"):
        shutil.copy2(png, SCREENS / png.name)
    report["_run"] = run
    return report


def test_driver_completed_every_step(desktop_report: dict) -> None:
    run = desktop_report["_run"]
    assert desktop_report["error"] is None, f"{desktop_report['error']}\n{run.describe()}"
    assert desktop_report["steps"] == [
        "plugin_loaded", "toolbox_shown", "dialog_opened", "screenshots_taken",
        "processing_run", "dialog_run_clicked", "dialog_run_finished"]
    assert not run.timed_out and run.returncode == 0, run.describe()


def test_provider_is_registered_with_the_remote_algorithms(desktop_report: dict) -> None:
    assert "arcgis_gp" in desktop_report["plugins"]
    assert desktop_report["provider_name"] == "ArcGIS Geoprocessing"
    algorithms = desktop_report["algorithms"]
    for name in ("desktop_demo_analysis_bufferfeatures", "desktop_demo_analysis_sleep",
                 "desktop_demo_analysissync_copyfeatures", "desktop_tasks_createbuffers"):
        assert f"arcgisgp:{name}" in algorithms
    assert "arcgisgp:esrijsontolayer" in algorithms


def test_toolbox_and_dialog_show_buffer_features(desktop_report: dict) -> None:
    assert desktop_report["toolbox_visible"] is True
    assert desktop_report["toolbox_selected"] == ALG_ID
    assert desktop_report["group"] == "desktop: Demo/Analysis"
    params = desktop_report["parameters"]
    assert params[:5] == ["Input_Features", "Distance", "Distance_units", "Dissolve",
                          "Output_Features"]
    types = desktop_report["parameter_types"]
    assert types["Input_Features"] == "source"
    assert types["Distance"] == "number"
    assert types["Distance_units"] == "enum"
    assert types["Dissolve"] == "enum"
    assert types["Output_Features"] == "sink"
    assert "Kilometers" in desktop_report["distance_units"]
    # the dialog built a widget for every parameter
    assert set(params) <= set(desktop_report["dialog_widgets"])


def test_processing_run_buffers_every_point(desktop_report: dict) -> None:
    assert desktop_report["run_feature_count"] == 3
    assert desktop_report["run_names"] == ["Lille", "Lyon", "Paris"]
    assert "BUFF_DIST" in desktop_report["run_fields"]
    assert desktop_report["run_geometry_type"] == 2  # QgsWkbTypes.PolygonGeometry
    assert desktop_report["run_crs"] == "EPSG:4326"
    # a 20 km buffer around a point at ~48 N spans roughly 0.15 square degrees; not a sliver
    assert desktop_report["run_area_min"] > 0.05


def test_dialog_run_loads_the_result_layer(desktop_report: dict) -> None:
    finished = desktop_report["dialog_run"]
    assert finished["ok"] is True, desktop_report.get("dialog_log")
    assert "Output_Features" in finished["results"]
    assert len(desktop_report["project_layers"]) == 2, desktop_report["project_layers"]
    log = desktop_report["dialog_log"] or ""
    assert "Submitted job" in log


@pytest.mark.parametrize("key", SCREENSHOTS)
def test_screenshot_exists_and_is_not_blank(desktop_report: dict, key: str) -> None:
    shot = desktop_report["screenshots"][key]
    path = Path(shot["path"])
    assert shot["saved"] and path.is_file() and path.stat().st_size > 2000
    width, height = image_size(path)
    assert width >= 300 and height >= 200, (width, height)
    assert distinct_colours(path) >= 8, f"{key} looks blank"


def test_no_python_errors_or_plugin_warnings(desktop_report: dict) -> None:
    problems = [entry for entry in desktop_report["log"]
                if entry["tag"] == "Python error"
                or (entry["tag"] == "ArcGIS GP" and entry["level"] >= 1)]
    assert problems == []
    assert "Traceback" not in desktop_report["_run"].stderr
