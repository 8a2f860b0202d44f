"""Inputs that already live on the server: sent as ``{"url", "filter"}`` instead of copied.

A layer of QGIS's ArcGIS feature server provider whose service is on the task's own server
(same scheme, host and port, read with the connection's authentication or none) is sent as
its layer URL, with its subset string as the ``filter`` (that provider's subset string is
the service's where clause, sent to it as is). The server then reads the features itself:
nothing is copied through QGIS. Copied as before: a selection, any other layer, a layer on
another server (the task's server may not reach it), or every layer when the user checks
``ARCGISGP_COPY_INPUTS``.
"""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import urlsplit

from qgis.core import (
    QgsDataSourceUri,
    QgsProcessingFeatureSourceDefinition,
    QgsVectorLayer,
)

from .i18n import tr
from .run_options import FEATURE_TYPES, RunOptions

PROVIDER_KEY = "arcgisfeatureserver"


def _origin(url: str) -> tuple[str, str, Optional[int]]:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower())
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


def server_layer_input(p: Any, env: Any, connection: Any, task_url: str,
                       options: RunOptions) -> Optional[dict]:
    """``{"url", "filter"}`` for a feature layer the task's server can read, else None."""
    if p.data_type not in FEATURE_TYPES or options.copy_inputs:
        return None
    raw = env.parameters.get(p.name)
    if isinstance(raw, QgsProcessingFeatureSourceDefinition):
        if raw.selectedFeaturesOnly or raw.featureLimit not in (-1, None):
            return None  # a part of the layer: only a copy says which
    layer = env.algorithm.parameterAsVectorLayer(env.parameters, p.name, env.context)
    if not isinstance(layer, QgsVectorLayer) or layer.providerType() != PROVIDER_KEY:
        return None
    uri = QgsDataSourceUri(layer.source())
    url = uri.param("url")
    if not url or _origin(url) != _origin(task_url):
        return None
    if uri.authConfigId() and uri.authConfigId() != connection.authcfg:
        return None  # read with other credentials than the task's: the server may not
    value: dict = {"url": url}
    where = layer.subsetString().strip()
    if where:
        value["filter"] = where
    if layer.crs().isValid():
        env.crs_used.append(layer.crs())
    env.feedback.pushInfo(tr("{0}: the server reads the layer itself from {1}{2} (nothing "
                             "copied; check 'Always send copies' to send its features).")
                          .format(p.name, url, tr(" where {0}").format(where) if where else ""))
    return value
