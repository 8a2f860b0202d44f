"""qgis_process refuses inputs the task description rules out, before any request to the task.

The reference server (a child process) counts every request to the task through an armed
zero-second delay; qgis_process must fail with the plugin's message and none may arrive.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from osgeo import ogr

from tests.gpserver.remote import RemoteFaults

from .conftest import QgisProcess

pytestmark = [pytest.mark.timeout(300), pytest.mark.slow]


@pytest.fixture()
def faults(qp: QgisProcess) -> Iterator[RemoteFaults]:
    """The server's faults, cleared before and after the test."""
    remote = RemoteFaults(qp.server_url)
    remote.clear()
    yield remote
    remote.clear()


def hits(faults: RemoteFaults, pattern: str) -> int:
    """How many requests the armed counter for ``pattern`` has seen."""
    return next(f["hits"] for f in faults.active() if f["path"] == pattern)


def test_out_of_range_is_refused_before_sending(qp: QgisProcess, faults: RemoteFaults) -> None:
    faults.add(r"/Sleep/", "delay", count=None, seconds=0)
    done = qp("run", "arcgisgp:local_demo_analysis_sleep", "--", "Seconds=7200", check=False)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "7200 is outside the range the service takes, 0 to 3600" in output, output
    assert hits(faults, r"/Sleep/") == 0


def write_table(path: Path) -> Path:
    """A GeoPackage table without geometry."""
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = ds.CreateLayer("rows", None, ogr.wkbNone)
    layer.CreateField(ogr.FieldDefn("Name", ogr.OFTString))
    feature = ogr.Feature(layer.GetLayerDefn())
    feature.SetField("Name", "a")
    layer.CreateFeature(feature)
    ds = None
    return path


def test_wrong_geometry_is_refused_before_sending(qp: QgisProcess, faults: RemoteFaults,
                                                  tmp_path: Path) -> None:
    faults.add(r"/CopyFeatures/", "delay", count=None, seconds=0)
    table = write_table(tmp_path / "table.gpkg")
    done = qp("run", "arcgisgp:local_demo_analysissync_copyfeatures", "--",
              f"Input_Features={table}", f"Output_Features={tmp_path / 'out.gpkg'}",
              check=False)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "the service takes point, line or polygon layers only" in output, output
    assert "is a table without geometry" in output
    assert hits(faults, r"/CopyFeatures/") == 0
