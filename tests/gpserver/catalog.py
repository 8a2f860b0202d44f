"""Services, tasks and parameters the reference server publishes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

IN = "esriGPParameterDirectionInput"
OUT = "esriGPParameterDirectionOutput"
REQUIRED = "esriGPParameterTypeRequired"
OPTIONAL = "esriGPParameterTypeOptional"
DERIVED = "esriGPParameterTypeDerived"

ASYNC = "esriExecutionTypeAsynchronous"
SYNC = "esriExecutionTypeSynchronous"

CURRENT_VERSION = 10.91
FULL_VERSION = "10.9.1"


@dataclass(frozen=True)
class Param:
    """One GP task parameter, as listed in the task description."""

    name: str
    data_type: str
    direction: str = IN
    display_name: str = ""
    description: str = ""
    default_value: Any = None
    parameter_type: str = OPTIONAL
    category: str = ""
    choice_list: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_input(self) -> bool:
        """True for input parameters."""
        return self.direction == IN

    def to_json(self) -> dict[str, Any]:
        """Return the parameter as ArcGIS Server lists it."""
        out: dict[str, Any] = {
            "name": self.name,
            "dataType": self.data_type,
            "displayName": self.display_name or self.name.replace("_", " "),
            "description": self.description,
            "direction": self.direction,
            "defaultValue": self.default_value,
            "parameterType": self.parameter_type,
            "category": self.category,
            "choiceList": list(self.choice_list),
        }
        out.update(self.extra)
        return out


# A task body gets the job context and the parsed inputs, and returns {output name: value}.
TaskFunc = Callable[[Any, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class Task:
    """One GP task."""

    name: str
    display_name: str
    description: str
    params: tuple[Param, ...]
    run: TaskFunc
    category: str = ""

    def param(self, name: str) -> Param | None:
        """Return the parameter with that name (case-insensitive), or None."""
        low = name.lower()
        return next((p for p in self.params if p.name.lower() == low), None)

    @property
    def inputs(self) -> list[Param]:
        """Input parameters."""
        return [p for p in self.params if p.is_input]

    @property
    def outputs(self) -> list[Param]:
        """Output parameters."""
        return [p for p in self.params if not p.is_input]


@dataclass
class Service:
    """One GPServer service (folder/name)."""

    name: str
    execution_type: str
    tasks: dict[str, Task]
    description: str = ""
    uploads: bool = False
    secure: bool = False
    maximum_records: int = 1000
    result_map_server_name: str = ""
    max_job_seconds: float = 3600.0
    current_version: float = CURRENT_VERSION  # below 10.61: env:processSR, no `context`

    @property
    def folder(self) -> str:
        """Folder of the service ('' for the root)."""
        return self.name.rsplit("/", 1)[0] if "/" in self.name else ""

    def task(self, name: str) -> Task | None:
        """Return a task by name (case-insensitive), or None."""
        low = name.lower()
        return next((t for n, t in self.tasks.items() if n.lower() == low), None)


@dataclass
class FeatureLayerDef:
    """A feature layer (FeatureServer/0) holding an Esri FeatureSet in memory."""

    service: str
    name: str
    feature_set: dict[str, Any]
    description: str = ""
    max_record_count: int = 1000
    extra: dict[str, Any] = field(default_factory=dict)
    hosted: bool = False  # served under <url>/hosted/arcgis/rest/services (the hosting server)
