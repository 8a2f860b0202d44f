"""import_toolbox end to end, Ctrl-C, and gp_client loading no QGIS or Qt module."""

from __future__ import annotations

import inspect
import json
import os
import pydoc
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from arcgis_gp.gp_client import GPClient, Job, import_toolbox
from arcgis_gp.gp_client.auth import UserPasswordAuth
from arcgis_gp.gp_client.errors import BadInputError, JobFailedError

pytestmark = pytest.mark.timeout(120)


POINT = {
    "geometryType": "esriGeometryPoint",
    "spatialReference": {"wkid": 4326},
    "fields": [{"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID"},
               {"name": "Name", "type": "esriFieldTypeString", "alias": "Name"}],
    "features": [{"geometry": {"x": 2.0, "y": 49.0}, "attributes": {"OBJECTID": 1,
                                                                   "Name": "a"}}],
}


def _python() -> str:
    # the running interpreter: in a matrix chroot, ./.venv is the host's (another Python)
    return sys.executable


def test_methods_signatures_and_help(gpserver: Any) -> None:
    """One snake_case method per task, keyword arguments as published, real help text."""
    tbx = import_toolbox(gpserver.services_url + "/Demo/Analysis/GPServer")
    assert tbx.task_methods() == {
        "buffer_features": "BufferFeatures", "copy_features": "CopyFeatures",
        "sleep": "Sleep", "always_fails": "AlwaysFails", "echo_all_types": "EchoAllTypes",
        "echo_raster": "EchoRaster", "echo_file": "EchoFile"}
    sig = inspect.signature(tbx.buffer_features)
    params = sig.parameters
    assert list(params) == ["Input_Features", "Distance", "Dissolve"]
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
    assert params["Input_Features"].default is inspect.Parameter.empty
    assert params["Dissolve"].default is None
    text = pydoc.render_doc(tbx.buffer_features, renderer=pydoc.plaintext)
    assert "buffer_features(*, Input_Features, Distance, Dissolve=None)" in text
    assert "Creates buffer polygons around input features" in text
    assert "Input_Features : GPFeatureRecordSetLayer (required)" in text
    assert "Choices: 'NONE', 'ALL'" in text
    assert "Output_Features : GPFeatureRecordSetLayer (output)" in text
    assert "asynchronous" in text
    assert "sleep" in dir(tbx) and "Demo/Analysis" in repr(tbx)
    whole = pydoc.render_doc(tbx, renderer=pydoc.plaintext)
    assert "echo_all_types" in whole and "EchoAllTypes" in whole


def test_async_task_runs_to_completion(gpserver: Any) -> None:
    """buffer_features on the async service: outputs by name, messages, job id."""
    tbx = import_toolbox(gpserver.services_url + "/Demo/Analysis/GPServer")
    result = tbx.buffer_features(Input_Features=POINT, Distance="100 Meters")
    fs = result.outputs["Output_Features"]
    assert fs["geometryType"] == "esriGeometryPolygon" and len(fs["features"]) == 1
    assert result.job_id and result.job_id == tbx.last_job.job_id
    assert any("Buffering 1 feature(s) by 100 esriMeters" in m.description
               for m in result.messages)


def test_sync_task_and_arcpy_style_url(gpserver: Any) -> None:
    """ArcPy's 'services;Folder/Service' URL works; a synchronous task has no job id."""
    tbx = import_toolbox(gpserver.url + "/arcgis/services;Demo/AnalysisSync")
    result = tbx.copy_features(Input_Features=POINT)
    assert result.job_id is None
    assert result.outputs["Output_Features"]["features"][0]["attributes"]["Name"] == "a"


def test_secured_service_with_auth(gpserver: Any) -> None:
    """auth= is used for the description and every run."""
    tbx = import_toolbox(gpserver.services_url + "/Secure/Analysis/GPServer",
                         auth=UserPasswordAuth("demo", "demo-password"))
    assert tbx.sleep(Seconds=0.1).outputs == {"Slept": 0.1}


def test_bad_calls(gpserver: Any) -> None:
    """Missing required, unknown and positional arguments: clear errors, no request."""
    tbx = import_toolbox(gpserver.services_url + "/Demo/Analysis/GPServer")
    with pytest.raises(BadInputError, match="Input_Features"):
        tbx.buffer_features(Distance="1 Meters")
    with pytest.raises(BadInputError, match="Distanse"):
        tbx.buffer_features(Input_Features=POINT, Distance="1 Meters", Distanse=3)
    with pytest.raises(TypeError):
        tbx.buffer_features(POINT)  # type: ignore[misc]
    with pytest.raises(JobFailedError, match="This task always fails"):
        tbx.always_fails()
    with pytest.raises(BadInputError, match="either auth or a client"):
        import_toolbox(gpserver.services_url + "/Demo/Analysis/GPServer",
                       auth=UserPasswordAuth("demo", "x"), client=GPClient())


def test_local_file_is_uploaded_and_result_downloaded(gpserver: Any, tmp_path: Path) -> None:
    """A local path for a GPDataFile input is uploaded; the output downloads back."""
    src = tmp_path / "notes.txt"
    src.write_text("hello from a script\n")
    tbx = import_toolbox(gpserver.services_url + "/Demo/Analysis/GPServer")
    result = tbx.echo_file(Input_File=src)
    got = tbx.download(result.outputs["Output_File"], tmp_path / "out")
    assert got.read_text() == "hello from a script\n"
    with pytest.raises(BadInputError, match="neither a URL nor an existing file"):
        tbx.echo_file(Input_File=str(tmp_path / "missing.txt"))


def test_ctrl_c_cancels_the_server_job(gpserver: Any, tmp_path: Path) -> None:
    """A real SIGINT while a script waits: the server job is cancelled, KeyboardInterrupt out."""
    script = textwrap.dedent("""
        import json, os, signal, sys, threading
        from arcgis_gp.gp_client import import_toolbox
        tbx = import_toolbox(sys.argv[1])
        def interrupt(message):
            if message.description.startswith("Sleeping"):
                threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGINT)).start()
        tbx.on_message = interrupt
        try:
            tbx.sleep(Seconds=60)
        except KeyboardInterrupt:
            print(json.dumps({"interrupted": True, "job": tbx.last_job.url}))
    """)
    proc = subprocess.run(
        [_python(), "-c", script, gpserver.services_url + "/Demo/Analysis/GPServer"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["interrupted"]
    status = Job.from_url(GPClient(), out["job"]).status()
    assert status.status in ("esriJobCancelled", "esriJobCancelling")


def test_gp_client_loads_no_qgis_or_qt(gpserver: Any, tmp_path: Path) -> None:
    """Importing and using gp_client (discover, execute, submit) loads no qgis/Qt module."""
    script = textwrap.dedent("""
        import json, sys
        from arcgis_gp.gp_client import GPClient, import_toolbox, discovery
        url = sys.argv[1]
        found = discovery.discover(GPClient(), url + "/arcgis/rest/services")
        sync = import_toolbox(url + "/arcgis/rest/services/Demo/AnalysisSync/GPServer")
        fs = {"geometryType": "esriGeometryPoint", "spatialReference": {"wkid": 4326},
              "features": [{"geometry": {"x": 1, "y": 2}, "attributes": {}}]}
        sync.copy_features(Input_Features=fs)
        tbx = import_toolbox(url + "/arcgis/rest/services/Demo/Analysis/GPServer")
        tbx.sleep(Seconds=0.05)
        bad = sorted(m for m in sys.modules
                     if m.split(".")[0] in ("qgis", "PyQt4", "PyQt5", "PyQt6", "PySide2",
                                            "PySide6", "sip", "shiboken2", "shiboken6")
                     or m.startswith("Qt"))
        print(json.dumps({"services": len(found), "bad": bad,
                          "gp_client": "arcgis_gp.gp_client" in sys.modules}))
    """)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run([_python(), "-c", script, gpserver.url], capture_output=True,
                          text=True, timeout=60, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["gp_client"] and out["services"] >= 3
    assert out["bad"] == []
