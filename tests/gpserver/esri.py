"""A small, independent Esri JSON <-> QGIS converter used only by the reference server.

It deliberately does not import the project's ``esrijson`` package: the server is the
independent peer that package is tested against.
"""

from __future__ import annotations

import math
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsField,
    QgsFields,
    QgsGeometry,
    QgsGeometryCollection,
    QgsLineString,
    QgsMultiLineString,
    QgsMultiPoint,
    QgsMultiPolygon,
    QgsPoint,
    QgsPolygon,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.PyQt.QtCore import QDateTime, QTimeZone, QVariant

from arcgis_gp.esrijson.qtypes import FieldType

_FIELD_TYPES_IN = {
    "esriFieldTypeOID": FieldType.LongLong,
    "esriFieldTypeInteger": FieldType.Int,
    "esriFieldTypeSmallInteger": FieldType.Int,
    "esriFieldTypeBigInteger": FieldType.LongLong,
    "esriFieldTypeSingle": FieldType.Double,
    "esriFieldTypeDouble": FieldType.Double,
    "esriFieldTypeString": FieldType.String,
    "esriFieldTypeDate": FieldType.DateTime,
    "esriFieldTypeGUID": FieldType.String,
    "esriFieldTypeGlobalID": FieldType.String,
    "esriFieldTypeXML": FieldType.String,
}

# Esri's own wkids for Web Mercator; QGIS knows the EPSG code.
_WEB_MERCATOR_WKIDS = {102100, 102113, 900913, 3857}


class ConversionError(ValueError):
    """Raised for Esri JSON this converter cannot read."""


# --------------------------------------------------------------------------- spatial refs
def crs_from_sr(sr: Any) -> QgsCoordinateReferenceSystem:
    """Return the CRS of an Esri spatialReference (wkid, latestWkid or wkt); invalid if none."""
    if sr is None or sr == [] or sr == {}:
        return QgsCoordinateReferenceSystem()
    if isinstance(sr, (int, str)) and str(sr).strip().isdigit():
        sr = {"wkid": int(str(sr).strip())}
    if not isinstance(sr, dict):
        raise ConversionError(f"spatialReference must be an object, got {sr!r}")
    for key in ("latestWkid", "wkid"):
        wkid = sr.get(key)
        if wkid in (None, ""):
            continue
        try:
            wkid = int(wkid)
        except (TypeError, ValueError) as exc:
            raise ConversionError(f"spatialReference {key} is not a number: {wkid!r}") from exc
        if wkid in _WEB_MERCATOR_WKIDS:
            return QgsCoordinateReferenceSystem("EPSG:3857")
        crs = QgsCoordinateReferenceSystem(f"EPSG:{wkid}")
        if crs.isValid():
            return crs
        crs = QgsCoordinateReferenceSystem(f"ESRI:{wkid}")
        if crs.isValid():
            return crs
    wkt = sr.get("wkt")
    if wkt:
        crs = QgsCoordinateReferenceSystem.fromWkt(wkt)
        if crs.isValid():
            return crs
        raise ConversionError("spatialReference wkt is not understood")
    if sr.get("wkid") is not None or sr.get("latestWkid") is not None:
        raise ConversionError(f"unknown spatial reference {sr!r}")
    return QgsCoordinateReferenceSystem()


def sr_from_crs(crs: QgsCoordinateReferenceSystem) -> dict[str, Any] | None:
    """Return the Esri spatialReference for a CRS: wkid where EPSG knows it, wkt otherwise."""
    if not crs.isValid():
        return None
    authid = crs.authid()
    if authid == "EPSG:3857":
        return {"wkid": 102100, "latestWkid": 3857}
    if authid.upper().startswith(("EPSG:", "ESRI:")):
        code = int(authid.split(":", 1)[1])
        return {"wkid": code, "latestWkid": code}
    return {"wkt": crs.toWkt(QgsCoordinateReferenceSystem.WktVariant.WKT1_ESRI)}


# --------------------------------------------------------------------------- geometry in
def _num(v: Any) -> float:
    if v is None or v == "NaN":
        return math.nan
    return float(v)


def _make_point(coords: list[Any], has_z: bool, has_m: bool) -> QgsPoint:
    if not isinstance(coords, (list, tuple)) or len(coords) < 2:
        raise ConversionError(f"a coordinate needs at least x and y, got {coords!r}")
    x, y = _num(coords[0]), _num(coords[1])
    rest = list(coords[2:])
    z = m = None
    if has_z and has_m:
        z = rest[0] if rest else None
        m = rest[1] if len(rest) > 1 else None
    elif has_m:
        m = rest[0] if rest else None
    elif has_z:
        z = rest[0] if rest else None
    wkb = QgsWkbTypes.Type.Point
    if has_z:
        wkb = QgsWkbTypes.addZ(wkb)
    if has_m:
        wkb = QgsWkbTypes.addM(wkb)
    zv = _num(z) if z is not None else math.nan
    mv = _num(m) if m is not None else math.nan
    return QgsPoint(x, y, zv, mv, wkb)


def _dims(geom: dict[str, Any], coord_lists: list[Any], has_z: bool | None, has_m: bool | None):
    """Return (has_z, has_m): flags win; without flags three ordinates mean Z (as GDAL does)."""
    z = bool(geom.get("hasZ", has_z or False))
    m = bool(geom.get("hasM", has_m or False))
    if has_z is None and not z and not m:
        for c in coord_lists:
            if isinstance(c, (list, tuple)) and len(c) >= 3:
                z = True
            break
    return z, m


def _ring_area2(points: list[QgsPoint]) -> float:
    total = 0.0
    for a, b in zip(points, points[1:] + points[:1]):
        total += a.x() * b.y() - b.x() * a.y()
    return total


def geometry_from_esri(
    geom: Any,
    geometry_type: str | None = None,
    has_z: bool | None = None,
    has_m: bool | None = None,
) -> QgsGeometry:
    """Return the QgsGeometry of an Esri JSON geometry; null geometry for None."""
    if geom is None:
        return QgsGeometry()
    if not isinstance(geom, dict):
        raise ConversionError(f"a geometry must be an object, got {type(geom).__name__}")
    if "curvePaths" in geom or "curveRings" in geom:
        raise ConversionError("curvePaths/curveRings are not supported by the reference server")
    if "x" in geom:
        if geom.get("x") in (None, "NaN"):
            return QgsGeometry(QgsPoint())
        coords = [geom.get("x"), geom.get("y")]
        z, m = bool(geom.get("hasZ", has_z or False)), bool(geom.get("hasM", has_m or False))
        if "z" in geom and has_z is None:
            z = True
        if "m" in geom and has_m is None:
            m = True
        extra = []
        if z:
            extra.append(geom.get("z"))
        if m:
            extra.append(geom.get("m"))
        return QgsGeometry(_make_point(coords + extra, z, m))
    if "points" in geom:
        z, m = _dims(geom, geom["points"], has_z, has_m)
        mp = QgsMultiPoint()
        for c in geom["points"]:
            mp.addGeometry(_make_point(c, z, m))
        return QgsGeometry(mp)
    if "paths" in geom:
        paths = geom["paths"] or []
        z, m = _dims(geom, paths[0] if paths else [], has_z, has_m)
        mls = QgsMultiLineString()
        for path in paths:
            mls.addGeometry(QgsLineString([_make_point(c, z, m) for c in path]))
        return QgsGeometry(mls)
    if "rings" in geom:
        rings = geom["rings"] or []
        z, m = _dims(geom, rings[0] if rings else [], has_z, has_m)
        return QgsGeometry(_polygon_from_rings(rings, z, m))
    if {"xmin", "ymin", "xmax", "ymax"} <= set(geom):
        xmin, ymin, xmax, ymax = (float(geom[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
        ring = [[xmin, ymin], [xmin, ymax], [xmax, ymax], [xmax, ymin], [xmin, ymin]]
        return QgsGeometry(_polygon_from_rings([ring], False, False))
    raise ConversionError(f"unrecognised geometry keys {sorted(geom)} ({geometry_type})")


def _polygon_from_rings(rings: list[Any], z: bool, m: bool) -> QgsMultiPolygon:
    """Build polygons: clockwise rings are outers, the others holes of the outer holding them."""
    outers: list[tuple[QgsLineString, QgsGeometry, list[QgsLineString]]] = []
    holes: list[QgsLineString] = []
    for ring in rings:
        pts = [_make_point(c, z, m) for c in ring]
        if len(pts) < 3:
            raise ConversionError("a polygon ring needs at least three points")
        if pts[0].x() != pts[-1].x() or pts[0].y() != pts[-1].y():
            pts.append(QgsPoint(pts[0]))
        line = QgsLineString(pts)
        if _ring_area2(pts[:-1]) <= 0:  # clockwise in a y-up system: an outer ring
            outers.append((line, QgsGeometry(QgsPolygon(line.clone())), []))
        else:
            holes.append(line)
    for hole in holes:
        probe = QgsGeometry(QgsPoint(hole.pointN(0).x(), hole.pointN(0).y()))
        owner = next((o for o in outers if o[1].contains(probe)), None)
        if owner is None:  # a counter-clockwise ring nobody contains: treat as an outer
            outers.append((hole, QgsGeometry(QgsPolygon(hole.clone())), []))
        else:
            owner[2].append(hole)
    mpoly = QgsMultiPolygon()
    for exterior, _, inner in outers:
        poly = QgsPolygon()
        poly.setExteriorRing(exterior.clone())
        for h in inner:
            poly.addInteriorRing(h.clone())
        mpoly.addGeometry(poly)
    return mpoly


# --------------------------------------------------------------------------- geometry out
def _coords(p: QgsPoint, has_z: bool, has_m: bool) -> list[float | None]:
    out: list[float | None] = [p.x(), p.y()]
    if has_z:
        out.append(None if math.isnan(p.z()) else p.z())
    if has_m:
        out.append(None if math.isnan(p.m()) else p.m())
    return out


def _ring_coords(ring: Any, has_z: bool, has_m: bool, clockwise: bool) -> list[list[Any]]:
    pts = [ring.pointN(i) for i in range(ring.numPoints())]
    if len(pts) > 1 and (_ring_area2(pts[:-1]) > 0) == clockwise:
        pts.reverse()
    return [_coords(p, has_z, has_m) for p in pts]


def geometry_to_esri(
    geometry: QgsGeometry, has_z: bool | None = None, has_m: bool | None = None
) -> dict[str, Any] | None:
    """Return the Esri JSON of a geometry (outer rings clockwise, holes counter-clockwise)."""
    if geometry is None or geometry.isNull():
        return None
    g = geometry.constGet()
    if QgsWkbTypes.isCurvedType(g.wkbType()):
        g = g.segmentize()
    z = g.is3D() if has_z is None else has_z
    m = g.isMeasure() if has_m is None else has_m
    flat = QgsWkbTypes.flatType(g.wkbType())
    if flat == QgsWkbTypes.Type.Point:
        if g.isEmpty():
            return {"x": None, "y": None}
        out: dict[str, Any] = {"x": g.x(), "y": g.y()}
        if z:
            out["z"] = None if math.isnan(g.z()) else g.z()
        if m:
            out["m"] = None if math.isnan(g.m()) else g.m()
        return out
    if isinstance(g, QgsGeometryCollection):
        parts = [g.geometryN(i) for i in range(g.numGeometries())]
    else:
        parts = [g]
    if flat in (QgsWkbTypes.Type.MultiPoint,):
        return {"points": [_coords(p, z, m) for p in parts]}
    if flat in (QgsWkbTypes.Type.LineString, QgsWkbTypes.Type.MultiLineString):
        paths = [[_coords(p.pointN(i), z, m) for i in range(p.numPoints())] for p in parts]
        return {"paths": paths}
    if flat in (QgsWkbTypes.Type.Polygon, QgsWkbTypes.Type.MultiPolygon):
        rings = []
        for poly in parts:
            if poly.exteriorRing() is None:
                continue
            rings.append(_ring_coords(poly.exteriorRing(), z, m, clockwise=True))
            for i in range(poly.numInteriorRings()):
                rings.append(_ring_coords(poly.interiorRing(i), z, m, clockwise=False))
        return {"rings": rings}
    raise ConversionError(f"cannot write geometry type {QgsWkbTypes.displayString(g.wkbType())}")


def esri_geometry_type(wkb_type: int) -> str | None:
    """Return the Esri geometryType for a QGIS WKB type (None for no geometry)."""
    geom_type = QgsWkbTypes.geometryType(wkb_type)
    if geom_type == QgsWkbTypes.GeometryType.PointGeometry:
        if QgsWkbTypes.isMultiType(wkb_type):
            return "esriGeometryMultipoint"
        return "esriGeometryPoint"
    if geom_type == QgsWkbTypes.GeometryType.LineGeometry:
        return "esriGeometryPolyline"
    if geom_type == QgsWkbTypes.GeometryType.PolygonGeometry:
        return "esriGeometryPolygon"
    return None


def wkb_type_for(geometry_type: str | None, has_z: bool, has_m: bool) -> int:
    """Return the QGIS WKB type used for an Esri geometryType."""
    base = {
        "esriGeometryPoint": QgsWkbTypes.Type.Point,
        "esriGeometryMultipoint": QgsWkbTypes.Type.MultiPoint,
        "esriGeometryPolyline": QgsWkbTypes.Type.MultiLineString,
        "esriGeometryPolygon": QgsWkbTypes.Type.MultiPolygon,
        "esriGeometryEnvelope": QgsWkbTypes.Type.MultiPolygon,
        None: QgsWkbTypes.Type.NoGeometry,
    }.get(geometry_type)
    if base is None:
        raise ConversionError(f"unknown geometryType {geometry_type!r}")
    if base != QgsWkbTypes.Type.NoGeometry:
        if has_z:
            base = QgsWkbTypes.addZ(base)
        if has_m:
            base = QgsWkbTypes.addM(base)
    return base


# --------------------------------------------------------------------------- fields
def fields_from_esri(fields: list[dict[str, Any]]) -> QgsFields:
    """Return QgsFields for Esri field definitions (geometry and blob fields left out)."""
    out = QgsFields()
    for f in fields or []:
        if not isinstance(f, dict) or "name" not in f:
            raise ConversionError(f"a field needs a name: {f!r}")
        ftype = f.get("type", "esriFieldTypeString")
        if ftype in ("esriFieldTypeGeometry", "esriFieldTypeBlob", "esriFieldTypeRaster"):
            continue
        qtype = _FIELD_TYPES_IN.get(ftype, FieldType.String)
        field = QgsField(f["name"], qtype, ftype, int(f.get("length") or 0))
        if f.get("alias"):
            field.setAlias(f["alias"])
        out.append(field)
    return out


def field_to_esri(field: QgsField, oid: bool = False) -> dict[str, Any]:
    """Return the Esri definition of a QGIS field."""
    t = field.type()
    if oid:
        ftype = "esriFieldTypeOID"
    elif field.typeName().startswith("esriFieldType"):
        ftype = field.typeName()
    elif t in (FieldType.Int, FieldType.UInt):
        ftype = "esriFieldTypeInteger"
    elif t in (FieldType.LongLong, FieldType.ULongLong):
        ftype = "esriFieldTypeInteger"
    elif t == FieldType.Double:
        ftype = "esriFieldTypeDouble"
    elif t in (FieldType.DateTime, FieldType.Date):
        ftype = "esriFieldTypeDate"
    else:
        ftype = "esriFieldTypeString"
    out: dict[str, Any] = {
        "name": field.name(),
        "type": ftype,
        "alias": field.alias() or field.name(),
    }
    if ftype == "esriFieldTypeString":
        out["length"] = field.length() or 255
    return out


def value_from_esri(value: Any, field: QgsField) -> Any:
    """Return the QGIS attribute value for an Esri attribute value."""
    if value is None:
        return None
    if field.type() == FieldType.DateTime:
        dt = QDateTime.fromMSecsSinceEpoch(int(value), QTimeZone.utc())
        return dt
    return value


def value_to_esri(value: Any) -> Any:
    """Return the Esri JSON form of a QGIS attribute value (dates as ms since epoch UTC)."""
    if value is None:
        return None
    if isinstance(value, QVariant):
        return None if value.isNull() else value.value()
    if isinstance(value, QDateTime):
        return value.toMSecsSinceEpoch() if value.isValid() else None
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isNull") and value.isNull():
        return None
    return value


# --------------------------------------------------------------------------- feature sets
def normalise_feature_set(obj: dict[str, Any]) -> dict[str, Any]:
    """Return the FeatureSet part of a FeatureSet or FeatureCollection dict."""
    if "featureSet" in obj and isinstance(obj["featureSet"], dict):
        fs = dict(obj["featureSet"])
        layer_def = obj.get("layerDefinition") or {}
        for key in ("geometryType", "fields", "spatialReference", "hasZ", "hasM"):
            if key not in fs and key in layer_def:
                fs[key] = layer_def[key]
        return fs
    if "layers" in obj and isinstance(obj["layers"], list) and obj["layers"]:
        return normalise_feature_set(obj["layers"][0])
    return obj


def layer_from_feature_set(
    obj: dict[str, Any], name: str = "features", *, record_set: bool = False
) -> QgsVectorLayer:
    """Return a memory layer holding the features of an Esri FeatureSet/FeatureCollection."""
    fs = normalise_feature_set(obj)
    if not isinstance(fs.get("features", []), list):
        raise ConversionError("'features' must be an array")
    features = fs.get("features") or []
    geometry_type = None if record_set else fs.get("geometryType")
    if geometry_type is None and not record_set:
        geometry_type = guess_geometry_type(features)
    has_z, has_m = bool(fs.get("hasZ")), bool(fs.get("hasM"))
    wkb = wkb_type_for(geometry_type, has_z, has_m)
    crs = crs_from_sr(fs.get("spatialReference"))
    if not crs.isValid() and features:
        first = next((f.get("geometry") for f in features if f.get("geometry")), None)
        if isinstance(first, dict) and "spatialReference" in first:
            crs = crs_from_sr(first["spatialReference"])
    layer = QgsVectorLayer(f"{QgsWkbTypes.displayString(wkb)}", name, "memory")
    if crs.isValid():
        layer.setCrs(crs)
    fields = fields_from_esri(fs.get("fields") or _guess_fields(features))
    layer.dataProvider().addAttributes(fields.toList())
    layer.updateFields()
    qfields = layer.fields()
    out = []
    for i, f in enumerate(features):
        if not isinstance(f, dict):
            raise ConversionError(f"feature {i} is not an object")
        feat = QgsFeature(qfields)
        attrs = f.get("attributes") or {}
        feat.setAttributes([value_from_esri(attrs.get(fl.name()), fl) for fl in qfields])
        if not record_set:
            try:
                geom = geometry_from_esri(f.get("geometry"), geometry_type, has_z, has_m)
            except (ConversionError, TypeError, ValueError) as exc:
                raise ConversionError(f"feature {i}: {exc}") from exc
            if not geom.isNull():
                if QgsWkbTypes.isMultiType(wkb) and not geom.isMultipart():
                    geom.convertToMultiType()
                feat.setGeometry(geom)
        out.append(feat)
    if out and not layer.dataProvider().addFeatures(out):
        raise ConversionError("the features do not fit their declared geometry type or fields")
    return layer


def guess_geometry_type(features: list[dict[str, Any]]) -> str:
    for f in features:
        g = f.get("geometry") if isinstance(f, dict) else None
        if isinstance(g, dict):
            if "rings" in g:
                return "esriGeometryPolygon"
            if "paths" in g:
                return "esriGeometryPolyline"
            if "points" in g:
                return "esriGeometryMultipoint"
            return "esriGeometryPoint"
    return "esriGeometryPoint"


def _guess_fields(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names: dict[str, str] = {}
    for f in features:
        for k, v in ((f.get("attributes") or {}) if isinstance(f, dict) else {}).items():
            if k in names or v is None:
                names.setdefault(k, "esriFieldTypeString")
                continue
            if isinstance(v, bool) or isinstance(v, int):
                names[k] = "esriFieldTypeInteger"
            elif isinstance(v, float):
                names[k] = "esriFieldTypeDouble"
            else:
                names[k] = "esriFieldTypeString"
    return [{"name": k, "type": t, "alias": k} for k, t in names.items()]


def feature_set_from_layer(
    layer: QgsVectorLayer,
    *,
    oid_field: str | None = "OBJECTID",
    drop_fields: set[str] | frozenset[str] = frozenset(),
    extra_fields: list[dict[str, Any]] | None = None,
    extra_values: Any = None,
) -> dict[str, Any]:
    """Return an Esri FeatureSet for a layer; a fresh OID field is numbered 1..n."""
    wkb = layer.wkbType()
    gtype = esri_geometry_type(wkb)
    has_z, has_m = QgsWkbTypes.hasZ(wkb), QgsWkbTypes.hasM(wkb)
    src_fields = [
        f
        for f in layer.fields()
        if f.name() != oid_field
        and f.name() not in drop_fields
        and not (oid_field and f.typeName() == "esriFieldTypeOID")
    ]
    fields = []
    if oid_field:
        fields.append({"name": oid_field, "type": "esriFieldTypeOID", "alias": oid_field})
    fields += [field_to_esri(f) for f in src_fields]
    fields += list(extra_fields or [])
    features = []
    for n, feat in enumerate(layer.getFeatures(), start=1):
        attrs: dict[str, Any] = {}
        if oid_field:
            attrs[oid_field] = n
        for f in src_fields:
            attrs[f.name()] = value_to_esri(feat[f.name()])
        if extra_values is not None:
            attrs.update(extra_values(feat, n))
        item: dict[str, Any] = {"attributes": attrs}
        if gtype:
            item["geometry"] = geometry_to_esri(feat.geometry(), has_z, has_m)
        features.append(item)
    out: dict[str, Any] = {"displayFieldName": ""}
    if gtype:
        out["geometryType"] = gtype
        out["hasZ"] = has_z
        out["hasM"] = has_m
        sr = sr_from_crs(layer.crs())
        if sr:
            out["spatialReference"] = sr
    out["fields"] = fields
    out["features"] = features
    out["exceededTransferLimit"] = False
    return out
