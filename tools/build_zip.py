"""Build the installable plugin zip: one ``arcgis_gp/`` folder holding only what ships.

Icons ship as files and are loaded by path (QGIS 4 has no compiled Qt resources, so no
``resources_rc.py`` and no pyrcc5).
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLUGIN_NAME = "arcgis_gp"

# Top-level entries of the repository that never ship.
EXCLUDED_TOP = {
    ".git", ".ci", ".venv", "build", "dist", "tests", "benchmarks", "tools",
    "Makefile", "requirements-dev.txt", "pyproject.toml", ".gitignore",
    ".pytest_cache", ".ruff_cache", ".hypothesis",
}
EXCLUDED_PATTERNS = ("*.pyc", "__pycache__", "*.zip", ".*")


def shipped_files(root: Path = ROOT) -> list[Path]:
    """Return the repository files that belong in the plugin, relative to ``root``."""
    def excluded(name: str) -> bool:
        return any(fnmatch.fnmatch(name, pat) for pat in EXCLUDED_PATTERNS)

    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath).relative_to(root)
        # Prune in place so that .venv, build and .git are never walked.
        dirnames[:] = sorted(
            d for d in dirnames
            if not excluded(d) and not (here == Path(".") and d in EXCLUDED_TOP)
        )
        for name in sorted(filenames):
            if excluded(name) or (here == Path(".") and name in EXCLUDED_TOP):
                continue
            files.append(here / name)
    return files


def build(output: Path) -> Path:
    """Write the plugin zip to ``output`` and return its path."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel in shipped_files():
            zf.write(ROOT / rel, f"{PLUGIN_NAME}/{rel.as_posix()}")
    return output


def main() -> None:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", type=Path, default=ROOT / "dist" / f"{PLUGIN_NAME}.zip")
    args = parser.parse_args()
    path = build(args.output)
    with zipfile.ZipFile(path) as zf:
        count = len(zf.namelist())
    print(f"wrote {path} ({count} files)")


if __name__ == "__main__":
    main()
