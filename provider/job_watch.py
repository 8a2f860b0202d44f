"""Watching recorded jobs in the background: status polls and cancels in QgsTasks.

The watcher lives on the main thread and never sends a request there. Each round is a short
QgsTask that asks the server for the status of the jobs that are due (one request each) and
ends; its answers are written into the job store back on the main thread, and the next
round is scheduled with a timer. A job is polled like the algorithm's own wait
(gp_client.jobs.PollSchedule): often while it is young for the watcher, every few seconds
after a minute. Between rounds nothing runs, so QGIS can close at any time; a round in
flight aborts its request when cancelled (on unload, or by the task manager at exit), and
the next QGIS start resumes watching what the store says is still running. A job that a run
in this process is waiting for is left to that run, which records each new status itself.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Optional

from qgis.core import QgsApplication, QgsFeedback, QgsTask
from qgis.PyQt.QtCore import QObject, QTimer, pyqtSignal

from ..gp_client import jobs
from ..gp_client.client import GPClient
from ..gp_client.errors import GPError, ServerError
from ..gp_client.urls import origin_of
from .attach import UnknownJobError, is_waited_here, with_status
from .clients import make_client
from .connections import Connection, ConnectionStore
from .explain import explain_error
from .i18n import tr
from .job_store import NOTE_GONE, NOTE_NO_CONNECTION, JobRecord, JobStore

# A watcher polls a little less eagerly than a run waiting for its own job: both may
# watch the same job at once.
WATCH_SCHEDULE = jobs.PollSchedule(first=0.5, ceiling=5.0, ramp=60.0)
REQUEST_TIMEOUT = 30.0


@dataclass
class Answer:
    """What one request taught about one job (filled in the worker thread)."""

    job_url: str
    status: Optional[jobs.JobStatus] = None
    note: str = ""
    error: str = ""


def _task_flags() -> QgsTask.Flags:
    flags = QgsTask.Flag.CanCancel
    hidden = getattr(QgsTask.Flag, "Hidden", None)  # QGIS 3.26+: keep the status bar quiet
    return flags | hidden if hidden is not None else flags


class JobRequestTask(QgsTask):
    """Asks the server about some jobs: their status, or to cancel them (worker thread)."""

    def __init__(self, description: str, work: Sequence[tuple[JobRecord, Optional[Connection]]],
                 cancel_jobs: bool = False) -> None:
        super().__init__(description, _task_flags())
        self.work = list(work)
        self.cancel_jobs = cancel_jobs
        self.answers: list[Answer] = []
        self.feedback = QgsFeedback()  # aborts the request in flight when the task is cancelled
        self.done: list[Callable[[JobRequestTask], None]] = []

    def cancel(self) -> None:
        """Cancel the task and abort its request."""
        self.feedback.cancel()
        super().cancel()

    def run(self) -> bool:
        """One request per job (worker thread); a failure is an answer too."""
        for record, connection in self.work:
            if self.isCanceled():
                return False
            self.answers.append(self._ask(record, connection))
        return True

    def _ask(self, record: JobRecord, connection: Optional[Connection]) -> Answer:
        answer = Answer(record.job_url)
        if connection is None:
            answer.note = NOTE_NO_CONNECTION
            return answer
        try:
            if self.cancel_jobs:
                # a short POST; not tied to the feedback (see _status)
                client = make_client(connection, auth_origins=[record.task_url],
                                     timeout=REQUEST_TIMEOUT)
                answer.status = jobs.Job.from_url(client, record.job_url).cancel()
            else:
                client = make_client(connection, auth_origins=[record.task_url],
                                     feedback=self.feedback, timeout=REQUEST_TIMEOUT)
                client.retries = 0  # the next round is the retry; a cancelled one ends at once
                answer.status = _status(client, record)
        except GPError as err:
            code = getattr(err, "code", None) or getattr(err, "status", None)
            if isinstance(err, ServerError) and code in (400, 404):
                answer.note = NOTE_GONE
                err = UnknownJobError(f"Job {record.job_id} is unknown to the server at "
                                      f"{record.job_url}: it has been deleted (servers remove "
                                      "old jobs and their results).", job_id=record.job_id)
            answer.error = explain_error(err, connection)
        return answer

    def finished(self, result: bool) -> None:
        """Hand the answers over (main thread)."""
        for callback in self.done:
            callback(self)


class JobWatcher(QObject):
    """Polls the store's running jobs in background rounds and writes what it learns."""

    changed = pyqtSignal()  # the store was updated
    failed = pyqtSignal(str, str)  # job URL, what went wrong (a poll or a cancel)

    def __init__(self, store: Optional[JobStore] = None,
                 connections: Optional[ConnectionStore] = None,
                 schedule: jobs.PollSchedule = WATCH_SCHEDULE,
                 parent: Optional[QObject] = None) -> None:
        super().__init__(parent)
        self.store = store or JobStore()
        self.connections = connections or ConnectionStore()
        self.schedule = schedule
        self._first_seen: dict[str, float] = {}
        self._due: dict[str, float] = {}
        self._round: Optional[JobRequestTask] = None
        self._cancels: list[JobRequestTask] = []
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._start_round)
        self._stopped = True

    # ------------------------------------------------------------------ control
    def start(self) -> None:
        """Start (or resume) watching; the first round starts at once."""
        self._stopped = False
        self._timer.start(0)

    def stop(self) -> None:
        """Stop watching and abort what is in flight (nothing waits for the server)."""
        self._stopped = True
        self._timer.stop()
        for task in [self._round, *self._cancels]:
            if task is not None:
                try:
                    task.cancel()
                except RuntimeError:  # already deleted by the task manager
                    pass
        self._round = None
        self._cancels = []

    def poll_now(self, job_url: Optional[str] = None) -> None:
        """Start a round now: new records are due at once, ``job_url`` too (e.g. cancelled)."""
        if job_url:
            now = time.monotonic()
            self._due[job_url] = now
            self._first_seen[job_url] = now
        if not self._stopped and self._round is None:
            self._timer.start(0)

    def cancel_job(self, record: JobRecord) -> JobRequestTask:
        """Ask the server to cancel a job, in the background; it is polled again after."""
        task = JobRequestTask(f"Cancelling ArcGIS GP job {record.job_id}",
                              [(record, self._connection(record))], cancel_jobs=True)
        task.done.append(self._cancel_done)
        self._cancels.append(task)
        QgsApplication.taskManager().addTask(task)
        return task

    @property
    def busy(self) -> bool:
        """True while a round is in flight."""
        return self._round is not None

    # ------------------------------------------------------------------ rounds
    def _connection(self, record: JobRecord) -> Optional[Connection]:
        try:
            connection = self.connections.get(record.connection)
        except Exception:  # noqa: BLE001 - unreadable settings: treated as gone
            return None
        # a connection renamed onto another server is not the one the job ran on
        if connection is None or not _same_site(connection.url, record.task_url):
            return None
        return connection

    def _start_round(self) -> None:
        if self._stopped or self._round is not None:
            return
        now = time.monotonic()
        running = [r for r in self.store.running() if r.note != NOTE_NO_CONNECTION
                   or self._connection(r) is not None]
        due = []
        for record in running:
            self._first_seen.setdefault(record.job_url, now)
            if is_waited_here(record.job_url):  # the run records what it learns
                self._due[record.job_url] = now + self.schedule.ceiling
                continue
            if self._due.get(record.job_url, now) <= now:
                due.append((record, self._connection(record)))
        if not due:
            self._schedule_next()
            return
        task = JobRequestTask(f"Watching {len(due)} ArcGIS GP job(s)", due)
        task.done.append(self._round_done)
        self._round = task
        QgsApplication.taskManager().addTask(task)

    def _round_done(self, task: JobRequestTask) -> None:
        if task is self._round:
            self._round = None
        now = time.monotonic()
        for answer in task.answers:
            self._apply(answer)
            elapsed = now - self._first_seen.get(answer.job_url, now)
            self._due[answer.job_url] = now + self.schedule.delay(elapsed)
        self.changed.emit()
        self._schedule_next()

    def _cancel_done(self, task: JobRequestTask) -> None:
        if task in self._cancels:
            self._cancels.remove(task)
        for answer in task.answers:
            self._apply(answer)
            self.poll_now(answer.job_url)
        self.changed.emit()

    def _apply(self, answer: Answer) -> None:
        if answer.error:
            self.failed.emit(answer.job_url, answer.error)
        if answer.status is not None and answer.status.status:
            self.store.update(answer.job_url, lambda r: with_status(r, answer.status))
        elif answer.note:
            self.store.update(answer.job_url, lambda r: _noted(r, answer.note))
        if answer.note or (answer.status is not None and answer.status.is_terminal):
            self._due.pop(answer.job_url, None)
            self._first_seen.pop(answer.job_url, None)

    def _schedule_next(self) -> None:
        if self._stopped:
            return
        running = {r.job_url for r in self.store.running() if r.note != NOTE_NO_CONNECTION}
        if not running:
            self._timer.start(int(self.schedule.ceiling * 1000))  # look for new records
            return
        now = time.monotonic()
        wake = min(self._due.get(url, now) for url in running)
        self._timer.start(max(0, int((wake - now) * 1000)))


def _status(client: GPClient, record: JobRecord) -> jobs.JobStatus:
    """Ask for a job's status through the streaming GET.

    QgsBlockingNetworkRequest can miss a cancel that comes while it waits in a worker
    thread (its abort() deletes the reply, whose finished signal then never comes), and the
    task manager waits for every task when QGIS quits. The streaming GET aborts the reply
    itself, which ends its event loop at once.
    """
    with tempfile.TemporaryDirectory(prefix="arcgisgp_watch_") as folder:
        path = client.get_json_to_file(record.job_url, os.path.join(folder, "status.json"))
        with open(path, encoding="utf-8") as handle:
            body = json.load(handle)
    return jobs.JobStatus.from_json(body, record.job_id)


def _noted(record: JobRecord, note: str) -> JobRecord:
    ended = record.ended or (time.time() if note == NOTE_GONE else None)
    return replace(record, note=note, ended=ended, updated=time.time())


def _same_site(connection_url: str, task_url: str) -> bool:
    return origin_of(connection_url) == origin_of(task_url)


def describe(record: JobRecord) -> str:
    """Return a job's state as the dock shows it, in words."""
    if record.note == NOTE_GONE:
        return tr("Gone from the server")
    if record.note == NOTE_NO_CONNECTION:
        return tr("Connection removed")
    words = STATUS_WORDS.get(record.status)
    return tr(words) if words else (record.status.replace("esriJob", "") or "?")


STATUS_WORDS = {
    "esriJobNew": "New", "esriJobSubmitted": "Submitted", "esriJobWaiting": "Waiting",
    "esriJobExecuting": "Running", "esriJobCancelling": "Cancelling",
    "esriJobSucceeded": "Succeeded", "esriJobFailed": "Failed",
    "esriJobCancelled": "Cancelled", "esriJobTimedOut": "Timed out",
    "esriJobDeleted": "Deleted on the server", "esriJobDeleting": "Being deleted",
}


def elapsed_text(record: JobRecord, now: Optional[float] = None) -> str:
    """Return how long a job ran (or has been running): ``42 s``, ``3 min 05 s``, ``2 h 10 min``."""
    end = record.ended if record.ended is not None else (now or time.time())
    seconds = max(0, int(end - record.submitted))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
