"""Incremental scanner for big Esri JSON files: the ``features`` arrays are streamed.

The scanner reads the file in chunks and decodes every value with the C-accelerated
``json.JSONDecoder.raw_decode`` except the arrays named ``features``, whose elements are
decoded one at a time.  It descends only into the objects that can hold a feature set
(``featureSet``, ``value``, ``layers``, ``featureCollection``), so peak memory is one chunk
plus one feature, whatever the size of the file.

Leniency (documented in esrijson/README.md): a trailing comma before ``}`` or ``]`` is
accepted and counted in :attr:`JsonStream.trailing_commas`; ``NaN``/``Infinity`` literals
are accepted (Python's json does); anything else that is not JSON, and JSON nested deeper
than Python's recursion limit, raises :class:`EsriJsonSyntaxError` with the line and column.
"""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterator
from typing import Any

from .errors import EsriJsonSyntaxError

CHUNK_CHARS = 1 << 20
DESCEND_KEYS = frozenset({"featureSet", "value", "layers", "featureCollection"})
WHITESPACE = " \t\n\r"

_decoder = json.JSONDecoder()
_raw_decode = _decoder.raw_decode


class JsonStream:
    """One pass over a JSON file, yielding events; see :meth:`events`."""

    def __init__(self, path: str, chunk_chars: int = CHUNK_CHARS) -> None:
        self.path = str(path)
        self.chunk_chars = max(16, int(chunk_chars))
        self.trailing_commas = 0
        self._fh = None
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
        self._buf = ""
        self._pos = 0
        self._base = 0  # absolute character offset of self._buf[0]
        self._eof = False

    # -- buffer management -------------------------------------------------------------

    @property
    def offset(self) -> int:
        """Return the absolute character offset of the scanner in the file."""
        return self._base + self._pos

    def _fill(self, at_least: int = 0) -> bool:
        """Append the next chunk (bigger when one value outgrows the buffer); False at EOF."""
        if self._eof:
            return False
        if self._fh is None:
            self._fh = open(self.path, "rb")  # noqa: SIM115 - closed in close()
        size = max(self.chunk_chars, at_least)
        data = self._fh.read(size)
        try:
            text = self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise EsriJsonSyntaxError(
                f"{self.path} is not UTF-8 text (byte offset about {self._fh.tell()}): {exc}. "
                "Esri JSON must be UTF-8; convert the file and try again."
            ) from None
        if not data:
            self._eof = True
            self.close()
        if self._pos:
            self._base += self._pos
            self._buf = self._buf[self._pos:] + text
            self._pos = 0
        else:
            self._buf += text
        return bool(data) or bool(text)

    def close(self) -> None:
        """Close the file (the scanner cannot continue afterwards)."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None

    def _peek(self) -> str:
        """Skip whitespace and return the next character ('' at the end of the file)."""
        while True:
            buf = self._buf
            pos = self._pos
            n = len(buf)
            while pos < n and buf[pos] in WHITESPACE:
                pos += 1
            self._pos = pos
            if pos < n:
                return buf[pos]
            if not self._fill():
                return ""

    def _expect(self, chars: str, what: str) -> str:
        ch = self._peek()
        if not ch or ch not in chars:
            self._fail(f"expected {what}")
        self._pos += 1
        return ch

    def _fail(self, message: str, offset: int | None = None) -> None:
        offset = self.offset if offset is None else offset
        line, col = self._line_col(offset)
        found = self._buf[self._pos:self._pos + 20] if offset == self.offset else ""
        near = f" near {found!r}" if found else ""
        raise EsriJsonSyntaxError(
            f"{self.path}: not valid JSON at line {line} column {col}: {message}{near}. "
            "Fix the file (it must be an Esri JSON FeatureSet or FeatureCollection)."
        )

    def _line_col(self, offset: int) -> tuple[int, int]:
        """Count lines up to ``offset`` by reading the file again (error path only)."""
        line, col, seen = 1, 1, 0
        dec = codecs.getincrementaldecoder("utf-8-sig")(errors="replace")
        with open(self.path, "rb") as fh:
            while seen < offset:
                text = dec.decode(fh.read(1 << 20))
                if not text:
                    break
                part = text[: offset - seen]
                nl = part.count("\n")
                if nl:
                    line += nl
                    col = len(part) - part.rfind("\n")
                else:
                    col += len(part)
                seen += len(part)
        return line, col

    def _decode_value(self) -> Any:
        """Decode the complete JSON value at the current position."""
        while True:
            try:
                value, end = _raw_decode(self._buf, self._pos)
            except json.JSONDecodeError as exc:
                if self._fix_trailing_comma(exc.pos):
                    continue
                if self._fill(at_least=2 * (len(self._buf) - self._pos)):
                    continue
                self._fail(exc.msg, self._base + exc.pos)
            else:
                self._pos = end
                return value

    def _fix_trailing_comma(self, pos: int) -> bool:
        """Drop a comma that directly precedes ``}``/``]`` at ``pos``; True when done."""
        buf = self._buf
        if pos < len(buf) and buf[pos] == ",":  # Python >= 3.13 reports the comma itself
            pos += 1
            while pos < len(buf) and buf[pos] in WHITESPACE:
                pos += 1
        if pos >= len(buf) or buf[pos] not in "}]":
            return False
        k = pos - 1
        while k >= self._pos and buf[k] in WHITESPACE:
            k -= 1
        if k < self._pos or buf[k] != ",":
            return False
        self._buf = buf[:k] + buf[k + 1:]
        self.trailing_commas += 1
        return True

    def _decode_key(self) -> str:
        if self._peek() != '"':
            self._fail("expected a quoted member name")
        key = self._decode_value()
        self._expect(":", "':' after a member name")
        return key

    # -- structure ---------------------------------------------------------------------

    def events(self) -> Iterator[tuple]:
        """Yield ``("value", path, key, value)``, ``("features_begin", path)``,
        ``("feature", path, obj)``, ``("features_end", path)`` and finally ``("end",)``."""
        try:
            yield from self._document()
            return
        except RecursionError:
            pass  # arrays or objects nested thousands deep (Esri JSON nests about 6)
        finally:
            self.close()
        # raised here, out of the except clause, so that no RecursionError is chained to it
        self._fail("arrays or objects are nested too deep to be Esri JSON")

    def _document(self) -> Iterator[tuple]:
        ch = self._peek()
        if ch != "{":
            if not ch:
                self._fail("the file is empty")
            self._fail("expected '{': an Esri JSON feature set is a JSON object")
        yield from self._object(())
        if self._peek():
            self._fail("unexpected data after the end of the JSON object")
        yield ("end",)

    def _object(self, path: tuple) -> Iterator[tuple]:
        self._pos += 1  # '{'
        first = True
        while True:
            ch = self._peek()
            if ch == "}":
                self._pos += 1
                return
            if not first:
                if ch != ",":
                    self._fail("expected ',' or '}' in an object")
                self._pos += 1
                if self._peek() == "}":
                    self.trailing_commas += 1
                    self._pos += 1
                    return
            first = False
            key = self._decode_key()
            ch = self._peek()
            if key == "features" and ch == "[":
                yield from self._features(path)
            elif key in DESCEND_KEYS and ch == "{":
                yield from self._object(path + (key,))
            elif key in DESCEND_KEYS and ch == "[":
                yield from self._array_of_objects(path + (key,))
            else:
                yield ("value", path, key, self._decode_value())

    def _array_of_objects(self, path: tuple) -> Iterator[tuple]:
        self._pos += 1  # '['
        index = 0
        while True:
            ch = self._peek()
            if ch == "]":
                self._pos += 1
                return
            if index:
                if ch != ",":
                    self._fail("expected ',' or ']' in an array")
                self._pos += 1
                ch = self._peek()
                if ch == "]":
                    self.trailing_commas += 1
                    self._pos += 1
                    return
            if ch == "{":
                yield from self._object(path + (index,))
            else:
                yield ("value", path, index, self._decode_value())
            index += 1

    def _features(self, path: tuple) -> Iterator[tuple]:
        self._pos += 1  # '['
        yield ("features_begin", path)
        raw = _raw_decode
        count = 0
        expect_sep = False
        while True:
            # Fast path for the common ',{' between two features, without _peek().
            buf = self._buf
            pos = self._pos
            if expect_sep and pos < len(buf) and buf[pos] == ",":
                pos += 1
                self._pos = pos
                expect_sep = False
                if pos < len(buf) and buf[pos] == "{":
                    try:
                        obj, end = raw(buf, pos)
                    except json.JSONDecodeError:
                        pass  # incomplete in this chunk (or not JSON): the slow path decides
                    else:
                        self._pos = end
                        count += 1
                        expect_sep = True
                        yield ("feature", path, obj)
                        continue
            ch = self._peek()
            if ch == "]":
                if count and not expect_sep:
                    self.trailing_commas += 1
                self._pos += 1
                yield ("features_end", path)
                return
            if expect_sep:
                if not ch:
                    self._fail("the file ends inside the features array")
                if ch != ",":
                    self._fail("expected ',' or ']' between features")
                self._pos += 1
                expect_sep = False
                continue
            if not ch:
                self._fail("the file ends inside the features array")
            obj = self._decode_value()
            count += 1
            expect_sep = True
            yield ("feature", path, obj)
