"""Fetching connections' descriptions (network, off the GUI thread) and caching them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Callable, Optional

from ..gp_client.discovery import Discovery, SkippedService, find_services
from ..gp_client.model import ServiceDescription
from .cache import DescriptionCache
from .clients import make_client
from .connections import Connection
from .explain import explain_error


def fetch(connection: Connection, *, timeout: float = 30.0) -> Discovery:
    """Fetch every GP service (with its tasks) a connection leads to, and those skipped.

    Network: call off the GUI thread.
    """
    client = make_client(connection, timeout=timeout)
    return find_services(client, connection.url)


def fetch_services(connection: Connection, *, timeout: float = 30.0) -> list[ServiceDescription]:
    """Fetch every GP service (with its tasks) a connection leads to. Network: call off-GUI."""
    return fetch(connection, timeout=timeout).services


def refresh_connections(connections: Sequence[Connection], cache: Optional[DescriptionCache],
                        is_cancelled: Callable[[], bool] = lambda: False,
                        found: Optional[dict[str, list[ServiceDescription]]] = None,
                        skipped: Optional[dict[str, list[SkippedService]]] = None,
                        ) -> dict[str, Optional[str]]:
    """Fetch (and cache, when a cache is given) each connection; name -> None or error text.

    ``found`` receives each connection's services, ``skipped`` the services it lists but
    could not read (name -> list).
    """
    outcome: dict[str, Optional[str]] = {}
    for connection in connections:
        if is_cancelled():
            break
        try:
            discovered = fetch(connection)
            services = discovered.services
            if cache is not None:
                cache.save(connection, services)
            if found is not None:
                found[connection.name] = services
            if skipped is not None:
                skipped[connection.name] = list(discovered.skipped)
            outcome[connection.name] = None
        except Exception as err:  # noqa: BLE001 - reported per connection
            outcome[connection.name] = explain_error(err, connection)
    return outcome
