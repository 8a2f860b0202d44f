"""Esri ``drawingInfo`` (renderer, labels, transparency) -> QGIS layer style.

Simple and unique-value renderers, symbols and labels are converted by QGIS's own
``QgsArcGisRestUtils``; class-breaks renderers (which QGIS 3.22 does not convert) are built
here as a graduated renderer from the converted symbols.
"""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsArcGisRestUtils,
    QgsFeatureRenderer,
    QgsGraduatedSymbolRenderer,
    QgsRenderContext,
    QgsRendererRange,
    QgsSymbol,
    QgsVectorLayer,
    QgsWkbTypes,
)

_SYMBOL_FOR_GEOMETRY = {
    QgsWkbTypes.GeometryType.PointGeometry: QgsSymbol.SymbolType.Marker,
    QgsWkbTypes.GeometryType.LineGeometry: QgsSymbol.SymbolType.Line,
    QgsWkbTypes.GeometryType.PolygonGeometry: QgsSymbol.SymbolType.Fill,
}


def _class_breaks(renderer: dict) -> QgsFeatureRenderer | None:
    field = renderer.get("field")
    infos = renderer.get("classBreakInfos") or []
    if not field or not infos:
        return None
    lower = renderer.get("minValue")
    ranges = []
    for info in infos:
        symbol = QgsArcGisRestUtils.convertSymbol(info.get("symbol") or {})
        upper = info.get("classMaxValue")
        if symbol is None or upper is None:
            return None
        low = info.get("classMinValue", lower)
        low = float(low) if low is not None else float(upper)
        ranges.append(QgsRendererRange(low, float(upper), symbol,
                                       str(info.get("label") or f"{low} - {upper}")))
        lower = upper
    graduated = QgsGraduatedSymbolRenderer(str(field), ranges)
    default = renderer.get("defaultSymbol")
    if isinstance(default, dict):
        symbol = QgsArcGisRestUtils.convertSymbol(default)
        if symbol is not None:
            graduated.setSourceSymbol(symbol)
    return graduated


def convert_renderer(renderer: dict) -> QgsFeatureRenderer | None:
    """Return the QGIS renderer for an Esri renderer dict, None when it cannot be converted."""
    if not isinstance(renderer, dict):
        return None
    if renderer.get("type") == "classBreaks":
        return _class_breaks(renderer)
    return QgsArcGisRestUtils.convertRenderer(renderer)


def _fits(renderer: QgsFeatureRenderer, layer: QgsVectorLayer) -> bool:
    """True when every symbol of the renderer draws the layer's kind of geometry."""
    wanted = _SYMBOL_FOR_GEOMETRY.get(layer.geometryType())
    if wanted is None:
        return False
    symbols = renderer.symbols(QgsRenderContext())
    return bool(symbols) and all(s is not None and s.type() == wanted for s in symbols)


def apply_drawing_info(layer: QgsVectorLayer, drawing_info: dict) -> bool:
    """Give a layer the QGIS equivalent of an Esri drawingInfo; True when a renderer was set."""
    if not isinstance(drawing_info, dict) or layer is None or not layer.isSpatial():
        return False
    applied = False
    renderer = convert_renderer(drawing_info.get("renderer"))
    if renderer is not None and _fits(renderer, layer):
        layer.setRenderer(renderer)
        applied = True
    labels: Any = drawing_info.get("labelingInfo")
    if isinstance(labels, list) and labels:
        labeling = QgsArcGisRestUtils.convertLabeling(labels)
        if labeling is not None:
            layer.setLabeling(labeling)
            layer.setLabelsEnabled(True)
    transparency = drawing_info.get("transparency")
    if isinstance(transparency, (int, float)) and 0 <= transparency <= 100:
        layer.setOpacity(1.0 - transparency / 100.0)
    if applied:
        layer.triggerRepaint()
    return applied
