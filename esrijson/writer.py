"""QGIS feature sources -> Esri JSON FeatureSet / FeatureCollection (dict or streamed file).

Geometries go out with Esri's ring orientation (outer rings clockwise, holes
counter-clockwise), ``hasZ``/``hasM`` flags, and curves segmentized unless ``keep_curves``
(then circular arcs are written as ``curvePaths``/``curveRings`` with ``c`` segments).
Fields are mapped by :func:`esrijson.fields.field_to_esri`, dates as milliseconds since
1970-01-01 UTC, nulls as ``null``. The CRS is written as ``wkid`` (+ ``latestWkid``) when it
has an EPSG or ESRI id, as Esri ``wkt`` otherwise.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator
from typing import Any

from qgis.core import (
    QgsFeature,
    QgsFeatureRequest,
    QgsFeatureSource,
    QgsFeedback,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QByteArray, QDate, QDateTime, Qt, QVariant

from .codes import POLYGON
from .encode import GeometryEncoder
from .errors import EsriJsonWriteError
from .feature_text import DOUBLE, INTEGER, TEXT, AttributeText, batch_text
from .fields import _date_ms, _datetime_ms, field_to_esri, local_time_is_utc, safe_field_name
from .qtypes import FieldType
from .spatialref import encode_spatial_reference
from .text_helper import TextHelper
from .wkb_to_esri import LINEAR_WKB_HEADS, WkbToEsri

__all__ = ["source_to_feature_set", "write_feature_set_file", "FEATURE_SET", "FEATURE_COLLECTION"]

FEATURE_SET = "FeatureSet"
FEATURE_COLLECTION = "FeatureCollection"
BATCH = 1000  # features per write, and between two cancel checks
# the file writer's helper process pays off from about this many features (its start-up:
# ~30 ms); below, the text is written in this process
HELPER_MIN_FEATURES = 5000


def _null_to_none(obj: Any) -> Any:
    """JSON ``default`` hook: QGIS NULL (an empty QVariant) becomes null."""
    if isinstance(obj, QVariant):
        return None if obj.isNull() else obj.value()
    if isinstance(obj, (bytes, QByteArray)):
        return None
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def _finite(values: list) -> list:
    return [None if isinstance(v, float) and not math.isfinite(v) else v for v in values]


class _Plan:
    """Everything needed to write one source: fields, converters, geometry encoder, header."""

    def __init__(self, source: QgsFeatureSource, shape: str, keep_curves: bool,
                 big_integer_type: str, safe_names: bool) -> None:
        if shape not in (FEATURE_SET, FEATURE_COLLECTION):
            raise EsriJsonWriteError(f"shape must be {FEATURE_SET!r} or "
                                     f"{FEATURE_COLLECTION!r}, not {shape!r}")
        self.shape = shape
        self.warnings: list[str] = []
        wkb_type = source.wkbType()
        self.encoder = GeometryEncoder(wkb_type, keep_curves=keep_curves)
        self.has_geometry = self.encoder.geometry_type is not None
        taken: set[str] = set()
        self.indices: list[int] = []
        self.names: list[str] = []
        self.converters: list[tuple[int, Callable[[Any], Any]]] = []
        self.field_defs: list[dict] = []
        # (QVariant type, converter) of each field written, for _fast_attributes
        kinds: list[tuple[Any, Callable[[Any], Any] | None]] = []
        self.oid_name: str | None = None
        for index, field in enumerate(source.fields()):
            name = safe_field_name(field.name(), taken) if safe_names else field.name()
            if safe_names and name != field.name():
                self.warnings.append(f"Field {field.name()!r} is written as {name!r} (Esri "
                                     "field names take letters, digits and '_').")
            wide = big_integer_type
            if field.type() == FieldType.LongLong and _fits_int32(source, index):
                wide = "esriFieldTypeInteger"
            definition, converter, warning = field_to_esri(field, name, big_integer_type=wide)
            if warning:
                self.warnings.append(warning)
            if definition is None:
                taken.discard(name.lower())
                continue
            if definition["type"] == "esriFieldTypeOID":
                if self.oid_name is None:
                    self.oid_name = name
                else:
                    definition["type"] = "esriFieldTypeInteger"
            if converter is not None:
                self.converters.append((len(self.indices), _nullsafe(converter)))
            kinds.append((field.type(), converter))
            self.indices.append(index)
            self.names.append(name)
            self.field_defs.append(definition)
        self.add_oid = shape == FEATURE_COLLECTION and self.oid_name is None
        if self.add_oid:
            self.oid_name = safe_field_name("OBJECTID", taken)
            self.field_defs.insert(0, {"name": self.oid_name, "type": "esriFieldTypeOID",
                                       "alias": self.oid_name})
        self.all_fields = len(self.indices) == len(source.fields())
        if self.add_oid:
            kinds.insert(0, (FieldType.LongLong, None))
        self.kinds = kinds
        self.sr = encode_spatial_reference(source.sourceCrs()) if self.has_geometry else None
        self.layer_name = source.sourceName() if hasattr(source, "sourceName") else ""

    def header(self) -> tuple[dict, dict | None]:
        """Return (feature set header without features, layerDefinition or None)."""
        fs: dict[str, Any] = {}
        if self.has_geometry:
            fs["geometryType"] = self.encoder.geometry_type
            fs["hasZ"] = self.encoder.has_z
            fs["hasM"] = self.encoder.has_m
            if self.sr:
                fs["spatialReference"] = self.sr
        if self.shape == FEATURE_SET:
            fs = {"displayFieldName": "", **fs, "fields": self.field_defs}
            return fs, None
        ld: dict[str, Any] = {
            "name": self.layer_name or "layer",
            "type": "Feature Layer" if self.has_geometry else "Table",
            "objectIdField": self.oid_name,
            "fields": self.field_defs,
        }
        if self.has_geometry:
            ld["geometryType"] = self.encoder.geometry_type
            ld["hasZ"] = self.encoder.has_z
            ld["hasM"] = self.encoder.has_m
            if self.sr:
                ld["spatialReference"] = self.sr
        return fs, ld

    def values(self, feature, number: int) -> list:
        attrs = feature.attributes()
        values = attrs if self.all_fields else [attrs[i] for i in self.indices]
        for index, convert in self.converters:
            values[index] = convert(values[index])
        if self.add_oid:
            values = [number] + values
        return values

    def names_out(self) -> list[str]:
        return ([self.oid_name] if self.add_oid else []) + self.names


def _fits_int32(source: QgsFeatureSource, index: int) -> bool:
    """True when every value of a 64-bit integer field fits in 32 bits (providers answer
    min/max with one query), so that servers without esriFieldTypeBigInteger accept it."""
    try:
        low = source.minimumValue(index)
        high = source.maximumValue(index)
    except (AttributeError, TypeError):
        return False
    for value in (low, high):
        if value is None or isinstance(value, QVariant):
            continue
        try:
            if not -(2**31) <= int(value) < 2**31:
                return False
        except (TypeError, ValueError):
            return False
    return True


def _nullsafe(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def wrapped(value: Any) -> Any:
        if value is None or isinstance(value, QVariant):
            return None
        return convert(value)

    return wrapped


_INTEGER_TYPES = (FieldType.Int, FieldType.LongLong, FieldType.UInt, FieldType.ULongLong)


def _plain_values(kinds: list[tuple[Any, Any]]
                  ) -> tuple[Callable[[list], list | None], list[str]] | None:
    """Return (function making a feature's values plain, their kinds for
    :class:`esrijson.feature_text.AttributeText`) for fields of the usual types (integer,
    double, string, date-time, date); None when a field has another type.

    The function takes the list of values (and changes it) and returns it with dates in
    milliseconds, or None when a value has another Python type than its field's usual one
    (NULL, for one) or is an invalid date: the writer's JSON encoder path writes those.
    """
    types: list[type] = []
    text_kinds: list[str] = []
    datetimes: list[int] = []
    dates: list[int] = []
    for position, (qtype, converter) in enumerate(kinds):
        if converter is None and qtype in _INTEGER_TYPES:
            kind, text_kind = int, INTEGER
        elif converter is None and qtype == FieldType.Double:
            kind, text_kind = float, DOUBLE
        elif converter is None and qtype == FieldType.String:
            kind, text_kind = str, TEXT
        elif converter is _datetime_ms and qtype == FieldType.DateTime:
            kind, text_kind = QDateTime, INTEGER
            datetimes.append(position)
        elif converter is _date_ms and qtype == FieldType.Date:
            kind, text_kind = QDate, INTEGER
            dates.append(position)
        else:
            return None
        types.append(kind)
        text_kinds.append(text_kind)
    expected = tuple(types)
    # local date-times are UTC ones when local time is UTC: setting the spec skips mktime
    local, utc = Qt.TimeSpec.LocalTime, Qt.TimeSpec.UTC
    local_is_utc = bool(datetimes) and local_time_is_utc()

    def plain(values: list) -> list | None:
        if tuple(map(type, values)) != expected:
            return None
        for i in datetimes:
            value = values[i]
            if not value.isValid():
                return None
            if local_is_utc and value.timeSpec() == local:
                value.setTimeSpec(utc)
            values[i] = value.toMSecsSinceEpoch()
        for i in dates:
            value = _date_ms(values[i])
            if value is None:  # an invalid date
                return None
            values[i] = value
        return values

    return plain, text_kinds


def _request(source: QgsFeatureSource, selected_only: bool) -> tuple[QgsFeatureRequest, int]:
    """Return the request for the features to write and how many there are (or -1)."""
    request = QgsFeatureRequest()
    if selected_only:
        if not isinstance(source, QgsVectorLayer):
            raise EsriJsonWriteError("selected_only=True needs a QgsVectorLayer (a feature "
                                     "source has no selection); pass the layer itself.")
        request.setFilterFids(source.selectedFeatureIds())
        return request, source.selectedFeatureCount()
    return request, source.featureCount()


def _features(source: QgsFeatureSource, selected_only: bool,
              feedback: QgsFeedback | None) -> Iterator:
    request, total = _request(source, selected_only)
    step = 100.0 / total if total and total > 0 else 0.0
    for n, feature in enumerate(source.getFeatures(request), 1):
        if feedback is not None and n % 1000 == 0:
            if feedback.isCanceled():
                return
            if step:
                feedback.setProgress(n * step)
        yield feature


def _attributes_dict(names: list[str], values: list) -> dict:
    out = {}
    for name, value in zip(names, values):
        if isinstance(value, QVariant):
            value = None if value.isNull() else value.value()
        elif isinstance(value, float) and not math.isfinite(value):
            value = None
        out[name] = value
    return out


def source_to_feature_set(
    source: QgsFeatureSource,
    *,
    selected_only: bool = False,
    shape: str = FEATURE_SET,
    feedback: QgsFeedback | None = None,
    keep_curves: bool = False,
    big_integer_type: str = "esriFieldTypeBigInteger",
    safe_names: bool = True,
    warnings: list[str] | None = None,
) -> dict:
    """Return the Esri JSON FeatureSet (or FeatureCollection) of a feature source as a dict.

    64-bit integer fields whose values all fit in 32 bits (the source's min/max say so) go
    out as ``esriFieldTypeInteger``, the others as ``big_integer_type``: servers older than
    ArcGIS 11.2 do not know ``esriFieldTypeBigInteger``, pass ``esriFieldTypeDouble`` (exact
    up to 2**53) for them. Warnings are appended to ``warnings``.
    """
    plan = _Plan(source, shape, keep_curves, big_integer_type, safe_names)
    names = plan.names_out()
    to_dict = plan.encoder.to_dict
    features = []
    for number, feature in enumerate(_features(source, selected_only, feedback), 1):
        item: dict[str, Any] = {"attributes": _attributes_dict(names, plan.values(feature,
                                                                                   number))}
        if plan.has_geometry:
            geometry = to_dict(feature.geometry())
            if geometry is not None:
                item["geometry"] = geometry
        features.append(item)
    if warnings is not None:
        warnings.extend(plan.warnings + _counted(plan.encoder.warnings))
    fs, ld = plan.header()
    fs["features"] = features
    if ld is None:
        fs["exceededTransferLimit"] = False
        return fs
    return {"layerDefinition": ld, "featureSet": fs}


def _counted(messages: dict[str, int]) -> list[str]:
    return [f"{m} ({n} feature{'s' if n != 1 else ''})." for m, n in messages.items()]


def write_feature_set_file(
    source: QgsFeatureSource,
    path: str | os.PathLike,
    *,
    feedback: QgsFeedback | None = None,
    selected_only: bool = False,
    shape: str = FEATURE_SET,
    keep_curves: bool = False,
    big_integer_type: str = "esriFieldTypeBigInteger",
    safe_names: bool = True,
    warnings: list[str] | None = None,
    helper: bool | None = None,
) -> int:
    """Stream a feature source to an Esri JSON file (FeatureSet by default); return the count.

    Features are encoded one at a time and written in batches, so memory stays flat
    whatever the size of the source. On cancel (``feedback``) the file is closed as valid
    JSON holding the features written so far.

    ``helper``: write the text in a second Python process while this one reads the next
    features (:mod:`esrijson.text_helper`): None (the default) does so for sources of at
    least ``HELPER_MIN_FEATURES`` features on a machine with two cores or more, unless the
    environment says ``ARCGIS_GP_HELPER=0``; the file is the same either way.
    """
    plan = _Plan(source, shape, keep_curves, big_integer_type, safe_names)
    names = plan.names_out()
    encode_attrs = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False,
                                    allow_nan=False, default=_null_to_none).encode
    to_text = plan.encoder.to_text
    has_geometry = plan.has_geometry
    fs, ld = plan.header()
    dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
    if ld is None:
        head = dumps(fs)[:-1] + ',"features":['
        tail = '],"exceededTransferLimit":false}'
    else:
        head = '{"layerDefinition":' + dumps(ld) + ',"featureSet":' + dumps(fs)[:-1]
        head += (',' if fs else '') + '"features":['
        tail = "]}}"
    path = os.fspath(path)
    request, total = _request(source, selected_only)
    step = 100.0 / total if total and total > 0 else 0.0
    features = source.getFeatures(request)
    indices = None if plan.all_fields else plan.indices
    add_oid = plan.add_oid
    plain = _plain_values(plan.kinds)
    plain_values, text_kinds = plain if plain is not None else (None, [])
    polygons = plan.encoder.geometry_type == POLYGON
    encoder = plan.encoder
    linear_heads = LINEAR_WKB_HEADS

    def slow_attributes(feature, number: int) -> str:
        values = feature.attributes()
        if indices is not None:
            values = [values[i] for i in indices]
        for index, convert in plan.converters:
            values[index] = convert(values[index])
        if add_oid:
            values.insert(0, number)
        try:
            return '{"attributes":' + encode_attrs(dict(zip(names, values)))
        except ValueError:  # NaN or infinity in a double field: null
            return '{"attributes":' + encode_attrs(dict(zip(names, _finite(values))))

    with open(path, "w", encoding="utf-8", newline="\n") as out:
        out.write(head)
    spec = {"geometry": (encoder.geometry_type, encoder.has_z, encoder.has_m)
            if has_geometry else None,
            "attributes": (names, text_kinds) if plain is not None else None}
    if helper is None:
        helper = (total >= HELPER_MIN_FEATURES and (os.cpu_count() or 1) > 1
                  and os.environ.get("ARCGIS_GP_HELPER", "1") != "0")
    text_helper = TextHelper.start(path, spec) if helper else None
    sink = _HelperSink(text_helper) if text_helper is not None else _LocalSink(path, spec)

    count = 0
    # one QgsFeature filled in turn by nextFeature(): no new feature and wrapper per feature
    feature = QgsFeature()
    next_feature = features.nextFeature
    chunk = BATCH - 1  # the first cancel check comes after feature 999, as for a generator
    try:
        more = True
        while more:
            attributes: list = []
            geometries: list | None = [] if has_geometry else None
            number = count
            end = count + chunk
            chunk = BATCH
            while number < end:
                if not next_feature(feature):
                    more = False
                    break
                number += 1
                values = None
                if plain_values is not None:
                    values = feature.attributes()
                    if indices is not None:
                        values = [values[i] for i in indices]
                    if add_oid:
                        values.insert(0, number)
                    values = plain_values(values)
                attributes.append(values if values is not None
                                  else slow_attributes(feature, number))
                if has_geometry:
                    geometry = feature.geometry()
                    if geometry.isEmpty():  # null too
                        geometries.append(None)
                        continue
                    wkb = (geometry.forceRHR() if polygons else geometry).asWkb().data()
                    # curves (and anything else not linear) are written here, from QGIS
                    geometries.append(wkb if wkb[:5] in linear_heads else to_text(geometry))
            if attributes:
                sink.write(attributes, geometries)
            count = number
            if more and feedback is not None:
                if feedback.isCanceled():
                    break
                if step:
                    feedback.setProgress(min(100.0, (count + 1) * step))
    except BaseException:
        sink.abort()
        raise
    sink.finish()
    with open(path, "a", encoding="utf-8", newline="\n") as out:
        out.write(tail)
    if warnings is not None:
        warnings.extend(plan.warnings + _counted(plan.encoder.warnings))
    return count


class _LocalSink:
    """Writes batches' text in this process (small sources, or no helper)."""

    def __init__(self, path: str, spec: dict) -> None:
        geometry, attributes = spec["geometry"], spec["attributes"]
        self._linear = WkbToEsri(*geometry) if geometry else None
        self._attribute_text = AttributeText(*attributes) if attributes else None
        self._out = open(path, "a", encoding="utf-8", newline="\n")  # noqa: SIM115
        self._first = True

    def write(self, attributes: list, geometries: list | None) -> None:
        pieces = batch_text(attributes, geometries, self._attribute_text, self._linear)
        if self._first:
            pieces[0] = ""  # no comma before the first feature
            self._first = False
        self._out.write("".join(pieces))

    def finish(self) -> None:
        self._out.close()

    abort = finish


class _HelperSink:
    """Hands batches to the helper process, which writes them."""

    def __init__(self, helper: TextHelper) -> None:
        self.write = helper.send
        self.finish = helper.finish
        self.abort = helper.abort
