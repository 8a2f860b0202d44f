"""Task bodies. Geometry work runs through QGIS native algorithms in the job's thread."""

from __future__ import annotations

import hashlib
import math
import re
import shutil
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsProject,
    QgsUnitTypes,
    QgsVectorLayer,
)

from . import esri
from .errors import JobDeleted, JobFailure, JobTimedOut, RestError
from .gpvalues import LINEAR_UNITS, loads_lenient
from .jobs import JobContext
from .qgisenv import run_algorithm, vector_output
from .run_context import clip_to_extent, process_crs
from .uploads import safe_filename

BUFFER_SEGMENTS = 16
SCRATCH_URL = re.compile(r"/jobs/(?P<job>j[0-9a-f]+)/scratch/(?P<file>[^/]+)$")


# --------------------------------------------------------------------------- helpers
def input_features(ctx: JobContext, value: dict[str, Any]) -> dict[str, Any]:
    """Return the FeatureSet behind a feature input (inline, {'url'} or {'itemID'}).

    Only the features meeting the job's processing extent (``context``) are kept.
    """
    return clip_to_extent(ctx.job, ctx.server.features.resolve(value, ctx.server.uploads))


def to_layer(fs: dict[str, Any], name: str = "input") -> QgsVectorLayer:
    """Convert a FeatureSet to a memory layer, failing the job on bad JSON."""
    try:
        return esri.layer_from_feature_set(fs, name)
    except (esri.ConversionError, TypeError, ValueError, KeyError) as exc:
        raise JobFailure(
            f"ERROR 000732: Input features are not a valid feature set: {exc}"
        ) from exc


def utm_crs_for(layer: QgsVectorLayer) -> QgsCoordinateReferenceSystem:
    """Return the WGS 84 / UTM zone CRS holding the centre of the layer's extent.

    zone = floor((lon + 180) / 6) + 1, EPSG:326<zone> north of the equator, 327<zone> south.
    """
    centre = layer.extent().center()
    wgs84 = QgsCoordinateReferenceSystem("EPSG:4326")
    if layer.crs() != wgs84:
        centre = QgsCoordinateTransform(layer.crs(), wgs84, QgsProject.instance()).transform(centre)
    zone = min(60, max(1, int(math.floor((centre.x() + 180.0) / 6.0)) + 1))
    code = (32600 if centre.y() >= 0 else 32700) + zone
    return QgsCoordinateReferenceSystem(f"EPSG:{code}")


def buffer_layer(
    ctx: JobContext | None, layer: QgsVectorLayer, meters: float, dissolve: bool
) -> QgsVectorLayer:
    """Buffer a layer by a distance in metres with native:buffer.

    Projected CRS: the distance is converted to the CRS's map units. Geographic CRS: the
    features are reprojected to the UTM zone of the layer's centre (``utm_crs_for``),
    buffered there and reprojected back. Unknown CRS: the distance is used as is. A
    projected processing CRS given by the client (context processSR) wins over both.
    """
    crs = layer.crs()
    work = layer
    back_to = None
    distance = meters
    process = process_crs(ctx.job) if ctx else None
    if process is not None and not process.isGeographic() and crs.isValid() and process != crs:
        # the client chose the processing CRS (context processSR): buffer there
        work = vector_output(
            run_algorithm(
                "native:reprojectlayer",
                {"INPUT": layer, "TARGET_CRS": process, "OUTPUT": "TEMPORARY_OUTPUT"},
            )
        )
        back_to = crs
        distance = meters * QgsUnitTypes.fromUnitToUnitFactor(
            QgsUnitTypes.DistanceUnit.DistanceMeters, process.mapUnits()
        )
        if ctx:
            ctx.message(f"Buffering in the processing CRS {process.authid()}.")
    elif crs.isValid() and crs.isGeographic():
        utm = utm_crs_for(layer)
        work = vector_output(
            run_algorithm(
                "native:reprojectlayer",
                {"INPUT": layer, "TARGET_CRS": utm, "OUTPUT": "TEMPORARY_OUTPUT"},
            )
        )
        back_to = crs
        if ctx:
            ctx.message(f"Buffering in {utm.authid()} ({utm.description()}).")
    elif crs.isValid():
        distance = meters * QgsUnitTypes.fromUnitToUnitFactor(
            QgsUnitTypes.DistanceUnit.DistanceMeters, crs.mapUnits()
        )
    if ctx:
        ctx.check()
    out = vector_output(
        run_algorithm(
            "native:buffer",
            {
                "INPUT": work,
                "DISTANCE": distance,
                "SEGMENTS": BUFFER_SEGMENTS,
                "END_CAP_STYLE": 0,
                "JOIN_STYLE": 0,
                "MITER_LIMIT": 2,
                "DISSOLVE": dissolve,
                "OUTPUT": "TEMPORARY_OUTPUT",
            },
        )
    )
    if back_to is not None:
        if ctx:
            ctx.check()
        out = vector_output(
            run_algorithm(
                "native:reprojectlayer",
                {"INPUT": out, "TARGET_CRS": back_to, "OUTPUT": "TEMPORARY_OUTPUT"},
            )
        )
    return out


def oid_names(fs: dict[str, Any]) -> set[str]:
    """Names of the OID fields of a FeatureSet."""
    return {f["name"] for f in fs.get("fields") or [] if f.get("type") == "esriFieldTypeOID"}


def buffered_feature_set(
    ctx: JobContext | None,
    fs: dict[str, Any],
    distance: float,
    units: str,
    dissolve: bool,
) -> dict[str, Any]:
    """Buffer a FeatureSet; the answer has OBJECTID, the input's attributes and BUFF_DIST."""
    layer = to_layer(fs)
    if layer.featureCount() == 0:
        raise JobFailure("ERROR 000117: Warning empty output generated. The input has no features.")
    if not layer.crs().isValid() and ctx:
        ctx.warning("The input has no spatial reference: the distance is used in its units.")
    meters = distance * LINEAR_UNITS[units]
    out = buffer_layer(ctx, layer, meters, dissolve)
    extra = [{"name": "BUFF_DIST", "type": "esriFieldTypeDouble", "alias": "BUFF_DIST"}]
    drop = oid_names(fs) | {"OBJECTID", "BUFF_DIST"}
    result = esri.feature_set_from_layer(
        out,
        drop_fields=drop if not dissolve else {f.name() for f in out.fields()},
        extra_fields=extra,
        extra_values=lambda feat, n: {"BUFF_DIST": distance},
    )
    if fs.get("spatialReference") and layer.crs().isValid():
        result["spatialReference"] = fs["spatialReference"]
    return result


# --------------------------------------------------------------------------- Demo tasks
def buffer_features(ctx: JobContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """BufferFeatures: Input_Features buffered by Distance, dissolved when Dissolve is ALL."""
    ctx.progress(0, "Reading input features")
    fs = input_features(ctx, inputs["Input_Features"])
    dist = inputs["Distance"]
    dissolve = inputs.get("Dissolve") == "ALL"
    ctx.message(
        f"Buffering {len(fs.get('features') or [])} feature(s) by {dist['distance']:g} "
        f"{dist['units']}{' and dissolving' if dissolve else ''}."
    )
    ctx.progress(30, "Buffering")
    result = buffered_feature_set(ctx, fs, dist["distance"], dist["units"], dissolve)
    ctx.progress(100, "Done")
    return {"Output_Features": result}


def copy_features(ctx: JobContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """CopyFeatures: the input unchanged (validated by converting every geometry)."""
    fs = input_features(ctx, inputs["Input_Features"])
    layer = to_layer(fs)
    ctx.message(f"Copied {layer.featureCount()} feature(s).")
    return {"Output_Features": wire_feature_set(fs)}


def wire_feature_set(fs: dict[str, Any], *, record_set: bool = False) -> dict[str, Any]:
    """The FeatureSet in the key order ArcGIS Server writes, content unchanged."""
    out: dict[str, Any] = {"displayFieldName": fs.get("displayFieldName", "")}
    if not record_set:
        out["geometryType"] = fs.get("geometryType") or esri.guess_geometry_type(
            fs.get("features") or []
        )
        for key in ("hasZ", "hasM"):
            if key in fs:
                out[key] = fs[key]
        out["spatialReference"] = fs.get("spatialReference")
    for key, value in fs.items():
        if key not in out and key not in ("fields", "features", "exceededTransferLimit"):
            out[key] = value
    out["fields"] = fs.get("fields") or []
    out["features"] = fs.get("features") or []
    out["exceededTransferLimit"] = False
    return out


def sleep(ctx: JobContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """Sleep: take Seconds, reporting progress and a message per whole second."""
    seconds = float(inputs.get("Seconds") or 0.0)
    if seconds < 0:
        raise JobFailure("ERROR 000854: Seconds must be zero or more.")
    outcome = inputs.get("Outcome") or "Succeeded"
    ctx.message(f"Sleeping for {seconds:g} seconds.")
    start = time.monotonic()
    next_whole = 1
    while True:
        elapsed = time.monotonic() - start
        if elapsed >= seconds:
            break
        ctx.progress(100.0 * elapsed / seconds, f"Slept {elapsed:.1f} of {seconds:g} seconds")
        while next_whole <= elapsed:
            ctx.message(f"Slept {next_whole} of {seconds:g} seconds.")
            next_whole += 1
        ctx.sleep(min(0.05, seconds - elapsed))
    ctx.progress(100.0, f"Slept {seconds:g} seconds")
    ctx.message(f"Woke up after {seconds:g} seconds.")
    if outcome == "Failed":
        raise JobFailure("Sleep was asked to fail (Outcome=Failed).")
    if outcome == "TimedOut":
        raise JobTimedOut()
    if outcome == "Deleted":
        raise JobDeleted()
    return {"Slept": seconds}


def always_fails(ctx: JobContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """AlwaysFails: fail with the given message."""
    ctx.message("About to fail, as asked.")
    raise JobFailure(inputs.get("Message") or "This task always fails.")


# --------------------------------------------------------------------------- files and rasters
def input_file(ctx: JobContext, value: dict[str, Any]) -> Path:
    """Return a local path for a GPDataFile/raster input ({'itemID'} or {'url'})."""
    if value.get("itemID"):
        try:
            return ctx.server.uploads.get(str(value["itemID"])).path
        except RestError as exc:
            raise JobFailure(
                f"ERROR 000732: Uploaded item {value['itemID']!r} does not exist."
            ) from exc
    url = str(value.get("url") or "")
    parsed = urllib.parse.urlsplit(url)
    match = SCRATCH_URL.search(parsed.path)
    if match:
        job = ctx.server.jobs.get(match.group("job"))
        if job is not None:
            path = job.scratch_dir / urllib.parse.unquote(match.group("file"))
            if path.is_file():
                return path
    if parsed.scheme not in ("http", "https"):
        raise JobFailure(f"ERROR 000732: Cannot read {url!r}: only http(s) URLs and itemIDs work.")
    name = safe_filename(urllib.parse.unquote(parsed.path.rsplit("/", 1)[-1]) or "input.dat")
    folder = ctx.scratch_dir.parent / "inputs"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    try:
        with urllib.request.urlopen(url, timeout=60) as resp, target.open("wb") as out:  # noqa: S310
            shutil.copyfileobj(resp, out)
    except Exception as exc:  # noqa: BLE001 - any failure to fetch the input fails the job
        raise JobFailure(f"ERROR 000732: Cannot download {url}: {exc}") from exc
    return target


def echo_file(ctx: JobContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """EchoFile: the input file copied to the job's scratch folder."""
    return {"Output_File": copy_to_scratch(ctx, inputs["Input_File"])}


def copy_to_scratch(ctx: JobContext, value: dict[str, Any]) -> dict[str, Any]:
    """Copy a file input to the scratch folder and return its output value {'url'}."""
    source = input_file(ctx, value)
    target = ctx.scratch_dir / source.name
    shutil.copyfile(source, target)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    ctx.message(f"Copied {source.name} ({target.stat().st_size} bytes, sha256 {digest[:16]}...).")
    return {"url": ctx.scratch_url(target.name)}


def echo_raster(ctx: JobContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """EchoRaster: the input raster read by QGIS and written again as a GeoTIFF."""
    return {"Output_Raster": raster_to_scratch(ctx, inputs["Input_Raster"])}


def raster_to_scratch(ctx: JobContext, value: dict[str, Any]) -> dict[str, Any]:
    """Read a raster input with GDAL, write it as GeoTIFF to scratch, return {url, format}.

    GDAL directly, not QGIS's raster pipe: in a job thread, the Python wrapper of a layer's
    data provider was now and then found already deleted.
    """
    from osgeo import gdal

    source = input_file(ctx, value)
    try:  # GDAL raises or returns None, as its exception mode says
        dataset = gdal.Open(str(source))
    except RuntimeError:
        dataset = None
    if dataset is None:
        raise JobFailure(
            f"ERROR 000732: Input Raster: Dataset {source.name} does not exist or is not supported."
        )
    target = ctx.scratch_dir / (source.stem + ".tif")
    if target == source:
        target = ctx.scratch_dir / (source.stem + "_out.tif")
    try:
        written = gdal.Translate(str(target), dataset, format="GTiff")
    except RuntimeError:
        written = None
    if written is None:
        raise JobFailure(f"ERROR 999999: Writing the raster failed: {gdal.GetLastErrorMsg()}")
    crs = QgsCoordinateReferenceSystem.fromWkt(dataset.GetProjection() or "")
    ctx.message(
        f"Raster {source.name}: {dataset.RasterXSize} x {dataset.RasterYSize} cells, "
        f"{dataset.RasterCount} band(s), {crs.authid() or 'unknown CRS'}."
    )
    written = None  # closes the file
    return {"url": ctx.scratch_url(target.name), "format": "tif"}


# --------------------------------------------------------------------------- EchoAllTypes
def echo_all_types(ctx: JobContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """EchoAllTypes: every In_<Type> value to Out_<Type> (files and rasters copied)."""
    out: dict[str, Any] = {}
    for param in ctx.task.inputs:
        value = inputs.get(param.name)
        name = "Out_" + param.name[3:]
        if value is None:
            out[name] = None
            continue
        if param.data_type == "GPDataFile":
            value = copy_to_scratch(ctx, value)
        elif param.data_type in ("GPRasterData", "GPRasterDataLayer"):
            value = raster_to_scratch(ctx, value)
            if param.data_type == "GPRasterData":
                value.pop("format", None)
        elif param.data_type in ("GPFeatureRecordSetLayer", "GPRecordSet"):
            fs = input_features(ctx, value)
            record_set = param.data_type == "GPRecordSet"
            if not record_set:
                to_layer(fs)  # validates every geometry
            value = wire_feature_set(fs, record_set=record_set)
        out[name] = value
    ctx.message(f"Echoed {sum(v is not None for v in out.values())} value(s).")
    return out


# --------------------------------------------------------------------------- Spatial Analysis
ANALYSIS_UNITS = {
    "Meters": "esriMeters",
    "Kilometers": "esriKilometers",
    "Feet": "esriFeet",
    "Yards": "esriYards",
    "Miles": "esriMiles",
    "NauticalMiles": "esriNauticalMiles",
}


def output_service_name(value: Any) -> str | None:
    """The new service's name from outputName ({'serviceProperties': {'name'}} or a string)."""
    if value in (None, ""):
        return None
    data = value
    if isinstance(value, str):
        try:
            data = loads_lenient(value)
        except ValueError:
            data = value
    if isinstance(data, dict):
        name = (data.get("serviceProperties") or {}).get("name") or (
            data.get("itemProperties") or {}
        ).get("title")
    else:
        name = str(data)
    if not name or not str(name).strip():
        raise JobFailure("ERROR 000735: outputName has no service name.")
    return re.sub(r"[^A-Za-z0-9_]+", "_", str(name).strip())


def create_buffers(ctx: JobContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """CreateBuffers (Spatial Analysis): buffers at each distance, optionally dissolved."""
    fs = input_features(ctx, inputs["inputLayer"])
    distances = inputs.get("distances") or []
    field = inputs.get("field")
    units = inputs.get("units") or "Meters"
    dissolve = (inputs.get("dissolveType") or "None") == "Dissolve"
    rings = (inputs.get("ringType") or "Disks") == "Rings"
    if not distances and not field:
        raise JobFailure("ERROR 000735: Either distances or field must be given.")
    if field:
        names = {f["name"].lower(): f["name"] for f in fs.get("fields") or []}
        if field.lower() not in names:
            raise JobFailure(f"ERROR 000728: Field {field} does not exist within the table.")
    esri_units = ANALYSIS_UNITS[units]
    layer = to_layer(fs)
    if layer.featureCount() == 0:
        raise JobFailure("ERROR 000117: The input layer has no features.")
    ctx.message(f"Buffering {layer.featureCount()} feature(s) at {distances or field} {units}.")
    pieces: list[tuple[float, QgsVectorLayer]] = []
    if field:
        pieces = _buffer_by_field(ctx, fs, names[field.lower()], esri_units, dissolve)
    else:
        for i, d in enumerate(sorted(distances)):
            ctx.check()
            ctx.progress(100.0 * i / len(distances), f"Buffering at {d:g} {units}")
            meters = float(d) * LINEAR_UNITS[esri_units]
            pieces.append((float(d), buffer_layer(ctx, layer, meters, dissolve)))
    result = _merge_buffers(pieces, units, rings, keep_attributes=not dissolve)
    result["spatialReference"] = fs.get("spatialReference") or result.get("spatialReference")
    ctx.progress(100.0, "Writing the output")
    name = output_service_name(inputs.get("outputName"))
    if name is None:
        return {"bufferLayer": feature_collection(result, "Buffers")}
    value = ctx.server.publish_hosted_layer(name, result, ctx.job.base_url)
    ctx.message(f"Created the hosted feature layer {name}.")
    return {"bufferLayer": value}


def _buffer_by_field(
    ctx: JobContext, fs: dict[str, Any], field: str, esri_units: str, dissolve: bool
) -> list[tuple[float, QgsVectorLayer]]:
    groups: dict[float, list[dict[str, Any]]] = {}
    for feat in fs.get("features") or []:
        value = (feat.get("attributes") or {}).get(field)
        if value is None:
            continue
        groups.setdefault(float(value), []).append(feat)
    out = []
    for distance, feats in sorted(groups.items()):
        ctx.check()
        sub = dict(fs, features=feats)
        layer = to_layer(sub)
        meters = distance * LINEAR_UNITS[esri_units]
        out.append((distance, buffer_layer(ctx, layer, meters, dissolve)))
    return out


def _merge_buffers(
    pieces: list[tuple[float, QgsVectorLayer]], units: str, rings: bool, keep_attributes: bool
) -> dict[str, Any]:
    """One FeatureSet of every buffer: OBJECTID, [input attributes], BUFF_DIST, BUFF_UNITS."""
    merged: dict[str, Any] | None = None
    features: list[dict[str, Any]] = []
    previous: QgsGeometry | None = None
    for distance, layer in pieces:
        fs = esri.feature_set_from_layer(
            layer,
            drop_fields=set() if keep_attributes else {f.name() for f in layer.fields()},
            extra_fields=[
                {"name": "BUFF_DIST", "type": "esriFieldTypeDouble", "alias": "BUFF_DIST"},
                {"name": "BUFF_UNITS", "type": "esriFieldTypeString", "alias": "BUFF_UNITS",
                 "length": 20},
            ],
            extra_values=lambda feat, n, d=distance: {"BUFF_DIST": d, "BUFF_UNITS": units},
        )
        if rings and not keep_attributes:
            union = QgsGeometry.unaryUnion([f.geometry() for f in layer.getFeatures()])
            ring = union.difference(previous) if previous is not None else union
            previous = union
            for item in fs["features"]:
                item["geometry"] = esri.geometry_to_esri(ring, False, False)
        if merged is None:
            merged = fs
        features.extend(fs["features"])
    assert merged is not None
    for n, item in enumerate(features, start=1):
        item["attributes"]["OBJECTID"] = n
    merged["features"] = features
    return merged


def feature_collection(fs: dict[str, Any], name: str) -> dict[str, Any]:
    """Wrap a FeatureSet as a FeatureCollection (layerDefinition + featureSet)."""
    return {
        "layerDefinition": {
            "name": name,
            "type": "Feature Layer",
            "geometryType": fs.get("geometryType"),
            "objectIdField": "OBJECTID",
            "fields": fs.get("fields", []),
            "drawingInfo": {
                "renderer": {
                    "type": "simple",
                    "symbol": {
                        "type": "esriSFS",
                        "style": "esriSFSSolid",
                        "color": [252, 193, 184, 160],
                        "outline": {
                            "type": "esriSLS", "style": "esriSLSSolid",
                            "color": [110, 110, 110, 255], "width": 0.7,
                        },
                    },
                }
            },
            "templates": [],
        },
        "featureSet": {
            "displayFieldName": "",
            "geometryType": fs.get("geometryType"),
            "spatialReference": fs.get("spatialReference"),
            "features": fs.get("features", []),
            "exceededTransferLimit": False,
        },
    }
