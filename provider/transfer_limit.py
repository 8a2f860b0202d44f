"""A result over the service's maximum number of records, explained in plain words.

ArcGIS Server returns no features of a feature or record set output that has more than
the service's ``maximumRecords`` (1000 unless the publisher changed it) and sets
``exceededTransferLimit`` on it; the job has succeeded all the same (documented for
ArcGIS Runtime's LocalGeoprocessingService.MaxRecords). A server may also cut the set
short instead. Either way the user must learn it from us, not find an empty layer.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from typing import Any, Optional

from qgis.core import QgsProcessingException, QgsProcessingFeedback

from .i18n import tr
from .run_options import FEATURE_TYPES, SPLIT

# a refused result is tiny; a bigger file has features and the reader warns on the flag
SMALL_RESULT_BYTES = 64 * 1024


@dataclass(frozen=True)
class LimitInfo:
    """What the explanation needs: the service, its limit, the input's size, the job."""

    service_name: str
    maximum_records: Optional[int]
    input_features: Optional[int] = None
    job: str = ""


def small_value(value: Any) -> Any:
    """The value of a result; of a streamed result file only when it is small, else None."""
    path = getattr(value, "path", None)
    if not isinstance(path, str):
        return value
    try:
        if os.path.getsize(path) > SMALL_RESULT_BYTES:
            return None
        with open(path, encoding="utf-8-sig") as handle:
            body = json.load(handle)
    except (OSError, ValueError):
        return None
    return body.get("value") if isinstance(body, dict) else None


def flagged(value: Any) -> Optional[int]:
    """Return the number of features of a result flagged exceededTransferLimit, else None.

    ``value`` is a decoded result (FeatureSet, FeatureCollection) or a streamed result file.
    """
    value = small_value(value)
    if not isinstance(value, dict):
        return None
    fs = value.get("featureSet") if isinstance(value.get("featureSet"), dict) else value
    if not fs.get("exceededTransferLimit"):
        return None
    features = fs.get("features")
    return len(features) if isinstance(features, list) else 0


def explain(p: Any, returned: int, info: LimitInfo) -> str:
    """The plain-words explanation of a result over the limit."""
    name = getattr(p, "display_name", "") or p.name
    limit = (tr("its limit of {0} features per result (maximumRecords)").format(
        info.maximum_records) if info.maximum_records else tr("its maximum number of records"))
    if returned == 0:
        what = tr("{0} ({1}): the server sent none of the result's features, because there "
                  "are more of them than {2} allows in one answer: {3}.").format(
                      name, p.name, info.service_name, limit)
    else:
        what = tr("{0} ({1}): the server sent only {2} of the result's features and left "
                  "the rest out, because there are more than {3} allows in one answer: "
                  "{4}.").format(name, p.name, returned, info.service_name, limit)
    parts = [what]
    if info.job:
        parts.append(tr("The job ({0}) itself succeeded: running it again the same way "
                        "gives the same answer.").format(info.job))
    if info.input_features is not None:
        parts.append(tr("The input had {0} features.").format(info.input_features))
    size = info.maximum_records or 1000
    parts.append(tr("What to do: run it again with the advanced parameter 'Split the input "
                    "into jobs of' ({0}) at {1} features or fewer, so each job's result "
                    "fits (valid when the task treats each feature on its own); or use a "
                    "smaller input or extent; or ask the service's administrator to raise "
                    "its maximum number of records.").format(SPLIT, size))
    return " ".join(parts)


def check(p: Any, value: Any, info: LimitInfo, feedback: QgsProcessingFeedback) -> None:
    """Refuse a result sent without its features; warn about one that was cut short."""
    if p.data_type not in FEATURE_TYPES:
        return
    returned = flagged(value)
    if returned is None:
        return
    result_url = getattr(value, "url", "") or ""
    if not info.job and "/jobs/" in result_url:
        info = replace(info, job=result_url.split("/jobs/", 1)[1].split("/", 1)[0])
    text = explain(p, returned, info)
    if returned == 0:
        raise QgsProcessingException(text)
    feedback.pushWarning(text)


def input_feature_count(inputs: dict, task: Any) -> Optional[int]:
    """Features sent inline in the task's feature inputs (None when none went inline)."""
    total = None
    for p in task.inputs:
        value = inputs.get(p.name)
        if p.data_type in FEATURE_TYPES and isinstance(value, dict):
            fs = value.get("featureSet") if isinstance(value.get("featureSet"), dict) else value
            if isinstance(fs.get("features"), list):
                total = (total or 0) + len(fs["features"])
    return total
