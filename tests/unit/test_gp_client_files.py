"""Uploads and downloads against the reference server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from arcgis_gp.gp_client import GPClient, submit
from arcgis_gp.gp_client.errors import BadInputError, CapabilityError, NotJSONError

pytestmark = pytest.mark.timeout(120)


def _echo_file(client: GPClient, srv: Any, item_id: str) -> str:
    job = submit(client, srv.task_url("Demo/Analysis", "EchoFile"),
                 {"Input_File": {"itemID": item_id}})
    job.wait(deadline=60)
    return job.results()["Output_File"]["url"]


def test_upload_then_download_the_echo(gpserver: Any, tmp_path: Path) -> None:
    """Upload -> itemID -> EchoFile -> download: the same bytes, a safe name, no overwrite."""
    client = GPClient()
    data = os.urandom(3 * 1024 * 1024 + 17)  # streamed, not a toy size
    src = tmp_path / "in" / "data-v2.bin"
    src.parent.mkdir()
    src.write_bytes(data)
    item = client.upload(gpserver.services_url + "/Demo/Analysis/GPServer", src,
                         description="test upload")
    assert item
    url = _echo_file(client, gpserver, item)
    out = tmp_path / "out"
    first = client.download(url, out)
    assert first.parent == out and first.read_bytes() == data
    assert first.name == "data-v2.bin"
    second = client.download(url, out)
    assert second.name == "data-v2_1.bin" and second.read_bytes() == data
    assert first.read_bytes() == data  # untouched
    assert sorted(p.name for p in out.iterdir()) == [first.name, second.name]  # no .part left


def test_download_name_cannot_escape_the_folder(gpserver: Any, tmp_path: Path) -> None:
    """A hostile file name stays inside the chosen folder."""
    client = GPClient()
    src = tmp_path / "x.txt"
    src.write_text("x")
    url = _echo_file(client, gpserver,
                     client.upload(gpserver.services_url + "/Demo/Analysis/GPServer", src))
    folder = tmp_path / "deep" / "folder"
    got = client.download(url, folder, filename="../../../escaped.txt")
    assert got == folder / "escaped.txt" and got.read_text() == "x"
    assert not (tmp_path / "escaped.txt").exists()


def test_raster_upload_and_download(gpserver: Any, tmp_path: Path) -> None:
    """EchoRaster on an uploaded GeoTIFF: the downloaded result has the same cells."""
    from osgeo import gdal

    src = tmp_path / "dem.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(src), 4, 3, 1, gdal.GDT_Int16)
    ds.SetGeoTransform((500000.0, 10.0, 0.0, 4500000.0, 0.0, -10.0))
    ds.GetRasterBand(1).WriteRaster(0, 0, 4, 3, bytes(range(24)))
    ds = None
    client = GPClient()
    task = gpserver.task_url("Demo/Analysis", "EchoRaster")
    job = submit(client, task, {"Input_Raster": {"itemID": client.upload(task, src)}})
    job.wait(deadline=60)
    out = job.results()["Output_Raster"]
    got = client.download(out["url"], tmp_path / "dl")
    back = gdal.Open(str(got))
    assert (back.RasterXSize, back.RasterYSize) == (4, 3)
    assert back.GetRasterBand(1).ReadRaster(0, 0, 4, 3) == bytes(range(24))


def test_upload_refused_without_the_capability(gpserver: Any, tmp_path: Path,
                                               recording: Any) -> None:
    """Demo/AnalysisSync has no Uploads: a clear error, and no upload request is sent."""
    src = tmp_path / "a.csv"
    src.write_text("a\n")
    client = GPClient(transport=recording)
    with pytest.raises(CapabilityError) as info:
        client.upload(gpserver.task_url("Demo/AnalysisSync", "CopyFeatures"), src)
    assert "does not allow uploads" in str(info.value)
    assert not recording.matching("uploads/upload")


def test_upload_of_a_missing_file(gpserver: Any, tmp_path: Path) -> None:
    """A path that is not a file: BadInputError before any request."""
    with pytest.raises(BadInputError, match="no such file"):
        GPClient().upload(gpserver.services_url + "/Demo/Analysis/GPServer",
                          tmp_path / "nope.bin")


def test_download_of_a_missing_file_leaves_nothing(gpserver: Any, tmp_path: Path) -> None:
    """The server's error page instead of a file: an error, and no file written."""
    job = submit(GPClient(), gpserver.task_url("Demo/Analysis", "Sleep"), {"Seconds": 0})
    job.wait(deadline=30)
    folder = tmp_path / "dl"
    with pytest.raises(NotJSONError) as info:
        GPClient().download(job.url + "/scratch/missing.tif", folder)
    assert "may not exist" in str(info.value)
    assert list(folder.iterdir()) == []
