"""``RemoteGPServer``: the reference server in a child process, with the GPServer interface.

Run-time faults and token expiry go through the ``/_control`` endpoints of the child.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.parse
import urllib.request
from typing import Any

from tests.paths import REPO_ROOT

from .urls import ServerUrls


def _post(url: str, data: dict[str, Any]) -> dict[str, Any]:
    body = urllib.parse.urlencode({**data, "f": "json"}).encode()
    with urllib.request.urlopen(url, body, timeout=10) as resp:  # noqa: S310 - loopback
        return json.loads(resp.read())


class RemoteFaults:
    """``srv.faults`` of a server in another process."""

    def __init__(self, url: str) -> None:
        self._url = url + "/_control/faults"

    def add(
        self,
        path_regex: str,
        kind: str,
        count: int | None = 1,
        *,
        code: int | None = None,
        seconds: float = 1.0,
        method: str | None = None,
    ) -> dict[str, Any]:
        """Arm a fault in the child process."""
        data: dict[str, Any] = {
            "path": path_regex, "kind": kind, "count": "*" if count is None else count,
            "seconds": seconds,
        }
        if code is not None:
            data["code"] = code
        if method:
            data["method"] = method
        answer = _post(self._url, data)
        if "error" in answer:
            raise ValueError(answer["error"].get("details") or answer["error"]["message"])
        return answer["faults"][-1]

    def clear(self) -> None:
        """Disarm every fault in the child process."""
        _post(self._url + "/clear", {})

    def active(self) -> list[dict[str, Any]]:
        """The armed faults."""
        return _post(self._url, {})["faults"]


class RemoteGPServer(ServerUrls):
    """Starts ``python -m tests.gpserver`` and offers ``url``, ``faults``, ``stop()``."""

    def __init__(self, *args: str, python: str | None = None) -> None:
        self.args = list(args)
        self.python = python or sys.executable
        self.proc: subprocess.Popen[str] | None = None
        self.url = ""
        self.faults: RemoteFaults | None = None

    def start(self) -> RemoteGPServer:
        """Start the child and read its URL from the first stdout line."""
        env = dict(os.environ)
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        env["PYTHONPATH"] = os.pathsep.join(
            [str(REPO_ROOT), *filter(None, [env.get("PYTHONPATH")])]
        )
        self.proc = subprocess.Popen(
            [self.python, "-m", "tests.gpserver", "--port", "0", *self.args],
            cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the reference server did not start (first line {line!r})")
        self.url = line
        self.faults = RemoteFaults(self.url)
        return self

    def expire_tokens(self) -> None:
        """Expire every token the child issued."""
        _post(self.url + "/_control/tokens/expire", {})

    def stop(self) -> None:
        """SIGTERM the child and wait for it."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        if self.proc.stdout:
            self.proc.stdout.close()
        self.proc = None

    def __enter__(self) -> RemoteGPServer:
        """Start on entering the with block."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop on leaving the with block."""
        self.stop()
