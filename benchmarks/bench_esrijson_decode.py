"""Decode benchmark: Esri JSON -> GeoPackage, whole processes, run in turn.

ours:     qgis_process.bin run arcgisgp:esrijsontolayer (streaming reader) -> GPKG
baseline: ogr2ogr -f GPKG (GDAL's ESRIJSON driver) on the same file
Data: 100,000 twenty-vertex polygons with text, integer, double and date attributes
(benchmarks/_data.py). Goals: time ratio <= 1.0, peak-memory ratio <= 0.6.
Also printed, to show what bounds the time: qgis_process start-up on a one-feature file and
the JSON parse alone (the streaming scanner, and json.load of the whole file).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# arcgis_gp is importable through build/link (made by `make setup`)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "build" / "link"))

import _data  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))


def _parse_alone(path: Path) -> tuple[float, float]:
    """Seconds for the streaming scanner over every feature, and for json.load."""
    from arcgis_gp.esrijson._stream import JsonStream

    start = time.perf_counter()
    count = sum(1 for event in JsonStream(str(path)).events() if event[0] == "feature")
    streamed = time.perf_counter() - start
    start = time.perf_counter()
    with open(path, encoding="utf-8") as fh:
        whole = json.load(fh)
    loaded = time.perf_counter() - start
    assert count == len(whole["features"])
    return streamed, loaded


def main() -> None:
    """Run the benchmark and print the ratios."""
    json_path, _gpkg = _data.ensure_data()
    work = _data.BENCH_DIR
    env = _data.plugin_env(work / "profile_decode")
    ours_out = work / "decode_ours.gpkg"
    gdal_out = work / "decode_gdal.gpkg"
    ours_cmd = [_data.QGIS_PROCESS, "run", "arcgisgp:esrijsontolayer", "--",
                f"INPUT={json_path}", f"OUTPUT={ours_out}"]
    gdal_cmd = ["ogr2ogr", "-f", "GPKG", str(gdal_out), f"ESRIJSON:{json_path}"]
    ours_t, ours_m, gdal_t, gdal_m = [], [], [], []
    for round_no in range(ROUNDS):
        pairs = [(ours_cmd, ours_t, ours_m, ours_out), (gdal_cmd, gdal_t, gdal_m, gdal_out)]
        if round_no % 2:
            pairs.reverse()
        for cmd, times, mems, out in pairs:
            if out.exists():
                out.unlink()
            seconds, rss = _data.measure(cmd, env)
            times.append(seconds)
            mems.append(rss)
    _check_same_count(ours_out, gdal_out)

    tiny = work / "tiny.json"
    tiny.write_text(json.dumps({"geometryType": "esriGeometryPoint",
                                "spatialReference": {"wkid": 4326}, "fields": [],
                                "features": [{"geometry": {"x": 1, "y": 2}}]}))
    startup = _data.median([_data.measure(
        [_data.QGIS_PROCESS, "run", "arcgisgp:esrijsontolayer", "--", f"INPUT={tiny}",
         f"OUTPUT={work / 'tiny.gpkg'}"], env)[0] for _ in range(2)])
    streamed, loaded = _parse_alone(json_path)

    size_mb = json_path.stat().st_size / 1e6
    t_ours, t_gdal = _data.median(ours_t), _data.median(gdal_t)
    m_ours, m_gdal = _data.median(ours_m), _data.median(gdal_m)
    print(f"decode {_data.FEATURE_COUNT:,} polygons, {size_mb:.0f} MB of Esri JSON, "
          f"median of {ROUNDS} rounds run in turn")
    print(f"  ours  qgis_process arcgisgp:esrijsontolayer: {t_ours:6.2f} s  "
          f"{m_ours / 1024:7.0f} MiB peak")
    print(f"  GDAL  ogr2ogr -f GPKG (ESRIJSON driver):     {t_gdal:6.2f} s  "
          f"{m_gdal / 1024:7.0f} MiB peak")
    ratio, low, high = _data.paired(ours_t, gdal_t)
    print(f"  time ratio   {ratio:.2f}  (goal <= 1.0; median of the {ROUNDS} rounds' ratios, "
          f"{low:.2f}-{high:.2f}; ratio of the medians {t_ours / t_gdal:.2f})")
    print(f"  memory ratio {m_ours / m_gdal:.2f}  (goal <= 0.6)")
    print(f"  bounds: qgis_process start-up on a 1-feature file {startup:.2f} s; "
          f"JSON parse alone: streamed {streamed:.2f} s, json.load {loaded:.2f} s")


def _check_same_count(ours: Path, gdal: Path) -> None:
    from osgeo import ogr

    counts = []
    for path in (ours, gdal):
        ds = ogr.Open(str(path))
        counts.append(ds.GetLayer(0).GetFeatureCount())
    if counts[0] != counts[1]:
        sys.exit(f"the two outputs differ: {counts[0]} vs {counts[1]} features")


if __name__ == "__main__":
    main()
