"""GPMultiValue:<T>: several choices, several layers or files, or a list of simple values."""

from __future__ import annotations

import json
from typing import Any

from qgis.core import (
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterString,
    QgsVectorLayer,
)

from ...gp_client.model import ParameterDescription
from .base import MISSING, GpType, RunEnv, as_text, finish, raw_value
from .choices import choices, enum_parameter
from .features import FeatureSetType, feature_input
from .files import FILE_SOURCE_TYPE, FileType, RasterType, layer_file, upload_or_url
from .filters import accepted_kinds, source_types
from .helptext import display_name


class MultiValueType(GpType):
    """GPMultiValue:<T>: the multiple form of T (``inner`` is T's entry, None if unknown)."""

    def __init__(self, inner_type_name: str, inner: GpType | None) -> None:
        self.inner_name = inner_type_name
        self.inner = inner

    def _layer_kind(self, p: ParameterDescription) -> int | None:
        if isinstance(self.inner, FeatureSetType):
            if self.inner.table:
                return QgsProcessing.SourceType.TypeVector
            # one layer type only: a filter naming several kinds offers any geometry
            kinds = source_types(accepted_kinds(p))
            return kinds[0] if len(kinds) == 1 else QgsProcessing.SourceType.TypeVectorAnyGeometry
        if isinstance(self.inner, RasterType):
            return QgsProcessing.SourceType.TypeRaster
        if isinstance(self.inner, FileType):
            return FILE_SOURCE_TYPE
        return None

    def input_parameters(self, p: ParameterDescription
                         ) -> list[QgsProcessingParameterDefinition]:
        """Return an enum allowing several values, multiple layers, or a list string."""
        options = choices(p)
        if options:
            return [enum_parameter(p, options, multiple=True)]
        kind = self._layer_kind(p)
        if kind is not None:
            definition = QgsProcessingParameterMultipleLayers(
                p.name, display_name(p), kind, None, True)
            return [finish(definition, p)]
        default = None
        if isinstance(p.default_value, list):
            default = ";".join(as_text(v) for v in p.default_value)
        definition = QgsProcessingParameterString(p.name, display_name(p), default, False, True)
        note = f"Several {self.inner_name} values: separate them with ';' or give a JSON array."
        if self.inner is None:
            note += " Each value is given as the JSON the service expects."
        return [finish(definition, p, note)]

    def to_wire(self, p: ParameterDescription, env: RunEnv) -> Any:
        """Return the list of wire values."""
        if raw_value(env, p.name) is MISSING:
            return MISSING
        options = choices(p)
        if options:
            indexes = env.algorithm.parameterAsEnums(env.parameters, p.name, env.context)
            return [options[i] for i in indexes]
        kind = self._layer_kind(p)
        if kind is not None:
            return self._layers_to_wire(p, env, kind)
        text = env.algorithm.parameterAsString(env.parameters, p.name, env.context).strip()
        if not text:
            return MISSING
        try:
            values = json.loads(text)
            if not isinstance(values, list):
                values = [values]
        except ValueError:
            values = [v.strip() for v in text.split(";") if v.strip()]
        return [self._member_value(v) for v in values]

    def _member_value(self, value: Any) -> Any:
        """Return one list item: text for known types (gp_client encodes it by the task's type)."""
        if not isinstance(value, str) or self.inner is not None:
            return value
        try:
            return json.loads(value)
        except ValueError:
            return value

    def _layers_to_wire(self, p: ParameterDescription, env: RunEnv, kind: int) -> list:
        if kind == FILE_SOURCE_TYPE:
            files = env.parameters.get(p.name) or []
            if isinstance(files, str):
                files = [f for f in files.split(";") if f]
            return [upload_or_url(str(f), p, env) for f in files]
        layers = env.algorithm.parameterAsLayerList(env.parameters, p.name, env.context)
        values = []
        for layer in layers:
            if kind == QgsProcessing.SourceType.TypeRaster:
                values.append(upload_or_url(layer_file(layer), p, env))
            elif isinstance(layer, QgsVectorLayer):
                if layer.crs().isValid():
                    env.crs_used.append(layer.crs())
                values.append(feature_input(layer, p, env))
            else:
                raise QgsProcessingException(
                    f"{display_name(p)} ({p.name}): layer {layer.name()} is not a vector layer.")
        return values
