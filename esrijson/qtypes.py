"""Field value types for QgsField, as the running QGIS takes them: the one module naming them.

QGIS 3.38 moved QgsField from QVariant.Type to QMetaType.Type (the QVariant.Type constructor
is deprecated and warns, and QgsField.type() returns a QMetaType.Type); QGIS 4 (Qt6) keeps
QVariant.Type only as a patched-in alias. Everything else uses ``FieldType.<Name>``.
"""

from __future__ import annotations

from typing import Any

from qgis.core import Qgis
from qgis.PyQt.QtCore import QMetaType, QVariant

USES_QMETATYPE = Qgis.QGIS_VERSION_INT >= 33800


def _pick(meta: str, variant: str) -> Any:
    return getattr(QMetaType.Type, meta) if USES_QMETATYPE else getattr(QVariant.Type, variant)


class FieldType:
    """The type constants a QgsField takes (and its ``type()`` returns) on this QGIS."""

    Bool = _pick("Bool", "Bool")
    Int = _pick("Int", "Int")
    UInt = _pick("UInt", "UInt")
    LongLong = _pick("LongLong", "LongLong")
    ULongLong = _pick("ULongLong", "ULongLong")
    Double = _pick("Double", "Double")
    String = _pick("QString", "String")
    Date = _pick("QDate", "Date")
    Time = _pick("QTime", "Time")
    DateTime = _pick("QDateTime", "DateTime")
    ByteArray = _pick("QByteArray", "ByteArray")
