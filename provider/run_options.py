"""Our advanced parameters of every task (``ARCGISGP_*``) and what a run reads from them.

Split and parallel jobs, the processing context (processSR, extent), the result map
service as a layer and "copy inputs even if the server can read them". Names start with
``ARCGISGP_`` so they never meet a task's own parameters.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterCrs,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterExtent,
    QgsProcessingParameterNumber,
)

from ..esrijson.spatialref import encode_spatial_reference
from ..gp_client import jobs
from ..gp_client.model import ServiceDescription, TaskDescription
from .i18n import tr

SPLIT = "ARCGISGP_SPLIT"
PARALLEL = "ARCGISGP_PARALLEL"
PROCESS_SR = "ARCGISGP_PROCESS_SR"
EXTENT = "ARCGISGP_EXTENT"
RESULT_MAP_LAYER = "ARCGISGP_RESULT_MAP_LAYER"
COPY_INPUTS = "ARCGISGP_COPY_INPUTS"

MAX_PARALLEL = 8  # more jobs at once than this only queue on a typical server's instances
FEATURE_TYPES = ("GPFeatureRecordSetLayer", "GPRecordSet")
# a task with a parameter of its own of these names sets the context itself
OWN_CONTEXT_NAMES = {"context", "env:outsr", "env:processsr"}


def feature_inputs(task: TaskDescription) -> list[Any]:
    """The task's feature and record set inputs, in the task's order."""
    return [p for p in task.inputs if p.data_type in FEATURE_TYPES]


def takes_own_context(task: TaskDescription) -> bool:
    """Return whether the task has a parameter of its own named like the context fields."""
    return bool({p.name.lower() for p in task.inputs} & OWN_CONTEXT_NAMES)


def _advanced(definition: QgsProcessingParameterDefinition, help_text: str
              ) -> QgsProcessingParameterDefinition:
    definition.setFlags(definition.flags()
                        | QgsProcessingParameterDefinition.Flag.FlagAdvanced
                        | QgsProcessingParameterDefinition.Flag.FlagOptional)
    definition.setHelp(help_text)
    return definition


def option_parameters(service: ServiceDescription, task: TaskDescription
                      ) -> list[QgsProcessingParameterDefinition]:
    """The advanced parameters this task gets, besides its own."""
    out: list[QgsProcessingParameterDefinition] = []
    features = feature_inputs(task)
    integer = QgsProcessingParameterNumber.Type.Integer
    if features:
        first = features[0].name
        out.append(_advanced(
            QgsProcessingParameterNumber(SPLIT, tr("Split the input into jobs of (features)"),
                                         integer, 0, True, 0),
            tr("Send {0} in several jobs of at most this many features each and merge their "
               "results, in input order, into one output. 0 (the default) sends one job. "
               "Valid only for tasks that treat each feature on its own (a buffer, a "
               "geocode); a task that looks at features together (dissolve, hot spots, "
               "nearest) gives different results. Use it when a result is over the "
               "service's maximum number of records.").format(first)))
        out.append(_advanced(
            QgsProcessingParameterNumber(PARALLEL, tr("Jobs running at once"), integer, 1,
                                         True, 1, MAX_PARALLEL),
            tr("With a split input: how many of its jobs run on the server at the same time "
               "(1 to {0}). Asynchronous services only; a synchronous one runs them one "
               "after another.").format(MAX_PARALLEL)))
    if not takes_own_context(task):
        out.append(_advanced(
            QgsProcessingParameterCrs(PROCESS_SR, tr("Processing spatial reference"), None,
                                      True),
            tr("The coordinate system the server processes in (processSR), e.g. for the "
               "distances of a buffer. Empty: the server's choice. Results still come back "
               "in the CRS of the first input layer.")))
        out.append(_advanced(
            QgsProcessingParameterExtent(EXTENT, tr("Processing extent"), None, True),
            tr("Only features inside this extent are processed (the server's processing "
               "extent). ArcGIS Server before 10.6.1 has no processing extent: it is then "
               "not sent, and the log says so.")))
    if (service.result_map_server_name or "").strip():
        out.append(_advanced(
            QgsProcessingParameterBoolean(RESULT_MAP_LAYER,
                                          tr("Add the job's result map service as a layer"),
                                          False, True),
            tr("The service draws each job's results in a map service ({0}); this adds it "
               "to the project as an ArcGIS map service layer, drawn by the server.").format(
                   service.result_map_server_name)))
    if features:
        out.append(_advanced(
            QgsProcessingParameterBoolean(COPY_INPUTS, tr("Always send copies of the input "
                                                          "features"), False, True),
            tr("A layer of an ArcGIS feature service the task's server can read is sent as "
               "its URL and filter, so the server reads it itself. Check this to send a "
               "copy of its features instead, as for any other layer.")))
    return out


@dataclass(frozen=True)
class RunOptions:
    """The values of our advanced parameters for one run."""

    split: int = 0
    parallel: int = 1
    process_sr: Optional[dict] = None
    extent: Optional[dict] = None
    result_map_layer: bool = False
    copy_inputs: bool = False

    @classmethod
    def read(cls, algorithm: QgsProcessingAlgorithm, parameters: dict,
             context: QgsProcessingContext) -> RunOptions:
        """Read the options given (absent ones at their defaults)."""
        def given(name: str) -> bool:
            return (algorithm.parameterDefinition(name) is not None
                    and parameters.get(name) not in (None, ""))

        split = algorithm.parameterAsInt(parameters, SPLIT, context) if given(SPLIT) else 0
        parallel = (algorithm.parameterAsInt(parameters, PARALLEL, context)
                    if given(PARALLEL) else 1)
        process_sr = None
        if given(PROCESS_SR):
            crs = algorithm.parameterAsCrs(parameters, PROCESS_SR, context)
            process_sr = crs_wire(crs) if crs.isValid() else None
        extent = None
        if given(EXTENT):
            rect = algorithm.parameterAsExtent(parameters, EXTENT, context)
            if not rect.isNull() and not rect.isEmpty():
                extent = {"xmin": rect.xMinimum(), "ymin": rect.yMinimum(),
                          "xmax": rect.xMaximum(), "ymax": rect.yMaximum()}
                crs = algorithm.parameterAsExtentCrs(parameters, EXTENT, context)
                if crs.isValid():
                    extent["spatialReference"] = crs_wire(crs)

        def flag(name: str) -> bool:
            return given(name) and algorithm.parameterAsBool(parameters, name, context)

        return cls(split=max(0, split), parallel=min(MAX_PARALLEL, max(1, parallel)),
                   process_sr=process_sr, extent=extent,
                   result_map_layer=flag(RESULT_MAP_LAYER), copy_inputs=flag(COPY_INPUTS))

    def job_context(self, out_crs: Optional[QgsCoordinateReferenceSystem]
                    ) -> Optional[jobs.Context]:
        """The job's ``context``: outSR from the first input layer, processSR, extent."""
        out_sr = crs_wire(out_crs) if out_crs is not None and out_crs.isValid() else None
        if out_sr is None and self.process_sr is None and self.extent is None:
            return None
        return jobs.Context(out_sr=out_sr, process_sr=self.process_sr, extent=self.extent)

    def context_notes(self, version: Optional[float]) -> list[str]:
        """What the user should know about how the context reaches this server."""
        if version is None or version >= jobs.CONTEXT_VERSION:
            return []
        notes = []
        if self.process_sr is not None:
            notes.append(tr("The server (ArcGIS {0}) predates the context parameter: the "
                            "processing spatial reference goes as env:processSR.").format(
                                version))
        if self.extent is not None:
            notes.append(tr("The server (ArcGIS {0}) has no processing extent (it came with "
                            "10.6.1): the extent is not sent and every feature is "
                            "processed.").format(version))
        return notes


def crs_wire(crs: QgsCoordinateReferenceSystem) -> dict:
    """Esri spatial reference JSON of a CRS."""
    return encode_spatial_reference(crs) or {}
