"""The remote BufferFeatures in Processing's own algorithm dialog, on a real X server (Xvfb).

The screenshot is written to build/screenshots/bufferfeatures_dialog.png for a person to
look at; the test checks what can be checked: every parameter has its widget and the
window was drawn.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from qgis.core import Qgis

from .conftest import REPO_ROOT

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]

SCRIPT = r'''
import json, sys, tempfile
from qgis.core import QgsApplication, QgsProject, QgsVectorLayer
from qgis.PyQt.QtCore import QSize, QTimer

app = QgsApplication([], True)
app.initQgis()
sys.path.append(QgsApplication.pkgDataPath() + "/python/plugins")
from processing.core.Processing import Processing  # noqa: E402

Processing.initialize()
from tests.gpserver import GPServer  # noqa: E402

server = GPServer(port=0)
server.start()
from arcgis_gp.provider.cache import DescriptionCache  # noqa: E402
from arcgis_gp.provider.connections import ConnectionStore  # noqa: E402
from arcgis_gp.provider.provider import GpProvider  # noqa: E402

env = {"ARCGIS_GP_CONNECTIONS": json.dumps(
    [{"name": "local", "url": server.url + "/arcgis/rest/services"}])}
provider = GpProvider(ConnectionStore("arcgis_gp_xvfb/connections", env),
                      DescriptionCache(tempfile.mkdtemp()), fetch_missing=True)
QgsApplication.processingRegistry().addProvider(provider)
QgsProject.instance().addMapLayer(
    QgsVectorLayer(sys.argv[2], "places", "ogr"))
from processing.gui.AlgorithmDialog import AlgorithmDialog  # noqa: E402

alg = QgsApplication.processingRegistry().createAlgorithmById(
    "arcgisgp:local_demo_analysis_bufferfeatures")
dialog = AlgorithmDialog(alg, False, None)
dialog.resize(QSize(960, 680))
dialog.show()


def finish():
    image = dialog.grab()
    image.save(sys.argv[1])
    panel = dialog.mainWidget()
    print(json.dumps({"platform": QgsApplication.platformName() if hasattr(
        QgsApplication, "platformName") else "", "qpa": app.platformName(),
        "width": image.width(), "height": image.height(),
        "widgets": sorted(panel.wrappers),
        "title": dialog.windowTitle()}))
    server.stop()
    app.quit()


QTimer.singleShot(1000, finish)
app.exec()
'''


def test_buffer_features_dialog_under_xvfb(tmp_path: Path) -> None:
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        pytest.skip("xvfb-run is not installed (make setup installs it)")
    script = tmp_path / "dialog.py"
    script.write_text(SCRIPT, encoding="utf-8")
    out_dir = REPO_ROOT / "build" / "screenshots"
    out_dir.mkdir(parents=True, exist_ok=True)
    image = out_dir / "bufferfeatures_dialog.png"
    env = dict(os.environ, QT_QPA_PLATFORM="xcb", QGIS_CUSTOM_CONFIG_PATH=str(tmp_path / "p"),
               PYTHONPATH=str(REPO_ROOT))
    done = subprocess.run(
        [xvfb_run, "-a", "-s", "-screen 0 1280x1024x24", sys.executable, str(script),
         str(image), str(REPO_ROOT / "tools" / "demo_data" / "places.geojson")],
        cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=150,
        stdin=subprocess.DEVNULL)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    assert done.returncode == 0 and lines, done.stdout[-2000:] + done.stderr[-2000:]
    report = json.loads(lines[-1])
    assert report["qpa"] == "xcb"
    if Qgis.QGIS_VERSION_INT >= 34000:  # the title names the algorithm's group first
        assert report["title"] == "local: Demo/Analysis - Buffer Features"
    else:
        assert report["title"] == "Buffer Features"
    # the task's own parameters, and our advanced ones (under "Advanced Parameters")
    assert report["widgets"] == sorted(["Input_Features", "Distance", "Distance_units",
                                        "Dissolve", "Output_Features",
                                        "ARCGISGP_ATTACH_JOB", "ARCGISGP_SPLIT",
                                        "ARCGISGP_PARALLEL", "ARCGISGP_PROCESS_SR",
                                        "ARCGISGP_EXTENT", "ARCGISGP_COPY_INPUTS"])
    assert (report["width"], report["height"]) == (960, 680)
    assert image.stat().st_size > 10_000
