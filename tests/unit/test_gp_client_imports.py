"""gp_client's modules import each other in one direction only: the import graph has no cycle.

Every ``from .x import`` counts, at module level, inside functions and under
TYPE_CHECKING alike: a cycle hidden in a function or a type hint is still two modules
that cannot be understood (or loaded) one before the other.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter

from tests.paths import REPO_ROOT

PACKAGE = REPO_ROOT / "gp_client"


def _import_graph() -> dict[str, set[str]]:
    """Module name -> the gp_client modules it imports."""
    names = {p.stem for p in PACKAGE.glob("*.py")}
    graph: dict[str, set[str]] = {}
    for path in PACKAGE.glob("*.py"):
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    deps.add(node.module.split(".")[0])
                else:  # from . import x, y
                    deps.update(a.name for a in node.names if a.name in names)
        deps.discard(path.stem)
        graph[path.stem] = deps & names
    return graph


def test_import_graph_is_acyclic() -> None:
    """A topological order of the modules exists (graphlib names the cycle if not)."""
    graph = _import_graph()
    assert {"auth", "client", "urls", "jobs", "model", "discovery"} <= set(graph)
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as exc:
        raise AssertionError(f"gp_client has an import cycle: {exc.args[1]}") from None
    assert order[-1] == "__init__"
    # the strategies never reach for the client: they get tokens through a TokenSource
    assert "client" not in graph["auth"]
    for helper_user in ("model", "jobs", "discovery"):
        assert "urls" in graph[helper_user]


def test_each_module_imports_alone_in_dependency_order() -> None:
    """Each module, first in a fresh interpreter, imports; so does the whole order."""
    order = [m for m in TopologicalSorter(_import_graph()).static_order() if m != "__init__"]
    # importing arcgis_gp.gp_client.x runs the package's __init__ first, which imports the
    # rest; load the files as a bare package instead so that x really comes first.
    code = (
        "import importlib, sys, types\n"
        f"pkg = types.ModuleType('gpc'); pkg.__path__ = [{str(PACKAGE)!r}]\n"
        "sys.modules['gpc'] = pkg\n"
        "for name in sys.argv[1:]:\n"
        "    importlib.import_module('gpc.' + name)\n"
    )
    for name in order:
        subprocess.run([sys.executable, "-c", code, name], check=True, timeout=60)
    done = subprocess.run([sys.executable, "-c", code + "print(len(sys.argv) - 1)", *order],
                          check=True, timeout=60, capture_output=True, text=True)
    assert done.stdout.strip() == str(len(order))
