"""Bad service and task descriptions break only themselves (through tests/faultproxy.py).

A task whose description is broken is left out with a message naming it and what is
wrong, never a raw Python error; the other tasks, services and folders are still read.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from arcgis_gp.gp_client import GPClient
from arcgis_gp.gp_client.discovery import find_services
from arcgis_gp.gp_client.errors import NotJSONError

pytestmark = pytest.mark.timeout(120)

SERVICES = "/arcgis/rest/services"
ANALYSIS = SERVICES + "/Demo/Analysis/GPServer"


def _tasks(found: Any, service: str) -> set[str]:
    return {t.name for s in found.services if s.name == service for t in s.tasks}


def _sleep_with(**changes: Any) -> bytes:
    """The Sleep task's description as the reference server publishes it, changed."""
    base = {"name": "Sleep", "executionType": "esriExecutionTypeAsynchronous",
            "parameters": [{"name": "Seconds", "dataType": "GPDouble",
                            "direction": "esriGPParameterDirectionInput",
                            "parameterType": "esriGPParameterTypeRequired"}]}
    base.update(changes)
    return json.dumps(base).encode()


BROKEN = {
    "parameters_is_text": (_sleep_with(parameters="Seconds"),
                           'its "parameters" is text, not a list'),
    "no_data_type": (_sleep_with(parameters=[{"name": "Seconds", "dataType": None}]),
                     "parameter Seconds has no data type"),
    "parameter_not_an_object": (_sleep_with(parameters=[42]),
                                "parameter 1 is a number, not an object"),
    "name_is_a_number": (_sleep_with(name=7), 'its "name" is a number, not text'),
    "nested_too_deep": (b"[" * 100_000 + b"]" * 100_000, "nests its JSON too deep"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_task_is_left_out_and_named(faultproxy: Any, case: str) -> None:
    body, problem = BROKEN[case]
    faultproxy.add(r"/Demo/Analysis/GPServer/Sleep\?", "replace", body=body)
    found = find_services(GPClient(backoff=0.01), faultproxy.url + SERVICES)
    tasks = _tasks(found, "Demo/Analysis")
    assert "Sleep" not in tasks and {"BufferFeatures", "CopyFeatures"} <= tasks
    assert _tasks(found, "Demo/AnalysisSync")  # the other services stay
    skipped = [s for s in found.skipped if s.kind == "task"]
    assert [s.url.rsplit("/", 1)[-1] for s in skipped] == ["Sleep"]
    reason = skipped[0].reason
    assert problem in reason, reason
    assert "object has no attribute" not in reason and "Recursion" not in reason


def test_a_folder_that_answers_404_costs_that_folder_only(faultproxy: Any) -> None:
    faultproxy.add(r"/rest/services/Secure\?", "status", code=404)
    found = find_services(GPClient(backoff=0.01), faultproxy.url + SERVICES)
    assert _tasks(found, "Demo/Analysis") and _tasks(found, "Demo/AnalysisSync")
    folders = [s for s in found.skipped if s.kind == "folder"]
    assert [s.url.rsplit("/", 1)[-1] for s in folders] == ["Secure"]
    assert "HTTP 404" in folders[0].reason


def test_a_directory_nested_too_deep_is_a_clear_error(faultproxy: Any) -> None:
    faultproxy.add(r"/rest/services\?", "replace", body=b'{"a":' * 50_000 + b"1" + b"}" * 50_000)
    with pytest.raises(NotJSONError) as caught:
        find_services(GPClient(backoff=0.01), faultproxy.url + SERVICES)
    assert "nests its JSON too deep" in str(caught.value)


def test_the_depth_check_counts_only_open_arrays_and_objects() -> None:
    """Exactly the limit passes, one more does not; brackets in strings (escaped quotes
    included) do not count; keys between levels do not hide them; siblings do not add up."""
    from arcgis_gp.gp_client._util import nests_deeper_than

    assert not nests_deeper_than(b"[" * 900 + b"]" * 900, 900)
    assert nests_deeper_than(b"[" * 901 + b"]" * 901, 900)
    assert nests_deeper_than(b'{"k":' * 901 + b"1" + b"}" * 901, 900)
    assert not nests_deeper_than(b'{"a":"' + b"[" * 2000 + b'"}', 900)
    assert not nests_deeper_than(b'["\\"' + b"{" * 1000 + b'\\\\"]', 900)
    assert not nests_deeper_than(b"[" + b"[1,{}]," * 5000 + b"0]", 900)
