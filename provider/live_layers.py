"""Results that live on the server, added as layers that read from it.

- A hosted output (Spatial Analysis ``outputName``, a web tool's
  ``esri_out_feature_service_name``): the result's value is the URL of a new feature layer.
  Besides the copy in the output sink, the run adds that layer itself, read by QGIS's
  ArcGIS feature server provider with the connection's authentication.
- A service with ``resultMapServerName`` draws each job's results in a map service of the
  job (``<services>/<resultMapServerName>/MapServer/jobs/<jobId>``); with
  ``ARCGISGP_RESULT_MAP_LAYER`` the run adds it, read by QGIS's ArcGIS map server provider.
"""

from __future__ import annotations

import re
from typing import Any, Optional

from qgis.core import (
    QgsDataSourceUri,
    QgsMapLayer,
    QgsProcessingContext,
    QgsProcessingOutputDefinition,
    QgsProcessingOutputRasterLayer,
    QgsProcessingOutputVectorLayer,
    QgsRasterLayer,
    QgsVectorLayer,
)

from .i18n import tr
from .transfer_limit import small_value

HOSTED_OUTPUT_INPUTS = ("outputname", "esri_out_feature_service_name")
LIVE_PREFIX = "ARCGISGP_LIVE_"
RESULT_MAP = "ARCGISGP_RESULT_MAP"
_LAYER_URL = re.compile(r"/(FeatureServer|MapServer)/\d+/?$", re.IGNORECASE)


def writes_hosted(task: Any) -> bool:
    """Return whether the task can write its results to a new hosted feature service."""
    return any(p.name.lower() in HOSTED_OUTPUT_INPUTS for p in task.inputs)


def live_outputs(service: Any, task: Any) -> list[QgsProcessingOutputDefinition]:
    """The outputs naming the layers a run may add: hosted results, the result map."""
    out: list[QgsProcessingOutputDefinition] = []
    if writes_hosted(task):
        for p in task.outputs:
            if p.data_type in ("GPFeatureRecordSetLayer", "GPRecordSet"):
                out.append(QgsProcessingOutputVectorLayer(
                    LIVE_PREFIX + p.name,
                    tr("{0} (on the server)").format(getattr(p, "label", "") or p.name)))
    if (service.result_map_server_name or "").strip():
        out.append(QgsProcessingOutputRasterLayer(RESULT_MAP, tr("Result map service")))
    return out


def hosted_layer_url(value: Any) -> Optional[str]:
    """The feature layer URL of a result written to a hosted service, else None."""
    value = small_value(value)  # a streamed result file: its value
    if isinstance(value, dict) and "features" not in value and "featureSet" not in value:
        url = value.get("url")
        if isinstance(url, str) and _LAYER_URL.search(url.split("?", 1)[0]):
            return url.split("?", 1)[0].rstrip("/")
    return None


def _uri(url: str, connection: Any, **params: str) -> str:
    uri = QgsDataSourceUri()
    uri.setParam("url", url)
    for key, value in params.items():
        uri.setParam(key, value)
    if connection.authcfg:
        uri.setAuthConfigId(connection.authcfg)
    if connection.referer:
        uri.setParam("referer", connection.referer)
    return uri.uri(False)


def _add(layer: QgsMapLayer, output: str, env: Any) -> Optional[str]:
    context: QgsProcessingContext = env.context
    if not layer.isValid():
        env.feedback.pushWarning(tr("Could not open {0} as a layer: {1}").format(
            layer.source(), layer.error().summary()))
        return None
    context.temporaryLayerStore().addMapLayer(layer)
    context.addLayerToLoadOnCompletion(layer.id(), QgsProcessingContext.LayerDetails(
        layer.name(), context.project(), output))
    env.results[output] = layer.id()
    return layer.id()


def add_hosted_layer(p: Any, value: Any, connection: Any, env: Any) -> Optional[str]:
    """Add the hosted feature layer a result was written to; return its layer id."""
    url = hosted_layer_url(value)
    if url is None:
        return None
    name = url.rsplit("/", 3)[-3] if url.count("/") >= 3 else p.name
    layer = QgsVectorLayer(_uri(url, connection), name, "arcgisfeatureserver")
    env.feedback.pushInfo(tr("{0}: added the feature service {1} as a layer.").format(
        p.name, url))
    return _add(layer, LIVE_PREFIX + p.name, env)


def result_map_url(service: Any, job_id: str) -> Optional[str]:
    """``<services>/<resultMapServerName>/MapServer/jobs/<jobId>``, or None without one."""
    name = (service.result_map_server_name or "").strip().strip("/")
    url = service.url or ""
    marker = url.lower().find("/rest/services/")
    if not name or marker < 0:
        return None
    root = url[:marker + len("/rest/services/")]
    if "/" not in name:
        path = url[len(root):].split("/GPServer", 1)[0]
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        name = f"{folder}/{name}" if folder else name
    return f"{root}{name}/MapServer/jobs/{job_id}"


def add_result_map_layer(service: Any, job_ids: list[str], connection: Any,
                         env: Any) -> Optional[str]:
    """Add the result map service of the run's job; return its layer id."""
    if len(job_ids) != 1:
        env.feedback.pushWarning(tr("The result map service shows one job; this run had {0}, "
                                    "so none was added.").format(len(job_ids)))
        return None
    url = result_map_url(service, job_ids[0])
    if url is None:
        return None
    layer = QgsRasterLayer(_uri(url, connection, format="png"),
                           tr("Result map of job {0}").format(job_ids[0]), "arcgismapserver")
    env.feedback.pushInfo(tr("Added the job's result map service {0} as a layer.").format(url))
    return _add(layer, RESULT_MAP, env)
