"""Parsing GP parameter values from request form values, by data type."""

from __future__ import annotations

import ast
import json
import math
from typing import Any

from .catalog import Param
from .errors import RestError, bad_request

LINEAR_UNITS = {
    "esriCentimeters": 0.01,
    "esriDecimeters": 0.1,
    "esriFeet": 0.3048,
    "esriInches": 0.0254,
    "esriKilometers": 1000.0,
    "esriMeters": 1.0,
    "esriMiles": 1609.344,
    "esriMillimeters": 0.001,
    "esriNauticalMiles": 1852.0,
    "esriYards": 0.9144,
    "esriUSSurveyFeet": 1200.0 / 3937.0,
}
AREAL_UNITS = {
    "esriSquareMeters": 1.0,
    "esriSquareKilometers": 1e6,
    "esriSquareFeet": 0.09290304,
    "esriSquareMiles": 2589988.110336,
    "esriAcres": 4046.8564224,
    "esriHectares": 1e4,
    "esriAres": 100.0,
    "esriSquareYards": 0.83612736,
    "esriSquareInches": 0.00064516,
    "esriSquareCentimeters": 1e-4,
    "esriSquareMillimeters": 1e-6,
    "esriSquareDecimeters": 0.01,
}


def loads_lenient(text: str) -> Any:
    """Parse JSON; also accept the Python-literal form urlencode() makes of a dict.

    The seeds' Python samples post ``urllib.parse.urlencode({"inputLayer": {"url": ...}})``,
    which sends ``{'url': '...'}``; ArcGIS accepts those, so the server must as well.
    """
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise ValueError(f"not valid JSON: {text[:80]!r}") from exc


def _invalid(param: Param, why: str) -> RestError:
    return bad_request(f"Invalid value for parameter '{param.name}' ({param.data_type}): {why}")


def _float(param: Param, raw: Any, why: str) -> float:
    """``raw`` as a float, or the invalid-value error saying ``why``."""
    try:
        return float(raw)
    except (TypeError, ValueError) as exc:
        raise _invalid(param, why) from exc


def _as_json(param: Param, raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return loads_lenient(raw)
    except ValueError as exc:
        raise _invalid(param, str(exc)) from exc


def _unit_value(param: Param, raw: Any, key: str, units: dict[str, float]) -> dict[str, Any]:
    if isinstance(raw, str) and not raw.lstrip().startswith("{"):
        parts = raw.split()
        if len(parts) != 2:
            raise _invalid(param, f"expected {{'{key}': <number>, 'units': '<units>'}}")
        unit = parts[1] if parts[1].startswith("esri") else "esri" + parts[1]
        raw = {key: parts[0], "units": unit}
    value = _as_json(param, raw)
    if not isinstance(value, dict) or key not in value or "units" not in value:
        raise _invalid(param, f"expected an object with '{key}' and 'units'")
    try:
        number = float(value[key])
    except (TypeError, ValueError) as exc:
        raise _invalid(param, f"'{key}' is not a number") from exc
    if value["units"] not in units:
        raise _invalid(param, f"unknown units {value['units']!r}; use one of {sorted(units)}")
    return {key: number, "units": value["units"]}


def parse_scalar(param: Param, data_type: str, raw: Any) -> Any:
    """Parse one value of a simple or structured GP type."""
    if data_type == "GPString":
        if isinstance(raw, str):
            return raw
        return raw if isinstance(raw, str) else json.dumps(raw)
    if data_type == "GPBoolean":
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
        raise _invalid(param, "expected true or false")
    if data_type == "GPLong":
        number = _float(param, raw, "expected an integer")
        if not number.is_integer():
            raise _invalid(param, "expected an integer")
        return int(number)
    if data_type == "GPDouble":
        number = _float(param, raw, "expected a number")
        if math.isnan(number) or math.isinf(number):
            raise _invalid(param, "expected a finite number")
        return number
    if data_type == "GPDate":
        number = _float(param, raw, "expected milliseconds since 1970-01-01 UTC")
        return int(number)
    if data_type == "GPLinearUnit":
        return _unit_value(param, raw, "distance", LINEAR_UNITS)
    if data_type == "GPArealUnit":
        return _unit_value(param, raw, "area", AREAL_UNITS)
    if data_type in ("GPDataFile", "GPRasterData", "GPRasterDataLayer"):
        value = _as_json(param, raw)
        if not isinstance(value, dict) or not ({"url", "itemID"} & set(value)):
            raise _invalid(param, "expected {'url': ...} or {'itemID': ...}")
        return value
    if data_type in ("GPFeatureRecordSetLayer", "GPRecordSet"):
        value = _as_json(param, raw)
        if not isinstance(value, dict):
            raise _invalid(param, "expected a feature set object, {'url': ...} or {'itemID': ...}")
        if not ({"url", "itemID", "features", "featureSet", "layers"} & set(value)):
            raise _invalid(param, "expected 'features', 'url' or 'itemID'")
        return value
    if data_type == "GPSpatialReference":
        value = _as_json(param, raw)
        if isinstance(value, int):
            value = {"wkid": value}
        if not isinstance(value, dict) or not ({"wkid", "latestWkid", "wkt"} & set(value)):
            raise _invalid(param, "expected {'wkid': ...} or {'wkt': ...}")
        return value
    if data_type in ("GPExtent", "GPEnvelope"):
        value = _as_json(param, raw)
        if not isinstance(value, dict) or not {"xmin", "ymin", "xmax", "ymax"} <= set(value):
            raise _invalid(param, "expected an object with xmin, ymin, xmax, ymax")
        for k in ("xmin", "ymin", "xmax", "ymax"):
            if not isinstance(value[k], (int, float)) or isinstance(value[k], bool):
                raise _invalid(param, f"{k} is not a number")
        return value
    if data_type == "Field":
        value = _as_json(param, raw)
        if not isinstance(value, dict) or "name" not in value:
            raise _invalid(param, "expected a field object with at least 'name'")
        return value
    if data_type == "GPValueTable":
        value = _as_json(param, raw)
        if not isinstance(value, list) or not all(isinstance(r, list) for r in value):
            raise _invalid(param, "expected an array of rows (arrays)")
        return value
    # GPComposite and anything unknown: JSON if it parses, the text otherwise.
    if isinstance(raw, str):
        try:
            return loads_lenient(raw)
        except ValueError:
            return raw
    return raw


def parse_value(param: Param, raw: Any) -> Any:
    """Parse the form value of a parameter according to its data type."""
    data_type = param.data_type
    if data_type.startswith("GPMultiValue:"):
        member = data_type.split(":", 1)[1]
        value = raw
        if isinstance(raw, str):
            text = raw.strip()
            if text.startswith("["):
                value = _as_json(param, text)
            else:  # ArcGIS also takes "a;b;c"
                value = [v for v in text.split(";") if v != ""]
        if not isinstance(value, list):
            raise _invalid(param, "expected a JSON array")
        out = [parse_scalar(param, member, v) for v in value]
        if param.choice_list:
            bad = [v for v in out if v not in param.choice_list]
            if bad:
                raise _invalid(param, f"{bad!r} not in the choice list {list(param.choice_list)}")
        return out
    value = parse_scalar(param, data_type, raw)
    if param.choice_list and value not in param.choice_list:
        raise _invalid(param, f"{value!r} is not one of {list(param.choice_list)}")
    return value
