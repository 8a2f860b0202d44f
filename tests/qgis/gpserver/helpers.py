"""Helpers of the reference-server tests: task URLs, point feature sets, areas, drawing."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsDistanceArea,
    QgsGeometry,
    QgsMapLayer,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsPointXY,
    QgsProject,
    QgsRectangle,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor, QImage

from tests.gpserver.client import Rest


def task(rest: Rest, service: str, name: str) -> str:
    """URL of a task of the server ``rest`` talks to."""
    return f"{rest.base_url}/arcgis/rest/services/{service}/GPServer/{name}"


def points(count: int, x0: float = 10.0, step: float = 0.1, y: float = 50.0) -> dict[str, Any]:
    """A WGS 84 point FeatureSet: p1..pN eastwards from (x0, y), OBJECTID 1..N."""
    return {
        "geometryType": "esriGeometryPoint",
        "spatialReference": {"wkid": 4326},
        "fields": [
            {"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID"},
            {"name": "Name", "type": "esriFieldTypeString", "alias": "Name", "length": 20},
        ],
        "features": [
            {"attributes": {"OBJECTID": i, "Name": f"p{i}"},
             "geometry": {"x": round(x0 + step * (i - 1), 6), "y": y}}
            for i in range(1, count + 1)
        ],
    }


def polygon_area(esri_geom: dict[str, Any]) -> float:
    """Ellipsoidal area (m2, WGS 84) of an Esri polygon in EPSG:4326 (outer rings)."""
    geometry = QgsGeometry.fromMultiPolygonXY(
        [[[QgsPointXY(p[0], p[1]) for p in ring]] for ring in esri_geom["rings"]])
    measure = QgsDistanceArea()
    measure.setSourceCrs(QgsCoordinateReferenceSystem("EPSG:4326"),
                         QgsProject.instance().transformContext())
    measure.setEllipsoid("WGS84")
    return measure.measureArea(geometry)


def render(layer: QgsMapLayer, extent: QgsRectangle, pixels: int) -> QImage:
    """Draw a layer with QGIS (its own CRS) into a square image of that many pixels."""
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setDestinationCrs(layer.crs())
    settings.setOutputSize(QSize(pixels, pixels))
    settings.setExtent(extent)
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    return job.renderedImage()


def rgb(image: QImage, x: int, y: int) -> tuple[int, int, int]:
    """The colour of a pixel, without its alpha."""
    colour = QColor(image.pixel(x, y))
    return colour.red(), colour.green(), colour.blue()
