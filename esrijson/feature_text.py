"""The Esri JSON text of features from plain values (pure Python, no QGIS import).

The file writer (:mod:`esrijson.writer`) reads each feature in QGIS and hands over plain
values: attributes as a list of ints, floats, texts and dates in milliseconds (or the
attributes' text already written, for unusual types), the geometry as linear WKB (or its
text already written, for curves). This module writes the text, the same in QGIS's process
and in the helper process (:mod:`esrijson.text_helper`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from itertools import repeat
from json.encoder import encode_basestring

from .wkb_to_esri import WkbToEsri

# attribute kinds AttributeText writes: integers (and dates in milliseconds), doubles, text
INTEGER, DOUBLE, TEXT = "integer", "double", "text"
_SLOTS = {INTEGER: "%d", DOUBLE: "%r", TEXT: "%s"}


class AttributeText:
    """Writes ``{"attributes":{...}`` (the feature's closing brace is the caller's) with one
    ``%`` format, the text ``json`` would write for a dict of those values."""

    def __init__(self, names: Sequence[str], kinds: Sequence[str]) -> None:
        self.names = list(names)
        slots = [json.dumps(name, ensure_ascii=False).replace("%", "%%") + ":" + _SLOTS[kind]
                 for name, kind in zip(names, kinds)]
        self._format = '{"attributes":{' + ",".join(slots) + "}"
        self._texts = [i for i, kind in enumerate(kinds) if kind == TEXT]
        self._doubles = [i for i, kind in enumerate(kinds) if kind == DOUBLE]
        self._dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

    def text(self, values: list) -> str:
        """Return the attributes' text of one feature; ``values`` must be of the kinds given
        (Python int, float, str: the writer checks) and may be changed. NaN and infinite
        doubles are written as null."""
        for i in self._doubles:
            value = values[i]
            if value - value:  # NaN - NaN and inf - inf are NaN (true); finite ones give 0.0
                return '{"attributes":' + self._dumps(
                    {name: None if k in self._doubles and v - v else v
                     for k, (name, v) in enumerate(zip(self.names, values))})
        for i in self._texts:
            values[i] = encode_basestring(values[i])
        return self._format % tuple(values)


def batch_text(attributes: Sequence, geometries: Sequence | None,
               attribute_text: AttributeText | None, linear: WkbToEsri | None) -> list[str]:
    """Return the pieces of text of a batch of features, each ``,{...}`` (the caller drops
    the comma before the first feature of the file).

    ``attributes``: per feature a list of values for ``attribute_text`` or the text already
    written. ``geometries``: per feature linear WKB (bytes), the text already written, or
    None (no geometry); None for a table.
    """
    pieces: list[str] = []
    extend = pieces.extend
    if geometries is None:
        geometries = repeat(None)
    for attrs, geometry in zip(attributes, geometries):
        if attrs.__class__ is list:
            attrs = attribute_text.text(attrs)
        if geometry is None:
            extend((",", attrs, "}"))
            continue
        if geometry.__class__ is bytes:
            geometry = linear.fast_text(geometry) or linear.careful_text(geometry)
        extend((",", attrs, ',"geometry":', geometry, "}"))
    return pieces
