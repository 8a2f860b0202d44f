"""Esri JSON feature sets -> QGIS fields, features and CRS.

Accepted shapes: a FeatureSet (``geometryType``, ``spatialReference``, ``fields``,
``features``), a record set (the same without geometry), a FeatureCollection
(``layerDefinition`` + ``featureSet``), a web map ``featureCollection``/``layers`` (the first
layer) and a GP result (``{"paramName", "dataType", "value": <feature set>}``).

The layer's Z and M come from the values: a geometry whose flag says Z but whose coordinates
have two ordinates is 2D, three ordinates without a flag are Z (M when only ``hasM`` is set).
With :func:`read_feature_set` every feature is looked at; :func:`read_file` looks at the first
``sample_size`` features (and everything when the header comes after the features), and a
later feature with more ordinates than the layer loses them with a warning.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsField,
    QgsFields,
    QgsWkbTypes,
)

from ._stream import CHUNK_CHARS, EsriJsonSyntaxError, JsonStream
from .fields import field_from_esri, infer_field, value_converter
from .geometry import (
    GeometryDecoder,
    geometry_dims,
    guess_geometry_type,
    normalize_geometry_type,
)
from .spatialref import SpatialReferenceDecoder

__all__ = [
    "DecodedFeatureSet",
    "EsriJsonError",
    "EsriJsonSyntaxError",
    "read_feature_set",
    "read_file",
]

SAMPLE_SIZE = 1000
SAMPLE_CHARS = 16 << 20


class EsriJsonError(ValueError):
    """The input is not an Esri JSON feature set; the message says what it is instead."""


# -- locating the feature set in a document -------------------------------------------------


class _Marker(list):
    """Stands for a streamed ``features`` array inside a skeleton document."""

    def __init__(self, path: tuple) -> None:
        super().__init__()
        self.path = path


def _as_list(value: Any) -> Any:
    if isinstance(value, dict) and value and all(isinstance(k, int) for k in value):
        return [value[k] for k in sorted(value)]
    return value


def _locate(obj: Any, warnings: list[str]) -> tuple[dict, dict | None, str]:
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
        return _locate(obj["value"], warnings)
    if isinstance(obj.get("featureCollection"), dict):
        return _locate(obj["featureCollection"], warnings)
    layers = _as_list(obj.get("layers"))
    if isinstance(layers, list) and layers and "features" not in obj:
        if len(layers) > 1:
            warnings.append(f"The feature collection has {len(layers)} layers: only the first "
                            "one was read.")
        return _locate(layers[0], warnings)
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


def _pick(fs: dict, ld: dict | None, *keys: str) -> Any:
    for source in (fs, ld or {}):
        for key in keys:
            if source.get(key) is not None:
                return source[key]
    return None


# -- inference over features ----------------------------------------------------------------


class _Inference:
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


# -- the decoded feature set ----------------------------------------------------------------


class DecodedFeatureSet:
    """The schema of an Esri JSON feature set and an iterator over its features."""

    def __init__(self) -> None:
        self.fields = QgsFields()
        self.wkb_type = QgsWkbTypes.Type.NoGeometry
        self.crs = QgsCoordinateReferenceSystem()
        self.warnings: list[str] = []
        self.drawing_info: dict | None = None
        self.exceeded_transfer_limit = False
        self.geometry_type: str | None = None
        self.has_z = False
        self.has_m = False
        self.shape = "FeatureSet"
        self.object_id_field: str | None = None
        self.global_id_field: str | None = None
        self.display_field_name: str | None = None
        self.layer_definition: dict | None = None
        self.feature_count: int | None = None
        self.strict_json = True
        self._base_warnings: list[str] = []
        self._decoder: GeometryDecoder | None = None
        self._keys: list[str] = []
        self._converters: list[tuple[int, Any]] = []
        self._oid_index: int | None = None
        self._source: Any = None
        self._progress = 0.0

    # -- schema ------------------------------------------------------------------------

    def _setup(self, fs: dict, ld: dict | None, shape: str, inference: _Inference,
               warnings: list[str]) -> None:
        self.shape = shape
        self.layer_definition = ld
        header_z = _pick(fs, ld, "hasZ")
        header_m = _pick(fs, ld, "hasM")
        geometry_type = normalize_geometry_type(_pick(fs, ld, "geometryType"))
        if geometry_type is None and _pick(fs, ld, "geometryType") is not None:
            warnings.append(f"Unknown geometryType {_pick(fs, ld, 'geometryType')!r}: the "
                            "geometry type was taken from the geometries.")
        if geometry_type is None:
            geometry_type = inference.first_kind
        z, m, curves, any_geometry = inference.dims(_bool(header_z), _bool(header_m))
        if not any_geometry:
            z, m = bool(header_z), bool(header_m)
        if shape == "FeatureSet" and geometry_type is None:
            self.shape = "RecordSet"
        self.geometry_type = geometry_type
        self.has_z, self.has_m = z, m
        self._decoder = GeometryDecoder(geometry_type, z, m, curves,
                                        _bool(header_z) or False, _bool(header_m) or False)
        self.wkb_type = self._decoder.wkb_type
        sr = _pick(fs, ld, "spatialReference")
        if not isinstance(sr, dict) or not sr:
            extent = (ld or {}).get("extent")
            if isinstance(extent, dict) and isinstance(extent.get("spatialReference"), dict):
                sr = extent["spatialReference"]
        if (not isinstance(sr, dict) or not sr) and inference.first_sr:
            sr = inference.first_sr
        if geometry_type is not None:
            self.crs, sr_warnings = SpatialReferenceDecoder().decode(sr)
            warnings.extend(sr_warnings)
        info = _pick(fs, ld, "drawingInfo")
        self.drawing_info = info if isinstance(info, dict) else None
        self.display_field_name = _pick(fs, ld, "displayFieldName")
        self.global_id_field = _pick(fs, ld, "globalIdFieldName", "globalIdField") or None
        self._setup_fields(fs, ld, inference, warnings)
        self.exceeded_transfer_limit = bool(_pick(fs, ld, "exceededTransferLimit"))

    def _setup_fields(self, fs: dict, ld: dict | None, inference: _Inference,
                      warnings: list[str]) -> None:
        definitions = _pick(fs, ld, "fields", "Fields")
        self.fields = QgsFields()
        self._keys = []
        self._converters = []
        taken: set[str] = set()
        oid_name = _pick(fs, ld, "objectIdFieldName", "objectIdField")
        if isinstance(definitions, list):
            pairs = []
            for definition in definitions:
                if not isinstance(definition, dict):
                    continue
                field, warning = field_from_esri(definition)
                if warning:
                    warnings.append(warning)
                if field is None:
                    continue
                pairs.append((str(definition.get("name") or ""), field,
                              str(definition.get("type") or "")))
                if oid_name is None and definition.get("type") == "esriFieldTypeOID":
                    oid_name = definition.get("name")
        else:
            pairs = [(f.name(), f, "") for f in inference.fields()]
            if pairs:
                warnings.append("The feature set has no 'fields' list: field types were "
                                "inferred from the attribute values.")
        for key, field, esri_type in pairs:
            name = field.name() or f"field_{len(self._keys) + 1}"
            unique, n = name, 1
            while unique.lower() in taken:
                unique = f"{name}_{n}"
                n += 1
            if unique != field.name():
                warnings.append(f"Field {field.name()!r} was renamed {unique!r} (empty or "
                                "duplicate name).")
                field.setName(unique)
            taken.add(unique.lower())
            converter = value_converter(esri_type)
            if converter is not None:
                self._converters.append((len(self._keys), converter))
            if oid_name is not None and key == oid_name:
                self._oid_index = len(self._keys)
            self.fields.append(field)
            self._keys.append(key)
        self.object_id_field = oid_name if self._oid_index is not None else None

    # -- features ------------------------------------------------------------------------

    def _builder(self):
        """Return a function turning one raw feature dict into a QgsFeature."""
        fields = self.fields
        keys = list(self._keys)
        converters = self._converters
        decode = self._decoder.decode
        oid_index = self._oid_index
        n = top = 0
        checked = False
        empty: dict = {}

        def build(raw: Any) -> QgsFeature:
            nonlocal n, top, checked
            n += 1
            if type(raw) is not dict:
                raw = empty
            attrs = raw.get("attributes")
            if type(attrs) is not dict:
                attrs = empty
            elif not checked:
                checked = True
                _match_keys(keys, attrs)
            values = list(map(attrs.get, keys))
            for index, convert in converters:
                values[index] = convert(values[index])
            # the OID is the feature id while OIDs increase (they do in server answers);
            # otherwise (no OID, or one out of order that could repeat) the next free id
            fid = values[oid_index] if oid_index is not None else None
            if type(fid) is not int or fid <= top:
                fid = (top if top > n else n) + 1
            top = fid
            feature = QgsFeature(fields, fid)
            feature.setAttributes(values)
            geom = decode(raw.get("geometry"))
            if geom is not None:
                feature.setGeometry(geom)
            return feature

        return build

    def features(self) -> Iterator[QgsFeature]:
        """Iterate over the features as QgsFeature with :attr:`fields` (may be repeated)."""
        self._decoder.warnings.clear()
        build = self._builder()
        count = 0
        for raw in self._source.raw_features(self):
            count += 1
            yield build(raw)
        self.feature_count = count
        self._finish()

    def _finish(self) -> None:
        warnings = list(self._base_warnings)
        for message, n in self._decoder.warnings.items():
            warnings.append(f"{message} ({n} feature{'s' if n != 1 else ''}).")
        if self.exceeded_transfer_limit:
            warnings.append(_transfer_warning(self.feature_count))
        self.warnings = warnings

    @property
    def progress(self) -> float:
        """Return how much of the input has been read, 0.0 to 1.0 (for progress bars)."""
        return self._progress


def _transfer_warning(count: int | None) -> str:
    got = f"{count} features were read" if count is not None else "features were read"
    return ("The server returned only part of the features (exceededTransferLimit is true): "
            f"{got}. Ask for the rest (resultOffset) or raise the service's maxRecordCount.")


def _match_keys(keys: list[str], attrs: dict) -> None:
    """Map field names to attribute keys that differ only in case (seen on some servers)."""
    missing = [i for i, k in enumerate(keys) if k not in attrs]
    if not missing:
        return
    lower = {k.lower(): k for k in attrs}
    for i in missing:
        other = lower.get(keys[i].lower())
        if other is not None:
            keys[i] = other


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


# -- in-memory documents --------------------------------------------------------------------


class _DictSource:
    def __init__(self, features: list) -> None:
        self.features = features

    def raw_features(self, owner: DecodedFeatureSet) -> Iterator[Any]:
        total = max(1, len(self.features))
        for i, raw in enumerate(self.features):
            owner._progress = i / total
            yield raw
        owner._progress = 1.0


def read_feature_set(obj: dict) -> DecodedFeatureSet:
    """Decode an Esri JSON feature set, FeatureCollection or record set held in a dict."""
    warnings: list[str] = []
    fs, ld, shape = _locate(obj, warnings)
    features = fs.get("features") or []
    if not isinstance(features, list):
        raise EsriJsonError("'features' must be a JSON array of {attributes, geometry} objects.")
    inference = _Inference()
    for raw in features:
        inference.add(raw)
    result = DecodedFeatureSet()
    result._setup(fs, ld, shape, inference, warnings)
    result._base_warnings = list(warnings)
    result.feature_count = len(features)
    result._source = _DictSource(features)
    result.warnings = list(warnings)
    if result.exceeded_transfer_limit:
        result.warnings.append(_transfer_warning(len(features)))
    return result


# -- files ----------------------------------------------------------------------------------


def _set_path(skeleton: dict, path: tuple, key: Any, value: Any) -> None:
    node = skeleton
    for part in path:
        node = node.setdefault(part, {})
    node[key] = value


def _listify(node: Any) -> Any:
    if isinstance(node, dict):
        node = {k: _listify(v) for k, v in node.items()}
        return _as_list(node)
    return node


class _FileSource:
    """Streams the features of one ``features`` array of a file (see esrijson._stream)."""

    def __init__(self, path: str, chunk_chars: int, features_path: tuple, size: int) -> None:
        self.path = path
        self.chunk_chars = chunk_chars
        self.features_path = features_path
        self.size = max(1, size)
        self.live: Any = None  # (stream, events, sample) left by the first pass
        self.skeleton: dict = {}

    def raw_features(self, owner: DecodedFeatureSet) -> Iterator[Any]:
        path = self.features_path
        if self.live is not None:
            stream, events, sample = self.live
            self.live = None
            yield from sample
        else:
            stream = JsonStream(self.path, self.chunk_chars)
            events = stream.events()
        try:
            for event in events:
                kind = event[0]
                if kind == "feature":
                    if event[1] == path:
                        owner._progress = min(1.0, stream.offset / self.size)
                        yield event[2]
                elif kind == "value":
                    _set_path(self.skeleton, event[1], event[2], event[3])
        finally:
            events.close()
        owner._progress = 1.0
        # keys that came after the features (exceededTransferLimit, more layers ...)
        warnings: list[str] = []
        fs, ld, _ = _locate(_listify(self.skeleton), warnings)
        owner.exceeded_transfer_limit = bool(_pick(fs, ld, "exceededTransferLimit"))
        for warning in warnings:
            if warning not in owner._base_warnings:
                owner._base_warnings.append(warning)
        if stream.trailing_commas and owner.strict_json:
            owner.strict_json = False
            owner._base_warnings.append(_lenient_warning(stream.trailing_commas))


def _lenient_warning(n: int) -> str:
    return (f"The file is not strict JSON: {n} trailing comma{'s' if n != 1 else ''} before "
            "'}' or ']' were ignored.")


def read_file(path: str | os.PathLike, *, sample_size: int = SAMPLE_SIZE,
              chunk_chars: int = CHUNK_CHARS) -> DecodedFeatureSet:
    """Decode an Esri JSON file, streaming its features (peak memory: one chunk + a sample).

    The header (fields, geometry type, spatial reference) is read up to the ``features``
    array and the first ``sample_size`` features are decoded to learn Z/M and curves; the
    other features are decoded while :meth:`DecodedFeatureSet.features` iterates. When the
    header is incomplete before the features (some writers put ``fields`` last), the whole
    file is read once first, without keeping the features.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise EsriJsonError(f"{path} does not exist or is not a file.")
    size = os.path.getsize(path)
    stream = JsonStream(path, chunk_chars)
    events = stream.events()
    skeleton: dict = {}
    features_path = None
    sample: list = []
    inference = _Inference()
    complete = False
    try:
        for event in events:
            kind = event[0]
            if kind == "value":
                _set_path(skeleton, event[1], event[2], event[3])
            elif kind == "features_begin" and features_path is None:
                features_path = event[1]
                _set_path(skeleton, event[1], "features", _Marker(event[1]))
                complete = _header_complete(skeleton, features_path)
                start = stream.offset
                for ev in events:
                    if ev[0] == "feature":
                        sample.append(ev[2])
                        inference.add(ev[2])
                        if len(sample) >= sample_size or stream.offset - start > SAMPLE_CHARS:
                            break
                    elif ev[0] == "features_end":
                        break
                if complete == "recordset" and inference.geometries:
                    complete = False
                if complete:
                    break
            elif kind == "feature" and event[1] == features_path and len(sample) < sample_size:
                sample.append(event[2])
                inference.add(event[2])
            elif kind == "feature" and event[1] == features_path:
                inference.add(event[2])
    except BaseException:
        events.close()
        raise
    warnings: list[str] = []
    doc = _listify(skeleton)
    if features_path is None:
        fs, ld, shape = _locate(doc, warnings)  # raises for non feature sets
        events.close()
        result = DecodedFeatureSet()
        result._setup(fs, ld, shape, inference, warnings)
        result._base_warnings = list(warnings)
        result._source = _DictSource([])
        result.feature_count = 0
        result.warnings = list(warnings)
        return result
    fs, ld, shape = _locate(doc, warnings)
    result = DecodedFeatureSet()
    result._setup(fs, ld, shape, inference, warnings)
    source = _FileSource(path, chunk_chars, features_path, size)
    source.skeleton = skeleton
    if complete:
        source.live = (stream, events, sample)
    else:
        events.close()
        result.feature_count = inference.count
        if stream.trailing_commas:
            result.strict_json = False
            warnings.append(_lenient_warning(stream.trailing_commas))
    result._base_warnings = list(warnings)
    result._source = source
    result.warnings = list(warnings)
    if result.exceeded_transfer_limit:
        result.warnings.append(_transfer_warning(result.feature_count))
    return result


def _header_complete(skeleton: dict, features_path: tuple) -> Any:
    """True when the keys before the features say enough to decode them on the fly."""
    try:
        fs, ld, shape = _locate(_listify(skeleton), [])
    except EsriJsonError:
        return False
    if not isinstance(fs.get("features"), _Marker) or fs["features"].path != features_path:
        return False
    has_fields = _pick(fs, ld, "fields", "Fields") is not None
    if not has_fields:
        return False
    if _pick(fs, ld, "geometryType") is not None:
        return _pick(fs, ld, "spatialReference") is not None
    return "recordset"
