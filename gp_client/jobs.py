"""Running tasks: ``execute`` (synchronous), ``submit`` -> :class:`Job` with adaptive polling.

Polling (``Job.wait``) starts quick and slows down as the job runs: the pause before the
next status request is ``first + (ceiling - first) * elapsed / ramp`` seconds, capped at
``ceiling`` (0.1 s at the start, 5 s after one minute by default, which is a geometric
growth of about 8 % per request). A job that ends after 0.5 s is seen within about 0.15 s;
after the first minute there is at most one request every 5 s. When the server reports a
percentage, the next request is moved up to the estimated end of the job (never below a
third of the normal pause, and never after the first minute). Cancellation and the deadline
are checked every 50 ms, also during the pauses.
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional
from urllib.parse import urljoin

from ._util import LOGGER, redact_url
from .client import GPClient
from .errors import (
    AuthError,
    BadInputError,
    DeadlineError,
    GPError,
    JobCancelledError,
    JobDeletedError,
    JobError,
    JobFailedError,
    JobTimedOutError,
    ServerError,
)
from .model import TaskDescription
from .names import ERROR_MESSAGE_TYPES, LOG_JOB_MESSAGE, MSG_ERROR, MSG_INFO, MSG_WARNING
from .patience import PATIENCE, Outage
from .urls import parse_version
from .values import decode, encode, to_form

SUCCEEDED = "esriJobSucceeded"
FAILED = "esriJobFailed"
CANCELLED = "esriJobCancelled"
TIMED_OUT = "esriJobTimedOut"
DELETED = "esriJobDeleted"
TERMINAL = frozenset({SUCCEEDED, FAILED, CANCELLED, TIMED_OUT, DELETED})
RUNNING = frozenset({"esriJobNew", "esriJobSubmitted", "esriJobWaiting", "esriJobExecuting",
                     "esriJobCancelling", "esriJobDeleting"})

CONTEXT_VERSION = 10.61  # `context` replaced env:outSR / env:processSR at 10.6.1
SLICE = 0.05  # seconds between two looks at should_cancel / the deadline


@dataclass(frozen=True)
class Message:
    """A job message: its esri type and text."""

    type: str
    description: str

    @classmethod
    def from_json(cls, d: Any) -> Message:
        """Parse ``{"type", "description"}`` (a bare string is an informative message)."""
        if isinstance(d, dict):
            return cls(str(d.get("type") or MSG_INFO), str(d.get("description") or ""))
        return cls(MSG_INFO, str(d))

    def to_json(self) -> dict:
        """The wire form."""
        return {"type": self.type, "description": self.description}

    @property
    def is_error(self) -> bool:
        """True for error and abort messages."""
        return self.type in ERROR_MESSAGE_TYPES

    @property
    def is_warning(self) -> bool:
        """True for warnings."""
        return self.type == MSG_WARNING

    @property
    def level(self) -> int:
        """The matching ``logging`` level."""
        if self.is_error:
            return logging.ERROR
        return logging.WARNING if self.is_warning else logging.INFO

    def __str__(self) -> str:
        """The text, prefixed for warnings and errors."""
        if self.is_error:
            return "ERROR: " + self.description
        if self.is_warning:
            return "WARNING: " + self.description
        return self.description


@dataclass(frozen=True)
class Progress:
    """The server's progress block: a percentage when it knows one, and a message."""

    percent: Optional[float]
    message: Optional[str]
    raw: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_json(cls, d: Any) -> Optional[Progress]:
        """Parse ``{"type", "message", "percent"}`` (None when there is no progress)."""
        if not isinstance(d, dict):
            return None
        pct = d.get("percent", d.get("percentComplete"))
        try:
            percent = float(pct) if pct is not None else None
        except (TypeError, ValueError):
            percent = None
        msg = d.get("message")
        return cls(percent, str(msg) if msg is not None else None, dict(d))


@dataclass(frozen=True)
class JobStatus:
    """One answer of the job resource."""

    job_id: str
    status: str
    messages: tuple[Message, ...] = ()
    progress: Optional[Progress] = None
    results: dict = field(default_factory=dict)
    inputs: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict, compare=False)

    @classmethod
    def from_json(cls, d: dict, job_id: str = "") -> JobStatus:
        """Parse a job status (or submitJob / cancel answer)."""
        if not isinstance(d, dict):
            raise GPError(f"A job status must be a JSON object, not {type(d).__name__}")
        msgs = d.get("messages") or []
        return cls(
            job_id=str(d.get("jobId") or job_id),
            status=str(d.get("jobStatus") or ""),
            messages=tuple(Message.from_json(m) for m in msgs if m is not None),
            progress=Progress.from_json(d.get("progress")),
            results=dict(d.get("results") or {}),
            inputs=dict(d.get("inputs") or {}),
            raw=d,
        )

    @property
    def is_terminal(self) -> bool:
        """True once the job has ended (succeeded, failed, cancelled, timed out, deleted)."""
        return self.status in TERMINAL

    @property
    def succeeded(self) -> bool:
        """True when the job succeeded."""
        return self.status == SUCCEEDED


@dataclass(frozen=True)
class ExecuteResult:
    """What a finished run gives: decoded outputs by name, the server's messages, raw JSON."""

    outputs: dict
    messages: tuple[Message, ...] = ()
    raw: dict = field(default_factory=dict, compare=False)
    job_id: Optional[str] = None

    def __getitem__(self, name: str) -> Any:
        """``result["Output"]`` is ``result.outputs["Output"]``."""
        return self.outputs[name]


@dataclass(frozen=True)
class Context:
    """The processing context: output and processing spatial references, processing extent."""

    out_sr: Any = None
    process_sr: Any = None
    extent: Any = None

    def to_params(self, version: Optional[float]) -> dict:
        """Form fields: ``context`` for 10.6.1 and later (or unknown), ``env:*`` before."""
        out_sr = encode("GPSpatialReference", self.out_sr) if self.out_sr is not None else None
        proc_sr = (encode("GPSpatialReference", self.process_sr)
                   if self.process_sr is not None else None)
        extent = encode("GPExtent", self.extent) if self.extent is not None else None
        if version is not None and version < CONTEXT_VERSION:
            params = {}
            if out_sr is not None:
                params["env:outSR"] = _env_sr(out_sr)
            if proc_sr is not None:
                params["env:processSR"] = _env_sr(proc_sr)
            if extent is not None:
                LOGGER.warning("The server (version %s) predates the processing extent; "
                               "it is not sent", version)
            return params
        ctx = {}
        if out_sr is not None:
            ctx["outSR"] = out_sr
        if proc_sr is not None:
            ctx["processSR"] = proc_sr
        if extent is not None:
            ctx["extent"] = extent
        return {"context": to_form(ctx)} if ctx else {}


def _env_sr(sr: dict) -> str:
    if set(sr) <= {"wkid", "latestWkid"} and "wkid" in sr:
        return str(sr["wkid"])
    return to_form(sr)


@dataclass
class PollSchedule:
    """How long to pause between status requests (see the module docstring)."""

    first: float = 0.1
    ceiling: float = 5.0
    ramp: float = 60.0

    def delay(self, elapsed: float, eta: Optional[float] = None) -> float:
        """The pause before the next request, ``elapsed`` seconds into the wait."""
        base = min(self.ceiling,
                   self.first + (self.ceiling - self.first) * max(0.0, elapsed) / self.ramp)
        if eta is not None and elapsed < self.ramp and 0.0 <= eta < base:
            return max(eta + 0.02, base / 3.0, self.first)
        return base


def encode_inputs(inputs: Mapping[str, Any], task: Optional[TaskDescription] = None
                  ) -> dict[str, str]:
    """Encode input values to form fields, by the task's data types when it is known."""
    if not isinstance(inputs, Mapping):
        raise BadInputError(f"inputs must be a dict of parameter name -> value, not "
                            f"{type(inputs).__name__}")
    out: dict[str, str] = {}
    params = {p.name: p for p in task.parameters} if task is not None else {}
    for name, value in inputs.items():
        if value is None:
            continue
        if task is not None:
            p = params.get(name)
            if p is None:
                valid = ", ".join(q.name for q in task.inputs) or "none"
                raise BadInputError(f"Task {task.name!r} has no parameter {name!r}. "
                                    f"Its inputs are: {valid}.")
            if p.is_output:
                raise BadInputError(f"{name!r} is an output of task {task.name!r}; "
                                    "give only inputs.")
            try:
                value = encode(p.data_type or "", value)
            except BadInputError as exc:
                raise BadInputError(f"Parameter {name!r} of task {task.name!r}: {exc}") from None
        out[str(name)] = to_form(value)
    return out


def _run_params(client: GPClient, task_url: str, inputs: Mapping[str, Any], *,
                context: Optional[Context], current_version: Any, return_z: bool,
                return_m: bool, task: Optional[TaskDescription]) -> dict:
    data = encode_inputs(inputs, task)
    if context is not None:
        if not isinstance(context, Context):
            raise BadInputError("context must be a gp_client.jobs.Context")
        version = parse_version(current_version)
        if version is None:
            version = client.service_version(task_url)
        data.update(context.to_params(version))
    if return_z:
        data["returnZ"] = "true"
    if return_m:
        data["returnM"] = "true"
    return data


def _check_task_url(task_url: str) -> str:
    url = task_url.split("?", 1)[0].rstrip("/")
    if not re.search(r"/GPServer/[^/]+$", url, flags=re.IGNORECASE):
        raise BadInputError(f"{redact_url(task_url)} is not a GP task URL; it should look "
                            "like https://host/arcgis/rest/services/<service>/GPServer/<task>")
    return url


def execute(client: GPClient, task_url: str, inputs: Mapping[str, Any], *,
            context: Optional[Context] = None, current_version: Any = None,
            return_z: bool = False, return_m: bool = False,
            task: Optional[TaskDescription] = None) -> ExecuteResult:
    """Run a synchronous task (``execute``) and return its decoded outputs and messages."""
    url = _check_task_url(task_url)
    data = _run_params(client, url, inputs, context=context, current_version=current_version,
                       return_z=return_z, return_m=return_m, task=task)
    try:
        # execute_timeout bounds the whole exchange: a synchronous task may run minutes
        body = client.call_json("POST", url + "/execute", data=data,
                                timeout=client.execute_timeout,
                                deadline=client.execute_timeout)
    except AuthError:
        raise
    except ServerError as exc:
        if exc.code != 500 and "executing tool" not in (exc.message or "").lower():
            raise  # a rejected request (bad parameter, unknown task): as submitJob raises it
        msgs = [Message(MSG_ERROR, exc.message or str(exc))]
        msgs += [Message(MSG_ERROR, d) for d in exc.details if d != exc.message]
        text = "; ".join(m.description for m in msgs)
        raise JobFailedError(f"Task {url.rsplit('/', 1)[-1]} failed on the server: {text}",
                             messages=msgs, status=FAILED, url=url) from exc
    messages = tuple(Message.from_json(m) for m in body.get("messages") or [])
    outputs: dict = {}
    for r in body.get("results") or []:
        if isinstance(r, dict) and r.get("paramName"):
            outputs[r["paramName"]] = decode(str(r.get("dataType") or ""), r.get("value"))
    return ExecuteResult(outputs=outputs, messages=messages, raw=body)


def submit(client: GPClient, task_url: str, inputs: Mapping[str, Any], *,
           context: Optional[Context] = None, current_version: Any = None,
           return_z: bool = False, return_m: bool = False,
           task: Optional[TaskDescription] = None) -> Job:
    """Submit an asynchronous job (``submitJob``) and return the :class:`Job`."""
    url = _check_task_url(task_url)
    data = _run_params(client, url, inputs, context=context, current_version=current_version,
                       return_z=return_z, return_m=return_m, task=task)
    body = client.call_json("POST", url + "/submitJob", data=data)
    job_id = body.get("jobId")
    if not job_id:
        raise GPError(f"submitJob at {redact_url(url)} answered without a jobId: "
                      f"{str(body)[:200]}", url=url)
    job = Job(client, url, str(job_id), return_z=return_z, return_m=return_m)
    job.last_status = JobStatus.from_json(body, str(job_id))
    LOGGER.debug("Submitted job %s (%s)", job_id, job.last_status.status)
    return job


OnMessage = Callable[[Message], Any]
OnProgress = Callable[[Progress], Any]


class Job:
    """An asynchronous job on the server."""

    def __init__(self, client: GPClient, task_url: str, job_id: str, *,
                 return_z: bool = False, return_m: bool = False,
                 patience: Optional[float] = None) -> None:
        self.client = client
        if patience is None:
            patience = getattr(client, "patience", None) or PATIENCE
        #: seconds wait() and the result fetches keep trying through an outage
        self.patience = float(patience)
        #: what wait() was given to ask whether to stop; result fetches ask it too
        self.should_cancel: Optional[Callable[[], bool]] = None
        self.task_url = task_url.split("?", 1)[0].rstrip("/")
        self.job_id = job_id
        self.return_z = return_z
        self.return_m = return_m
        self.last_status: Optional[JobStatus] = None
        self.requests = 0  # status requests made by this object
        self._seen_messages = 0

    def __repr__(self) -> str:
        """Job id and last known status."""
        status = self.last_status.status if self.last_status else "unknown"
        return f"Job({self.job_id!r}, status={status!r})"

    @property
    def url(self) -> str:
        """The job resource URL."""
        return f"{self.task_url}/jobs/{self.job_id}"

    @classmethod
    def from_url(cls, client: GPClient, job_url: str) -> Job:
        """Re-attach to a job from its URL (``.../GPServer/<task>/jobs/<jobId>``)."""
        m = re.match(r"^(.*/GPServer/[^/]+)/jobs/([^/?#]+)", job_url.strip(),
                     flags=re.IGNORECASE)
        if not m:
            raise BadInputError(f"{redact_url(job_url)} is not a job URL; it should look like "
                                ".../GPServer/<task>/jobs/<jobId>")
        return cls(client, m.group(1), m.group(2))

    def status(self) -> JobStatus:
        """Ask the server for the job's status."""
        self.requests += 1
        body = self.client.get_json(self.url)
        st = JobStatus.from_json(body, self.job_id)
        self.last_status = st
        return st

    def cancel(self) -> JobStatus:
        """Ask the server to cancel the job; returns the status it answers."""
        body = self.client.call_json("POST", self.url + "/cancel", retry=True)
        st = JobStatus.from_json(body, self.job_id)
        if st.status:
            self.last_status = st
        LOGGER.info("Cancel requested for job %s: %s", self.job_id, st.status or "?")
        return st

    def wait(self, deadline: Optional[float] = None,
             should_cancel: Optional[Callable[[], bool]] = None,
             on_message: Optional[OnMessage] = None,
             on_progress: Optional[OnProgress] = None, *,
             schedule: Optional[PollSchedule] = None,
             cancel_grace: float = 5.0,
             on_status: Optional[Callable[[JobStatus], None]] = None) -> JobStatus:
        """Poll until the job ends; return the succeeded status or raise its JobError.

        ``deadline``: seconds to wait at most (DeadlineError then; the job keeps running).
        ``should_cancel``: called every 50 ms; when it returns True the server job is
        cancelled and JobCancelledError raised. ``on_message`` gets each new server message
        once; ``on_progress`` each change of the server's progress; ``on_status`` every
        status answer, the last one included.
        """
        sched = schedule or PollSchedule()
        self.should_cancel = should_cancel
        start = time.monotonic()
        limit = start + float(deadline) if deadline is not None else None
        outage = Outage(self, "waiting for")
        last_progress: Optional[Progress] = None
        progress_seen_at: Optional[tuple[float, float]] = None  # (elapsed, percent) first seen
        warned: set[str] = set()

        def cancelled_while_sleeping(wake: float) -> bool:
            while True:
                if should_cancel is not None and should_cancel():
                    return True
                left = wake - time.monotonic()
                if left <= 0:
                    return False
                time.sleep(min(SLICE, left))

        if self.last_status is not None and self.requests == 0 \
                and not self.last_status.is_terminal:
            # just submitted: the server has answered a moment ago
            wake = start + sched.first
            if limit is not None:
                wake = min(wake, limit)
            if cancelled_while_sleeping(wake):
                return self._cancel_and_raise(on_message, cancel_grace)
        while True:
            if should_cancel is not None and should_cancel():
                return self._cancel_and_raise(on_message, cancel_grace)
            try:
                st = self.status()
                outage.over()
            except GPError as exc:
                outage.failed(exc)  # raises unless it may pass
                st = None
            eta = None
            now = time.monotonic()
            elapsed = now - start
            if st is not None:
                self._deliver(st, on_message)
                if on_status is not None:
                    on_status(st)
                if st.progress is not None and st.progress != last_progress:
                    last_progress = st.progress
                    if on_progress is not None:
                        on_progress(st.progress)
                if st.is_terminal:
                    return self._finish(st)
                if st.status not in RUNNING and st.status not in warned:
                    warned.add(st.status)
                    LOGGER.warning("Job %s has unknown status %r; still waiting", self.job_id,
                                   st.status)
                pct = st.progress.percent if st.progress else None
                if pct is not None and 0 < pct < 100:
                    if progress_seen_at is None or pct < progress_seen_at[1]:
                        progress_seen_at = (elapsed, pct)
                    else:
                        t0, p0 = progress_seen_at
                        if pct > p0 and elapsed > t0:
                            rate = (pct - p0) / (elapsed - t0)
                            eta = (100.0 - pct) / rate
            if limit is not None and now >= limit:
                raise DeadlineError(
                    f"Job {self.job_id} did not finish within {deadline:g} s; it is still "
                    f"{st.status if st else 'running'} on the server at {self.url}. Wait again "
                    "(Job.from_url) or cancel it.", job_id=self.job_id, url=self.url)
            wake = now + (sched.delay(elapsed, eta) if st is not None else outage.pause())
            if limit is not None:
                wake = min(wake, limit)
            if cancelled_while_sleeping(wake):
                return self._cancel_and_raise(on_message, cancel_grace)

    def results(self, names: Optional[list[str]] = None) -> dict:
        """Fetch and decode the job's outputs (each ``paramUrl``); only after success."""
        return {name: decode(str(r.get("dataType") or ""), r.get("value"))
                for name, r in self.results_json(names).items()}

    def results_json(self, names: Optional[list[str]] = None) -> dict:
        """The raw result parameters ``{name: {"paramName", "dataType", "value"}}``."""
        st = self._succeeded_status()
        params = self._result_params()
        out = {}
        for name, ref in st.results.items():
            if names is not None and name not in names:
                continue
            if isinstance(ref, dict) and "paramUrl" in ref:
                url = urljoin(self.url + "/", str(ref["paramUrl"]))
                out[name] = self.patiently(lambda u=url: self.client.get_json(u, params or None),
                                           "reading the results of")
            elif isinstance(ref, dict) and "value" in ref:
                out[name] = ref
        return out

    def result_to_file(self, name: str, path: str | os.PathLike) -> Path:
        """Stream one raw result ``{"paramName", "dataType", "value"}`` into ``path``.

        For big results (feature sets): the ``paramUrl`` answer goes to the file as it
        arrives (:meth:`GPClient.get_json_to_file`, with its error checks) instead of
        into memory twice (bytes, then objects). A result the status carries inline is
        written as it is. Only after success, like :meth:`results`.
        """
        st = self._succeeded_status()
        ref = st.results.get(name)
        if ref is None:
            known = ", ".join(sorted(st.results)) or "none"
            raise BadInputError(f"Job {self.job_id} has no result {name!r}; its results are: "
                                f"{known}.", url=self.url)
        target = Path(path)
        if isinstance(ref, dict) and "paramUrl" in ref:
            url = urljoin(self.url + "/", str(ref["paramUrl"]))
            params = self._result_params() or None
            return self.patiently(lambda: self.client.get_json_to_file(url, target, params),
                                  "reading the results of")
        if isinstance(ref, dict) and "value" in ref:
            target.parent.mkdir(parents=True, exist_ok=True)
            with target.open("w", encoding="utf-8") as fh:
                json.dump({"paramName": name, **ref}, fh, separators=(",", ":"))
            return target
        raise GPError(f"The status of job {self.job_id} describes its result {name!r} "
                      f"without a paramUrl or value: {str(ref)[:200]}", url=self.url)

    # -- internals ---------------------------------------------------------------------

    def _succeeded_status(self) -> JobStatus:
        st = self.last_status
        if st is None or not st.is_terminal:
            st = self.patiently(self.status, "reading the status of")
        if not st.succeeded:
            raise JobError(f"Job {self.job_id} has no results: its status is {st.status}. "
                           "Wait for it to succeed first.", job_id=self.job_id,
                           messages=st.messages, status=st.status, url=self.url)
        return st

    def _result_params(self) -> dict:
        params: dict = {}
        if self.return_z:
            params["returnZ"] = "true"
        if self.return_m:
            params["returnM"] = "true"
        return params

    def patiently(self, call: Callable[[], Any], doing: str) -> Any:
        """Call ``call`` (a GET), again with backoff through an outage of up to ``patience``."""
        outage = Outage(self, doing)
        while True:
            try:
                result = call()
            except GPError as exc:
                outage.failed(exc)
                wake = time.monotonic() + outage.pause()
                while time.monotonic() < wake:
                    if self.should_cancel is not None and self.should_cancel():
                        raise JobCancelledError(
                            f"Stopped {doing} job {self.job_id} at your request while the "
                            f"server did not answer; the job stays on the server at "
                            f"{redact_url(self.url)}.", job_id=self.job_id, url=self.url
                        ) from None
                    time.sleep(min(SLICE, max(0.0, wake - time.monotonic())))
                continue
            outage.over()
            return result

    def _deliver(self, st: JobStatus, on_message: Optional[OnMessage]) -> None:
        msgs = st.messages
        if len(msgs) < self._seen_messages:  # the server trimmed its list
            self._seen_messages = 0 if not msgs else len(msgs)
            return
        new = msgs[self._seen_messages:]
        self._seen_messages = len(msgs)
        for m in new:
            LOGGER.log(m.level if m.level > logging.INFO else logging.DEBUG,
                       LOG_JOB_MESSAGE, self.job_id, m)
            if on_message is not None:
                on_message(m)

    def _finish(self, st: JobStatus) -> JobStatus:
        task = self.task_url.rsplit("/", 1)[-1]
        errors = [m.description for m in st.messages if m.is_error]
        detail = ("; ".join(errors)) if errors else "the server gave no error message"
        kwargs = dict(job_id=self.job_id, messages=st.messages, status=st.status, url=self.url)
        if st.status == SUCCEEDED:
            return st
        if st.status == FAILED:
            raise JobFailedError(f"Task {task} failed on the server (job {self.job_id}): "
                                 f"{detail}", **kwargs)
        if st.status == CANCELLED:
            raise JobCancelledError(f"Job {self.job_id} of task {task} was cancelled on the "
                                    "server.", **kwargs)
        if st.status == TIMED_OUT:
            raise JobTimedOutError(
                f"Job {self.job_id} of task {task} timed out on the server: it ran longer than "
                f"the service allows ({detail}). Use a smaller input or ask the server "
                "administrator for a longer maximum time.", **kwargs)
        raise JobDeletedError(f"Job {self.job_id} of task {task} was deleted on the server "
                              "before its results were read.", **kwargs)

    def _cancel_and_raise(self, on_message: Optional[OnMessage], grace: float) -> JobStatus:
        note = ""
        st = self.last_status
        try:
            st = self.cancel()
        except GPError as exc:
            note = f" (the cancel request failed: {exc})"
            LOGGER.warning("Could not cancel job %s: %s", self.job_id, exc)
        end = time.monotonic() + max(0.0, grace)
        pause = 0.05
        while not note and (st is None or not st.is_terminal) and time.monotonic() < end:
            time.sleep(min(pause, max(0.0, end - time.monotonic())))
            pause = min(pause * 1.5, 0.5)
            try:
                st = self.status()
            except GPError:
                break
            self._deliver(st, on_message)
        status = st.status if st is not None else None
        raise JobCancelledError(
            f"Job {self.job_id} was cancelled at your request (server status: "
            f"{status or 'unknown'}){note}.", job_id=self.job_id,
            messages=st.messages if st is not None else (), status=status, url=self.url)

