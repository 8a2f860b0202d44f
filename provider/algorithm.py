"""The one generic algorithm: a GP task of a service, built from its description."""

from __future__ import annotations

import html
import os
import re
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Optional

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingUtils,
)
from qgis.PyQt.QtCore import QCoreApplication, QThread

from ..gp_client import jobs
from ..gp_client.errors import GPError, JobCancelledError, JobError
from ..gp_client.model import ServiceDescription, TaskDescription
from ..gp_client.names import ERROR_MESSAGE_TYPES, MSG_WARNING
from ..gp_client.text import html_lines
from . import attach, notices
from .clients import make_client
from .connections import Connection, ConnectionStore
from .explain import explain_error
from .live_inputs import server_layer_input
from .live_layers import add_hosted_layer, add_result_map_layer, live_outputs
from .parameters import (
    MISSING,
    ResultFile,
    RunEnv,
    display_name,
    enum_from_names,
    first_problem,
    gp_type,
    help_text,
    output_skipped,
)
from .run_options import RunOptions, option_parameters, takes_own_context
from .split_run import SplitPlan, run_split
from .styling import style_when_loaded
from .transfer_limit import LimitInfo, input_feature_count
from .transfer_limit import check as check_transfer_limit


@dataclass(frozen=True)
class TaskSpec:
    """Everything an algorithm is built from: serialisable descriptions, no run state."""

    connection: Connection
    service: ServiceDescription
    task: TaskDescription
    name: str
    group: str
    group_id: str
    store: Optional[ConnectionStore] = None


class GpTaskAlgorithm(QgsProcessingAlgorithm):
    """Runs one GP task on its server: inputs out as Esri JSON, results back as layers."""

    def __init__(self, spec: TaskSpec) -> None:
        super().__init__()
        self._spec = spec

    # ------------------------------------------------------------------ identity
    @property
    def spec(self) -> TaskSpec:
        """Return the description this algorithm was built from."""
        return self._spec

    def createInstance(self) -> GpTaskAlgorithm:
        """Return a new instance built from the same description."""
        return GpTaskAlgorithm(self._spec)

    def name(self) -> str:
        """Return the stable algorithm name."""
        return self._spec.name

    def displayName(self) -> str:
        """Return the task's display name."""
        return self._spec.task.label

    def group(self) -> str:
        """Return the group: connection and service."""
        return self._spec.group

    def groupId(self) -> str:
        """Return the group id: connection and service."""
        return self._spec.group_id

    def tags(self) -> list[str]:
        """Return search tags."""
        task = self._spec.task
        return ["arcgis", "esri", "gpserver", task.name, self._spec.connection.name,
                self._spec.service.name]

    def flags(self) -> QgsProcessingAlgorithm.Flags:
        """Return the flags: cancellable and batch capable (the defaults)."""
        return super().flags() | QgsProcessingAlgorithm.Flag.FlagCanCancel

    def helpUrl(self) -> str:
        """Return the task's help URL, or its REST page."""
        return self._spec.task.help_url or self._spec.task.url

    def shortHelpString(self) -> str:
        """Return plain text, one paragraph a line: description, parameters, where it runs.

        qgis_process prints this as it is; the Processing dialog shows each line as a
        paragraph. Each parameter's full help is also in its definition (setHelp).
        """
        spec = self._spec
        task = spec.task
        lines = []
        description = plain_text(task.description or "")
        if description:
            lines.extend(description.splitlines())
        if task.parameters:
            lines.append("Parameters:")
        for p in task.parameters:
            kind = "output" if p.is_output else ("required" if p.is_required else "optional")
            note = gp_type(p.data_type).help_note(p)
            text = " ".join(plain_text(help_text(p, note)).split())
            lines.append(f"- {display_name(p)} ({p.name}, {kind}): {text}")
        lines.append(f"Runs on {spec.connection.name} at {task.url}, {_mode(spec)}.")
        return "\n".join(lines)

    def helpString(self) -> str:
        """Return the same help as HTML (a definition list of the parameters)."""
        spec = self._spec
        task = spec.task
        parts = []
        if task.description:
            parts.append(f"<p>{_esc(task.description)}</p>")
        rows = []
        for p in task.parameters:
            kind = "output" if p.is_output else ("required" if p.is_required else "optional")
            note = gp_type(p.data_type).help_note(p)
            text = _esc(help_text(p, note)).replace("\n", "<br>")
            rows.append(f"<dt><b>{_esc(display_name(p))}</b> "
                        f"(<code>{_esc(p.name)}</code>, {kind})</dt><dd>{text}</dd>")
        if rows:
            parts.append("<h3>Parameters</h3><dl>" + "".join(rows) + "</dl>")
        parts.append(f"<p>Runs on {_esc(spec.connection.name)} at {_esc(task.url)}, "
                     f"{_mode(spec)}.</p>")
        return "".join(parts)

    # ------------------------------------------------------------------ parameters
    def initAlgorithm(self, configuration: Optional[dict] = None) -> None:
        """Add a parameter (or two) per input and a destination or output per output."""
        task = self._spec.task
        for p in task.inputs:
            for definition in gp_type(p.data_type).input_parameters(p):
                self.addParameter(definition)
        for p in task.outputs:
            handler = gp_type(p.data_type)
            destination = handler.output_parameter(p)
            if destination is not None:
                self.addParameter(destination, True)
            else:
                output = handler.output(p)
                if output is not None:
                    self.addOutput(output)
        if _is_async(self._spec):
            self.addParameter(attach.attach_parameter())
        for definition in option_parameters(self._spec.service, task):
            self.addParameter(definition)
        for output in live_outputs(self._spec.service, task):
            self.addOutput(output)

    def checkParameterValues(self, parameters: dict, context: QgsProcessingContext
                             ) -> tuple[bool, str]:
        """Check the values as processAlgorithm will take them (see normalized_parameters)."""
        if attach.requested(parameters):  # re-attaching: the task's inputs are not needed
            return attach.check_values(self, self.normalized_parameters(parameters), context)
        normalized = self.normalized_parameters(parameters)
        problem = first_problem(self, self._spec.task, self._spec.service, normalized, context)
        if problem:  # what the task description says, before Processing's generic checks
            return False, problem
        return super().checkParameterValues(normalized, context)

    def normalized_parameters(self, parameters: dict) -> dict:
        """Return the parameters as QGIS 3.22 takes them.

        Choice and unit names become their indexes, and an output left out gets its
        default (a temporary output): QGIS before 3.24 refuses both otherwise, although
        the outputs are not optional.
        """
        adjusted = dict(parameters)
        for definition in self.parameterDefinitions():
            name = definition.name()
            if name in adjusted:
                adjusted[name] = enum_from_names(definition, adjusted[name])
            elif definition.isDestination() and definition.defaultValue() is not None:
                adjusted[name] = definition.defaultValue()
        return adjusted

    # ------------------------------------------------------------------ running
    def processAlgorithm(self, parameters: dict, context: QgsProcessingContext,
                         feedback: QgsProcessingFeedback) -> dict:
        """Send the inputs, run the task (execute or submitJob), and store its results."""
        parameters = self.normalized_parameters(parameters)
        spec = self._spec
        connection = _current_connection(spec)
        service_url = spec.service.url
        # A synchronous execute cannot be cancelled on the server: cancelling aborts the
        # request instead. An asynchronous job needs the client after a cancel (to send it).
        try:
            client = make_client(connection, auth_origins=[service_url, spec.task.url],
                                 feedback=None if _is_async(spec) else feedback)
        except GPError as err:
            raise QgsProcessingException(explain_error(err, connection)) from None
        work_dir = os.path.join(QgsProcessingUtils.tempFolder(), f"arcgisgp_{uuid.uuid4().hex}")
        os.makedirs(work_dir, exist_ok=True)
        uploaded: list[str] = []
        options = RunOptions.read(self, parameters, context)
        # a re-attached job was split (or not) when it was submitted
        plan = None if attach.requested(parameters) else SplitPlan.for_run(spec.task, options)
        submitted: list[str] = []  # the ids of this run's jobs

        def upload(path: str) -> str:
            item_id = client.upload(service_url, path)
            uploaded.append(item_id)
            return item_id

        env = RunEnv(
            algorithm=self, parameters=parameters, context=context, feedback=feedback,
            work_dir=work_dir,
            upload=upload,
            download=lambda url, folder: client.download(url, folder),
            get_json=client.get_json,
            uploads_allowed=spec.service.supports_uploads,
        )
        try:
            inputs = {}
            for p in ([] if attach.requested(parameters) else spec.task.inputs):
                if plan is not None and p.name == plan.param.name:
                    plan.read_input(env)
                    continue
                value = server_layer_input(p, env, connection, spec.task.url, options)
                if value is None:
                    value = gp_type(p.data_type).to_wire(p, env)
                if value is not MISSING:
                    inputs[p.name] = value
                if feedback.isCanceled():
                    return {}
            context_sr = None
            if not takes_own_context(spec.task):
                # results come back in the CRS of the first input layer
                context_sr = options.job_context(env.crs_used[0] if env.crs_used else None)
                for note in options.context_notes(spec.service.version):
                    feedback.pushWarning(note)
            if plan is not None:
                outputs = run_split(plan, client, spec, inputs, context_sr, feedback, submitted)
            else:
                outputs = self._run(client, inputs, context_sr, env, submitted)
            limit = LimitInfo(spec.service.name, spec.service.maximum_records,
                              input_feature_count(inputs, spec.task))
            for p in spec.task.outputs:
                value = outputs.get(p.name)
                check_transfer_limit(p, value, limit, feedback)
                add_hosted_layer(p, value, connection, env)
                gp_type(p.data_type).from_wire(p, value, env)
                if isinstance(value, ResultFile):
                    _remove(value.path)
        except JobCancelledError as err:
            raise QgsProcessingException(
                f"Cancelled: the server job was cancelled ({err}).") from None
        except GPError as err:
            if feedback.isCanceled():
                raise QgsProcessingException(f"Cancelled ({err}).") from None
            if isinstance(err, JobError):
                raise QgsProcessingException(_job_error_text(err)) from None
            raise QgsProcessingException(explain_error(err, connection)) from None
        finally:
            _delete_uploads(client, service_url, uploaded)
        if options.result_map_layer:
            add_result_map_layer(spec.service, submitted, connection, env)
        for destination, drawing_info in env.drawing_infos.items():
            style_when_loaded(context, destination, drawing_info, "server")
        return env.results

    def _run(self, client: Any, inputs: dict, context_sr: Any, env: RunEnv,
             submitted: list[str]) -> dict:
        spec = self._spec
        feedback = env.feedback
        url = spec.task.url
        version = spec.service.current_version
        on_main = QThread.currentThread() is QCoreApplication.instance().thread() \
            if QCoreApplication.instance() is not None else False
        if not _is_async(spec):
            feedback.pushInfo(f"Executing {spec.task.name} on {url}")
            result = jobs.execute(client, url, inputs, context=context_sr,
                                  current_version=version, task=spec.task)
            for message in result.messages:
                _report(feedback, message)
            return dict(result.outputs)
        attach_to = attach.requested(env.parameters)
        if attach_to:
            job = attach.attach(client, url, attach_to)
            feedback.pushInfo(f"Attached to job {job.job_id} at {url} (nothing submitted)")
        else:
            job = jobs.submit(client, url, inputs, context=context_sr, current_version=version,
                              task=spec.task)
            feedback.pushInfo(f"Submitted job {job.job_id} to {url}")
        attach.record_job(self, job, env.parameters)
        submitted.append(job.job_id)
        lock = threading.Lock()

        def should_cancel() -> bool:
            if on_main:
                QCoreApplication.processEvents()
            return feedback.isCanceled()

        def on_message(message: Any) -> None:
            with lock:
                _report(feedback, message)

        def on_progress(*args: Any) -> None:
            percent = _percent(args)
            if percent is not None:
                feedback.setProgress(percent)
            if on_main:
                QCoreApplication.processEvents()

        try:
            with attach.waited_here(job.url):
                job.wait(should_cancel=should_cancel, on_message=on_message,
                         on_progress=on_progress, on_status=attach.StatusRecorder(job))
        except JobCancelledError:
            if feedback.isCanceled():
                feedback.reportError(f"Cancelled job {job.job_id} on the server.", False)
            raise
        finally:
            attach.record_status(job)
        if feedback.isCanceled():
            raise JobCancelledError(f"job {job.job_id} cancelled", job_id=job.job_id)
        feedback.setProgress(100)
        return self._results(job, env)

    def _results(self, job: Any, env: RunEnv) -> dict:
        """Fetch the job's results: feature sets streamed to files, other values in memory."""
        available = job.last_status.results if job.last_status is not None else {}
        streamed = [p.name for p in self._spec.task.outputs
                    if gp_type(p.data_type).streams_result and p.name in available]
        outputs = dict(job.results([name for name in available if name not in streamed]))
        for index, name in enumerate(streamed):
            if env.feedback.isCanceled():
                raise JobCancelledError(f"job {job.job_id}: results not read",
                                        job_id=job.job_id)
            if output_skipped(env, name):
                continue
            path = os.path.join(env.work_dir, f"result_{index}.json")
            outputs[name] = ResultFile(str(job.result_to_file(name, path)),
                                       f"{job.url}/results/{name}")
        return outputs


def _remove(path: str) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _delete_uploads(client: Any, service_url: str, item_ids: list[str]) -> None:
    """Delete the items this run uploaded (its job has ended); a failure is only logged."""
    for item_id in item_ids:
        try:
            client.delete_upload(service_url, item_id)
        except GPError as err:
            notices.log(f"Could not delete the uploaded item {item_id} at {service_url}: {err}")


def _esc(text: str) -> str:
    return html.escape(text or "", quote=False)


# Left in plain text, '<feature layer>' would vanish in the dialog (it renders the lines
# as HTML paragraphs): such look-alike tags are shown with single angle quotes instead.
_TAG_LIKE = re.compile(r"<([A-Za-z/][^<>]*)>")


def plain_text(text: str) -> str:
    """Return text without HTML markup (task descriptions may hold some), one line a block."""
    return "\n".join(_TAG_LIKE.sub("\u2039\\1\u203a", line) for line in html_lines(text))


def _mode(spec: TaskSpec) -> str:
    return "asynchronous (submitJob)" if _is_async(spec) else "synchronous (execute)"


def _is_async(spec: TaskSpec) -> bool:
    if spec.task.execution_type:
        return spec.task.is_async
    return spec.service.is_async


def _current_connection(spec: TaskSpec) -> Connection:
    """Return the connection as it is now (its authcfg may have been edited)."""
    store = spec.store or ConnectionStore()
    try:
        current = store.get(spec.connection.name)
    except Exception:  # noqa: BLE001 - settings trouble must not stop a run
        current = None
    if current is not None and current.url == spec.connection.url:
        return current
    return spec.connection


def _report(feedback: QgsProcessingFeedback, message: Any) -> None:
    kind = getattr(message, "type", "") or ""
    text = getattr(message, "description", None)
    if text is None:
        text = str(message)
    if kind in ERROR_MESSAGE_TYPES:
        feedback.reportError(text, False)
    elif kind == MSG_WARNING:
        feedback.pushWarning(text)
    else:
        feedback.pushInfo(text)


def _percent(args: tuple) -> Optional[float]:
    for arg in args:
        value = getattr(arg, "percent", arg)
        if isinstance(value, dict):
            value = value.get("percent")
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return max(0.0, min(100.0, float(value)))
    return None


# ArcGIS ends every failed job with these two error messages; they say nothing the
# failure itself does not (both still reach the log with the job's other messages).
_TRAILERS = re.compile(r"^(Failed to execute \(.*\)\.?|Failed at (mon|tue|wed|thu|fri|sat|sun).*)$",
                       re.IGNORECASE)


def _job_error_text(err: JobError) -> str:
    """Return the server's error messages (not its boilerplate), or the error's own text."""
    errors = [m.strip() for m in err.error_messages if m and m.strip()]
    meaningful = [m for m in errors if not _TRAILERS.match(m)] or errors
    return "\n".join(dict.fromkeys(meaningful)) if meaningful else str(err)
