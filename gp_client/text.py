"""HTML to plain text, for task and parameter descriptions (Esri item metadata is HTML)."""

from __future__ import annotations

import html
import re

# Block ends become line breaks; known inline and block tags go; other <text> stays.
_BREAKS = re.compile(r"<\s*(br\s*/?|/p|/div|/li|/h[1-6]|/tr)\s*>", re.IGNORECASE)
_HTML_TAG = re.compile(
    r"</?(a|b|i|u|em|strong|span|div|p|br|font|ul|ol|li|dl|dt|dd|h[1-6]|table|thead|tbody|"
    r"tr|td|th|code|pre|img|hr|sup|sub|blockquote|center|small|big)\b[^<>]*>", re.IGNORECASE)


def html_lines(text: str) -> list[str]:
    """Return the non-empty lines of ``text`` without HTML markup, entities decoded.

    Only real HTML tags are removed: a look-alike such as ``<feature layer>`` in a
    description is text and stays.
    """
    text = _HTML_TAG.sub("", _BREAKS.sub("\n", str(text or "")))
    lines = (" ".join(html.unescape(line).split()) for line in text.splitlines())
    return [line for line in lines if line]
