"""A scripting facade in the spirit of ArcPy's ``ImportToolbox``.

    >>> from arcgis_gp.gp_client import import_toolbox
    >>> tbx = import_toolbox("https://host/arcgis/rest/services/Demo/Analysis/GPServer")
    >>> result = tbx.buffer_features(Input_Features=fs, Distance="100 Meters")
    >>> result.outputs["Output_Features"], result.messages, result.job_id

Each task becomes a method named in snake_case whose keyword arguments are the task's input
parameter names; ``help(tbx.buffer_features)`` shows the task's description and parameters.
A call runs the task to completion (``execute`` or ``submitJob`` + wait). Local files given
to file and raster parameters are uploaded first. Ctrl-C while waiting cancels the server
job and re-raises KeyboardInterrupt.
"""

from __future__ import annotations

import inspect
import keyword
import os
import re
import textwrap
from pathlib import Path
from typing import Any, Callable, Optional

from ._util import LOGGER, snake_case
from .auth import Auth
from .client import GPClient
from .discovery import arcpy_style_url, service
from .errors import BadInputError, GPError
from .jobs import Context, ExecuteResult, Job, Message, execute, submit
from .model import ParameterDescription, ServiceDescription, TaskDescription
from .text import html_lines
from .values import is_file_type, member_type


class Toolbox:
    """The tasks of one GP service as methods. Settings apply to every later call."""

    def __init__(self, client: GPClient, description: ServiceDescription) -> None:
        self.client = client
        self.description = description
        self.context: Optional[Context] = None
        self.return_z = False
        self.return_m = False
        self.deadline: Optional[float] = None
        self.on_message: Optional[Callable[[Message], Any]] = None
        self.last_job: Optional[Job] = None

    def __repr__(self) -> str:
        """Service URL and method names."""
        names = ", ".join(self.task_methods())
        return f"<Toolbox {self.description.url} [{names}]>"

    def __dir__(self) -> list[str]:
        """Include the task methods."""
        return sorted(set(super().__dir__()) | set(self.task_methods()))

    @classmethod
    def task_methods(cls) -> dict[str, str]:
        """Method name -> task name."""
        return dict(getattr(cls, "_task_names", {}))

    def run(self, task_name: str, **inputs: Any) -> ExecuteResult:
        """Run a task by its published name (as the methods do)."""
        desc = self.description.task(task_name)
        return self._run(desc, inputs)

    def submit(self, task_name: str, **inputs: Any) -> Job:
        """Submit an asynchronous task by its published name and return the Job at once."""
        desc = self.description.task(task_name)
        if not self._is_async(desc):
            raise BadInputError(f"Task {task_name!r} is synchronous: call it, do not submit it")
        return submit(self.client, desc.url, self._prepare(desc, inputs),
                      context=self.context, current_version=self.description.current_version,
                      return_z=self.return_z, return_m=self.return_m, task=desc)

    def download(self, value: Any, folder: str | os.PathLike,
                 filename: Optional[str] = None) -> Path:
        """Download a file output (``{"url": ...}`` or a URL) into ``folder``."""
        url = value.get("url") if isinstance(value, dict) else value
        if not isinstance(url, str) or not url:
            raise BadInputError(f"{value!r} is not a file output: expected {{'url': ...}}")
        return self.client.download(url, folder, filename)

    # -- internals ---------------------------------------------------------------------

    def _is_async(self, desc: TaskDescription) -> bool:
        if desc.execution_type:
            return desc.is_async
        return self.description.is_async

    def _prepare(self, desc: TaskDescription, inputs: dict) -> dict:
        out = {}
        for name, value in inputs.items():
            try:
                p = desc.parameter(name)
            except KeyError:
                valid = ", ".join(q.name for q in desc.inputs) or "none"
                raise BadInputError(f"{desc.name} has no parameter {name!r}; its inputs are: "
                                    f"{valid}") from None
            out[name] = self._upload_local(p, value)
        return out

    def _upload_local(self, p: ParameterDescription, value: Any) -> Any:
        dtype = p.data_type or ""
        member = member_type(dtype)
        if member is not None and isinstance(value, (list, tuple)):
            return [self._upload_local_one(member, p, v) for v in value]
        return self._upload_local_one(dtype, p, value)

    def _upload_local_one(self, dtype: str, p: ParameterDescription, value: Any) -> Any:
        if not is_file_type(dtype):
            return value
        path = None
        if isinstance(value, os.PathLike):
            path = Path(value)
        elif isinstance(value, str) and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", value) \
                and not value.strip().startswith("{"):
            path = Path(value)
        if path is None:
            return value
        if not path.is_file():
            raise BadInputError(f"Parameter {p.name!r}: {str(path)!r} is neither a URL nor an "
                                "existing file")
        item_id = self.client.upload(self.description.url, path)
        LOGGER.info("Uploaded %s for %s as item %s", path.name, p.name, item_id)
        return {"itemID": item_id}

    def _run(self, desc: TaskDescription, inputs: dict) -> ExecuteResult:
        prepared = self._prepare(desc, inputs)
        kwargs = dict(context=self.context, current_version=self.description.current_version,
                      return_z=self.return_z, return_m=self.return_m, task=desc)
        if not self._is_async(desc):
            result = execute(self.client, desc.url, prepared, **kwargs)
            for m in result.messages:
                if self.on_message is not None:
                    self.on_message(m)
            return result
        job = submit(self.client, desc.url, prepared, **kwargs)
        self.last_job = job
        try:
            status = job.wait(deadline=self.deadline, on_message=self.on_message)
        except KeyboardInterrupt:
            LOGGER.warning("Interrupted: cancelling job %s", job.job_id)
            try:
                job.cancel()
            except GPError as exc:
                LOGGER.warning("Could not cancel job %s: %s", job.job_id, exc)
            raise
        return ExecuteResult(outputs=job.results(), messages=status.messages, raw=status.raw,
                             job_id=job.job_id)


def import_toolbox(service_url: str, auth: Optional[Auth] = None,
                   client: Optional[GPClient] = None) -> Toolbox:
    """Read a GP service and return a :class:`Toolbox` with one method per task.

    ``service_url``: ``https://host/arcgis/rest/services/<folder>/<service>/GPServer`` (a task
    URL works too), or ArcPy's ``https://host/arcgis/services;<folder>/<service>``.
    """
    if client is None:
        client = GPClient(auth=auth)
    elif auth is not None and client.auth is not auth:
        raise BadInputError("Give either auth or a client (with its own auth), not both")
    url = arcpy_style_url(service_url) or service_url
    desc = service(client, url)
    methods: dict[str, Any] = {}
    names: dict[str, str] = {}
    for t in desc.tasks:
        mname = _method_name(t.name, set(names) | set(dir(Toolbox)))
        names[mname] = t.name
        methods[mname] = _make_method(mname, t)
    cls_name = "Toolbox_" + re.sub(r"\W", "_", desc.name or "service")
    cls = type(cls_name, (Toolbox,), {**methods, "_task_names": names,
                                      "__doc__": _toolbox_doc(desc, names)})
    return cls(client, desc)


def _method_name(task_name: str, taken: set[str]) -> str:
    base = snake_case(task_name)
    if keyword.iskeyword(base):
        base += "_"
    name = base
    n = 2
    while name in taken:
        name = f"{base}_{n}"
        n += 1
    return name


def _make_method(mname: str, desc: TaskDescription) -> Callable[..., ExecuteResult]:
    params = [inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)]
    odd = []
    for p in desc.inputs:
        if not p.name.isidentifier() or keyword.iskeyword(p.name):
            odd.append(p.name)
            continue
        default = inspect.Parameter.empty if p.is_required else None
        params.append(inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY,
                                        default=default))
    if odd:
        params.append(inspect.Parameter("inputs", inspect.Parameter.VAR_KEYWORD))
    sig = inspect.Signature(params, return_annotation=ExecuteResult)
    task_name = desc.name

    def method(self: Toolbox, **inputs: Any) -> ExecuteResult:
        try:
            sig.bind(self, **inputs)
        except TypeError as exc:
            raise BadInputError(f"{mname}(): {exc}") from None
        given = {k: v for k, v in inputs.items() if v is not None}
        return self._run(self.description.task(task_name), given)

    method.__name__ = mname
    method.__qualname__ = mname
    method.__signature__ = sig  # type: ignore[attr-defined]
    method.__doc__ = _task_doc(desc)
    return method


def _task_doc(desc: TaskDescription) -> str:
    lines = [desc.label]
    if desc.description and desc.description.strip() != desc.label:
        lines += ["", textwrap.fill(_plain(desc.description), width=88)]
    mode = "asynchronous (submitJob)" if desc.is_async else "synchronous (execute)"
    lines += ["", f"Task {desc.name!r}, {mode}: {desc.url}", "", "Parameters", "----------"]
    for p in desc.inputs:
        lines.append(_param_line(p))
    if desc.outputs:
        lines += ["", "Returns", "-------",
                  "ExecuteResult with .outputs (a dict by output name), .messages, .job_id.",
                  "Outputs:"]
        for p in desc.outputs:
            lines.append(_param_line(p))
    return "\n".join(lines)


def _param_line(p: ParameterDescription) -> str:
    kind = "required" if p.is_required else ("output" if p.is_output else "optional")
    head = f"{p.name} : {p.data_type or 'unknown type'} ({kind})"
    body = []
    if p.display_name and p.display_name != p.name:
        body.append(p.display_name + ".")
    if p.description:
        body.append(_plain(p.description))
    if p.choices:
        body.append("Choices: " + ", ".join(repr(c) for c in p.choices) + ".")
    if p.is_input and p.default_value not in (None, "", [], {}):
        shown = repr(p.default_value)
        if len(shown) > 120:
            shown = shown[:117] + "..."
        body.append(f"Default: {shown}" + ("" if shown.endswith("...") else "."))
    text = " ".join(body)
    if not text:
        return head
    return head + "\n" + textwrap.fill(text, width=88, initial_indent="    ",
                                       subsequent_indent="    ")


def _toolbox_doc(desc: ServiceDescription, names: dict[str, str]) -> str:
    lines = [f"GP service {desc.name} at {desc.url}", "", "Tasks:"]
    for mname, tname in names.items():
        lines.append(f"  {mname}  ({tname})")
    return "\n".join(lines)


def _plain(text: str) -> str:
    """Task descriptions are often HTML: keep the words."""
    return " ".join(html_lines(text))
