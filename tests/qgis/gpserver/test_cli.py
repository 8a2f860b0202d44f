"""``python -m tests.gpserver``: first line is the URL; serves; stops on SIGTERM/SIGINT."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.gpserver.client import Rest
from tests.paths import REPO_ROOT as REPO

pytestmark = pytest.mark.timeout(60)


def start(*args: str) -> subprocess.Popen[str]:
    """Start the CLI from the repository root."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen(
        [sys.executable, "-m", "tests.gpserver", "--port", "0", *args],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_until_signal(sig: signal.Signals) -> None:
    """The URL comes first; the services answer; the process exits 0 on the signal."""
    proc = start("--fault", "status5xx,code=502@/arcgis/rest/info")
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.rsplit(":", 1)[1].isdigit()
        rest = Rest(url)
        assert rest.raw("/arcgis/rest/info").status == 502  # the --fault, once
        assert rest.get("/arcgis/rest/info")["currentVersion"]
        services = rest.get("/arcgis/rest/services/Demo")["services"]
        assert {"name": "Demo/Analysis", "type": "GPServer"} in services
        final = rest.run(url + "/arcgis/rest/services/Demo/Analysis/GPServer/Sleep",
                         {"Seconds": 0.1})
        assert final["jobStatus"] == "esriJobSucceeded"
        proc.send_signal(sig)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()


def test_cli_bad_fault_spec_exits_2() -> None:
    """A malformed --fault stops before serving, with a message."""
    proc = start("--fault", "drop")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert out == ""
    assert "needs '@<path regex>'" in err


def test_remote_server_wrapper() -> None:
    """RemoteGPServer (GPSERVER_MODE=subprocess) offers url and faults over /_control."""
    from tests.gpserver.remote import RemoteGPServer

    with RemoteGPServer("--token-lifetime", "600") as srv:
        rest = Rest(srv.url)
        srv.faults.add("/arcgis/rest/info", "status5xx", 1, code=504)
        assert [f["kind"] for f in srv.faults.active()] == ["status5xx"]
        assert rest.raw("/arcgis/rest/info").status == 504
        assert rest.raw("/arcgis/rest/info").status == 200
        with pytest.raises(ValueError):
            srv.faults.add(".*", "explode")
        srv.faults.add(".*", "drop", None)
        srv.faults.clear()
        assert rest.get("/arcgis/rest/info")["currentVersion"]
