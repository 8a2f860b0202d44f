"""The profile's record of submitted jobs: what ran where, so that a job outlives its run.

One JSON file, ``<QGIS profile>/arcgis_gp/jobs.json``, holding one record per job the plugin
submitted or re-attached (toolbox, batch, models, console, qgis_process, the jobs dock). A
record says where the job runs (connection, task URL, job URL), when it was submitted and
ended, its last known status, its outputs' destinations and its inputs in short. It never
holds a token, password or key: URLs lose their user info and secret query parameters,
texts are scrubbed the same way, and inputs are reduced to short descriptions.

Writes are atomic (a temporary file renamed over the old one) and serialised between the
processes of one profile (a lock file: a qgis_process run and the desktop may write at the
same moment). The file stays small: at most ``MAX_FINISHED`` ended jobs are kept (the most
recent), running ones up to ``MAX_RUNNING``; each record keeps its last ``MAX_MESSAGES``
server messages. A file that cannot be read is set aside (``jobs.json.bad``), never fatal.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Optional

from qgis.core import QgsApplication

from ..gp_client._util import redact_text, redact_url
from ..gp_client.jobs import TERMINAL
from .notices import warn

try:  # POSIX; elsewhere the in-process lock alone serialises writes
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

STORE_FORMAT = 1
MAX_FINISHED = 200
MAX_RUNNING = 200
MAX_MESSAGES = 30
MAX_TEXT = 300
# What a record says when the watcher learns something the server's status cannot say.
NOTE_GONE = "gone"  # the server does not know the job (deleted, or expired)
NOTE_NO_CONNECTION = "no-connection"  # the connection it ran on was removed

# Data source strings carry credentials as password='x' or user:pw@host (and key=value
# forms redact_text already masks); user names are masked as well.
_QUOTED_CREDENTIAL = re.compile(r"(?i)\b(password|passwd|pwd|user|username|token|key)\s*=\s*"
                                r"('[^']*'|\"[^\"]*\"|[^\s&;'\"]+)")
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@")
_LOCK = threading.Lock()  # serialises this process's writers; the lock file the others


def default_store_path() -> Path:
    """Return the job file inside the active QGIS profile."""
    return Path(QgsApplication.qgisSettingsDirPath()) / "arcgis_gp" / "jobs.json"


def clean_url(url: str) -> str:
    """Return a job or task URL without user info, secrets, other query fields or fragment."""
    return redact_url(url or "").split("?", 1)[0].split("#", 1)[0].rstrip("/")


def clean_text(text: Any, limit: int = MAX_TEXT) -> str:
    """Return ``text`` scrubbed of secrets and cut to ``limit`` characters."""
    value = str(text if text is not None else "")
    value = _USERINFO.sub(r"\1", _QUOTED_CREDENTIAL.sub(r"\1=***", value))
    value = redact_text(value)
    return value if len(value) <= limit else value[: limit - 1] + "\u2026"


@dataclass(frozen=True)
class JobRecord:
    """One job as the profile remembers it."""

    job_url: str
    job_id: str
    task_url: str
    connection: str
    algorithm_id: str
    task: str
    submitted: float
    status: str = "esriJobSubmitted"
    ended: Optional[float] = None
    updated: Optional[float] = None
    progress: Optional[float] = None
    messages: tuple = ()  # (esri message type, text) pairs, the last MAX_MESSAGES
    outputs: dict = field(default_factory=dict)  # output name -> destination given
    inputs: dict = field(default_factory=dict)  # input name -> short description
    note: str = ""  # NOTE_GONE, NOTE_NO_CONNECTION or ""

    @property
    def is_finished(self) -> bool:
        """True once the job has ended on the server, or the server no longer knows it."""
        return self.status in TERMINAL or self.note == NOTE_GONE

    def to_json(self) -> dict:
        """Return the stored form."""
        data = asdict(self)
        data["messages"] = [list(m) for m in self.messages]
        return data

    @classmethod
    def from_json(cls, data: dict) -> JobRecord:
        """Read a stored record (unknown keys are ignored, missing ones take defaults)."""
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        values["messages"] = tuple(tuple(m) for m in values.get("messages") or ()
                                   if isinstance(m, (list, tuple)) and len(m) == 2)
        return cls(**values).scrubbed()

    def scrubbed(self) -> JobRecord:
        """Return the record with every URL and text free of secrets and bounded."""
        return replace(
            self,
            job_url=clean_url(self.job_url), task_url=clean_url(self.task_url),
            task=clean_text(self.task), connection=clean_text(self.connection),
            messages=tuple((str(t), clean_text(d)) for t, d in self.messages[-MAX_MESSAGES:]),
            outputs={str(k): clean_text(v) for k, v in dict(self.outputs).items()},
            inputs={str(k): clean_text(v, 120) for k, v in dict(self.inputs).items()},
        )


class JobStore:
    """Reads and writes the job file; every change is one locked read-modify-write."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self._path = Path(path) if path is not None else None

    @property
    def path(self) -> Path:
        """Return the job file (the profile's unless one was given)."""
        return self._path if self._path is not None else default_store_path()

    # ------------------------------------------------------------------ reading
    def all(self) -> list[JobRecord]:
        """Return every record, the most recently submitted first."""
        return sorted(self._read(self.path), key=lambda r: r.submitted, reverse=True)

    def get(self, job_url: str) -> Optional[JobRecord]:
        """Return the record of a job URL, if any."""
        key = clean_url(job_url)
        return next((r for r in self._read(self.path) if r.job_url == key), None)

    def running(self) -> list[JobRecord]:
        """Return the records of jobs not known to have ended."""
        return [r for r in self.all() if not r.is_finished]

    # ------------------------------------------------------------------ writing
    def put(self, record: JobRecord) -> JobRecord:
        """Add a record, or replace the one of the same job URL; return it as stored."""
        record = record.scrubbed()
        with self._editing() as records:
            records[:] = [r for r in records if r.job_url != record.job_url] + [record]
        return record

    def update(self, job_url: str, change: Callable[[JobRecord], JobRecord]
               ) -> Optional[JobRecord]:
        """Apply ``change`` to a job's record (None when there is none); return the result."""
        key = clean_url(job_url)
        result: Optional[JobRecord] = None
        with self._editing() as records:
            for index, old in enumerate(records):
                if old.job_url == key:
                    result = change(old).scrubbed()
                    records[index] = result
                    break
        return result

    def remove(self, job_url: str) -> bool:
        """Forget a job (the server is not asked anything); return whether it was there."""
        key = clean_url(job_url)
        with self._editing() as records:
            before = len(records)
            records[:] = [r for r in records if r.job_url != key]
            return len(records) != before

    # ------------------------------------------------------------------ internals
    @contextmanager
    def _editing(self) -> Iterator[list[JobRecord]]:
        path = self.path
        path.parent.mkdir(parents=True, exist_ok=True)
        with _LOCK, _file_lock(path.with_name(path.name + ".lock")):
            records = self._read(path)
            yield records
            _write_atomically(path, _bounded(records))

    @staticmethod
    def _read(path: Path) -> list[JobRecord]:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except OSError as err:
            warn(f"Could not read the list of ArcGIS GP jobs ({path}): {err}.")
            return []
        try:
            data = json.loads(text)
            return [JobRecord.from_json(d) for d in data.get("jobs", [])]
        except (ValueError, TypeError, AttributeError) as err:
            bad = path.with_name(path.name + ".bad")
            try:
                os.replace(path, bad)
            except OSError:
                pass
            warn(f"The list of ArcGIS GP jobs ({path}) could not be read ({err}); it was "
                 f"moved to {bad} and a new list started. Jobs still running on the server "
                 "can be re-attached with their job URL (ARCGISGP_ATTACH_JOB).")
            return []


def _bounded(records: list[JobRecord]) -> list[JobRecord]:
    """Keep the newest MAX_FINISHED ended jobs and MAX_RUNNING running ones."""
    def newest_first(r: JobRecord) -> float:
        return -(r.ended or r.updated or r.submitted)

    finished = sorted((r for r in records if r.is_finished), key=newest_first)[:MAX_FINISHED]
    running = sorted((r for r in records if not r.is_finished), key=newest_first)[:MAX_RUNNING]
    return sorted(finished + running, key=lambda r: r.submitted)


def _write_atomically(path: Path, records: list[JobRecord]) -> None:
    data = {"format": STORE_FORMAT, "written": time.time(),
            "jobs": [r.to_json() for r in records]}
    fd, tmp = tempfile.mkstemp(prefix=".jobs-", suffix=".tmp", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=1)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.remove(tmp)
        except OSError:
            pass
        raise


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    if fcntl is None:
        yield
        return
    with open(path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
