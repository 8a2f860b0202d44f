"""A tiny standard-library client for tests of the reference server."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any

TERMINAL = {
    "esriJobSucceeded", "esriJobFailed", "esriJobCancelled", "esriJobTimedOut", "esriJobDeleted"
}


def form_value(value: Any) -> str:
    """Encode a value the way clients put GP values in a form: JSON for non-strings."""
    if isinstance(value, str):
        return value
    return json.dumps(value)


class RawResponse:
    """Status, headers and body of one answer."""

    def __init__(self, status: int, headers: Any, body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body.decode("utf-8"))


class Rest:
    """GET/POST JSON against a server root URL, with an optional token."""

    def __init__(self, base_url: str, token: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    def url(self, path: str) -> str:
        """Absolute URL for a path (absolute URLs pass through)."""
        return path if path.startswith("http") else self.base_url + path

    def _params(self, params: dict[str, Any] | None, f: str | None) -> dict[str, str]:
        out = {k: form_value(v) for k, v in (params or {}).items() if v is not None}
        if f is not None:
            out.setdefault("f", f)
        if self.token and "token" not in out:
            out["token"] = self.token
        return out

    def raw(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        method: str = "GET",
        f: str | None = "json",
        headers: dict[str, str] | None = None,
        files: dict[str, tuple[str, bytes]] | None = None,
    ) -> RawResponse:
        """Send a request; any HTTP status comes back as a RawResponse."""
        data = None
        url = self.url(path)
        form = self._params(params, f)
        hdrs = dict(headers or {})
        if files:
            boundary = "----gpserver" + uuid.uuid4().hex
            data = _multipart(boundary, form, files)
            hdrs["Content-Type"] = f"multipart/form-data; boundary={boundary}"
            method = "POST"
        elif method == "POST":
            data = urllib.parse.urlencode(form).encode()
            hdrs["Content-Type"] = "application/x-www-form-urlencoded"
        elif form:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(form)
        request = urllib.request.Request(url, data=data, headers=hdrs, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # noqa: S310
                return RawResponse(resp.status, resp.headers, resp.read())
        except urllib.error.HTTPError as exc:
            return RawResponse(exc.code, exc.headers, exc.read())

    def get(self, path: str, **params: Any) -> Any:
        """GET with f=json and return the JSON."""
        return self.raw(path, params).json()

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any) -> Any:
        """POST a form with f=json and return the JSON."""
        return self.raw(path, data, method="POST", **kw).json()

    def submit(self, task_url: str, inputs: dict[str, Any], **kw: Any) -> dict[str, Any]:
        """submitJob; return the answer."""
        return self.post(task_url + "/submitJob", inputs, **kw)

    def wait(
        self, task_url: str, job_id: str, until: set[str] | None = None, timeout: float = 30.0
    ) -> dict[str, Any]:
        """Poll the job until its status is in ``until`` (default: terminal)."""
        until = until or TERMINAL
        deadline = time.monotonic() + timeout
        while True:
            status = self.get(f"{task_url}/jobs/{job_id}")
            if status.get("jobStatus") in until or "error" in status:
                return status
            if time.monotonic() > deadline:
                raise TimeoutError(f"job {job_id} still {status.get('jobStatus')}")
            time.sleep(0.02)

    def run(self, task_url: str, inputs: dict[str, Any], timeout: float = 30.0) -> dict[str, Any]:
        """submitJob, wait; return the final status with ``values`` (every result's value)."""
        job = self.submit(task_url, inputs)
        assert "jobId" in job, job
        status = self.wait(task_url, job["jobId"], timeout=timeout)
        values = {}
        for name, ref in (status.get("results") or {}).items():
            values[name] = self.get(f"{task_url}/jobs/{job['jobId']}/{ref['paramUrl']}")["value"]
        status["values"] = values
        return status


def _multipart(boundary: str, form: dict[str, str], files: dict[str, tuple[str, bytes]]) -> bytes:
    lines: list[bytes] = []
    for key, value in form.items():
        lines += [
            f"--{boundary}".encode(),
            f'Content-Disposition: form-data; name="{key}"'.encode(),
            b"",
            value.encode("utf-8"),
        ]
    for key, (filename, payload) in files.items():
        lines += [
            f"--{boundary}".encode(),
            f'Content-Disposition: form-data; name="{key}"; filename="{filename}"'.encode(),
            b"Content-Type: application/octet-stream",
            b"",
            payload,
        ]
    lines += [f"--{boundary}--".encode(), b""]
    return b"\r\n".join(lines)
