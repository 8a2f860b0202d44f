"""A second Python process that writes the features' text while QGIS reads the next ones.

Why: writing coordinates (Python's shortest round-trip repr of every double) is about half
of the time of a file export, and inside QGIS Python runs from the shared libpython, which
ran the same formatting about 30% slower than the system's ``python3`` here (3.16 s against
2.38 s for 4.2 million doubles, Debian 12). So for big sources the writer hands each batch
of plain values (:mod:`esrijson.feature_text`) to this helper, which formats them and
appends them to the file, on another core, while QGIS reads the next batch.

Pure Python (no QGIS import), started by :mod:`esrijson.helper_process`. The batches go
through its standard input as frames of lists of ints, floats, texts and bytes; on end of
input it closes the file and exits 0. An error is written to its standard error, exit
status 2.

Sharing the work: when the helper falls behind (a whole batch still waits in the pipe, seen
with FIONREAD on Linux), the writer formats the next batch itself and sends its text, which
the helper only appends; so neither process waits for the other while there is work.
"""

from __future__ import annotations

import subprocess
import sys
from array import array
from typing import Any, BinaryIO

from .errors import EsriJsonWriteError
from .feature_text import AttributeText, batch_text
from .helper_process import answer_ready, frames, launch, send_frame
from .wkb_to_esri import WkbToEsri

_PIPE_BYTES = 1 << 20
_INCOMPLETE = ("the file is incomplete. Run again; if this happens again, set the environment "
               "variable ARCGIS_GP_HELPER=0 so that QGIS writes the file alone.")


class TextHelper:
    """The writer's side of the helper: start it, send batches, finish or abort."""

    def __init__(self, process: subprocess.Popen, errors: Any, spec: dict) -> None:
        # spec: as given to start(), with "path"
        self._process = process
        self._errors = errors
        self._pipe: BinaryIO = process.stdin
        self._spec = spec
        self._formatters: tuple | None = None

    @classmethod
    def start(cls, path: str, spec: dict, python: str | None = None) -> TextHelper | None:
        """Start a helper appending to ``path``; None when it cannot start (no interpreter,
        or it did not answer): the caller then formats in its own process.

        ``spec``: ``geometry`` (None or (Esri geometry type, has Z, has M)) and
        ``attributes`` (None or (names, kinds)) for :mod:`esrijson.feature_text`.
        """
        spec = {"path": str(path), **spec}
        launched = launch("text_helper", spec, python)
        if launched is None:
            return None
        process, errors = launched
        _widen(process.stdin)
        return cls(process, errors, spec)

    def send(self, attributes: list, geometries: list | None) -> None:
        """Hand one batch over (see :func:`esrijson.feature_text.batch_text`), or its text
        when the helper still has a whole batch waiting."""
        if _waiting_bytes(self._pipe) > 0:
            if self._formatters is None:
                self._formatters = _formatters(self._spec)
            batch: Any = "".join(batch_text(attributes, geometries, *self._formatters))
        else:
            batch = (attributes, geometries)
        try:
            self._send(batch)
        except OSError:  # the helper stopped early: finish() raises what it said
            self.finish()
            raise EsriJsonWriteError(
                f"The helper process writing {self._spec.get('path')} stopped before the end "
                f"(exit status 0): {_INCOMPLETE}") from None

    def finish(self) -> None:
        """Let the helper write what it has and close the file; raise its error, if any."""
        try:
            self._pipe.close()
        except OSError:
            pass
        status = self._process.wait()
        self._process.stdout.close()
        self._errors.seek(0)
        message = self._errors.read().decode("utf-8", "replace").strip()
        self._errors.close()
        if status != 0:
            raise EsriJsonWriteError(message or (
                f"The helper process writing {self._spec.get('path')} stopped (exit status "
                f"{status}): {_INCOMPLETE}"))

    def abort(self) -> None:
        """Stop the helper at once (an error on the writer's side)."""
        self._process.kill()
        try:
            self.finish()
        except EsriJsonWriteError:
            pass

    def _send(self, obj: Any) -> None:
        send_frame(self._pipe, obj)


def _formatters(spec: dict) -> tuple[AttributeText | None, WkbToEsri | None]:
    """(attribute text, geometry writer) of a spec (see :meth:`TextHelper.start`)."""
    attributes, geometry = spec.get("attributes"), spec.get("geometry")
    return (AttributeText(*attributes) if attributes else None,
            WkbToEsri(*geometry) if geometry else None)


def _widen(pipe: BinaryIO) -> None:
    """Let the pipe hold about two batches (Linux: 1 MiB instead of 64 KiB)."""
    try:
        import fcntl

        fcntl.fcntl(pipe.fileno(), fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
    except (ImportError, AttributeError, OSError):  # not Linux, or a lower pipe-max-size
        pass


def _waiting_bytes(pipe: BinaryIO) -> int:
    """Bytes written to the pipe and not yet read by the helper; 0 where unknown."""
    try:
        import fcntl
        import termios

        count = array("i", [0])
        fcntl.ioctl(pipe.fileno(), termios.FIONREAD, count, True)
        return count[0]
    except (ImportError, AttributeError, OSError):
        return 0


def serve(stdin: BinaryIO | None = None, stdout: BinaryIO | None = None) -> int:
    """The helper's main: read the spec, answer ready, append each batch's text to the file.
    Return the exit status."""
    stdin = stdin or sys.stdin.buffer
    stdout = stdout or sys.stdout.buffer
    batches = frames(stdin)
    spec: dict | None = None
    try:
        spec = next(batches)
        attribute_text, linear = _formatters(spec)
        with open(spec["path"], "a", encoding="utf-8", newline="\n") as out:
            answer_ready(stdout)
            first = True
            for batch in batches:
                text = batch if isinstance(batch, str) else "".join(
                    batch_text(*batch, attribute_text, linear))
                if first and text:
                    text = text[1:]  # no comma before the file's first feature
                    first = False
                out.write(text)
    except EsriJsonWriteError as err:  # what Esri JSON cannot hold: the writer raises it
        sys.stderr.write(f"{err}\n")
        return 2
    except Exception as err:  # noqa: BLE001 - a fault of ours: the writer reports it
        sys.stderr.write(f"The helper process writing {spec.get('path') if spec else 'the file'} "
                         f"failed ({type(err).__name__}: {err}): {_INCOMPLETE}\n")
        return 2
    return 0
