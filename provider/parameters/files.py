"""Files and rasters: local inputs uploaded (or URLs passed on), results downloaded."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from qgis.core import (
    QgsMapLayer,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputDefinition,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ...gp_client.model import ParameterDescription
from .base import MISSING, GpType, RunEnv, finish, output_skipped, raw_value
from .filters import extensions
from .helptext import display_name, help_text

# Files in a multiple-layer parameter (4 in every QGIS 3; the name may move with QGIS 4)
FILE_SOURCE_TYPE = getattr(QgsProcessing.SourceType, "TypeFile", 4)


class FileType(GpType):
    """GPDataFile: a local file (uploaded) or a URL; results are downloaded."""

    NOUN = "file"

    def input_parameters(self, p: ParameterDescription
                         ) -> list[QgsProcessingParameterDefinition]:
        """Return a file parameter (a URL is accepted too), limited to a file filter's types."""
        definition = QgsProcessingParameterFile(
            p.name, display_name(p), QgsProcessingParameterFile.Behavior.File, "", None, True)
        note = ("A local file is uploaded to the service first; an http(s) URL is passed on "
                "as is.")
        allowed = extensions(p)
        if allowed:
            # both cases: QGIS's file check and Linux file dialogs match case-sensitively
            patterns = " ".join(f"*.{e} *.{e.upper()}" for e in allowed)
            definition.setFileFilter(f"Files the service takes ({patterns})")
            note += f" The service takes {', '.join('.' + e for e in allowed)} files."
        return [finish(definition, p, note)]

    def to_wire(self, p: ParameterDescription, env: RunEnv) -> Any:
        """Return ``{"itemID": ...}`` after uploading, or ``{"url": ...}``."""
        if raw_value(env, p.name) is MISSING:
            return MISSING
        path = env.algorithm.parameterAsFile(env.parameters, p.name, env.context)
        return upload_or_url(path, p, env)

    def output_parameter(self, p: ParameterDescription
                         ) -> QgsProcessingParameterDefinition | None:
        """Return a file destination."""
        definition = QgsProcessingParameterFileDestination(
            p.name, display_name(p), "All files (*.*)", QgsProcessing.TEMPORARY_OUTPUT, False,
            True)
        definition.setHelp(help_text(p))
        return definition

    def output(self, p: ParameterDescription) -> QgsProcessingOutputDefinition | None:
        """Return nothing: the destination is the output."""
        return None

    def destination(self, p: ParameterDescription, env: RunEnv) -> str:
        """Return the path the result goes to."""
        return env.algorithm.parameterAsFileOutput(env.parameters, p.name, env.context)

    def from_wire(self, p: ParameterDescription, value: Any, env: RunEnv) -> None:
        """Download the result to the destination (rasters converted when it asks)."""
        url = value.get("url") if isinstance(value, dict) else None
        if not url:
            env.feedback.pushWarning(f"The server returned no {self.NOUN} for {p.name}.")
            env.results[p.name] = None
            return
        if output_skipped(env, p.name):
            return
        env.results[p.name] = _fetch_to(url, self.destination(p, env), env,
                                        convert_raster=self.NOUN == "raster")


class RasterType(FileType):
    """GPRasterData / GPRasterDataLayer: a raster layer (uploaded); results downloaded."""

    NOUN = "raster"

    def input_parameters(self, p: ParameterDescription
                         ) -> list[QgsProcessingParameterDefinition]:
        """Return a raster layer parameter."""
        definition = QgsProcessingParameterRasterLayer(p.name, display_name(p), None, True)
        return [finish(definition, p, "The raster file is uploaded to the service first.")]

    def to_wire(self, p: ParameterDescription, env: RunEnv) -> Any:
        """Upload the raster's file and return ``{"itemID": ...}``."""
        if raw_value(env, p.name) is MISSING:
            return MISSING
        layer = env.algorithm.parameterAsRasterLayer(env.parameters, p.name, env.context)
        if layer is None:
            raise QgsProcessingException(
                f"Could not load the raster given for {display_name(p)} ({p.name}).")
        return upload_or_url(layer_file(layer), p, env)

    def output_parameter(self, p: ParameterDescription
                         ) -> QgsProcessingParameterDefinition | None:
        """Return a raster destination."""
        definition = QgsProcessingParameterRasterDestination(
            p.name, display_name(p), QgsProcessing.TEMPORARY_OUTPUT, False, True)
        definition.setHelp(help_text(p))
        return definition

    def destination(self, p: ParameterDescription, env: RunEnv) -> str:
        """Return the raster layer path the result goes to."""
        return env.algorithm.parameterAsOutputLayer(env.parameters, p.name, env.context)


def layer_file(layer: QgsMapLayer) -> str:
    """Return the file path behind a layer's source (without GDAL/OGR options)."""
    return layer.source().split("|", 1)[0]


def upload_or_url(path: str, p: ParameterDescription, env: RunEnv) -> dict:
    """Return the wire value of a file input: ``{"url"}`` for URLs, else upload it."""
    if urlsplit(path).scheme in ("http", "https"):
        return {"url": path}
    if not path or not os.path.isfile(path):
        raise QgsProcessingException(
            f"{display_name(p)} ({p.name}): '{path}' is not a file. Give a local file or an "
            "http(s) URL the server can reach.")
    env.feedback.pushInfo(f"Uploading {os.path.basename(path)} for {p.name}...")
    item_id = env.upload(path)
    return {"itemID": item_id}


def _fetch_to(url: str, dest: str, env: RunEnv, convert_raster: bool) -> str:
    downloaded = Path(env.download(url, env.work_dir))
    dest_path = Path(dest)
    if dest_path.suffix.lower() in ("", ".file"):
        dest_path = dest_path.with_suffix(downloaded.suffix)
    dest_path.parent.mkdir(parents=True, exist_ok=True)
    if (convert_raster and downloaded.suffix.lower() != dest_path.suffix.lower()
            and dest_path.suffix):
        from osgeo import gdal

        result = gdal.Translate(str(dest_path), str(downloaded))
        if result is None:
            raise QgsProcessingException(
                f"Could not convert the downloaded raster {downloaded.name} to {dest_path}.")
        result = None
    else:
        shutil.copyfile(downloaded, dest_path)
    env.feedback.pushInfo(f"Downloaded {downloaded.name} to {dest_path}")
    return str(dest_path)
