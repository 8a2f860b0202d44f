"""Esri field definitions and values <-> QgsField and QGIS attribute values.

Reading keeps the Esri type in ``QgsField.typeName()`` (for example ``esriFieldTypeGUID``), so
a layer read from Esri JSON and written back keeps its exact Esri field types.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

from qgis.core import QgsField
from qgis.PyQt.QtCore import QDate, QDateTime, Qt, QTime, QTimeZone

from .qtypes import FieldType

ESRI_PREFIX = "esriFieldType"

# Esri type -> (QVariant type, default length). Blob and Raster are handled separately.
ESRI_TO_QVARIANT: dict[str, tuple[Any, int]] = {
    "esriFieldTypeOID": (FieldType.LongLong, 0),
    "esriFieldTypeSmallInteger": (FieldType.Int, 0),
    "esriFieldTypeInteger": (FieldType.Int, 0),
    "esriFieldTypeBigInteger": (FieldType.LongLong, 0),
    "esriFieldTypeSingle": (FieldType.Double, 0),
    "esriFieldTypeDouble": (FieldType.Double, 0),
    "esriFieldTypeString": (FieldType.String, 0),
    "esriFieldTypeDate": (FieldType.DateTime, 0),
    "esriFieldTypeDateOnly": (FieldType.Date, 0),
    "esriFieldTypeTimeOnly": (FieldType.Time, 0),
    "esriFieldTypeTimestampOffset": (FieldType.DateTime, 0),
    "esriFieldTypeGUID": (FieldType.String, 38),
    "esriFieldTypeGlobalID": (FieldType.String, 38),
    "esriFieldTypeXML": (FieldType.String, 0),
}
SKIPPED_TYPES = frozenset({"esriFieldTypeBlob", "esriFieldTypeRaster", "esriFieldTypeGeometry"})



# -- reading ----------------------------------------------------------------------------


_UTC = Qt.TimeSpec.UTC  # looked up once: ms_to_datetime runs for every date value


def ms_to_datetime(value: Any) -> Any:
    """Convert Esri date milliseconds (UTC, negative before 1970) to a UTC QDateTime."""
    if type(value) is int:  # the common case first
        return QDateTime.fromMSecsSinceEpoch(value, _UTC)
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        return QDateTime.fromMSecsSinceEpoch(int(value), Qt.TimeSpec.UTC)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return QDateTime.fromMSecsSinceEpoch(int(float(text)), Qt.TimeSpec.UTC)
        dt = QDateTime.fromString(text, Qt.DateFormat.ISODateWithMs)
        if not dt.isValid():
            dt = QDateTime.fromString(text, Qt.DateFormat.ISODate)
        if dt.isValid():
            return dt
    return None


def _to_date(value: Any) -> Any:
    if isinstance(value, str):
        d = QDate.fromString(value.strip()[:10], Qt.DateFormat.ISODate)
        return d if d.isValid() else None
    dt = ms_to_datetime(value)
    return dt.date() if dt is not None else None


def _to_time(value: Any) -> Any:
    if isinstance(value, str):
        text = value.strip()
        t = QTime.fromString(text, Qt.DateFormat.ISODateWithMs)
        if not t.isValid():
            t = QTime.fromString(text, Qt.DateFormat.ISODate)
        return t if t.isValid() else None
    dt = ms_to_datetime(value)
    return dt.time() if dt is not None else None


def _to_text(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def value_converter(esri_type: str) -> Callable[[Any], Any] | None:
    """Return the function turning a wire value into a QGIS value, None when none is needed."""
    if esri_type in ("esriFieldTypeDate", "esriFieldTypeTimestampOffset"):
        return ms_to_datetime
    if esri_type == "esriFieldTypeDateOnly":
        return _to_date
    if esri_type == "esriFieldTypeTimeOnly":
        return _to_time
    if esri_type in ("esriFieldTypeXML",):
        return _to_text
    return None


def field_from_esri(definition: dict) -> tuple[QgsField | None, str | None]:
    """Return (QgsField, warning) for an Esri field definition; field None when skipped."""
    name = str(definition.get("name") or "")
    esri_type = str(definition.get("type") or "esriFieldTypeString")
    if esri_type in SKIPPED_TYPES:
        if esri_type == "esriFieldTypeGeometry":
            return None, None
        return None, (
            f"Field {name!r} ({esri_type}) was skipped: Esri JSON feature sets carry no "
            "binary values."
        )
    warning = None
    spec = ESRI_TO_QVARIANT.get(esri_type)
    if spec is None:
        warning = f"Field {name!r} has the unknown type {esri_type!r}: it is read as text."
        spec = (FieldType.String, 0)
    qtype, default_len = spec
    length = definition.get("length")
    length = int(length) if isinstance(length, (int, float)) and length > 0 else default_len
    if qtype != FieldType.String:
        length = 0
    field = QgsField(name, qtype, esri_type, length, 0)
    alias = definition.get("alias")
    if isinstance(alias, str) and alias and alias != name:
        field.setAlias(alias)
    return field, warning


def infer_field(name: str, kinds: set, big: bool = False) -> QgsField:
    """Return a field for attributes that came without a ``fields`` list, from value types."""
    if kinds and kinds <= {bool}:
        return QgsField(name, FieldType.Bool)
    if kinds and kinds <= {int}:
        return QgsField(name, FieldType.LongLong if big else FieldType.Int)
    if kinds and kinds <= {int, float}:
        return QgsField(name, FieldType.Double)
    return QgsField(name, FieldType.String)


# -- writing ----------------------------------------------------------------------------

_SAFE_NAME = re.compile(r"[^0-9A-Za-z_]")


def safe_field_name(name: str, taken: set[str]) -> str:
    """Return a name Esri accepts (letters, digits, '_', leading letter, <= 64) and unique."""
    base = _SAFE_NAME.sub("_", name) or "field"
    if not base[0].isalpha():
        base = "F" + base
    base = base[:64]
    candidate, n = base, 1
    while candidate.lower() in taken:
        suffix = f"_{n}"
        candidate = base[: 64 - len(suffix)] + suffix
        n += 1
    taken.add(candidate.lower())
    return candidate


def _compatible(esri_type: str, qtype: Any) -> bool:
    spec = ESRI_TO_QVARIANT.get(esri_type)
    return spec is not None and spec[0] == qtype


def _datetime_ms(value: Any) -> Any:
    if isinstance(value, QDateTime):
        return value.toMSecsSinceEpoch() if value.isValid() else None
    return _date_ms(value) if isinstance(value, QDate) else None


_EPOCH_JULIAN_DAY = 2_440_588  # QDate(1970, 1, 1).toJulianDay()


def _date_ms(value: Any) -> Any:
    if isinstance(value, QDate):
        if not value.isValid():
            return None
        return (value.toJulianDay() - _EPOCH_JULIAN_DAY) * 86_400_000  # midnight UTC
    return _datetime_ms(value) if isinstance(value, QDateTime) else None


_PROBE_YEARS = (1, 1800, 1900, 1912, 1920, 1940, 1945, 1970, 1980, 1996, 2000, 2020, 2038,
                2100, 9999)


def local_time_is_utc() -> bool:
    """True when local time is UTC on this machine at all times: the system time zone has no
    daylight time and no offset but 0, and local date-times convert like UTC ones at sample
    dates (January and July of years 1 to 9999), which checks that the C library (what
    ``QDateTime`` uses for local time) agrees. Local date-times then convert to milliseconds
    without a ``mktime`` call each, which costs about 2 us."""
    zone = QTimeZone.systemTimeZone()
    if not zone.isValid() or zone.hasDaylightTime():
        return False
    first = QDateTime(QDate(1, 1, 1), QTime(0, 0), Qt.TimeSpec.UTC)
    last = QDateTime(QDate(9999, 12, 31), QTime(0, 0), Qt.TimeSpec.UTC)
    if any(t.offsetFromUtc != 0 for t in zone.transitions(first, last)):
        return False
    for year in _PROBE_YEARS:
        for month in (1, 7):
            utc = QDateTime(QDate(year, month, 1), QTime(12, 0), Qt.TimeSpec.UTC)
            local = QDateTime(QDate(year, month, 1), QTime(12, 0), Qt.TimeSpec.LocalTime)
            if zone.offsetFromUtc(utc) != 0 or \
                    local.toMSecsSinceEpoch() != utc.toMSecsSinceEpoch():
                return False
    return True


def _iso_date(value: Any) -> Any:
    if isinstance(value, QDate) and value.isValid():
        return value.toString(Qt.DateFormat.ISODate)
    if isinstance(value, QDateTime) and value.isValid():
        return value.date().toString(Qt.DateFormat.ISODate)
    return None


def _iso_time(value: Any) -> Any:
    if isinstance(value, QTime) and value.isValid():
        return value.toString("HH:mm:ss.zzz" if value.msec() else "HH:mm:ss")
    return None


def _iso_offset(value: Any) -> Any:
    if isinstance(value, QDateTime) and value.isValid():
        return value.toString(Qt.DateFormat.ISODateWithMs)
    return None


def _bool_int(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    return value if isinstance(value, int) else None


def _json_text(value: Any) -> Any:
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)


def field_to_esri(
    field: QgsField,
    name: str,
    *,
    big_integer_type: str = "esriFieldTypeBigInteger",
) -> tuple[dict | None, Callable[[Any], Any] | None, str | None]:
    """Return (Esri field definition, value converter or None, warning) for a QgsField."""
    qtype = field.type()
    type_name = field.typeName() or ""
    converter: Callable[[Any], Any] | None = None
    if type_name.startswith(ESRI_PREFIX) and _compatible(type_name, qtype):
        esri_type = type_name
    elif qtype == FieldType.Int:
        esri_type = "esriFieldTypeInteger"
        if type_name.lower() in ("int2", "smallint", "int16", "integer16"):
            esri_type = "esriFieldTypeSmallInteger"
    elif qtype in (FieldType.LongLong, FieldType.UInt, FieldType.ULongLong):
        esri_type = big_integer_type
    elif qtype == FieldType.Double:
        esri_type = "esriFieldTypeDouble"
    elif qtype == FieldType.String:
        esri_type = "esriFieldTypeString"
    elif qtype == FieldType.DateTime:
        esri_type = "esriFieldTypeDate"
    elif qtype == FieldType.Date:
        esri_type = "esriFieldTypeDate"
    elif qtype == FieldType.Time:
        esri_type = "esriFieldTypeString"
        converter = _iso_time
    elif qtype == FieldType.Bool:
        esri_type = "esriFieldTypeSmallInteger"
        converter = _bool_int
    elif qtype == FieldType.ByteArray:
        return None, None, (
            f"Field {field.name()!r} (binary) was left out: Esri JSON feature sets carry no "
            "binary values."
        )
    else:
        esri_type = "esriFieldTypeString"
        converter = _json_text
    if esri_type == "esriFieldTypeDate":
        converter = _date_ms if qtype == FieldType.Date else _datetime_ms
    elif esri_type == "esriFieldTypeDateOnly":
        converter = _iso_date
    elif esri_type == "esriFieldTypeTimeOnly":
        converter = _iso_time
    elif esri_type == "esriFieldTypeTimestampOffset":
        converter = _iso_offset
    definition: dict[str, Any] = {"name": name, "type": esri_type, "alias": field.alias() or
                                  (field.name() if field.name() != name else name)}
    if esri_type in ("esriFieldTypeString", "esriFieldTypeGUID", "esriFieldTypeGlobalID",
                     "esriFieldTypeXML") and field.length() > 0:
        definition["length"] = field.length()
    elif esri_type == "esriFieldTypeDate":
        definition["length"] = 8
    return definition, converter, None
