"""Fixtures of the provider tests."""

from __future__ import annotations

import pytest

from arcgis_gp.gp_client.transport import RequestsTransport, Transport
from arcgis_gp.provider.qgis_transport import QgisTransport


@pytest.fixture(params=["requests", "qgis"])
def transport(request: pytest.FixtureRequest) -> Transport:
    """Each transport in turn: gp_client's requests one and the provider's QGIS one."""
    if request.param == "requests":
        return RequestsTransport()
    return QgisTransport()
