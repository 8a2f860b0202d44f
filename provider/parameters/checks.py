"""Inputs checked before anything is sent: what the task description says a run needs.

Called from the algorithm's checkParameterValues, so the dialog, batch runs, models,
processing.run and qgis_process all refuse the same inputs, in QGIS's terms, before a
request reaches the server: a required input left empty, a layer of a geometry type the
task's filter does not take, a number outside its range, a file of a type its filter does
not list, value table cells that do not fit their columns, and an input with more features
than the service returns in one result when the task gives one result per input feature.
"""

from __future__ import annotations

import json
import math
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingFeatureSource,
    QgsProperty,
    QgsVectorLayer,
)

from ...gp_client.model import ParameterDescription, ServiceDescription, TaskDescription
from ...gp_client.values import member_type
from ..run_options import SPLIT, feature_inputs
from .choices import choices
from .filters import TABLE, accepted_kinds, extensions, kinds_text, layer_kind, number_range
from .helptext import display_name
from .tables import column_label, table_rows

# Fields ArcGIS's per-feature tools (Buffer, Feature To Point, Split Line...) write to link
# each result back to its input feature. An output schema holding one says the task gives
# a result per input feature.
ORIGIN_FIELDS = {"orig_fid", "orig_oid", "orig_objectid"}


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, (str, list, tuple)) and len(value) == 0)


def missing_required(alg: QgsProcessingAlgorithm, p: ParameterDescription,
                     parameters: dict) -> str:
    """Return why a required input left empty cannot run ('' when it has a value)."""
    if not p.is_required or not _empty(parameters.get(p.name)):
        return ""
    definition = alg.parameterDefinition(p.name)
    if definition is None or not _empty(definition.defaultValue()):
        return ""
    return (f"{display_name(p)} ({p.name}) is required by the task: give a value. "
            "Nothing was sent to the server.")


def layer_problem(p: ParameterDescription, layer_name: str, wkb_type: int) -> str:
    """Return why a layer does not suit a feature input's geometry filter ('' if it does)."""
    accepted = accepted_kinds(p)
    if not accepted:
        return ""
    kind = layer_kind(wkb_type)
    if kind in accepted:
        return ""
    given = "a table without geometry" if kind == TABLE else f"a {kind} layer"
    return (f"{display_name(p)} ({p.name}): the service takes {kinds_text(accepted)} layers "
            f"only, and '{layer_name}' is {given}. Choose a {kinds_text(accepted)} layer. "
            "Nothing was sent to the server.")


def wrong_geometry(alg: QgsProcessingAlgorithm, p: ParameterDescription, parameters: dict,
                   context: QgsProcessingContext) -> str:
    """Return why the layer(s) given for a feature input have the wrong geometry type."""
    if not accepted_kinds(p) or _empty(parameters.get(p.name)):
        return ""
    if p.data_type.startswith("GPMultiValue:"):
        layers = alg.parameterAsLayerList(parameters, p.name, context)
        sources = [(layer.name(), layer.wkbType()) for layer in layers
                   if isinstance(layer, QgsVectorLayer)]
    else:
        source = alg.parameterAsSource(parameters, p.name, context)
        if source is None:
            return ""  # Processing's own check reports a layer it cannot load
        sources = [(source.sourceName(), source.wkbType())]
    for name, wkb_type in sources:
        problem = layer_problem(p, name, wkb_type)
        if problem:
            return problem
    return ""


def wrong_file_type(p: ParameterDescription, parameters: dict) -> str:
    """Return why a local file does not have an extension the task's file filter lists."""
    allowed = extensions(p)
    value = parameters.get(p.name)
    if not allowed or _empty(value):
        return ""
    paths = value if isinstance(value, (list, tuple)) else str(value).split(";")
    for path in paths:
        url = urlsplit(str(path))
        name = PurePath(url.path if url.scheme in ("http", "https") else str(path)).name
        if PurePath(name).suffix.lower().lstrip(".") not in allowed:
            wanted = ", ".join("." + e for e in allowed)
            return (f"{display_name(p)} ({p.name}): the service takes {wanted} files, and "
                    f"'{name}' is not one. Nothing was sent to the server.")
    return ""


def _numbers(value: Any) -> list[float]:
    """The numbers in a given value: a number, its text, or a GPMultiValue's list or text."""
    if isinstance(value, (bool, QgsProperty)):
        return []
    if isinstance(value, (int, float)):
        return [float(value)] if math.isfinite(value) else []
    if isinstance(value, (list, tuple)):
        return [n for item in value for n in _numbers(item)]
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                return _numbers(json.loads(text))
            except ValueError:
                return []
        return [n for n in (_float(part) for part in text.split(";")) if n is not None]
    return []


def _float(text: str) -> float | None:
    try:
        number = float(text)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def outside(p: ParameterDescription, number: Any) -> str:
    """Return why a number is outside the range filter of ``p`` ('' when it is inside)."""
    minimum, maximum = number_range(p)
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        return ""
    if (minimum is not None and number < minimum) or (maximum is not None and number > maximum):
        return (f"{number:g} is outside the range the service takes, "
                f"{_range_text(minimum, maximum)}")
    return ""


def out_of_range(p: ParameterDescription, parameters: dict) -> str:
    """Return why a number (or a GPMultiValue's number) is outside the task's range."""
    if choices(p) or (member_type(p.data_type) or p.data_type) not in ("GPLong", "GPDouble"):
        return ""  # a value list is chosen from; a unit's range depends on its unit
    for number in _numbers(parameters.get(p.name)):
        problem = outside(p, number)
        if problem:
            return f"{display_name(p)} ({p.name}): {problem}. Nothing was sent to the server."
    return ""


def table_problem(p: ParameterDescription, parameters: dict) -> str:
    """Return why a value table's cells do not fit its columns or their ranges ('' if they do)."""
    if p.data_type != "GPValueTable" or not p.members:
        return ""
    value = parameters.get(p.name)
    if value is None or value == "" or value == []:
        return ""
    try:
        rows = table_rows(p, value)
    except ValueError as err:
        return f"{display_name(p)} ({p.name}): {err}. Nothing was sent to the server."
    for number, row in enumerate(rows, start=1):
        for column, cell in zip(p.members, row):
            problem = outside(column, cell)
            if problem:
                return (f"{display_name(p)} ({p.name}), row {number}, {column_label(column)}: "
                        f"{problem}. Nothing was sent to the server.")
    return ""


def _range_text(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f"{minimum:g} to {maximum:g}"
    return f"at least {minimum:g}" if minimum is not None else f"at most {maximum:g}"


def one_result_per_feature(task: TaskDescription) -> ParameterDescription | None:
    """Return the feature input of a task that gives one result per input feature, else None.

    That is a task with one feature input and a feature output whose published schema links
    each result back to its input feature (ORIG_FID and the like).
    """
    inputs = feature_inputs(task)
    if len(inputs) != 1:
        return None
    for p in task.outputs:
        schema = p.default_value if isinstance(p.default_value, dict) else {}
        fields = schema.get("fields") if isinstance(schema.get("fields"), list) else []
        if any(isinstance(f, dict) and str(f.get("name", "")).lower() in ORIGIN_FIELDS
               for f in fields):
            return inputs[0]
    return None


def over_transfer_limit(alg: QgsProcessingAlgorithm, task: TaskDescription,
                        service: ServiceDescription, parameters: dict,
                        context: QgsProcessingContext, split: int) -> str:
    """Return why a per-feature task's input has more features than one result may hold.

    ``split`` is the features per job the run was asked to send (0: one job).
    """
    limit = service.maximum_records
    p = one_result_per_feature(task)
    if p is None or not isinstance(limit, int) or limit <= 0 or 0 < split <= limit:
        return ""
    if _empty(parameters.get(p.name)):
        return ""
    source: QgsProcessingFeatureSource | None = alg.parameterAsSource(parameters, p.name,
                                                                       context)
    count = source.featureCount() if source is not None else -1
    if count <= limit:
        return ""
    return (f"{display_name(p)} ({p.name}) has {count} features, but {service.name} returns "
            f"at most {limit} features in one result (its maximumRecords) and this task "
            f"gives one result per input feature: the server would run the job and then "
            f"refuse to send its result. Set the advanced parameter 'Split the input into "
            f"jobs of' (ARCGISGP_SPLIT) to {limit} or fewer, or use fewer features. Nothing "
            "was sent to the server.")


def first_problem(alg: QgsProcessingAlgorithm, task: TaskDescription,
                  service: ServiceDescription, parameters: dict, context: QgsProcessingContext
                  ) -> str:
    """Return the first reason the inputs cannot run ('' when the task description has none).

    ``parameters`` are the algorithm's normalized parameters (enum names as indexes).
    """
    split = (alg.parameterAsInt(parameters, SPLIT, context)
             if alg.parameterDefinition(SPLIT) is not None else 0)
    for p in task.inputs:
        problem = (missing_required(alg, p, parameters)
                   or wrong_geometry(alg, p, parameters, context)
                   or out_of_range(p, parameters)
                   or wrong_file_type(p, parameters)
                   or table_problem(p, parameters))
        if problem:
            return problem
    return over_transfer_limit(alg, task, service, parameters, context, split)
