"""Bearing with a server that fails while a job is waited for: how long, and what is worth it.

A restart or a network outage must not lose a job that runs on: polling and result
fetches keep trying, with growing pauses, for ``PATIENCE`` seconds (``Job.patience``),
logging once that the server does not answer and which job is waited for.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from ._util import LOGGER, redact_url
from .errors import GPError, HTTPError, NetworkError, NotJSONError

#: Seconds a wait or a result fetch keeps trying while the server cannot be reached or
#: answers with gateway errors (a restart, a network outage); then it gives up.
PATIENCE = 300.0


def sign_in_page(exc: GPError) -> bool:
    """Whether an error is an HTML sign-in page (a proxy or single sign-on in the way)."""
    return isinstance(exc, NotJSONError) and exc.sign_in


def transient(exc: GPError) -> bool:
    """Whether a failed GET may succeed if asked again: the network, a gateway, a cut body."""
    if isinstance(exc, NetworkError):
        return True
    if isinstance(exc, HTTPError):
        return exc.status >= 500 or exc.status in (408, 429)
    return isinstance(exc, NotJSONError) and exc.broken


class Outage:
    """The server failing while a job is waited for: logged once, borne for ``patience``."""

    first_pause = 1.0
    longest_pause = 15.0

    def __init__(self, job: Any, doing: str) -> None:
        self.job = job
        self.doing = doing
        self.since: Optional[float] = None
        self.attempts = 0

    def failed(self, exc: GPError) -> None:
        """Note a failed request; raise when it is not transient or patience ran out."""
        job = self.job
        if sign_in_page(exc):
            raise NotJSONError(
                f"{exc} This happened while {self.doing} job {job.job_id}, which may still be "
                f"running on the server: once signed in, wait for it again from "
                f"{redact_url(job.url)} (Job.from_url) rather than running the task again.",
                url=job.url, excerpt=exc.excerpt, sign_in=True) from None
        if not transient(exc):
            raise exc
        now = time.monotonic()
        self.attempts += 1
        if self.since is None:
            self.since = now
            LOGGER.warning("The server does not answer while %s job %s (%s); trying again "
                           "for up to %g s. The job runs on at %s.", self.doing, job.job_id,
                           exc, job.patience, redact_url(job.url))
        if now - self.since >= job.patience:
            # the last error, same class and fields, told as the end of a long wait
            err = type(exc).__new__(type(exc))  # not copy.copy: it calls __init__ again
            err.__dict__.update(exc.__dict__)
            err.args = (
                f"Gave up {self.doing} job {job.job_id} after the server did not answer "
                f"properly for {now - self.since:.0f} s ({self.attempts} attempts; last: "
                f"{exc}). The job may still be running or done on the server: its status is "
                f"at {redact_url(job.url)}. Wait for it again (Job.from_url) once the server is "
                "back rather than running the task again, which would run it twice.",)
            err.job_id = job.job_id
            raise err from None

    def pause(self) -> float:
        """The pause before the next try: 1 s, then doubling up to 15 s."""
        return min(self.longest_pause, self.first_pause * 2 ** max(0, self.attempts - 1))

    def over(self) -> None:
        """The server answered again."""
        if self.since is not None:
            LOGGER.info("The server answers again (job %s, after %.0f s)", self.job.job_id,
                        time.monotonic() - self.since)
        self.since = None
        self.attempts = 0
