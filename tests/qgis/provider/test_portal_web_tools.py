"""A signed-in portal connection lists the web tools shared with the user, grouped by where
the user finds them (reference portal: own, group, organization items)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from qgis.core import QgsApplication

from arcgis_gp.provider.cache import DescriptionCache
from arcgis_gp.provider.connections import ENV_VAR
from arcgis_gp.provider.provider import GpProvider

from .helpers import DEMO_PASSWORD, authcfg, new_store, registered

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def groups(qgis_processing: Any, gpserver_url: str,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Algorithm name -> toolbox group, for connection 'org' (the demo user on the portal)."""
    with authcfg("Basic", username="demo", password=DEMO_PASSWORD) as config_id:
        store = new_store({ENV_VAR: json.dumps([
            {"name": "org", "url": gpserver_url + "/portal/sharing/rest",
             "authcfg": config_id}])})
        provider = GpProvider(store, DescriptionCache(tmp_path_factory.mktemp("cache")),
                              fetch_missing=True)
        with registered(provider):
            registry = QgsApplication.processingRegistry()
            yield {a.name(): a.group() for a in registry.algorithms()
                   if a.provider() is not None and a.provider().id() == "arcgisgp"}


def test_web_tools_are_grouped_by_where_the_user_finds_them(groups: dict[str, str]) -> None:
    """Own tools, a group's, the organization's; helper services as before."""
    assert groups["org_demo_analysis_bufferfeatures"] == "org: My web tools: My buffer tools"
    assert groups["org_demo_webtool_bufferfeatures"] == (
        "org: Group Hydrology team: Flood web tool")
    assert groups["org_demo_limited_slowcopy"] == "org: Organization: Limited copy service"
    assert groups["org_tasks_createbuffers"] == "org: tasks"


def test_an_item_the_user_cannot_see_gives_no_algorithm(groups: dict[str, str]) -> None:
    """The board's Secure/Analysis item is not listed to the demo user."""
    assert not any(name.startswith("org_secure_analysis") for name in groups)
