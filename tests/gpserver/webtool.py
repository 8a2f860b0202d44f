"""``Demo/WebTool``: a web tool of a federated ArcGIS Enterprise, as ArcGIS Pro publishes one.

Its BufferFeatures has the optional ``esri_out_feature_service_name`` that publishing adds
to every web tool with a feature output (Pro's "Use web tools with an output feature
service"): given a name, the result goes to a new hosted feature service and the output's
value is ``{"url": <layer URL>}``. The service also has a result map service
(``resultMapServerName``): each job's results are drawn at
``.../services/Demo/WebTool/MapServer/jobs/<jobId>`` (see mapservice.py).
"""

from __future__ import annotations

import re
from typing import Any

from .catalog import ASYNC, IN, Param, Task
from .errors import JobFailure
from .jobs import JobContext

WEBTOOL = "Demo/WebTool"
OUT_SERVICE_PARAM = "esri_out_feature_service_name"


def _with_output_service(task: Task) -> Task:
    """The task with the output feature service parameter added last among the inputs."""
    extra = Param(
        OUT_SERVICE_PARAM, "GPString", IN, "Output Feature Service Name",
        "The name of the optional feature service to create on the federated server "
        "containing the result of this tool. If no name is specified, an output feature "
        "service will not be created.", "",
    )
    inputs = tuple(p for p in task.params if p.is_input)
    outputs = tuple(p for p in task.params if not p.is_input)
    run = task.run

    def body(ctx: JobContext, values: dict[str, Any]) -> dict[str, Any]:
        results = run(ctx, values)
        name = (values.get(OUT_SERVICE_PARAM) or "").strip()
        if not name:
            return results
        if not re.fullmatch(r"[A-Za-z0-9_]{1,120}", name):
            raise JobFailure(f"ERROR 001270: Invalid output feature service name: {name}")
        out = dict(results)
        for p in outputs:
            value = out.get(p.name)
            if p.data_type == "GPFeatureRecordSetLayer" and isinstance(value, dict):
                out[p.name] = {"url": ctx.server.publish_hosted_layer(
                    name, value, ctx.job.base_url)["url"]}
                ctx.message(f"Created the output feature service {name}.")
        return out

    return Task(task.name, task.display_name, task.description, inputs + (extra,) + outputs,
                body, task.category)


def webtool_service(service: Any, tasks: Any) -> Any:
    """The Demo/WebTool service, built with the ``service`` factory of build_services."""
    return service(WEBTOOL, ASYNC, [_with_output_service(tasks.buffer_task())],
                   "A web tool with an output feature service and a result map service.",
                   result_map_server_name=WEBTOOL)
