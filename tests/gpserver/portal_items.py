"""Portal items of type "Geoprocessing Service": search, group content search, users.

What the demo user sees, as a portal shows it: one web tool of their own (private), one
shared with a group they belong to ("Hydrology team"), one shared with the organization,
and, owned by someone else and shared with nobody, one they cannot see. A feature service
item is there too, so that a client's type filter matters. Signed out, none is visible
(no item is public).

- ``/portal/sharing/rest/search?q=...&start=1&num=10`` (``type:"..."`` and ``owner:...``
  terms are honoured; ``total``, ``start``, ``num``, ``nextStart`` = -1 after the last page)
- ``/portal/sharing/rest/content/groups/<groupId>/search`` (the same, inside one group)
- ``/portal/sharing/rest/content/items/<itemId>`` (403 when the user may not see it)
- ``/portal/sharing/rest/community/users/<username>`` (with ``groups`` for the user)
"""

from __future__ import annotations

import re
from typing import Any

from .errors import RestError, bad_request
from .httpd import Request, Response

GROUPS = [
    {"id": "9a1f0c7e2b3d4c5e8f60718293a4b5c6", "title": "Hydrology team", "access": "org",
     "members": ("demo", "analyst")},
    {"id": "1b2c3d4e5f60718293a4b5c6d7e8f901", "title": "Board", "access": "private",
     "members": ("admin",)},
]
GP_TYPE = "Geoprocessing Service"


def _items(base_url: str) -> list[dict[str, Any]]:
    services = f"{base_url}/arcgis/rest/services"

    def item(item_id: str, title: str, owner: str, access: str, url: str,
             groups: tuple[str, ...] = (), item_type: str = GP_TYPE) -> dict[str, Any]:
        keywords = ["Web Tool", "Tool", "Service"] if item_type == GP_TYPE else ["Data"]
        return {"id": item_id, "owner": owner, "title": title, "type": item_type,
                "typeKeywords": keywords, "access": access, "url": url,
                "snippet": f"{title} ({owner})", "_groups": groups}

    hydro, board = GROUPS[0]["id"], GROUPS[1]["id"]
    return [
        item("a0000000000000000000000000000001", "My buffer tools", "demo", "private",
             f"{services}/Demo/Analysis/GPServer"),
        item("a0000000000000000000000000000002", "Flood web tool", "analyst", "shared",
             f"{services}/Demo/WebTool/GPServer", (hydro,)),
        item("a0000000000000000000000000000003", "Limited copy service", "analyst", "org",
             f"{services}/Demo/Limited/GPServer"),
        item("a0000000000000000000000000000004", "Board secrets", "admin", "shared",
             f"{services}/Secure/Analysis/GPServer", (board,)),
        item("a0000000000000000000000000000005", "Sample points", "analyst", "org",
             f"{services}/Demo/SamplePoints/FeatureServer", item_type="Feature Service"),
    ]


def _user(gp: Any, req: Request) -> str | None:
    token = req.token
    return gp.tokens.check(token).username if token else None


def _visible(item: dict[str, Any], user: str | None) -> bool:
    if item["access"] == "public":
        return True
    if user is None:
        return False
    if item["owner"] == user or item["access"] == "org":
        return True
    return any(user in g["members"] for g in GROUPS if g["id"] in item["_groups"])


def _matches(item: dict[str, Any], query: str) -> bool:
    for field, quoted, bare in re.findall(r'(\w+):(?:"([^"]*)"|(\S+))', query):
        value = quoted or bare
        if field == "type" and item["type"].lower() != value.lower():
            return False
        if field == "owner" and item["owner"] != value:
            return False
        if field == "id" and item["id"] != value:
            return False
    return True


def _page(req: Request, items: list[dict[str, Any]]) -> dict[str, Any]:
    try:
        start = int(req.get("start") or 1)
        num = int(req.get("num") or 10)
    except ValueError as exc:
        raise bad_request("'start' and 'num' must be integers.") from exc
    num = max(0, min(num, 100))
    chosen = items[start - 1:start - 1 + num]
    after = start + len(chosen)
    return {"query": req.get("q") or "", "total": len(items), "start": start, "num": num,
            "nextStart": after if after <= len(items) else -1,
            "results": [{k: v for k, v in i.items() if not k.startswith("_")}
                        for i in chosen]}


def search(gp: Any, req: Request) -> Response:
    """``search``: the items the caller may see that match ``q``."""
    user = _user(gp, req)
    query = req.get("q") or ""
    found = [i for i in _items(req.base_url) if _visible(i, user) and _matches(i, query)]
    return Response(_page(req, found), title="Search")


def group_search(gp: Any, req: Request, group: str) -> Response:
    """``content/groups/<id>/search``: the group's items the caller may see."""
    user = _user(gp, req)
    known = next((g for g in GROUPS if g["id"] == group), None)
    if known is None or (known["access"] == "private" and user not in known["members"]):
        raise RestError(400, "Group does not exist or is inaccessible.")
    query = req.get("q") or ""
    found = [i for i in _items(req.base_url)
             if group in i["_groups"] and _visible(i, user) and _matches(i, query)]
    return Response(_page(req, found), title="Group search")


def item(gp: Any, req: Request, item_id: str) -> Response:
    """``content/items/<id>``."""
    user = _user(gp, req)
    found = next((i for i in _items(req.base_url) if i["id"] == item_id), None)
    if found is None:
        raise RestError(400, "Item does not exist or is inaccessible.")
    if not _visible(found, user):
        raise RestError(403, "You do not have permissions to access this resource or "
                        "perform this operation.")
    return Response({k: v for k, v in found.items() if not k.startswith("_")}, title="Item")


def community_user(gp: Any, req: Request, username: str) -> Response:
    """``community/users/<username>``: the user; their groups when they ask about themselves."""
    user = _user(gp, req)
    if user is None:
        raise RestError(403, "You do not have permissions to access this resource or "
                        "perform this operation.")
    body: dict[str, Any] = {"username": username, "fullName": username.title()}
    if username == user:
        body["groups"] = [{"id": g["id"], "title": g["title"], "access": g["access"],
                           "owner": g["members"][0]}
                          for g in GROUPS if user in g["members"]]
    return Response(body, title=username)


def routes() -> list[tuple[str, Any]]:
    """(pattern, handler) pairs to add to the router."""
    root = r"/portal/sharing/rest"
    return [
        (root + r"/search", search),
        (root + r"/content/groups/(?P<group>[^/]+)/search", group_search),
        (root + r"/content/items/(?P<item_id>[^/]+)", item),
        (root + r"/community/users/(?P<username>[^/]+)", community_user),
    ]
