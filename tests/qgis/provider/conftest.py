"""Fixtures of the provider tests (their set-up functions live in helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from arcgis_gp.provider.cache import DescriptionCache
from arcgis_gp.provider.provider import GpProvider

from .helpers import headless_store, registered


@pytest.fixture(scope="module")
def served_provider(qgis_processing: Any, gpserver_url: str,
                    tmp_path_factory: pytest.TempPathFactory) -> Iterator[GpProvider]:
    """The provider, registered, with a connection 'local' to the reference server."""
    provider = GpProvider(headless_store(local=gpserver_url + "/arcgis/rest/services"),
                          DescriptionCache(tmp_path_factory.mktemp("cache")),
                          fetch_missing=True)
    with registered(provider):
        yield provider


@pytest.fixture(scope="module")
def jobs_provider(served_provider: GpProvider) -> GpProvider:
    """The same provider, by the name the jobs tests use."""
    return served_provider
