"""drawingInfo -> QGIS style (esrijson.style)."""

from __future__ import annotations

import pytest
from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsGraduatedSymbolRenderer,
    QgsSingleSymbolRenderer,
    QgsVectorLayer,
)

from arcgis_gp.esrijson import style

pytestmark = pytest.mark.timeout(60)

FILL = {"type": "esriSFS", "style": "esriSFSSolid", "color": [255, 0, 0, 255],
        "outline": {"type": "esriSLS", "style": "esriSLSSolid", "color": [0, 0, 0, 255],
                    "width": 1}}
FILL_BLUE = dict(FILL, color=[0, 0, 255, 128])
MARKER = {"type": "esriSMS", "style": "esriSMSCircle", "color": [0, 255, 0, 255], "size": 8}


def _polygons() -> QgsVectorLayer:
    layer = QgsVectorLayer("Polygon?crs=EPSG:4326&field=kind:string&field=value:double",
                           "p", "memory")
    assert layer.isValid()
    return layer


def test_simple_renderer() -> None:
    """A simple renderer becomes a single-symbol renderer with the Esri colour."""
    layer = _polygons()
    assert style.apply_drawing_info(layer, {"renderer": {"type": "simple", "symbol": FILL},
                                            "transparency": 25})
    renderer = layer.renderer()
    assert isinstance(renderer, QgsSingleSymbolRenderer)
    assert renderer.symbol().color().name() == "#ff0000"
    assert layer.opacity() == pytest.approx(0.75)


def test_unique_value_renderer() -> None:
    """uniqueValue -> categorized on field1, one category per value."""
    layer = _polygons()
    info = {"renderer": {"type": "uniqueValue", "field1": "kind", "defaultSymbol": FILL,
                         "uniqueValueInfos": [
                             {"value": "a", "label": "A", "symbol": FILL},
                             {"value": "b", "label": "B", "symbol": FILL_BLUE}]}}
    assert style.apply_drawing_info(layer, info)
    renderer = layer.renderer()
    assert isinstance(renderer, QgsCategorizedSymbolRenderer)
    assert renderer.classAttribute() == "kind"
    values = [c.value() for c in renderer.categories()]
    assert "a" in values and "b" in values


def test_class_breaks_renderer() -> None:
    """classBreaks (which QGIS 3.22 does not convert) -> graduated ranges."""
    layer = _polygons()
    info = {"renderer": {"type": "classBreaks", "field": "value", "minValue": 0,
                         "classBreakInfos": [
                             {"classMaxValue": 10, "label": "low", "symbol": FILL},
                             {"classMaxValue": 100, "label": "high", "symbol": FILL_BLUE}]}}
    assert style.apply_drawing_info(layer, info)
    renderer = layer.renderer()
    assert isinstance(renderer, QgsGraduatedSymbolRenderer)
    assert renderer.classAttribute() == "value"
    assert [(r.lowerValue(), r.upperValue(), r.label()) for r in renderer.ranges()] == \
        [(0, 10, "low"), (10, 100, "high")]


def test_symbol_for_another_geometry_type_is_not_applied() -> None:
    """A marker renderer on a polygon layer is refused; the layer keeps its style."""
    layer = _polygons()
    before = layer.renderer().clone()
    assert not style.apply_drawing_info(layer, {"renderer": {"type": "simple",
                                                             "symbol": MARKER}})
    assert layer.renderer().dump() == before.dump()


def test_labels_and_garbage() -> None:
    """labelingInfo turns labels on; unknown renderers and junk change nothing."""
    layer = _polygons()
    labels = [{"labelExpression": "[kind]", "symbol": {"type": "esriTS", "color": [0, 0, 0, 255],
                                                       "font": {"size": 9}},
               "labelPlacement": "esriServerPolygonPlacementAlwaysHorizontal"}]
    assert not style.apply_drawing_info(layer, {"labelingInfo": labels})
    assert layer.labelsEnabled()
    assert not style.apply_drawing_info(layer, {"renderer": {"type": "heatmap"}})
    assert not style.apply_drawing_info(layer, "not a dict")  # type: ignore[arg-type]
    table = QgsVectorLayer("None?field=a:integer", "t", "memory")
    assert not style.apply_drawing_info(table, {"renderer": {"type": "simple",
                                                             "symbol": FILL}})
