"""Set-up shared by the provider tests (tests/qgis/test_provider_*.py).

Throwaway connection stores, the provider registered in Processing for the length of a test,
QGIS authentication configurations for the reference server's demo user, and waiting while
the event loop turns. Plain functions and context managers: each test module makes its own
fixtures from them.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Callable

import requests
from qgis.core import QgsApplication, QgsAuthMethodConfig
from qgis.PyQt.QtCore import QCoreApplication

from arcgis_gp.provider.connections import ENV_VAR, ConnectionStore
from arcgis_gp.provider.provider import GpProvider

MASTER = "arcgis-gp-tests"
DEMO_PASSWORD = "demo-password"


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Turn the event loop until ``predicate`` holds (or the time is up)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        QCoreApplication.processEvents()
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


def dispose(widget: Any) -> None:
    """Close and delete a dialog now: one left alive under the main window reacts to the
    project's layers being removed when QGIS exits, and QGIS >= 3.44 aborts there."""
    from qgis.PyQt.QtCore import QEvent

    widget.close()
    widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def real_layer_tree_view(iface: Any, monkeypatch: Any) -> Any:
    """Give pytest-qgis's iface a real layer tree view (its own is a mock): QGIS >= 3.44 hands
    iface.layerTreeView() to C++ when Processing loads result layers."""
    from qgis.core import QgsLayerTreeModel, QgsProject
    from qgis.gui import QgsLayerTreeView

    view = QgsLayerTreeView()
    view.setModel(QgsLayerTreeModel(QgsProject.instance().layerTreeRoot(), view))
    monkeypatch.setattr(iface, "layerTreeView", lambda: view, raising=False)
    return view


def new_store(environ: Mapping[str, str] | None = None) -> ConnectionStore:
    """A connection store under a settings key of its own (no headless connections unless
    ``environ`` gives some)."""
    return ConnectionStore(f"arcgis_gp_tests/{uuid.uuid4().hex}/connections",
                           environ=dict(environ or {}))


def headless_store(**urls: str) -> ConnectionStore:
    """A store whose only connections are headless ones, ``name=url``."""
    entries = [{"name": name, "url": url} for name, url in urls.items()]
    return new_store({ENV_VAR: json.dumps(entries)})


@contextmanager
def temporary_store() -> Iterator[ConnectionStore]:
    """A new store whose stored connections are removed afterwards."""
    store = new_store()
    try:
        yield store
    finally:
        for conn in store.stored():
            store.remove(conn.name)


@contextmanager
def registered(provider: GpProvider) -> Iterator[GpProvider]:
    """``provider`` in the Processing registry (instead of any other arcgisgp) while inside."""
    registry = QgsApplication.processingRegistry()
    old = registry.providerById("arcgisgp")
    if old is not None:
        registry.removeProvider(old)
    assert registry.addProvider(provider)
    try:
        yield provider
    finally:
        registry.removeProvider(provider)


def run_connection_test(dialog: Any) -> list[str]:
    """Start Test in a ConnectionsDialog and return its report once it came (or [])."""
    messages: list[str] = []
    dialog.test_finished.connect(messages.append)
    dialog.test_connection()
    wait_until(lambda: bool(messages))
    return messages


def store_authcfg(method: str, **values: str) -> str:
    """Store an authentication configuration in the test profile; return its id."""
    manager = QgsApplication.authManager()
    if not manager.masterPasswordIsSet():
        assert manager.setMasterPassword(MASTER, True)
    config = QgsAuthMethodConfig(method)
    config.setName(f"arcgis_gp test {method} {uuid.uuid4().hex[:6]}")
    for key, value in values.items():
        config.setConfig(key, value)
    ok, stored = manager.storeAuthenticationConfig(config)
    assert ok
    return stored.id()


@contextmanager
def authcfg(method: str, **values: str) -> Iterator[str]:
    """An authentication configuration (see ``store_authcfg``), removed afterwards."""
    config_id = store_authcfg(method, **values)
    try:
        yield config_id
    finally:
        QgsApplication.authManager().removeAuthenticationConfig(config_id)


def demo_token(gpserver_url: str) -> str:
    """A token of the reference server's demo user."""
    return requests.post(gpserver_url + "/arcgis/tokens/generateToken", timeout=30, data={
        "username": "demo", "password": DEMO_PASSWORD, "client": "requestip", "f": "json",
    }).json()["token"]
