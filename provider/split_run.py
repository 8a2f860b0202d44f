"""A feature input split into several jobs, run at once, their results merged in input order.

Opt-in (``ARCGISGP_SPLIT`` features per job, ``ARCGISGP_PARALLEL`` jobs at once). The jobs
are polled from the run's own thread, one after another in a round: no extra threads, so
the QGIS network stack is used as in any other run. Cancel cancels every job; the first
failed job cancels the others and fails the run with its own message.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from qgis.core import QgsProcessingException, QgsProcessingFeedback
from qgis.PyQt.QtCore import QCoreApplication, QThread

from ..gp_client import jobs
from ..gp_client.errors import GPError, JobCancelledError, NetworkError
from .i18n import tr
from .run_options import FEATURE_TYPES, RunOptions, feature_inputs
from .transfer_limit import LimitInfo, check

POLL_FIRST = 0.1  # seconds before the first status round; grows to POLL_CEILING
POLL_CEILING = 2.0
SLICE = 0.05  # how often cancel is checked while waiting


@dataclass
class SplitPlan:
    """Which input is split, into how many features per job, and how many jobs run at once."""

    param: Any
    size: int
    parallel: int
    chunks: list = field(default_factory=list)

    @classmethod
    def for_run(cls, task: Any, options: RunOptions) -> Optional[SplitPlan]:
        """The plan when the user asked for a split (the first feature input), else None."""
        inputs = feature_inputs(task)
        if options.split <= 0 or not inputs:
            return None
        required = [p for p in inputs if p.is_required]
        return cls((required or inputs)[0], options.split, options.parallel)

    def read_input(self, env: Any) -> None:
        """Read the split input's features (selected ones if asked) and cut them."""
        from ..esrijson import writer

        name = self.param.name
        source = env.algorithm.parameterAsSource(env.parameters, name, env.context)
        if source is None:
            raise QgsProcessingException(
                tr("Could not load the layer given for {0}.").format(name))
        if source.sourceCrs().isValid():
            env.crs_used.append(source.sourceCrs())
        warnings: list[str] = []
        feature_set = writer.source_to_feature_set(source, feedback=env.feedback,
                                                   warnings=warnings)
        for warning in dict.fromkeys(warnings):
            env.feedback.pushWarning(f"{name}: {warning}")
        self.split(feature_set, env.feedback)

    def split(self, feature_set: dict, feedback: QgsProcessingFeedback) -> None:
        """Cut the input's FeatureSet into chunks of at most ``size`` features, in order."""
        features = list(feature_set.get("features") or [])
        base = {k: v for k, v in feature_set.items() if k != "features"}
        self.chunks = [dict(base, features=features[i:i + self.size])
                       for i in range(0, len(features), self.size)] or [dict(base, features=[])]
        feedback.pushInfo(tr("{0}: {1} features in {2} jobs of at most {3}, {4} at once.")
                          .format(self.param.name, len(features), len(self.chunks), self.size,
                                  min(self.parallel, len(self.chunks))))

    def label(self, index: int) -> str:
        """Which features job ``index`` has, e.g. 'features 11-20'."""
        first = index * self.size + 1
        last = first + len(self.chunks[index].get("features") or []) - 1
        return tr("job {0}/{1} (features {2}-{3})").format(index + 1, len(self.chunks),
                                                           first, last)


def run_split(plan: SplitPlan, client: Any, spec: Any, inputs: dict,
              context: Optional[jobs.Context], feedback: QgsProcessingFeedback,
              submitted: list[str]) -> dict:
    """Run every chunk as a job and return the merged outputs (decoded values).

    The ids of the jobs submitted are appended to ``submitted``.
    """
    app = QCoreApplication.instance()
    on_main = app is not None and QThread.currentThread() is app.thread()

    def breathe() -> None:
        if on_main:  # Processing runs some batches on the main thread: keep QGIS alive
            QCoreApplication.processEvents()

    url = spec.task.url
    version = spec.service.current_version
    results: dict[int, dict] = {}
    if not (spec.task.execution_type and spec.task.is_async
            or not spec.task.execution_type and spec.service.is_async):
        for index, chunk in enumerate(plan.chunks):
            if feedback.isCanceled():
                raise JobCancelledError("cancelled before every chunk ran")
            feedback.pushInfo(tr("Executing {0}").format(plan.label(index)))
            answer = jobs.execute(client, url, {**inputs, plan.param.name: chunk},
                                  context=context, current_version=version, task=spec.task)
            results[index] = dict(answer.outputs)
            feedback.setProgress(100.0 * (index + 1) / len(plan.chunks))
    else:
        results = _run_jobs(plan, client, spec, inputs, context, feedback, breathe, submitted)
    return merge(plan, spec, results, feedback)


def _run_jobs(plan: SplitPlan, client: Any, spec: Any, inputs: dict,
              context: Optional[jobs.Context], feedback: QgsProcessingFeedback,
              on_main: Callable[[], None], submitted: list[str]) -> dict[int, dict]:
    url = spec.task.url
    version = spec.service.current_version
    waiting = list(range(len(plan.chunks)))
    running: dict[int, jobs.Job] = {}
    seen: dict[int, int] = {}
    done: dict[int, dict] = {}
    failures: dict[int, int] = {}
    started = time.monotonic()
    try:
        while waiting or running:
            while waiting and len(running) < plan.parallel:
                index = waiting.pop(0)
                job = jobs.submit(client, url, {**inputs, plan.param.name: plan.chunks[index]},
                                  context=context, current_version=version, task=spec.task)
                running[index] = job
                submitted.append(job.job_id)
                seen[index] = 0
                feedback.pushInfo(tr("Submitted job {0} to {1}: {2}").format(
                    job.job_id, url, plan.label(index)))
            pause = min(POLL_CEILING, POLL_FIRST + (time.monotonic() - started) / 30.0)
            end = time.monotonic() + pause
            while time.monotonic() < end:
                on_main()
                if feedback.isCanceled():
                    raise JobCancelledError("cancelled by the user")
                time.sleep(SLICE)
            for index, job in list(running.items()):
                try:
                    status = job.status()
                    failures[index] = 0
                except NetworkError:
                    failures[index] = failures.get(index, 0) + 1
                    if failures[index] > jobs.Job.max_poll_failures:
                        raise
                    continue
                for message in status.messages[seen[index]:]:
                    _report(feedback, message, index + 1)
                seen[index] = len(status.messages)
                if not status.is_terminal:
                    continue
                del running[index]
                if not status.succeeded:
                    _cancel_all(running, feedback)
                    running.clear()
                    feedback.reportError(tr("{0} ended {1}; the other jobs were cancelled.")
                                         .format(plan.label(index), status.status), False)
                    job.wait()  # raises the job's own error, with its messages
                done[index] = dict(job.results())
                feedback.setProgress(100.0 * len(done) / len(plan.chunks))
    except JobCancelledError:
        if running:
            _cancel_all(running, feedback)
            feedback.reportError(tr("Cancelled {0} jobs on the server.").format(len(running)),
                                 False)
        raise
    except GPError:
        _cancel_all(running, feedback)
        raise
    return done


def _cancel_all(running: dict[int, jobs.Job], feedback: QgsProcessingFeedback) -> None:
    for job in running.values():
        try:
            job.cancel()
        except GPError as err:
            feedback.pushWarning(tr("Could not cancel job {0}: {1}").format(job.job_id, err))


def _report(feedback: QgsProcessingFeedback, message: Any, number: int) -> None:
    text = f"[{number}] {message.description}"
    if message.is_error:
        feedback.reportError(text, False)
    elif message.is_warning:
        feedback.pushWarning(text)
    else:
        feedback.pushInfo(text)


def merge(plan: SplitPlan, spec: Any, results: dict[int, dict],
          feedback: QgsProcessingFeedback) -> dict:
    """One output per task output: feature sets joined in input order, others the first's."""
    outputs: dict = {}
    info = LimitInfo(spec.service.name, spec.service.maximum_records)
    for p in spec.task.outputs:
        values = [results[i].get(p.name) for i in sorted(results)]
        if p.data_type not in FEATURE_TYPES:
            outputs[p.name] = next((v for v in values if v is not None), None)
            continue
        merged: Optional[dict] = None
        oid = None
        for index, value in zip(sorted(results), values):
            if not isinstance(value, dict):
                continue
            check(p, value, LimitInfo(info.service_name, info.maximum_records,
                                      len(plan.chunks[index].get("features") or []),
                                      plan.label(index)), feedback)
            fs = value.get("featureSet") if isinstance(value.get("featureSet"), dict) else value
            if "features" not in fs:
                outputs[p.name] = value  # a URL (hosted layer): the first job's
                break
            if merged is None:
                merged = dict(value)
                target = dict(fs, features=list(fs["features"]))
                if fs is not value:
                    merged["featureSet"] = target
                else:
                    merged = target
                oid = _oid_field(value)
                continue
            target = merged["featureSet"] if "featureSet" in merged else merged
            target["features"].extend(fs["features"])
        if merged is not None:
            target = merged["featureSet"] if "featureSet" in merged else merged
            if oid:  # each job numbered its features from 1
                for number, feature in enumerate(target["features"], start=1):
                    feature.setdefault("attributes", {})[oid] = number
            outputs.setdefault(p.name, merged)
    return outputs


def _oid_field(value: dict) -> Optional[str]:
    definition = value.get("layerDefinition") if isinstance(value.get("layerDefinition"),
                                                            dict) else value
    for f in definition.get("fields") or []:
        if isinstance(f, dict) and f.get("type") == "esriFieldTypeOID":
            return str(f.get("name"))
    return None
