"""Names shared with the callers of gp_client: ArcGIS job message types and log formats.

The log formats are the exact ``msg`` of the log records gp_client writes for events a
caller may want to treat apart (the provider's log bridge leaves these two to its own
reports): compare ``record.msg`` with them, never a copy of the text.
"""

from __future__ import annotations

MSG_INFO = "esriJobMessageTypeInformative"
MSG_WARNING = "esriJobMessageTypeWarning"
MSG_ERROR = "esriJobMessageTypeError"
MSG_ABORT = "esriJobMessageTypeAbort"
#: The message types that say the job went wrong.
ERROR_MESSAGE_TYPES = frozenset({MSG_ERROR, MSG_ABORT})

#: The one logger of the package (a fixed name, whatever name the package is imported under).
LOGGER_NAME = "arcgis_gp.gp_client"
#: One job message, logged as it arrives: (job id, message).
LOG_JOB_MESSAGE = "Job %s: %s"
#: A GP service left out of a discovery: (service URL, why).
LOG_SKIPPED_SERVICE = "Skipping GP service %s: %s"
