"""Result map services: ``.../services/<resultMapServerName>/MapServer/jobs/<jobId>``.

A GP service with a ``resultMapServerName`` draws each job's feature results in a map
service of the job. Answered here: the service (``f=json``), its layers (``/<id>``), the
legend, and ``export`` (an image of the results, or ``f=json`` with its href), which is
what QGIS's ArcGIS map server provider asks for.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from qgis.core import QgsGeometry, QgsRectangle, QgsWkbTypes
from qgis.PyQt.QtCore import QBuffer, QByteArray, QIODevice, QPointF, Qt
from qgis.PyQt.QtGui import (
    QBrush,
    QColor,
    QImage,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
    QTransform,
)

from . import esri
from .catalog import CURRENT_VERSION
from .errors import bad_request, not_found
from .httpd import Request, Response
from .jobs import SUCCEEDED

MAP_JOB = r"/arcgis/rest/services/(?P<svc>[^/]+(?:/[^/]+)?)/MapServer/jobs/(?P<job>[^/]+)"
RESULT_COLOR = QColor(220, 30, 30)  # every result drawn in one colour, so tests can see it
MAX_IMAGE = 4096


def routes() -> list[tuple[str, Any]]:
    """(pattern, handler) pairs to add to the router."""
    return [
        (MAP_JOB, map_service),
        (MAP_JOB + r"/(?P<layer>\d+)", map_layer),
        (MAP_JOB + r"/legend", legend),
        (MAP_JOB + r"/export", export),
    ]


def _job_layers(gp: Any, req: Request, svc: str, job: str) -> tuple[Any, list[tuple[str, dict]]]:
    """The job and its drawn results [(name, FeatureSet)], or a not-found error."""
    token = req.token
    if token:
        gp.tokens.check(token)
    item = gp.jobs.get(job)
    if item is None or (item.service.result_map_server_name or "").lower() != svc.lower():
        raise not_found("Service not found.", f"No result map service for job '{job}'.")
    if item.status != SUCCEEDED:
        raise bad_request(f"The job's results are not drawn: its status is {item.status}.")
    layers = []
    for param in item.task.outputs:
        value = item.results.get(param.name)
        if param.data_type != "GPFeatureRecordSetLayer" or not isinstance(value, dict):
            continue
        if "url" in value and "features" not in value:
            value = gp.features.resolve({"url": value["url"]}, gp.uploads)
        fs = value.get("featureSet") if isinstance(value.get("featureSet"), dict) else value
        layers.append((param.name, fs))
    return item, layers


def _extent(fs: dict) -> dict | None:
    rect = esri.layer_from_feature_set(fs).extent()
    if rect.isNull():
        return None
    return {"xmin": rect.xMinimum(), "ymin": rect.yMinimum(), "xmax": rect.xMaximum(),
            "ymax": rect.yMaximum(), "spatialReference": fs.get("spatialReference")}


def map_service(gp: Any, req: Request, svc: str, job: str) -> Response:
    """The job's map service resource."""
    _item, layers = _job_layers(gp, req, svc, job)
    extent = _extent(layers[0][1]) if layers else None
    sr = layers[0][1].get("spatialReference") if layers else None
    return Response({
        "currentVersion": CURRENT_VERSION,
        "serviceDescription": f"Results of job {job}",
        "mapName": "Layers",
        "layers": [{"id": i, "name": name, "parentLayerId": -1, "defaultVisibility": True,
                    "subLayerIds": None, "minScale": 0, "maxScale": 0}
                   for i, (name, _fs) in enumerate(layers)],
        "tables": [],
        "spatialReference": sr,
        "singleFusedMapCache": False,
        "initialExtent": extent,
        "fullExtent": extent,
        "units": "esriDecimalDegrees",
        "supportedImageFormatTypes": "PNG32,PNG24,PNG",
        "capabilities": "Map",
        "maxImageHeight": MAX_IMAGE,
        "maxImageWidth": MAX_IMAGE,
    }, title=f"Job {job} (MapServer)")


def map_layer(gp: Any, req: Request, svc: str, job: str, layer: str) -> Response:
    """One layer of the job's map service."""
    _item, layers = _job_layers(gp, req, svc, job)
    index = int(layer)
    if index >= len(layers):
        raise not_found("Layer not found.", f"Layer {layer} does not exist.")
    name, fs = layers[index]
    return Response({
        "currentVersion": CURRENT_VERSION, "id": index, "name": name, "type": "Feature Layer",
        "geometryType": fs.get("geometryType"), "fields": fs.get("fields") or [],
        "extent": _extent(fs), "parentLayer": None, "subLayers": [], "minScale": 0,
        "maxScale": 0, "defaultVisibility": True, "capabilities": "Map",
    }, title=name)


def legend(gp: Any, req: Request, svc: str, job: str) -> Response:
    """The legend: one entry a layer (no swatch images)."""
    _item, layers = _job_layers(gp, req, svc, job)
    return Response({"layers": [{"layerId": i, "layerName": name, "legend": []}
                                for i, (name, _fs) in enumerate(layers)]})


def export(gp: Any, req: Request, svc: str, job: str) -> Response:
    """``export``: the results drawn for bbox and size (``f=image``), or its description."""
    _item, layers = _job_layers(gp, req, svc, job)
    try:
        bbox = [float(v) for v in (req.get("bbox") or "").split(",")]
        size = [int(v) for v in (req.get("size") or "400,400").split(",")]
        rect = QgsRectangle(*bbox)
    except (TypeError, ValueError) as exc:
        raise bad_request("Invalid bbox or size.", f"{exc}") from exc
    if len(size) != 2 or not (0 < size[0] <= MAX_IMAGE and 0 < size[1] <= MAX_IMAGE):
        raise bad_request("Invalid size.", f"size={req.get('size')}")
    if (req.get("f") or "").lower() == "json":
        params = {k: v for k, v in req.params.items() if k not in ("f", "token")}
        return Response({"href": f"{req.base_url}{req.path}?{urlencode({**params, 'f': 'image'})}",
                         "width": size[0], "height": size[1],
                         "extent": {"xmin": bbox[0], "ymin": bbox[1], "xmax": bbox[2],
                                    "ymax": bbox[3]}, "scale": 0})
    shown = _shown(req.get("layers"), len(layers))
    drawn = [fs for i, (_name, fs) in enumerate(layers) if i in shown]
    return Response(raw=_render(drawn, rect, size), content_type="image/png")


def _shown(spec: str | None, count: int) -> set[int]:
    every = set(range(count))
    if not spec or ":" not in spec:
        return every
    how, _, ids = spec.partition(":")
    chosen = {int(v) for v in ids.split(",") if v.strip().isdigit()}
    if how == "show":
        return chosen or every
    if how in ("hide", "exclude"):
        return every - chosen
    return every


def _render(feature_sets: list[dict], rect: QgsRectangle, size: list[int]) -> bytes:
    """Draw the features into a transparent PNG: QGIS geometries, Qt's painter.

    Not QGIS's map renderer: its synchronous rendering belongs to the main thread, and
    this runs in a request thread. Painting on a QImage is safe in any thread.
    """
    width, height = size
    image = QImage(width, height, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    if rect.width() <= 0 or rect.height() <= 0:
        return _png(image)
    sx, sy = width / rect.width(), height / rect.height()
    to_pixels = QTransform(sx, 0, 0, -sy, -rect.xMinimum() * sx, rect.yMaximum() * sy)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
    painter.setPen(QPen(RESULT_COLOR, 1))
    painter.setBrush(QBrush(RESULT_COLOR))
    for fs in feature_sets:
        has_z, has_m = bool(fs.get("hasZ")), bool(fs.get("hasM"))
        for feature in fs.get("features") or []:
            if feature.get("geometry"):
                geometry = esri.geometry_from_esri(feature["geometry"], fs.get("geometryType"),
                                                   has_z, has_m)
                _draw(painter, geometry, to_pixels)
    painter.end()
    return _png(image)


def _draw(painter: QPainter, geometry: QgsGeometry, to_pixels: QTransform) -> None:
    geometry = QgsGeometry(geometry.constGet().segmentize())  # curves as lines
    geometry.transform(to_pixels)
    kind = geometry.type()
    multi = geometry.isMultipart()
    if kind == QgsWkbTypes.GeometryType.PolygonGeometry:
        path = QPainterPath()
        path.setFillRule(Qt.FillRule.OddEvenFill)  # holes stay open
        for polygon in (geometry.asMultiPolygon() if multi else [geometry.asPolygon()]):
            for ring in polygon:
                path.addPolygon(QPolygonF([QPointF(p.x(), p.y()) for p in ring]))
        painter.drawPath(path)
    elif kind == QgsWkbTypes.GeometryType.LineGeometry:
        for line in (geometry.asMultiPolyline() if multi else [geometry.asPolyline()]):
            painter.drawPolyline(QPolygonF([QPointF(p.x(), p.y()) for p in line]))
    elif kind == QgsWkbTypes.GeometryType.PointGeometry:
        for point in (geometry.asMultiPoint() if multi else [geometry.asPoint()]):
            painter.drawEllipse(QPointF(point.x(), point.y()), 3, 3)


def _png(image: QImage) -> bytes:
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")
    buffer.close()
    return bytes(data)
