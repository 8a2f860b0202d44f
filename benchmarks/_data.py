"""Benchmark data: 100,000 twenty-vertex polygons with text, integer, double and date attributes.

Writes, into ``build/bench/`` (created when missing), the same features twice:
``polygons.json`` (an Esri JSON FeatureSet, as a GP service returns it) and
``polygons.gpkg`` (a GeoPackage layer ``polygons``, the input of the encode benchmark).
Both are generated once from a fixed seed and reused while they exist.
"""

from __future__ import annotations

import json
import math
import os
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "build" / "bench"
FEATURE_COUNT = 100_000
VERTICES = 20
SEED = 20240601

FIELDS = [
    {"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID"},
    {"name": "name", "type": "esriFieldTypeString", "alias": "name", "length": 64},
    {"name": "count", "type": "esriFieldTypeInteger", "alias": "count"},
    {"name": "value", "type": "esriFieldTypeDouble", "alias": "value"},
    {"name": "observed", "type": "esriFieldTypeDate", "alias": "observed", "length": 8},
]


def _features(count: int):
    """Yield (attributes, ring) for ``count`` deterministic clockwise 20-vertex polygons."""
    rnd = random.Random(SEED)
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel"]
    step = 2.0 * math.pi / VERTICES
    for i in range(count):
        cx = rnd.uniform(-13_700_000.0, -13_100_000.0)
        cy = rnd.uniform(4_000_000.0, 6_000_000.0)
        ring = []
        for k in range(VERTICES):
            angle = -k * step  # negative: clockwise, Esri's outer ring orientation
            radius = rnd.uniform(300.0, 1000.0)
            ring.append([round(cx + radius * math.cos(angle), 2),
                         round(cy + radius * math.sin(angle), 2)])
        ring.append(list(ring[0]))
        attributes = {
            "OBJECTID": i + 1,
            "name": f"{rnd.choice(words)} {i}",
            "count": rnd.randint(-1_000_000, 1_000_000),
            "value": rnd.uniform(-1e6, 1e6),
            "observed": rnd.randint(-2_000_000_000, 1_700_000_000) * 1000,
        }
        yield attributes, ring


def write_json(path: Path, count: int = FEATURE_COUNT) -> None:
    """Write the Esri JSON FeatureSet, one feature at a time."""
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as out:
        header = {
            "displayFieldName": "name",
            "geometryType": "esriGeometryPolygon",
            "spatialReference": {"wkid": 102100, "latestWkid": 3857},
            "fields": FIELDS,
        }
        out.write(json.dumps(header, separators=(",", ":"))[:-1])
        out.write(',"features":[')
        for i, (attributes, ring) in enumerate(_features(count)):
            if i:
                out.write(",")
            out.write(json.dumps({"attributes": attributes, "geometry": {"rings": [ring]}},
                                 separators=(",", ":")))
        out.write('],"exceededTransferLimit":false}')
    os.replace(tmp, path)


def write_gpkg(path: Path, count: int = FEATURE_COUNT) -> None:
    """Write the same features to a GeoPackage with GDAL (fast, no QGIS needed)."""
    from osgeo import ogr, osr

    tmp = path.with_name(path.stem + ".tmp.gpkg")
    if tmp.exists():
        tmp.unlink()
    drv = ogr.GetDriverByName("GPKG")
    ds = drv.CreateDataSource(str(tmp))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(3857)
    layer = ds.CreateLayer("polygons", srs, ogr.wkbPolygon, ["FID=fid"])
    layer.CreateField(ogr.FieldDefn("OBJECTID", ogr.OFTInteger))
    name = ogr.FieldDefn("name", ogr.OFTString)
    name.SetWidth(64)
    layer.CreateField(name)
    layer.CreateField(ogr.FieldDefn("count", ogr.OFTInteger))
    layer.CreateField(ogr.FieldDefn("value", ogr.OFTReal))
    layer.CreateField(ogr.FieldDefn("observed", ogr.OFTDateTime))
    defn = layer.GetLayerDefn()
    layer.StartTransaction()
    import datetime as dt

    epoch = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    for attributes, ring in _features(count):
        feat = ogr.Feature(defn)
        for key in ("OBJECTID", "name", "count", "value"):
            feat.SetField(key, attributes[key])
        when = epoch + dt.timedelta(milliseconds=attributes["observed"])
        feat.SetField("observed", when.year, when.month, when.day, when.hour, when.minute,
                      when.second, 100)
        wkt = "POLYGON((" + ",".join(f"{x!r} {y!r}" for x, y in ring) + "))"
        feat.SetGeometry(ogr.CreateGeometryFromWkt(wkt))
        layer.CreateFeature(feat)
    layer.CommitTransaction()
    ds = None
    os.replace(tmp, path)


def ensure_data(count: int = FEATURE_COUNT) -> tuple[Path, Path]:
    """Return (json_path, gpkg_path), generating the files when they are missing."""
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    suffix = "" if count == FEATURE_COUNT else f"_{count}"
    json_path = BENCH_DIR / f"polygons{suffix}.json"
    gpkg_path = BENCH_DIR / f"polygons{suffix}.gpkg"
    if not json_path.exists():
        write_json(json_path, count)
    if not gpkg_path.exists():
        write_gpkg(gpkg_path, count)
    return json_path, gpkg_path


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else FEATURE_COUNT
    for p in ensure_data(n):
        print(p, p.stat().st_size)


# -- helpers shared by the esrijson benchmarks -------------------------------------------------

QGIS_PROCESS = "qgis_process.bin"


def measure(cmd: list[str], env: dict | None = None) -> tuple[float, int]:
    """Run a whole process; return (wall seconds, its own peak RSS in KiB), via wait4."""
    import subprocess
    import tempfile
    import time

    with tempfile.TemporaryFile() as err:  # a file, not a pipe: a chatty tool cannot block
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=err,
                                stdin=subprocess.DEVNULL)
        _pid, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            text = err.read().decode(errors="replace")
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}):\n{text[-2000:]}")
    return seconds, usage.ru_maxrss


def plugin_env(root: Path) -> dict:
    """A throwaway QGIS profile in ``root`` with this plugin enabled; its environment."""
    import shutil
    import subprocess

    if shutil.which(QGIS_PROCESS) is None:
        sys.exit(f"{QGIS_PROCESS} is missing: install the Debian package 'qgis'.")
    if root.exists():
        shutil.rmtree(root)
    plugins = root / "profiles" / "default" / "python" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / "arcgis_gp").symlink_to(ROOT, target_is_directory=True)
    env = dict(os.environ, QGIS_CUSTOM_CONFIG_PATH=str(root), QT_QPA_PLATFORM="offscreen")
    env.pop("ARCGIS_GP_CONNECTIONS", None)
    # as on a user's machine, QGIS caches the plugin's bytecode on its first load (the
    # set-up runs below); with PYTHONDONTWRITEBYTECODE inherited, every measured run would
    # compile the plugin again (measured: +0.1 s of qgis_process start-up)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    subprocess.run([QGIS_PROCESS, "plugins", "enable", "arcgis_gp"], env=env, check=True,
                   capture_output=True, stdin=subprocess.DEVNULL)
    listing = subprocess.run([QGIS_PROCESS, "list"], env=env, capture_output=True, text=True,
                             stdin=subprocess.DEVNULL).stdout
    for name in ("arcgisgp:esrijsontolayer", "arcgisgp:layertoesrijson"):
        if name not in listing:
            sys.exit(f"{name} is not registered: provider/provider.py must load it.")
    return env


def median(values: list[float]) -> float:
    """The median of a few measurements."""
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def paired(ours: list[float], base: list[float]) -> tuple[float, float, float]:
    """(median, lowest, highest) of the per-round ratios ours/base. Each round runs both
    commands one after the other, so its ratio is measured at one speed of a shared machine
    whose speed drifts between rounds: the median of the ratios is the figure to quote."""
    ratios = [o / b for o, b in zip(ours, base)]
    return median(ratios), min(ratios), max(ratios)
