"""Services that behave like real ones at their limits: a small maximumRecords, an old release.

``Demo/Limited`` (maximumRecords 5) has CopyFeatures, BufferFeatures and SlowCopy, a
per-feature task that takes its time (for split and parallel runs) and can be told to fail
on some features. ``Demo/Legacy`` reports ArcGIS Server 10.5.1: it reads ``env:processSR``
and ignores ``context``.
"""

from __future__ import annotations

from typing import Any

from qgis.core import QgsExpression, QgsFeatureRequest

from .catalog import ASYNC, DERIVED, IN, OUT, REQUIRED, Param, Task
from .errors import JobFailure
from .jobs import JobContext

LIMITED_MAX_RECORDS = 5
LEGACY_VERSION = 10.51


def slow_copy_task(point_schema: dict[str, Any]) -> Task:
    """SlowCopy: the input unchanged after Seconds; fails at once when Fail_Where matches."""
    return Task(
        "SlowCopy",
        "Slow Copy",
        "Returns the input features unchanged after waiting Seconds (honours cancel). If a "
        "feature matches Fail_Where (an SQL where clause), the job fails at once, naming it.",
        (
            Param("Input_Features", "GPFeatureRecordSetLayer", IN, "Input Features",
                  "The features to copy, each on its own.", point_schema, REQUIRED),
            Param("Seconds", "GPDouble", IN, "Seconds", "How long the job takes.", 1.0),
            Param("Fail_Where", "GPString", IN, "Fail Where",
                  "The job fails when a feature matches this where clause.", None),
            Param("Output_Features", "GPFeatureRecordSetLayer", OUT, "Output Features",
                  "A copy of the input.", point_schema, DERIVED),
        ),
        slow_copy,
    )


def slow_copy(ctx: JobContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """SlowCopy's body."""
    from .tasks import input_features, to_layer, wire_feature_set

    fs = input_features(ctx, inputs["Input_Features"])
    where = (inputs.get("Fail_Where") or "").strip()
    if where:
        if QgsExpression(where).hasParserError():
            raise JobFailure(f"ERROR 000358: Invalid expression {where}")
        layer = to_layer(fs)
        for feature in layer.getFeatures(QgsFeatureRequest().setFilterExpression(where)):
            names = layer.fields().names()
            attrs = {n: feature[n] for n in names if n in ("OBJECTID", "Name")}
            raise JobFailure(
                f"ERROR 999999: Feature {attrs} cannot be processed (it matches {where}).")
    seconds = float(inputs.get("Seconds") or 0.0)
    ctx.message(f"Copying {len(fs.get('features') or [])} feature(s) in {seconds:g} s.")
    ctx.sleep(seconds)
    return {"Output_Features": wire_feature_set(fs)}


def limited_services(service: Any, tasks: Any) -> list[Any]:
    """Demo/Limited and Demo/Legacy, built with the ``service`` factory of build_services."""
    return [
        service("Demo/Limited", ASYNC,
                [tasks.copy_task(), tasks.buffer_task(), slow_copy_task(tasks.POINT_SCHEMA)],
                f"Asynchronous service returning at most {LIMITED_MAX_RECORDS} records per "
                "result (maximumRecords), as a real service's 1000.",
                maximum_records=LIMITED_MAX_RECORDS),
        service("Demo/Legacy", ASYNC, [tasks.buffer_task()],
                "A service of ArcGIS Server 10.5.1: env:processSR, no context.",
                current_version=LEGACY_VERSION),
    ]
