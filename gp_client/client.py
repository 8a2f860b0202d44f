"""GPClient: JSON requests with authentication, retries and one error hierarchy; files."""

from __future__ import annotations

import contextlib
import json
import mimetypes
import os
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Callable, Optional, TypeVar
from urllib.parse import quote, unquote, urlsplit

from ._util import (
    LOGGER,
    MAX_JSON_DEPTH,
    excerpt,
    nests_deeper_than,
    redact_text,
    redact_url,
)
from .auth import Auth, NoAuth
from .errors import (
    BadInputError,
    CapabilityError,
    GPError,
    HTTPError,
    InvalidTokenError,
    NetworkError,
    NotJSONError,
    ServerError,
    TokenRequiredError,
    error_from_json,
    not_json_error,
)
from .transport import RequestsTransport, Response, Transport
from .urls import parse_version, service_root

_T = TypeVar("_T")

RETRY_STATUSES = frozenset({502, 503, 504})
_PEEK = 64 * 1024  # bytes of a streamed JSON answer looked at for HTML and error bodies
_ERROR_BODY_MAX = 1 << 20  # an ArcGIS error body is small: read whole up to this size


class GPClient:
    """Talks JSON to ArcGIS REST endpoints.

    - every request has a timeout (``timeout`` seconds; ``execute_timeout`` for execute);
    - GET requests are retried ``retries`` times with exponential backoff on network errors
      and HTTP 502/503/504; POST requests (submitJob, execute, uploads) are never repeated,
      except for one retry after the server rejected the token (498/499), which means the
      request was not acted on;
    - an ArcGIS error body becomes a :class:`ServerError` (or an :class:`AuthError`), HTML or
      other text a :class:`NotJSONError`, other HTTP errors an :class:`HTTPError`.
    """

    def __init__(self, *, transport: Optional[Transport] = None, auth: Optional[Auth] = None,
                 timeout: float = 60.0, retries: int = 3, backoff: float = 0.25,
                 execute_timeout: Optional[float] = None,
                 patience: Optional[float] = None) -> None:
        self.transport = transport if transport is not None else RequestsTransport()
        self.auth = auth if auth is not None else NoAuth()
        self.timeout = float(timeout)
        self.execute_timeout = float(execute_timeout) if execute_timeout else max(
            self.timeout, 600.0)
        #: seconds a job's wait and result fetches keep trying through an outage (None:
        #: gp_client.patience.PATIENCE); each Job takes it when it is made
        self.patience = patience
        self.retries = max(0, int(retries))
        self.backoff = float(backoff)
        self._versions: dict[str, Optional[float]] = {}
        self._services: dict[str, dict] = {}
        self._token_source = _TokenRequests(self)

    def __repr__(self) -> str:
        """Show the auth strategy (which hides its secrets) and the settings."""
        return (f"GPClient(auth={self.auth!r}, timeout={self.timeout:g}, "
                f"retries={self.retries})")

    # -- JSON --------------------------------------------------------------------------

    def get_json(self, url: str, params: Optional[dict] = None) -> dict:
        """GET ``url`` with ``f=json`` and return the JSON object (retried on transient errors)."""
        return self.call_json("GET", url, params=params)

    def post_json(self, url: str, data: Optional[dict] = None,
                  files: Optional[dict] = None) -> dict:
        """POST a form (or multipart with ``files``) with ``f=json``; never silently repeated."""
        return self.call_json("POST", url, data=data, files=files)

    def call_json(self, method: str, url: str, *, params: Optional[dict] = None,
                  data: Optional[dict] = None, files: Optional[dict] = None,
                  authenticate: bool = True, retry: Optional[bool] = None,
                  timeout: Optional[float] = None, headers: Optional[dict] = None,
                  deadline: Optional[float] = None) -> dict:
        """Send one JSON request; ``retry`` defaults to True for GET and False otherwise.

        ``headers`` are sent as well (the auth strategy's win over them). ``deadline``:
        seconds the whole exchange may take (``timeout`` bounds each silence).
        """
        method = method.upper()
        retry = (method == "GET") if retry is None else retry
        params = dict(params or {})
        data = dict(data) if data is not None else None
        if method == "GET" or data is None:
            params.setdefault("f", "json")
        else:
            data.setdefault("f", "json")

        def once(signed: dict) -> dict:
            sent_at = time.gmtime()
            resp = self._send(method, url, params=params or None, data=data, files=files,
                              headers={**(headers or {}), **signed}, timeout=timeout,
                              retry=retry, deadline=deadline)
            try:
                return self._parse_json(resp, url)
            except (NotJSONError, HTTPError) as exc:
                if method == "GET" or retry or (isinstance(exc, HTTPError) and exc.status < 500):
                    raise
                # a gateway's error page or a garbled answer: the server may have acted on it
                said = str(exc).replace(_status_hint(getattr(exc, "status", 0)), "")
                exc.args = (f"{said} {_fate(method, url, None, sent_at)}",)
                raise

        def attempt(signed: dict) -> dict:
            return self._reread(retry, url, lambda: once(signed))

        return self._signed(method, url, attempt, authenticate=authenticate, files=files)

    def get_json_to_file(self, url: str, path: str | os.PathLike,
                         params: Optional[dict] = None) -> Path:
        """GET ``url`` with ``f=json``, streaming the answer into ``path``; return the path.

        For big answers (feature-set results): the body never sits in memory. The checks
        are those of :meth:`get_json`, made on the first and last bytes of the file: an
        ArcGIS error body raises its :class:`ServerError` / :class:`AuthError` (a rejected
        token is renewed and the request repeated once), HTML or other text a
        :class:`NotJSONError`, an answer that stops before its JSON ends (cut short) a
        :class:`NotJSONError` too. It is retried like any GET. The file holds the JSON as
        the server sent it; whether it is valid throughout is for its reader to find.
        """
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        query = dict(params or {})
        query.setdefault("f", "json")

        def once(headers: dict) -> Path:
            resp = self._send("GET", url, params=query, headers=headers, retry=True,
                              stream_to=str(target))
            self._check_json_file(resp, url, target)
            return target

        def attempt(headers: dict) -> Path:
            return self._reread(True, url, lambda: once(headers))

        try:
            return self._signed("GET", url, attempt)
        except BaseException:
            with contextlib.suppress(OSError):
                target.unlink()
            raise

    # -- files -------------------------------------------------------------------------

    def download(self, url: str, folder: str | os.PathLike, filename: Optional[str] = None
                 ) -> Path:
        """Stream ``url`` into ``folder`` under a safe, new file name; return the path.

        The name is ``filename`` if given, else the server's Content-Disposition name, else
        the last part of the URL, cleaned of directories and odd characters. An existing
        file is never overwritten: ``name_1.ext``, ``name_2.ext``... are used instead.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        part = folder / f".gp_client-{uuid.uuid4().hex}.part"

        def attempt(headers: dict) -> Response:
            resp = self._send("GET", url, headers=headers, retry=True, stream_to=str(part))
            self._check_download(resp, url, part)
            return resp

        try:
            # discover=False: a result file on a host not met before gets no credentials
            resp = self._signed("GET", url, attempt, discover=False)
            name = safe_filename(filename or _disposition_name(resp) or _url_name(url))
            target = _reserve(folder, name)
            os.replace(part, target)
            LOGGER.debug("Downloaded %s to %s", redact_url(url), target)
            return target
        finally:
            with contextlib.suppress(OSError):
                part.unlink()

    def upload(self, service_url: str, path: str | os.PathLike,
               description: Optional[str] = None) -> str:
        """Upload a local file to the service (``uploads/upload``) and return its itemID."""
        p = Path(path)
        if not p.is_file():
            raise BadInputError(f"Cannot upload {str(p)!r}: no such file. Give the path of an "
                                "existing file.")
        svc = service_root(service_url)
        info = self.service_json(svc)
        caps = [c.strip().lower() for c in str(info.get("capabilities") or "").split(",")]
        if "uploads" not in caps:
            raise CapabilityError(
                f"The service {redact_url(svc)} does not allow uploads (capabilities: "
                f"{info.get('capabilities') or 'none'}). Pass the file by URL instead, or ask "
                "the server administrator to enable uploads.", url=svc)
        ctype = mimetypes.guess_type(p.name)[0] or "application/octet-stream"
        data = {"f": "json"}
        if description:
            data["description"] = description
        with p.open("rb") as fh:
            body = self.call_json("POST", svc + "/uploads/upload", data=data,
                                  files={"file": (p.name, fh, ctype)},
                                  timeout=max(self.timeout, 300.0))
        item = body.get("item") or {}
        item_id = item.get("itemID") or item.get("itemId")
        if not body.get("success", True) or not item_id:
            raise ServerError(f"Upload to {redact_url(svc)} returned no item ID: "
                              f"{excerpt(json.dumps(body))}", url=svc)
        LOGGER.debug("Uploaded %s as item %s", p.name, item_id)
        return str(item_id)

    def delete_upload(self, service_url: str, item_id: str) -> None:
        """Delete an uploaded item (``uploads/<itemID>/delete``) once no job needs it."""
        svc = service_root(service_url)
        body = self.call_json("POST", f"{svc}/uploads/{quote(str(item_id), safe='')}/delete",
                              data={"f": "json"})
        if body.get("success") is False:
            raise ServerError(f"The server did not delete the uploaded item {item_id} at "
                              f"{redact_url(svc)}: {excerpt(json.dumps(body))}", url=svc)
        LOGGER.debug("Deleted uploaded item %s", item_id)

    # -- service facts -----------------------------------------------------------------

    def service_json(self, service_url: str) -> dict:
        """The service's JSON description (cached for the life of the client)."""
        svc = service_root(service_url)
        if svc not in self._services:
            self._services[svc] = self.get_json(svc)
        return self._services[svc]

    def service_version(self, url: str) -> Optional[float]:
        """The ``currentVersion`` of the service that ``url`` belongs to (None if unknown)."""
        svc = service_root(url)
        if svc not in self._versions:
            try:
                ver = self.service_json(svc).get("currentVersion")
            except GPError as exc:
                LOGGER.debug("No version for %s: %s", redact_url(svc), exc)
                ver = None
            self._versions[svc] = parse_version(ver)
        return self._versions[svc]

    def secrets(self) -> tuple[str, ...]:
        """The secrets of the auth strategy (masked in every error this client raises)."""
        try:
            return tuple(s for s in self.auth.secrets() if s)
        except Exception:  # noqa: BLE001 - a broken auth object must not hide the real error
            return ()

    # -- internals ---------------------------------------------------------------------

    def _signed(self, method: str, url: str, attempt: Callable[[dict], _T], *,
                authenticate: bool = True, discover: bool = True,
                files: Optional[dict] = None) -> _T:
        """Run ``attempt(headers)`` with the auth strategy's headers; after a 498/499, once more.

        A 498 (invalid token) or 499 (token required) refusal means the server did not act
        on the request, so even a POST may be sent again, once, after the strategy renewed
        its token. Every other error, and a second refusal, is raised (secrets masked).
        """
        with self._scrubbing():
            for n in (0, 1):
                headers = (dict(self.auth.headers_for(self._token_source, method, url,
                                                      discover=discover))
                           if authenticate else {})
                try:
                    return attempt(headers)
                except (InvalidTokenError, TokenRequiredError) as exc:
                    if n == 0 and authenticate and self.auth.on_auth_error(
                            self._token_source, url, exc, discover=discover):
                        LOGGER.debug("Retrying %s once after %s", redact_url(url), exc.code)
                        _rewind(files)
                        continue
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _reread(self, retry: bool, url: str, once: Callable[[], _T]) -> _T:
        """``once()``, asked again (with backoff) while its JSON answer arrives broken.

        An answer that began as JSON and was cut short or garbled on the way is worth asking
        for again, as a network error is; an HTML page from the start (a sign-in page, an
        error page) is not.
        """
        tries = 1 + (self.retries if retry else 0)
        for i in range(tries):
            try:
                return once()
            except NotJSONError as exc:
                if not exc.broken or i + 1 >= tries:
                    raise
                delay = self._delay(i)
                LOGGER.debug("Broken JSON from %s (%s); retry %d/%d in %.2f s",
                             redact_url(url), exc, i + 1, tries - 1, delay)
                time.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(self, method: str, url: str, *, params: Optional[dict] = None,
              data: Optional[dict] = None, files: Optional[dict] = None,
              headers: Optional[dict] = None, timeout: Optional[float] = None,
              retry: bool = False, stream_to: Optional[str] = None,
              deadline: Optional[float] = None) -> Response:
        attempts = 1 + (self.retries if retry else 0)
        timeout = float(timeout) if timeout else self.timeout
        extra = {"deadline": float(deadline)} if deadline else {}
        for i in range(attempts):
            start = time.monotonic()
            sent_at = time.gmtime()
            try:
                resp = self.transport.send(method, url, params=params, data=data, files=files,
                                           headers=headers, timeout=timeout,
                                           stream_to=stream_to, **extra)
            except NetworkError as exc:
                ms = (time.monotonic() - start) * 1000
                if i + 1 < attempts:
                    delay = self._delay(i)
                    LOGGER.debug("%s %s failed after %.0f ms (%s); retry %d/%d in %.2f s",
                                 method, redact_url(url), ms, exc, i + 1, attempts - 1, delay)
                    time.sleep(delay)
                    continue
                if attempts > 1:
                    raise NetworkError(f"{exc} Gave up after {attempts} attempts.",
                                       url=url, timeout=exc.timeout, sent=exc.sent) from None
                if method != "GET":
                    raise NetworkError(f"{exc} {_fate(method, url, exc.sent, sent_at)}",
                                       url=url, timeout=exc.timeout, sent=exc.sent) from None
                raise
            ms = (time.monotonic() - start) * 1000
            LOGGER.debug("%s %s -> %d (%.0f ms, %d bytes)", method,
                         _loggable(url, params), resp.status, ms, len(resp.body))
            if resp.status in RETRY_STATUSES and i + 1 < attempts:
                delay = max(self._delay(i), _retry_after(resp))
                LOGGER.debug("HTTP %d from %s; retry %d/%d in %.2f s", resp.status,
                             redact_url(url), i + 1, attempts - 1, delay)
                time.sleep(delay)
                continue
            return resp
        raise AssertionError("unreachable")  # pragma: no cover

    def _delay(self, attempt: int) -> float:
        return min(8.0, self.backoff * (2 ** attempt))

    def _parse_json(self, resp: Response, url: str) -> dict:
        body = resp.body
        try:
            if nests_deeper_than(body, MAX_JSON_DEPTH):
                # Python < 3.14's json gives up (RecursionError) near 1000 levels, 3.14's
                # reads far deeper: one limit of our own, whatever the Python.
                raise RecursionError
            obj = json.loads(body.decode("utf-8-sig")) if body.strip() else None
        except (ValueError, UnicodeDecodeError) as exc:
            obj = None
            bad = str(exc).split(":")[0]
        except RecursionError:
            raise NotJSONError(
                f"The answer from {redact_url(url)} nests its JSON too deep to be read (more than "
                f"{MAX_JSON_DEPTH} levels, {len(body)} bytes): no ArcGIS description or result "
                "does that, so the server, or something between it and you, sent a broken "
                "answer.", url=url, excerpt=excerpt(body)) from None
        else:
            bad = "" if obj is not None else "empty body"
        err = error_from_json(obj, url)
        if err is not None:
            raise err
        if resp.status in (498, 499):
            cls = InvalidTokenError if resp.status == 498 else TokenRequiredError
            raise cls(f"HTTP {resp.status} from {redact_url(url)}: the token was "
                      f"{'rejected' if resp.status == 498 else 'missing'}. Check the "
                      "credentials.", code=resp.status, url=url)
        if resp.status >= 400:
            raise HTTPError(
                f"HTTP {resp.status} from {redact_url(url)}: {excerpt(body) or 'no body'!r}."
                f"{_status_hint(resp.status)}", status=resp.status, url=url,
                excerpt=excerpt(body))
        if obj is None:
            raise not_json_error(body, url, resp.status, resp.content_type, bad)
        if not isinstance(obj, dict):
            raise NotJSONError(
                f"Expected a JSON object from {redact_url(url)} but got "
                f"{type(obj).__name__}: {excerpt(body)!r}.", url=url, excerpt=excerpt(body))
        return obj

    def _check_json_file(self, resp: Response, url: str, path: Path) -> None:
        """Raise what :meth:`_parse_json` would for the body streamed into ``path``."""
        size = path.stat().st_size if path.exists() else 0
        with path.open("rb") as fh:
            head = fh.read(_PEEK)
            if size > _PEEK:
                fh.seek(max(0, size - 64))
            tail = fh.read() if size > _PEEK else head
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if start.startswith(b"{") and re.match(rb'\{\s*"error"\s*:', start) \
                and size <= _ERROR_BODY_MAX:
            head = path.read_bytes()  # an error body: small, parse it whole
            start = head
        if resp.status >= 400 or resp.status in (498, 499) or not start.startswith(b"{") \
                or re.match(rb'\{\s*"error"\s*:', start):
            self._parse_json(Response(resp.status, resp.headers, head, resp.url), url)
            if not start.startswith(b"{"):  # a JSON array or scalar where an object belongs
                raise NotJSONError(
                    f"Expected a JSON object from {redact_url(url)} but got "
                    f"{excerpt(head)!r}.", url=url, excerpt=excerpt(head))
        if not tail.rstrip(b" \t\r\n").endswith(b"}"):
            raise NotJSONError(
                f"The answer from {redact_url(url)} stops before its JSON ends ({size} bytes, "
                f"ending {excerpt(tail[-40:])!r}): it was cut short on the way. Try again; if "
                "it keeps happening, the server or a proxy limits the size of answers.",
                url=url, excerpt=excerpt(tail[-200:]), broken=True)

    def _check_download(self, resp: Response, url: str, part: Path) -> None:
        head = b""
        with contextlib.suppress(OSError), part.open("rb") as fh:
            head = fh.read(64 * 1024)
        if resp.status >= 400 or resp.status in (498, 499):
            probe = Response(resp.status, resp.headers, head, resp.url)
            self._parse_json(probe, url)  # raises the matching error
            raise HTTPError(f"HTTP {resp.status} from {redact_url(url)}", status=resp.status,
                            url=url)
        ctype = resp.content_type.lower()
        if "html" in ctype and not re.search(r"\.x?html?$", urlsplit(url).path, re.IGNORECASE):
            # ArcGIS answers errors as an HTML page with status 200 when f is not json
            raise not_json_error(head, url, resp.status, resp.content_type,
                                 "the file may not exist, or a login page is in the way",
                                 expected="a file")
        if "json" in ctype and head.lstrip().startswith(b"{") and b'"error"' in head:
            try:
                obj = json.loads(head.decode("utf-8-sig"))
            except ValueError:
                return
            err = error_from_json(obj, url)
            if err is not None:
                raise err

    @contextlib.contextmanager
    def _scrubbing(self) -> Iterator[None]:
        """Mask this client's secrets in any GPError leaving the block."""
        try:
            yield
        except GPError as exc:
            _scrub(exc, self.secrets())
            raise


class _TokenRequests:
    """The client's side of :class:`~.auth.TokenSource`: unsigned requests to token services.

    Strategies get tokens through this object only, never through the client itself, so
    that auth.py does not depend on client.py; the requests still use the client's
    transport, timeouts, retries and error handling.
    """

    def __init__(self, client: GPClient) -> None:
        self._client = client

    def get_json(self, url: str) -> dict:
        """GET ``url`` (f=json) without credentials."""
        return self._client.call_json("GET", url, authenticate=False)

    def post_form(self, url: str, data: dict, referer: Optional[str] = None) -> dict:
        """POST a form to a token endpoint without other credentials (safe to repeat)."""
        return self._client.call_json("POST", url, data=data, authenticate=False, retry=True,
                                      headers={"Referer": referer} if referer else None)


def _scrub(exc: GPError, secrets: tuple[str, ...]) -> None:
    if not secrets:
        return
    exc.args = tuple(redact_text(a, secrets) if isinstance(a, str) else a for a in exc.args)
    for attr in ("message", "excerpt", "url"):
        val = getattr(exc, attr, None)
        if isinstance(val, str):
            setattr(exc, attr, redact_text(val, secrets))
    if isinstance(getattr(exc, "details", None), tuple):
        exc.details = tuple(redact_text(d, secrets) for d in exc.details)


def _rewind(files: Optional[dict]) -> None:
    for spec in (files or {}).values():
        fh = spec[1] if isinstance(spec, tuple) else spec
        with contextlib.suppress(Exception):
            fh.seek(0)


def _fate(method: str, url: str, sent: Optional[bool], when: time.struct_time) -> str:
    """What a failed request that is not repeated means for the user's work."""
    if sent is False:
        return (f"Nothing was sent: no connection to the server could be made, so the {method} "
                "request did not reach it (no task was started). Try again once the server can "
                "be reached.")
    path = urlsplit(url).path.rstrip("/")
    operation = path.rsplit("/", 1)[-1].lower()
    task = path.rsplit("/", 2)[-2] if path.count("/") >= 2 else "?"
    at = time.strftime("%Y-%m-%d %H:%M:%S UTC", when)
    if operation == "submitjob":
        return (f"The request was not repeated: the server may have received it and started a "
                f"job of task {task} (sent at {at}), whose id never came back. Before running "
                "again, look for that job: the server's administrator can list the service's "
                "jobs (ArcGIS Server Manager, or the Administrator Directory's "
                f"services/<service>.GPServer/jobs). Running again may run the task twice.")
    if operation == "execute":
        return (f"The request was not repeated: the server may have received it and may be "
                f"running task {task} now, or have run it (sent at {at}); a synchronous "
                "execute leaves no job to look up, so check what the task writes, or ask the "
                "server's administrator. Running again may run the task twice.")
    if operation == "upload":
        return (f"The upload was not repeated: the server may have stored the file as an "
                f"uploaded item (sent at {at}); it deletes such items after a while. Try "
                "again: no task was started.")
    return (f"The {method} request was not repeated: the server may have received it (sent at "
            f"{at}), and repeating it could do its work twice.")


def _loggable(url: str, params: Optional[dict]) -> str:
    if not params:
        return redact_url(url)
    from urllib.parse import urlencode

    short = {k: (v if len(str(v)) <= 80 else str(v)[:77] + "...") for k, v in params.items()}
    return redact_url(url + ("&" if "?" in url else "?") + urlencode(short))


def _retry_after(resp: Response) -> float:
    value = resp.header("Retry-After")
    try:
        return min(10.0, max(0.0, float(value)))
    except (TypeError, ValueError):
        return 0.0


def _status_hint(status: int) -> str:
    if status == 404:
        return " Check the URL: the resource does not exist."
    if status in (401, 403):
        return " The server refused access: check the credentials."
    if status >= 500:
        return " The server had a problem; try again later."
    return ""


_WINDOWS_RESERVED = {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                     *(f"lpt{i}" for i in range(1, 10))}


def safe_filename(name: str, default: str = "download") -> str:
    """Return a file name with no directory part, no traversal and no odd characters."""
    name = unquote(str(name or ""))
    name = re.split(r"[\\/]", name)[-1]
    name = re.sub(r"[\x00-\x1f\x7f]", "", name)
    name = re.sub(r"[^\w.\- ()+,=@]", "_", name, flags=re.UNICODE)
    name = name.strip(" .")
    if not name or set(name) <= {"_", "."}:
        name = default
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if stem.lower() in _WINDOWS_RESERVED:
        stem = "_" + stem
    if len(ext) > 16:
        stem, ext = name, ""
    stem = stem[: 149 - len(ext)]
    return f"{stem}.{ext}" if ext else stem


def _url_name(url: str) -> str:
    path = urlsplit(url).path.rstrip("/")
    return path.rsplit("/", 1)[-1] if path else ""


def _disposition_name(resp: Optional[Response]) -> str:
    if resp is None:
        return ""
    cd = resp.header("Content-Disposition")
    if not cd:
        return ""
    m = re.search(r"filename\*\s*=\s*[^']*'[^']*'([^;]+)", cd, flags=re.IGNORECASE)
    if m:
        return unquote(m.group(1).strip().strip('"'))
    m = re.search(r'filename\s*=\s*"([^"]*)"', cd, flags=re.IGNORECASE) or re.search(
        r"filename\s*=\s*([^;]+)", cd, flags=re.IGNORECASE)
    return m.group(1).strip() if m else ""


def _reserve(folder: Path, name: str) -> Path:
    """Create (exclusively) a new empty file for ``name`` in folder, adding _1, _2... if taken."""
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem:
        stem, ext = name, ""
    for n in range(0, 10000):
        candidate = name if n == 0 else (f"{stem}_{n}.{ext}" if ext else f"{stem}_{n}")
        path = folder / candidate
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            continue
        os.close(fd)
        return path
    raise GPError(f"Could not find a free file name for {name!r} in {folder}")
