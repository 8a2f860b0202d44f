"""Simple GP types: strings (and fields), booleans, numbers, dates, spatial references, extents."""

from __future__ import annotations

import math
from datetime import datetime, timezone
from typing import Any

from qgis.core import (
    QgsProcessingOutputBoolean,
    QgsProcessingOutputDefinition,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterCrs,
    QgsProcessingParameterDateTime,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterExtent,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
    QgsRectangle,
)
from qgis.PyQt.QtCore import QDateTime, Qt

from ...gp_client.model import ParameterDescription
from .base import MISSING, GpType, RunEnv, as_text, crs_to_sr, finish, raw_value, sr_to_crs
from .choices import choices, enum_parameter
from .filters import number_range
from .helptext import display_name


class StringType(GpType):
    """GPString (and Field, when nothing ties it to a layer)."""

    def input_parameters(self, p: ParameterDescription
                         ) -> list[QgsProcessingParameterDefinition]:
        """Return a string parameter, or an enum when the task has a choice list."""
        options = choices(p)
        if options:
            return [enum_parameter(p, options)]
        default = self.default(p)
        return [finish(QgsProcessingParameterString(
            p.name, display_name(p), default, optional=True), p)]

    def default(self, p: ParameterDescription) -> str | None:
        """Return the default text of the parameter."""
        return p.default_value if isinstance(p.default_value, str) else None

    def to_wire(self, p: ParameterDescription, env: RunEnv) -> Any:
        """Return the string (the chosen string for a choice list)."""
        options = choices(p)
        if raw_value(env, p.name) is MISSING:
            return MISSING
        if options:
            return options[env.algorithm.parameterAsEnum(env.parameters, p.name, env.context)]
        return env.algorithm.parameterAsString(env.parameters, p.name, env.context)


class BooleanType(GpType):
    """GPBoolean."""

    def input_parameters(self, p: ParameterDescription
                         ) -> list[QgsProcessingParameterDefinition]:
        """Return a boolean parameter."""
        default = p.default_value if isinstance(p.default_value, bool) else None
        return [finish(QgsProcessingParameterBoolean(
            p.name, display_name(p), default, True), p)]

    def to_wire(self, p: ParameterDescription, env: RunEnv) -> Any:
        """Return true or false."""
        if raw_value(env, p.name) is MISSING:
            return MISSING
        return env.algorithm.parameterAsBoolean(env.parameters, p.name, env.context)

    def output(self, p: ParameterDescription) -> QgsProcessingOutputDefinition | None:
        """Return a boolean output."""
        return QgsProcessingOutputBoolean(p.name, display_name(p))

    def from_wire(self, p: ParameterDescription, value: Any, env: RunEnv) -> None:
        """Store the boolean."""
        env.results[p.name] = bool(value) if value is not None else None


class NumberType(GpType):
    """GPLong and GPDouble."""

    def __init__(self, integer: bool) -> None:
        self.integer = integer

    def input_parameters(self, p: ParameterDescription
                         ) -> list[QgsProcessingParameterDefinition]:
        """Return a number parameter (its range filter as minimum and maximum), or an enum
        when the task lists the values allowed."""
        options = choices(p)
        if options:
            return [enum_parameter(p, options)]
        kind = (QgsProcessingParameterNumber.Type.Integer if self.integer
                else QgsProcessingParameterNumber.Type.Double)
        default = p.default_value
        if isinstance(default, bool) or not isinstance(default, (int, float)):
            default = None
        definition = QgsProcessingParameterNumber(p.name, display_name(p), kind, default, True)
        minimum, maximum = number_range(p)
        if minimum is not None:
            definition.setMinimum(minimum)
        if maximum is not None:
            definition.setMaximum(maximum)
        return [finish(definition, p)]

    def to_wire(self, p: ParameterDescription, env: RunEnv) -> Any:
        """Return the number (the chosen one of a value list)."""
        if raw_value(env, p.name) is MISSING:
            return MISSING
        options = choices(p)
        if options:
            text = options[env.algorithm.parameterAsEnum(env.parameters, p.name, env.context)]
            return int(float(text)) if self.integer else float(text)
        if self.integer:
            return env.algorithm.parameterAsInt(env.parameters, p.name, env.context)
        return env.algorithm.parameterAsDouble(env.parameters, p.name, env.context)

    def output(self, p: ParameterDescription) -> QgsProcessingOutputDefinition | None:
        """Return a number output."""
        return QgsProcessingOutputNumber(p.name, display_name(p))

    def from_wire(self, p: ParameterDescription, value: Any, env: RunEnv) -> None:
        """Store the number."""
        env.results[p.name] = value


class DateType(GpType):
    """GPDate: a date-time, milliseconds since 1970 UTC on the wire."""

    def input_parameters(self, p: ParameterDescription
                         ) -> list[QgsProcessingParameterDefinition]:
        """Return a date-time parameter."""
        default = None
        if isinstance(p.default_value, (int, float)) and not isinstance(p.default_value, bool):
            default = QDateTime.fromMSecsSinceEpoch(int(p.default_value), Qt.TimeSpec.UTC)
        definition = QgsProcessingParameterDateTime(
            p.name, display_name(p), QgsProcessingParameterDateTime.Type.DateTime, default, True)
        return [finish(definition, p)]

    def to_wire(self, p: ParameterDescription, env: RunEnv) -> Any:
        """Return milliseconds since the epoch (UTC)."""
        if raw_value(env, p.name) is MISSING:
            return MISSING
        value = env.algorithm.parameterAsDateTime(env.parameters, p.name, env.context)
        return value.toMSecsSinceEpoch() if value.isValid() else MISSING

    def from_wire(self, p: ParameterDescription, value: Any, env: RunEnv) -> None:
        """Store the date as ISO 8601 text (UTC)."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = datetime.fromtimestamp(value / 1000.0, tz=timezone.utc)
        env.results[p.name] = as_text(value)


class CrsType(GpType):
    """GPSpatialReference."""

    def input_parameters(self, p: ParameterDescription
                         ) -> list[QgsProcessingParameterDefinition]:
        """Return a CRS parameter."""
        crs = sr_to_crs(p.default_value)
        default = crs.authid() or (crs.toWkt() if crs.isValid() else None)
        return [finish(QgsProcessingParameterCrs(p.name, display_name(p), default, True), p)]

    def to_wire(self, p: ParameterDescription, env: RunEnv) -> Any:
        """Return ``{"wkid": n}`` or ``{"wkt": ...}``."""
        if raw_value(env, p.name) is MISSING:
            return MISSING
        crs = env.algorithm.parameterAsCrs(env.parameters, p.name, env.context)
        return crs_to_sr(crs) if crs.isValid() else MISSING


class ExtentType(GpType):
    """GPExtent and GPEnvelope."""

    def input_parameters(self, p: ParameterDescription
                         ) -> list[QgsProcessingParameterDefinition]:
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
        return [finish(QgsProcessingParameterExtent(p.name, display_name(p), default, True), p)]

    def to_wire(self, p: ParameterDescription, env: RunEnv) -> Any:
        """Return ``{"xmin", "ymin", "xmax", "ymax", "spatialReference"}``."""
        if raw_value(env, p.name) is MISSING:
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

    def default(self, p: ParameterDescription) -> str | None:
        """Return the default field's name (the task may give a whole field description)."""
        return _field_name(p.default_value)

    def input_parameters(self, p: ParameterDescription
                         ) -> list[QgsProcessingParameterDefinition]:
        """Return a field parameter tied to its layer when the task says which."""
        parent = _dependency(p)
        if not parent:
            return super().input_parameters(p)
        default = _field_name(p.default_value)
        definition = QgsProcessingParameterField(
            p.name, display_name(p), default, parent,
            QgsProcessingParameterField.DataType.Any, False, True)
        return [finish(definition, p)]

    def to_wire(self, p: ParameterDescription, env: RunEnv) -> Any:
        """Return the field name."""
        if not _dependency(p):
            return super().to_wire(p, env)
        if raw_value(env, p.name) is MISSING:
            return MISSING
        # parameterAsFields is deprecated (and warns) from QGIS 3.40, which has parameterAsStrings
        as_strings = getattr(env.algorithm, "parameterAsStrings", env.algorithm.parameterAsFields)
        names = as_strings(env.parameters, p.name, env.context)
        return names[0] if names else MISSING


def _field_name(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name")
    return value if isinstance(value, str) and value else None


def _dependency(p: ParameterDescription) -> str:
    extra = p.extra or {}
    for key in ("dependency", "parentParameter", "dependsOn", "dependencies"):
        value = extra.get(key)
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, str) and value:
            return value
    return ""
