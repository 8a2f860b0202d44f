"""The provider's algorithms, checked against the reference server's own task descriptions.

Every task of every GPServer service the connection reaches becomes an algorithm with the
right name, group, parameters (types, defaults, choice lists, optional flags, categories)
and help. Start-up comes from the description cache: with the server down the algorithms
are still there, without a request; a refresh of a server that is down costs one log
message. A description with an unknown type loads with a raw-JSON string parameter; a
description that cannot be understood is logged and skipped.
"""

from __future__ import annotations

import html
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from qgis.core import (
    Qgis,
    QgsApplication,
    QgsNetworkAccessManager,
    QgsNetworkRequestParameters,
    QgsProcessing,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingProvider,
)
from qgis.PyQt.QtCore import QCoreApplication

from arcgis_gp.gp_client.values import LINEAR_UNITS
from arcgis_gp.provider.algorithm import GpTaskAlgorithm, plain_text
from arcgis_gp.provider.cache import DescriptionCache
from arcgis_gp.provider.connections import ENV_VAR, ConnectionStore
from arcgis_gp.provider.parameters.choices import unit_label
from arcgis_gp.provider.provider import GpProvider
from tests.qgis.provider.helpers import registered, wait_until

pytestmark = pytest.mark.timeout(120)

NAME_RE = re.compile(r"^[a-z0-9_]+$")


def make_provider(url: str, cache_dir: Path, *, name: str = "local",
                  fetch_missing: bool | None = True) -> GpProvider:
    """A provider with one headless connection, its own settings key and cache folder."""
    env = {ENV_VAR: json.dumps([{"name": name, "url": url}])}
    store = ConnectionStore(f"arcgis_gp_tests/{uuid.uuid4().hex}/connections", environ=env)
    return GpProvider(store, DescriptionCache(cache_dir), fetch_missing=fetch_missing)


def load(provider: QgsProcessingProvider) -> dict[str, GpTaskAlgorithm]:
    """Load the provider's algorithms (as the registry would) and index them by name."""
    provider.refreshAlgorithms()
    return {a.name(): a for a in provider.algorithms()}


@pytest.fixture(scope="module")
def server_tasks(gpserver_url: str) -> dict[str, dict]:
    """The raw task JSON of every anonymous GP service, by 'service/task' (the oracle)."""
    root = gpserver_url + "/arcgis/rest/services"
    out: dict[str, dict] = {}
    folders = [""] + requests.get(root, params={"f": "json"}, timeout=30).json()["folders"]
    for folder in folders:
        listing = requests.get(f"{root}/{folder}".rstrip("/"), params={"f": "json"},
                               timeout=30).json()
        for svc in listing.get("services", []):
            if svc["type"] != "GPServer":
                continue
            svc_url = f"{root}/{svc['name']}/GPServer"
            body = requests.get(svc_url, params={"f": "json"}, timeout=30).json()
            if "error" in body:  # the token-protected service
                continue
            for task in body["tasks"]:
                out[f"{svc['name']}/{task}"] = requests.get(
                    f"{svc_url}/{task}", params={"f": "json"}, timeout=30).json()
    return out


@pytest.fixture(scope="module")
def algorithms(gpserver_url: str, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[dict[str, GpTaskAlgorithm]]:
    """The algorithms of a connection to the server's services directory."""
    provider = make_provider(gpserver_url + "/arcgis/rest/services",
                             tmp_path_factory.mktemp("cache"))
    found = load(provider)
    assert provider.load_problems == []
    yield found  # the provider owns the algorithms: keep it alive while they are used


def alg_name(service: str, task: str) -> str:
    """The expected algorithm name of a task of the 'local' connection."""
    return ("local_" + service + "_" + task).lower().replace("/", "_")


def test_every_task_of_every_service_is_an_algorithm(algorithms: dict, server_tasks: dict
                                                     ) -> None:
    assert len(server_tasks) >= 10
    for key in server_tasks:
        service, task = key.rsplit("/", 1)
        assert alg_name(service, task) in algorithms, key
    assert "local_demo_analysis_bufferfeatures" in algorithms
    assert "local_demo_analysissync_echoalltypes" in algorithms
    assert "local_tasks_createbuffers" in algorithms


def test_names_groups_and_esrijson_tools(algorithms: dict) -> None:
    for name in algorithms:
        assert NAME_RE.match(name), name
    buffer = algorithms["local_demo_analysis_bufferfeatures"]
    assert buffer.displayName() == "Buffer Features"
    assert buffer.group() == "local: Demo/Analysis"
    assert buffer.groupId() == "local_demo_analysis"
    assert algorithms["local_demo_analysissync_copyfeatures"].groupId() == \
        "local_demo_analysissync"
    assert "esrijsontolayer" in algorithms and "layertoesrijson" in algorithms


def _check_input(alg: GpTaskAlgorithm, param: dict) -> None:
    name = param["name"]
    definition = alg.parameterDefinition(name)
    assert definition is not None, f"{alg.name()} lacks {name}"
    assert definition.description() == param["displayName"]
    optional = bool(definition.flags() & QgsProcessingParameterDefinition.Flag.FlagOptional)
    assert optional == (param["parameterType"] != "esriGPParameterTypeRequired"), name
    advanced = bool(definition.flags() & QgsProcessingParameterDefinition.Flag.FlagAdvanced)
    assert advanced == (optional and bool(param.get("category"))), name
    if param.get("description"):
        assert param["description"] in definition.help()
    data_type = param["dataType"]
    choices = param.get("choiceList") or []
    default = param.get("defaultValue")
    if choices:
        assert isinstance(definition, QgsProcessingParameterEnum)
        assert definition.options() == choices
        assert definition.allowMultiple() == data_type.startswith("GPMultiValue:")
        if isinstance(default, str):
            assert definition.defaultValue() == choices.index(default)
    elif data_type in ("GPString", "GPLong", "GPDouble", "GPBoolean"):
        if default is not None:
            assert definition.defaultValue() == default, name
    elif data_type in ("GPLinearUnit", "GPArealUnit"):
        units = alg.parameterDefinition(name + "_units")
        assert isinstance(units, QgsProcessingParameterEnum)
        if default:
            amount = default.get("distance", default.get("area"))
            assert definition.defaultValue() == amount
            assert units.options()[units.defaultValue()] == unit_label(default["units"])
        if data_type == "GPLinearUnit":
            assert {unit_label(unit) for unit in LINEAR_UNITS} <= set(units.options())
    elif data_type in ("GPFeatureRecordSetLayer", "GPRecordSet"):
        assert isinstance(definition, QgsProcessingParameterFeatureSource)
    elif data_type not in ("GPDate", "GPDataFile", "GPRasterData", "GPRasterDataLayer",
                           "GPSpatialReference", "GPExtent", "GPEnvelope", "Field") \
            and not data_type.startswith("GPMultiValue:"):
        # no Processing equivalent: a raw JSON string, with a note saying so
        assert definition.type() == "string", name
        assert "no Processing equivalent" in definition.help()


def _check_output(alg: GpTaskAlgorithm, param: dict) -> None:
    name = param["name"]
    output = alg.outputDefinition(name)
    assert output is not None, f"{alg.name()} lacks output {name}"
    data_type = param["dataType"]
    if data_type in ("GPFeatureRecordSetLayer", "GPRecordSet"):
        assert isinstance(alg.parameterDefinition(name), QgsProcessingParameterFeatureSink)
    elif data_type in ("GPDataFile",):
        assert alg.parameterDefinition(name).type() == "fileDestination"
    elif data_type in ("GPRasterData", "GPRasterDataLayer"):
        assert alg.parameterDefinition(name).type() == "rasterDestination"
    else:
        assert alg.parameterDefinition(name) is None  # a plain output, no destination


def test_parameters_follow_the_task_descriptions(algorithms: dict, server_tasks: dict) -> None:
    checked = 0
    for key, task in server_tasks.items():
        service, task_name = key.rsplit("/", 1)
        alg = algorithms[alg_name(service, task_name)].create()
        for param in task["parameters"]:
            if param["direction"] == "esriGPParameterDirectionInput":
                _check_input(alg, param)
            else:
                _check_output(alg, param)
            checked += 1
        help_text = alg.shortHelpString()  # plain text: qgis_process prints it as it is
        assert not re.search(r"<[a-z/][^>]*>", help_text), help_text
        assert help_text.splitlines()[0] == plain_text(task["description"])
        if "<" not in task["description"]:
            assert help_text.splitlines()[0] == task["description"]
        for param in task["parameters"]:
            assert f"- {param.get('displayName') or param['name']} ({param['name']}, " \
                in help_text
        rich = alg.helpString()
        assert html.escape(task["description"], quote=False) in rich
        for param in task["parameters"]:
            assert f"<code>{param['name']}</code>" in rich
    assert checked > 60
    echo = algorithms[alg_name("Demo/Analysis", "EchoAllTypes")].shortHelpString()
    assert "In_\u2039Type\u203a" in echo  # '<Type>' would vanish in the dialog's HTML


def test_buffer_features_parameters(algorithms: dict) -> None:
    alg = algorithms["local_demo_analysis_bufferfeatures"].create()
    names = [d.name() for d in alg.parameterDefinitions()
             if not d.name().startswith("ARCGISGP_")]  # ours, tested where they are made
    assert names == ["Input_Features", "Distance", "Distance_units", "Dissolve",
                     "Output_Features"]
    source = alg.parameterDefinition("Input_Features")
    assert source.dataTypes() == [QgsProcessing.SourceType.TypeVectorPoint]
    sink = alg.parameterDefinition("Output_Features")
    assert sink.dataType() == QgsProcessing.SourceType.TypeVectorPolygon
    assert alg.parameterDefinition("Distance").defaultValue() == 100.0
    units = alg.parameterDefinition("Distance_units")
    assert units.options()[units.defaultValue()] == "Meters"
    assert alg.parameterDefinition("Dissolve").options() == ["NONE", "ALL"]
    assert "asynchronous" in alg.shortHelpString()
    assert alg.helpUrl() == alg.spec.task.help_url
    assert alg.helpUrl().endswith("/BufferFeatures.htm")


def test_echo_all_types_maps_every_type(algorithms: dict) -> None:
    alg = algorithms["local_demo_analysis_echoalltypes"].create()
    kinds = {d.name(): d.type() for d in alg.parameterDefinitions()}
    expected = {
        "In_GPString": "string", "In_GPBoolean": "boolean", "In_GPLong": "number",
        "In_GPDouble": "number", "In_GPDate": "datetime", "In_GPLinearUnit": "number",
        "In_GPLinearUnit_units": "enum", "In_GPArealUnit": "number",
        "In_GPArealUnit_units": "enum", "In_GPDataFile": "file", "In_GPRasterData": "raster",
        "In_GPRasterDataLayer": "raster", "In_GPFeatureRecordSetLayer": "source",
        "In_GPRecordSet": "source", "In_GPMultiValue_GPString": "string",
        "In_GPSpatialReference": "crs", "In_GPExtent": "extent", "In_GPEnvelope": "extent",
        "In_Field": "string", "In_GPValueTable": "string", "In_GPComposite": "string",
        "In_GPSACellSize": "string", "In_GPString_Choice": "enum",
        "Out_GPFeatureRecordSetLayer": "sink", "Out_GPRecordSet": "sink",
        "Out_GPDataFile": "fileDestination", "Out_GPRasterDataLayer": "rasterDestination",
    }
    for name, kind in expected.items():
        assert kinds.get(name) == kind, (name, kinds.get(name))
    assert alg.parameterDefinition("In_Field").defaultValue() == "Name"
    assert alg.parameterDefinition("In_GPMultiValue_GPLong").defaultValue() == "1;2;3"
    assert alg.parameterDefinition("In_GPSpatialReference").defaultValue() == "EPSG:4326"
    areal = alg.parameterDefinition("In_GPArealUnit_units")
    assert areal.options()[areal.defaultValue()] == "Square Kilometers"
    assert alg.outputDefinition("Out_GPString").type() == "outputString"
    assert alg.outputDefinition("Out_GPBoolean").type() == "outputBoolean"
    assert alg.outputDefinition("Out_GPLong").type() == "outputNumber"
    assert "no Processing equivalent" in alg.parameterDefinition("In_GPSACellSize").help()


def test_create_instance_keeps_the_description(algorithms: dict) -> None:
    alg = algorithms["local_demo_analysis_sleep"]
    copy = alg.create()
    assert copy is not alg
    assert copy.spec is alg.spec
    assert copy.id() == "arcgisgp:local_demo_analysis_sleep"
    assert [d.name() for d in copy.parameterDefinitions()
            if not d.name().startswith("ARCGISGP_")] == ["Seconds", "Outcome"]


# ---------------------------------------------------------------- cache, down, odd descriptions
class LogCatcher:
    """Collects the messages QGIS logs under a tag."""

    def __init__(self, tag: str = "ArcGIS GP") -> None:
        self.tag = tag
        self.messages: list[tuple[str, Any]] = []
        QgsApplication.messageLog().messageReceived.connect(self._got)

    def _got(self, message: str, tag: str, level: Any) -> None:
        if tag == self.tag:
            self.messages.append((message, level))

    def close(self) -> None:
        """Stop listening."""
        QgsApplication.messageLog().messageReceived.disconnect(self._got)


class RequestCounter:
    """Counts the requests made through QGIS's network access manager."""

    def __init__(self) -> None:
        self.urls: list[str] = []
        self.signal = QgsNetworkAccessManager.instance().requestAboutToBeCreated[
            QgsNetworkRequestParameters]
        self.signal.connect(self._got)

    def _got(self, request: QgsNetworkRequestParameters) -> None:
        self.urls.append(request.request().url().toString())

    def close(self) -> None:
        """Stop counting (after the requests other threads forward, queued)."""
        QCoreApplication.processEvents()
        self.signal.disconnect(self._got)


def test_start_up_with_the_server_down_uses_the_cache(qgis_app: Any, tmp_path: Path) -> None:
    from tests.gpserver import GPServer

    server = GPServer(port=0)
    server.start()
    url = server.url + "/arcgis/rest/services/Demo"
    try:
        first = make_provider(url, tmp_path)
        names = sorted(load(first))
    finally:
        server.stop()
    assert "local_demo_analysis_bufferfeatures" in names

    counter = RequestCounter()
    log = LogCatcher()
    try:
        again = make_provider(url, tmp_path, fetch_missing=True)
        registry = QgsApplication.processingRegistry()
        old = registry.providerById("arcgisgp")
        if old is not None:
            registry.removeProvider(old)
        assert registry.addProvider(again)  # load(): gp_client's log goes to QGIS's too
        assert sorted(a.name() for a in again.algorithms()) == names  # from the cache
        assert counter.urls == []
        outcome: list[dict] = []
        task = again.refresh_in_background(on_done=outcome.append)
        assert task is not None
        end = time.monotonic() + 30
        while not outcome and time.monotonic() < end:
            QCoreApplication.processEvents()
        assert outcome and outcome[0]["local"], outcome
        assert sorted(a.name() for a in again.algorithms()) == names  # still there
    finally:
        counter.close()
        log.close()
        QgsApplication.processingRegistry().removeProvider("arcgisgp")
    warnings = [m for m, level in log.messages if level == Qgis.MessageLevel.Warning]
    assert len(warnings) == 1, warnings
    assert "Could not refresh connection 'local'" in warnings[0]
    assert "cached algorithms" in warnings[0]


def test_a_run_against_a_server_that_went_down_says_nothing_was_sent(
        qgis_processing: Any, faultproxy: Any, tmp_path: Path) -> None:
    """Connection refused on submitJob: no job started, and the message says exactly that."""
    import processing
    from qgis.core import QgsProcessingException

    provider = make_provider(faultproxy.url + "/arcgis/rest/services/Demo/Analysis/GPServer",
                             tmp_path)
    registry = QgsApplication.processingRegistry()
    old = registry.providerById("arcgisgp")
    if old is not None:
        registry.removeProvider(old)
    assert registry.addProvider(provider)
    faultproxy.refuse(600)  # the server goes down: kept-alive connections are dropped too
    # Qt may not yet have noticed that its kept-alive connection was reset (seen on 3.44):
    # a POST written on it breaks after sending, which is the 'may have started' case
    # (tested with the proxy's 'reset'). Here the run must open a new connection.
    from qgis.core import QgsNetworkAccessManager
    QgsNetworkAccessManager.instance().clearConnectionCache()
    try:
        with pytest.raises(QgsProcessingException) as caught:
            processing.run("arcgisgp:local_demo_analysis_sleep", {"Seconds": 0.1})
    finally:
        registry.removeProvider(provider)
    assert faultproxy.count(r"/submitJob$") == 0
    text = str(caught.value)
    assert "Nothing was sent" in text and "no task was started" in text, text
    assert "may have received" not in text


def test_no_cache_and_no_fetch_means_no_algorithms_yet(gpserver_url: str,
                                                       tmp_path: Path) -> None:
    counter = RequestCounter()
    try:
        provider = make_provider(gpserver_url + "/arcgis/rest/services", tmp_path,
                                 fetch_missing=False)
        found = load(provider)
    finally:
        counter.close()
    assert counter.urls == []
    assert not [n for n in found if n.startswith("local_")]
    outcome = provider.refresh_now()
    assert outcome == {"local": None}
    assert "local_demo_analysis_bufferfeatures" in {a.name() for a in provider.algorithms()}


def test_unknown_types_load_and_bad_descriptions_are_skipped(gpserver_url: str,
                                                             tmp_path: Path) -> None:
    url = gpserver_url + "/arcgis/rest/services/Demo/AnalysisSync/GPServer"
    provider = make_provider(url, tmp_path)
    load(provider)
    cache_file = next(tmp_path.glob("*.json"))
    doc = json.loads(cache_file.read_text(encoding="utf-8"))
    tasks = doc["services"][0]["description"]["gpTaskDescriptions"]
    copy = next(t for t in tasks if t["name"] == "CopyFeatures")
    copy["parameters"].insert(1, {
        "name": "Cell_Size", "dataType": "GPSomethingNew", "displayName": "Cell Size",
        "description": "A type from the future.", "direction": "esriGPParameterDirectionInput",
        "defaultValue": {"size": 30}, "parameterType": "esriGPParameterTypeOptional",
    })
    broken = json.loads(json.dumps(copy))
    broken["name"] = "Broken"
    broken["parameters"] = [{"name": "X", "dataType": "GPString",
                             "direction": "esriGPParameterDirectionInput",
                             "choiceList": 5}]  # not a list: no enum can be built from it
    tasks.append(broken)
    cache_file.write_text(json.dumps(doc), encoding="utf-8")

    log = LogCatcher()
    try:
        again = make_provider(url, tmp_path, fetch_missing=False)
        found = load(again)
    finally:
        log.close()
    alg = found["local_demo_analysissync_copyfeatures"].create()
    cell = alg.parameterDefinition("Cell_Size")
    assert cell.type() == "string"
    assert json.loads(cell.defaultValue()) == {"size": 30}
    assert "no Processing equivalent" in cell.help()
    assert "GPSomethingNew" in alg.shortHelpString()
    assert "local_demo_analysissync_broken" not in found
    assert "local_demo_analysissync_bufferfeatures" in found
    skipped = [m for m, _ in log.messages if "Skipped task Broken" in m]
    assert len(skipped) == 1
    assert again.load_problems and "Broken" in again.load_problems[0]


def test_a_cache_for_another_url_is_not_used(gpserver_url: str, tmp_path: Path) -> None:
    provider = make_provider(gpserver_url + "/arcgis/rest/services/Demo/Analysis/GPServer",
                             tmp_path)
    assert load(provider)
    other = make_provider("http://127.0.0.1:9/arcgis/rest/services/Demo/Analysis/GPServer",
                          tmp_path, fetch_missing=False)
    assert not [n for n in load(other) if n.startswith("local_")]


def test_bad_environment_variable_is_logged(tmp_path: Path) -> None:
    log = LogCatcher()
    try:
        store = ConnectionStore("arcgis_gp_tests/none", environ={ENV_VAR: "[{'name': 1}"})
        assert store.from_environment() == []
        store = ConnectionStore("arcgis_gp_tests/none", environ={
            ENV_VAR: json.dumps([{"name": "ok", "url": "https://h.example/arcgis"},
                                 {"name": "no url"}])})
        assert [c.name for c in store.from_environment()] == ["ok"]
    finally:
        log.close()
    texts = " ".join(m for m, _ in log.messages)
    assert "is not valid JSON" in texts
    assert "entry 2 is skipped" in texts


def test_refresh_algorithm_reloads_the_toolbox(qgis_processing: Any, gpserver_url: str,
                                               tmp_path: Path) -> None:
    """processing.run('arcgisgp:refreshconnections') fetches, caches and reloads."""
    import processing

    provider = make_provider(gpserver_url + "/arcgis/rest/services/Demo/AnalysisSync/GPServer",
                             tmp_path, fetch_missing=False)
    with registered(provider):
        names = {a.name() for a in provider.algorithms()}
        assert "refreshconnections" in names
        assert "local_demo_analysissync_copyfeatures" not in names  # no cache yet
        result = processing.run("arcgisgp:refreshconnections", {})
        assert result["FAILED"] == 0 and result["TASKS"] == 3
        assert result["REPORT"] == (f"local: 3 tasks in 1 service, cache written to "
                                    f"{tmp_path / 'local.json'}")
        assert "local_demo_analysissync_copyfeatures" in {a.name() for a in
                                                          provider.algorithms()}


def test_refresh_algorithm_fetches_off_the_gui_thread(qgis_processing: Any, gpserver_url: str,
                                                     tmp_path: Path) -> None:
    """Run as the dialog runs it (a worker task): the toolbox reloads on the main thread."""
    from qgis.core import (
        QgsProcessingAlgorithm,
        QgsProcessingAlgRunnerTask,
        QgsProcessingContext,
        QgsProcessingFeedback,
    )
    from qgis.PyQt.QtCore import QThread

    provider = make_provider(gpserver_url + "/arcgis/rest/services/Demo/AnalysisSync/GPServer",
                             tmp_path, fetch_missing=False)
    reload_threads: list[bool] = []
    with registered(provider):
        provider.algorithmsLoaded.connect(  # after the registry's own load
            lambda: reload_threads.append(QThread.currentThread() == QCoreApplication.instance()
                                          .thread()))
        algorithm = QgsApplication.processingRegistry().algorithmById(
            "arcgisgp:refreshconnections")
        assert not algorithm.flags() & QgsProcessingAlgorithm.Flag.FlagNoThreading
        context, feedback = QgsProcessingContext(), QgsProcessingFeedback()
        task = QgsProcessingAlgRunnerTask(algorithm, {}, context, feedback)
        done: list[bool] = []
        task.executed.connect(lambda ok, _results: done.append(ok))
        QgsApplication.taskManager().addTask(task)
        assert wait_until(lambda: bool(done) and bool(reload_threads), 60)
        assert done == [True]
        assert reload_threads == [True]  # reloaded once, on the main thread
        assert "local_demo_analysissync_copyfeatures" in {a.name() for a in
                                                          provider.algorithms()}


def test_skipped_services_are_logged_in_qgis_terms(gpserver_url: str, tmp_path: Path) -> None:
    """The secured folder is reported once, with QGIS's advice, not gp_client's."""
    log = LogCatcher()
    provider = make_provider(gpserver_url + "/arcgis/rest/services", tmp_path)
    registry = QgsApplication.processingRegistry()
    old = registry.providerById("arcgisgp")
    if old is not None:
        registry.removeProvider(old)
    try:
        assert registry.addProvider(provider)  # load(): gp_client's log is forwarded
    finally:
        registry.removeProvider(provider)
        log.close()
    texts = [m for m, _ in log.messages if "Secure/Analysis" in m]
    assert texts == ["Connection 'local': 1 service skipped: Secure/Analysis needs a sign-in "
                     "— pick an authentication configuration."], texts
