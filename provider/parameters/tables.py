"""GPValueTable as a table (Processing's matrix) and GPComposite as the member types it takes.

A value table's columns are its ``parameterInfos``; QGIS's matrix parameter shows them as
headers and stores the cells row by row in one flat list. The REST API takes the rows as
an array of arrays, each cell in its column's type (``[["Name", true, 2.5], ...]``,
Esri's documented example: ``[[567, -56756.567], [-6567, 67886.678]]``).

A composite parameter takes a value of any one of its member types. Processing has no
parameter of several types, so it is a text parameter whose help names the members; the
text is read as the first member type it fits (a number, a distance such as ``30 Meters``,
then text), and JSON is passed on as it is.
"""

from __future__ import annotations

import json
import re
from typing import Any

from qgis.core import (
    QgsProcessingException,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterMatrix,
)

from ...gp_client.model import ParameterDescription
from ...gp_client.values import AREAL_UNITS, LINEAR_UNITS
from .base import MISSING, GpType, RawJson, RunEnv, finish, raw_value
from .choices import option_index
from .helptext import display_name

_NUMBER_TYPES = ("GPLong", "GPDouble")
_TRUE, _FALSE = ("true", "yes", "1"), ("false", "no", "0")


def column_label(column: ParameterDescription) -> str:
    """Return a column's header: its label, else its data type."""
    return column.label.strip() or column.data_type


def cell_value(column: ParameterDescription, value: Any) -> Any:
    """Return one cell as its column's type wants it on the wire (ValueError if it cannot)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = value.strip() if isinstance(value, str) else value
    kind = column.data_type
    if kind in _NUMBER_TYPES:
        if isinstance(text, bool):
            raise ValueError("is not a number")
        number = float(text)  # ValueError for text that is not a number
        if kind == "GPLong":
            if not number.is_integer():
                raise ValueError("is not a whole number")
            return int(number)
        return number
    if kind == "GPBoolean":
        if isinstance(text, bool):
            return text
        if str(text).lower() in _TRUE + _FALSE:
            return str(text).lower() in _TRUE
        raise ValueError("is not true or false")
    if kind == "GPString":
        return str(text)
    if isinstance(text, str) and text[:1] in "[{":
        try:
            return json.loads(text)
        except ValueError:
            pass
    return text


def table_rows(p: ParameterDescription, value: Any) -> list[list]:
    """Return the rows of a value table given as a flat matrix list, rows, or JSON text.

    Raises ValueError naming the row and column of a cell that does not fit its column.
    """
    columns = p.members
    if isinstance(value, str):
        text = value.strip()
        try:
            value = json.loads(text) if text.startswith("[") else text.split(",")
        except ValueError:
            raise ValueError("the rows are not a JSON array of arrays") from None
    if not isinstance(value, (list, tuple)):
        value = [value]
    if value and all(isinstance(row, (list, tuple)) for row in value):
        rows = [list(row) for row in value]
    else:
        width = len(columns)
        rows = [list(value[i:i + width]) for i in range(0, len(value), width)]
    out = []
    for number, row in enumerate(rows, start=1):
        if all(cell is None or (isinstance(cell, str) and not cell.strip()) for cell in row):
            continue  # an empty row left in the table widget
        cells = []
        for column, cell in zip(columns, row):
            try:
                cells.append(cell_value(column, cell))
            except ValueError as err:
                reason = str(err) if str(err).startswith("is ") else "is not a number"
                raise ValueError(f"row {number}, {column_label(column)}: {cell!r} {reason}"
                                 ) from None
        out.append(cells)
    return out


class ValueTableType(RawJson):
    """GPValueTable: a matrix with the task's columns (raw JSON when it publishes none)."""

    def input_parameters(self, p: ParameterDescription
                         ) -> list[QgsProcessingParameterDefinition]:
        """Return a matrix parameter whose headers are the value table's columns."""
        columns = p.members
        if not columns:
            return super().input_parameters(p)
        default = None
        rows = p.default_value if isinstance(p.default_value, list) else []
        if rows and all(isinstance(row, list) for row in rows):
            default = [cell for row in rows for cell in row]
        definition = QgsProcessingParameterMatrix(
            p.name, display_name(p), max(len(rows), 1), False,
            [column_label(c) for c in columns], default, True)
        return [finish(definition, p, self.help_note(p))]

    def help_note(self, p: ParameterDescription) -> str:
        """Return the columns and their types (the raw-JSON note without columns)."""
        if not p.members:
            return super().help_note(p)
        kinds = ", ".join(f"{column_label(c)} ({c.data_type})" for c in p.members)
        return (f"A table of rows with the columns {kinds}. Scripts may also give the rows "
                "as a JSON array of arrays.")

    def to_wire(self, p: ParameterDescription, env: RunEnv) -> Any:
        """Return the rows as an array of arrays, each cell in its column's type."""
        if not p.members:
            return super().to_wire(p, env)
        raw = raw_value(env, p.name)
        if raw is MISSING:
            return MISSING
        if not isinstance(raw, (str, list, tuple)):
            raw = env.algorithm.parameterAsMatrix(env.parameters, p.name, env.context)
        try:
            rows = table_rows(p, raw)
        except ValueError as err:
            raise QgsProcessingException(f"{display_name(p)} ({p.name}): {err}") from None
        return rows or MISSING


_MEASURE = re.compile(r"\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s+(\S.*?)\s*")


def composite_value(p: ParameterDescription, text: str) -> Any:
    """Return a composite's text as the first of its member types it fits."""
    stripped = text.strip()
    if stripped[:1] in "[{":
        try:
            return json.loads(stripped)
        except ValueError:
            pass
    kinds = [m.data_type for m in p.members]
    for kind in kinds:
        if kind in _NUMBER_TYPES:
            try:
                return cell_value(ParameterDescription(name="", data_type=kind), stripped)
            except ValueError:
                continue
        if kind in ("GPLinearUnit", "GPArealUnit"):
            found = _MEASURE.fullmatch(stripped)
            units = LINEAR_UNITS if kind == "GPLinearUnit" else AREAL_UNITS
            index = option_index(found.group(2), units) if found else None
            if found and index is not None:
                key = "distance" if kind == "GPLinearUnit" else "area"
                return {key: float(found.group(1)), "units": units[index]}
    return stripped


_FORMS = {"GPLong": "a whole number", "GPDouble": "a number",
          "GPLinearUnit": "a distance such as '30 Meters'",
          "GPArealUnit": "an area such as '2 SquareKilometers'",
          "Field": "a field name", "GPString": "text"}


class CompositeType(RawJson):
    """GPComposite: text read as one of its member types (raw JSON when it names none)."""

    def help_note(self, p: ParameterDescription) -> str:
        """Return the member types and the text each is given as."""
        if not p.members:
            return super().help_note(p)
        kinds = " or ".join(dict.fromkeys(m.data_type for m in p.members))
        given = ", ".join(dict.fromkeys(_FORMS.get(m.data_type, f"{m.data_type} as JSON")
                                        for m in p.members))
        return f"One value of type {kinds}: give {given}; JSON is passed on as it is."

    def to_wire(self, p: ParameterDescription, env: RunEnv) -> Any:
        """Return the text as its member type's value."""
        if not p.members:
            return super().to_wire(p, env)
        if raw_value(env, p.name) is MISSING:
            return MISSING
        text = env.algorithm.parameterAsString(env.parameters, p.name, env.context)
        return composite_value(p, text) if text.strip() else MISSING


# The table entries of this module (registered in table.TYPES).
VALUE_TABLE: GpType = ValueTableType()
COMPOSITE: GpType = CompositeType()
