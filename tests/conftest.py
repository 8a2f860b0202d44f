"""Shared fixtures: the reference ArcGIS REST server (``gpserver``, ``gpserver_url``).

By default the server runs in the test process (threads; ``srv.faults`` is the live object).
Set ``GPSERVER_MODE=subprocess`` to run it as ``python -m tests.gpserver`` in a child process
instead (crash isolation); ``srv.faults.add/clear`` then go through its ``/_control`` API.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

_REPO = str(Path(__file__).resolve().parents[1])
if _REPO not in sys.path:  # so that `tests.*` imports work from any working directory
    sys.path.insert(0, _REPO)


@pytest.fixture(scope="session")
def gpserver(request: pytest.FixtureRequest) -> Iterator[Any]:
    """The running reference server (``.url``, ``.faults``), shared by the session."""
    if os.environ.get("GPSERVER_MODE", "inprocess") == "subprocess":
        from tests.gpserver.remote import RemoteGPServer

        server: Any = RemoteGPServer()
    else:
        try:  # share pytest-qgis's QgsApplication when that plugin is active
            request.getfixturevalue("qgis_app")
        except pytest.FixtureLookupError:
            pass  # GPServer.start() makes its own offscreen QgsApplication
        from tests.gpserver import GPServer

        server = GPServer(port=0)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def gpserver_url(gpserver: Any) -> str:
    """Root URL of the reference server, e.g. ``http://127.0.0.1:PORT``."""
    return gpserver.url


@pytest.fixture()
def gpserver_faults(gpserver: Any) -> Iterator[Any]:
    """``gpserver.faults``, cleared before and after the test."""
    gpserver.faults.clear()
    yield gpserver.faults
    gpserver.faults.clear()


@pytest.fixture()
def faultproxy(gpserver: Any) -> Iterator[Any]:
    """A fresh tests.faultproxy.FaultProxy in front of the reference server (``.url``)."""
    from tests.faultproxy import FaultProxy

    with FaultProxy(gpserver.url) as proxy:
        yield proxy
