"""Choice lists and units: enums that store an index while the wire gets the choice's text."""

from __future__ import annotations

import re
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
from .filters import value_list
from .helptext import display_name

UNITS_SUFFIX = "_units"


def choices(p: ParameterDescription) -> list[str]:
    """Return the task's choice list (or valueList filter) as an enum's texts (or [])."""
    return [str(c) for c in p.choices] or list(value_list(p))


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


def unit_label(unit: str) -> str:
    """Return the name QGIS shows for an Esri unit (``esriSquareKilometers``: Square Kilometers).

    The ``esriInt`` units are the international foot, inch, yard, mile and nautical mile.
    """
    name = unit.removeprefix("esri")
    if name.startswith("Int") and name[3:4].isupper():
        name = "International" + name[3:]
    return re.sub(r"(?<=[a-z])(?=[A-Z])", " ", name) or unit


def _key(text: str) -> str:
    """Return text compared loosely: no case, spaces, '_' or '-', no ``esri`` prefix."""
    key = re.sub(r"[\s_-]", "", text).lower().removeprefix("esri")
    return key.replace("international", "int")


def unit_index(value: str, units: Sequence[str], name: str) -> int:
    """Return the index of a unit given by number, shown name or Esri name (any case)."""
    text = value.strip()
    if text.isdigit() and int(text) < len(units):
        return int(text)
    index = option_index(text, [unit_label(unit) for unit in units])
    if index is not None:
        return index
    raise QgsProcessingException(
        f"{name}: {value!r} is not one of the units offered "
        f"({', '.join(f'{i}: {unit_label(u)}' for i, u in enumerate(units))}).")


def option_index(text: str, options: Sequence[str]) -> int | None:
    """Return the index of an option given by name (``ALL``, ``kilometers``), else None.

    Unit options are shown names (``Square Kilometers``): the Esri name
    (``esriSquareKilometers``) and forms like ``square_kilometers`` find them too.
    """
    text = text.strip()
    if not text:
        return None
    if text in options:
        return list(options).index(text)
    for same in (str.lower, _key):
        found = [i for i, option in enumerate(options) if same(option) == same(text)]
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
        """Return the Esri unit names offered (the task's default unit first if unusual)."""
        units = list(self.units)
        default = self._default_unit(p)
        if default and option_index(default, units) is None:
            units.insert(0, default)
        return units

    @staticmethod
    def _default_unit(p: ParameterDescription) -> str:
        value = p.default_value.get("units") if isinstance(p.default_value, dict) else None
        return value if isinstance(value, str) else ""

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
        # a task may write its default as "Meters" or "esriMeters"
        default_index = option_index(self._default_unit(p), units) or 0
        unit = QgsProcessingParameterEnum(
            p.name + UNITS_SUFFIX, f"{display_name(p)} units",
            [unit_label(name) for name in units], False, default_index, False)
        unit.setHelp(
            f"Unit of {display_name(p)}, sent as its Esri name ({unit_label(units[0])}: "
            f"{units[0]}). Scripts may give the index, the name shown or the Esri name.")
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
