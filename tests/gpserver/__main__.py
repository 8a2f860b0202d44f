"""Command line: ``python -m tests.gpserver [--host H] [--port P] [options]``.

Prints the root URL (``http://127.0.0.1:PORT``) as the first line on stdout, then serves
until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from .faults import KINDS, parse_spec


def build_parser() -> argparse.ArgumentParser:
    """The CLI options."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.gpserver",
        description="Reference ArcGIS REST server (GPServer, FeatureServer, portal) on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (0: any free port)")
    parser.add_argument(
        "--token-lifetime", type=float, default=None, metavar="SECONDS",
        help="lifetime of every issued token, overriding the 'expiration' asked for",
    )
    parser.add_argument(
        "--max-job-seconds", type=float, default=3600.0, metavar="SECONDS",
        help="jobs running longer end esriJobTimedOut (default 3600)",
    )
    parser.add_argument(
        "--fault", action="append", default=[], metavar="SPEC",
        help=(
            "inject a fault: KIND[,count=N|*][,code=N][,seconds=S][,method=M]@PATH_REGEX, "
            f"KIND one of {', '.join(KINDS)}; e.g. 'status5xx,count=2,code=503@/jobs/' "
            "(repeatable)"
        ),
    )
    parser.add_argument("--data-dir", default=None, help="folder for uploads and job files")
    parser.add_argument("--verbose", action="store_true", help="log requests (paths only)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the server until SIGINT/SIGTERM."""
    args = build_parser().parse_args(argv)
    try:
        faults = [parse_spec(s) for s in args.fault]
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from .qgisenv import exit_qgis
    from .server import GPServer

    stop = threading.Event()

    def _stop(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)
    try:
        server = GPServer(
            args.host, args.port,
            token_lifetime=args.token_lifetime,
            max_job_seconds=args.max_job_seconds,
            faults=faults,
            data_dir=args.data_dir,
            verbose=args.verbose,
        ).start()
    except (OSError, ValueError) as exc:
        print(f"error: cannot start the server: {exc}", file=sys.stderr)
        return 1
    print(server.url, flush=True)
    print(
        f"ArcGIS REST: {server.services_url}  portal: {server.portal_url}  "
        "user demo / demo-password  (Ctrl+C to stop)",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            pass
    finally:
        server.stop()
        exit_qgis()
    return 0


if __name__ == "__main__":
    sys.exit(main())
