"""Round trips through the reference server's CopyFeatures (real HTTP on loopback).

layer -> esrijson.writer -> CopyFeatures (sync execute, async submitJob, uploaded file)
-> esrijson.reader -> the same layer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from arcgis_gp.esrijson import reader, writer
from arcgis_gp.gp_client import jobs
from arcgis_gp.gp_client.client import GPClient
from tests.qgis.esrijson.test_roundtrip import BASE_WKT, DIMS, _assert_same, _layer

pytestmark = [pytest.mark.timeout(180)]

SYNC = "/arcgis/rest/services/Demo/AnalysisSync/GPServer/CopyFeatures"
ASYNC = "/arcgis/rest/services/Demo/Analysis/GPServer/CopyFeatures"


@pytest.fixture(scope="module")
def client() -> GPClient:
    """A gp_client with its default (requests) transport."""
    return GPClient(timeout=60.0)


@pytest.mark.parametrize("dims", DIMS)
@pytest.mark.parametrize("kind", list(BASE_WKT))
def test_copy_features_sync(gpserver_url: str, client: GPClient, kind: str, dims: str) -> None:
    """Every geometry type with and without Z/M, every field type, through execute."""
    layer = _layer(kind, dims)
    feature_set = writer.source_to_feature_set(layer)
    result = jobs.execute(client, gpserver_url + SYNC, {"Input_Features": feature_set},
                          return_z=True, return_m=True)
    output = result.outputs["Output_Features"]
    _assert_same(layer, reader.read_feature_set(output))


@pytest.mark.parametrize("kind,dims", [("MultiPolygon", "ZM"), ("Point", "M"),
                                       ("MultiLineString", "")])
def test_copy_features_async(gpserver_url: str, client: GPClient, kind: str,
                             dims: str) -> None:
    """submitJob, poll, then results/Output_Features."""
    layer = _layer(kind, dims)
    job = jobs.submit(client, gpserver_url + ASYNC,
                      {"Input_Features": writer.source_to_feature_set(layer)},
                      return_z=True, return_m=True)
    status = job.wait(deadline=120)
    assert status.status == "esriJobSucceeded", status
    output = job.results()["Output_Features"]
    _assert_same(layer, reader.read_feature_set(output))


def test_copy_features_from_an_uploaded_file(gpserver_url: str, client: GPClient,
                                             tmp_path: Path) -> None:
    """A streamed file uploaded as the input ({"itemID"}), the result downloaded as a file
    and streamed back: the path a big input and a big result take."""
    layer = _layer("MultiPolygon", "Z")
    path = tmp_path / "input.json"
    writer.write_feature_set_file(layer, path)
    item = client.upload(gpserver_url + ASYNC, path)
    job = jobs.submit(client, gpserver_url + ASYNC, {"Input_Features": {"itemID": item}},
                      return_z=True, return_m=True)
    assert job.wait(deadline=120).status == "esriJobSucceeded"
    download = client.download(job.url + "/results/Output_Features?f=json&returnZ=true"
                               "&returnM=true", tmp_path, "result.json")
    result = json.loads(download.read_text(encoding="utf-8"))
    assert result["paramName"] == "Output_Features"
    _assert_same(layer, reader.read_file(download))


def test_feature_collection_input(gpserver_url: str, client: GPClient) -> None:
    """The FeatureCollection shape is accepted as an input too."""
    layer = _layer("Point", "Z")
    collection = writer.source_to_feature_set(layer, shape="FeatureCollection")
    result = jobs.execute(client, gpserver_url + SYNC, {"Input_Features": collection},
                          return_z=True, return_m=True)
    decoded = reader.read_feature_set(result.outputs["Output_Features"])
    features: list[Any] = list(decoded.features())
    assert len(features) == layer.featureCount()
    assert [f["text_f"] for f in features] == [f["text_f"] for f in layer.getFeatures()]
