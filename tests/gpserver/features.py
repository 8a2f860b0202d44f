"""Feature layers hosted by the server (SamplePoints and CreateBuffers outputs) and query."""

from __future__ import annotations

import json
import re
import threading
import urllib.parse
import urllib.request
from typing import Any

from qgis.core import (
    QgsCoordinateTransform,
    QgsExpression,
    QgsFeatureRequest,
    QgsProject,
)

from . import esri
from .catalog import CURRENT_VERSION, FeatureLayerDef
from .errors import RestError, bad_request, not_found
from .gpvalues import loads_lenient

LAYER_URL = re.compile(
    r"(?P<hosted>/hosted)?/arcgis/rest/services/(?P<svc>.+?)/(?:FeatureServer|MapServer)/(?P<id>\d+)"
)


def hosted_key(name: str) -> str:
    """Store key of a hosted layer (kept apart from the GP server's services)."""
    return f"@hosted/{name}"


class FeatureStore:
    """In-memory feature services: ``<folder>/<name>/FeatureServer/0``."""

    def __init__(self) -> None:
        self._layers: dict[str, FeatureLayerDef] = {}
        self._lock = threading.Lock()

    def add(self, layer: FeatureLayerDef) -> None:
        """Publish a layer (replacing one of the same service name)."""
        with self._lock:
            self._layers[layer.service.lower()] = layer

    def get(self, service: str) -> FeatureLayerDef | None:
        """Return the layer of a service, or None."""
        with self._lock:
            return self._layers.get(service.lower())

    def services(self, hosted: bool = False) -> list[str]:
        """Names of the feature services of the GP server (or of the hosting server)."""
        with self._lock:
            return [
                layer.name if hosted else layer.service
                for layer in self._layers.values()
                if layer.hosted == hosted
            ]

    # -- resource JSON ----------------------------------------------------------------------
    def service_json(self, layer: FeatureLayerDef) -> dict[str, Any]:
        """The FeatureServer resource."""
        fs = layer.feature_set
        extent = self._extent(layer)
        return {
            "currentVersion": CURRENT_VERSION,
            "serviceDescription": layer.description,
            "hasVersionedData": False,
            "supportsDisconnectedEditing": False,
            "hasStaticData": True,
            "maxRecordCount": layer.max_record_count,
            "supportedQueryFormats": "JSON",
            "capabilities": "Query",
            "description": layer.description,
            "spatialReference": fs.get("spatialReference"),
            "initialExtent": extent,
            "fullExtent": extent,
            "layers": [
                {"id": 0, "name": layer.name, "geometryType": fs.get("geometryType")}
            ],
            "tables": [],
        }

    def layer_json(self, layer: FeatureLayerDef) -> dict[str, Any]:
        """The FeatureServer/0 resource."""
        fs = layer.feature_set
        oid = self.oid_field(layer)
        return {
            "currentVersion": CURRENT_VERSION,
            "id": 0,
            "name": layer.name,
            "type": "Feature Layer",
            "description": layer.description,
            "geometryType": fs.get("geometryType"),
            "hasZ": bool(fs.get("hasZ")),
            "hasM": bool(fs.get("hasM")),
            "objectIdField": oid,
            "displayField": fs.get("displayFieldName") or "",
            "fields": [_service_field(f) for f in fs.get("fields", [])],
            "extent": self._extent(layer),
            "maxRecordCount": layer.max_record_count,
            "supportedQueryFormats": "JSON",
            "capabilities": "Query",
            "advancedQueryCapabilities": {"supportsPagination": True},
            **layer.extra,
        }

    @staticmethod
    def oid_field(layer: FeatureLayerDef) -> str | None:
        """Name of the OID field."""
        for f in layer.feature_set.get("fields", []):
            if f.get("type") == "esriFieldTypeOID":
                return f["name"]
        return None

    def _extent(self, layer: FeatureLayerDef) -> dict[str, Any] | None:
        fs = layer.feature_set
        qlayer = esri.layer_from_feature_set(fs)
        rect = qlayer.extent()
        if rect.isNull():
            return None
        return {
            "xmin": rect.xMinimum(),
            "ymin": rect.yMinimum(),
            "xmax": rect.xMaximum(),
            "ymax": rect.yMaximum(),
            "spatialReference": fs.get("spatialReference"),
        }

    # -- query ------------------------------------------------------------------------------
    def query(self, layer: FeatureLayerDef, params: dict[str, str]) -> dict[str, Any]:
        """Answer ``FeatureServer/0/query`` like ArcGIS Server does for the common parameters."""
        fs = layer.feature_set
        features = fs.get("features", [])
        oid = self.oid_field(layer)
        where = (params.get("where") or "1=1").strip()
        expression = QgsExpression(where)
        if expression.hasParserError():
            raise bad_request(
                "'where' parameter is invalid", f"where={where!r}: {expression.parserErrorString()}"
            )
        qlayer = esri.layer_from_feature_set(fs)
        request = QgsFeatureRequest()
        if where not in ("1=1", "1 = 1"):
            request.setFilterExpression(where)
        matched_fids = [f.id() for f in qlayer.getFeatures(request)]
        if expression.hasEvalError():
            raise bad_request("'where' parameter is invalid", expression.evalErrorString())
        # memory provider ids run 1..n in insertion order
        chosen = [features[fid - 1] for fid in matched_fids if 0 < fid <= len(features)]
        object_ids = params.get("objectIds")
        if object_ids and oid:
            try:
                wanted = {int(v) for v in object_ids.split(",") if v.strip()}
            except ValueError as exc:
                raise bad_request("'objectIds' must be a list of integers") from exc
            chosen = [f for f in chosen if f.get("attributes", {}).get(oid) in wanted]
        if _true(params.get("returnCountOnly")):
            return {"count": len(chosen)}
        if _true(params.get("returnIdsOnly")):
            return {
                "objectIdFieldName": oid,
                "objectIds": [f.get("attributes", {}).get(oid) for f in chosen],
            }
        try:
            offset = int(params.get("resultOffset") or 0)
            count = int(params.get("resultRecordCount") or layer.max_record_count)
        except ValueError as exc:
            raise bad_request("resultOffset and resultRecordCount must be integers") from exc
        count = min(count, layer.max_record_count)
        page = chosen[offset : offset + count]
        exceeded = offset + count < len(chosen)
        out_fields = self._out_fields(fs, params.get("outFields"))
        names = [f["name"] for f in out_fields]
        return_geometry = not _false(params.get("returnGeometry"))
        sr = fs.get("spatialReference")
        transform = None
        if return_geometry and params.get("outSR"):
            src = esri.crs_from_sr(sr)
            dst = esri.crs_from_sr(_sr_param(params["outSR"]))
            if src.isValid() and dst.isValid() and src != dst:
                transform = QgsCoordinateTransform(src, dst, QgsProject.instance())
                sr = esri.sr_from_crs(dst)
        has_z, has_m = bool(fs.get("hasZ")), bool(fs.get("hasM"))
        out_features = []
        for f in page:
            attrs = f.get("attributes", {})
            item: dict[str, Any] = {"attributes": {n: attrs.get(n) for n in names}}
            if return_geometry and fs.get("geometryType"):
                geom = f.get("geometry")
                if transform is not None and geom:
                    g = esri.geometry_from_esri(geom, fs.get("geometryType"), has_z, has_m)
                    g.transform(transform)
                    geom = esri.geometry_to_esri(g, has_z, has_m)
                item["geometry"] = geom
            out_features.append(item)
        out: dict[str, Any] = {
            "objectIdFieldName": oid,
            "uniqueIdField": {"name": oid, "isSystemMaintained": True},
            "globalIdFieldName": "",
        }
        if fs.get("geometryType"):
            out["geometryType"] = fs["geometryType"]
            if has_z:
                out["hasZ"] = True
            if has_m:
                out["hasM"] = True
            out["spatialReference"] = sr
        out["fields"] = out_fields
        out["features"] = out_features
        if exceeded:
            out["exceededTransferLimit"] = True
        return out

    @staticmethod
    def _out_fields(fs: dict[str, Any], out_fields: str | None) -> list[dict[str, Any]]:
        fields = [
            _service_field(f)
            for f in fs.get("fields", [])
            if f.get("type") != "esriFieldTypeGeometry"
        ]
        if not out_fields or out_fields.strip() == "*":
            return fields
        wanted = [n.strip().lower() for n in out_fields.split(",") if n.strip()]
        by_name = {f["name"].lower(): f for f in fields}
        unknown = [n for n in wanted if n not in by_name]
        if unknown:
            raise bad_request("Invalid field(s) in outFields", f"unknown fields: {unknown}")
        return [by_name[n] for n in wanted]

    # -- inputs of tasks ----------------------------------------------------------------------
    def resolve(self, value: dict[str, Any], uploads: Any) -> dict[str, Any]:
        """Return the FeatureSet a GPFeatureRecordSetLayer input stands for."""
        if "itemID" in value:
            item = uploads.get(str(value["itemID"]))
            try:
                data = loads_lenient(item.path.read_text(encoding="utf-8"))
            except (OSError, ValueError, UnicodeDecodeError) as exc:
                raise RestError(
                    400, "Unable to complete operation.",
                    [f"Uploaded item {item.item_id} is not an Esri JSON feature set: {exc}"],
                ) from exc
            return esri.normalise_feature_set(data)
        if "url" in value:
            return self._resolve_url(str(value["url"]), value.get("filter"))
        return esri.normalise_feature_set(value)

    def _resolve_url(self, url: str, where: Any) -> dict[str, Any]:
        parsed = urllib.parse.urlsplit(url)
        match = LAYER_URL.search(parsed.path)
        if match:
            svc = urllib.parse.unquote(match.group("svc"))
            layer = self.get(hosted_key(svc) if match.group("hosted") else svc)
            if layer is not None:
                params = dict(urllib.parse.parse_qsl(parsed.query))
                params.setdefault("where", str(where) if where else "1=1")
                params.setdefault("outFields", "*")
                result = self.query(layer, params)
                result.pop("uniqueIdField", None)
                return result
            fetch = url.rstrip("/") + "/query?" + urllib.parse.urlencode(
                {"where": where or "1=1", "outFields": "*", "f": "json"}
            ) if not parsed.path.rstrip("/").endswith("query") else url
        else:
            fetch = url
        if parsed.scheme not in ("http", "https"):
            raise bad_request(f"Only http(s) URLs can be read, not {url!r}")
        try:
            with urllib.request.urlopen(fetch, timeout=30) as resp:  # noqa: S310 - test server
                data = json.loads(resp.read().decode("utf-8"))
        except Exception as exc:  # noqa: BLE001 - any failure to read the input is a 400
            raise RestError(
                400, "Unable to complete operation.", [f"Cannot read features from the URL: {exc}"]
            ) from exc
        if isinstance(data, dict) and "error" in data:
            raise RestError(400, "Unable to complete operation.", [f"The URL answered {data}"])
        return esri.normalise_feature_set(data)


def _service_field(field: dict[str, Any]) -> dict[str, Any]:
    """A field as a hosted feature service lists it (sqlType, domain, defaultValue)."""
    out = dict(field)
    out.setdefault("sqlType", "sqlTypeOther")
    out.setdefault("domain", None)
    out.setdefault("defaultValue", None)
    if out.get("type") == "esriFieldTypeOID":
        out.setdefault("required", True)
    return out


def _true(v: Any) -> bool:
    return str(v).strip().lower() == "true" if v is not None else False


def _false(v: Any) -> bool:
    return str(v).strip().lower() == "false" if v is not None else False


def _sr_param(v: str) -> Any:
    v = v.strip()
    if v.isdigit():
        return {"wkid": int(v)}
    return loads_lenient(v)


def ensure_not_found(layer: FeatureLayerDef | None, name: str) -> FeatureLayerDef:
    """Return the layer or raise the not-found error."""
    if layer is None:
        raise not_found(
            "Service not found.", f"Service '{name}' of type 'FeatureServer' does not exist."
        )
    return layer

