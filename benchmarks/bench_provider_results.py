"""Peak memory of a big remote CopyFeatures through the provider: now against a named baseline.

ours:     the provider of this tree (input uploaded as a file above 5 MiB of Esri JSON, the
          result streamed to a file and read feature by feature)
baseline: the provider at commit BASELINE (the input inline in the submitJob body, the result
          fetched with get_json into memory, then decoded from the dict)
Two partial variants of ours show what each half gives: "input inline" (thresholds raised
so that only the result is streamed) and "result read whole" (only the input uploaded).
Both run `processing.run("arcgisgp:..._copyfeatures")` on the same memory layer of POINTS
points (text, integer, double and date attributes) against the reference server of this
tree, which runs in its own process (its memory is not counted), writing a GeoPackage.
Each measurement is a fresh Python process: the peak resident set size during the run
(VmHWM after /proc/self/clear_refs, minus VmRSS before; ru_maxrss where that is not
possible) and, in separate processes, the peak of Python's allocations (tracemalloc).
Prints the figures and the ratios ours / baseline. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "build" / "bench" / "provider_results"
BASELINE = "7463375"  # the provider before results were streamed and big inputs uploaded
POINTS = int(os.environ.get("BENCH_POINTS", "50000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "1"))
VARIANTS = {  # name: (tree, variant)
    "baseline": ("baseline", "as is"),
    "ours": ("ours", "as is"),
    "ours, input inline": ("ours", "inline_input"),
    "ours, result read whole": ("ours", "whole_result"),
}


# ------------------------------------------------------------------------- child process
def _status_kb(key: str) -> int:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _reset_peak() -> bool:
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as fh:
            fh.write("5")  # resets VmHWM to the current RSS (Linux 4.0 and later)
        return True
    except OSError:
        return False


def child(plugin_parent: str, server_url: str, points: int, mode: str, out: str,
          variant: str) -> None:
    """Run one CopyFeatures through the provider found in plugin_parent; print a JSON line."""
    sys.path.insert(0, plugin_parent)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.core import (
        QgsApplication,
        QgsFeature,
        QgsGeometry,
        QgsPointXY,
        QgsProcessingFeedback,
        QgsVectorLayer,
    )

    class _Lines(QgsProcessingFeedback):
        def __init__(self) -> None:
            super().__init__()
            self.lines: list[str] = []

        def pushInfo(self, info: str) -> None:
            self.lines.append(info)
            super().pushInfo(info)
    from qgis.PyQt.QtCore import QDate, QDateTime, Qt, QTime

    app = QgsApplication([], False)
    app.initQgis()
    sys.path.append("/usr/share/qgis/python/plugins")
    import processing
    from processing.core.Processing import Processing

    Processing.initialize()
    import arcgis_gp
    from arcgis_gp.provider.cache import DescriptionCache
    from arcgis_gp.provider.connections import ENV_VAR, ConnectionStore
    from arcgis_gp.provider.provider import GpProvider

    assert Path(os.path.abspath(arcgis_gp.__file__)).parent.parent == Path(plugin_parent)
    if variant != "as is":
        from arcgis_gp.provider.parameters import features

        if variant == "inline_input":
            features.UPLOAD_MIN_BYTES = 1 << 60
        elif variant == "whole_result":
            features.STREAM_RESULT_MIN_BYTES = 1 << 60
    env = {ENV_VAR: json.dumps([{"name": "bench", "url": server_url + "/arcgis/rest/services"}])}
    store = ConnectionStore(f"arcgis_gp_bench/{os.getpid()}/connections", environ=env)
    cache = Path(out).with_suffix(".cache")
    provider = GpProvider(store, DescriptionCache(cache), fetch_missing=True)
    QgsApplication.processingRegistry().addProvider(provider)

    layer = QgsVectorLayer("Point?crs=EPSG:4326&field=Name:string(80)&field=Rank:integer"
                           "&field=Value:double&field=Seen:datetime", "points", "memory")
    day = QDateTime(QDate(2021, 3, 4), QTime(5, 6, 7), Qt.TimeSpec.UTC)
    features = []
    for i in range(points):
        feature = QgsFeature(layer.fields())
        feature.setAttributes([f"point {i} " + "x" * 60, i, i / 7.0, day.addSecs(i * 61)])
        feature.setGeometry(QgsGeometry.fromPointXY(
            QgsPointXY(-3.7 + (i % 250) * 0.0013, 40.4 + (i // 250) * 0.0011)))
        features.append(feature)
    layer.dataProvider().addFeatures(features)
    del features
    if os.path.exists(out):
        os.remove(out)
    alg = "arcgisgp:bench_demo_analysis_copyfeatures"
    params = {"Input_Features": layer, "Output_Features": out}

    if mode == "tracemalloc":
        import tracemalloc

        tracemalloc.start()
    rss_before = _status_kb("VmRSS")
    exact = _reset_peak()
    start = time.perf_counter()
    feedback = _Lines()
    result = processing.run(alg, params, feedback=feedback)
    seconds = time.perf_counter() - start
    if mode == "tracemalloc":
        import tracemalloc

        peak = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        report = {"py_peak_mb": peak}
    else:
        if exact:
            grown = (_status_kb("VmHWM") - rss_before) / 1024
        else:
            import resource

            grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
        report = {"rss_growth_mb": grown, "seconds": seconds, "exact_peak": exact}
    copied = QgsVectorLayer(result["Output_Features"], "copy", "ogr")
    report["features"] = copied.featureCount()
    report["notes"] = [line for line in feedback.lines if "MB of" in line]
    print("RESULT " + json.dumps(report), flush=True)
    del copied, layer
    QgsApplication.processingRegistry().removeProvider(provider)
    app.exitQgis()


# ------------------------------------------------------------------------- parent process
def _baseline_tree() -> Path:
    """Extract the plugin at BASELINE as <dir>/arcgis_gp (git archive; the repo is not touched)."""
    parent = BUILD / f"baseline_{BASELINE}"
    target = parent / "arcgis_gp"
    if not (target / "provider" / "algorithm.py").is_file():
        data = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", BASELINE],
                              check=True, capture_output=True).stdout
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            members = [m for m in tar.getmembers()
                       if not m.name.startswith(("tests/", "benchmarks/", ".ci/"))]
            tar.extractall(target, members=members)
    return parent


def _ours_tree() -> Path:
    """The folder holding this tree as arcgis_gp (build/link, made by `make setup`)."""
    link = REPO / "build" / "link"
    if not (link / "arcgis_gp").exists():
        link.mkdir(parents=True, exist_ok=True)
        (link / "arcgis_gp").symlink_to(REPO)
    return link


def _start_server() -> tuple[subprocess.Popen, str]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, "-m", "tests.gpserver", "--port", "0"], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env)
    url = (proc.stdout.readline() if proc.stdout else "").strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit(f"the reference server did not start (said {url!r})")
    return proc, url


def _measure(parent: Path, url: str, mode: str, variant: str) -> dict:
    out = BUILD / f"copy_{os.getpid()}_{mode}_{parent.name}.gpkg"
    cmd = [sys.executable, __file__, "--child", str(parent), url, str(POINTS), mode, str(out),
           variant]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(cmd, cwd=BUILD, env=env, capture_output=True, text=True, timeout=900)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"{parent.name} {variant} {mode} failed ({done.returncode}):\n"
                         f"{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    for suffix in ("", "-wal", "-shm"):
        Path(str(out) + suffix).unlink(missing_ok=True)
    return json.loads(lines[-1][len("RESULT "):])


def main() -> None:
    """Run baseline and ours in turn, print peak memory and the ratios."""
    BUILD.mkdir(parents=True, exist_ok=True)
    trees = {"baseline": _baseline_tree(), "ours": _ours_tree()}
    server, url = _start_server()
    try:
        figures: dict[str, dict[str, list[float]]] = {k: {} for k in VARIANTS}
        notes: dict[str, None] = {}
        for round_no in range(ROUNDS):
            order = list(VARIANTS) if round_no % 2 == 0 else list(reversed(VARIANTS))
            for mode in ("rss", "tracemalloc"):
                for name in order:
                    tree, variant = VARIANTS[name]
                    got = _measure(trees[tree], url, mode, variant)
                    if got["features"] != POINTS:
                        raise SystemExit(f"{name} copied {got['features']} of {POINTS} points")
                    notes.update({f"{name}: {line}": None for line in got["notes"]})
                    for key, value in got.items():
                        if isinstance(value, (int, float)) and not isinstance(value, bool):
                            figures[name].setdefault(key, []).append(float(value))
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"Remote CopyFeatures (Demo/Analysis, async) of {POINTS} points through "
          f"processing.run, {ROUNDS} rounds; baseline = commit {BASELINE}")

    for note in notes:
        print(f"  ({note})")

    def best(name: str, key: str) -> float:
        return min(figures[name][key])

    rows = [("peak RSS growth during the run (MB)", "rss_growth_mb"),
            ("peak Python allocations, tracemalloc (MB)", "py_peak_mb"),
            ("run time without tracemalloc (s)", "seconds")]
    for label, key in rows:
        print(f"  {label}")
        base = best("baseline", key)
        for name in VARIANTS:
            value = best(name, key)
            ratio = "" if name == "baseline" else f"   ratio to baseline {value / base:5.2f}"
            print(f"    {name:26s} {value:8.1f}{ratio}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=6, metavar=("PLUGIN_PARENT", "URL", "POINTS", "MODE",
                                                     "OUT", "VARIANT"))
    args = parser.parse_args()
    if args.child:
        parent_dir, server_url, n, how, output, which = args.child
        child(parent_dir, server_url, int(n), how, output, which)
    else:
        main()
