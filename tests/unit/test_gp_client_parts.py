"""gp_client's small parts that need no server: redaction, names, versions, polling, context."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from arcgis_gp.gp_client import errors
from arcgis_gp.gp_client._util import redact_text, redact_url, snake_case
from arcgis_gp.gp_client.auth import NoAuth, TokenAuth, UserPasswordAuth
from arcgis_gp.gp_client.client import GPClient, _reserve, safe_filename
from arcgis_gp.gp_client.discovery import (
    arcpy_style_url,
    classify,
    helper_service_urls,
    portal_rest_url,
    services_root,
)
from arcgis_gp.gp_client.jobs import Context, Job, PollSchedule, encode_inputs
from arcgis_gp.gp_client.model import TaskDescription
from arcgis_gp.gp_client.urls import origin_of, parse_version, service_root

SECRET = "s3cr3t-T0KEN-value"


def test_redact_url_drops_tokens_and_user_info() -> None:
    """token, password and key parameters and user:pass@ never survive."""
    url = f"https://bob:pw@host:8443/arcgis/rest/x?f=json&token={SECRET}&a=1&API_KEY=k123"
    clean = redact_url(url)
    assert SECRET not in clean and "k123" not in clean and "bob" not in clean
    assert clean.startswith("https://host:8443/arcgis/rest/x?") and "a=1" in clean


def test_redact_text_masks_known_and_lookalike_secrets() -> None:
    """Free text loses token=..., "token": "...", Bearer ... and any listed secret."""
    text = (f'token={SECRET}&x=1 {{"token": "{SECRET}", "password":"pw!"}} '
            f"Bearer {SECRET} and plain {SECRET}")
    out = redact_text(text, [SECRET])
    assert SECRET not in out and "pw!" not in out
    assert "x=1" in out


def test_errors_redact_their_text() -> None:
    """Errors built from URLs with tokens do not carry them."""
    err = errors.NotJSONError(f"bad at https://h/x?token={SECRET}",
                              url=f"https://h/x?token={SECRET}", excerpt=f"token={SECRET}")
    assert SECRET not in str(err) and SECRET not in err.url and SECRET not in err.excerpt
    assert SECRET not in repr(err)


def test_auth_reprs_hide_secrets() -> None:
    """repr of every strategy and of a client using it has no secret."""
    for auth in (TokenAuth(SECRET), UserPasswordAuth("demo", SECRET), NoAuth()):
        assert SECRET not in repr(auth)
        assert SECRET not in repr(GPClient(auth=auth))


def test_auth_rejects_empty_credentials() -> None:
    """Missing credentials are a clear error at construction."""
    with pytest.raises(ValueError, match="token"):
        TokenAuth("")
    with pytest.raises(ValueError, match="password"):
        UserPasswordAuth("demo", "")


def test_origin_of() -> None:
    """Default ports are made explicit; case does not matter."""
    assert origin_of("HTTPS://Host/a") == "https://host:443"
    assert origin_of("http://host:80/a") == origin_of("http://host/b")
    assert origin_of("http://host:8080/a") != origin_of("http://host/a")


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("result.csv", "result.csv"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\win.ini", "win.ini"),
        ("/abs/path/x.tif", "x.tif"),
        ("..", "download"),
        ("", "download"),
        ("a%2F..%2Fb.txt", "b.txt"),
        ("we ird:na*me?.json", "we ird_na_me_.json"),
        (".hidden", "hidden"),
        ("CON.txt", "_CON.txt"),
        ("x" * 300 + ".tif", "x" * 146 + ".tif"),
        ("nul\x00byte.txt", "nulbyte.txt"),
    ],
)
def test_safe_filename(name: str, safe: str) -> None:
    """No directories, no traversal, no control characters, bounded length."""
    assert safe_filename(name) == safe


def test_reserve_never_overwrites(tmp_path: Path) -> None:
    """An existing name gets _1, _2 ... and the existing file is untouched."""
    (tmp_path / "out.csv").write_text("keep")
    first = _reserve(tmp_path, "out.csv")
    second = _reserve(tmp_path, "out.csv")
    assert first.name == "out_1.csv" and second.name == "out_2.csv"
    assert (tmp_path / "out.csv").read_text() == "keep"


@pytest.mark.parametrize(
    ("task", "method"),
    [("BufferFeatures", "buffer_features"), ("EchoAllTypes", "echo_all_types"),
     ("CreateBuffers", "create_buffers"), ("Export Web Map Task", "export_web_map_task"),
     ("GPTool", "gp_tool"), ("Buffer_Features", "buffer_features"), ("2D", "task_2d"),
     ("getXYZTiles", "get_xyz_tiles")],
)
def test_snake_case(task: str, method: str) -> None:
    """Published task names become Python method names."""
    assert snake_case(task) == method


@pytest.mark.parametrize(
    ("value", "version"),
    [(10.61, 10.61), ("10.6.1", 10.61), (11.3, 11.3), ("10.9", 10.9), (10, 10.0),
     ("11.1.0", 11.1), (None, None), ("n/a", None)],
)
def test_parse_version(value: object, version: object) -> None:
    """currentVersion in its various spellings becomes a comparable float."""
    assert parse_version(value) == version


def test_service_root() -> None:
    """Task, job and query URLs lead to the GPServer URL."""
    base = "https://h/arcgis/rest/services/Demo/Analysis/GPServer"
    assert service_root(base + "/Sleep/jobs/j1?f=json") == base
    assert service_root(base + "/") == base


def test_context_by_server_version() -> None:
    """`context` JSON from 10.6.1 on; env:outSR / env:processSR before."""
    ctx = Context(out_sr=3857, process_sr="EPSG:32631", extent=(0, 0, 10, 10, 4326))
    new = ctx.to_params(10.61)
    assert list(new) == ["context"]
    assert new["context"] == ('{"outSR":{"wkid":3857},"processSR":{"wkid":32631},"extent":'
                              '{"xmin":0.0,"ymin":0.0,"xmax":10.0,"ymax":10.0,'
                              '"spatialReference":{"wkid":4326}}}')
    assert ctx.to_params(None) == new  # unknown version: the current API
    old = ctx.to_params(10.5)
    assert old == {"env:outSR": "3857", "env:processSR": "32631"}
    wkt = Context(out_sr='PROJCS["x"]').to_params(10.4)
    assert wkt == {"env:outSR": '{"wkt":"PROJCS[\\"x\\"]"}'}
    assert Context().to_params(11.0) == {}


def test_poll_schedule_shape() -> None:
    """Quick at first, 5 s after a minute, the ramp in between; progress only shortens."""
    s = PollSchedule()
    assert s.delay(0) == pytest.approx(0.1)
    assert 0.1 < s.delay(0.5) < 0.2
    assert s.delay(60) == pytest.approx(5.0)
    assert s.delay(3600) == pytest.approx(5.0)
    # requests in the first minute and over two minutes, simulated on the schedule alone
    t, n = 0.0, 0
    while t < 120:
        t += s.delay(t)
        n += 1
        if t >= 60:
            assert s.delay(t) >= 5.0
    assert n < 70
    assert s.delay(10, eta=0.3) < s.delay(10)
    assert s.delay(10, eta=100) == s.delay(10)
    assert s.delay(61, eta=0.1) == pytest.approx(5.0)


def test_encode_inputs_checks_names_against_the_task() -> None:
    """Unknown parameter names and outputs are refused, naming the valid inputs."""
    task = TaskDescription.from_json({"name": "T", "parameters": [
        {"name": "A", "dataType": "GPLong", "direction": "esriGPParameterDirectionInput"},
        {"name": "Out", "dataType": "GPLong", "direction": "esriGPParameterDirectionOutput"},
    ]}, url="https://h/GPServer/T")
    assert encode_inputs({"A": "5", "B": None}, None) == {"A": "5"}
    assert encode_inputs({"A": "5"}, task) == {"A": "5"}
    with pytest.raises(errors.BadInputError, match="Its inputs are: A"):
        encode_inputs({"Nope": 1}, task)
    with pytest.raises(errors.BadInputError, match="output"):
        encode_inputs({"Out": 1}, task)
    with pytest.raises(errors.BadInputError, match="'A'"):
        encode_inputs({"A": 2.5}, task)


def test_job_from_url() -> None:
    """Re-attaching parses task URL and job id; a wrong URL is a clear error."""
    job = Job.from_url(GPClient(), "https://h/arcgis/rest/services/D/A/GPServer/Sleep/jobs/"
                       "j42?f=json")
    assert job.task_url == "https://h/arcgis/rest/services/D/A/GPServer/Sleep"
    assert job.job_id == "j42" and job.url.endswith("/Sleep/jobs/j42")
    with pytest.raises(errors.BadInputError, match="job URL"):
        Job.from_url(GPClient(), "https://h/arcgis/rest/services/D/A/GPServer/Sleep")


def test_url_classification() -> None:
    """Directory, folder, service, task and portal URLs are told apart."""
    assert classify("https://h/arcgis/rest/services") == "directory"
    assert classify("https://h/arcgis/rest/services/Demo") == "directory"
    assert classify("https://h/arcgis/rest/services/Demo/Analysis/GPServer") == "service"
    assert classify("https://h/arcgis/rest/services/Demo/Analysis/GPServer/Sleep") == "task"
    assert classify("https://h/portal/sharing/rest") == "portal"
    assert classify("https://www.arcgis.com") == "portal"
    assert classify("https://myorg.maps.arcgis.com/home") == "portal"
    assert services_root("https://h/arcgis") == "https://h/arcgis/rest/services"
    assert services_root("https://h/arcgis/rest/services/Demo") == \
        "https://h/arcgis/rest/services"
    assert portal_rest_url("https://www.arcgis.com") == "https://www.arcgis.com/sharing/rest"
    assert portal_rest_url("https://h/portal/home") == "https://h/portal/sharing/rest"
    assert arcpy_style_url("http://degrassi:6080/arcgis/services;GPFolder/BufferService") == \
        "http://degrassi:6080/arcgis/rest/services/GPFolder/BufferService/GPServer"


def test_helper_services_with_gpserver_urls() -> None:
    """Only helper services with a GPServer URL count; task URLs lead to their service."""
    portal = {"helperServices": {
        "analysis": {"url": "https://analysis.arcgis.com/arcgis/rest/services/tasks/GPServer"},
        "geocode": [{"url": "https://geocode.arcgis.com/arcgis/rest/services/World/"
                            "GeocodeServer"}],
        "printTask": {"url": "https://utility.arcgis.com/arcgis/rest/services/Utilities/"
                             "PrintingTools/GPServer/Export%20Web%20Map%20Task"},
        "route": {"url": "https://route.arcgis.com/arcgis/rest/services/World/Route/NAServer"},
        "elevation": {"url": "https://elevation.arcgis.com/arcgis/rest/services/Tools/"
                             "Elevation/GPServer"},
    }}
    assert helper_service_urls(portal) == [
        "https://analysis.arcgis.com/arcgis/rest/services/tasks/GPServer",
        "https://utility.arcgis.com/arcgis/rest/services/Utilities/PrintingTools/GPServer",
        "https://elevation.arcgis.com/arcgis/rest/services/Tools/Elevation/GPServer",
    ]


def test_logger_name() -> None:
    """The package logs under arcgis_gp.gp_client."""
    from arcgis_gp.gp_client._util import LOGGER

    assert LOGGER.name == "arcgis_gp.gp_client"
    assert isinstance(LOGGER, logging.Logger)
