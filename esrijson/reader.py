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

Malformed input is reported, never written silently: a ``features`` that is not an array and
JSON nested too deep are errors; entries of ``features`` that are not feature objects, and
geometries that cannot be read (rings of fewer than 4 points, one-point paths, NaN, infinite
or text coordinates) are warnings naming the features' positions.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsFeature,
    QgsFields,
    QgsGeometry,
    QgsWkbTypes,
)

from ._stream import CHUNK_CHARS, JsonStream
from .codes import normalize_geometry_type
from .decode import GeometryDecoder
from .document import (
    Inference,
    Marker,
    header_complete,
    listify,
    locate,
    pick,
    set_path,
)
from .errors import EsriJsonError, EsriJsonSyntaxError
from .esri_to_wkb import FeatureWarnings
from .fields import field_from_esri, value_converter
from .helper_process import frames, launch
from .read_helper import match_keys
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
# files from this size on (about 6,000 polygons) are parsed by the read helper process, on
# machines with two cores or more; the features are the same (read_helper.py)
READ_HELPER_MIN_BYTES = 4 << 20
JUNK_FEATURE = ("Entries of 'features' that are not {attributes, geometry} objects were "
                "skipped")
JUNK_ATTRIBUTES = "Features whose 'attributes' is not an object were read without attributes"


class _Trailer:
    """What a streamed file said after its features: read once they have been iterated."""

    def __init__(self, exceeded: bool, warnings: list[str], trailing_commas: int) -> None:
        self.exceeded = exceeded
        self.warnings = warnings
        self.trailing_commas = trailing_commas


class DecodedFeatureSet:
    """The schema of an Esri JSON feature set and an iterator over its features."""

    def __init__(self, located: tuple[dict, dict | None, str], inference: Inference,
                 warnings: list[str], source: Any, feature_count: int | None,
                 late_warnings: list[str] = (), strict_json: bool = True) -> None:
        """Set the schema up from the located feature set and what its features say.

        ``source`` has ``raw_features()`` (the raw feature dicts, in order), ``progress`` and
        ``trailer()`` (None, or what came after the features, once they were read).
        """
        self.fields = QgsFields()
        self.wkb_type = QgsWkbTypes.Type.NoGeometry
        self.crs = QgsCoordinateReferenceSystem()
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
        self._keys: list[str] = []
        self._converters: list[tuple[int, Any]] = []
        self._oid_index: int | None = None
        self._setup(*located, inference, warnings)
        warnings.extend(late_warnings)
        self.feature_count = feature_count
        self.strict_json = strict_json
        self._base_warnings = list(warnings)
        self._feature_warnings = FeatureWarnings()
        self._source = source
        self.warnings: list[str] = list(warnings)
        if self.exceeded_transfer_limit:
            self.warnings.append(_transfer_warning(feature_count))

    # -- schema ------------------------------------------------------------------------

    def _setup(self, fs: dict, ld: dict | None, shape: str, inference: Inference,
               warnings: list[str]) -> None:
        self.shape = shape
        self.layer_definition = ld
        header_z = pick(fs, ld, "hasZ")
        header_m = pick(fs, ld, "hasM")
        geometry_type = normalize_geometry_type(pick(fs, ld, "geometryType"))
        if geometry_type is None and pick(fs, ld, "geometryType") is not None:
            warnings.append(f"Unknown geometryType {pick(fs, ld, 'geometryType')!r}: the "
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
        sr = pick(fs, ld, "spatialReference")
        if not isinstance(sr, dict) or not sr:
            extent = (ld or {}).get("extent")
            if isinstance(extent, dict) and isinstance(extent.get("spatialReference"), dict):
                sr = extent["spatialReference"]
        if (not isinstance(sr, dict) or not sr) and inference.first_sr:
            sr = inference.first_sr
        if geometry_type is not None:
            self.crs, sr_warnings = SpatialReferenceDecoder().decode(sr)
            warnings.extend(sr_warnings)
        info = pick(fs, ld, "drawingInfo")
        self.drawing_info = info if isinstance(info, dict) else None
        self.display_field_name = pick(fs, ld, "displayFieldName")
        self.global_id_field = pick(fs, ld, "globalIdFieldName", "globalIdField") or None
        self._setup_fields(fs, ld, inference, warnings)
        self.exceeded_transfer_limit = bool(pick(fs, ld, "exceededTransferLimit"))

    def _setup_fields(self, fs: dict, ld: dict | None, inference: Inference,
                      warnings: list[str]) -> None:
        definitions = pick(fs, ld, "fields", "Fields")
        self.fields = QgsFields()
        self._keys = []
        self._converters = []
        taken: set[str] = set()
        oid_name = pick(fs, ld, "objectIdFieldName", "objectIdField")
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

    def _builder(self) -> Callable[[Any, int], QgsFeature | None]:
        """Return a function turning one raw feature dict (and its position) into a
        QgsFeature, None for an entry that is not a feature (with a warning)."""
        fields = self.fields
        keys = list(self._keys)
        converters = self._converters
        decode = self._decoder.decode
        note = self._feature_warnings.add
        oid_index = self._oid_index
        n = top = 0
        checked = False
        empty: dict = {}

        def build(raw: Any, position: int) -> QgsFeature | None:
            nonlocal n, top, checked
            if type(raw) is tuple:  # (values, WKB) from the read helper (read_helper.py)
                values, wkb = raw
                geom = None
                if wkb is not None:
                    geom = QgsGeometry()
                    geom.fromWkb(wkb)
            elif type(raw) is not dict or not ("attributes" in raw or "geometry" in raw):
                note(JUNK_FEATURE, position)
                return None
            else:
                attrs = raw.get("attributes")
                if type(attrs) is not dict:
                    if attrs is not None:
                        note(JUNK_ATTRIBUTES, position)
                    attrs = empty
                elif not checked:
                    checked = True
                    self._keys_checked = True
                    match_keys(keys, attrs)
                values = list(map(attrs.get, keys))
                geom = decode(raw.get("geometry"), position)
            n += 1
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
            if geom is not None:
                feature.setGeometry(geom)
            return feature

        self._keys_in_use = keys
        self._keys_checked = False
        return build

    def _helper_spec(self) -> dict:
        """What the read helper needs to prepare features as :meth:`_builder`'s ``build``
        would (called once the sample has been built: the keys are matched by then)."""
        d = self._decoder
        return {"keys": list(self._keys_in_use), "checked": self._keys_checked,
                "decoder": (d.geometry_type, d.has_z, d.has_m, d.curves, d.layer_has_z,
                            d.layer_has_m)}

    def features(self) -> Iterator[QgsFeature]:
        """Iterate over the features as QgsFeature with :attr:`fields` (may be repeated)."""
        self._feature_warnings.clear()
        self._decoder.warnings = self._feature_warnings
        build = self._builder()
        count = 0
        for position, raw in enumerate(self._source.raw_features(self._helper_spec), 1):
            feature = build(raw, position)
            if feature is not None:
                count += 1
                yield feature
        self.feature_count = count
        trailer = self._source.trailer()
        if trailer is not None:
            self._after_features(trailer)
        self._finish()

    def _after_features(self, trailer: _Trailer) -> None:
        """Take in the keys a file had after its features (exceededTransferLimit ...)."""
        self.exceeded_transfer_limit = trailer.exceeded
        for warning in trailer.warnings:
            if warning not in self._base_warnings:
                self._base_warnings.append(warning)
        if trailer.trailing_commas and self.strict_json:
            self.strict_json = False
            self._base_warnings.append(_lenient_warning(trailer.trailing_commas))

    def _finish(self) -> None:
        warnings = list(self._base_warnings)
        warnings.extend(self._feature_warnings.lines())
        if self.exceeded_transfer_limit:
            warnings.append(_transfer_warning(self.feature_count))
        self.warnings = warnings

    @property
    def progress(self) -> float:
        """Return how much of the input has been read, 0.0 to 1.0 (for progress bars)."""
        return self._source.progress


def _transfer_warning(count: int | None) -> str:
    got = f"{count} features were read" if count is not None else "features were read"
    return ("The server returned only part of the features (exceededTransferLimit is true): "
            f"{got}. Ask for the rest (resultOffset) or raise the service's maxRecordCount.")


def _bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def _features_list(fs: dict) -> list:
    """Return the ``features`` of a feature set, raising when it is there but not an array."""
    features = fs.get("features")
    if features is None or isinstance(features, Marker):
        return []
    if not isinstance(features, list):
        raise EsriJsonError(
            f"'features' is a JSON {_json_kind(features)}, not an array: this is not an Esri "
            "JSON feature set (expected \"features\": [{\"attributes\": ..., \"geometry\": "
            "...}, ...]). Nothing was read; fix the file or the request that produced it.")
    return features


def _json_kind(value: Any) -> str:
    kinds = {dict: "object", str: "string", bool: "boolean", int: "number", float: "number"}
    return kinds.get(type(value), type(value).__name__)


# -- in-memory documents --------------------------------------------------------------------


class _DictSource:
    """The features of a document already in memory."""

    def __init__(self, features: list) -> None:
        self.features = features
        self.progress = 0.0

    def raw_features(self, helper_spec: Callable[[], dict] | None = None) -> Iterator[Any]:
        total = max(1, len(self.features))
        for i, raw in enumerate(self.features):
            self.progress = i / total
            yield raw
        self.progress = 1.0

    def trailer(self) -> None:
        return None


def read_feature_set(obj: dict) -> DecodedFeatureSet:
    """Decode an Esri JSON feature set, FeatureCollection or record set held in a dict."""
    warnings: list[str] = []
    try:
        located = locate(obj, warnings)
    except RecursionError:
        raise EsriJsonError("The document nests 'value', 'featureCollection' or 'layers' "
                            "too deep to be a feature set.") from None
    features = _features_list(located[0])
    inference = Inference()
    for raw in features:
        inference.add(raw)
    return DecodedFeatureSet(located, inference, warnings, _DictSource(features),
                             len(features))


# -- files ----------------------------------------------------------------------------------


class _FileSource:
    """Streams the features of one ``features`` array of a file (see esrijson._stream)."""

    def __init__(self, path: str, chunk_chars: int, features_path: tuple, size: int,
                 skeleton: dict, live: tuple | None = None) -> None:
        self.path = path
        self.chunk_chars = chunk_chars
        self.features_path = features_path
        self.size = max(1, size)
        self.skeleton = skeleton
        self.live = live  # (stream, events, sample) left by the first pass, used once
        self.progress = 0.0
        self._trailer: _Trailer | None = None

    def raw_features(self, helper_spec: Callable[[], dict] | None = None) -> Iterator[Any]:
        """Yield the raw features (dicts as parsed), or for big files past the sample,
        ``(values, WKB)`` rows prepared by the read helper (see :mod:`esrijson.read_helper`).
        ``helper_spec`` gives what the helper needs, once the sample has been built."""
        path = self.features_path
        skip = 0
        if self.live is not None:
            stream, events, sample = self.live
            self.live = None
            yield from sample
            skip = len(sample)
        else:
            stream = JsonStream(self.path, self.chunk_chars)
            events = stream.events()
        launched = self._helper(helper_spec, skip)
        if launched is not None:
            events.close()
            trailing_commas = yield from self._helper_rows(*launched)
        else:
            try:
                for event in events:
                    kind = event[0]
                    if kind == "feature":
                        if event[1] == path:
                            self.progress = min(1.0, stream.offset / self.size)
                            yield event[2]
                    elif kind == "value":
                        set_path(self.skeleton, event[1], event[2], event[3])
            finally:
                events.close()
            trailing_commas = stream.trailing_commas
        self.progress = 1.0
        # keys that came after the features (exceededTransferLimit, more layers ...)
        warnings: list[str] = []
        fs, ld, _ = locate(listify(self.skeleton), warnings)
        self._trailer = _Trailer(bool(pick(fs, ld, "exceededTransferLimit")), warnings,
                                 trailing_commas)

    def _helper(self, helper_spec: Callable[[], dict] | None, skip: int):
        """Start the read helper for a big file on a machine with two cores or more (unless
        ARCGIS_GP_HELPER=0); None to read in this process."""
        if (helper_spec is None or self.size < READ_HELPER_MIN_BYTES
                or (os.cpu_count() or 1) < 2 or os.environ.get("ARCGIS_GP_HELPER") == "0"):
            return None
        spec = {"path": self.path, "chunk_chars": self.chunk_chars,
                "features_path": self.features_path, "skip": skip, **helper_spec()}
        return launch("read_helper", spec)

    def _helper_rows(self, process: Any, errors: Any) -> Iterator[Any]:
        """Yield the helper's rows; return the trailing commas it met. The helper is
        stopped when the reading stops, finished or not."""
        trailing_commas = 0
        try:
            for frame in frames(process.stdout):
                if frame[0] == "rows":
                    yield from frame[1]
                    self.progress = min(1.0, frame[2] / self.size)
                elif frame[0] == "end":
                    for key_path, key, value in frame[1]:
                        set_path(self.skeleton, key_path, key, value)
                    trailing_commas = frame[2]
                    break
                else:  # "error": the file is not JSON further on
                    error = EsriJsonSyntaxError if frame[1] == "EsriJsonSyntaxError" \
                        else EsriJsonError
                    raise error(frame[2])
            else:
                errors.seek(0)
                said = errors.read().decode("utf-8", "replace").strip().splitlines()
                raise EsriJsonError(f"The helper process reading {self.path} stopped before "
                                    f"the end ({said[-1] if said else 'no message'}): not "
                                    "every feature was read. Read it again; if "
                                    "this happens again, set the environment variable "
                                    "ARCGIS_GP_HELPER=0 so that QGIS reads it alone.")
        finally:
            if process.poll() is None:
                process.kill()
            process.wait()
            for stream in (process.stdin, process.stdout, errors):
                stream.close()
        return trailing_commas

    def trailer(self) -> _Trailer | None:
        return self._trailer


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
    inference = Inference()
    complete = False
    try:
        for event in events:
            kind = event[0]
            if kind == "value":
                set_path(skeleton, event[1], event[2], event[3])
            elif kind == "features_begin" and features_path is None:
                features_path = event[1]
                set_path(skeleton, event[1], "features", Marker(event[1]))
                complete = header_complete(skeleton, features_path)
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
    located = locate(listify(skeleton), warnings)  # raises for non feature sets
    if features_path is None:
        events.close()
        _features_list(located[0])  # raises when 'features' is there but not an array
        return DecodedFeatureSet(located, inference, warnings, _DictSource([]), 0)
    if complete:
        source = _FileSource(path, chunk_chars, features_path, size, skeleton,
                             (stream, events, sample))
        return DecodedFeatureSet(located, inference, warnings, source, None)
    events.close()
    late = [_lenient_warning(stream.trailing_commas)] if stream.trailing_commas else []
    source = _FileSource(path, chunk_chars, features_path, size, skeleton)
    return DecodedFeatureSet(located, inference, warnings, source, inference.count, late,
                             strict_json=not stream.trailing_commas)
