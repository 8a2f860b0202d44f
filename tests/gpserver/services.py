"""The published services: Demo/Analysis, Demo/AnalysisSync, Secure/Analysis, tasks."""

from __future__ import annotations

import sys
from typing import Any

from . import tasks as t
from .catalog import ASYNC, DERIVED, IN, OUT, REQUIRED, SYNC, Param, Service, Task, TaskFunc
from .limited import limited_services
from .webtool import webtool_service


def _schema(geometry_type: str | None, *more_fields: str) -> dict[str, Any]:
    """An empty FeatureSet (no geometry: a record set) with OBJECTID, Name and Double fields."""
    schema: dict[str, Any] = {"displayFieldName": ""}
    if geometry_type:
        schema["geometryType"] = geometry_type
        schema["spatialReference"] = {"wkid": 4326, "latestWkid": 4326}
    schema["fields"] = [
        {"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID"},
        {"name": "Name", "type": "esriFieldTypeString", "alias": "Name", "length": 50},
    ] + [{"name": name, "type": "esriFieldTypeDouble", "alias": name} for name in more_fields]
    schema["features"] = []
    schema["exceededTransferLimit"] = False
    return schema


# The Demo services' publisher raised "maximum number of records" for bulk work (the
# big-data tests send 30,000 features); Demo/Limited keeps a small one, `tasks` the 1000
# every service starts with.
BULK_MAX_RECORDS = 100_000

POINT_SCHEMA = _schema("esriGeometryPoint")
# Filters as ArcGIS Server (10.7+) publishes them; clients apply them, this server does not.
ANY_GEOMETRY = {"filter": {"type": "featureClass", "list": [
    "esriGeometryPoint", "esriGeometryMultipoint", "esriGeometryPolygon", "esriGeometryPolyline"]}}
POLYGON_SCHEMA = _schema("esriGeometryPolygon", "BUFF_DIST")
RECORD_SCHEMA = _schema(None, "Value")


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
                "The features to copy.", POINT_SCHEMA, REQUIRED, extra=ANY_GEOMETRY,
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
            Param("Seconds", "GPDouble", IN, "Seconds", "How long to sleep.", 1.0, REQUIRED,
                  extra={"filter": {"type": "range", "minimum": 0, "maximum": 3600}}),
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


# Every GP type of the seeds and of DESIGN.md's table: (type, default).
ECHO_TYPES: list[tuple[str, Any]] = [
    ("GPString", "hello"),
    ("GPBoolean", True),
    ("GPLong", 42),
    ("GPDouble", 3.5),
    ("GPDate", 1199145600000),
    ("GPLinearUnit", {"distance": 5.0, "units": "esriKilometers"}),
    ("GPArealUnit", {"area": 2.5, "units": "esriSquareKilometers"}),
    ("GPDataFile", None),
    ("GPRasterData", None),
    ("GPRasterDataLayer", None),
    ("GPFeatureRecordSetLayer", POINT_SCHEMA),
    ("GPRecordSet", RECORD_SCHEMA),
    ("GPMultiValue:GPString", ["a", "b"]),
    ("GPMultiValue:GPDouble", [1.5, 2.5]),
    ("GPMultiValue:GPLong", [1, 2, 3]),
    ("GPSpatialReference", {"wkid": 4326}),
    ("GPExtent", {"xmin": -118.0, "ymin": 33.0, "xmax": -116.0, "ymax": 35.0,
                  "spatialReference": {"wkid": 4326}}),
    ("GPEnvelope", {"xmin": -118.0, "ymin": 33.0, "xmax": -116.0, "ymax": 35.0,
                    "spatialReference": {"wkid": 4326}}),
    ("Field", {"name": "Name", "type": "esriFieldTypeString", "alias": "Name",
               "editable": True, "nullable": True, "length": 50}),
    ("GPValueTable", [["a", 1], ["b", 2]]),
    ("GPComposite", None),
    ("GPSACellSize", None),
]


def echo_all_types_task() -> Task:
    """EchoAllTypes: In_<Type> -> Out_<Type> for every type (':' written as '_')."""
    params: list[Param] = []
    outs: list[Param] = []
    for data_type, default in ECHO_TYPES:
        suffix = data_type.replace(":", "_")
        params.append(
            Param(
                f"In_{suffix}", data_type, IN, f"In {data_type}",
                f"A {data_type} value, echoed to Out_{suffix}.", default, category="Values",
            )
        )
        outs.append(_out(f"Out_{suffix}", data_type, f"Out {data_type}",
                         f"The In_{suffix} value."))
    params.append(
        Param(
            "In_GPString_Choice", "GPString", IN, "In GPString with a choice list",
            "A GPString restricted to a choice list.", "Second",
            choice_list=("First", "Second", "Third"), category="Values",
        )
    )
    outs.append(_out("Out_GPString_Choice", "GPString", "Out GPString with a choice list",
                     "The In_GPString_Choice value."))
    return Task(
        "EchoAllTypes",
        "Echo All Types",
        "Echoes every input to the output of the same type: In_<Type> -> Out_<Type> ('"
        ":' written '_'). Files and rasters are copied to the job's scratch folder.",
        tuple(params + outs),
        t.echo_all_types,
    )


def _echo_task(noun: str, data_type: str, description: str, out_description: str,
               run: TaskFunc) -> Task:
    """Echo<Noun>: required Input_<Noun> ({'url'} or an uploaded {'itemID'}) -> Output_<Noun>."""
    return Task(
        f"Echo{noun}",
        f"Echo {noun}",
        description,
        (
            Param(f"Input_{noun}", data_type, IN, f"Input {noun}",
                  f"The {noun.lower()} ({{'url'}} or an uploaded {{'itemID'}}).", None, REQUIRED),
            _out(f"Output_{noun}", data_type, f"Output {noun}", out_description),
        ),
        run,
    )


def echo_raster_task() -> Task:
    """EchoRaster."""
    return _echo_task(
        "Raster", "GPRasterDataLayer",
        "Reads the input raster with QGIS (GDAL) and returns it written as a GeoTIFF.",
        "The raster, as GeoTIFF.", t.echo_raster)


def echo_file_task() -> Task:
    """EchoFile."""
    return _echo_task(
        "File", "GPDataFile", "Returns the input file unchanged, from the job's scratch folder.",
        "A copy of the file.", t.echo_file)


def create_buffers_task() -> Task:
    """CreateBuffers of the Spatial Analysis service (the seeds' workflow)."""
    return Task(
        "CreateBuffers",
        "Create Buffers",
        "Creates polygons at the given distances around input features (Spatial Analysis). "
        "With outputName the result is a new hosted feature layer; without, a feature "
        "collection.",
        (
            Param("inputLayer", "GPFeatureRecordSetLayer", IN, "Input Layer",
                  "The features to buffer: {'url': <feature layer>} or a feature collection.",
                  None, REQUIRED, extra=ANY_GEOMETRY),
            Param("distances", "GPMultiValue:GPDouble", IN, "Distances",
                  "One or more buffer distances (or use field).", []),
            Param("field", "GPString", IN, "Field",
                  "A field holding each feature's buffer distance.", None),
            Param("units", "GPString", IN, "Units", "Units of the distances.", "Meters",
                  choice_list=tuple(t.ANALYSIS_UNITS)),
            Param("dissolveType", "GPString", IN, "Dissolve Type",
                  "None keeps a buffer per feature; Dissolve merges buffers of one distance.",
                  "None", choice_list=("None", "Dissolve")),
            Param("ringType", "GPString", IN, "Ring Type",
                  "Disks (overlapping) or Rings (only with Dissolve).", "Disks",
                  choice_list=("Disks", "Rings")),
            Param("outputName", "GPString", IN, "Output Name",
                  "{'serviceProperties': {'name': ...}}: create a hosted feature layer.", None),
            Param("context", "GPString", IN, "Context",
                  "Environment settings, e.g. {'outSR': {'wkid': 3857}}.", None),
            _out("bufferLayer", "GPFeatureRecordSetLayer", "Buffer Layer",
                 "The buffers, or {'url', 'itemId'} of the new hosted layer."),
        ),
        t.create_buffers,
        category="Use Proximity",
    )


def build_services(max_job_seconds: float = 3600.0) -> dict[str, Service]:
    """Return every GPServer service, keyed by lower-case name."""
    demo = [
        buffer_task(), copy_task(), sleep_task(), always_fails_task(), echo_all_types_task(),
        echo_raster_task(), echo_file_task(),
    ]
    demo_sync = [buffer_task(), copy_task(), echo_all_types_task()]
    secure = [buffer_task(), sleep_task()]

    def service(name: str, execution_type: str, tasks: list[Task], description: str,
                **options: Any) -> Service:
        return Service(name, execution_type, {x.name: x for x in tasks}, description,
                       max_job_seconds=max_job_seconds, **options)

    services = [
        service("Demo/Analysis", ASYNC, demo,
                "Asynchronous demo geoprocessing service of the reference server.",
                uploads=True, maximum_records=BULK_MAX_RECORDS),
        service("Demo/AnalysisSync", SYNC, demo_sync,
                "Synchronous demo geoprocessing service of the reference server.",
                maximum_records=BULK_MAX_RECORDS),
        service("Secure/Analysis", ASYNC, secure, "Asynchronous service that requires a token.",
                uploads=True, secure=True),
        service("tasks", ASYNC, [create_buffers_task()],
                "Spatial Analysis service (helperServices.analysis of the portal).",
                uploads=True),
    ]
    services += limited_services(service, sys.modules[__name__])
    services.append(webtool_service(service, sys.modules[__name__]))
    return {s.name.lower(): s for s in services}
