"""Where things are, defined once for every test, benchmark and tool."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = REPO_ROOT.parent / "shared"
RECORDED = SHARED / "fixtures" / "recorded"
REAL_TASKS = SHARED / "fixtures" / "real-tasks"
