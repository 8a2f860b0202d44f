"""Choice lists and units: enums that store an index while the wire gets the choice's text."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qgis.core import (
    QgsProcessingException,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterNumber,
)

from ...gp_client.model import ParameterDescription
from .base import MISSING, GpType, RunEnv, finish, raw_value
from .command_line import swallowed_by_qgis_process
from .helptext import display_name

UNITS_SUFFIX = "_units"


def choices(p: ParameterDescription) -> list[str]:
    """Return the task's choice list as the texts an enum offers (empty when none)."""
    return [str(c) for c in p.choices]


def enum_parameter(p: ParameterDescription, options: Sequence[str],
                   multiple: bool = False) -> QgsProcessingParameterEnum:
    """Return an enum of the options, its default the task's default choice(s)."""
    default: Any = None
    value = p.default_value
    if multiple and isinstance(value, list):
        default = [options.index(str(v)) for v in value if str(v) in options] or None
    elif value is not None and str(value) in options:
        default = options.index(str(value))
    return finish(QgsProcessingParameterEnum(
        p.name, display_name(p), list(options), multiple, default, True), p)


def unit_index(value: str, units: Sequence[str], name: str) -> int:
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


def option_index(text: str, options: Sequence[str]) -> int | None:
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
        index = option_index(item, options)
        return item if index is None else index

    if isinstance(value, str):
        if definition.allowMultiple() and "," in value and option_index(value, options) is None:
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

    def unit_choices(self, p: ParameterDescription) -> list[str]:
        """Return the unit names offered (the task's default unit first if unusual)."""
        units = list(self.units)
        default = p.default_value.get("units") if isinstance(p.default_value, dict) else None
        if isinstance(default, str) and default and default not in units:
            units.insert(0, default)
        return units

    def input_parameters(self, p: ParameterDescription
                         ) -> list[QgsProcessingParameterDefinition]:
        """Return the distance (or area) number and its unit enum."""
        value = p.default_value if isinstance(p.default_value, dict) else {}
        amount = value.get("distance", value.get("area"))
        if isinstance(amount, bool) or not isinstance(amount, (int, float)):
            amount = None
        number = finish(QgsProcessingParameterNumber(
            p.name, display_name(p), QgsProcessingParameterNumber.Type.Double, amount, True), p)
        units = self.unit_choices(p)
        default_unit = value.get("units")
        default_index = units.index(default_unit) if default_unit in units else 0
        unit = QgsProcessingParameterEnum(
            p.name + UNITS_SUFFIX, f"{display_name(p)} units", units, False, default_index,
            False)
        unit.setHelp(f"Unit of {display_name(p)} (Esri unit name, sent as is).")
        if number.flags() & QgsProcessingParameterDefinition.Flag.FlagAdvanced:
            unit.setFlags(unit.flags() | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
        return [number, unit]

    def to_wire(self, p: ParameterDescription, env: RunEnv) -> Any:
        """Return ``{"distance": d, "units": u}`` (``area`` for GPArealUnit)."""
        if raw_value(env, p.name) is MISSING:
            return MISSING
        amount = env.algorithm.parameterAsDouble(env.parameters, p.name, env.context)
        units = self.unit_choices(p)
        unit_name = p.name + UNITS_SUFFIX
        parameters = env.parameters
        swallowed = swallowed_by_qgis_process(unit_name) if unit_name not in parameters else None
        if swallowed is not None:
            parameters = {**parameters, unit_name: unit_index(swallowed, units, unit_name)}
        index = env.algorithm.parameterAsEnum(parameters, unit_name, env.context)
        key = "area" if p.data_type == "GPArealUnit" else "distance"
        return {key: amount, "units": units[index] if 0 <= index < len(units) else units[0]}
