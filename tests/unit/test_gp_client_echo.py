"""Every GP data type through EchoAllTypes, synchronously and asynchronously (reference server)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from arcgis_gp.gp_client import GPClient, discovery, execute, submit
from arcgis_gp.gp_client.values import ArealUnit, LinearUnit

pytestmark = pytest.mark.timeout(120)

UTC = dt.timezone.utc
POINTS = {
    "geometryType": "esriGeometryPoint",
    "spatialReference": {"wkid": 4326},
    "fields": [{"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID"},
               {"name": "Name", "type": "esriFieldTypeString", "alias": "Name", "length": 50}],
    "features": [
        {"geometry": {"x": 2.35, "y": 48.85}, "attributes": {"OBJECTID": 1, "Name": "Paris"}},
        {"geometry": {"x": -0.13, "y": 51.51}, "attributes": {"OBJECTID": 2, "Name": "London"}},
    ],
}
TABLE = {
    "fields": [{"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID"},
               {"name": "Name", "type": "esriFieldTypeString", "alias": "Name", "length": 50},
               {"name": "Value", "type": "esriFieldTypeDouble", "alias": "Value"}],
    "features": [{"attributes": {"OBJECTID": 1, "Name": "a", "Value": 1.5}},
                 {"attributes": {"OBJECTID": 2, "Name": "b", "Value": None}}],
}
WHEN = dt.datetime(2021, 12, 31, 12, 34, 56, 789000, tzinfo=UTC)

# input name suffix -> (Python value sent, decoded value expected back); non-default values
SIMPLE: dict[str, tuple[Any, Any]] = {
    "GPString": ("héllo wörld & <tags> = ;", "héllo wörld & <tags> = ;"),
    "GPBoolean": (False, False),
    "GPLong": (-7, -7),
    "GPDouble": (0.1, 0.1),
    "GPDate": (WHEN, WHEN),
    "GPLinearUnit": (LinearUnit(8.5, "Miles"), {"distance": 8.5, "units": "esriMiles"}),
    "GPArealUnit": (ArealUnit(3, "Hectares"), {"area": 3.0, "units": "esriHectares"}),
    "GPMultiValue_GPString": (["x", "y z", "é"], ["x", "y z", "é"]),
    "GPMultiValue_GPDouble": ([0.5, -1.25], [0.5, -1.25]),
    "GPMultiValue_GPLong": ([7, 8, 9], [7, 8, 9]),
    "GPSpatialReference": ("EPSG:3857", {"wkid": 3857}),
    "GPExtent": ((0, 1, 2, 3, 4326), {"xmin": 0.0, "ymin": 1.0, "xmax": 2.0, "ymax": 3.0,
                                      "spatialReference": {"wkid": 4326}}),
    "GPEnvelope": ({"xmin": 10, "ymin": 20, "xmax": 30, "ymax": 40},
                   {"xmin": 10, "ymin": 20, "xmax": 30, "ymax": 40}),
    "Field": ({"name": "Height", "type": "esriFieldTypeDouble", "alias": "Height"},
              {"name": "Height", "type": "esriFieldTypeDouble", "alias": "Height"}),
    "GPValueTable": ([["x", 1], ["y", 2.5]], [["x", 1], ["y", 2.5]]),
    "GPComposite": ({"distance": 1, "units": "esriMeters"}, {"distance": 1, "units": "esriMeters"}),
    "GPSACellSize": (30, 30),
    "GPString_Choice": ("Third", "Third"),
}


def _tiny_tiff(path: Path) -> Path:
    from osgeo import gdal, osr

    ds = gdal.GetDriverByName("GTiff").Create(str(path), 3, 2, 1, gdal.GDT_Byte)
    ds.SetGeoTransform((10.0, 1.0, 0.0, 50.0, 0.0, -1.0))
    srs = osr.SpatialReference()
    srs.ImportFromEPSG(4326)
    ds.SetProjection(srs.ExportToWkt())
    ds.GetRasterBand(1).WriteRaster(0, 0, 3, 2, bytes([1, 2, 3, 4, 5, 6]))
    ds.FlushCache()
    ds = None
    return path


def _pixels(path: Path) -> bytes:
    from osgeo import gdal

    ds = gdal.Open(str(path))
    assert ds is not None, f"GDAL cannot open {path}"
    return ds.GetRasterBand(1).ReadRaster(0, 0, ds.RasterXSize, ds.RasterYSize)


def _inputs(file_value: Any, raster_value: Any) -> dict[str, Any]:
    inputs = {f"In_{k}": v for k, (v, _) in SIMPLE.items()}
    inputs["In_GPFeatureRecordSetLayer"] = POINTS
    inputs["In_GPRecordSet"] = TABLE
    inputs["In_GPDataFile"] = file_value
    inputs["In_GPRasterData"] = raster_value
    inputs["In_GPRasterDataLayer"] = raster_value
    return inputs


def _check_outputs(client: GPClient, task: Any, outputs: dict[str, Any], tmp_path: Path,
                   file_bytes: bytes) -> None:
    assert set(outputs) == {p.name for p in task.outputs}
    for suffix, (_, expected) in SIMPLE.items():
        assert outputs[f"Out_{suffix}"] == expected, suffix
    fs = outputs["Out_GPFeatureRecordSetLayer"]
    assert fs["geometryType"] == "esriGeometryPoint"
    assert [f["attributes"] for f in fs["features"]] == [f["attributes"]
                                                        for f in POINTS["features"]]
    for got, sent in zip(fs["features"], POINTS["features"]):
        assert got["geometry"]["x"] == pytest.approx(sent["geometry"]["x"])
        assert got["geometry"]["y"] == pytest.approx(sent["geometry"]["y"])
    assert [f["attributes"] for f in outputs["Out_GPRecordSet"]["features"]] == \
        [f["attributes"] for f in TABLE["features"]]
    # files and rasters come back as URLs of copies; download them and compare
    got = client.download(outputs["Out_GPDataFile"]["url"], tmp_path / "dl")
    assert got.read_bytes() == file_bytes
    for name in ("Out_GPRasterData", "Out_GPRasterDataLayer"):
        tif = client.download(outputs[name]["url"], tmp_path / "dl")
        assert _pixels(tif) == bytes([1, 2, 3, 4, 5, 6])


def test_every_type_round_trips_synchronously(gpserver: Any, file_host: Any,
                                              tmp_path: Path) -> None:
    """Demo/AnalysisSync EchoAllTypes (execute): files given by URL on another host."""
    client = GPClient()
    task = discovery.task(client, gpserver.task_url("Demo/AnalysisSync", "EchoAllTypes"))
    assert not task.is_async
    data = "id,name\n1,é\n".encode()
    file_url = file_host.put("sync-input.csv", data)
    raster_url = file_host.put("sync.tif", _tiny_tiff(tmp_path / "sync.tif").read_bytes())
    result = execute(client, task.url, _inputs({"url": file_url}, {"url": raster_url}),
                     task=task)
    assert result.job_id is None
    assert any("Echoed" in m.description for m in result.messages)
    _check_outputs(client, task, result.outputs, tmp_path, data)


def test_every_type_round_trips_asynchronously(gpserver: Any, tmp_path: Path) -> None:
    """Demo/Analysis EchoAllTypes (submitJob): files uploaded first."""
    client = GPClient()
    task = discovery.task(client, gpserver.task_url("Demo/Analysis", "EchoAllTypes"))
    assert task.is_async
    data = bytes(range(256)) * 10
    src = tmp_path / "async input.bin"
    src.write_bytes(data)
    file_item = client.upload(task.url, src)
    raster_item = client.upload(task.url, _tiny_tiff(tmp_path / "async.tif"))
    job = submit(client, task.url, _inputs({"itemID": file_item}, {"itemID": raster_item}),
                 task=task)
    status = job.wait(deadline=60)
    assert status.succeeded
    _check_outputs(client, task, job.results(), tmp_path, data)
    # the raw results keep the server's data types
    raw = job.results_json(["Out_GPDate"])
    assert raw["Out_GPDate"]["dataType"] == "GPDate"
    assert raw["Out_GPDate"]["value"] == 1640954096789


def test_values_without_a_task_description(gpserver: Any) -> None:
    """Without the task, Python values still go out in their wire form."""
    client = GPClient()
    url = gpserver.task_url("Demo/AnalysisSync", "EchoAllTypes")
    result = execute(client, url, {"In_GPDate": WHEN, "In_GPLinearUnit": LinearUnit(2, "esriFeet"),
                                   "In_GPBoolean": False, "In_GPMultiValue_GPLong": [4, 5]})
    assert result.outputs["Out_GPDate"] == WHEN
    assert result.outputs["Out_GPLinearUnit"] == {"distance": 2, "units": "esriFeet"}
    assert result.outputs["Out_GPBoolean"] is False
    assert result.outputs["Out_GPMultiValue_GPLong"] == [4, 5]
