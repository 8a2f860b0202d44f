"""Service, task and parameter descriptions as frozen dataclasses, lossless to and from JSON.

``from_json(d, url=...)`` keeps every key it does not know in ``extra`` and remembers which
known keys were present, so ``to_json()`` gives back an equal dict (key order included).
A :class:`ServiceDescription` whose tasks were fetched writes them under the key
``gpTaskDescriptions`` (never used by ArcGIS), so that one JSON document caches a whole service.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Optional, TypeVar

from .urls import parse_version

TASKS_KEY = "gpTaskDescriptions"

ASYNC = "esriExecutionTypeAsynchronous"
SYNC = "esriExecutionTypeSynchronous"
INPUT = "esriGPParameterDirectionInput"
OUTPUT = "esriGPParameterDirectionOutput"
REQUIRED = "esriGPParameterTypeRequired"
OPTIONAL = "esriGPParameterTypeOptional"
DERIVED = "esriGPParameterTypeDerived"


def _emit(obj: Any, mapping: tuple[tuple[str, str], ...], converters: dict) -> dict:
    """Write the known fields (in their original order) and the extras back to a dict."""
    values = {}
    for attr, key in mapping:
        val = getattr(obj, attr)
        conv = converters.get(attr)
        values[key] = conv(val) if conv and val is not None else copy.deepcopy(val)
    extra = copy.deepcopy(dict(obj.extra))
    out: dict = {}
    order = obj.keys or tuple(key for attr, key in mapping if getattr(obj, attr) is not None)
    known = {key for _, key in mapping}
    for key in order:
        if key in known:
            out[key] = values[key]
        elif key in extra:
            out[key] = extra.pop(key)
    for attr, key in mapping:  # set after parsing (dataclasses.replace)
        if key not in out and getattr(obj, attr) not in (None, ()):
            out[key] = values[key]
    for key, val in extra.items():
        out[key] = val
    return out


_Named = TypeVar("_Named", "ParameterDescription", "TaskDescription")


def _by_name(items: Iterable[_Named], name: str) -> _Named:
    """The item called ``name`` (KeyError if there is none)."""
    for item in items:
        if item.name == name:
            return item
    raise KeyError(name)


def _split(d: dict, mapping: tuple[tuple[str, str], ...]) -> tuple[dict, dict, tuple[str, ...]]:
    if not isinstance(d, dict):
        raise TypeError(f"expected a JSON object, got {type(d).__name__}")
    known = {key: attr for attr, key in mapping}
    found = {}
    extra = {}
    for key, val in d.items():
        if key in known:
            found[known[key]] = copy.deepcopy(val)
        else:
            extra[key] = copy.deepcopy(val)
    return found, extra, tuple(d.keys())


@dataclass(frozen=True)
class ParameterFilter:
    """A parameter's ``filter`` (ArcGIS Server 10.7 and later): which values the task takes.

    ``type`` is ``featureClass`` (``values``: esriGeometry* names), ``range`` (``minimum``,
    ``maximum``), ``valueList`` (``values``) or ``file`` (``values``: file extensions).
    """

    type: str
    values: tuple = ()
    minimum: Optional[float] = None
    maximum: Optional[float] = None

    @classmethod
    def from_json(cls, d: Any) -> Optional[ParameterFilter]:
        """Parse a ``filter`` object (None when it is not one)."""
        if not isinstance(d, dict) or not isinstance(d.get("type"), str):
            return None
        values = d.get("list")
        return cls(type=d["type"],
                   values=tuple(values) if isinstance(values, list) else (),
                   minimum=_number(d.get("minimum")), maximum=_number(d.get("maximum")))


def _number(value: Any) -> Optional[float]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


@dataclass(frozen=True)
class ParameterDescription:
    """One parameter of a GP task, as the task description publishes it."""

    name: str
    data_type: str = "GPString"
    display_name: Optional[str] = None
    description: Optional[str] = None
    direction: Optional[str] = INPUT
    default_value: Any = None
    parameter_type: Optional[str] = None
    category: Optional[str] = None
    choice_list: Optional[tuple] = None
    extra: dict = field(default_factory=dict, compare=True)
    keys: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _MAP = (
        ("name", "name"),
        ("data_type", "dataType"),
        ("display_name", "displayName"),
        ("description", "description"),
        ("direction", "direction"),
        ("default_value", "defaultValue"),
        ("parameter_type", "parameterType"),
        ("category", "category"),
        ("choice_list", "choiceList"),
    )

    @classmethod
    def from_json(cls, d: dict, url: str = "") -> ParameterDescription:
        """Parse one element of a task's ``parameters`` array."""
        found, extra, keys = _split(d, cls._MAP)
        if "choice_list" in found and isinstance(found["choice_list"], list):
            found["choice_list"] = tuple(found["choice_list"])
        found.setdefault("name", "")
        found.setdefault("data_type", None)
        found.setdefault("direction", None)
        return cls(**found, extra=extra, keys=keys)

    def to_json(self) -> dict:
        """Write the parameter back as the server published it."""
        return _emit(self, self._MAP, {"choice_list": list})

    @property
    def is_input(self) -> bool:
        """True for input parameters (the default when direction is missing)."""
        return self.direction != OUTPUT

    @property
    def is_output(self) -> bool:
        """True for output parameters."""
        return self.direction == OUTPUT

    @property
    def is_required(self) -> bool:
        """True for required inputs."""
        return self.parameter_type == REQUIRED and self.is_input

    @property
    def label(self) -> str:
        """The display name, or the name when there is none."""
        return self.display_name or self.name

    @property
    def choices(self) -> tuple:
        """The choice list (empty when there is none)."""
        return tuple(self.choice_list or ())

    @property
    def value_filter(self) -> Optional[ParameterFilter]:
        """The parameter's ``filter`` (None when it publishes none)."""
        return ParameterFilter.from_json(self.extra.get("filter"))

    @property
    def members(self) -> tuple[ParameterDescription, ...]:
        """The ``parameterInfos``: columns of a GPValueTable, types of a GPComposite or the
        member type of a GPMultiValue (empty when the task publishes none)."""
        infos = self.extra.get("parameterInfos")
        if not isinstance(infos, list):
            return ()
        return tuple(ParameterDescription.from_json(d) for d in infos if isinstance(d, dict))


@dataclass(frozen=True)
class TaskDescription:
    """A GP task: its execution type and parameters."""

    url: str
    name: str
    display_name: Optional[str] = None
    description: Optional[str] = None
    category: Optional[str] = None
    help_url: Optional[str] = None
    execution_type: Optional[str] = None
    parameters: tuple[ParameterDescription, ...] = ()
    extra: dict = field(default_factory=dict)
    keys: tuple[str, ...] = field(default=(), compare=False, repr=False)

    _MAP = (
        ("name", "name"),
        ("display_name", "displayName"),
        ("description", "description"),
        ("category", "category"),
        ("help_url", "helpUrl"),
        ("execution_type", "executionType"),
        ("parameters", "parameters"),
    )

    @classmethod
    def from_json(cls, d: dict, url: str = "") -> TaskDescription:
        """Parse a task description (``<service>/GPServer/<task>?f=json``)."""
        found, extra, keys = _split(d, cls._MAP)
        params = found.get("parameters")
        if isinstance(params, list):
            found["parameters"] = tuple(ParameterDescription.from_json(p) for p in params)
        elif params is None and "parameters" not in keys:
            found["parameters"] = ()
        found.setdefault("name", url.rstrip("/").rsplit("/", 1)[-1] if url else "")
        return cls(url=url, **found, extra=extra, keys=keys)

    def to_json(self) -> dict:
        """Write the task back as the server published it."""
        return _emit(self, self._MAP,
                     {"parameters": lambda ps: [p.to_json() for p in ps]})

    @property
    def is_async(self) -> bool:
        """True when the task runs as jobs (submitJob)."""
        return self.execution_type == ASYNC

    @property
    def inputs(self) -> tuple[ParameterDescription, ...]:
        """The input parameters, in published order."""
        return tuple(p for p in self.parameters if p.is_input)

    @property
    def outputs(self) -> tuple[ParameterDescription, ...]:
        """The output parameters, in published order."""
        return tuple(p for p in self.parameters if p.is_output)

    @property
    def label(self) -> str:
        """The display name, or the name when there is none."""
        return self.display_name or self.name

    def parameter(self, name: str) -> ParameterDescription:
        """The parameter called ``name`` (KeyError if there is none)."""
        return _by_name(self.parameters, name)


@dataclass(frozen=True)
class ServiceDescription:
    """A GPServer service: version, execution type, capabilities and (when fetched) tasks."""

    url: str
    current_version: Any = None
    execution_type: Optional[str] = None
    task_names: tuple[str, ...] = ()
    tasks: tuple[TaskDescription, ...] = ()
    result_map_server_name: Optional[str] = None
    maximum_records: Optional[int] = None
    capabilities: Optional[str] = None
    extra: dict = field(default_factory=dict)
    keys: tuple[str, ...] = field(default=(), compare=False, repr=False)
    task_names_raw: Any = field(default=None, compare=False, repr=False)

    _MAP = (
        ("current_version", "currentVersion"),
        ("execution_type", "executionType"),
        ("task_names_raw", "tasks"),
        ("result_map_server_name", "resultMapServerName"),
        ("maximum_records", "maximumRecords"),
        ("capabilities", "capabilities"),
    )

    @classmethod
    def from_json(cls, d: dict, url: str = "") -> ServiceDescription:
        """Parse a service description; task descriptions under ``gpTaskDescriptions`` too."""
        found, extra, keys = _split(d, cls._MAP)
        raw_tasks = found.get("task_names_raw")
        names: list[str] = []
        for t in raw_tasks or ():
            if isinstance(t, str):
                names.append(t)
            elif isinstance(t, dict) and t.get("name"):
                names.append(str(t["name"]))
        tasks: tuple[TaskDescription, ...] = ()
        if TASKS_KEY in extra:
            base = url.rstrip("/")
            tasks = tuple(TaskDescription.from_json(t, url=f"{base}/{t.get('name', '')}")
                          for t in extra.pop(TASKS_KEY) or ())
        return cls(url=url, task_names=tuple(names), tasks=tasks, extra=extra, keys=keys,
                   **found)

    def to_json(self) -> dict:
        """Write the service back as the server published it (plus fetched task descriptions)."""
        out = _emit(self, self._MAP, {})
        if "tasks" not in out and self.task_names and not self.keys:
            out["tasks"] = list(self.task_names)
        if self.tasks:
            out[TASKS_KEY] = [t.to_json() for t in self.tasks]
        return out

    def with_tasks(self, tasks: tuple[TaskDescription, ...]) -> ServiceDescription:
        """A copy with the given task descriptions."""
        return replace(self, tasks=tuple(tasks))

    @property
    def name(self) -> str:
        """The service name with its folder, e.g. ``Demo/Analysis``."""
        url = self.url.rstrip("/")
        low = url.lower()
        end = low.rfind("/gpserver")
        if end < 0:
            return url.rsplit("/", 1)[-1]
        start = low.find("/rest/services/")
        if start >= 0:
            return url[start + len("/rest/services/"): end]
        return url[:end].rsplit("/", 1)[-1]

    @property
    def version(self) -> Optional[float]:
        """currentVersion as a comparable float (10.61 for 10.6.1), None if unknown."""
        return parse_version(self.current_version)

    @property
    def is_async(self) -> bool:
        """True when the service runs its tasks as jobs."""
        return self.execution_type == ASYNC

    @property
    def supports_uploads(self) -> bool:
        """True when ``capabilities`` lists Uploads."""
        caps = str(self.capabilities or "")
        return "uploads" in [c.strip().lower() for c in caps.split(",")]

    def task(self, name: str) -> TaskDescription:
        """The fetched task description called ``name`` (KeyError if not fetched)."""
        return _by_name(self.tasks, name)
