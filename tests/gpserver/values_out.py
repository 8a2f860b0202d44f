"""Output values as they go on the wire (with the job's ``context`` applied)."""

from __future__ import annotations

import copy
from typing import Any

from qgis.core import QgsCoordinateTransform, QgsProject

from . import esri
from .catalog import Param, Task
from .errors import JobFailure


def output_value(job: Any, param: Param) -> Any:
    """Return the value of one output of a finished job (after the transfer limit)."""
    return transfer_limited(job.results.get(param.name), param, job.service.maximum_records)


def transfer_limited(value: Any, param: Param, maximum_records: int) -> Any:
    """A feature or record set over the service's maximumRecords, as ArcGIS answers it.

    Esri documents the rule (ArcGIS Runtime, LocalGeoprocessingService.MaxRecords): when
    an output has more records than the service's maximum, the service returns none of
    them and sets ``exceededTransferLimit`` to true. The job itself has succeeded. A URL
    output (a hosted layer) is not limited.
    """
    if param.data_type not in ("GPFeatureRecordSetLayer", "GPRecordSet"):
        return value
    if not isinstance(value, dict):
        return value
    key = "featureSet" if isinstance(value.get("featureSet"), dict) else None
    fs = value[key] if key else value
    features = fs.get("features")
    if not isinstance(features, list) or len(features) <= maximum_records:
        return value
    refused = dict(fs, features=[], exceededTransferLimit=True)
    return dict(value, featureSet=refused) if key else refused


def apply_context(task: Task, results: dict[str, Any], context: Any) -> dict[str, Any]:
    """Reproject feature outputs to ``context.outSR`` (or ``env:outSR``) when asked."""
    if not isinstance(context, dict) or not context.get("outSR"):
        return results
    out_sr = context["outSR"]
    if isinstance(out_sr, str) and out_sr.strip().isdigit():
        out_sr = {"wkid": int(out_sr)}
    elif isinstance(out_sr, int):
        out_sr = {"wkid": out_sr}
    try:
        dst = esri.crs_from_sr(out_sr)
    except esri.ConversionError as exc:
        raise JobFailure(f"ERROR 000622: Invalid outSR in context: {exc}") from exc
    if not dst.isValid():
        raise JobFailure(f"ERROR 000622: Invalid outSR in context: {out_sr!r}")
    out = dict(results)
    for param in task.outputs:
        value = out.get(param.name)
        if param.data_type != "GPFeatureRecordSetLayer" or not isinstance(value, dict):
            continue
        value = copy.deepcopy(value)
        fs = value.get("featureSet") if "featureSet" in value else value
        if not isinstance(fs, dict) or "features" not in fs:
            continue
        src = esri.crs_from_sr(fs.get("spatialReference"))
        if not src.isValid() or src == dst:
            continue
        transform = QgsCoordinateTransform(src, dst, QgsProject.instance())
        has_z, has_m = bool(fs.get("hasZ")), bool(fs.get("hasM"))
        for feat in fs["features"]:
            if feat.get("geometry"):
                g = esri.geometry_from_esri(feat["geometry"], fs.get("geometryType"), has_z, has_m)
                g.transform(transform)
                feat["geometry"] = esri.geometry_to_esri(g, has_z, has_m)
        fs["spatialReference"] = esri.sr_from_crs(dst)
        out[param.name] = value
    return out
