"""A second Python process that parses a big Esri JSON file while QGIS builds and writes the
features read before (the reading direction of :mod:`esrijson.text_helper`).

Why: reading a file is two halves of about the same size, parsing and decoding in Python
and QGIS building the features and writing them (a GeoPackage: C++ that holds the GIL, so a
thread cannot overlap it: measured). The helper streams the file (:mod:`esrijson._stream`)
past the features QGIS has already read (the sample) and sends each further feature as
``(attribute values, ISO WKB)`` from :class:`esrijson.esri_to_wkb.EsriToWkb`, the code the
reader runs itself. Any feature whose decoding warned, has curves or is not a plain feature
object is sent as its raw dict instead, and QGIS decodes it as before: so the warnings, and
the features' positions in them, are the reader's own, whatever process parsed the file.

Frames (length-prefixed pickles, see :mod:`esrijson.helper_process`) on standard
output: ``("rows", items, offset)`` per thousand features, then ``("end", values,
trailing_commas)`` with the keys met outside the features (exceededTransferLimit ...), or
``("error", class name, message)`` when the file is not JSON further on.
"""

from __future__ import annotations

import sys
from typing import Any, BinaryIO

from ._stream import JsonStream
from .errors import EsriJsonError
from .esri_to_wkb import CURVED, EsriToWkb
from .helper_process import answer_ready, frames, send_frame

ROWS_PER_FRAME = 1000


def match_keys(keys: list[str], attrs: dict) -> None:
    """Map field names to attribute keys that differ only in case (seen on some servers)."""
    missing = [i for i, k in enumerate(keys) if k not in attrs]
    if not missing:
        return
    lower = {k.lower(): k for k in attrs}
    for i in missing:
        other = lower.get(keys[i].lower())
        if other is not None:
            keys[i] = other


def serve(stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
    """The helper's main: read the spec, answer ready, stream the file's features.

    spec: ``path``, ``chunk_chars``, ``features_path``, ``skip`` (features already read),
    ``keys`` (the attribute key of each field), ``checked`` (keys already matched to the
    attributes), ``decoder`` (the arguments of :class:`EsriToWkb`). Return the exit status.
    """
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    spec = next(frames(stdin))
    decoder = EsriToWkb(*spec["decoder"])
    warnings = decoder.warnings
    to_wkb = decoder.to_wkb
    keys = list(spec["keys"])
    checked = bool(spec["checked"])
    features_path = tuple(spec["features_path"])
    skip = int(spec["skip"])
    stream = JsonStream(spec["path"], spec["chunk_chars"])
    answer_ready(stdout)
    rows: list[Any] = []
    values: list[tuple] = []
    seen = 0
    events = stream.events()
    try:
        for event in events:
            kind = event[0]
            if kind == "value":
                values.append((event[1], event[2], event[3]))
                continue
            if kind != "feature" or event[1] != features_path:
                continue
            seen += 1
            if seen <= skip:
                continue
            raw = event[2]
            attrs = raw.get("attributes") if type(raw) is dict else None
            if type(attrs) is not dict:  # junk, or no attributes: the reader says so
                rows.append(raw)
            else:
                if not checked:
                    checked = True
                    match_keys(keys, attrs)
                before = warnings.count
                wkb = to_wkb(raw.get("geometry"), seen)
                if wkb is CURVED or warnings.count != before:
                    rows.append(raw)  # decoded again by the reader, which warns
                else:
                    rows.append((list(map(attrs.get, keys)), wkb))
            if len(rows) >= ROWS_PER_FRAME:
                send_frame(stdout, ("rows", rows, stream.offset))
                rows = []
    except EsriJsonError as err:  # not JSON further on: the reader raises it after the rows
        send_frame(stdout, ("rows", rows, stream.offset))
        send_frame(stdout, ("error", type(err).__name__, str(err)))
        return 0
    except BrokenPipeError:  # the reader stopped early (cancelled): nothing to say
        return 0
    finally:
        events.close()
    send_frame(stdout, ("rows", rows, stream.offset))
    send_frame(stdout, ("end", values, stream.trailing_commas))
    return 0
