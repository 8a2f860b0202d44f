"""The base of every table entry (GpType) and what a conversion sees while a task runs (RunEnv)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingFeedback,
    QgsProcessingOutputDefinition,
    QgsProcessingOutputString,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterString,
)

from ...esrijson.spatialref import SpatialReferenceDecoder, encode_spatial_reference
from ...gp_client.model import ParameterDescription
from .helptext import display_name, help_text

MISSING = object()  # an input left empty: not sent, the server applies its default


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


def finish(definition: QgsProcessingParameterDefinition, p: ParameterDescription,
           note: str = "", optional: bool | None = None) -> QgsProcessingParameterDefinition:
    """Set a definition's optional/advanced flags and its help from the task parameter."""
    flags = definition.flags()
    if optional is None:
        optional = not p.is_required
    if optional:
        flags |= QgsProcessingParameterDefinition.Flag.FlagOptional
        if (p.category or "").strip():
            flags |= QgsProcessingParameterDefinition.Flag.FlagAdvanced
    else:
        flags &= ~QgsProcessingParameterDefinition.Flag.FlagOptional
    definition.setFlags(flags)
    definition.setHelp(help_text(p, note))
    return definition


def raw_value(env: RunEnv, name: str) -> Any:
    """Return the raw value given for ``name``, or MISSING when it is empty with no default."""
    value = env.parameters.get(name)
    if value is None or (isinstance(value, str) and value == ""):
        definition = env.algorithm.parameterDefinition(name)
        default = definition.defaultValue() if definition is not None else None
        if default is None or (isinstance(default, str) and default == ""):
            return MISSING
    return value


def output_skipped(env: RunEnv, name: str) -> bool:
    """Return whether the user chose to skip an optional destination."""
    if name not in env.parameters:
        return False  # not given: the default (a temporary output) applies
    value = env.parameters[name]
    return value is None or (isinstance(value, str) and not value.strip())


def crs_to_sr(crs: QgsCoordinateReferenceSystem) -> dict:
    """Return the Esri spatial reference JSON of a CRS (esrijson's encoding)."""
    return encode_spatial_reference(crs) or {}


def sr_to_crs(sr: Any) -> QgsCoordinateReferenceSystem:
    """Return the CRS of an Esri spatial reference JSON (invalid CRS when unknown)."""
    return SpatialReferenceDecoder().decode(sr)[0]


def as_text(value: Any) -> str:
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


def default_json(value: Any) -> str | None:
    """Return a task default as the text of a raw-JSON string parameter."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return json.dumps(value)


class GpType:
    """How one GP data type shows in Processing and travels on the wire."""

    note = ""
    streams_result = False  # True: from_wire takes a ResultFile (asynchronous jobs)

    def input_parameters(self, p: ParameterDescription
                         ) -> list[QgsProcessingParameterDefinition]:
        """Return the Processing parameters standing for an input of this type."""
        return [finish(QgsProcessingParameterString(
            p.name, display_name(p), default_json(p.default_value), multiLine=True,
            optional=True), p, self.help_note(p))]

    def help_note(self, p: ParameterDescription) -> str:
        """Return what the help adds to the task's own description of the parameter."""
        return self.note

    def to_wire(self, p: ParameterDescription, env: RunEnv) -> Any:
        """Return the wire value of an input (``MISSING`` when nothing is to be sent)."""
        raw = raw_value(env, p.name)
        if raw is MISSING:
            return MISSING
        text = env.algorithm.parameterAsString(env.parameters, p.name, env.context)
        if not text.strip():
            return MISSING
        try:
            return json.loads(text)
        except ValueError:
            return text

    def output_parameter(self, p: ParameterDescription
                         ) -> QgsProcessingParameterDefinition | None:
        """Return the destination parameter of an output, if the type needs one."""
        return None

    def output(self, p: ParameterDescription) -> QgsProcessingOutputDefinition | None:
        """Return the output definition of an output that needs no destination."""
        return QgsProcessingOutputString(p.name, display_name(p))

    def from_wire(self, p: ParameterDescription, value: Any, env: RunEnv) -> None:
        """Put an output's value into the algorithm's results."""
        env.results[p.name] = as_text(value)


class RawJson(GpType):
    """A type with no Processing equivalent: the raw JSON value as a string."""

    note = (
        "This GP data type has no Processing equivalent: give the value as the JSON "
        "the service expects (see the service's REST page for its form)."
    )
