"""Geoprocessing jobs: background threads, statuses, messages, progress, cancel."""

from __future__ import annotations

import shutil
import threading
import time
import traceback
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .catalog import Service, Task
from .errors import JobCancelled, JobDeleted, JobFailure, JobTimedOut, RestError
from .values_out import apply_context

NEW = "esriJobNew"
SUBMITTED = "esriJobSubmitted"
WAITING = "esriJobWaiting"
EXECUTING = "esriJobExecuting"
SUCCEEDED = "esriJobSucceeded"
FAILED = "esriJobFailed"
TIMED_OUT = "esriJobTimedOut"
CANCELLING = "esriJobCancelling"
CANCELLED = "esriJobCancelled"
DELETING = "esriJobDeleting"
DELETED = "esriJobDeleted"
TERMINAL = {SUCCEEDED, FAILED, TIMED_OUT, CANCELLED, DELETED}

INFO = "esriJobMessageTypeInformative"
WARNING = "esriJobMessageTypeWarning"
ERROR = "esriJobMessageTypeError"


def _stamp() -> str:
    return datetime.now().strftime("%A, %B %d, %Y %H:%M:%S")


class Job:
    """One submitted (or synchronously executed) task run."""

    def __init__(
        self,
        service: Service,
        task: Task,
        inputs: dict[str, Any],
        scratch_root: Path,
        base_url: str,
        server: Any,
        *,
        synchronous: bool = False,
    ) -> None:
        self.id = "j" + uuid.uuid4().hex
        self.service = service
        self.task = task
        self.inputs = inputs  # name -> parsed value (also what inputs/<name> answers)
        self.results: dict[str, Any] = {}
        self.messages: list[dict[str, str]] = []
        self.progress: dict[str, Any] | None = None
        self.status = NEW if synchronous else SUBMITTED
        self.scratch_dir = scratch_root / self.id / "scratch"
        self.base_url = base_url
        self.server = server
        self.synchronous = synchronous
        self.lock = threading.Lock()
        self.cancel_requested = threading.Event()
        self.delete_requested = threading.Event()
        self.finished = threading.Event()
        self.started_at: float | None = None
        self.deadline: float | None = None
        if not synchronous:
            self.add_message("Submitted.")

    # -- urls --------------------------------------------------------------------------
    @property
    def task_url(self) -> str:
        """Absolute URL of the task resource."""
        return (
            f"{self.base_url}/arcgis/rest/services/{self.service.name}/GPServer/"
            f"{quote(self.task.name)}"
        )

    def scratch_url(self, filename: str) -> str:
        """Absolute URL of a file in the job's scratch folder."""
        return f"{self.task_url}/jobs/{self.id}/scratch/{quote(filename)}"

    # -- reporting (used by task bodies through JobContext) -----------------------------
    def add_message(self, description: str, mtype: str = INFO) -> None:
        """Append a job message."""
        with self.lock:
            self.messages.append({"type": mtype, "description": description})

    def set_progress(self, percent: float | None, message: str = "") -> None:
        """Set the progress block shown while executing."""
        with self.lock:
            prog: dict[str, Any] = {"type": "default", "message": message}
            if percent is not None:
                prog["percent"] = round(max(0.0, min(100.0, percent)), 1)
            self.progress = prog

    def _set_status(self, status: str) -> None:
        with self.lock:
            self.status = status
            if status in TERMINAL:
                self.progress = None

    # -- control --------------------------------------------------------------------------
    def cancel(self) -> None:
        """Ask the job to cancel; a job not yet running is cancelled at once."""
        with self.lock:
            if self.status in TERMINAL:
                return
            self.cancel_requested.set()
            if self.status in (NEW, SUBMITTED, WAITING):
                self.status = CANCELLED
                self.messages.append({"type": INFO, "description": "Cancel complete."})
                self.finished.set()
            else:
                self.status = CANCELLING

    def delete(self) -> None:
        """Delete the job: stop it if running, drop its results and scratch files."""
        with self.lock:
            self.delete_requested.set()
            self.cancel_requested.set()
            running = self.status in (EXECUTING, CANCELLING)
            self.status = DELETING if running else DELETED
            if not running:
                self._drop_outputs()
                self.finished.set()

    def _drop_outputs(self) -> None:
        self.results = {}
        self.progress = None
        shutil.rmtree(self.scratch_dir.parent, ignore_errors=True)

    # -- wire -----------------------------------------------------------------------------
    def status_json(self) -> dict[str, Any]:
        """Return the job resource as ArcGIS Server writes it."""
        with self.lock:
            out: dict[str, Any] = {"jobId": self.id, "jobStatus": self.status}
            if self.status == SUCCEEDED:
                out["results"] = {
                    p.name: {"paramUrl": f"results/{p.name}"} for p in self.task.outputs
                }
            if self.status != DELETED:
                out["inputs"] = {
                    p.name: {"paramUrl": f"inputs/{p.name}"} for p in self.task.inputs
                }
            if self.status == EXECUTING and self.progress:
                out["progress"] = dict(self.progress)
            out["messages"] = [dict(m) for m in self.messages]
            return out

    # -- running --------------------------------------------------------------------------
    def run(self) -> None:
        """Run the task body, ending in a terminal status (never raises)."""
        with self.lock:
            if self.status in TERMINAL or self.cancel_requested.is_set():
                self.finished.set()
                return
            self.status = EXECUTING
            self.started_at = time.monotonic()
            self.deadline = self.started_at + self.service.max_job_seconds
        self.add_message("Executing...")
        self.add_message(f"Start Time: {_stamp()}")
        ctx = JobContext(self)
        try:
            self.scratch_dir.mkdir(parents=True, exist_ok=True)
            results = self.task.run(ctx, self.inputs)
            ctx.check()
            results = apply_context(self.task, results, self.inputs.get("__context__"))
            with self.lock:
                self.results = results
            elapsed = time.monotonic() - (self.started_at or time.monotonic())
            self.add_message(f"Succeeded at {_stamp()} (Elapsed Time: {elapsed:.2f} seconds)")
            self._set_status(SUCCEEDED)
        except JobCancelled:
            if self.delete_requested.is_set():
                self._finish_deleted()
            else:
                self.add_message("Cancel complete.")
                self._set_status(CANCELLED)
        except JobDeleted:
            self._finish_deleted()
        except JobTimedOut:
            self.add_message(
                f"The job exceeded the maximum time of {self.service.max_job_seconds:g} seconds"
                " allowed for this service.",
                ERROR,
            )
            self._set_status(TIMED_OUT)
        except JobFailure as exc:
            for m in exc.messages:
                self.add_message(m, ERROR)
            self.add_message(f"Failed to execute ({self.task.name}).", ERROR)
            self.add_message(f"Failed at {_stamp()}", ERROR)
            self._set_status(FAILED)
        except RestError as exc:
            for m in [exc.message, *exc.details]:
                self.add_message(m, ERROR)
            self.add_message(f"Failed to execute ({self.task.name}).", ERROR)
            self._set_status(FAILED)
        except Exception as exc:  # noqa: BLE001 - a broken task must fail its job, not the server
            self.add_message(f"{type(exc).__name__}: {exc}", ERROR)
            for line in traceback.format_exc().strip().splitlines()[-3:]:
                self.add_message(line, WARNING)
            self.add_message(f"Failed to execute ({self.task.name}).", ERROR)
            self._set_status(FAILED)
        finally:
            self.finished.set()

    def _finish_deleted(self) -> None:
        with self.lock:
            self.status = DELETED
            self._drop_outputs()


class JobContext:
    """What a task body sees: messages, progress, cancel/timeout checks, scratch space."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.server = job.server
        self.service = job.service
        self.task = job.task

    def message(self, text: str, mtype: str = INFO) -> None:
        """Add an informative (or warning/error) job message."""
        self.job.add_message(text, mtype)

    def warning(self, text: str) -> None:
        """Add a warning message."""
        self.job.add_message(text, WARNING)

    def progress(self, percent: float | None, message: str = "") -> None:
        """Report progress."""
        self.job.set_progress(percent, message)

    def check(self) -> None:
        """Raise JobCancelled / JobTimedOut when the job must stop."""
        if self.job.cancel_requested.is_set():
            raise JobCancelled()
        if self.job.deadline is not None and time.monotonic() > self.job.deadline:
            raise JobTimedOut()

    def sleep(self, seconds: float) -> None:
        """Wait that long, returning early (with an exception) on cancel or timeout."""
        end = time.monotonic() + seconds
        while True:
            self.check()
            now = time.monotonic()
            if now >= end:
                return
            limit = end
            if self.job.deadline is not None:
                limit = min(limit, self.job.deadline + 1e-3)
            if self.job.cancel_requested.wait(max(0.0, limit - now)):
                raise JobCancelled()
            if self.job.deadline is not None and time.monotonic() > self.job.deadline:
                raise JobTimedOut()

    @property
    def scratch_dir(self) -> Path:
        """The job's scratch folder (exists)."""
        self.job.scratch_dir.mkdir(parents=True, exist_ok=True)
        return self.job.scratch_dir

    def scratch_url(self, filename: str) -> str:
        """URL under which a scratch file is served."""
        return self.job.scratch_url(filename)


class JobManager:
    """Holds every job of a server and runs asynchronous ones on a thread pool."""

    def __init__(self, scratch_root: Path, workers: int = 8) -> None:
        self.scratch_root = scratch_root
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gpjob")

    def submit(self, job: Job) -> Job:
        """Queue an asynchronous job."""
        with self._lock:
            self._jobs[job.id] = job
        self._pool.submit(job.run)
        return job

    def run_sync(self, job: Job) -> Job:
        """Run a job in the calling thread (execute on a synchronous service)."""
        with self._lock:
            self._jobs[job.id] = job
        job.run()
        return job

    def get(self, job_id: str) -> Job | None:
        """Return a job by id."""
        with self._lock:
            return self._jobs.get(job_id)

    def all(self) -> list[Job]:
        """All jobs."""
        with self._lock:
            return list(self._jobs.values())

    def shutdown(self, timeout: float = 5.0) -> None:
        """Cancel running jobs and stop the pool."""
        for job in self.all():
            if job.status not in TERMINAL:
                job.cancel()
        deadline = time.monotonic() + timeout
        for job in self.all():
            job.finished.wait(max(0.0, deadline - time.monotonic()))
        self._pool.shutdown(wait=False, cancel_futures=True)
