"""Jobs that outlive their run: ``ARCGISGP_ATTACH_JOB`` and the job record of every run.

A task algorithm records each job it submits (or re-attaches to) in the profile's job store
(job_store.py) the moment the server gives it a job id, and each new status while it waits
(the jobs panel skips the jobs a run of this process waits for: one poller per job). With
``ARCGISGP_ATTACH_JOB`` set to a job id or job URL of the same task, the algorithm submits
nothing: the task's inputs are not needed, and it waits for that job and writes its results
into the outputs given, exactly as after its own submitJob.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, Optional

from qgis.core import (
    QgsMapLayer,
    QgsProcessingContext,
    QgsProcessingFeatureSourceDefinition,
    QgsProcessingOutputLayerDefinition,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterString,
    QgsProperty,
)

from ..gp_client import jobs
from ..gp_client.errors import BadInputError, GPError, HTTPError, JobDeletedError, ServerError
from .job_store import JobRecord, JobStore, clean_text, clean_url
from .notices import warn

ATTACH_JOB = "ARCGISGP_ATTACH_JOB"
_JOB_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
_SECRET_NAME = re.compile(r"(?i)(password|passwd|token|secret|api_?key|credential)")


class UnknownJobError(JobDeletedError):
    """The server does not know the job (never existed, another task's, or removed)."""


def attach_parameter() -> QgsProcessingParameterDefinition:
    """Return the optional, advanced parameter naming a job to re-attach to."""
    definition = QgsProcessingParameterString(
        ATTACH_JOB, "Attach to an existing job (job id or job URL)", optional=True)
    definition.setFlags(definition.flags()
                        | QgsProcessingParameterDefinition.Flag.FlagAdvanced)
    definition.setHelp(
        "Leave empty to submit a new job. Give the id or URL of a job of this task (from the "
        "'ArcGIS GP jobs' panel or the log of an earlier run) to take that job's results "
        "instead: nothing is submitted, the task's inputs are not needed, and the run waits "
        "for the job and writes its results into the outputs given. (qgis_process and the "
        "toolbox dialog check the mandatory inputs themselves before the algorithm can: name "
        "them there with any value, e.g. Input_Features= on the command line; it is not used.)")
    return definition


def requested(parameters: dict) -> str:
    """Return the job id or URL to attach to ('' when a new job is to be submitted)."""
    value = parameters.get(ATTACH_JOB)
    if isinstance(value, QgsProperty):
        value = value.staticValue()
    return str(value).strip() if value not in (None, "") else ""


def job_url_for(task_url: str, value: str) -> str:
    """Return the job URL ``value`` names on the task; raise BadInputError naming the job."""
    task = clean_url(task_url)
    if "/" not in value:
        if not _JOB_ID.match(value):
            raise BadInputError(f"'{clean_text(value, 80)}' is neither a job id nor a job URL "
                                f"of task {_task_name(task)}.")
        return f"{task}/jobs/{value}"
    match = re.match(r"^(.*/GPServer/[^/]+)/jobs/([^/?#]+)", value.strip(), re.IGNORECASE)
    if not match:
        raise BadInputError(f"{clean_url(value)} is not a job URL; it should look like "
                            f"{task}/jobs/<job id>.")
    owner = clean_url(match.group(1))
    if _comparable(owner) != _comparable(task):
        raise BadInputError(
            f"Job {match.group(2)} ({clean_url(value)}) is a job of task {_task_name(owner)} "
            f"at {owner}, not of this task ({task}). Run the algorithm of that task to "
            "attach to it.")
    return f"{task}/jobs/{match.group(2)}"


def check_values(algorithm: Any, parameters: dict, context: QgsProcessingContext
                 ) -> tuple[bool, str]:
    """Check a re-attaching run: the job reference and the outputs, not the task's inputs."""
    try:
        job_url_for(algorithm.spec.task.url, requested(parameters))
    except BadInputError as err:
        return False, str(err)
    for definition in algorithm.parameterDefinitions():
        if not definition.isDestination():
            continue
        if not definition.checkValueIsAcceptable(parameters.get(definition.name()), context):
            return False, f"Incorrect parameter value for {definition.name()}"
    return True, ""


def attach(client: Any, task_url: str, value: str) -> jobs.Job:
    """Return the job ``value`` names, after one status request saying it can be waited for."""
    url = job_url_for(task_url, value)
    job = jobs.Job.from_url(client, url)
    try:
        status = job.status()
    except (ServerError, HTTPError) as err:
        code = getattr(err, "code", None) or getattr(err, "status", None)
        if code in (400, 404):
            raise UnknownJobError(
                f"Job {job.job_id} is unknown to the server at {url}: it never existed there, "
                "it belongs to another task, or the server has deleted it (servers remove old "
                "jobs and their results). Nothing was submitted; run the task again to get a "
                "new job.", job_id=job.job_id, url=url) from None
        raise
    if status.status == jobs.DELETED:
        raise JobDeletedError(
            f"Job {job.job_id} was deleted on the server ({url}); its results are gone. "
            "Nothing was submitted; run the task again to get a new job.",
            job_id=job.job_id, url=url)
    return job


def record_job(algorithm: Any, job: jobs.Job, parameters: dict,
               store: Optional[JobStore] = None) -> Optional[JobRecord]:
    """Record a job just submitted or re-attached by ``algorithm``; never fails the run."""
    spec = algorithm.spec
    store = store or JobStore()
    now = time.time()
    previous = _safe(lambda: store.get(job.url))
    inputs = summarize_inputs(algorithm, parameters)
    record = JobRecord(
        job_url=job.url, job_id=job.job_id, task_url=spec.task.url,
        connection=spec.connection.name, algorithm_id=algorithm.id(),
        task=algorithm.displayName(), submitted=now,
        status=job.last_status.status if job.last_status else "esriJobSubmitted",
        updated=now, outputs=summarize_outputs(algorithm, parameters), inputs=inputs)
    if previous is not None:  # re-attached: keep when and with what it was submitted
        record = replace(record, submitted=previous.submitted,
                         inputs=previous.inputs or inputs)
    return _safe(lambda: store.put(record))


def record_status(job: jobs.Job, store: Optional[JobStore] = None) -> Optional[JobRecord]:
    """Write a job's last known status into its record; never fails the run."""
    status = job.last_status
    if status is None:
        return None
    return _safe(lambda: (store or JobStore()).update(job.url, lambda r: with_status(r, status)))


class StatusRecorder:
    """``on_status`` of a run's wait: writes the job's status into its record whenever the
    status, the progress or the number of messages changed, so the jobs panel shows the run's
    answers without polling the job itself (see :func:`waited_here`)."""

    def __init__(self, job: jobs.Job, store: Optional[JobStore] = None) -> None:
        self.job_url = job.url
        self.store = store
        self._last: Optional[tuple] = None

    def __call__(self, status: jobs.JobStatus) -> None:
        percent = status.progress.percent if status.progress is not None else None
        key = (status.status, percent, len(status.messages))
        if key != self._last:
            self._last = key
            _safe(lambda: (self.store or JobStore()).update(
                self.job_url, lambda r: with_status(r, status)))


_waited_here: set[str] = set()
_waited_lock = threading.Lock()


@contextmanager
def waited_here(job_url: str) -> Iterator[None]:
    """Mark a job as waited for by a run in this process while the block runs."""
    with _waited_lock:
        _waited_here.add(job_url)
    try:
        yield
    finally:
        with _waited_lock:
            _waited_here.discard(job_url)


def is_waited_here(job_url: str) -> bool:
    """True while a run in this process polls that job (the panel then leaves it alone)."""
    with _waited_lock:
        return job_url in _waited_here


def with_status(record: JobRecord, status: jobs.JobStatus) -> JobRecord:
    """Return ``record`` updated with a status answer of its job."""
    now = time.time()
    percent = status.progress.percent if status.progress is not None else record.progress
    ended = record.ended or (now if status.is_terminal else None)
    messages = tuple((m.type, m.description) for m in status.messages) or record.messages
    return replace(record, status=status.status or record.status, updated=now, ended=ended,
                   progress=100.0 if status.succeeded else percent, messages=messages,
                   note="")


def summarize_inputs(algorithm: Any, parameters: dict) -> dict:
    """Return the task's inputs in short: layer names, files' base names, short values."""
    out = {}
    for definition in algorithm.parameterDefinitions():
        name = definition.name()
        if definition.isDestination() or name == ATTACH_JOB or name not in parameters:
            continue
        value = parameters[name]
        if value is None or value == "":
            continue
        out[name] = "(hidden)" if _SECRET_NAME.search(name) else _short(value)
    return out


def summarize_outputs(algorithm: Any, parameters: dict) -> dict:
    """Return where each output was to be written (as given; secrets scrubbed)."""
    out = {}
    for definition in algorithm.parameterDefinitions():
        if definition.isDestination() and definition.name() in parameters:
            out[definition.name()] = _short(parameters[definition.name()], 300)
    return out


def _short(value: Any, limit: int = 120) -> str:
    if isinstance(value, QgsProcessingOutputLayerDefinition):
        value = value.sink
    if isinstance(value, QgsProcessingFeatureSourceDefinition):
        value = value.source
    if isinstance(value, QgsProperty):
        value = value.staticValue() if value.propertyType() == QgsProperty.Type.StaticProperty \
            else value.expressionString()
    if isinstance(value, QgsMapLayer):
        value = value.name()
    return clean_text(value, limit)


def _task_name(task_url: str) -> str:
    return task_url.rstrip("/").rsplit("/", 1)[-1]


def _comparable(url: str) -> str:
    """Return a URL as compared for 'same task': no scheme, lower case."""
    return re.sub(r"^[a-z]+://", "", url.lower()).rstrip("/")


def _safe(action: Any) -> Any:
    """Run a job store action; a store problem is logged, never fails the run."""
    try:
        return action()
    except (OSError, ValueError, GPError) as err:
        warn(f"Could not update the list of ArcGIS GP jobs: {err}. The job itself is not "
             "affected.")
        return None
