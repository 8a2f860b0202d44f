"""Adaptive polling (gp_client) against the seeds' fixed 1-second polling loop.

Starts its own reference server, then measures on it, in the same run:

1. the time from the call to the result for Sleep jobs of 0.5 s and 3 s, minus the job's own
   time (median of several runs), for gp_client (submit + wait + results) and for a fixed
   1-second loop written the way the seeds write it (requests + time.sleep(1)); then the same
   for lengths spread over a second (0.5-1.3 s, 3-3.8 s), since a fixed loop's delay depends
   on where the job's end falls between two of its polls;
2. the number of status requests each makes while a 2-minute job runs (both jobs run side
   by side while part 1 is measured, so the whole benchmark takes about two minutes).

Prints ratios; asserts nothing. Usage: .venv/bin/python benchmarks/bench_polling.py
[--long-seconds 120] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from arcgis_gp.gp_client import GPClient, submit  # noqa: E402
from arcgis_gp.gp_client.transport import RequestsTransport, Response  # noqa: E402

RUNNING = ("esriJobNew", "esriJobSubmitted", "esriJobWaiting", "esriJobExecuting",
           "esriJobCancelling")


class CountingTransport(RequestsTransport):
    """The requests transport, noting when each job status request was sent."""

    def __init__(self) -> None:
        super().__init__()
        self.status_times: list[float] = []

    def send(self, method: str, url: str, **kwargs: Any) -> Response:  # type: ignore[override]
        """Send, and note status requests (GET .../jobs/<id>)."""
        if method == "GET" and "/jobs/" in url and "/results/" not in url:
            self.status_times.append(time.monotonic())
        return super().send(method, url, **kwargs)


def fixed_loop(task_url: str, seconds: float, counter: list[float] | None = None) -> dict:
    """The seeds' way: submitJob, then check the status every second, then fetch results."""
    session = requests.Session()
    submit_json = session.post(task_url + "/submitJob",
                               data={"Seconds": seconds, "f": "json"}).json()
    job_url = task_url + "/jobs/" + submit_json["jobId"]
    status = submit_json["jobStatus"]
    while status in RUNNING:
        time.sleep(1)
        if counter is not None:
            counter.append(time.monotonic())
        status = session.get(job_url, params={"f": "json"}).json()["jobStatus"]
    if status != "esriJobSucceeded":
        raise RuntimeError(f"fixed loop: job ended {status}")
    job_json = session.get(job_url, params={"f": "json"}).json()
    out = {}
    for name, ref in job_json["results"].items():
        out[name] = session.get(job_url + "/" + ref["paramUrl"],
                                params={"f": "json"}).json()["value"]
    return out


def with_gp_client(client: GPClient, task_url: str, seconds: float) -> dict:
    """gp_client: submit, wait (adaptive polling), results."""
    job = submit(client, task_url, {"Seconds": seconds})
    job.wait(deadline=seconds + 600)
    return job.results()


def overhead(fn: Any, lengths: list[float]) -> float:
    """Median of (call-to-result time - job time) over jobs of the given lengths."""
    values = []
    for seconds in lengths:
        t0 = time.monotonic()
        result = fn(seconds)
        elapsed = time.monotonic() - t0
        assert result["Slept"] == seconds, result
        values.append(elapsed - seconds)
    return statistics.median(values)


def main() -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--long-seconds", type=float, default=120.0)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    from tests.gpserver import GPServer

    with GPServer(port=0) as srv:
        task_url = srv.task_url("Demo/Analysis", "Sleep")
        client = GPClient()
        with_gp_client(client, task_url, 0.0)  # warm up connections and the server
        fixed_loop(task_url, 0.0)

        # part 2 runs in the background while part 1 is measured
        long_s = args.long_seconds
        counting = CountingTransport()
        fixed_times: list[float] = []
        long_results: dict[str, Any] = {}

        def run_long_gp() -> None:
            long_results["gp"] = with_gp_client(GPClient(transport=counting), task_url, long_s)

        def run_long_fixed() -> None:
            long_results["fixed"] = fixed_loop(task_url, long_s, fixed_times)

        threads = [threading.Thread(target=run_long_gp), threading.Thread(target=run_long_fixed)]
        long_start = time.monotonic()
        for t in threads:
            t.start()

        # exact lengths, as asked; then lengths spread over one second, because a fixed
        # 1-s loop is lucky or unlucky depending on where the job's end falls between polls
        plans = [
            ("0.5 s", [0.5] * args.runs),
            ("3 s", [3.0] * max(3, args.runs - 2)),
            ("0.5-1.3 s", [0.5 + 0.2 * k for k in range(5)]),
            ("3-3.8 s", [3.0 + 0.2 * k for k in range(5)]),
        ]
        rows = []
        for label, lengths in plans:
            gp = overhead(lambda s: with_gp_client(client, task_url, s), lengths)
            fixed = overhead(lambda s: fixed_loop(task_url, s), lengths)
            rows.append((label, len(lengths), gp, fixed))

        for t in threads:
            t.join()

    print("Time from call to result beyond the job's own time (median; same server, same run)")
    for label, runs, gp, fixed in rows:
        print(f"  Sleep {label} x{runs}: gp_client {gp:.3f} s, fixed 1-s loop {fixed:.3f} s"
              f"  -> fixed/gp_client = {fixed / gp:.1f}x")
    gp_times = [t - long_start for t in counting.status_times]
    fixed_n = len(fixed_times)
    gp_n = len(gp_times)
    first_minute = sum(1 for t in gp_times if t <= 60)
    later = [b - a for a, b in zip(gp_times, gp_times[1:]) if a >= 60]
    print(f"Status requests during a {long_s:g} s job: gp_client {gp_n}, fixed 1-s loop "
          f"{fixed_n}  -> gp_client/fixed = {gp_n / fixed_n:.2f}")
    if later:
        print(f"  gp_client: {first_minute} requests in the first minute; after it, the "
              f"shortest gap between two requests was {min(later):.2f} s")
    print(json.dumps({"overhead_s": {label: {"gp_client": round(g, 4), "fixed_1s": round(f, 4)}
                                     for label, _, g, f in rows},
                      "status_requests": {"gp_client": gp_n, "fixed_1s": fixed_n,
                                          "job_seconds": long_s}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
