"""Fixtures of the provider tests (their set-up lives in helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from arcgis_gp.provider.provider import GpProvider

from .helpers import serving_provider


@pytest.fixture(scope="module")
def served_provider(qgis_processing: Any, gpserver_url: str,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[GpProvider]:
    """The provider, registered, with a connection 'local' to the reference server."""
    with serving_provider(tmp_path_factory.mktemp("cache"),
                          local=gpserver_url + "/arcgis/rest/services") as provider:
        yield provider
