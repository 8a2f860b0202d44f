"""Split jobs run at once (ARCGISGP_PARALLEL=N) against the same jobs one after another.

Starts its own reference server and runs, through Processing and the plugin's provider,
Demo/Limited's SlowCopy on N points split into N jobs of one feature (ARCGISGP_SPLIT=1),
each job taking SECONDS on the server:

ours:     ARCGISGP_PARALLEL=N (the N jobs run on the server at the same time)
baseline: ARCGISGP_PARALLEL=1 (the same N jobs, one after another), measured in the same run

Prints the wall-clock time of each (median of ROUNDS) and the ratio ours / baseline; the
ideal is 1/N. Both outputs are checked to hold the N features in input order. Asserts
nothing about time. Usage: .venv/bin/python benchmarks/bench_split_parallel.py
[--jobs 4] [--seconds 2] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    from qgis.core import QgsApplication, QgsFeature, QgsGeometry, QgsPointXY, QgsVectorLayer

    app = QgsApplication([], False)
    app.initQgis()
    sys.path.append("/usr/share/qgis/python/plugins")
    import processing
    from processing.core.Processing import Processing

    Processing.initialize()

    from arcgis_gp.provider.run_options import MAX_PARALLEL
    from tests.gpserver import GPServer
    from tests.qgis.provider.helpers import serving_provider

    jobs = min(args.jobs, MAX_PARALLEL)
    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=Name:string(20)", "points", "memory")
    features = []
    for i in range(jobs):
        feature = QgsFeature(layer.fields())
        feature.setAttributes([f"p{i + 1}"])
        feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(10 + i * 0.1, 50)))
        features.append(feature)
    layer.dataProvider().addFeatures(features)

    with GPServer(port=0) as server, tempfile.TemporaryDirectory() as cache, \
            serving_provider(cache, bench=server.services_url):

        def once(parallel: int) -> float:
            start = time.perf_counter()
            result = processing.run("arcgisgp:bench_demo_limited_slowcopy", {
                "Input_Features": layer, "Seconds": args.seconds, "ARCGISGP_SPLIT": 1,
                "ARCGISGP_PARALLEL": parallel, "Output_Features": "TEMPORARY_OUTPUT"})
            elapsed = time.perf_counter() - start
            names = [f["Name"] for f in result["Output_Features"].getFeatures()]
            if names != [f"p{i + 1}" for i in range(jobs)]:
                raise SystemExit(f"wrong output with PARALLEL={parallel}: {names}")
            return elapsed

        once(jobs)  # warm-up: descriptions, first connection
        ours, baseline = [], []
        for _ in range(args.rounds):
            ours.append(once(jobs))
            baseline.append(once(1))
    t_ours, t_base = statistics.median(ours), statistics.median(baseline)
    print(f"{jobs} jobs of {args.seconds:g} s each (SlowCopy, ARCGISGP_SPLIT=1), "
          f"median of {args.rounds}:")
    print(f"  baseline, ARCGISGP_PARALLEL=1 (one after another): {t_base:6.2f} s")
    print(f"  ours,     ARCGISGP_PARALLEL={jobs} (at once):          {t_ours:6.2f} s")
    print(f"  ratio ours / baseline: {t_ours / t_base:.2f} (ideal {1 / jobs:.2f}); "
          f"ours / one job: {t_ours / args.seconds:.2f}")


if __name__ == "__main__":
    main()
