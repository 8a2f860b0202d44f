"""What a task's filters say about valid input, in QGIS terms.

ArcGIS Server (10.7 and later) publishes a ``filter`` on parameters whose values it limits:
``featureClass`` (the geometry types a feature input takes), ``range`` (a number's
minimum and maximum), ``valueList`` (the values allowed) and ``file`` (file extensions).
A GPMultiValue's filter applies to each of its values; it may sit on the parameter or on
its one member (``parameterInfos``).
"""

from __future__ import annotations

from typing import Any

from qgis.core import Qgis, QgsProcessing, QgsWkbTypes

from ...gp_client.model import ParameterDescription, ParameterFilter
from ...gp_client.values import member_type

# Geometry kinds as QGIS knows them. QGIS's point layers hold points and multipoints alike
# (TypeVectorPoint offers both), so multipoint counts as point.
POINT, LINE, POLYGON, TABLE = "point", "line", "polygon", "table"
KINDS = (POINT, LINE, POLYGON)
ESRI_GEOMETRY_KINDS = {
    "esriGeometryPoint": POINT,
    "esriGeometryMultipoint": POINT,
    "esriGeometryPolyline": LINE,
    "esriGeometryPolygon": POLYGON,
    "esriGeometryEnvelope": POLYGON,
    "esriGeometryMultiPatch": POLYGON,  # QGIS reads multipatches as polygon layers
}
SOURCE_TYPES = {
    POINT: QgsProcessing.SourceType.TypeVectorPoint,
    LINE: QgsProcessing.SourceType.TypeVectorLine,
    POLYGON: QgsProcessing.SourceType.TypeVectorPolygon,
}
if hasattr(Qgis, "GeometryType"):  # QGIS >= 3.30; QgsWkbTypes.GeometryType before
    _QGIS_KINDS = {Qgis.GeometryType.Point: POINT, Qgis.GeometryType.Line: LINE,
                   Qgis.GeometryType.Polygon: POLYGON}
else:
    _QGIS_KINDS = {QgsWkbTypes.GeometryType.PointGeometry: POINT,
                   QgsWkbTypes.GeometryType.LineGeometry: LINE,
                   QgsWkbTypes.GeometryType.PolygonGeometry: POLYGON}


def parameter_filter(p: ParameterDescription) -> ParameterFilter | None:
    """Return the filter of a parameter, or of the member of its GPMultiValue."""
    found = p.value_filter
    if found is None and member_type(p.data_type or "") is not None and len(p.members) == 1:
        found = p.members[0].value_filter
    return found


def filter_of(p: ParameterDescription, kind: str) -> ParameterFilter | None:
    """Return the parameter's filter if it is of that type (``range``, ``valueList``...)."""
    found = parameter_filter(p)
    return found if found is not None and found.type == kind else None


def accepted_kinds(p: ParameterDescription) -> tuple[str, ...]:
    """Return the geometry kinds a featureClass filter accepts, in KINDS order ('' = any)."""
    found = filter_of(p, "featureClass")
    if found is None:
        return ()
    kinds = {ESRI_GEOMETRY_KINDS.get(str(name)) for name in found.values}
    return tuple(kind for kind in KINDS if kind in kinds)


def schema_geometry_type(default: Any) -> str:
    """Return the esriGeometry* type of a feature set default (its schema), or ''."""
    if isinstance(default, dict):
        value = default.get("geometryType")
        if value is None and isinstance(default.get("layerDefinition"), dict):
            value = default["layerDefinition"].get("geometryType")
        return str(value or "")
    return ""


def kind_of_schema(default: Any) -> tuple[str, ...]:
    """Return the geometry kind of a feature set default (its schema), () when it has none."""
    kind = ESRI_GEOMETRY_KINDS.get(schema_geometry_type(default))
    return (kind,) if kind else ()


def source_types(kinds: tuple[str, ...]) -> list[int]:
    """Return the Processing layer types standing for geometry kinds (any for () or all)."""
    if not kinds or set(kinds) >= set(KINDS):
        return [QgsProcessing.SourceType.TypeVectorAnyGeometry]
    return [SOURCE_TYPES[kind] for kind in kinds]


def layer_kind(wkb_type: int) -> str:
    """Return a layer's geometry kind (point, line, polygon; table without geometry)."""
    return _QGIS_KINDS.get(QgsWkbTypes.geometryType(wkb_type), TABLE)


def kinds_text(kinds: tuple[str, ...]) -> str:
    """Return 'point', 'point or line', 'point, line or polygon'."""
    words = list(kinds)
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def extensions(p: ParameterDescription) -> tuple[str, ...]:
    """Return a file filter's extensions, lower case without dot ('csv', 'zip')."""
    found = filter_of(p, "file")
    if found is None:
        return ()
    cleaned = (str(e).strip().lstrip("*").lstrip(".").lower() for e in found.values)
    return tuple(dict.fromkeys(e for e in cleaned if e))


def value_list(p: ParameterDescription) -> tuple[str, ...]:
    """Return the values of a valueList filter as text (empty when there is none)."""
    found = filter_of(p, "valueList")
    return tuple(str(v) for v in found.values) if found is not None else ()


def number_range(p: ParameterDescription) -> tuple[float | None, float | None]:
    """Return a range filter's minimum and maximum (None where it gives none)."""
    found = filter_of(p, "range")
    return (found.minimum, found.maximum) if found is not None else (None, None)
