"""The reference portal's web tool items: search, group content, visibility."""

from __future__ import annotations

import pytest

from tests.gpserver.client import Rest

pytestmark = pytest.mark.timeout(60)

GP = 'type:"Geoprocessing Service"'


@pytest.fixture(scope="module")
def demo(gpserver_url: str) -> Rest:
    """A client signed in to the portal as the demo user."""
    answer = Rest(gpserver_url).post("/portal/sharing/rest/generateToken", {
        "username": "demo", "password": "demo-password", "client": "requestip"})
    return Rest(gpserver_url, token=answer["token"])


def titles(body: dict) -> list[str]:
    """The titles of a search answer's results."""
    return [r["title"] for r in body["results"]]


def test_search_lists_what_the_user_may_see(demo: Rest) -> None:
    """Own, group-shared and organization web tools; not the one shared with others only."""
    body = demo.get("/portal/sharing/rest/search", q=GP, num=100)
    assert sorted(titles(body)) == ["Flood web tool", "Limited copy service", "My buffer tools"]
    assert all(r["type"] == "Geoprocessing Service" and r["url"].endswith("/GPServer")
               for r in body["results"])
    assert body["nextStart"] == -1


def test_search_pages(demo: Rest) -> None:
    """num and start page through the results; nextStart leads on, -1 at the end."""
    first = demo.get("/portal/sharing/rest/search", q=GP, num=2)
    assert (first["total"], len(first["results"]), first["nextStart"]) == (3, 2, 3)
    second = demo.get("/portal/sharing/rest/search", q=GP, num=2, start=first["nextStart"])
    assert len(second["results"]) == 1 and second["nextStart"] == -1
    assert set(titles(first)) | set(titles(second)) == {
        "Flood web tool", "Limited copy service", "My buffer tools"}


def test_signed_out_sees_nothing(gpserver_url: str) -> None:
    """No item is public."""
    body = Rest(gpserver_url).get("/portal/sharing/rest/search", q=GP)
    assert body["total"] == 0 and body["results"] == []


def test_groups_of_the_user_and_their_content(demo: Rest) -> None:
    """community/users/demo names the Hydrology team; its content has the flood tool."""
    user = demo.get("/portal/sharing/rest/community/users/demo")
    assert [g["title"] for g in user["groups"]] == ["Hydrology team"]
    group = user["groups"][0]["id"]
    body = demo.get(f"/portal/sharing/rest/content/groups/{group}/search", q=GP)
    assert titles(body) == ["Flood web tool"]


def test_an_item_the_user_cannot_see_is_refused(demo: Rest) -> None:
    """The board's item answers 403; the user's own answers its description."""
    refused = demo.get("/portal/sharing/rest/content/items/a0000000000000000000000000000004")
    assert refused["error"]["code"] == 403
    own = demo.get("/portal/sharing/rest/content/items/a0000000000000000000000000000001")
    assert own["owner"] == "demo" and own["access"] == "private"
