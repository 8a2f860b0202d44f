"""QGIS 4 (Qt6) readiness lint: finds, and with ``--fix`` rewrites, Qt5-only Python.

    python tools/qgis4_lint.py [--fix] [--skip PATH]... PATH...

Checks, resolving dotted names against the running PyQGIS (so the answer is the library's,
not a hand-kept list):

- an enum value reached through the class that holds its enum, without the enum's own name
  (UTC straight under ``Qt``, where PyQt6 only knows ``Qt.TimeSpec.UTC``). Fixed by
  inserting the enum's name; the enum is looked up on the same class, so the fixed name also
  works on QGIS 3.22 (PyQt5 accepts the scoped form);
- ``QVariant.<Type>`` outside ``esrijson/qtypes.py``, the one module choosing between
  QVariant and QMetaType (reported, not fixed: use that module);
- the underscored spelling of ``exec`` (fixed to ``.exec()``), ``QRegExp`` (reported: use
  QRegularExpression), and a direct ``PyQt5`` import (fixed to ``qgis.PyQt``).

``--fix`` edits the files in place and is idempotent; the exit status is 1 when findings are
left (after fixing, the ones it cannot fix).
"""

from __future__ import annotations

import argparse
import ast
import enum
import importlib
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QVARIANT_HOME = "esrijson/qtypes.py"  # the one place that names QVariant/QMetaType types
_QT_ROOTS = ("qgis", "PyQt5", "PyQt6")
_MISSING = object()


@dataclass(frozen=True)
class Finding:
    """One problem: where, what, and the replacement text span when it can be fixed."""

    path: Path
    line: int
    col: int
    message: str
    fix: tuple[int, int, str] | None = None  # (start offset, end offset, new text)

    def __str__(self) -> str:
        tag = "" if self.fix is None else " [fixable]"
        return f"{self.path}:{self.line}:{self.col + 1}: {self.message}{tag}"


def _import(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except Exception:  # noqa: BLE001 - a module this QGIS lacks resolves to nothing
        return _MISSING


def _is_enum_value(value: Any) -> bool:
    """True for a member of a sip enum (an int subclass) or of a Python enum."""
    if isinstance(value, enum.Enum):
        return True
    kind = type(value)
    return isinstance(value, int) and kind not in (int, bool) and kind.__module__ != "builtins"


def _is_enum_class(kind: type) -> bool:
    """True for a Python enum class or a sip enum class (an int subclass from a Qt module)."""
    if issubclass(kind, enum.Enum):
        return True
    return issubclass(kind, int) and kind not in (int, bool) and kind.__module__ != "builtins"


_ENUM_NAMES: dict[tuple[int, int], str | None] = {}


def _enum_name_on(owner: Any, kind: type) -> str | None:
    """The attribute name under which ``owner`` holds the enum class ``kind``, if any."""
    key = (id(owner), id(kind))
    if key not in _ENUM_NAMES:
        found = None
        short = getattr(kind, "__name__", "")
        if getattr(owner, short, None) is kind:  # the usual case: Qt.TimeSpec
            found = short
        else:  # an alias (QgsWkbTypes.Type is Qgis.WkbType on QGIS >= 3.30)
            for name in sorted(dir(owner)):
                if not name.startswith("_") and getattr(owner, name, None) is kind:
                    found = name
                    break
        _ENUM_NAMES[key] = found
    return _ENUM_NAMES[key]


class _Scanner(ast.NodeVisitor):
    def __init__(self, path: Path, source: str, qvariant_allowed: bool) -> None:
        self.path = path
        self.qvariant_allowed = qvariant_allowed
        self.findings: list[Finding] = []
        self.names: dict[str, str] = {}  # local name -> dotted import path
        starts = [0]
        for line in source.splitlines(keepends=True):
            starts.append(starts[-1] + len(line))
        self._starts = starts
        self._source = source

    def offset(self, line: int, col: int) -> int:
        """Character offset of an AST (line, utf-8 byte column) position."""
        start = self._starts[line - 1]
        text = self._source[start:self._starts[line] if line < len(self._starts) else None]
        return start + len(text.encode("utf-8")[:col].decode("utf-8", errors="ignore"))

    def report(self, node: ast.AST, message: str,
               fix: tuple[int, int, str] | None = None) -> None:
        self.findings.append(Finding(self.path, node.lineno, node.col_offset, message, fix))

    # -- imports ------------------------------------------------------------------------
    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] == "PyQt5":
                self.report(node, f"direct import of {alias.name}: import it from qgis.PyQt")
            if alias.name.split(".")[0] in _QT_ROOTS:
                if alias.asname:
                    self.names[alias.asname] = alias.name
                else:
                    self.names[alias.name.split(".")[0]] = alias.name.split(".")[0]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        if node.level == 0 and module.split(".")[0] in _QT_ROOTS:
            if module.split(".")[0] == "PyQt5":
                start = self.offset(node.lineno, node.col_offset)
                end = self.offset(node.end_lineno or node.lineno, node.end_col_offset or 0)
                text = self._source[start:end]
                new = text.replace(f"from {module}", "from qgis.PyQt" + module[len("PyQt5"):], 1)
                self.report(node, f"direct import from {module}: import it from qgis.PyQt",
                            (start, end, new) if new != text else None)
            for alias in node.names:
                if alias.name != "*":
                    self.names[alias.asname or alias.name] = f"{module}.{alias.name}"
                    if alias.name == "QRegExp":
                        self.report(node, "QRegExp is gone in Qt6: use QRegularExpression")

    # -- names --------------------------------------------------------------------------
    def resolve(self, node: ast.AST) -> Any:
        """The object a Name/Attribute chain rooted in a Qt/QGIS import stands for."""
        if isinstance(node, ast.Name):
            dotted = self.names.get(node.id)
            if dotted is None:
                return _MISSING
            parts = dotted.split(".")
            for cut in range(len(parts), 0, -1):
                obj = _import(".".join(parts[:cut]))
                if obj is not _MISSING:
                    for part in parts[cut:]:
                        obj = getattr(obj, part, _MISSING)
                        if obj is _MISSING:
                            break
                    return obj
            return _MISSING
        if isinstance(node, ast.Attribute):
            owner = self.resolve(node.value)
            return _MISSING if owner is _MISSING else getattr(owner, node.attr, _MISSING)
        return _MISSING

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "QRegExp" and self.names.get("QRegExp", "").endswith(".QRegExp"):
            self.report(node, "QRegExp is gone in Qt6: use QRegularExpression")

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr == "exec_":
            end = self.offset(node.end_lineno or node.lineno, node.end_col_offset or 0)
            self.report(node, "exec_() is gone in Qt6: call exec()", (end - 5, end, "exec"))
        owner = self.resolve(node.value)
        if owner is not _MISSING and isinstance(owner, type):
            if _is_enum_class(owner) and getattr(owner, node.attr, _MISSING) is _MISSING:
                # e.g. a name fixed on QGIS 3.22 that a newer QGIS no longer has
                self.report(node, f"{owner.__qualname__}.{node.attr} does not exist on this QGIS")
            self.check_member(node, owner)
        self.generic_visit(node)

    def check_member(self, node: ast.Attribute, owner: type) -> None:
        value = getattr(owner, node.attr, _MISSING)
        if value is _MISSING or not _is_enum_value(value):
            return
        kind = type(value)
        if owner is kind or (isinstance(owner, type) and issubclass(owner, enum.Enum)):
            return  # already reached through its enum
        owner_name = getattr(owner, "__name__", "")
        if owner_name == "QVariant":
            if not self.qvariant_allowed:
                self.report(node, f"QVariant.{node.attr}: take field types from "
                                  f"{QVARIANT_HOME} (QMetaType where QGIS >= 3.38 takes it)")
            return
        enum_name = _enum_name_on(owner, kind)
        if enum_name is None:
            return  # the value's enum lives elsewhere; nothing on this class to point to
        end = self.offset(node.end_lineno or node.lineno, node.end_col_offset or 0)
        start = end - len(node.attr)
        self.report(node, f"{owner_name}.{node.attr} without its enum: write "
                          f"{owner_name}.{enum_name}.{node.attr}",
                    (start, start, f"{enum_name}."))


def scan(path: Path, source: str | None = None) -> list[Finding]:
    """Return the findings of one Python file."""
    text = path.read_text(encoding="utf-8") if source is None else source
    try:
        rel = path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        rel = path.as_posix()
    scanner = _Scanner(path, text, qvariant_allowed=rel == QVARIANT_HOME)
    scanner.visit(ast.parse(text, filename=str(path)))
    return sorted(scanner.findings, key=lambda f: (f.line, f.col))


def apply_fixes(source: str, findings: list[Finding]) -> str:
    """Return ``source`` with every fixable finding rewritten (edits never overlap)."""
    edits = sorted({f.fix for f in findings if f.fix is not None}, reverse=True)
    for start, end, new in edits:
        source = source[:start] + new + source[end:]
    return source


def python_files(paths: list[Path], skip: list[Path]) -> Iterator[Path]:
    """The .py files under ``paths`` (files or folders), minus ``skip`` and tool caches."""
    skipped = {p.resolve() for p in skip}
    for path in paths:
        files = [path] if path.is_file() else sorted(path.rglob("*.py"))
        for file in files:
            real = file.resolve()
            if real in skipped or any(parent in skipped for parent in real.parents):
                continue
            if any(part.startswith(".") or part == "__pycache__" for part in file.parts[:-1]):
                continue
            yield file


def main(argv: list[str] | None = None) -> int:
    """Lint (or fix) the given paths; print findings; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--fix", action="store_true", help="rewrite what can be rewritten")
    parser.add_argument("--skip", action="append", default=[], type=Path,
                        help="a file or folder to leave out (repeatable)")
    args = parser.parse_args(argv)
    left = fixed = 0
    for file in python_files(args.paths, args.skip):
        findings = scan(file)
        if args.fix and any(f.fix for f in findings):
            source = file.read_text(encoding="utf-8")
            new = apply_fixes(source, findings)
            file.write_text(new, encoding="utf-8")
            fixed += sum(1 for f in findings if f.fix)
            findings = scan(file, new)
        for finding in findings:
            print(finding)
        left += len(findings)
    if args.fix:
        print(f"qgis4_lint: {fixed} fixed, {left} left", file=sys.stderr)
    elif left:
        print(f"qgis4_lint: {left} findings (`make qgis4-fix` rewrites the fixable ones)",
              file=sys.stderr)
    return 1 if left else 0


if __name__ == "__main__":
    sys.exit(main())
