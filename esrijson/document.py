"""Where the feature set is in an Esri JSON document, and what its features say.

``locate`` finds the feature set in the shapes the reader accepts (FeatureSet, record set,
FeatureCollection, web-map ``featureCollection``, GP result); ``Inference`` collects the
geometry kinds, dimensions and attribute types of the features seen; the skeleton helpers
rebuild the keys of a streamed file around its ``features`` array.
"""

from __future__ import annotations

from typing import Any

from qgis.core import QgsField

from .codes import guess_geometry_type
from .errors import EsriJsonError
from .esri_to_wkb import geometry_dims
from .fields import infer_field


class Marker(list):
    """Stands for a streamed ``features`` array inside a skeleton document."""

    def __init__(self, path: tuple) -> None:
        super().__init__()
        self.path = path


def as_list(value: Any) -> Any:
    """Return a dict keyed 0..n (a skeleton's array) as a list; other values unchanged."""
    if isinstance(value, dict) and value and all(isinstance(k, int) for k in value):
        return [value[k] for k in sorted(value)]
    return value


def locate(obj: Any, warnings: list[str]) -> tuple[dict, dict | None, str]:
    """Return (feature set dict, layerDefinition or None, shape name) inside a document."""
    if not isinstance(obj, dict):
        raise EsriJsonError("Expected a JSON object holding an Esri feature set, got "
                            f"{type(obj).__name__}.")
    err = obj.get("error")
    if isinstance(err, dict) and "features" not in obj:
        details = err.get("details") or []
        extra = f" ({'; '.join(map(str, details))})" if details else ""
        raise EsriJsonError(
            f"This is an ArcGIS error response, not a feature set: code {err.get('code')}: "
            f"{str(err.get('message') or '').rstrip('.')}{extra}. Fix the request that "
            "produced it."
        )
    if obj.get("type") in ("FeatureCollection", "Feature") and "attributes" not in obj:
        raise EsriJsonError(
            "This is GeoJSON, not Esri JSON: open it with QGIS directly (Layer > Add Layer)."
        )
    if "value" in obj and ("dataType" in obj or "paramName" in obj):
        return locate(obj["value"], warnings)
    if isinstance(obj.get("featureCollection"), dict):
        return locate(obj["featureCollection"], warnings)
    layers = as_list(obj.get("layers"))
    if isinstance(layers, list) and layers and "features" not in obj:
        if len(layers) > 1:
            warnings.append(f"The feature collection has {len(layers)} layers: only the first "
                            "one was read.")
        return locate(layers[0], warnings)
    if isinstance(obj.get("featureSet"), dict) or isinstance(obj.get("layerDefinition"), dict):
        fs = obj.get("featureSet") if isinstance(obj.get("featureSet"), dict) else {}
        ld = obj.get("layerDefinition") if isinstance(obj.get("layerDefinition"), dict) else None
        return fs, ld, "FeatureCollection"
    if any(k in obj for k in ("features", "fields", "Fields", "geometryType")):
        return obj, None, "FeatureSet"
    keys = ", ".join(sorted(map(str, obj))[:8])
    raise EsriJsonError(
        f"This JSON is not an Esri feature set (its keys are: {keys}). Expected a FeatureSet "
        "with 'features' (and 'fields', 'geometryType'), or a FeatureCollection with "
        "'layerDefinition' and 'featureSet'."
    )


def pick(fs: dict, ld: dict | None, *keys: str) -> Any:
    """Return the first non-null value of ``keys`` in the feature set, then its layer
    definition."""
    for source in (fs, ld or {}):
        for key in keys:
            if source.get(key) is not None:
                return source[key]
    return None


class Inference:
    """What the features themselves say: geometry kinds and dimensions, attribute types."""

    def __init__(self) -> None:
        self.examples: dict[tuple, dict] = {}
        self.first_kind: str | None = None
        self.first_sr: Any = None
        self.geometries = 0
        self.count = 0
        self.attr_types: dict[str, set] = {}
        self.attr_big: set[str] = set()

    def add(self, raw: Any) -> None:
        """Take one raw feature into account."""
        self.count += 1
        if not isinstance(raw, dict):
            return
        g = raw.get("geometry")
        if isinstance(g, dict) and g:
            kind = guess_geometry_type(g)
            if kind is not None:
                self.geometries += 1
                if self.first_kind is None:
                    self.first_kind = kind
                if self.first_sr is None and isinstance(g.get("spatialReference"), dict):
                    self.first_sr = g["spatialReference"]
                first = _first_coord(g)
                sig = (kind, g.get("hasZ"), g.get("hasM"),
                       len(first) if isinstance(first, list) else None,
                       g.get("z") is not None, "m" in g, "zmin" in g, "mmin" in g,
                       bool(g.get("curvePaths") or g.get("curveRings")))
                if sig not in self.examples:
                    self.examples[sig] = g
        attrs = raw.get("attributes")
        if isinstance(attrs, dict):
            for key, value in attrs.items():
                kinds = self.attr_types.get(key)
                if kinds is None:
                    kinds = self.attr_types[key] = set()
                if value is not None:
                    kinds.add(type(value))
                    if type(value) is int and not -(2**31) <= value < 2**31:
                        self.attr_big.add(key)

    def dims(self, has_z: bool | None, has_m: bool | None) -> tuple[bool, bool, bool, bool]:
        """Return (z, m, curves, any geometry) over the features seen."""
        z = m = curves = False
        for g in self.examples.values():
            gz, gm, gc = geometry_dims(g, has_z, has_m)
            z, m, curves = z or gz, m or gm, curves or gc
        return z, m, curves, bool(self.examples)

    def fields(self) -> list[QgsField]:
        """Return the fields inferred from the attribute values."""
        return [infer_field(key, kinds, key in self.attr_big)
                for key, kinds in self.attr_types.items()]


def _first_coord(g: dict) -> Any:
    for key in ("rings", "paths", "points", "curveRings", "curvePaths"):
        parts = g.get(key)
        if parts:
            first = parts[0]
            if key == "points":
                return first
            if first:
                return first[0]
    return None


def set_path(skeleton: dict, path: tuple, key: Any, value: Any) -> None:
    """Store one streamed value at its place in the skeleton document."""
    node = skeleton
    for part in path:
        node = node.setdefault(part, {})
    node[key] = value


def listify(node: Any) -> Any:
    """Return the skeleton with its index-keyed dicts turned back into lists."""
    if isinstance(node, dict):
        node = {k: listify(v) for k, v in node.items()}
        return as_list(node)
    return node


def header_complete(skeleton: dict, features_path: tuple) -> Any:
    """True when the keys before the features say enough to decode them on the fly."""
    try:
        fs, ld, shape = locate(listify(skeleton), [])
    except EsriJsonError:
        return False
    if not isinstance(fs.get("features"), Marker) or fs["features"].path != features_path:
        return False
    has_fields = pick(fs, ld, "fields", "Fields") is not None
    if not has_fields:
        return False
    if pick(fs, ld, "geometryType") is not None:
        return pick(fs, ld, "spatialReference") is not None
    return "recordset"
