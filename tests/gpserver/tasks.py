"""Task bodies. Geometry work runs through QGIS native algorithms in the job's thread."""

from __future__ import annotations

import math
import time
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsProject,
    QgsUnitTypes,
    QgsVectorLayer,
)

from . import esri
from .errors import JobDeleted, JobFailure, JobTimedOut
from .gpvalues import LINEAR_UNITS
from .jobs import JobContext
from .qgisenv import run_algorithm, vector_output

BUFFER_SEGMENTS = 16


# --------------------------------------------------------------------------- helpers
def input_features(ctx: JobContext, value: dict[str, Any]) -> dict[str, Any]:
    """Return the FeatureSet behind a feature input (inline, {'url'} or {'itemID'})."""
    return ctx.server.features.resolve(value, ctx.server.uploads)


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
    buffered there and reprojected back. Unknown CRS: the distance is used as is.
    """
    crs = layer.crs()
    work = layer
    back_to = None
    distance = meters
    if crs.isValid() and crs.isGeographic():
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
            QgsUnitTypes.DistanceMeters, crs.mapUnits()
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
    out = {k: v for k, v in fs.items() if k != "exceededTransferLimit"}
    out.setdefault("features", [])
    out["exceededTransferLimit"] = False
    return {"Output_Features": out}


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
