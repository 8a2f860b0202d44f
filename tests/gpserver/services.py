"""The published services: Demo/Analysis, Demo/AnalysisSync, Secure/Analysis, tasks."""

from __future__ import annotations

from typing import Any

from . import tasks as t
from .catalog import ASYNC, DERIVED, IN, OUT, REQUIRED, SYNC, Param, Service, Task

POINT_SCHEMA: dict[str, Any] = {
    "displayFieldName": "",
    "geometryType": "esriGeometryPoint",
    "spatialReference": {"wkid": 4326, "latestWkid": 4326},
    "fields": [
        {"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID"},
        {"name": "Name", "type": "esriFieldTypeString", "alias": "Name", "length": 50},
    ],
    "features": [],
    "exceededTransferLimit": False,
}
POLYGON_SCHEMA: dict[str, Any] = {
    "displayFieldName": "",
    "geometryType": "esriGeometryPolygon",
    "spatialReference": {"wkid": 4326, "latestWkid": 4326},
    "fields": [
        {"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID"},
        {"name": "Name", "type": "esriFieldTypeString", "alias": "Name", "length": 50},
        {"name": "BUFF_DIST", "type": "esriFieldTypeDouble", "alias": "BUFF_DIST"},
    ],
    "features": [],
    "exceededTransferLimit": False,
}


def _out(name: str, data_type: str, display: str, description: str, default: Any = None) -> Param:
    return Param(
        name, data_type, OUT, display, description, default, DERIVED
    )


def buffer_task() -> Task:
    """BufferFeatures."""
    return Task(
        "BufferFeatures",
        "Buffer Features",
        "Creates buffer polygons around input features to a given distance (QGIS native:buffer;"
        " geographic inputs are buffered in the UTM zone of their centre).",
        (
            Param(
                "Input_Features", "GPFeatureRecordSetLayer", IN, "Input Features",
                "The features to buffer (points, lines or polygons).", POINT_SCHEMA, REQUIRED,
            ),
            Param(
                "Distance", "GPLinearUnit", IN, "Distance",
                "The buffer distance.", {"distance": 100.0, "units": "esriMeters"}, REQUIRED,
            ),
            Param(
                "Dissolve", "GPString", IN, "Dissolve Type",
                "NONE keeps one buffer per feature; ALL dissolves every buffer into one feature.",
                "NONE", choice_list=("NONE", "ALL"),
            ),
            _out("Output_Features", "GPFeatureRecordSetLayer", "Output Features",
                 "The buffer polygons.", POLYGON_SCHEMA),
        ),
        t.buffer_features,
    )


def copy_task() -> Task:
    """CopyFeatures."""
    return Task(
        "CopyFeatures",
        "Copy Features",
        "Returns the input features unchanged: attributes, geometry with Z and M, and the "
        "spatial reference.",
        (
            Param(
                "Input_Features", "GPFeatureRecordSetLayer", IN, "Input Features",
                "The features to copy.", POINT_SCHEMA, REQUIRED,
            ),
            _out("Output_Features", "GPFeatureRecordSetLayer", "Output Features",
                 "A copy of the input.", POINT_SCHEMA),
        ),
        t.copy_features,
    )


def sleep_task() -> Task:
    """Sleep."""
    return Task(
        "Sleep",
        "Sleep",
        "Waits for the given number of seconds, reporting progress and a message per second. "
        "Outcome chooses how the job ends, for testing clients: Succeeded (default), Failed, "
        "TimedOut (esriJobTimedOut) or Deleted (esriJobDeleted).",
        (
            Param("Seconds", "GPDouble", IN, "Seconds", "How long to sleep.", 1.0, REQUIRED),
            Param(
                "Outcome", "GPString", IN, "Outcome",
                "How the job ends after sleeping (for testing clients).", "Succeeded",
                choice_list=("Succeeded", "Failed", "TimedOut", "Deleted"), category="Testing",
            ),
            _out("Slept", "GPDouble", "Slept", "The number of seconds slept."),
        ),
        t.sleep,
    )


def always_fails_task() -> Task:
    """AlwaysFails."""
    return Task(
        "AlwaysFails",
        "Always Fails",
        "Fails every time, with the given message as the job's error message.",
        (
            Param(
                "Message", "GPString", IN, "Message", "The error message of the failed job.",
                "This task always fails.",
            ),
        ),
        t.always_fails,
    )


def build_services(max_job_seconds: float = 3600.0) -> dict[str, Service]:
    """Return every GPServer service, keyed by lower-case name."""
    demo = [buffer_task(), copy_task(), sleep_task(), always_fails_task()]
    demo_sync = [buffer_task(), copy_task()]
    secure = [buffer_task(), sleep_task()]
    services = [
        Service(
            "Demo/Analysis", ASYNC, {x.name: x for x in demo},
            "Asynchronous demo geoprocessing service of the reference server.",
            uploads=True, max_job_seconds=max_job_seconds,
        ),
        Service(
            "Demo/AnalysisSync", SYNC, {x.name: x for x in demo_sync},
            "Synchronous demo geoprocessing service of the reference server.",
            max_job_seconds=max_job_seconds,
        ),
        Service(
            "Secure/Analysis", ASYNC, {x.name: x for x in secure},
            "Asynchronous service that requires a token.",
            uploads=True, secure=True, max_job_seconds=max_job_seconds,
        ),
    ]
    return {s.name.lower(): s for s in services}
