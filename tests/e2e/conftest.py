"""End-to-end fixtures: qgis_process.bin in a throwaway profile against a server subprocess.

``qp`` runs ``qgis_process.bin`` with QGIS_CUSTOM_CONFIG_PATH pointing at a temporary
profile in which the plugin (this repository) is symlinked and enabled, and with
ARCGIS_GP_CONNECTIONS naming one connection, ``local``, to the reference server started as
``python -m tests.gpserver --port 0``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT

QGIS_PROCESS = "qgis_process.bin"


@dataclass
class QgisProcess:
    """Runs qgis_process.bin in the throwaway profile."""

    env: dict[str, str]
    profile: Path
    server_url: str

    def __call__(self, *args: str, timeout: float = 180.0, check: bool = True,
                 env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Run ``qgis_process.bin <args>``; fail with its output when ``check`` and it fails."""
        done = subprocess.run([QGIS_PROCESS, *args], env=env or self.env, capture_output=True,
                              text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if check and done.returncode != 0:
            pytest.fail(f"qgis_process {' '.join(args)} exited {done.returncode}:\n"
                        f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
        return done

    def run_json(self, algorithm: str, *params: str, **kwargs: object) -> dict:
        """Run an algorithm with ``--json`` and return the parsed report."""
        done = self("run", algorithm, "--json", *params, **kwargs)
        start = done.stdout.find("{")
        return json.loads(done.stdout[start:])


@pytest.fixture(scope="session")
def gpserver_process() -> Iterator[str]:
    """The reference server as a subprocess; yields its root URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.gpserver", "--host", "127.0.0.1", "--port", "0"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    url = (proc.stdout.readline() if proc.stdout else "").strip()
    if not url.startswith("http://"):
        proc.kill()
        pytest.fail(f"the reference server did not start (it printed {url!r})")
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def make_profile(root: Path) -> dict[str, str]:
    """Create a profile with the plugin symlinked and enabled; return its environment."""
    plugins = root / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "arcgis_gp").symlink_to(REPO_ROOT, target_is_directory=True)
    env = dict(os.environ, QGIS_CUSTOM_CONFIG_PATH=str(root), QT_QPA_PLATFORM="offscreen")
    env.pop("ARCGIS_GP_CONNECTIONS", None)
    done = subprocess.run([QGIS_PROCESS, "plugins", "enable", "arcgis_gp"], env=env,
                          capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        pytest.fail(f"could not enable the plugin:\n{done.stdout}\n{done.stderr}")
    return env


@pytest.fixture(scope="session")
def qp(gpserver_process: str, tmp_path_factory: pytest.TempPathFactory) -> QgisProcess:
    """qgis_process.bin with the plugin enabled and a connection 'local' to the server."""
    profile = tmp_path_factory.mktemp("qgis_profile")
    env = make_profile(profile)
    env["ARCGIS_GP_CONNECTIONS"] = json.dumps(
        [{"name": "local", "url": gpserver_process + "/arcgis/rest/services"}])
    return QgisProcess(env=env, profile=profile, server_url=gpserver_process)
