"""Fault injection: delay, drop the connection, 5xx, an HTML page, or broken JSON."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

KINDS = ("delay", "drop", "status5xx", "html", "broken_json")


@dataclass
class Fault:
    """One armed fault: applies to requests whose path (with query) matches ``pattern``."""

    pattern: re.Pattern[str]
    kind: str
    count: int | None = 1  # None: every matching request
    code: int = 503
    seconds: float = 1.0
    method: str | None = None
    hits: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """Describe the fault (for the control endpoint)."""
        return {
            "path": self.pattern.pattern,
            "kind": self.kind,
            "count": self.count,
            "code": self.code,
            "seconds": self.seconds,
            "method": self.method,
            "hits": self.hits,
        }


class Faults:
    """The faults armed on one server; thread-safe, changeable while it runs."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.history: list[tuple[str, str, str]] = []  # (kind, method, path) of applied faults

    def add(
        self,
        path_regex: str,
        kind: str,
        count: int | None = 1,
        *,
        code: int | None = None,
        seconds: float = 1.0,
        method: str | None = None,
    ) -> Fault:
        """Arm a fault for the next ``count`` requests (None: all) matching ``path_regex``."""
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; use one of {', '.join(KINDS)}")
        if count is not None and count < 1:
            raise ValueError("count must be 1 or more, or None for every request")
        if code is None:
            code = 200 if kind == "html" else 503
        if kind == "status5xx" and not 500 <= code <= 599:
            raise ValueError("status5xx needs a code between 500 and 599")
        fault = Fault(
            re.compile(path_regex), kind, count, code, float(seconds),
            method.upper() if method else None,
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Disarm every fault."""
        with self._lock:
            self._faults.clear()

    def active(self) -> list[Fault]:
        """The armed faults."""
        with self._lock:
            return list(self._faults)

    def take(self, method: str, path: str) -> Fault | None:
        """Return (and use up one count of) the first fault matching this request."""
        with self._lock:
            for fault in self._faults:
                if fault.method and fault.method != method:
                    continue
                if not fault.pattern.search(path):
                    continue
                fault.hits += 1
                if fault.count is not None:
                    fault.count -= 1
                    if fault.count <= 0:
                        self._faults.remove(fault)
                self.history.append((fault.kind, method, path))
                return fault
        return None


def parse_spec(spec: str) -> dict[str, Any]:
    """Parse a CLI fault spec ``kind[,count=N|*][,code=N][,seconds=S][,method=M]@REGEX``."""
    if "@" not in spec:
        raise ValueError(f"fault spec {spec!r} needs '@<path regex>', e.g. 'drop@/submitJob'")
    head, regex = spec.split("@", 1)
    parts = [p.strip() for p in head.split(",") if p.strip()]
    if not parts:
        raise ValueError(f"fault spec {spec!r} has no kind")
    out: dict[str, Any] = {"kind": parts[0], "path_regex": regex}
    for part in parts[1:]:
        key, _, value = part.partition("=")
        if key == "count":
            out["count"] = None if value in ("*", "all") else int(value)
        elif key == "code":
            out["code"] = int(value)
        elif key == "seconds":
            out["seconds"] = float(value)
        elif key == "method":
            out["method"] = value
        else:
            raise ValueError(f"unknown fault option {key!r} in {spec!r}")
    return out
