"""Feature sets in and out: inline Esri JSON, uploaded items, streamed results, hosted layers."""

from __future__ import annotations

import json
import os
import uuid
from typing import Any

from qgis.core import (
    QgsFeatureSink,
    QgsFeatureSource,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputDefinition,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsWkbTypes,
)

from ...gp_client.model import ParameterDescription
from .base import MISSING, GpType, ResultFile, RunEnv, finish, output_skipped, raw_value
from .filters import accepted_kinds, kind_of_schema, schema_geometry_type, source_types
from .helptext import display_name, help_text

# Feature inputs of this much Esri JSON or more go to a service with the Uploads capability
# as an uploaded file ({"itemID"}; the REST API's submitJob page: "for a large set of
# geometries, you can also specify an uploaded item as input"), smaller ones inline in the
# POST body. Inline, the JSON sits in memory several times (objects, text, the url-encoded
# form, which is 1.3 to 2 times the JSON, and the transport's copy), and form bodies near
# the default request limits of web servers in front of ArcGIS (IIS: 30,000,000 bytes) are
# refused; an upload costs one more request and leaves an item on the server (deleted after
# the run). Below 5 MB one request is quicker and the copies cost tens of MB at most.
UPLOAD_MIN_BYTES = 5 * 1024 * 1024
# Feature results of an asynchronous job are always streamed to a file first. Files up to
# this size are then parsed whole (every feature seen for Z/M, hosted-layer URLs and empty
# values handled as before: at most ~15 MB of objects); bigger ones are decoded feature by
# feature (esrijson.reader.read_file: one 1 MiB chunk and a 1,000-feature sample in memory).
STREAM_RESULT_MIN_BYTES = 1024 * 1024


class FeatureSetType(GpType):
    """GPFeatureRecordSetLayer (``table=False``) and GPRecordSet (``table=True``)."""

    streams_result = True

    def __init__(self, table: bool) -> None:
        self.table = table

    def source_types(self, p: ParameterDescription) -> list[int]:
        """Return the layer types the input accepts.

        A featureClass filter wins over the default's schema, which is often empty or
        narrower (a schema has one geometry type, a filter lists every type the task takes).
        """
        if self.table:
            return [QgsProcessing.SourceType.TypeVector]
        return source_types(self.accepted_kinds(p))

    def accepted_kinds(self, p: ParameterDescription) -> tuple[str, ...]:
        """Return the geometry kinds the input takes (() for any, and for tables)."""
        if self.table:
            return ()
        return accepted_kinds(p) or kind_of_schema(p.default_value)

    def input_parameters(self, p: ParameterDescription
                         ) -> list[QgsProcessingParameterDefinition]:
        """Return a feature source parameter."""
        definition = QgsProcessingParameterFeatureSource(
            p.name, display_name(p), self.source_types(p), None, True)
        return [finish(definition, p)]

    def to_wire(self, p: ParameterDescription, env: RunEnv) -> Any:
        """Return the Esri JSON feature set of the source (selected features if asked)."""
        if raw_value(env, p.name) is MISSING:
            return MISSING
        source = env.algorithm.parameterAsSource(env.parameters, p.name, env.context)
        if source is None:
            raise QgsProcessingException(
                f"Could not load the layer given for {display_name(p)} ({p.name}).")
        if source.sourceCrs().isValid():
            env.crs_used.append(source.sourceCrs())
        return feature_input(source, p, env)

    def output_parameter(self, p: ParameterDescription
                         ) -> QgsProcessingParameterDefinition | None:
        """Return a feature sink."""
        if self.table:
            kind = QgsProcessing.SourceType.TypeVector
        else:
            [kind] = source_types(kind_of_schema(p.default_value))
        definition = QgsProcessingParameterFeatureSink(
            p.name, display_name(p), kind, QgsProcessing.TEMPORARY_OUTPUT, False, True)
        definition.setHelp(help_text(p))
        return definition

    def output(self, p: ParameterDescription) -> QgsProcessingOutputDefinition | None:
        """Return nothing: the sink is the output."""
        return None

    def from_wire(self, p: ParameterDescription, value: Any, env: RunEnv) -> None:
        """Decode the feature set (a dict, or a streamed ResultFile) into the sink."""
        from ...esrijson import reader

        if output_skipped(env, p.name):
            return
        origin = ""
        try:
            if isinstance(value, ResultFile):
                origin = f" (the answer of {value.url or 'the server'})"
                size = os.path.getsize(value.path)
                if size > STREAM_RESULT_MIN_BYTES:
                    env.feedback.pushInfo(
                        f"{p.name}: reading {size / 1e6:.1f} MB of Esri JSON feature by feature")
                    self._to_sink(p, reader.read_file(value.path), env)
                    return
                value = _result_value(value.path)
            if not isinstance(value, dict) or not value:
                env.feedback.pushWarning(
                    f"The server returned no features for {p.name}; the output is empty.")
                value = {"geometryType": schema_geometry_type(p.default_value) or "",
                         "fields": [], "features": []}
                if self.table or not value["geometryType"]:
                    value.pop("geometryType")
            if "url" in value and "features" not in value and "featureSet" not in value:
                value = hosted_features(str(value["url"]), p, env)
            self._to_sink(p, reader.read_feature_set(value), env)
        except (reader.EsriJsonError, reader.EsriJsonSyntaxError) as err:
            raise QgsProcessingException(
                f"{display_name(p)} ({p.name}): the server's result{origin} is not an Esri "
                f"JSON feature set QGIS can read: {err}") from None

    def _to_sink(self, p: ParameterDescription, decoded: Any, env: RunEnv) -> None:
        wkb_type = QgsWkbTypes.Type.NoGeometry if self.table else decoded.wkb_type
        sink, dest = env.algorithm.parameterAsSink(
            env.parameters, p.name, env.context, decoded.fields, wkb_type, decoded.crs)
        if sink is None:
            raise QgsProcessingException(f"Could not create the output {p.name}.")
        count = 0
        for feature in decoded.features():
            if env.feedback.isCanceled():
                break
            if not sink.addFeature(feature, QgsFeatureSink.Flag.FastInsert):
                raise QgsProcessingException(
                    f"Could not write a feature to {p.name}: {sink.lastError()}")
            count += 1
        # complete once the features have been read (a file's keys after the features)
        for warning in decoded.warnings:
            env.feedback.pushWarning(f"{p.name}: {warning}")
        env.feedback.pushInfo(f"{p.name}: {count} features")
        if getattr(decoded, "drawing_info", None):
            env.drawing_infos[dest] = decoded.drawing_info
        env.results[p.name] = dest
        del sink


def _result_value(path: str) -> Any:
    """Return the decoded value of a small result file ``{"paramName", "dataType", "value"}``."""
    from ...gp_client.values import decode

    with open(path, encoding="utf-8-sig") as handle:
        try:
            body = json.load(handle)
        except ValueError as err:
            raise QgsProcessingException(f"The result file {path} is not JSON: {err}") from None
    if not isinstance(body, dict):
        return None
    return decode(str(body.get("dataType") or ""), body.get("value"))


def hosted_features(url: str, p: ParameterDescription, env: RunEnv, page: int = 2000) -> dict:
    """Return every feature of a result written to a hosted layer (its query, page by page)."""
    if env.get_json is None:
        raise QgsProcessingException(f"{p.name} is a layer on the server: {url}")
    env.feedback.pushInfo(f"{p.name} was written to the hosted layer {url}; reading it back.")
    query = url.rstrip("/") + "/query"
    base = {"where": "1=1", "outFields": "*", "returnGeometry": "true"}
    merged: dict = {}
    offset = 0
    while True:
        body = env.get_json(query, {**base, "resultOffset": offset, "resultRecordCount": page})
        features = body.get("features") or []
        if not merged:
            merged = {k: v for k, v in body.items() if k != "exceededTransferLimit"}
            merged["features"] = list(features)
        else:
            merged["features"].extend(features)
        offset += len(features)
        if not body.get("exceededTransferLimit") or not features or env.feedback.isCanceled():
            return merged


def feature_input(source: QgsFeatureSource, p: ParameterDescription, env: RunEnv) -> Any:
    """Return the wire value of a feature input: inline Esri JSON, or an uploaded item.

    On services without uploads the FeatureSet goes inline. Otherwise it is streamed to a
    file first (flat memory); at UPLOAD_MIN_BYTES or more the file is uploaded and
    ``{"itemID"}`` sent, below that its JSON goes inline.
    """
    from ...esrijson import writer

    warnings: list[str] = []
    if not env.uploads_allowed:
        value = writer.source_to_feature_set(source, feedback=env.feedback, warnings=warnings)
        _push_warnings(warnings, p, env)
        return value
    os.makedirs(env.work_dir, exist_ok=True)
    path = os.path.join(env.work_dir, f"input_{_safe(p.name)}_{uuid.uuid4().hex[:8]}.json")
    count = writer.write_feature_set_file(source, path, feedback=env.feedback,
                                          warnings=warnings)
    _push_warnings(warnings, p, env)
    if env.feedback.isCanceled():
        return MISSING
    size = os.path.getsize(path)
    if size < UPLOAD_MIN_BYTES:
        with open(path, encoding="utf-8") as handle:
            value = json.load(handle)
        os.remove(path)
        return value
    env.feedback.pushInfo(f"Uploading {p.name}: {count} features, {size / 1e6:.1f} MB of "
                          "Esri JSON...")
    item_id = env.upload(path)
    os.remove(path)
    return {"itemID": item_id}


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in name)[:40] or "input"


def _push_warnings(warnings: list[str], p: ParameterDescription, env: RunEnv) -> None:
    for warning in dict.fromkeys(warnings):
        env.feedback.pushWarning(f"{p.name}: {warning}")

