"""Discovery against the reference server: directory, folders, services, tasks, portal."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from arcgis_gp.gp_client import GPClient, discovery
from arcgis_gp.gp_client.auth import UserPasswordAuth
from arcgis_gp.gp_client.errors import ServerError, TokenRequiredError
from arcgis_gp.gp_client.model import ServiceDescription, TaskDescription

pytestmark = pytest.mark.timeout(120)

DEMO_TASKS = {"BufferFeatures", "CopyFeatures", "Sleep", "AlwaysFails", "EchoAllTypes",
              "EchoRaster", "EchoFile"}


def _by_name(services: list[ServiceDescription]) -> dict[str, ServiceDescription]:
    return {s.name: s for s in services}


def test_services_directory(gpserver: Any, caplog: pytest.LogCaptureFixture) -> None:
    """Every GPServer service of every folder; the secured one skipped (logged) without auth."""
    caplog.set_level(logging.WARNING, logger="arcgis_gp.gp_client")
    found = _by_name(discovery.discover(GPClient(), gpserver.services_url))
    assert {"Demo/Analysis", "Demo/AnalysisSync", "tasks"} <= set(found)
    assert "Secure/Analysis" not in found
    assert any("Secure/Analysis" in r.getMessage() for r in caplog.records)
    demo = found["Demo/Analysis"]
    assert set(demo.task_names) == DEMO_TASKS == {t.name for t in demo.tasks}
    assert demo.is_async and demo.supports_uploads and demo.version == 10.91
    sync = found["Demo/AnalysisSync"]
    assert not sync.is_async and not sync.supports_uploads
    assert all(t.url == sync.url + "/" + t.name for t in sync.tasks)


def test_find_services_reports_what_it_skipped(gpserver: Any) -> None:
    """The secured service is not only logged: the result names it with the error."""
    found = discovery.find_services(GPClient(), gpserver.services_url)
    assert "Secure/Analysis" not in {s.name for s in found.services}
    assert [s.url for s in found.skipped] == [
        gpserver.services_url + "/Secure/Analysis/GPServer"]
    assert isinstance(found.skipped[0].error, TokenRequiredError)
    assert "Token Required" in found.skipped[0].reason
    assert discovery.find_services(GPClient(), gpserver.services_url + "/Demo").skipped == []


@pytest.mark.parametrize("path", ["/arcgis/rest/servicez", "/arcgisx"])
def test_a_wrong_url_is_quoted_as_given(gpserver: Any, path: str) -> None:
    """The error starts from the URL the user typed and says which URL was tried."""
    given = gpserver.url + path
    with pytest.raises(ServerError) as caught:
        discovery.discover(GPClient(retries=0), given)
    text = str(caught.value)
    assert caught.value.code == 404
    assert text.startswith(f"No ArcGIS services directory found at {given}: "), text
    assert f"so {given}/rest/services was tried, and it answered error 404" in text
    assert "Check the URL" in text


def test_directory_with_credentials_includes_the_secured_service(gpserver: Any) -> None:
    """With a user, Secure/Analysis is listed with its tasks."""
    client = GPClient(auth=UserPasswordAuth("demo", "demo-password"))
    found = _by_name(discovery.discover(client, gpserver.url + "/arcgis"))
    assert {t.name for t in found["Secure/Analysis"].tasks} == {"BufferFeatures", "Sleep"}


@pytest.mark.parametrize(
    ("path", "names"),
    [("/arcgis/rest/services/Demo", {"Demo/Analysis", "Demo/AnalysisSync", "Demo/Limited",
                                     "Demo/Legacy", "Demo/WebTool"}),
     ("/arcgis/rest/services/Demo/Analysis/GPServer", {"Demo/Analysis"}),
     ("/arcgis/rest/services/Demo/Analysis/GPServer/Sleep?f=pjson", {"Demo/Analysis"}),
     ("/portal/sharing/rest", {"tasks", "Demo/Analysis"})],
)
def test_discover_from_any_kind_of_url(gpserver: Any, path: str, names: set[str]) -> None:
    """A folder, a service, a task or a portal all lead to their GP services."""
    found = discovery.discover(GPClient(), gpserver.url + path)
    assert {s.name for s in found} == names


def test_every_server_description_round_trips(gpserver: Any) -> None:
    """to_json(from_json(x)) == x for each service and task JSON the server publishes."""
    client = GPClient(auth=UserPasswordAuth("demo", "demo-password"))
    for svc_url in discovery.service_urls(client, gpserver.services_url):
        raw = client.get_json(svc_url)
        svc = ServiceDescription.from_json(raw, url=svc_url)
        assert svc.to_json() == raw
        for name in svc.task_names:
            task_raw = client.get_json(f"{svc_url}/{name}")
            task = TaskDescription.from_json(task_raw, url=f"{svc_url}/{name}")
            assert task.to_json() == task_raw
            assert list(task.to_json()) == list(task_raw)
    full = discovery.service(client, gpserver.services_url + "/Demo/Analysis/GPServer")
    assert ServiceDescription.from_json(full.to_json(), url=full.url) == full


def test_task_details(gpserver: Any) -> None:
    """BufferFeatures: required inputs, choice list, outputs."""
    task = discovery.task(GPClient(), gpserver.task_url("Demo/Analysis", "BufferFeatures"))
    assert [p.name for p in task.inputs] == ["Input_Features", "Distance", "Dissolve"]
    assert [p.name for p in task.outputs] == ["Output_Features"]
    assert task.parameter("Input_Features").is_required
    assert task.parameter("Dissolve").choices == ("NONE", "ALL")
    assert task.parameter("Distance").default_value == {"distance": 100.0, "units": "esriMeters"}


def test_unknown_task(gpserver: Any) -> None:
    """A task that does not exist: the server's 404 as ServerError."""
    with pytest.raises(ServerError) as info:
        discovery.task(GPClient(), gpserver.task_url("Demo/Analysis", "Nope"))
    assert info.value.code == 404
