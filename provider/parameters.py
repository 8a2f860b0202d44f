"""The one table from GP data types to Processing parameters, outputs and wire values.

Every GP data type a task can publish has one entry in ``TYPES`` (``GPMultiValue:<T>`` is
built from the entry of ``T``; anything unknown falls back to a raw-JSON string). An entry
says which Processing parameters stand for an input, which destination or output stands
for an output, how a Processing value becomes the REST API's wire value, and how a result
comes back into Processing (sinks, downloaded files, plain values).

Decisions (documented here because they shape saved models and scripts):

- Parameter names are the task's own; a GPLinearUnit / GPArealUnit input ``X`` is a number
  ``X`` plus an enum ``X_units`` of the Esri unit names (default: the task's default unit).
- Choice lists become enums. Processing stores the *index* (the only form QGIS 3.22
  knows); the wire always gets the choice string. Scripts and qgis_process may give the
  choice by name as well (``{"Dissolve": "ALL"}``, ``--Distance_units=kilometers``): the
  algorithm's checkParameterValues and processAlgorithm map names to indexes first
  (``enum_from_names``).
- GPMultiValue of simple types is one string parameter: values separated by ``;`` or a
  JSON array. Multiple layers and files use a multiple-layer parameter, choice lists an
  enum that allows several values.
- Categories: an *optional* parameter with a category is flagged advanced (Processing
  folds it into its "Advanced parameters" group, the nearest thing to ArcGIS's collapsed
  categories); required parameters always stay in view. The category also appears in the
  parameter's help.
- An optional parameter that is left empty is not sent, so the server applies its own
  default.
- Every destination (feature sink, file, raster) is required (the dialog shows no
  "[optional]") and defaults to a temporary output, so that a run that names no
  destination still gets every result.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeatureSink,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingOutputBoolean,
    QgsProcessingOutputDefinition,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterCrs,
    QgsProcessingParameterDateTime,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterExtent,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsRectangle,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QCoreApplication, QDateTime, Qt

from ..esrijson.spatialref import SpatialReferenceDecoder, encode_spatial_reference

UNITS_SUFFIX = "_units"
MISSING = object()  # an input left empty: not sent, the server applies its default

# Feature inputs of this much Esri JSON or more go to a service with the Uploads capability
# as an uploaded file ({"itemID"}; the REST API's submitJob page: "for a large set of
# geometries, you can also specify an uploaded item as input"), smaller ones inline in the
# POST body. Inline, the JSON sits in memory several times (objects, text, the url-encoded
# form, which is 1.3 to 2 times the JSON, and the transport's copy), and form bodies near
# the default request limits of web servers in front of ArcGIS (IIS: 30,000,000 bytes) are
# refused; an upload costs one more request and leaves an item on the server (deleted after
# the run). Below 5 MB one request is quicker and the copies cost tens of MB at most.
UPLOAD_MIN_BYTES = 5 * 1024 * 1024
# Feature results of an asynchronous job are always streamed to a file first. Files up to
# this size are then parsed whole (every feature seen for Z/M, hosted-layer URLs and empty
# values handled as before: at most ~15 MB of objects); bigger ones are decoded feature by
# feature (esrijson.reader.read_file: one 1 MiB chunk and a 1,000-feature sample in memory).
STREAM_RESULT_MIN_BYTES = 1024 * 1024

LINEAR_UNITS = (
    "esriMeters", "esriKilometers", "esriFeet", "esriMiles", "esriNauticalMiles", "esriYards",
    "esriInches", "esriCentimeters", "esriMillimeters", "esriDecimeters", "esriDecimalDegrees",
    "esriPoints", "esriUnknownUnits",
)
AREAL_UNITS = (
    "esriSquareMeters", "esriSquareKilometers", "esriHectares", "esriAres", "esriAcres",
    "esriSquareFeet", "esriSquareMiles", "esriSquareYards", "esriSquareInches",
    "esriSquareCentimeters", "esriSquareMillimeters", "esriSquareDecimeters",
    "esriUnknownAreaUnits",
)

_GEOMETRY_SOURCE_TYPES = {
    "esriGeometryPoint": QgsProcessing.SourceType.TypeVectorPoint,
    "esriGeometryMultipoint": QgsProcessing.SourceType.TypeVectorPoint,
    "esriGeometryPolyline": QgsProcessing.SourceType.TypeVectorLine,
    "esriGeometryPolygon": QgsProcessing.SourceType.TypeVectorPolygon,
    "esriGeometryEnvelope": QgsProcessing.SourceType.TypeVectorPolygon,
}
_GEOMETRY_WKB_TYPES = {
    "esriGeometryPoint": QgsWkbTypes.Type.Point,
    "esriGeometryMultipoint": QgsWkbTypes.Type.MultiPoint,
    "esriGeometryPolyline": QgsWkbTypes.Type.MultiLineString,
    "esriGeometryPolygon": QgsWkbTypes.Type.MultiPolygon,
    "esriGeometryEnvelope": QgsWkbTypes.Type.Polygon,
}
_FILE_TYPE = getattr(QgsProcessing.SourceType, "TypeFile", 6)


@dataclass
class RunEnv:
    """What a conversion needs while an algorithm runs (one per run, never kept)."""

    algorithm: QgsProcessingAlgorithm
    parameters: dict
    context: QgsProcessingContext
    feedback: QgsProcessingFeedback
    work_dir: str
    upload: Callable[[str], str]
    download: Callable[[str, str], Path]
    get_json: Callable[..., dict] | None = None
    uploads_allowed: bool = False
    crs_used: list = field(default_factory=list)
    results: dict = field(default_factory=dict)
    drawing_infos: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ResultFile:
    """A result streamed to a file: the server's ``{"paramName", "dataType", "value"}``."""

    path: str
    url: str = ""


# ---------------------------------------------------------------- helpers on descriptions

def is_required(p: Any) -> bool:
    """Return whether a task parameter is required."""
    flag = getattr(p, "is_required", None)
    if flag is not None:
        return bool(flag)
    return getattr(p, "parameter_type", "") == "esriGPParameterTypeRequired"


def display_name(p: Any) -> str:
    """Return the label of a task parameter."""
    return (getattr(p, "display_name", "") or "").strip() or p.name


def help_text(p: Any, note: str = "") -> str:
    """Return a parameter's help: its description, category and any note."""
    parts = []
    description = (getattr(p, "description", "") or "").strip()
    if description:
        parts.append(description)
    category = (getattr(p, "category", "") or "").strip()
    if category:
        parts.append(f"Category: {category}.")
    if note:
        parts.append(note)
    parts.append(f"GP type: {p.data_type}.")
    return "\n".join(parts)


def _finish(definition: QgsProcessingParameterDefinition, p: Any, note: str = "",
            optional: bool | None = None) -> QgsProcessingParameterDefinition:
    flags = definition.flags()
    if optional is None:
        optional = not is_required(p)
    if optional:
        flags |= QgsProcessingParameterDefinition.Flag.FlagOptional
        if (getattr(p, "category", "") or "").strip():
            flags |= QgsProcessingParameterDefinition.Flag.FlagAdvanced
    else:
        flags &= ~QgsProcessingParameterDefinition.Flag.FlagOptional
    definition.setFlags(flags)
    definition.setHelp(help_text(p, note))
    return definition


def _raw(env: RunEnv, name: str) -> Any:
    """Return the raw value given for ``name``, or MISSING when it is empty with no default."""
    value = env.parameters.get(name)
    if value is None or (isinstance(value, str) and value == ""):
        definition = env.algorithm.parameterDefinition(name)
        default = definition.defaultValue() if definition is not None else None
        if default is None or (isinstance(default, str) and default == ""):
            return MISSING
    return value


def crs_to_sr(crs: QgsCoordinateReferenceSystem) -> dict:
    """Return the Esri spatial reference JSON of a CRS (esrijson's encoding)."""
    return encode_spatial_reference(crs) or {}


def sr_to_crs(sr: Any) -> QgsCoordinateReferenceSystem:
    """Return the CRS of an Esri spatial reference JSON (invalid CRS when unknown)."""
    return SpatialReferenceDecoder().decode(sr)[0]


def _text(value: Any) -> str:
    """Return a result value as text for a string output."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    try:
        return json.dumps(value, default=str)
    except (TypeError, ValueError):
        return str(value)


def _wire_datetime(value: QDateTime) -> Any:
    return value.toMSecsSinceEpoch() if value.isValid() else MISSING


def _file_url(value: str) -> bool:
    return urlsplit(value).scheme in ("http", "https")


# ---------------------------------------------------------------- the table entries

class GpType:
    """How one GP data type shows in Processing and travels on the wire."""

    note = ""
    streams_result = False  # True: from_wire takes a ResultFile (asynchronous jobs)

    def input_parameters(self, p: Any) -> list[QgsProcessingParameterDefinition]:
        """Return the Processing parameters standing for an input of this type."""
        return [_finish(QgsProcessingParameterString(
            p.name, display_name(p), _default_json(p.default_value), multiLine=True,
            optional=True), p, self.note)]

    def to_wire(self, p: Any, env: RunEnv) -> Any:
        """Return the wire value of an input (``MISSING`` when nothing is to be sent)."""
        raw = _raw(env, p.name)
        if raw is MISSING:
            return MISSING
        text = env.algorithm.parameterAsString(env.parameters, p.name, env.context)
        if not text.strip():
            return MISSING
        try:
            return json.loads(text)
        except ValueError:
            return text

    def output_parameter(self, p: Any) -> QgsProcessingParameterDefinition | None:
        """Return the destination parameter of an output, if the type needs one."""
        return None

    def output(self, p: Any) -> QgsProcessingOutputDefinition | None:
        """Return the output definition of an output that needs no destination."""
        return QgsProcessingOutputString(p.name, display_name(p))

    def from_wire(self, p: Any, value: Any, env: RunEnv) -> None:
        """Put an output's value into the algorithm's results."""
        env.results[p.name] = _text(value)


def _default_json(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value)


class RawJson(GpType):
    """A type with no Processing equivalent: the raw JSON value as a string."""

    note = (
        "This GP data type has no Processing equivalent: give the value as the JSON "
        "the service expects (see the service's REST page for its form)."
    )


class StringType(GpType):
    """GPString (and Field, when nothing ties it to a layer)."""

    def input_parameters(self, p: Any) -> list[QgsProcessingParameterDefinition]:
        """Return a string parameter, or an enum when the task has a choice list."""
        choices = _choices(p)
        if choices:
            return [_enum(p, choices)]
        default = self.default(p)
        return [_finish(QgsProcessingParameterString(
            p.name, display_name(p), default, optional=True), p)]

    def default(self, p: Any) -> str | None:
        """Return the default text of the parameter."""
        return p.default_value if isinstance(p.default_value, str) else None

    def to_wire(self, p: Any, env: RunEnv) -> Any:
        """Return the string (the chosen string for a choice list)."""
        choices = _choices(p)
        raw = _raw(env, p.name)
        if raw is MISSING:
            return MISSING
        if choices:
            return choices[env.algorithm.parameterAsEnum(env.parameters, p.name, env.context)]
        return env.algorithm.parameterAsString(env.parameters, p.name, env.context)


def _choices(p: Any) -> list[str]:
    return [str(c) for c in (getattr(p, "choice_list", None) or [])]


def _enum(p: Any, choices: Sequence[str], multiple: bool = False) -> QgsProcessingParameterEnum:
    default: Any = None
    value = p.default_value
    if multiple and isinstance(value, list):
        default = [choices.index(str(v)) for v in value if str(v) in choices] or None
    elif value is not None and str(value) in choices:
        default = choices.index(str(value))
    return _finish(QgsProcessingParameterEnum(
        p.name, display_name(p), list(choices), multiple, default, True), p)


class BooleanType(GpType):
    """GPBoolean."""

    def input_parameters(self, p: Any) -> list[QgsProcessingParameterDefinition]:
        """Return a boolean parameter."""
        default = p.default_value if isinstance(p.default_value, bool) else None
        return [_finish(QgsProcessingParameterBoolean(
            p.name, display_name(p), default, True), p)]

    def to_wire(self, p: Any, env: RunEnv) -> Any:
        """Return true or false."""
        if _raw(env, p.name) is MISSING:
            return MISSING
        return env.algorithm.parameterAsBoolean(env.parameters, p.name, env.context)

    def output(self, p: Any) -> QgsProcessingOutputDefinition | None:
        """Return a boolean output."""
        return QgsProcessingOutputBoolean(p.name, display_name(p))

    def from_wire(self, p: Any, value: Any, env: RunEnv) -> None:
        """Store the boolean."""
        env.results[p.name] = bool(value) if value is not None else None


class NumberType(GpType):
    """GPLong and GPDouble."""

    def __init__(self, integer: bool) -> None:
        self.integer = integer

    def input_parameters(self, p: Any) -> list[QgsProcessingParameterDefinition]:
        """Return an integer or double number parameter."""
        kind = (QgsProcessingParameterNumber.Type.Integer if self.integer
                else QgsProcessingParameterNumber.Type.Double)
        default = p.default_value
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            default = None
        definition = QgsProcessingParameterNumber(p.name, display_name(p), kind, default, True)
        return [_finish(definition, p)]

    def to_wire(self, p: Any, env: RunEnv) -> Any:
        """Return the number."""
        if _raw(env, p.name) is MISSING:
            return MISSING
        if self.integer:
            return env.algorithm.parameterAsInt(env.parameters, p.name, env.context)
        return env.algorithm.parameterAsDouble(env.parameters, p.name, env.context)

    def output(self, p: Any) -> QgsProcessingOutputDefinition | None:
        """Return a number output."""
        return QgsProcessingOutputNumber(p.name, display_name(p))

    def from_wire(self, p: Any, value: Any, env: RunEnv) -> None:
        """Store the number."""
        env.results[p.name] = value


# qgis_process (3.22 and later) reads --distance_units and --area_units, in any letter case,
# as its own options, so "--Distance_units=1" written before the "--" separator never
# reaches the algorithm and the task would silently run in its default unit.
QGIS_PROCESS_RESERVED = ("distance_units", "area_units")


def _swallowed_by_qgis_process(name: str) -> Any:
    """Return the value given as ``--<name>=v`` on a qgis_process command line it kept."""
    if name.lower() not in QGIS_PROCESS_RESERVED:
        return None
    prefix = f"--{name.lower()}="
    for argument in QCoreApplication.arguments():
        if argument.lower().startswith(prefix):
            return argument[len(prefix):]
    return None


def _unit_index(value: str, units: Sequence[str], name: str) -> int:
    """Return the index of a unit given by number or name (``esriKilometers``, ``kilometers``)."""
    text = value.strip()
    if text.isdigit() and int(text) < len(units):
        return int(text)
    for index, unit in enumerate(units):
        if text.lower() in (unit.lower(), unit.lower().removeprefix("esri")):
            return index
    raise QgsProcessingException(
        f"{name}: {value!r} is not one of the units offered "
        f"({', '.join(f'{i}: {u}' for i, u in enumerate(units))}).")


def _option_index(text: str, options: Sequence[str]) -> int | None:
    """Return the index of an option given by name (``ALL``, ``kilometers``), else None."""
    text = text.strip()
    if not text:
        return None
    if text in options:
        return list(options).index(text)
    low = text.lower()
    for wanted in (low, "esri" + low):
        found = [i for i, option in enumerate(options) if option.lower() == wanted]
        if len(found) == 1:
            return found[0]
    return None


def enum_from_names(definition: QgsProcessingParameterDefinition, value: Any) -> Any:
    """Return an enum value with option names turned into indexes; anything else unchanged.

    QGIS before 3.24 takes enum values only as indexes; scripts and qgis_process users
    write the choice (``{"Dissolve": "ALL"}``, ``--Distance_units=kilometers``). A string
    that is a valid index stays an index; several values may come as a list or as one
    comma-separated string.
    """
    if not isinstance(definition, QgsProcessingParameterEnum):
        return value
    options = list(definition.options())

    def one(item: Any) -> Any:
        if not isinstance(item, str):
            return item
        if item.strip().isdigit() and int(item) < len(options):
            return item
        index = _option_index(item, options)
        return item if index is None else index

    if isinstance(value, str):
        if definition.allowMultiple() and "," in value and _option_index(value, options) is None:
            parts = [one(part) for part in value.split(",")]
            return parts if all(isinstance(part, int) for part in parts) else value
        return one(value)
    if isinstance(value, (list, tuple)) and definition.allowMultiple():
        return [one(item) for item in value]
    return value


class UnitType(GpType):
    """GPLinearUnit and GPArealUnit: a number plus an enum ``<name>_units``."""

    def __init__(self, units: Sequence[str]) -> None:
        self.units = tuple(units)

    def unit_choices(self, p: Any) -> list[str]:
        """Return the unit names offered (the task's default unit first if unusual)."""
        units = list(self.units)
        default = p.default_value.get("units") if isinstance(p.default_value, dict) else None
        if isinstance(default, str) and default and default not in units:
            units.insert(0, default)
        return units

    def input_parameters(self, p: Any) -> list[QgsProcessingParameterDefinition]:
        """Return the distance (or area) number and its unit enum."""
        value = p.default_value if isinstance(p.default_value, dict) else {}
        amount = value.get("distance", value.get("area"))
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            amount = None
        number = _finish(QgsProcessingParameterNumber(
            p.name, display_name(p), QgsProcessingParameterNumber.Type.Double, amount, True), p)
        units = self.unit_choices(p)
        default_unit = value.get("units")
        unit_index = units.index(default_unit) if default_unit in units else 0
        unit = QgsProcessingParameterEnum(
            p.name + UNITS_SUFFIX, f"{display_name(p)} units", units, False, unit_index, False)
        unit.setHelp(f"Unit of {display_name(p)} (Esri unit name, sent as is).")
        if number.flags() & QgsProcessingParameterDefinition.Flag.FlagAdvanced:
            unit.setFlags(unit.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
        return [number, unit]

    def to_wire(self, p: Any, env: RunEnv) -> Any:
        """Return ``{"distance": d, "units": u}`` (``area`` for GPArealUnit)."""
        if _raw(env, p.name) is MISSING:
            return MISSING
        amount = env.algorithm.parameterAsDouble(env.parameters, p.name, env.context)
        units = self.unit_choices(p)
        unit_name = p.name + UNITS_SUFFIX
        parameters = env.parameters
        swallowed = _swallowed_by_qgis_process(unit_name) if unit_name not in parameters else None
        if swallowed is not None:
            parameters = {**parameters, unit_name: _unit_index(swallowed, units, unit_name)}
        index = env.algorithm.parameterAsEnum(parameters, unit_name, env.context)
        key = "area" if p.data_type == "GPArealUnit" else "distance"
        return {key: amount, "units": units[index] if 0 <= index < len(units) else units[0]}


class DateType(GpType):
    """GPDate: a date-time, milliseconds since 1970 UTC on the wire."""

    def input_parameters(self, p: Any) -> list[QgsProcessingParameterDefinition]:
        """Return a date-time parameter."""
        default = None
        if isinstance(p.default_value, (int, float)) and not isinstance(p.default_value, bool):
            default = QDateTime.fromMSecsSinceEpoch(int(p.default_value), Qt.TimeSpec.UTC)
        definition = QgsProcessingParameterDateTime(
            p.name, display_name(p), QgsProcessingParameterDateTime.Type.DateTime, default, True)
        return [_finish(definition, p)]

    def to_wire(self, p: Any, env: RunEnv) -> Any:
        """Return milliseconds since the epoch (UTC)."""
        if _raw(env, p.name) is MISSING:
            return MISSING
        value = env.algorithm.parameterAsDateTime(env.parameters, p.name, env.context)
        return _wire_datetime(value)

    def from_wire(self, p: Any, value: Any, env: RunEnv) -> None:
        """Store the date as ISO 8601 text (UTC)."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = datetime.fromtimestamp(value / 1000.0, tz=timezone.utc)
        env.results[p.name] = _text(value)


class FeatureSetType(GpType):
    """GPFeatureRecordSetLayer (``table=False``) and GPRecordSet (``table=True``)."""

    streams_result = True

    def __init__(self, table: bool) -> None:
        self.table = table

    def source_types(self, p: Any) -> list[int]:
        """Return the layer types the input accepts."""
        if self.table:
            return [QgsProcessing.SourceType.TypeVector]
        geometry = _geometry_type(p.default_value)
        return [_GEOMETRY_SOURCE_TYPES.get(geometry,
                                           QgsProcessing.SourceType.TypeVectorAnyGeometry)]

    def input_parameters(self, p: Any) -> list[QgsProcessingParameterDefinition]:
        """Return a feature source parameter."""
        definition = QgsProcessingParameterFeatureSource(
            p.name, display_name(p), self.source_types(p), None, True)
        return [_finish(definition, p)]

    def to_wire(self, p: Any, env: RunEnv) -> Any:
        """Return the Esri JSON feature set of the source (selected features if asked)."""
        if _raw(env, p.name) is MISSING:
            return MISSING
        source = env.algorithm.parameterAsSource(env.parameters, p.name, env.context)
        if source is None:
            raise QgsProcessingException(
                f"Could not load the layer given for {display_name(p)} ({p.name}).")
        if source.sourceCrs().isValid():
            env.crs_used.append(source.sourceCrs())
        return feature_input(source, p, env)

    def output_parameter(self, p: Any) -> QgsProcessingParameterDefinition | None:
        """Return a feature sink."""
        if self.table:
            kind = QgsProcessing.SourceType.TypeVector
        else:
            kind = _GEOMETRY_SOURCE_TYPES.get(_geometry_type(p.default_value),
                                              QgsProcessing.SourceType.TypeVectorAnyGeometry)
        definition = QgsProcessingParameterFeatureSink(
            p.name, display_name(p), kind, QgsProcessing.TEMPORARY_OUTPUT, False, True)
        definition.setHelp(help_text(p))
        return definition

    def output(self, p: Any) -> QgsProcessingOutputDefinition | None:
        """Return nothing: the sink is the output."""
        return None

    def from_wire(self, p: Any, value: Any, env: RunEnv) -> None:
        """Decode the feature set (a dict, or a streamed ResultFile) into the sink."""
        from ..esrijson import reader

        if output_skipped(env, p.name):
            return
        origin = ""
        try:
            if isinstance(value, ResultFile):
                origin = f" (the answer of {value.url or 'the server'})"
                size = os.path.getsize(value.path)
                if size > STREAM_RESULT_MIN_BYTES:
                    env.feedback.pushInfo(
                        f"{p.name}: reading {size / 1e6:.1f} MB of Esri JSON feature by feature")
                    self._to_sink(p, reader.read_file(value.path), env)
                    return
                value = _result_value(value.path)
            if not isinstance(value, dict) or not value:
                env.feedback.pushWarning(
                    f"The server returned no features for {p.name}; the output is empty.")
                value = {"geometryType": _geometry_type(p.default_value) or "",
                         "fields": [], "features": []}
                if self.table or not value["geometryType"]:
                    value.pop("geometryType")
            if "url" in value and "features" not in value and "featureSet" not in value:
                value = hosted_features(str(value["url"]), p, env)
            self._to_sink(p, reader.read_feature_set(value), env)
        except (reader.EsriJsonError, reader.EsriJsonSyntaxError) as err:
            raise QgsProcessingException(
                f"{display_name(p)} ({p.name}): the server's result{origin} is not an Esri "
                f"JSON feature set QGIS can read: {err}") from None

    def _to_sink(self, p: Any, decoded: Any, env: RunEnv) -> None:
        wkb_type = QgsWkbTypes.Type.NoGeometry if self.table else decoded.wkb_type
        sink, dest = env.algorithm.parameterAsSink(
            env.parameters, p.name, env.context, decoded.fields, wkb_type, decoded.crs)
        if sink is None:
            raise QgsProcessingException(f"Could not create the output {p.name}.")
        count = 0
        for feature in decoded.features():
            if env.feedback.isCanceled():
                break
            if not sink.addFeature(feature, QgsFeatureSink.Flag.FastInsert):
                raise QgsProcessingException(
                    f"Could not write a feature to {p.name}: {sink.lastError()}")
            count += 1
        # complete once the features have been read (a file's keys after the features)
        for warning in decoded.warnings:
            env.feedback.pushWarning(f"{p.name}: {warning}")
        env.feedback.pushInfo(f"{p.name}: {count} features")
        if getattr(decoded, "drawing_info", None):
            env.drawing_infos[dest] = decoded.drawing_info
        env.results[p.name] = dest
        del sink


def _result_value(path: str) -> Any:
    """Return the decoded value of a small result file ``{"paramName", "dataType", "value"}``."""
    from ..gp_client.values import decode

    with open(path, encoding="utf-8-sig") as handle:
        try:
            body = json.load(handle)
        except ValueError as err:
            raise QgsProcessingException(f"The result file {path} is not JSON: {err}") from None
    if not isinstance(body, dict):
        return None
    return decode(str(body.get("dataType") or ""), body.get("value"))


def hosted_features(url: str, p: Any, env: RunEnv, page: int = 2000) -> dict:
    """Return every feature of a result written to a hosted layer (its query, page by page)."""
    if env.get_json is None:
        raise QgsProcessingException(f"{p.name} is a layer on the server: {url}")
    env.feedback.pushInfo(f"{p.name} was written to the hosted layer {url}; reading it back.")
    query = url.rstrip("/") + "/query"
    base = {"where": "1=1", "outFields": "*", "returnGeometry": "true"}
    merged: dict = {}
    offset = 0
    while True:
        body = env.get_json(query, {**base, "resultOffset": offset, "resultRecordCount": page})
        features = body.get("features") or []
        if not merged:
            merged = {k: v for k, v in body.items() if k != "exceededTransferLimit"}
            merged["features"] = list(features)
        else:
            merged["features"].extend(features)
        offset += len(features)
        if not body.get("exceededTransferLimit") or not features or env.feedback.isCanceled():
            return merged


def feature_input(source: Any, p: Any, env: RunEnv) -> Any:
    """Return the wire value of a feature input: inline Esri JSON, or an uploaded item.

    On services without uploads the FeatureSet goes inline. Otherwise it is streamed to a
    file first (flat memory); at UPLOAD_MIN_BYTES or more the file is uploaded and
    ``{"itemID"}`` sent, below that its JSON goes inline.
    """
    from ..esrijson import writer

    warnings: list[str] = []
    if not env.uploads_allowed:
        value = writer.source_to_feature_set(source, feedback=env.feedback, warnings=warnings)
        _push_warnings(warnings, p, env)
        return value
    os.makedirs(env.work_dir, exist_ok=True)
    path = os.path.join(env.work_dir, f"input_{_safe(p.name)}_{uuid.uuid4().hex[:8]}.json")
    count = writer.write_feature_set_file(source, path, feedback=env.feedback,
                                          warnings=warnings)
    _push_warnings(warnings, p, env)
    if env.feedback.isCanceled():
        return MISSING
    size = os.path.getsize(path)
    if size < UPLOAD_MIN_BYTES:
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle)
        os.remove(path)
        return value
    env.feedback.pushInfo(f"Uploading {p.name}: {count} features, {size / 1e6:.1f} MB of "
                          "Esri JSON...")
    item_id = env.upload(path)
    os.remove(path)
    return {"itemID": item_id}


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in name)[:40] or "input"


def _push_warnings(warnings: list[str], p: Any, env: RunEnv) -> None:
    for warning in dict.fromkeys(warnings):
        env.feedback.pushWarning(f"{p.name}: {warning}")


def feature_set_of(source: Any, feedback: QgsProcessingFeedback | None = None) -> dict:
    """Return the Esri JSON FeatureSet of a feature source (through esrijson.writer)."""
    from ..esrijson import writer

    return writer.source_to_feature_set(source, feedback=feedback)


def _geometry_type(default: Any) -> str:
    if isinstance(default, dict):
        value = default.get("geometryType")
        if value is None and isinstance(default.get("layerDefinition"), dict):
            value = default["layerDefinition"].get("geometryType")
        return str(value or "")
    return ""


class FileType(GpType):
    """GPDataFile: a local file (uploaded) or a URL; results are downloaded."""

    def input_parameters(self, p: Any) -> list[QgsProcessingParameterDefinition]:
        """Return a file parameter (a URL is accepted too)."""
        definition = QgsProcessingParameterFile(
            p.name, display_name(p), QgsProcessingParameterFile.Behavior.File, "", None, True)
        return [_finish(definition, p, "A local file is uploaded to the service first; "
                                       "an http(s) URL is passed on as is.")]

    def to_wire(self, p: Any, env: RunEnv) -> Any:
        """Return ``{"itemID": ...}`` after uploading, or ``{"url": ...}``."""
        if _raw(env, p.name) is MISSING:
            return MISSING
        path = env.algorithm.parameterAsFile(env.parameters, p.name, env.context)
        return upload_or_url(path, p, env)

    def output_parameter(self, p: Any) -> QgsProcessingParameterDefinition | None:
        """Return a file destination."""
        definition = QgsProcessingParameterFileDestination(
            p.name, display_name(p), "All files (*.*)", QgsProcessing.TEMPORARY_OUTPUT, False,
            True)
        definition.setHelp(help_text(p))
        return definition

    def output(self, p: Any) -> QgsProcessingOutputDefinition | None:
        """Return nothing: the destination is the output."""
        return None

    NOUN = "file"

    def destination(self, p: Any, env: RunEnv) -> str:
        """Return the path the result goes to."""
        return env.algorithm.parameterAsFileOutput(env.parameters, p.name, env.context)

    def from_wire(self, p: Any, value: Any, env: RunEnv) -> None:
        """Download the result to the destination (rasters converted when it asks)."""
        url = value.get("url") if isinstance(value, dict) else None
        if not url:
            env.feedback.pushWarning(f"The server returned no {self.NOUN} for {p.name}.")
            env.results[p.name] = None
            return
        if output_skipped(env, p.name):
            return
        env.results[p.name] = _fetch_to(url, self.destination(p, env), env,
                                        convert_raster=self.NOUN == "raster")


class RasterType(FileType):
    """GPRasterData / GPRasterDataLayer: a raster layer (uploaded); results downloaded."""

    def input_parameters(self, p: Any) -> list[QgsProcessingParameterDefinition]:
        """Return a raster layer parameter."""
        definition = QgsProcessingParameterRasterLayer(p.name, display_name(p), None, True)
        return [_finish(definition, p, "The raster file is uploaded to the service first.")]

    def to_wire(self, p: Any, env: RunEnv) -> Any:
        """Upload the raster's file and return ``{"itemID": ...}``."""
        if _raw(env, p.name) is MISSING:
            return MISSING
        layer = env.algorithm.parameterAsRasterLayer(env.parameters, p.name, env.context)
        if layer is None:
            raise QgsProcessingException(
                f"Could not load the raster given for {display_name(p)} ({p.name}).")
        return upload_or_url(layer_file(layer), p, env)

    def output_parameter(self, p: Any) -> QgsProcessingParameterDefinition | None:
        """Return a raster destination."""
        definition = QgsProcessingParameterRasterDestination(
            p.name, display_name(p), QgsProcessing.TEMPORARY_OUTPUT, False, True)
        definition.setHelp(help_text(p))
        return definition

    NOUN = "raster"

    def destination(self, p: Any, env: RunEnv) -> str:
        """Return the raster layer path the result goes to."""
        return env.algorithm.parameterAsOutputLayer(env.parameters, p.name, env.context)


def output_skipped(env: RunEnv, name: str) -> bool:
    """Return whether the user chose to skip an optional destination."""
    if name not in env.parameters:
        return False  # not given: the default (a temporary output) applies
    value = env.parameters[name]
    return value is None or (isinstance(value, str) and not value.strip())


def layer_file(layer: Any) -> str:
    """Return the file path behind a layer's source (without GDAL/OGR options)."""
    source = layer.source()
    path = source.split("|", 1)[0]
    return path


def upload_or_url(path: str, p: Any, env: RunEnv) -> dict:
    """Return the wire value of a file input: ``{"url"}`` for URLs, else upload it."""
    if _file_url(path):
        return {"url": path}
    if not path or not os.path.isfile(path):
        raise QgsProcessingException(
            f"{display_name(p)} ({p.name}): '{path}' is not a file. Give a local file or an "
            "http(s) URL the server can reach.")
    env.feedback.pushInfo(f"Uploading {os.path.basename(path)} for {p.name}...")
    item_id = env.upload(path)
    return {"itemID": item_id}


def _fetch_to(url: str, dest: str, env: RunEnv, convert_raster: bool) -> str:
    downloaded = Path(env.download(url, env.work_dir))
    dest_path = Path(dest)
    if dest_path.suffix.lower() in ("", ".file"):
        dest_path = dest_path.with_suffix(downloaded.suffix)
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    if (convert_raster and downloaded.suffix.lower() != dest_path.suffix.lower()
            and dest_path.suffix):
        from osgeo import gdal

        result = gdal.Translate(str(dest_path), str(downloaded))
        if result is None:
            raise QgsProcessingException(
                f"Could not convert the downloaded raster {downloaded.name} to {dest_path}.")
        result = None
    else:
        shutil.copyfile(downloaded, dest_path)
    env.feedback.pushInfo(f"Downloaded {downloaded.name} to {dest_path}")
    return str(dest_path)


class CrsType(GpType):
    """GPSpatialReference."""

    def input_parameters(self, p: Any) -> list[QgsProcessingParameterDefinition]:
        """Return a CRS parameter."""
        crs = sr_to_crs(p.default_value)
        default = crs.authid() or (crs.toWkt() if crs.isValid() else None)
        return [_finish(QgsProcessingParameterCrs(p.name, display_name(p), default, True), p)]

    def to_wire(self, p: Any, env: RunEnv) -> Any:
        """Return ``{"wkid": n}`` or ``{"wkt": ...}``."""
        if _raw(env, p.name) is MISSING:
            return MISSING
        crs = env.algorithm.parameterAsCrs(env.parameters, p.name, env.context)
        return crs_to_sr(crs) if crs.isValid() else MISSING


class ExtentType(GpType):
    """GPExtent and GPEnvelope."""

    def input_parameters(self, p: Any) -> list[QgsProcessingParameterDefinition]:
        """Return an extent parameter."""
        default = None
        value = p.default_value
        if isinstance(value, dict) and all(k in value for k in ("xmin", "ymin", "xmax", "ymax")):
            try:
                numbers = [float(value[k]) for k in ("xmin", "xmax", "ymin", "ymax")]
            except (TypeError, ValueError):
                numbers = []
            if numbers and all(math.isfinite(n) for n in numbers):
                default = ",".join(repr(n) for n in numbers)
                crs = sr_to_crs(value.get("spatialReference"))
                if crs.isValid() and crs.authid():
                    default += f" [{crs.authid()}]"
        return [_finish(QgsProcessingParameterExtent(p.name, display_name(p), default, True), p)]

    def to_wire(self, p: Any, env: RunEnv) -> Any:
        """Return ``{"xmin", "ymin", "xmax", "ymax", "spatialReference"}``."""
        if _raw(env, p.name) is MISSING:
            return MISSING
        rect: QgsRectangle = env.algorithm.parameterAsExtent(
            env.parameters, p.name, env.context)
        if rect.isNull():
            return MISSING
        crs = env.algorithm.parameterAsExtentCrs(env.parameters, p.name, env.context)
        wire = {"xmin": rect.xMinimum(), "ymin": rect.yMinimum(),
                "xmax": rect.xMaximum(), "ymax": rect.yMaximum()}
        if crs.isValid():
            wire["spatialReference"] = crs_to_sr(crs)
        return wire


class FieldType(StringType):
    """Field: a field of the input layer the task names, else a plain string (its name)."""

    def default(self, p: Any) -> str | None:
        """Return the default field's name (the task may give a whole field description)."""
        return _field_name(p.default_value)

    def input_parameters(self, p: Any) -> list[QgsProcessingParameterDefinition]:
        """Return a field parameter tied to its layer when the task says which."""
        parent = _dependency(p)
        if not parent:
            return super().input_parameters(p)
        default = _field_name(p.default_value)
        definition = QgsProcessingParameterField(
            p.name, display_name(p), default, parent,
            QgsProcessingParameterField.DataType.Any, False, True)
        return [_finish(definition, p)]

    def to_wire(self, p: Any, env: RunEnv) -> Any:
        """Return the field name."""
        if not _dependency(p):
            return super().to_wire(p, env)
        if _raw(env, p.name) is MISSING:
            return MISSING
        # parameterAsFields is deprecated (and warns) from QGIS 3.40, which has parameterAsStrings
        as_strings = getattr(env.algorithm, "parameterAsStrings", env.algorithm.parameterAsFields)
        names = as_strings(env.parameters, p.name, env.context)
        return names[0] if names else MISSING


def _field_name(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name")
    return value if isinstance(value, str) and value else None


def _dependency(p: Any) -> str:
    extra = getattr(p, "extra", None) or {}
    for key in ("dependency", "parentParameter", "dependsOn", "dependencies"):
        value = extra.get(key)
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, str) and value:
            return value
    return ""


class MultiValueType(GpType):
    """GPMultiValue:<T>: the multiple form of T."""

    def __init__(self, inner_type_name: str) -> None:
        self.inner_name = inner_type_name
        self.inner = TYPES.get(inner_type_name)

    def _layer_kind(self) -> int | None:
        if isinstance(self.inner, FeatureSetType):
            return (QgsProcessing.SourceType.TypeVector if self.inner.table
                    else QgsProcessing.SourceType.TypeVectorAnyGeometry)
        if isinstance(self.inner, RasterType):
            return QgsProcessing.SourceType.TypeRaster
        if isinstance(self.inner, FileType):
            return _FILE_TYPE
        return None

    def input_parameters(self, p: Any) -> list[QgsProcessingParameterDefinition]:
        """Return an enum allowing several values, multiple layers, or a list string."""
        choices = _choices(p)
        if choices:
            return [_enum(p, choices, multiple=True)]
        kind = self._layer_kind()
        if kind is not None:
            definition = QgsProcessingParameterMultipleLayers(
                p.name, display_name(p), kind, None, True)
            return [_finish(definition, p)]
        default = None
        if isinstance(p.default_value, list):
            default = ";".join(_text(v) for v in p.default_value)
        definition = QgsProcessingParameterString(p.name, display_name(p), default, False, True)
        note = f"Several {self.inner_name} values: separate them with ';' or give a JSON array."
        if self.inner is None:
            note += " Each value is given as the JSON the service expects."
        return [_finish(definition, p, note)]

    def to_wire(self, p: Any, env: RunEnv) -> Any:
        """Return the list of wire values."""
        if _raw(env, p.name) is MISSING:
            return MISSING
        choices = _choices(p)
        if choices:
            indexes = env.algorithm.parameterAsEnums(env.parameters, p.name, env.context)
            return [choices[i] for i in indexes]
        kind = self._layer_kind()
        if kind is not None:
            return self._layers_to_wire(p, env, kind)
        text = env.algorithm.parameterAsString(env.parameters, p.name, env.context).strip()
        if not text:
            return MISSING
        try:
            values = json.loads(text)
            if not isinstance(values, list):
                values = [values]
        except ValueError:
            values = [v.strip() for v in text.split(";") if v.strip()]
        return [_convert_simple(self.inner_name, v) for v in values]

    def _layers_to_wire(self, p: Any, env: RunEnv, kind: int) -> list:
        if kind == _FILE_TYPE:
            files = env.parameters.get(p.name) or []
            if isinstance(files, str):
                files = [f for f in files.split(";") if f]
            return [upload_or_url(str(f), p, env) for f in files]
        layers = env.algorithm.parameterAsLayerList(env.parameters, p.name, env.context)
        values = []
        for layer in layers:
            if kind == QgsProcessing.SourceType.TypeRaster:
                values.append(upload_or_url(layer_file(layer), p, env))
            elif isinstance(layer, QgsVectorLayer):
                if layer.crs().isValid():
                    env.crs_used.append(layer.crs())
                values.append(feature_input(layer, p, env))
            else:
                raise QgsProcessingException(
                    f"{display_name(p)} ({p.name}): layer {layer.name()} is not a vector layer.")
        return values


def _convert_simple(type_name: str, value: Any) -> Any:
    """Return one list item: text for known types (gp_client encodes it by the task's type)."""
    if not isinstance(value, str) or type_name in TYPES:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


TYPES: dict[str, GpType] = {
    "GPString": StringType(),
    "GPBoolean": BooleanType(),
    "GPLong": NumberType(integer=True),
    "GPDouble": NumberType(integer=False),
    "GPLinearUnit": UnitType(LINEAR_UNITS),
    "GPArealUnit": UnitType(AREAL_UNITS),
    "GPDate": DateType(),
    "GPFeatureRecordSetLayer": FeatureSetType(table=False),
    "GPRecordSet": FeatureSetType(table=True),
    "GPDataFile": FileType(),
    "GPRasterData": RasterType(),
    "GPRasterDataLayer": RasterType(),
    "GPSpatialReference": CrsType(),
    "GPExtent": ExtentType(),
    "GPEnvelope": ExtentType(),
    "Field": FieldType(),
}
_RAW = RawJson()


def gp_type(data_type: str) -> GpType:
    """Return the table entry for a GP data type (raw JSON for unknown ones)."""
    if data_type in TYPES:
        return TYPES[data_type]
    if data_type.startswith("GPMultiValue:"):
        return MultiValueType(data_type.split(":", 1)[1])
    return _RAW


def is_known(data_type: str) -> bool:
    """Return whether a GP data type has its own entry (not the raw-JSON fallback)."""
    return gp_type(data_type) is not _RAW
