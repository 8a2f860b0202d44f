"""Print the QGIS matrix summary from build/matrix/NAME/ and exit 1 when anything failed."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "build" / "matrix"


def read(path: Path, default: str = "") -> str:
    """Return a file's stripped text, or ``default`` when it does not exist."""
    return path.read_text(encoding="utf-8").strip() if path.exists() else default


def counts(junit: Path) -> dict[str, int] | None:
    """Return tests/failures/errors/skipped summed over a JUnit report's test suites."""
    if not junit.exists():
        return None
    root = ET.parse(junit).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        for key in total:
            total[key] += int(suite.get(key, 0))
    return total


def summarise(name: str) -> bool:
    """Print one version's line; return whether it is green."""
    out = OUT / name
    versions = read(out / "versions", "? ?").split()
    qgis, python = " ".join(versions[:-1]) or "?", versions[-1]
    times = ", ".join(f"{k} {v} s" for k, v in
                      (ln.split() for ln in read(out / "times").splitlines() if ln))
    c = counts(out / "junit.xml")
    session_ok = read(out / "session.rc") == "0"
    if c is None:
        rc = read(out / "suite.rc")
        suite = f"suite aborted before its report (exit {rc})" if rc else "suite did not run"
        suite_ok = False
    else:
        passed = c["tests"] - c["failures"] - c["errors"] - c["skipped"]
        suite = (f"{passed} passed, {c['failures']} failed, {c['errors']} errors, "
                 f"{c['skipped']} skipped of {c['tests']}")
        suite_ok = read(out / "suite.rc") == "0" and c["failures"] == c["errors"] == 0
    ok = suite_ok and session_ok
    print(f"{'OK  ' if ok else 'FAIL'} {name}: QGIS {qgis}, Python {python}: {suite}; "
          f"user session {'ok' if session_ok else 'FAILED'} ({times})")
    if not suite_ok:
        print(f"     see {out / 'suite.log'}")
    if not session_ok:
        print(f"     see {out / 'session.log'}")
    return ok


def main() -> int:
    """Summarise the chroots named on the command line."""
    print("== QGIS matrix")
    results = [summarise(name) for name in sys.argv[1:]]
    return 0 if results and all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
