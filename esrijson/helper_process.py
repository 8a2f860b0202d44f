"""Helper processes of esrijson: start one, talk to it in frames (pure Python, no QGIS).

A helper is the system Python of the running version (QGIS's own Python runs from the shared
libpython, slower, and cannot overlap Python work with QGIS's in threads: the GIL) running
``serve()`` of one of this package's pure modules (:mod:`esrijson.text_helper` writes big
file exports, :mod:`esrijson.read_helper` parses big files), with ``-I -S`` (no user site,
no environment paths). Both directions speak length-prefixed pickles; the helper answers
``ready`` once it has its spec.
"""

from __future__ import annotations

import os
import pickle
import struct
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, BinaryIO

_LENGTH = struct.Struct("<Q")
_READY = b"ready\n"
_PICKLE_PROTOCOL = 4
# the folder holding the plugin package, as imported (not resolved: the package may be a link)
_PACKAGE_ROOT = Path(__file__).absolute().parents[2]
_PACKAGE = __name__.rsplit(".", 2)[0]  # "arcgis_gp" (the plugin folder's name)


def helper_python() -> str | None:
    """Return the path of the system Python of the running version, None when there is none
    (the work then stays in QGIS's process)."""
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    if os.name == "nt":  # OSGeo4W and the QGIS installers: python.exe in the prefix
        candidates = [Path(sys.base_prefix) / "python.exe",
                      Path(sys.base_prefix) / "python3.exe"]
    else:  # Linux and macOS (QGIS.app's framework): bin/pythonX.Y
        candidates = [Path(sys.base_prefix) / "bin" / f"python{version}"]
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def launch(module: str, spec: dict, python: str | None = None
           ) -> tuple[subprocess.Popen, Any] | None:
    """Start ``serve()`` of one of this package's pure modules (``text_helper``,
    ``read_helper``) in the system Python, send it ``spec`` and wait for its ``ready``.
    Return (process, its standard error file), None when it cannot start."""
    python = python or helper_python()
    if python is None:
        return None
    code = (f"import sys; sys.path.insert(0, {str(_PACKAGE_ROOT)!r}); "
            f"from {_PACKAGE}.esrijson.{module} import serve; sys.exit(serve())")
    errors = tempfile.TemporaryFile()  # a file, not a pipe: the helper never blocks on it
    try:
        process = subprocess.Popen(
            [python, "-I", "-S", "-c", code], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=errors,
            creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))
    except OSError:
        errors.close()
        return None
    try:
        send_frame(process.stdin, spec)
        ready = process.stdout.readline() == _READY
    except OSError:
        ready = False
    if not ready:
        process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout, errors):
            try:
                stream.close()
            except OSError:
                pass
        return None
    return process, errors


def send_frame(pipe: BinaryIO, obj: Any) -> None:
    """Write one length-prefixed pickle to ``pipe``."""
    data = pickle.dumps(obj, protocol=_PICKLE_PROTOCOL)
    pipe.write(_LENGTH.pack(len(data)))
    pipe.write(data)
    pipe.flush()


def answer_ready(stdout: BinaryIO) -> None:
    """The helper's side of the handshake."""
    stdout.write(_READY)
    stdout.flush()


def frames(stream: BinaryIO):
    """Yield the objects sent by :meth:`TextHelper._send` until end of input."""
    while True:
        head = stream.read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            return
        (size,) = _LENGTH.unpack(head)
        yield pickle.loads(stream.read(size))
