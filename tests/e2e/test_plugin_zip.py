"""The zip from ``make zip`` installs into a throwaway QGIS profile and enables headless."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT as ROOT


@pytest.fixture(scope="module")
def plugin_zip(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("zip") / "arcgis_gp.zip"
    subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_zip.py"), "--output", str(out)],
        check=True, capture_output=True, text=True,
    )
    return out


def test_zip_holds_one_plugin_folder_and_only_what_ships(plugin_zip: Path) -> None:
    names = zipfile.ZipFile(plugin_zip).namelist()
    assert {n.split("/")[0] for n in names} == {"arcgis_gp"}
    for required in ("metadata.txt", "__init__.py", "plugin.py", "icons/icon.svg",
                     "gp_client/__init__.py", "provider/provider.py"):
        assert f"arcgis_gp/{required}" in names
    # no compiled Qt resources: QGIS 4 has none, icons are loaded by path
    for forbidden in ("tests/", "benchmarks/", ".ci/", "build/", ".venv/", ".git/", "tools/",
                      "resources_rc.py", "resources.qrc"):
        assert not any(n.startswith(f"arcgis_gp/{forbidden}") for n in names), forbidden
    assert not any(n.endswith(".pyc") for n in names)


@pytest.mark.timeout(180)
def test_unpacked_zip_enables_with_qgis_process(plugin_zip: Path, tmp_path: Path) -> None:
    profile_root = tmp_path / "profile"
    plugins = profile_root / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    zipfile.ZipFile(plugin_zip).extractall(plugins)
    env = dict(os.environ, QGIS_CUSTOM_CONFIG_PATH=str(profile_root),
               QT_QPA_PLATFORM="offscreen")
    # The unpacked plugin, not the development checkout, must be the one loaded.
    env.pop("PYTHONPATH", None)
    enable = subprocess.run(["qgis_process.bin", "plugins", "enable", "arcgis_gp"],
                            env=env, capture_output=True, text=True, timeout=120)
    output = enable.stdout + enable.stderr
    assert enable.returncode == 0, output
    assert "Traceback" not in output and "rror" not in output.replace("stderr", ""), output
    listing = subprocess.run(["qgis_process.bin", "plugins"], env=env,
                             capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0, listing.stderr
    line = next(ln for ln in listing.stdout.splitlines() if "arcgis_gp" in ln)
    assert line.strip().startswith("*"), listing.stdout  # '*' marks an enabled plugin
