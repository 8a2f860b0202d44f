"""Encode benchmark: GeoPackage layer -> JSON file, whole processes, run in turn.

ours:     qgis_process.bin run arcgisgp:layertoesrijson (streamed Esri JSON FeatureSet; the
          text is written with the help of a second Python process, esrijson/text_helper.py:
          its own peak, about 19 MB, is not in the peak printed, which is qgis_process's)
baseline: QgsJsonExporter writing GeoJSON of the same layer in a PyQGIS process, feature by
          feature (its fastest use; ``exportFeatures`` on the whole list is printed too)
Data: 100,000 twenty-vertex polygons with text, integer, double and date attributes
(benchmarks/_data.py). Goal: time ratio <= 1.0.
Also printed, to show what bounds the time: qgis_process start-up on a one-feature layer,
the feature iteration alone, ``attributes()`` on every feature, Python's shortest round-trip
formatting (repr) of every coordinate alone, and our geometry text alone (``wkb_text`` on
the WKB):
QgsJsonExporter rounds to 6 decimals in C++, we write exact doubles. These bounds are taken
in a plain PyQGIS process (/usr/bin/python3, statically linked); qgis_process runs Python
through the shared libpython3.11.so, which makes the same Python work about 20% slower there
(measured for our whole export before the grid-integer form was dropped: 2.2-2.3 s in
PyQGIS, 2.6-2.8 s inside qgis_process).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
# arcgis_gp is importable through build/link (made by `make setup`)
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "build" / "link"))

import _data  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "5"))

BASELINE = r'''
import sys
from qgis.core import QgsApplication, QgsJsonExporter, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
layer = QgsVectorLayer(sys.argv[1] + "|layername=polygons", "polygons", "ogr")
assert layer.isValid()
exporter = QgsJsonExporter(layer)
with open(sys.argv[2], "w", encoding="utf-8") as out:
    if sys.argv[3] == "bulk":
        out.write(exporter.exportFeatures(list(layer.getFeatures())))
    else:
        out.write('{"type":"FeatureCollection","features":[')
        for n, feature in enumerate(layer.getFeatures()):
            if n:
                out.write(",")
            out.write(exporter.exportFeature(feature))
        out.write("]}")
del exporter, layer
app.exitQgis()
'''


def _bounds(gpkg: Path) -> tuple[float, float, float, float]:
    """In this process: seconds to iterate the features, to get every feature's attributes,
    to repr every coordinate, and to write every geometry's text from its WKB (ours)."""
    from array import array

    from qgis.core import QgsApplication, QgsVectorLayer

    from arcgis_gp.esrijson.encode import GeometryEncoder

    app = QgsApplication([], False)
    app.initQgis()
    layer = QgsVectorLayer(f"{gpkg}|layername=polygons", "p", "ogr")
    start = time.perf_counter()
    for _feature in layer.getFeatures():
        pass
    iterate = time.perf_counter() - start
    start = time.perf_counter()
    for feature in layer.getFeatures():
        feature.attributes()
    attributes = time.perf_counter() - start - iterate
    flats = []
    wkbs = []
    for feature in layer.getFeatures():
        flat = array("d")
        wkb = feature.geometry().forceRHR().asWkb().data()
        flat.frombytes(wkb[13:])  # one ring: header 9 bytes + point count 4 bytes
        flats.append(flat)
        wkbs.append(wkb)
    start = time.perf_counter()
    for flat in flats:
        ",".join(map(repr, flat))
    formatting = time.perf_counter() - start
    wkb_text = GeometryEncoder(layer.wkbType()).wkb_text
    start = time.perf_counter()
    for wkb in wkbs:
        wkb_text(wkb)
    geometry = time.perf_counter() - start
    del layer
    app.exitQgis()
    return iterate, attributes, formatting, geometry


def main() -> None:
    """Run the benchmark and print the ratios."""
    _json, gpkg = _data.ensure_data()
    work = _data.BENCH_DIR
    env = _data.plugin_env(work / "profile_encode")
    ours_out = work / "encode_ours.json"
    base_out = work / "encode_baseline.geojson"
    ours_cmd = [_data.QGIS_PROCESS, "run", "arcgisgp:layertoesrijson", "--",
                f"INPUT={gpkg}", f"OUTPUT={ours_out}"]
    base_cmd = [sys.executable, "-c", BASELINE, str(gpkg), str(base_out), "each"]
    ours_t, ours_m, base_t, base_m = [], [], [], []
    for round_no in range(ROUNDS):
        pairs = [(ours_cmd, ours_t, ours_m), (base_cmd, base_t, base_m)]
        if round_no % 2:
            pairs.reverse()
        for cmd, times, mems in pairs:
            seconds, rss = _data.measure(cmd, env)
            times.append(seconds)
            mems.append(rss)
    bulk_t, bulk_m = _data.measure([sys.executable, "-c", BASELINE, str(gpkg),
                                    str(work / "encode_bulk.geojson"), "bulk"], env)

    tiny = work / "tiny.geojson"
    tiny.write_text('{"type":"FeatureCollection","features":[{"type":"Feature",'
                    '"properties":{},"geometry":{"type":"Point","coordinates":[1,2]}}]}')
    startup = _data.median([_data.measure(
        [_data.QGIS_PROCESS, "run", "arcgisgp:layertoesrijson", "--", f"INPUT={tiny}",
         f"OUTPUT={work / 'tiny_out.json'}"], env)[0] for _ in range(2)])
    iterate, attributes, formatting, geometry = _bounds(gpkg)

    t_ours, t_base = _data.median(ours_t), _data.median(base_t)
    ratio, low, high = _data.paired(ours_t, base_t)
    m_ours, m_base = _data.median(ours_m), _data.median(base_m)
    print(f"encode {_data.FEATURE_COUNT:,} polygons from GeoPackage, median of {ROUNDS} rounds "
          "run in turn")
    print(f"  ours      qgis_process arcgisgp:layertoesrijson: {t_ours:6.2f} s  "
          f"{m_ours / 1024:7.0f} MiB peak  {ours_out.stat().st_size / 1e6:5.0f} MB")
    print(f"  baseline  QgsJsonExporter per feature (PyQGIS):  {t_base:6.2f} s  "
          f"{m_base / 1024:7.0f} MiB peak  {base_out.stat().st_size / 1e6:5.0f} MB")
    print(f"  time ratio   {ratio:.2f}  (goal <= 1.0; median of the {ROUNDS} rounds' ratios, "
          f"{low:.2f}-{high:.2f}; ratio of the medians {t_ours / t_base:.2f})")
    print(f"  against exportFeatures() on the whole list ({bulk_t:.2f} s, "
          f"{bulk_m / 1024:.0f} MiB): {t_ours / bulk_t:.2f}")
    print(f"  memory ratio {m_ours / m_base:.2f}")
    print(f"  bounds: qgis_process start-up on a 1-feature layer {startup:.2f} s; iterating "
          f"the features {iterate:.2f} s; attributes() {attributes:.2f} s; repr of every "
          f"coordinate alone {formatting:.2f} s; our geometry text alone {geometry:.2f} s "
          "(in PyQGIS; Python runs ~20% slower in qgis_process)")


if __name__ == "__main__":
    main()
