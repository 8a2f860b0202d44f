"""GP data type values: Python -> wire (``encode``, ``to_form``) and wire -> Python (``decode``).

The wire forms follow Esri's "Geoprocessing service data types" page. Python forms:

- GPString, GPBoolean, GPLong, GPDouble: str, bool, int, float;
- GPDate: a timezone-aware ``datetime`` in UTC (naive datetimes are taken as UTC);
  on the wire, milliseconds since 1970-01-01 UTC;
- GPLinearUnit / GPArealUnit: dicts ``{"distance"|"area", "units"}``; ``encode`` also takes
  :class:`LinearUnit` / :class:`ArealUnit`, ``(number, "units")`` or ``"5 Meters"``;
- GPDataFile, GPRasterData, GPRasterDataLayer: ``{"url": ...}`` or ``{"itemID": ...}``
  (a URL string or :class:`ItemID` is accepted; local files must be uploaded first);
- GPFeatureRecordSetLayer, GPRecordSet: plain dicts (FeatureSet, FeatureCollection,
  ``{"url"}``, ``{"itemID"}``);
- GPSpatialReference: ``{"wkid": n}`` or ``{"wkt": ...}`` (also from 4326 or "EPSG:4326");
- GPExtent / GPEnvelope: ``{"xmin", "ymin", "xmax", "ymax", "spatialReference"?}``
  (also from a 4-sequence);
- Field: a field dict (also from a field name);
- GPValueTable: a list of rows; GPComposite: the member's value;
- GPMultiValue:<T>: a list of T values;
- any other type: passed through as JSON, unchanged.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import re
from dataclasses import dataclass
from typing import Any

from .errors import BadInputError

EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)

# The Esri unit names, one table for the whole plugin. The order is the order QGIS offers
# them in (saved models and scripts store the index): never reorder, only append.
LINEAR_UNITS = (
    "esriMeters", "esriKilometers", "esriFeet", "esriMiles", "esriNauticalMiles", "esriYards",
    "esriInches", "esriCentimeters", "esriMillimeters", "esriDecimeters", "esriDecimalDegrees",
    "esriPoints", "esriUnknownUnits", "esriIntInches", "esriIntFeet", "esriIntYards",
    "esriIntMiles", "esriIntNauticalMiles",
)
AREAL_UNITS = (
    "esriSquareMeters", "esriSquareKilometers", "esriHectares", "esriAres", "esriAcres",
    "esriSquareFeet", "esriSquareMiles", "esriSquareYards", "esriSquareInches",
    "esriSquareCentimeters", "esriSquareMillimeters", "esriSquareDecimeters",
    "esriUnknownAreaUnits",
)
FILE_TYPES = frozenset({"GPDataFile", "GPRasterData", "GPRasterDataLayer"})
MULTI_PREFIX = "GPMultiValue:"


@dataclass(frozen=True)
class LinearUnit:
    """A distance with its esri unit, e.g. ``LinearUnit(5, "esriMeters")``."""

    distance: float
    units: str = "esriMeters"

    def to_json(self) -> dict:
        """The wire form."""
        return {"distance": self.distance, "units": _unit(self.units, LINEAR_UNITS)}


@dataclass(frozen=True)
class ArealUnit:
    """An area with its esri unit, e.g. ``ArealUnit(2, "esriSquareKilometers")``."""

    area: float
    units: str = "esriSquareMeters"

    def to_json(self) -> dict:
        """The wire form."""
        return {"area": self.area, "units": _unit(self.units, AREAL_UNITS)}


@dataclass(frozen=True)
class ItemID:
    """An item uploaded to the server (``uploads/upload``), by its itemID."""

    item_id: str

    def to_json(self) -> dict:
        """The wire form."""
        return {"itemID": self.item_id}


def member_type(data_type: str) -> str | None:
    """The member type of ``GPMultiValue:<T>`` (None for other types)."""
    if data_type and data_type.startswith(MULTI_PREFIX):
        return data_type[len(MULTI_PREFIX):]
    return None


def is_file_type(data_type: str) -> bool:
    """True for types whose value may be an uploaded file (GPDataFile, rasters)."""
    return data_type in FILE_TYPES


# -- encode --------------------------------------------------------------------------------


def encode(data_type: str, value: Any) -> Any:
    """Return the JSON-able wire value of ``value`` for a parameter of ``data_type``."""
    if value is None:
        return None
    member = member_type(data_type or "")
    if member is not None:
        if isinstance(value, (list, tuple)):
            return [encode(member, v) for v in value]
        return [encode(member, value)]
    handler = _ENCODERS.get(data_type)
    if handler is None:
        return _passthrough(data_type, value)
    return handler(data_type, value)


def to_form(value: Any) -> str:
    """Return the form-field text of an encoded value (JSON for objects and arrays)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        _finite(value)
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, _dt.datetime):
        return str(datetime_to_ms(value))
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False,
                          default=_json_default)
    except ValueError as exc:
        raise BadInputError(f"Cannot send a value with NaN or infinity: {exc}") from None
    except TypeError as exc:
        raise BadInputError(f"Cannot send {type(value).__name__} as JSON: {exc}") from None


def _bad(data_type: str, value: Any, hint: str) -> BadInputError:
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    return BadInputError(f"{shown} is not a valid {data_type} value: {hint}")


def _enc_string(dt: str, v: Any) -> Any:
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, (dict, list)):
        return v  # some services take JSON text in a GPString
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    return str(v)


def _enc_bool(dt: str, v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, int) and v in (0, 1):
        return bool(v)
    if isinstance(v, str) and v.strip().lower() in ("true", "false", "yes", "no", "1", "0"):
        return v.strip().lower() in ("true", "yes", "1")
    raise _bad(dt, v, "give True or False")


def _enc_long(dt: str, v: Any) -> int:
    if isinstance(v, bool):
        raise _bad(dt, v, "give an integer, not a boolean")
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str):
        try:
            return int(v.strip())
        except ValueError:
            pass
    raise _bad(dt, v, "give an integer")


def _enc_double(dt: str, v: Any) -> float:
    if isinstance(v, bool):
        raise _bad(dt, v, "give a number, not a boolean")
    if isinstance(v, (int, float)):
        f = float(v)
    elif isinstance(v, str):
        try:
            f = float(v.strip())
        except ValueError:
            raise _bad(dt, v, "give a number") from None
    else:
        raise _bad(dt, v, "give a number")
    if not math.isfinite(f):
        raise _bad(dt, v, "NaN and infinity cannot be sent")
    return f


def datetime_to_ms(value: _dt.datetime | _dt.date) -> int:
    """Milliseconds since 1970-01-01 UTC (naive datetimes are taken as UTC)."""
    if not isinstance(value, _dt.datetime):
        value = _dt.datetime(value.year, value.month, value.day)
    if value.tzinfo is None:
        value = value.replace(tzinfo=_dt.timezone.utc)
    delta = value - EPOCH
    return (delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000


def ms_to_datetime(ms: float) -> _dt.datetime:
    """A UTC datetime from milliseconds since 1970-01-01 UTC."""
    return EPOCH + _dt.timedelta(milliseconds=ms)


def _enc_date(dt: str, v: Any) -> int:
    if isinstance(v, bool):
        raise _bad(dt, v, "give a datetime or milliseconds since 1970")
    if isinstance(v, (_dt.datetime, _dt.date)):
        return datetime_to_ms(v)
    if isinstance(v, (int, float)):
        _finite(float(v))
        return int(v)
    if isinstance(v, str):
        text = v.strip()
        if re.fullmatch(r"-?\d+", text):
            return int(text)
        try:
            return datetime_to_ms(_dt.datetime.fromisoformat(text.replace("Z", "+00:00")))
        except ValueError:
            pass
    raise _bad(dt, v, "give a datetime, an ISO 8601 string or milliseconds since 1970")


def _unit(units: str, allowed: tuple[str, ...]) -> str:
    key = re.sub(r"[\s_-]", "", str(units)).lower()
    for u in allowed:
        if key in (u.lower(), u[4:].lower()):
            return u
    return str(units)  # unknown units go as given: the server decides


def _enc_measure(dt: str, v: Any) -> dict:
    amount, cls, allowed, default_unit = (
        ("distance", LinearUnit, LINEAR_UNITS, "esriMeters") if dt == "GPLinearUnit"
        else ("area", ArealUnit, AREAL_UNITS, "esriSquareMeters"))
    if isinstance(v, cls):
        return v.to_json()
    if isinstance(v, dict):
        if amount not in v:
            raise _bad(dt, v, f"a {dt} dict needs {amount!r} and 'units'")
        out = dict(v)
        out[amount] = _enc_double(dt, v[amount])
        if "units" in v:
            out["units"] = _unit(v["units"], allowed)
        return out
    if isinstance(v, (tuple, list)) and len(v) == 2:
        return {amount: _enc_double(dt, v[0]), "units": _unit(v[1], allowed)}
    if isinstance(v, str):
        m = re.fullmatch(r"\s*([-+]?[0-9.eE+-]+)\s+(\S+)\s*", v)
        if m:
            return {amount: _enc_double(dt, m.group(1)), "units": _unit(m.group(2), allowed)}
    raise _bad(dt, v, f"give {{'{amount}': 5, 'units': '{default_unit}'}}, "
                      f"(5, '{default_unit[4:]}') or '5 {default_unit[4:]}'")


def _looks_like_url(text: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text))


def _enc_file(dt: str, v: Any) -> dict:
    if isinstance(v, ItemID):
        return v.to_json()
    if isinstance(v, dict):
        if not ({"url", "itemID", "portalItemID", "uploadItemID"} & set(v)):
            raise _bad(dt, v, "a dict needs 'url', 'itemID' or 'portalItemID'")
        return dict(v)
    if isinstance(v, str) and v.strip().startswith("{"):
        return _enc_file(dt, _loads(dt, v))
    if isinstance(v, str) and _looks_like_url(v.strip()):
        return {"url": v.strip()}
    if isinstance(v, (str, os.PathLike)):
        raise _bad(dt, v, "local files must be uploaded first (GPClient.upload(service_url, "
                          "path) gives an itemID; import_toolbox uploads them for you), or "
                          "give a URL the server can read")
    raise _bad(dt, v, "give {'url': ...}, {'itemID': ...} or a URL")


def _enc_features(dt: str, v: Any) -> Any:
    if isinstance(v, dict):
        return v
    if isinstance(v, str):
        text = v.strip()
        if text.startswith("{"):
            return _loads(dt, text)
        if _looks_like_url(text):
            return {"url": text}
    if isinstance(v, ItemID):
        return v.to_json()
    if isinstance(v, (list, tuple)) and all(isinstance(f, dict) for f in v):
        return {"features": list(v)}
    raise _bad(dt, v, "give a FeatureSet dict, a FeatureCollection dict, {'url': ...} or "
                      "{'itemID': ...}")


def _enc_sr(dt: str, v: Any) -> dict:
    if isinstance(v, bool):
        raise _bad(dt, v, "give a WKID, 'EPSG:<code>', WKT or a spatial reference dict")
    if isinstance(v, int):
        return {"wkid": v}
    if isinstance(v, dict):
        return dict(v)
    if isinstance(v, str):
        text = v.strip()
        m = re.fullmatch(r"(?i)(?:epsg|esri)?:?\s*(\d+)", text)
        if m:
            return {"wkid": int(m.group(1))}
        if text.startswith("{"):
            return _loads(dt, text)
        if text:
            return {"wkt": text}
    raise _bad(dt, v, "give a WKID, 'EPSG:<code>', WKT or a spatial reference dict")


def _enc_extent(dt: str, v: Any) -> dict:
    if isinstance(v, dict):
        return dict(v)
    if isinstance(v, str):
        text = v.strip()
        if text.startswith("{"):
            return _loads(dt, text)
        parts = [p for p in re.split(r"[\s,]+", text) if p]
        if len(parts) == 4:
            v = parts
    if isinstance(v, (list, tuple)) and len(v) in (4, 5):
        nums = [_enc_double(dt, x) for x in v[:4]]
        out = dict(zip(("xmin", "ymin", "xmax", "ymax"), nums))
        if len(v) == 5 and v[4] is not None:
            out["spatialReference"] = _enc_sr("GPSpatialReference", v[4])
        return out
    raise _bad(dt, v, "give {'xmin','ymin','xmax','ymax'} or (xmin, ymin, xmax, ymax[, sr])")


def _enc_field(dt: str, v: Any) -> Any:
    if isinstance(v, dict):
        return dict(v)
    if isinstance(v, str) and v.strip():
        text = v.strip()
        return _loads(dt, text) if text.startswith("{") else {"name": text}
    raise _bad(dt, v, "give a field name or a field dict {'name': ..., 'type': ...}")


def _enc_value_table(dt: str, v: Any) -> Any:
    if isinstance(v, str) and v.strip().startswith(("[", "{")):
        return _loads(dt, v)
    if isinstance(v, (list, tuple)):
        return [[_plain(c) for c in row] if isinstance(row, (list, tuple)) else _plain(row)
                for row in v]
    return _passthrough(dt, v)


def _plain(v: Any) -> Any:
    if isinstance(v, (LinearUnit, ArealUnit, ItemID)):
        return v.to_json()
    if isinstance(v, (_dt.datetime, _dt.date)):
        return datetime_to_ms(v)
    if isinstance(v, os.PathLike):
        return os.fspath(v)
    return v


def _passthrough(dt: str, v: Any) -> Any:
    v = _plain(v)
    try:
        json.dumps(v, allow_nan=False, default=_json_default)
    except (TypeError, ValueError) as exc:
        raise _bad(dt or "unknown type", v, f"it cannot be written as JSON ({exc})") from None
    return v


def _loads(dt: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _bad(dt, text, f"it looks like JSON but does not parse ({exc})") from None


def _finite(f: float) -> None:
    if not math.isfinite(f):
        raise BadInputError(f"{f!r} cannot be sent: NaN and infinity are not JSON numbers")


def _json_default(o: Any) -> Any:
    if isinstance(o, (LinearUnit, ArealUnit, ItemID)):
        return o.to_json()
    if isinstance(o, (_dt.datetime, _dt.date)):
        return datetime_to_ms(o)
    if isinstance(o, tuple):
        return list(o)
    if isinstance(o, os.PathLike):
        return os.fspath(o)
    raise TypeError(f"{type(o).__name__} is not JSON serialisable")


_ENCODERS = {
    "GPString": _enc_string,
    "GPBoolean": _enc_bool,
    "GPLong": _enc_long,
    "GPDouble": _enc_double,
    "GPDate": _enc_date,
    "GPLinearUnit": _enc_measure,
    "GPArealUnit": _enc_measure,
    "GPDataFile": _enc_file,
    "GPRasterData": _enc_file,
    "GPRasterDataLayer": _enc_file,
    "GPFeatureRecordSetLayer": _enc_features,
    "GPRecordSet": _enc_features,
    "GPSpatialReference": _enc_sr,
    "GPExtent": _enc_extent,
    "GPEnvelope": _enc_extent,
    "Field": _enc_field,
    "GPValueTable": _enc_value_table,
    "GPComposite": _passthrough,
}


# -- decode --------------------------------------------------------------------------------


def decode(data_type: str, value: Any) -> Any:
    """Return the Python value of a result; anything unexpected is returned unchanged."""
    if value is None:
        return None
    member = member_type(data_type or "")
    if member is not None:
        if isinstance(value, list):
            return [decode(member, v) for v in value]
        return value
    if data_type == "GPBoolean":
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        if isinstance(value, (bool, int)):
            return bool(value)
        return value
    if data_type == "GPLong":
        if isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            return int(value)
        return value
    if data_type == "GPDouble":
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                return value
        return value
    if data_type == "GPDate":
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)) and math.isfinite(value):
            return ms_to_datetime(value)
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
            return ms_to_datetime(int(value))
        return value
    return value
