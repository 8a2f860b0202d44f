"""GP data types as Processing parameters, outputs and wire values.

Every GP data type a task can publish has one entry in the table (``table.TYPES``;
``GPMultiValue:<T>`` is built from the entry of ``T``; anything unknown falls back to a
raw-JSON string). An entry says which Processing parameters stand for an input, which
destination or output stands for an output, how a Processing value becomes the REST API's
wire value, and how a result comes back into Processing (sinks, downloaded files, plain
values).

The modules: ``table`` (the one table), ``base`` (GpType, the run environment RunEnv),
``simple`` (strings, booleans, numbers, dates, CRS, extents, fields), ``choices`` (choice
lists and units), ``features`` (feature sets: inline, uploaded, streamed, hosted),
``files`` (files and rasters), ``multi`` (GPMultiValue), ``helptext`` (labels and help),
``command_line`` (the options qgis_process keeps for itself), ``filters`` (what a
task's filters mean in QGIS terms), ``checks`` (inputs refused before anything is sent).

Decisions (documented here because they shape saved models and scripts):

- Parameter names are the task's own; a GPLinearUnit / GPArealUnit input ``X`` is a number
  ``X`` plus an enum ``X_units`` of the units by readable name (Meters, Square Kilometers;
  default: the task's default unit); the wire gets the Esri name (esriMeters), and scripts
  may give the index, the readable name or the Esri name.
- Choice lists become enums. Processing stores the *index* (the only form QGIS 3.22
  knows); the wire always gets the choice string. Scripts and qgis_process may give the
  choice by name as well (``{"Dissolve": "ALL"}``, ``--Distance_units=kilometers``): the
  algorithm's checkParameterValues and processAlgorithm map names to indexes first
  (``enum_from_names``).
- GPMultiValue of simple types is one string parameter: values separated by ``;`` or a
  JSON array. Multiple layers and files use a multiple-layer parameter, choice lists an
  enum that allows several values.
- Categories: an *optional* parameter with a category is flagged advanced (Processing
  folds it into its "Advanced parameters" group, the nearest thing to ArcGIS's collapsed
  categories); required parameters always stay in view. The category also appears in the
  parameter's help.
- An optional parameter that is left empty is not sent, so the server applies its own
  default.
- Every destination (feature sink, file, raster) is required (the dialog shows no
  "[optional]") and defaults to a temporary output, so that a run that names no
  destination still gets every result.
"""

from __future__ import annotations

from .base import (
    MISSING,
    GpType,
    ResultFile,
    RunEnv,
    crs_to_sr,
    output_skipped,
    sr_to_crs,
)
from .checks import first_problem
from .choices import UNITS_SUFFIX, enum_from_names
from .helptext import display_name, help_text
from .table import TYPES, gp_type

__all__ = [
    "MISSING", "TYPES", "UNITS_SUFFIX", "GpType", "ResultFile", "RunEnv", "crs_to_sr",
    "display_name", "enum_from_names", "first_problem", "gp_type", "help_text",
    "output_skipped", "sr_to_crs",
]
