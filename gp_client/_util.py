"""Private helpers: the package logger, secret redaction, excerpts and names."""

from __future__ import annotations

import logging
import re
from array import array
from collections.abc import Iterable
from itertools import accumulate
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from .names import LOGGER_NAME

#: The one logger of the package.
LOGGER = logging.getLogger(LOGGER_NAME)

# Query or form keys whose values are secrets (compared case-insensitively).
SECRET_KEYS = frozenset(
    {
        "token",
        "password",
        "pass",
        "key",
        "apikey",
        "api_key",
        "access_token",
        "refresh_token",
        "client_secret",
        "code_verifier",
        "x-esri-authorization",
        "authorization",
    }
)

_KEYS_RE = "|".join(sorted((re.escape(k) for k in SECRET_KEYS), key=len, reverse=True))
# token=abc / password=abc in query strings, form bodies and free text
_KV_RE = re.compile(r"(?i)\b(" + _KEYS_RE + r")=([^&\s\"'<>]+)")
# "token": "abc" in JSON text
_JSON_RE = re.compile(r"(?i)(\"(?:" + _KEYS_RE + r")\"\s*:\s*)\"[^\"]*\"")
# Authorization: Bearer abc
_BEARER_RE = re.compile(r"(?i)\b(bearer)\s+[A-Za-z0-9._~+/=-]+")

MASK = "***"


def redact_url(url: str) -> str:
    """Return the URL without user info and without secret query parameters."""
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = netloc.rsplit("@", 1)[1]
    query = parts.query
    if query:
        kept = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True)
                if k.lower() not in SECRET_KEYS]
        query = urlencode(kept)
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask known secrets and anything that looks like a token or password in text."""
    if not text:
        return text
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, MASK)
    text = _KV_RE.sub(lambda m: m.group(1) + "=" + MASK, text)
    text = _JSON_RE.sub(lambda m: m.group(1) + '"' + MASK + '"', text)
    return _BEARER_RE.sub(lambda m: m.group(1) + " " + MASK, text)


def excerpt(body: bytes | str, limit: int = 200) -> str:
    """Return a short single-line excerpt of a response body."""
    if isinstance(body, bytes):
        body = body[: limit * 4].decode("utf-8", errors="replace")
    text = " ".join(body.split())
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def snake_case(name: str) -> str:
    """Turn a published task name (BufferFeatures, Buffer_Features, buffer-2) into snake_case."""
    name = re.sub(r"[^0-9A-Za-z]+", "_", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name)
    name = re.sub(r"([0-9])([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    name = re.sub(r"_+", "_", name).strip("_").lower()
    if not name:
        name = "task"
    if name[0].isdigit():
        name = "task_" + name
    return name


# Deeper than any ArcGIS description or result; Python < 3.14's json stops near 1000 levels.
MAX_JSON_DEPTH = 900
_JSON_STRINGS = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_BRACKET_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")  # +1, +1, -1, -1 as int8


def nests_deeper_than(body: bytes, limit: int) -> bool:
    """True when the JSON text ``body`` opens more than ``limit`` arrays/objects at once.

    Strings are skipped whole (brackets inside them do not count). The scan runs only when
    the body holds that many brackets at all; it is done in C (strings removed by one regular
    expression, brackets turned into +1/-1 and summed up by ``accumulate``): about a quarter of
    the time ``json.loads`` takes on a feature set (0.9 s against 3.6 s on 69 MB).
    """
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    steps = _JSON_STRINGS.sub(b"", body).translate(_BRACKET_STEPS, _NOT_BRACKETS)
    return max(accumulate(array("b", steps)), default=0) > limit
