"""Fixtures of the provider tests (their set-up lives in helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from arcgis_gp.gp_client.transport import RequestsTransport, Transport
from arcgis_gp.provider.provider import GpProvider
from arcgis_gp.provider.qgis_transport import QgisTransport

from .helpers import serving_provider


@pytest.fixture(scope="module")
def served_provider(qgis_processing: Any, gpserver_url: str,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[GpProvider]:
    """The provider, registered, with a connection 'local' to the reference server."""
    with serving_provider(tmp_path_factory.mktemp("cache"),
                          local=gpserver_url + "/arcgis/rest/services") as provider:
        yield provider


@pytest.fixture(params=["requests", "qgis"])
def transport(request: pytest.FixtureRequest) -> Transport:
    """Each transport in turn: gp_client's requests one and the provider's QGIS one."""
    if request.param == "requests":
        return RequestsTransport()
    return QgisTransport()


@pytest.fixture(scope="module")
def jobs_provider(served_provider: GpProvider) -> GpProvider:
    """The same provider, by the name the jobs tests use."""
    return served_provider
