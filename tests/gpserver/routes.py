"""URL routing and the ArcGIS Server REST resources and operations."""

from __future__ import annotations

import mimetypes
import re
from typing import Any, Callable

from . import mapservice, portal, portal_items
from .catalog import ASYNC, CURRENT_VERSION, FULL_VERSION, SYNC, Param, Service, Task
from .errors import RestError, bad_request, not_found, token_required
from .features import ensure_not_found, hosted_key
from .gpvalues import loads_lenient, parse_value
from .httpd import Request, Response
from .jobs import DELETED, SUCCEEDED, TERMINAL, Job
from .oauth import OAuth2
from .run_context import CONTEXT_VERSION

Route = tuple[re.Pattern[str], Callable[..., Response]]

SVC = r"/arcgis/rest/services/(?P<svc>[^/]+(?:/[^/]+)?)"
TASK = SVC + r"/GPServer/(?P<task>[^/]+)"
JOB = TASK + r"/jobs/(?P<job>[^/]+)"
HOSTED = r"/hosted/arcgis/rest/services/(?P<name>[^/]+)"

# Modules whose handlers are plain functions taking the server first: handler(gp, req, ...)
_GP_HANDLER_MODULES = {portal.__name__, mapservice.__name__, portal_items.__name__}

# How a task runs -> (the execution type it needs, the operation for the other type).
_OPERATIONS = {"execute": (SYNC, "submitJob"), "submitJob": (ASYNC, "execute")}


class Router:
    """Maps paths to handlers; every handler gets the Request and the named groups."""

    def __init__(self, gp: Any) -> None:
        self.gp = gp
        self.oauth = OAuth2(gp)
        table: list[tuple[str, Callable[..., Response]]] = [
            (r"/arcgis/rest/info", self.info),
            (r"/arcgis/(?:rest/)?tokens/generateToken", self.generate_token),
            (r"/arcgis/(?:rest/)?tokens", self.tokens_info),
            (r"/arcgis/rest/services", self.root_folder),
            (SVC + r"/GPServer", self.gp_service),
            (SVC + r"/GPServer/uploads(?:/info)?", self.uploads_info),
            (SVC + r"/GPServer/uploads/upload", self.upload),
            (SVC + r"/GPServer/uploads/(?P<item>[^/]+)", self.upload_item),
            (SVC + r"/GPServer/uploads/(?P<item>[^/]+)/delete", self.upload_delete),
            (TASK, self.task),
            (TASK + r"/execute", self.execute),
            (TASK + r"/submitJob", self.submit_job),
            (JOB, self.job),
            (JOB + r"/cancel", self.cancel),
            (JOB + r"/delete", self.delete),
            (JOB + r"/results", self.all_results),
            (JOB + r"/results/(?P<param>[^/]+)", self.result),
            (JOB + r"/inputs/(?P<param>[^/]+)", self.job_input),
            (JOB + r"/scratch/(?P<file>[^/]+)", self.scratch),
            (SVC + r"/FeatureServer", self.feature_service),
            (SVC + r"/FeatureServer/(?P<layer>\d+)", self.feature_layer),
            (SVC + r"/FeatureServer/(?P<layer>\d+)/query", self.feature_query),
            (r"/arcgis/rest/services/(?P<folder>[^/]+)", self.folder),
            (r"/hosted/arcgis/rest/services", self.hosted_root),
            (HOSTED + r"/FeatureServer", self.hosted_service),
            (HOSTED + r"/FeatureServer/(?P<layer>\d+)", self.hosted_layer),
            (HOSTED + r"/FeatureServer/(?P<layer>\d+)/query", self.hosted_query),
            *mapservice.routes(),
            *portal_items.routes(),
            (r"/portal/sharing/rest", portal.root),
            (r"/portal/sharing/rest/info", portal.info),
            (r"/portal/sharing/rest/generateToken", portal.generate_token),
            (r"/portal/sharing/rest/portals/self", portal.portal_self),
            (r"/portal/sharing/rest/community/self", portal.community_self),
            (r"/portal/sharing/rest/oauth2/authorize", self.oauth.authorize),
            (r"/portal/sharing/rest/oauth2/signin", self.oauth.signin),
            (r"/portal/sharing/rest/oauth2/token", self.oauth.token),
            (r"/_control/faults", self.control_faults),
            (r"/_control/faults/clear", self.control_faults_clear),
            (r"/_control/tokens/expire", self.control_tokens_expire),
            (r"/_control/ping", self.control_ping),
            (r"/", self.site_root),
            (r"/arcgis(?:/rest)?", self.site_root),
        ]
        self.routes: list[Route] = [(re.compile(p + r"\Z", re.IGNORECASE), h) for p, h in table]

    def dispatch(self, req: Request) -> Response:
        """Answer a request or raise RestError."""
        for pattern, handler in self.routes:
            match = pattern.match(req.path)
            if match:
                if handler.__module__ in _GP_HANDLER_MODULES:
                    return handler(self.gp, req, **match.groupdict())
                return handler(req, **match.groupdict())
        raise not_found("Not Found", f"No resource at {req.path}")

    # -- helpers ------------------------------------------------------------------------------
    def check_token(self, req: Request, required: bool, service: str | None = None) -> Any:
        """Validate a token if one came (498 if bad); 499 when required and missing."""
        token = req.token
        if token:
            return self.gp.tokens.check(token, req.headers.get("Referer"), service=service)
        if required:
            raise token_required()
        return None

    def service(self, req: Request, svc: str) -> Service:
        """Return the GP service (after the token check) or raise not found."""
        service = self.gp.services.get(svc.lower())
        if service is None:
            self.check_token(req, False)
            raise not_found(
                "Service not found.", f"Service '{svc}' of type 'GPServer' does not exist."
            )
        self.check_token(req, service.secure, service.name)
        return service

    def task_of(self, req: Request, svc: str, task: str) -> tuple[Service, Task]:
        """Return the service and task or raise not found."""
        service = self.service(req, svc)
        found = service.task(task)
        if found is None:
            raise not_found("Task not found.", f"Task '{task}' does not exist in {service.name}.")
        return service, found

    def job_of(self, req: Request, svc: str, task: str, job: str) -> Job:
        """Return the job (of that task) or raise not found."""
        service, found = self.task_of(req, svc, task)
        item = self.gp.jobs.get(job)
        if item is None or item.service is not service or item.task.name != found.name:
            raise not_found(
                "Job not found.", f"Job '{job}' does not exist or is inaccessible."
            )
        return item

    # -- site ---------------------------------------------------------------------------------
    def site_root(self, req: Request) -> Response:
        """Top of the site: where things are."""
        return Response(
            {
                "arcgis": f"{req.base_url}/arcgis/rest/services",
                "portal": f"{req.base_url}/portal/sharing/rest",
                "currentVersion": CURRENT_VERSION,
            },
            title="Reference ArcGIS server",
        )

    def info(self, req: Request) -> Response:
        """``/arcgis/rest/info``."""
        self.check_token(req, False)
        return Response(
            {
                "currentVersion": CURRENT_VERSION,
                "fullVersion": FULL_VERSION,
                "soapUrl": f"{req.base_url}/arcgis/services",
                "secureSoapUrl": None,
                "owningSystemUrl": f"{req.base_url}/portal",
                "authInfo": {
                    "isTokenBasedSecurity": True,
                    "tokenServicesUrl": f"{req.base_url}/arcgis/tokens/generateToken",
                    "shortLivedTokenValidity": 60,
                },
            },
            title="Info",
        )

    def tokens_info(self, req: Request) -> Response:
        """``/arcgis/tokens``."""
        return Response({"currentVersion": CURRENT_VERSION, "soapUrl": None}, title="Tokens")

    def generate_token(self, req: Request) -> Response:
        """``/arcgis/tokens/generateToken``."""
        return Response(self.gp.tokens.generate(req.params, req.headers.get("Referer")),
                        title="Generate Token")

    def _folders(self) -> dict[str, list[dict[str, str]]]:
        folders: dict[str, list[dict[str, str]]] = {}
        for service in self.gp.services.values():
            folders.setdefault(service.folder, []).append(
                {"name": service.name, "type": "GPServer"}
            )
        for name in self.gp.features.services():
            folder = name.rsplit("/", 1)[0] if "/" in name else ""
            folders.setdefault(folder, []).append({"name": name, "type": "FeatureServer"})
        return folders

    def root_folder(self, req: Request) -> Response:
        """``/arcgis/rest/services``."""
        self.check_token(req, False)
        folders = self._folders()
        return Response(
            {
                "currentVersion": CURRENT_VERSION,
                "folders": sorted(k for k in folders if k),
                "services": sorted(folders.get("", []), key=lambda s: s["name"]),
            },
            title="Folder: /",
        )

    def folder(self, req: Request, folder: str) -> Response:
        """``/arcgis/rest/services/<folder>``."""
        self.check_token(req, False)
        folders = self._folders()
        key = next((k for k in folders if k and k.lower() == folder.lower()), None)
        if key is None:
            raise not_found("Folder not found.", f"Folder '{folder}' does not exist.")
        return Response(
            {
                "currentVersion": CURRENT_VERSION,
                "folders": [],
                "services": sorted(folders[key], key=lambda s: s["name"]),
            },
            title=f"Folder: {key}",
        )

    # -- GP service and task ------------------------------------------------------------------
    def gp_service(self, req: Request, svc: str) -> Response:
        """The GPServer resource."""
        service = self.service(req, svc)
        return Response(
            {
                "currentVersion": service.current_version,
                "serviceDescription": service.description,
                "tasks": list(service.tasks),
                "executionType": service.execution_type,
                "resultMapServerName": service.result_map_server_name,
                "maximumRecords": service.maximum_records,
                "capabilities": "Uploads" if service.uploads else "",
            },
            title=f"{service.name} (GPServer)",
        )

    def task(self, req: Request, svc: str, task: str) -> Response:
        """The GP task resource."""
        service, found = self.task_of(req, svc, task)
        return Response(self.task_json(req, service, found), title=f"{found.name} (GPServer)")

    @staticmethod
    def task_json(req: Request, service: Service, task: Task) -> dict[str, Any]:
        """The task description as ArcGIS Server writes it."""
        return {
            "name": task.name,
            "displayName": task.display_name,
            "description": task.description,
            "category": task.category,
            "helpUrl": f"{req.base_url}/arcgis/rest/directories/arcgisoutput/"
            f"{service.name}_GPServer/{service.name.split('/')[-1]}/{task.name}.htm",
            "executionType": service.execution_type,
            "parameters": [p.to_json() for p in task.params],
        }

    def parse_inputs(self, req: Request, task: Task, service: Service) -> dict[str, Any]:
        """Parse the task's inputs from the request (defaults for missing optional ones).

        ``context`` counts from 10.6.1 on; a service of an older release ignores it.
        """
        values: dict[str, Any] = {}
        for param in task.inputs:
            raw = req.get(param.name)
            if raw is None or raw == "":
                default = self._default(param)
                if default is not None:
                    values[param.name] = default
                    continue
                if param.parameter_type == "esriGPParameterTypeRequired":
                    raise bad_request(
                        f"Invalid or missing value for parameter '{param.name}'.",
                        f"ERROR 000735: {param.display_name or param.name}: Value is required",
                    )
                values[param.name] = None
                continue
            values[param.name] = parse_value(param, raw)
        context = req.get("context") if service.current_version >= CONTEXT_VERSION else None
        if context:
            try:
                ctx = loads_lenient(context)
            except ValueError as exc:
                raise bad_request("'context' is not valid JSON.") from exc
            if not isinstance(ctx, dict):
                raise bad_request("'context' must be a JSON object.")
            values["__context__"] = ctx
        for env_name, key in (("env:outSR", "outSR"), ("env:processSR", "processSR")):
            env_value = req.get(env_name)
            if env_value:
                values.setdefault("__context__", {}).setdefault(key, env_value)
        return values

    @staticmethod
    def _default(param: Param) -> Any:
        value = param.default_value
        if isinstance(value, dict) and "features" in value and not value["features"]:
            return None
        return value

    def _runnable(self, req: Request, svc: str, task: str, operation: str
                  ) -> tuple[Service, Task, dict[str, Any]]:
        """Service, task and parsed inputs for ``execute`` (sync) or ``submitJob`` (async)."""
        service, found = self.task_of(req, svc, task)
        wanted, other = _OPERATIONS[operation]
        if service.execution_type != wanted:
            kind = "asynchronous" if service.execution_type == ASYNC else "synchronous"
            raise bad_request(
                f"'{operation}' is not supported: {service.name} is {kind}; use {other}.",
                message="Invalid URL",
            )
        return service, found, self.parse_inputs(req, found, service)

    def execute(self, req: Request, svc: str, task: str) -> Response:
        """``execute`` on a synchronous service."""
        service, found, inputs = self._runnable(req, svc, task, "execute")
        job = self.gp.new_job(service, found, inputs, req.base_url, synchronous=True)
        self.gp.jobs.run_sync(job)
        if job.status != SUCCEEDED:
            errors = [m["description"] for m in job.messages if m["type"].endswith("Error")]
            raise RestError(500, "Error executing tool.", errors or [job.status])
        return Response(
            {
                "results": [self.result_json(job, p) for p in found.outputs],
                "messages": [dict(m) for m in job.messages],
            },
            title=f"{found.name} (execute)",
        )

    def submit_job(self, req: Request, svc: str, task: str) -> Response:
        """``submitJob`` on an asynchronous service."""
        service, found, inputs = self._runnable(req, svc, task, "submitJob")
        job = self.gp.new_job(service, found, inputs, req.base_url)
        answer = {"jobId": job.id, "jobStatus": job.status}
        self.gp.jobs.submit(job)
        return Response(answer, title="Job submitted")

    # -- jobs ---------------------------------------------------------------------------------
    def job(self, req: Request, svc: str, task: str, job: str) -> Response:
        """The job resource."""
        item = self.job_of(req, svc, task, job)
        return Response(item.status_json(), title=f"Job {item.id}")

    def cancel(self, req: Request, svc: str, task: str, job: str) -> Response:
        """``jobs/<id>/cancel``."""
        item = self.job_of(req, svc, task, job)
        item.cancel()
        return Response({"jobId": item.id, "jobStatus": item.status}, title="Cancel")

    def delete(self, req: Request, svc: str, task: str, job: str) -> Response:
        """``jobs/<id>/delete``: the job ends esriJobDeleted; results and files go."""
        item = self.job_of(req, svc, task, job)
        item.delete()
        return Response({"jobId": item.id, "jobStatus": item.status}, title="Delete")

    @staticmethod
    def result_json(job: Job, param: Param) -> dict[str, Any]:
        """One result as ``results/<param>`` answers it."""
        return {
            "paramName": param.name,
            "dataType": param.data_type,
            "value": job.server.output_value(job, param),
        }

    def _finished_job(self, req: Request, svc: str, task: str, job: str) -> Job:
        item = self.job_of(req, svc, task, job)
        if item.status == DELETED:
            raise not_found("Job not found.", f"Job '{job}' was deleted.")
        if item.status != SUCCEEDED:
            detail = (
                "the job did not succeed" if item.status in TERMINAL else "the job is not finished"
            )
            raise bad_request(f"Results are not available: {detail} (status {item.status}).")
        return item

    def all_results(self, req: Request, svc: str, task: str, job: str) -> Response:
        """``jobs/<id>/results``: every result keyed by name (an extension)."""
        item = self._finished_job(req, svc, task, job)
        return Response(
            {p.name: self.result_json(item, p) for p in item.task.outputs}, title="Results"
        )

    def result(self, req: Request, svc: str, task: str, job: str, param: str) -> Response:
        """``jobs/<id>/results/<param>``."""
        item = self._finished_job(req, svc, task, job)
        found = next((p for p in item.task.outputs if p.name.lower() == param.lower()), None)
        if found is None:
            raise not_found("Parameter not found.", f"No result parameter '{param}'.")
        return Response(self.result_json(item, found), title=f"Result {found.name}")

    def job_input(self, req: Request, svc: str, task: str, job: str, param: str) -> Response:
        """``jobs/<id>/inputs/<param>``."""
        item = self.job_of(req, svc, task, job)
        found = next((p for p in item.task.inputs if p.name.lower() == param.lower()), None)
        if found is None or item.status == DELETED:
            raise not_found("Parameter not found.", f"No input parameter '{param}'.")
        return Response(
            {
                "paramName": found.name,
                "dataType": found.data_type,
                "value": item.inputs.get(found.name),
            },
            title=f"Input {found.name}",
        )

    def scratch(self, req: Request, svc: str, task: str, job: str, file: str) -> Response:
        """A file of the job's scratch folder."""
        item = self.job_of(req, svc, task, job)
        path = (item.scratch_dir / file).resolve()
        if path.parent != item.scratch_dir.resolve() or not path.is_file():
            raise not_found("File not found.", f"No file '{file}' for job {item.id}.")
        ctype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return Response(
            raw=path.read_bytes(),
            content_type=ctype,
            headers={"Content-Disposition": f'attachment; filename="{path.name}"'},
        )

    # -- uploads ------------------------------------------------------------------------------
    def _upload_service(self, req: Request, svc: str) -> Service:
        service = self.service(req, svc)
        if not service.uploads:
            raise bad_request(
                f"Uploads are not enabled for {service.name}.", message="Invalid URL"
            )
        return service

    def uploads_info(self, req: Request, svc: str) -> Response:
        """``uploads`` / ``uploads/info``."""
        self._upload_service(req, svc)
        return Response(
            {"maxUploadFileSize": self.gp.uploads.max_size // (1024 * 1024)}, title="Uploads"
        )

    def upload(self, req: Request, svc: str) -> Response:
        """``uploads/upload`` (multipart, file in the ``file`` part)."""
        service = self._upload_service(req, svc)
        part = req.files.get("file")
        if part is None:
            raise bad_request("The request has no 'file' part (use multipart/form-data).")
        item = self.gp.uploads.add(
            service.name, part.filename, part.data, req.get("description") or ""
        )
        return Response({"success": True, "item": item.to_json()}, title="Upload")

    def upload_item(self, req: Request, svc: str, item: str) -> Response:
        """``uploads/<itemID>``."""
        self._upload_service(req, svc)
        return Response(self.gp.uploads.get(item).to_json(), title="Item")

    def upload_delete(self, req: Request, svc: str, item: str) -> Response:
        """``uploads/<itemID>/delete``."""
        self._upload_service(req, svc)
        self.gp.uploads.delete(item)
        return Response({"success": True, "itemID": item}, title="Delete item")

    # -- feature services ---------------------------------------------------------------------
    def _layer(self, req: Request, svc: str, hosted: bool = False) -> Any:
        self.check_token(req, False)
        layer = self.gp.features.get(hosted_key(svc) if hosted else svc)
        return ensure_not_found(layer if layer is None or layer.hosted == hosted else None, svc)

    def hosted_root(self, req: Request) -> Response:
        """``/hosted/arcgis/rest/services``: the hosting server's directory."""
        self.check_token(req, False)
        names = sorted(self.gp.features.services(hosted=True))
        return Response(
            {
                "currentVersion": CURRENT_VERSION,
                "folders": [],
                "services": [{"name": n, "type": "FeatureServer"} for n in names],
            },
            title="Hosted services",
        )

    def hosted_service(self, req: Request, name: str) -> Response:
        """A hosted ``FeatureServer``."""
        layer = self._layer(req, name, hosted=True)
        return Response(self.gp.features.service_json(layer), title=f"{name} (FeatureServer)")

    def hosted_layer(self, req: Request, name: str, layer: str) -> Response:
        """A hosted ``FeatureServer/0``."""
        item = self._layer(req, name, hosted=True)
        if layer != "0":
            raise not_found("Layer not found.", f"Layer {layer} does not exist in {name}.")
        return Response(self.gp.features.layer_json(item), title=item.name)

    def hosted_query(self, req: Request, name: str, layer: str) -> Response:
        """A hosted ``FeatureServer/0/query``."""
        item = self._layer(req, name, hosted=True)
        if layer != "0":
            raise not_found("Layer not found.", f"Layer {layer} does not exist in {name}.")
        return Response(self.gp.features.query(item, req.params), title="Query")

    def feature_service(self, req: Request, svc: str) -> Response:
        """``FeatureServer``."""
        layer = self._layer(req, svc)
        return Response(self.gp.features.service_json(layer), title=f"{svc} (FeatureServer)")

    def feature_layer(self, req: Request, svc: str, layer: str) -> Response:
        """``FeatureServer/0``."""
        item = self._layer(req, svc)
        if layer != "0":
            raise not_found("Layer not found.", f"Layer {layer} does not exist in {svc}.")
        return Response(self.gp.features.layer_json(item), title=item.name)

    def feature_query(self, req: Request, svc: str, layer: str) -> Response:
        """``FeatureServer/0/query``."""
        item = self._layer(req, svc)
        if layer != "0":
            raise not_found("Layer not found.", f"Layer {layer} does not exist in {svc}.")
        return Response(self.gp.features.query(item, req.params), title="Query")

    # -- run-time control (for a server in another process) ------------------------------------
    def control_faults(self, req: Request) -> Response:
        """GET: list armed faults; POST path, kind, count, code, seconds, method: arm one."""
        if req.method == "POST" and req.get("kind"):
            count = req.get("count")
            self.gp.faults.add(
                req.get("path") or ".*",
                req.get("kind") or "",
                None if count in ("*", "all", "none", "None") else int(count or 1),
                code=int(req.get("code")) if req.get("code") else None,
                seconds=float(req.get("seconds") or 1.0),
                method=req.get("method") or None,
            )
        return Response({"faults": [f.to_json() for f in self.gp.faults.active()]})

    def control_faults_clear(self, req: Request) -> Response:
        """Disarm every fault."""
        self.gp.faults.clear()
        return Response({"faults": []})

    def control_tokens_expire(self, req: Request) -> Response:
        """Expire every issued token."""
        self.gp.tokens.expire_all()
        return Response({"success": True})

    def control_ping(self, req: Request) -> Response:
        """Liveness."""
        return Response({"ok": True})
