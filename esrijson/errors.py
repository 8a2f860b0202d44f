"""The exceptions of esrijson: one root, so that callers catch ``EsriJsonError`` alone.

Pure Python (no QGIS import). ``EsriJsonError`` subclasses ``ValueError``, as the reader's and
writer's errors always did, so older ``except ValueError`` callers keep working.
"""

from __future__ import annotations

__all__ = ["EsriJsonError", "EsriJsonSyntaxError", "EsriJsonWriteError"]


class EsriJsonError(ValueError):
    """Esri JSON that cannot be read or written; the message says what and what to do."""


class EsriJsonSyntaxError(EsriJsonError):
    """The file is not (even leniently) JSON, or nests too deep; the message says where."""


class EsriJsonWriteError(EsriJsonError):
    """A source that Esri JSON cannot hold (a geometry collection, a selection without a
    layer...)."""
