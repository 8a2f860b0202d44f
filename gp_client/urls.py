"""URL and version helpers: origins, service roots, ArcGIS versions, token endpoints.

Pure functions on strings (no I/O, no other gp_client module), so that every module can
use them without importing the HTTP client. ``origin_of`` is also the provider's notion
of an origin (QgisTransport's auth_origins).
"""

from __future__ import annotations

import re
from typing import Any, Optional
from urllib.parse import urlsplit, urlunsplit


def origin_of(url: str) -> str:
    """Return scheme://host:port of a URL, with the default port made explicit."""
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is None:
        port = {"http": 80, "https": 443}.get(scheme, 0)
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


def strip_query(url: str) -> str:
    """Return the URL without query string, fragment and trailing slashes."""
    parts = urlsplit(url.strip())
    path = parts.path.rstrip("/")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def service_root(url: str) -> str:
    """Return the GPServer service URL for a service, task or job URL (query removed)."""
    clean = url.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    m = re.search(r"/GPServer(?=/|$)", clean, flags=re.IGNORECASE)
    if m:
        return clean[: m.end()]
    return clean


def parse_version(value: Any) -> Optional[float]:
    """Turn currentVersion (10.61, "10.6.1", 11.3) into a comparable float (10.61, 11.3)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip()
    m = re.match(r"^(\d+)(?:\.(\d+))?(?:\.(\d+))?", text)
    if not m:
        return None
    major, minor, patch = m.group(1), m.group(2) or "0", m.group(3)
    if patch is not None:
        return float(f"{major}.{minor}{patch}")
    return float(f"{major}.{minor}")


def portal_sharing_root(url: str) -> Optional[str]:
    """Return ``.../sharing/rest`` of a portal URL (None when the URL is not a portal's)."""
    parts = urlsplit(url)
    idx = parts.path.lower().find("/sharing/rest")
    if idx < 0:
        return None
    base = urlunsplit((parts.scheme, parts.netloc, "", "", ""))
    return base + parts.path[: idx + len("/sharing/rest")]


def server_context(url: str) -> str:
    """Return scheme://host[:port]/<context> of an ArcGIS Server URL (``/arcgis`` by default).

    The context is what comes before ``/rest`` (or ``/tokens``, the token service).
    """
    parts = urlsplit(url)
    low = parts.path.lower().rstrip("/") + "/"
    found = [i for i in (low.find("/rest/"), low.find("/tokens/")) if i >= 0]
    prefix = parts.path[:min(found)] if found else "/arcgis"
    return urlunsplit((parts.scheme, parts.netloc, prefix, "", ""))


def guess_token_url(url: str) -> Optional[str]:
    """ArcGIS Server's usual token endpoint, for servers without a readable /rest/info."""
    parts = urlsplit(url)
    idx = parts.path.lower().find("/rest/")
    if idx < 0:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path[:idx] + "/tokens/generateToken",
                       "", ""))


def same_endpoint(url: str, endpoint: str) -> bool:
    """True when ``url`` is ``endpoint`` itself (query and trailing slash ignored)."""
    return url.rstrip("/").split("?", 1)[0] == endpoint.rstrip("/")
