"""Output values as they go on the wire (with the job's context applied)."""

from __future__ import annotations

from typing import Any

from .catalog import Param


def output_value(job: Any, param: Param) -> Any:
    """Return the value of one output of a finished job."""
    return job.results.get(param.name)
