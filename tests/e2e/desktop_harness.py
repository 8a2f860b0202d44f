"""Helpers to run the real QGIS desktop under Xvfb in a throwaway profile.

Used by the desktop smoke test: an X server on a free display (``Xvfb -displayfd``), a
profile with this repository symlinked as the ``arcgis_gp`` plugin and enabled in
``profiles/default/QGIS/QGIS3.ini``, and ``qgis.bin --code <script>`` started in it.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.paths import REPO_ROOT

PLUGIN_NAME = "arcgis_gp"


def qgis_desktop_binary() -> str:
    """Return the QGIS desktop executable (``qgis.bin``; Debian's ``qgis`` is a shell wrapper)."""
    for name in ("qgis.bin", "qgis"):
        found = shutil.which(name)
        if found:
            return found
    raise FileNotFoundError("neither qgis.bin nor qgis is on PATH: install Debian's 'qgis'")


@contextmanager
def xvfb(width: int = 1280, height: int = 1024, timeout: float = 20.0) -> Iterator[str]:
    """Run Xvfb on the first free display; yield its name (``:N``); stop it afterwards."""
    if shutil.which("Xvfb") is None:
        raise FileNotFoundError("Xvfb is not installed: apt-get install xvfb")
    read_end, write_end = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_end), "-screen", "0", f"{width}x{height}x24",
         "-nolisten", "tcp", "-noreset"],
        pass_fds=(write_end,), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, start_new_session=True,
    )
    os.close(write_end)
    try:
        number = _read_line(read_end, timeout)
        if not number.isdigit():
            err = proc.stderr.read().decode(errors="replace") if proc.poll() is not None else ""
            raise RuntimeError(f"Xvfb did not report a display number (got {number!r}) {err}")
        yield f":{number}"
    finally:
        os.close(read_end)
        _stop(proc)


def _read_line(fd: int, timeout: float) -> str:
    """Read one line from a pipe, waiting at most ``timeout`` seconds."""
    data = b""
    end = time.monotonic() + timeout
    while not data.endswith(b"\n"):
        remaining = end - time.monotonic()
        if remaining <= 0:
            break
        ready, _, _ = select.select([fd], [], [], remaining)
        if not ready:
            break
        chunk = os.read(fd, 64)
        if not chunk:
            break
        data += chunk
    return data.decode().strip()


def _stop(proc: subprocess.Popen, grace: float = 10.0) -> None:
    """Terminate a process (and its session) started by us; kill it if it lingers."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace)


def make_desktop_profile(root: Path, plugin_dir: Path = REPO_ROOT) -> Path:
    """Create a profile root with the plugin symlinked and enabled; return the profile folder."""
    profile = root / "profiles" / "default"
    plugins = profile / "python" / "plugins"
    plugins.mkdir(parents=True)
    (plugins / PLUGIN_NAME).symlink_to(plugin_dir, target_is_directory=True)
    ini = profile / "QGIS" / "QGIS3.ini"
    ini.parent.mkdir(parents=True)
    # Processing is a core plugin; name it too so the toolbox exists whatever the defaults.
    ini.write_text(f"[PythonPlugins]\n{PLUGIN_NAME}=true\nprocessing=true\n", encoding="utf-8")
    return profile


@dataclass
class DesktopRun:
    """What a QGIS desktop run left behind."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool

    def describe(self) -> str:
        """Return the exit status and the tail of its output, for assertion messages."""
        status = "timed out" if self.timed_out else f"exited {self.returncode}"
        return (f"QGIS {status}\n--- stdout\n{self.stdout[-3000:]}\n"
                f"--- stderr\n{self.stderr[-3000:]}")


def run_qgis_desktop(profile_root: Path, display: str, script: Path, *,
                     env: Mapping[str, str] | None = None, timeout: float = 100.0,
                     workdir: Path | None = None) -> DesktopRun:
    """Start ``qgis.bin --code script`` on ``display`` in the profile; wait for it to quit."""
    run_env = dict(os.environ)
    run_env.pop("QT_QPA_PLATFORM", None)  # the real desktop, on the X server
    run_env.update(env or {})
    run_env.update(DISPLAY=display, QGIS_CUSTOM_CONFIG_PATH=str(profile_root),
                   XDG_RUNTIME_DIR=str(_runtime_dir(profile_root)))
    args = [qgis_desktop_binary(), "--nologo", "--noversioncheck", "--code", str(script)]
    proc = subprocess.Popen(args, env=run_env, cwd=str(workdir or profile_root),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        return DesktopRun(proc.returncode, out, err, False)
    except subprocess.TimeoutExpired:
        _stop(proc, grace=5.0)
        out, err = proc.communicate()
        return DesktopRun(proc.returncode, out or "", err or "", True)


def _runtime_dir(profile_root: Path) -> Path:
    """Return a private XDG runtime folder next to the profile (Qt warns without one)."""
    path = profile_root / "runtime"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


def distinct_colours(png: Path, samples: int = 64) -> int:
    """Return how many distinct colours a ``samples`` x ``samples`` grid of the image has."""
    from qgis.PyQt.QtGui import QImage

    image = QImage(str(png))
    if image.isNull() or image.width() == 0 or image.height() == 0:
        return 0
    colours = set()
    for i in range(samples):
        x = (2 * i + 1) * image.width() // (2 * samples)
        for j in range(samples):
            y = (2 * j + 1) * image.height() // (2 * samples)
            colours.add(image.pixel(x, y))
    return len(colours)


def image_size(png: Path) -> tuple[int, int]:
    """Return (width, height) of an image (0, 0 when it cannot be read)."""
    from qgis.PyQt.QtGui import QImage

    image = QImage(str(png))
    return (0, 0) if image.isNull() else (image.width(), image.height())
