"""Finding GP services: services directories, folders, GPServer services, tasks, portals."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field, replace
from typing import Optional
from urllib.parse import quote, urlsplit, urlunsplit

from ._util import LOGGER, redact_url
from .client import GPClient
from .errors import (
    AuthError,
    BadDescriptionError,
    BadInputError,
    GPError,
    HTTPError,
    NotJSONError,
    ServerError,
)
from .model import ServiceDescription, TaskDescription
from .names import LOG_SKIPPED_SERVICE
from .urls import service_root, strip_query

ARCGIS_ONLINE_HOSTS = ("arcgis.com",)


@dataclass(frozen=True)
class SkippedService:
    """A service (or one of its tasks, or a folder) listed but not read, and why."""

    url: str
    error: GPError
    kind: str = "service"  # "service", "task" or "folder"

    @property
    def reason(self) -> str:
        """The error's message."""
        return str(self.error)


@dataclass
class Discovery:
    """What :func:`find_services` found: the services read, and the ones skipped."""

    services: list[ServiceDescription] = field(default_factory=list)
    skipped: list[SkippedService] = field(default_factory=list)


def find_services(client: GPClient, url: str) -> Discovery:
    """Every GP service (tasks filled in) reachable from ``url``, and those that were skipped.

    ``url`` may be a services directory (``.../rest/services``, or a server root such as
    ``https://host/arcgis``), a folder, one GPServer service or task, or a portal
    (``.../sharing/rest``, ``https://www.arcgis.com``): then the GPServer helper services of
    ``portals/self`` and the web tools the user may see (:func:`portal_gp_items`). A listed
    service that cannot be read (a secured one without credentials, say), a task whose
    description is broken and a folder that cannot be listed are logged and reported in
    ``skipped``; the others are still read.
    """
    url = _clean(url)
    kind = classify(url)
    found = Discovery()
    if kind in ("service", "task"):
        desc, found.skipped = _service_and_skips(client, url)
        found.services.append(desc)
        return found
    items: dict[str, PortalItem] = {}
    if kind == "portal":
        urls, items = portal_service_urls(client, url)
    else:
        urls = _walk(client, url, found.skipped)
    for svc_url in urls:
        try:
            desc, skipped_tasks = _service_and_skips(client, svc_url)
        except GPError as exc:
            LOGGER.warning(LOG_SKIPPED_SERVICE, redact_url(svc_url), exc)
            found.skipped.append(SkippedService(redact_url(svc_url), exc))
            continue
        found.services.append(with_portal_item(desc, items.get(svc_url)))
        found.skipped.extend(skipped_tasks)
    return found


def discover(client: GPClient, url: str) -> list[ServiceDescription]:
    """Every GP service (tasks filled in) reachable from ``url``; see :func:`find_services`."""
    return find_services(client, url).services


def classify(url: str) -> str:
    """One of "task", "service", "portal", "directory" for a URL."""
    path = urlsplit(url).path.rstrip("/")
    low = path.lower()
    if re.search(r"/gpserver/[^/]+$", low):
        return "task"
    if low.endswith("/gpserver"):
        return "service"
    host = (urlsplit(url).hostname or "").lower()
    if "/sharing/rest" in low or "/sharing" == low[-8:] or (
            any(host == h or host.endswith("." + h) for h in ARCGIS_ONLINE_HOSTS)
            and "/rest/services" not in low):
        return "portal"
    return "directory"


def services_root(url: str) -> str:
    """The ``.../rest/services`` URL of a server root, REST root, directory or folder URL."""
    parts = urlsplit(_clean(url))
    path = parts.path.rstrip("/")
    low = path.lower()
    idx = low.find("/rest/services")
    if idx >= 0:
        path = path[: idx + len("/rest/services")]
    elif low.endswith("/rest"):
        path = path + "/services"
    else:
        path = path + "/rest/services"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def service_urls(client: GPClient, url: str) -> list[str]:
    """The GPServer service URLs in a services directory (all folders) or in one folder."""
    return _walk(client, url, [])


def _walk(client: GPClient, url: str, skipped: list[SkippedService]) -> list[str]:
    """:func:`service_urls`; a sub-folder that cannot be listed goes to ``skipped``."""
    url = _clean(url)
    root = services_root(url)
    start = url if "/rest/services" in urlsplit(url).path.lower() else root
    seen_folders: set[str] = set()
    out: list[str] = []
    queue = [start]
    while queue:
        folder_url = queue.pop(0)
        if folder_url in seen_folders:
            continue
        seen_folders.add(folder_url)
        try:
            body = client.get_json(folder_url)
        except (ServerError, HTTPError, NotJSONError) as exc:
            if folder_url != start:  # one folder of the directory: it alone is lost
                LOGGER.warning("Skipping the folder %s: %s", redact_url(folder_url), exc)
                skipped.append(SkippedService(redact_url(folder_url), exc, kind="folder"))
                continue
            if start == url or isinstance(exc, AuthError):
                raise
            raise _not_a_directory(exc, url, start) from None
        for svc in body.get("services") or []:
            if not isinstance(svc, dict) or str(svc.get("type", "")).lower() != "gpserver":
                continue
            name = str(svc.get("name") or "").strip("/")
            if not name:
                continue
            svc_url = f"{root}/{name}/GPServer"
            if svc_url not in out:
                out.append(svc_url)
        if folder_url == root:
            for folder in body.get("folders") or []:
                if isinstance(folder, str) and folder:
                    queue.append(f"{root}/{folder.strip('/')}")
    return out


def _not_a_directory(exc: GPError, given: str, tried: str) -> GPError:
    """The error ``exc`` (same class and fields) re-worded around the URL the user gave."""
    if isinstance(exc, ServerError):
        answer = f"error {exc.code}" if exc.code is not None else "an error"
        answer += f" ({exc.message})" if exc.message else ""
    elif isinstance(exc, HTTPError):
        answer = f"HTTP {exc.status}"
    else:
        answer = "something that is not ArcGIS JSON"
    text = (f"No ArcGIS services directory found at {redact_url(given)}: this URL does not "
            f"contain /rest/services, so {redact_url(tried)} was tried, and it answered "
            f"{answer}. Check the URL: give a services directory (…/arcgis/rest/services), a "
            "folder in it, one GPServer service (…/GPServer) or a portal (…/sharing/rest).")
    reworded = copy.copy(exc)
    reworded.args = (text,)
    return reworded


def service(client: GPClient, url: str) -> ServiceDescription:
    """The description of a GPServer service with its task descriptions (broken ones left out).

    A task whose description cannot be read is logged and left out; see
    :func:`find_services` to learn which.
    """
    return _service_and_skips(client, url)[0]


def _service_and_skips(client: GPClient, url: str
                       ) -> tuple[ServiceDescription, list[SkippedService]]:
    svc_url = service_root(_clean(url))
    if not svc_url.lower().endswith("/gpserver"):
        raise BadInputError(f"{redact_url(url)} is not a GPServer service URL; it should end "
                            "with /GPServer")
    body = client.get_json(svc_url)
    problem = described_problem(body, "service")
    if problem:
        raise BadDescriptionError(f"The description of the GP service {redact_url(svc_url)} "
                                  f"is broken: {problem}.", url=svc_url)
    desc = ServiceDescription.from_json(body, url=svc_url)
    tasks, skipped = [], []
    for name in desc.task_names:
        task_url = f"{svc_url}/{name}"
        try:
            tasks.append(task(client, task_url))
        except (BadDescriptionError, NotJSONError, HTTPError, ServerError) as exc:
            if isinstance(exc, AuthError) or (isinstance(exc, HTTPError) and exc.status >= 500):
                raise  # the service as a whole is out of reach
            LOGGER.warning("Skipping GP task %s: %s", redact_url(task_url), exc)
            skipped.append(SkippedService(redact_url(task_url), exc, kind="task"))
    return desc.with_tasks(tuple(tasks)), skipped


def task(client: GPClient, url: str) -> TaskDescription:
    """The description of one GP task (BadDescriptionError when it is broken)."""
    task_url = _clean(url)
    body = client.get_json(task_url)
    name = task_url.rstrip("/").rsplit("/", 1)[-1]
    problem = described_problem(body, "task")
    if problem:
        raise BadDescriptionError(f"Task {name} of {redact_url(service_root(task_url))} has a "
                                  f"broken description: {problem}. It is left out.",
                                  url=task_url)
    return TaskDescription.from_json(body, url=task_url)


def described_problem(body: dict, what: str) -> str:
    """What is wrong with a service or task description's shape ('' when nothing is).

    Only the shape the rest of the code relies on is checked: lists where lists go, a
    name and a data type on every parameter, text where text goes.
    """
    texts = ("name", "executionType", "displayName", "description", "helpUrl", "category")
    for key in texts:
        if body.get(key) is not None and not isinstance(body[key], str):
            return f'its "{key}" is {_kind(body[key])}, not text'
    if what == "service":
        tasks = body.get("tasks")
        if tasks is not None and not isinstance(tasks, list):
            return f'its "tasks" is {_kind(tasks)}, not a list'
        return ""
    params = body.get("parameters")
    if params is None:
        return ""
    if not isinstance(params, list):
        return f'its "parameters" is {_kind(params)}, not a list'
    for index, param in enumerate(params, 1):
        if not isinstance(param, dict):
            return f"parameter {index} is {_kind(param)}, not an object"
        name = param.get("name")
        if not isinstance(name, str) or not name.strip():
            return f"parameter {index} has no name"
        data_type = param.get("dataType")
        if not isinstance(data_type, str) or not data_type.strip():
            return f"parameter {name} has no data type"
        for key in ("direction", "parameterType", "displayName", "description", "category"):
            if param.get(key) is not None and not isinstance(param[key], str):
                return f'parameter {name}: its "{key}" is {_kind(param[key])}, not text'
        choices = param.get("choiceList")
        if choices is not None and not isinstance(choices, list):
            return f'parameter {name}: its "choiceList" is {_kind(choices)}, not a list'
    return ""


def _kind(value: object) -> str:
    """How a JSON value is called in a message: 'a number', 'a list'..."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


def portal_rest_url(url: str) -> str:
    """The ``.../sharing/rest`` URL of a portal given by any of its URLs."""
    parts = urlsplit(_clean(url))
    path = parts.path.rstrip("/")
    low = path.lower()
    idx = low.find("/sharing")
    if idx >= 0:
        path = path[:idx] + "/sharing/rest"
    else:
        for suffix in ("/home", "/apps"):
            if low.endswith(suffix):
                path = path[: -len(suffix)]
        path = path + "/sharing/rest"
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))  # _clean: http(s) only


def portal_self(client: GPClient, portal_url: str) -> dict:
    """The ``portals/self`` JSON of a portal or ArcGIS Online."""
    return client.get_json(portal_rest_url(portal_url) + "/portals/self")


def helper_service_urls(portal: dict) -> list[str]:
    """The GPServer service URLs among a portal's ``helperServices`` (analysis and others)."""
    helpers = portal.get("helperServices") or {}
    out: list[str] = []

    def visit(value: object) -> None:
        if isinstance(value, dict):
            url = value.get("url")
            if isinstance(url, str) and re.search(r"/GPServer(/|$)", url, re.IGNORECASE):
                svc = service_root(url)
                if svc not in out:
                    out.append(svc)
            for key, sub in value.items():
                if key != "url" and isinstance(sub, (dict, list)):
                    visit(sub)
        elif isinstance(value, list):
            for item in value:
                visit(item)

    visit(helpers)
    return out


def _clean(url: str) -> str:
    if not isinstance(url, str) or not url.strip():
        raise BadInputError("Give the URL of an ArcGIS server, folder, GP service or portal")
    url = url.strip()
    if not re.match(r"^https?://", url, flags=re.IGNORECASE):
        raise BadInputError(f"{redact_url(url)!r} is not an http(s) URL")
    return strip_query(url)


def arcpy_style_url(url: str) -> Optional[str]:
    """Turn ArcPy's ``http://host/arcgis/services;Folder/Service`` into a GPServer REST URL."""
    if ";" not in url:
        return None
    base, _, name = url.partition(";")
    base = base.rstrip("/")
    if base.lower().endswith("/services") and "/rest/" not in base.lower():
        base = base[: -len("/services")] + "/rest/services"
    return f"{base}/{name.strip('/')}/GPServer"


# ---------------------------------------------------------------- web tools as portal items
PORTAL_ITEM_KEY = "arcgisgp:portalItem"  # in ServiceDescription.extra: the item it came from
GP_ITEM_QUERY = 'type:"Geoprocessing Service"'
SEARCH_PAGE = 100
MAX_SEARCH_PAGES = 50  # 5000 items: a portal answering nextStart forever stops here


@dataclass(frozen=True)
class PortalItem:
    """A "Geoprocessing Service" item: its GPServer URL and where the user finds it.

    ``place`` is "mine" (the user owns it), "group" (shared with a group of theirs, named
    in ``group``), "organization" or "public".
    """

    item_id: str
    title: str
    url: str
    owner: str
    place: str
    group: str = ""

    def to_json(self) -> dict:
        """The item as kept with its service description."""
        return {"id": self.item_id, "title": self.title, "owner": self.owner,
                "place": self.place, "group": self.group}


def portal_service_urls(client: GPClient, url: str) -> tuple[list[str], dict[str, PortalItem]]:
    """A portal's GPServer URLs: helper services first, then its web tool items (by URL)."""
    portal = portal_self(client, url)
    urls = helper_service_urls(portal)
    try:
        items = portal_gp_items(client, url, portal)
    except GPError as exc:  # the helper services are still worth listing
        LOGGER.warning("Could not search %s for web tools: %s", redact_url(url), exc)
        items = []
    by_url: dict[str, PortalItem] = {}
    for item in items:
        by_url.setdefault(item.url, item)
        if item.url not in urls:
            urls.append(item.url)
    return urls, by_url


def portal_gp_items(client: GPClient, portal_url: str, portal: Optional[dict] = None,
                    page: int = SEARCH_PAGE) -> list[PortalItem]:
    """The "Geoprocessing Service" items the signed-in user may see (public ones signed out).

    Found through the portal's ``search``; the groups of ``community/users/<me>`` and their
    content search tell which items come from a group.
    """
    rest = portal_rest_url(portal_url)
    portal = portal if portal is not None else portal_self(client, rest)
    username = str((portal.get("user") or {}).get("username") or "")
    in_group: dict[str, str] = {}
    if username:
        user = client.get_json(f"{rest}/community/users/{quote(username, safe='')}")
        for group in user.get("groups") or []:
            if isinstance(group, dict) and group.get("id"):
                gid = quote(str(group["id"]), safe="")
                for found in _search(client, f"{rest}/content/groups/{gid}/search", page):
                    in_group.setdefault(str(found.get("id")), str(group.get("title") or gid))
    items: list[PortalItem] = []
    for found in _search(client, f"{rest}/search", page):
        url = found.get("url")
        if not isinstance(url, str) or not re.search(r"/GPServer(/|$)", url, re.IGNORECASE):
            continue
        item_id = str(found.get("id") or "")
        owner = str(found.get("owner") or "")
        if username and owner == username:
            place = "mine"
        elif item_id in in_group:
            place = "group"
        elif found.get("access") == "public":
            place = "public"
        else:
            place = "organization"
        items.append(PortalItem(item_id, str(found.get("title") or item_id), service_root(url),
                                owner, place, in_group.get(item_id, "")))
    return items


def _search(client: GPClient, url: str, page: int) -> list[dict]:
    """Every result of a portal search for GP service items, page by page."""
    out: list[dict] = []
    start = 1
    for _ in range(MAX_SEARCH_PAGES):
        body = client.get_json(url, {"q": GP_ITEM_QUERY, "start": start, "num": page})
        results = [r for r in body.get("results") or [] if isinstance(r, dict)]
        out.extend(results)
        following = body.get("nextStart")
        if not results or not isinstance(following, int) or following <= start:
            break
        start = following
    return out


def with_portal_item(desc: ServiceDescription, item: Optional[PortalItem]) -> ServiceDescription:
    """The description, noting the portal item it was found as (kept in the cache)."""
    if item is None:
        return desc
    return replace(desc, extra={**desc.extra, PORTAL_ITEM_KEY: item.to_json()})
