"""``GPServer``: the reference ArcGIS REST server on loopback."""

from __future__ import annotations

import shutil
import tempfile
import threading
import uuid
from pathlib import Path
from typing import Any

from .auth import Tokens
from .catalog import FeatureLayerDef, Param, Service, Task
from .faults import Faults
from .features import FeatureStore, hosted_key
from .httpd import GPHTTPServer
from .jobs import Job, JobManager
from .qgisenv import ensure_qgis
from .routes import Router
from .sample_data import sample_layers
from .services import build_services
from .uploads import Uploads
from .urls import ServerUrls
from .values_out import output_value


class GPServer(ServerUrls):
    """A running reference server: ``start()``, ``url``, ``stop()``; also a context manager.

    ``token_lifetime`` (seconds) overrides the lifetime asked for in generateToken;
    ``max_job_seconds`` is the time after which a job ends esriJobTimedOut;
    ``faults`` is a list of ``Faults.add`` keyword dicts armed at start.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        token_lifetime: float | None = None,
        max_job_seconds: float = 3600.0,
        faults: list[dict[str, Any]] | None = None,
        data_dir: str | Path | None = None,
        workers: int = 32,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.verbose = verbose
        self.faults = Faults()
        for spec in faults or []:
            self.faults.add(**spec)
        self.tokens = Tokens(token_lifetime)
        self.services: dict[str, Service] = build_services(max_job_seconds)
        self.features = FeatureStore()
        for layer in sample_layers():
            self.features.add(layer)
        self._own_dir = data_dir is None
        self.data_dir = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="gpserver-"))
        self.uploads = Uploads(self.data_dir / "uploads")
        self.jobs = JobManager(self.data_dir / "jobs", workers=workers)
        self.router = Router(self)
        self._httpd: GPHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> GPServer:
        """Bind and serve in a background thread (QGIS is set up first, in this thread)."""
        if self._httpd is not None:
            return self
        ensure_qgis()
        self._httpd = GPHTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1},
            name="gpserver-http", daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cancel running jobs and remove the server's temporary files."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self.jobs.shutdown()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self) -> GPServer:
        """Start on entering the with block."""
        return self.start()

    def __exit__(self, *exc: object) -> None:
        """Stop on leaving the with block."""
        self.stop()

    @property
    def running(self) -> bool:
        """True between start() and stop()."""
        return self._httpd is not None

    @property
    def host_port(self) -> str:
        """``host:port`` of the server."""
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """Root URL, e.g. ``http://127.0.0.1:8399``."""
        return f"http://{self.host_port}"

    def set_max_job_seconds(self, seconds: float, service: str | None = None) -> None:
        """Change the time limit after which jobs end esriJobTimedOut."""
        for svc in self.services.values():
            if service is None or svc.name.lower() == service.lower():
                svc.max_job_seconds = seconds

    # -- used by routes and tasks -----------------------------------------------------------------
    def new_job(
        self,
        service: Service,
        task: Task,
        inputs: dict[str, Any],
        base_url: str,
        *,
        synchronous: bool = False,
    ) -> Job:
        """Create a job (not yet run)."""
        return Job(
            service, task, inputs, self.jobs.scratch_root, base_url, self,
            synchronous=synchronous,
        )

    def output_value(self, job: Job, param: Param) -> Any:
        """The wire value of a job's output (with context outSR applied)."""
        return output_value(job, param)

    def publish_hosted_layer(
        self, name: str, feature_set: dict[str, Any], base_url: str
    ) -> dict[str, Any]:
        """Publish ``<url>/hosted/arcgis/rest/services/<name>/FeatureServer/0``.

        Hosted layers live on a separate "hosting server" root, as ArcGIS Online's and a
        federated Enterprise's do, so the GP server's directory does not change. A layer of
        the same name is replaced.
        """
        item_id = uuid.uuid4().hex
        self.features.add(
            FeatureLayerDef(
                hosted_key(name), name, feature_set, "Created by a Spatial Analysis task.",
                extra={"serviceItemId": item_id}, hosted=True,
            )
        )
        return {
            "url": f"{base_url}/hosted/arcgis/rest/services/{name}/FeatureServer/0",
            "itemId": item_id,
        }

    def expire_tokens(self) -> None:
        """Make every issued token expired (tests of refresh-and-retry)."""
        self.tokens.expire_all()
