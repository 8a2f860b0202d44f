"""gp_client: a pure-Python client for ArcGIS REST geoprocessing services (no QGIS, no Qt).

Modules, each importing only those before it: names (message types, log formats), urls
(origins, service roots, versions), text (HTML to text), errors, transport (HTTP), auth
(tokens: decorates requests, asks the client's TokenSource for tokens; federated server
tokens), oauth2 (OAuth2 sign-in to a portal), client (JSON,
retries, files), values (GP data types), model (descriptions), discovery, jobs (execute,
submit, wait), toolbox (``import_toolbox``). Logging goes to the ``arcgis_gp.gp_client``
logger (``names.LOGGER_NAME``).
"""

from .auth import NoAuth, TokenAuth, UserPasswordAuth
from .client import GPClient
from .errors import (
    AuthError,
    DeadlineError,
    GPError,
    JobCancelledError,
    JobError,
    JobFailedError,
    JobTimedOutError,
    ServerError,
)
from .jobs import Context, ExecuteResult, Job, JobStatus, Message, execute, submit
from .oauth2 import OAuth2Auth
from .toolbox import Toolbox, import_toolbox

__all__ = [
    "AuthError",
    "Context",
    "DeadlineError",
    "ExecuteResult",
    "GPClient",
    "GPError",
    "Job",
    "JobCancelledError",
    "JobError",
    "JobFailedError",
    "JobStatus",
    "JobTimedOutError",
    "Message",
    "NoAuth",
    "OAuth2Auth",
    "ServerError",
    "TokenAuth",
    "Toolbox",
    "UserPasswordAuth",
    "execute",
    "import_toolbox",
    "submit",
]
