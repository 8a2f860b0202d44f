"""The main job, end to end, on the embedded default.

Starts the reference server on loopback, makes a throwaway QGIS profile with the plugin
enabled and a connection to the server, runs the remote BufferFeatures task of
Demo/Analysis on a bundled sample layer through ``qgis_process.bin``, writes the result as
a GeoPackage under build/demo/, prints what it did, and stops the server.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "build" / "demo"
SAMPLE = ROOT / "tools" / "demo_data" / "places.geojson"
CONNECTION = "local"
ALGORITHM = "arcgisgp:local_demo_analysis_bufferfeatures"


def start_server() -> tuple[subprocess.Popen, str]:
    """Start the reference server on a free loopback port and return it with its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.gpserver", "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    url = proc.stdout.readline().strip()
    if not url.startswith("http://"):
        proc.kill()
        sys.exit(f"the reference server did not start (it printed {url!r})")
    return proc, url


def make_profile(profile: Path) -> dict[str, str]:
    """Create a throwaway QGIS profile with the plugin linked in; return its environment."""
    if profile.exists():
        shutil.rmtree(profile)
    plugins = profile / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "arcgis_gp").symlink_to(ROOT, target_is_directory=True)
    env = dict(os.environ, QGIS_CUSTOM_CONFIG_PATH=str(profile), QT_QPA_PLATFORM="offscreen")
    run(["qgis_process.bin", "plugins", "enable", "arcgis_gp"], env)
    return env


def run(cmd: list[str], env: dict[str, str]) -> str:
    """Run a command, echo it, and fail loudly with its output when it fails."""
    print("$", " ".join(cmd))
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"command failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def count_features(path: Path) -> int:
    """Count the features of the first layer of a vector file with GDAL."""
    from osgeo import ogr

    ds = ogr.Open(str(path))
    return ds.GetLayer(0).GetFeatureCount()


def mean_area_m2(path: Path) -> float:
    """Return the mean polygon area of a layer in square metres (in UTM zone 32N)."""
    from osgeo import ogr, osr

    ds = ogr.Open(str(path))
    layer = ds.GetLayer(0)
    utm = osr.SpatialReference()
    utm.ImportFromEPSG(32632)
    utm.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    source = layer.GetSpatialRef()
    source.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    transform = osr.CoordinateTransformation(source, utm)
    areas = []
    for feature in layer:
        geometry = feature.GetGeometryRef().Clone()
        geometry.Transform(transform)
        areas.append(geometry.GetArea())
    return sum(areas) / len(areas)


def main() -> None:
    """Run the demo."""
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    output = OUT_DIR / "buffers.gpkg"
    if output.exists():
        output.unlink()
    server, url = start_server()
    try:
        print(f"reference server running at {url}")
        env = make_profile(OUT_DIR / "profile")
        services = f"{url}/arcgis/rest/services"
        env["ARCGIS_GP_CONNECTIONS"] = json.dumps([{"name": CONNECTION, "url": services}])
        print(f"connection {CONNECTION!r} -> {services}")
        listing = run(["qgis_process.bin", "list"], env)
        remote = [ln.split()[0] for ln in listing.splitlines()
                  if ln.strip().startswith("arcgisgp:")]
        if ALGORITHM not in remote:
            sys.exit(f"qgis_process list does not show {ALGORITHM}:\n{listing}")
        print(f"{len(remote)} arcgisgp algorithms available, among them {ALGORITHM}")
        log = run([
            "qgis_process.bin", "run", ALGORITHM, "--",
            f"Input_Features={SAMPLE}", "Distance=250", f"Output_Features={output}",
        ], env)
        print(log.strip())
    finally:
        server.terminate()
        server.wait(timeout=10)
        print("reference server stopped")
    n_in, n_out = count_features(SAMPLE), count_features(output)
    if n_out != n_in:
        sys.exit(f"the remote buffer wrote {n_out} features for {n_in} points")
    print(f"buffered {n_in} points of {SAMPLE.relative_to(ROOT)} by 250 m on the server: "
          f"{n_out} polygons written to {output.relative_to(ROOT)}")
    circle = math.pi * 250.0**2
    area = mean_area_m2(output)
    print(f"mean buffer area {area:,.0f} m2, {area / circle:.3f} of a true 250 m circle "
          f"({circle:,.0f} m2; buffers are polygons, so slightly smaller)")


if __name__ == "__main__":
    main()
