"""Web tools shared as portal items ("Geoprocessing Service"), found through the portal."""

from __future__ import annotations

from typing import Any

import pytest

from arcgis_gp.gp_client import GPClient, discovery
from arcgis_gp.gp_client.auth import UserPasswordAuth
from arcgis_gp.gp_client.discovery import PORTAL_ITEM_KEY, PortalItem, portal_gp_items
from arcgis_gp.gp_client.model import ServiceDescription

pytestmark = pytest.mark.timeout(120)


def signed_in() -> GPClient:
    """The demo user."""
    return GPClient(auth=UserPasswordAuth("demo", "demo-password"))


def test_items_the_user_may_see_and_where_they_come_from(gpserver: Any) -> None:
    """Own, from the Hydrology team, from the organization; never the board's item."""
    items = {i.title: i for i in portal_gp_items(signed_in(), gpserver.portal_url)}
    assert set(items) == {"My buffer tools", "Flood web tool", "Limited copy service"}
    assert items["My buffer tools"].place == "mine"
    assert (items["Flood web tool"].place, items["Flood web tool"].group) == (
        "group", "Hydrology team")
    assert items["Limited copy service"].place == "organization"
    assert items["Flood web tool"].url == gpserver.services_url + "/Demo/WebTool/GPServer"


def test_portal_discovery_lists_helpers_and_web_tools(gpserver: Any) -> None:
    """Signed in: the helper services and every visible web tool, each noting its item."""
    found = {s.name: s for s in discovery.discover(signed_in(), gpserver.portal_url)}
    assert set(found) == {"tasks", "Demo/Analysis", "Demo/WebTool", "Demo/Limited"}
    assert "Secure/Analysis" not in found  # shared with a group the user is not in
    assert found["Demo/WebTool"].extra[PORTAL_ITEM_KEY]["group"] == "Hydrology team"
    assert PORTAL_ITEM_KEY not in found["tasks"].extra  # a helper service only
    assert {t.name for t in found["Demo/WebTool"].tasks} == {"BufferFeatures"}
    cached = ServiceDescription.from_json(found["Demo/WebTool"].to_json(),
                                          url=found["Demo/WebTool"].url)
    assert cached.extra[PORTAL_ITEM_KEY]["place"] == "group"


def test_search_is_read_page_by_page(gpserver: Any) -> None:
    """With pages of one item, every item still comes (nextStart followed)."""
    items = portal_gp_items(signed_in(), gpserver.portal_url, page=1)
    assert len(items) == 3


def test_a_portal_whose_search_fails_still_lists_its_helpers(gpserver: Any,
                                                             gpserver_faults: Any) -> None:
    """A broken search is logged; the helper services remain."""
    gpserver_faults.add(r"/sharing/rest/search", "status5xx", count=None, code=500)
    found = {s.name for s in discovery.discover(signed_in(), gpserver.portal_url)}
    assert found == {"tasks", "Demo/Analysis"}


def test_item_json_keeps_what_grouping_needs() -> None:
    """The note kept with the service: id, title, owner, place, group."""
    item = PortalItem("i1", "Tool", "https://h/arcgis/rest/services/T/GPServer", "me", "mine")
    assert item.to_json() == {"id": "i1", "title": "Tool", "owner": "me", "place": "mine",
                              "group": ""}
