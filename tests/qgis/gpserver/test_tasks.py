"""Every task of the reference server, through real HTTP (stdlib client)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsPointXY,
    QgsProject,
)

from tests.gpserver.client import Rest

pytestmark = pytest.mark.timeout(60)

POINTS_4326 = {
    "geometryType": "esriGeometryPoint",
    "spatialReference": {"wkid": 4326},
    "fields": [
        {"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID"},
        {"name": "Name", "type": "esriFieldTypeString", "alias": "Name", "length": 20},
    ],
    "features": [
        {"attributes": {"OBJECTID": 1, "Name": "a"}, "geometry": {"x": 10.0, "y": 50.0}},
        {"attributes": {"OBJECTID": 2, "Name": "b"}, "geometry": {"x": 10.01, "y": 50.0}},
    ],
}


@pytest.fixture(scope="module")
def rest(gpserver_url: str) -> Rest:
    """A client without token."""
    return Rest(gpserver_url)


def task(rest: Rest, service: str, name: str) -> str:
    """Task URL."""
    return f"{rest.base_url}/arcgis/rest/services/{service}/GPServer/{name}"


def polygon(esri_geom: dict[str, Any]) -> QgsGeometry:
    """Esri rings -> QgsGeometry (outer rings only; enough for buffers)."""
    return QgsGeometry.fromMultiPolygonXY(
        [[[QgsPointXY(p[0], p[1]) for p in ring]] for ring in esri_geom["rings"]]
    )


# --------------------------------------------------------------------------- BufferFeatures
def test_buffer_matches_a_local_buffer_in_utm(rest: Rest) -> None:
    """A remote 100 m buffer equals buffering locally in the UTM zone (32632) and back."""
    status = rest.run(
        task(rest, "Demo/Analysis", "BufferFeatures"),
        {"Input_Features": POINTS_4326, "Distance": {"distance": 100, "units": "esriMeters"}},
    )
    assert status["jobStatus"] == "esriJobSucceeded", status["messages"]
    out = status["values"]["Output_Features"]
    assert out["geometryType"] == "esriGeometryPolygon"
    assert out["spatialReference"]["wkid"] == 4326
    assert [f["attributes"]["Name"] for f in out["features"]] == ["a", "b"]
    assert [f["attributes"]["OBJECTID"] for f in out["features"]] == [1, 2]
    assert all(f["attributes"]["BUFF_DIST"] == 100 for f in out["features"])
    wgs, utm = QgsCoordinateReferenceSystem("EPSG:4326"), QgsCoordinateReferenceSystem("EPSG:32632")
    to_utm = QgsCoordinateTransform(wgs, utm, QgsProject.instance())
    for feat, src in zip(out["features"], POINTS_4326["features"]):
        remote = polygon(feat["geometry"])
        remote.transform(to_utm)
        local = QgsGeometry.fromPointXY(QgsPointXY(src["geometry"]["x"], src["geometry"]["y"]))
        local.transform(to_utm)
        local = local.buffer(100, 16)
        assert remote.symDifference(local).area() < 1e-3 * local.area()
        assert remote.area() == pytest.approx(3.14159 * 100 * 100, rel=0.01)


def test_buffer_dissolve_all_in_a_projected_crs_and_feet(rest: Rest) -> None:
    """Dissolve ALL merges overlapping buffers; feet convert to metres of EPSG:3857."""
    fs = {
        "geometryType": "esriGeometryPoint",
        "spatialReference": {"wkid": 102100, "latestWkid": 3857},
        "features": [
            {"attributes": {}, "geometry": {"x": 0, "y": 0}},
            {"attributes": {}, "geometry": {"x": 100, "y": 0}},
        ],
    }
    status = rest.run(
        task(rest, "Demo/Analysis", "BufferFeatures"),
        {"Input_Features": fs, "Distance": {"distance": 328.084, "units": "esriFeet"},
         "Dissolve": "ALL"},
    )
    out = status["values"]["Output_Features"]
    assert len(out["features"]) == 1
    assert out["spatialReference"] == {"wkid": 102100, "latestWkid": 3857}
    geom = polygon(out["features"][0]["geometry"])
    bbox = geom.boundingBox()
    assert bbox.xMinimum() == pytest.approx(-100, abs=0.1)
    assert bbox.xMaximum() == pytest.approx(200, abs=0.1)


def test_buffer_sync_execute(rest: Rest) -> None:
    """The synchronous service answers execute with results and messages."""
    answer = rest.post(
        task(rest, "Demo/AnalysisSync", "BufferFeatures") + "/execute",
        {"Input_Features": POINTS_4326, "Distance": {"distance": 1, "units": "esriKilometers"}},
    )
    assert [r["paramName"] for r in answer["results"]] == ["Output_Features"]
    assert answer["results"][0]["dataType"] == "GPFeatureRecordSetLayer"
    assert len(answer["results"][0]["value"]["features"]) == 2
    assert all({"type", "description"} == set(m) for m in answer["messages"])


def test_buffer_input_by_url_and_output_sr_from_context(rest: Rest) -> None:
    """{'url': feature layer} input; context outSR reprojects the output."""
    layer = f"{rest.base_url}/arcgis/rest/services/Demo/SamplePoints/FeatureServer/0"
    status = rest.run(
        task(rest, "Demo/Analysis", "BufferFeatures"),
        {"Input_Features": {"url": layer, "filter": "Name = 'Redlands'"},
         "Distance": {"distance": 1, "units": "esriMiles"},
         "context": {"outSR": {"wkid": 3857}}},
    )
    out = status["values"]["Output_Features"]
    assert [f["attributes"]["Name"] for f in out["features"]] == ["Redlands"]
    assert out["spatialReference"] == {"wkid": 102100, "latestWkid": 3857}
    x = out["features"][0]["geometry"]["rings"][0][0][0]
    assert abs(x) > 1e6  # metres of web mercator, not degrees


def test_buffer_missing_required_input_is_a_400(rest: Rest) -> None:
    """No Input_Features: error 400 naming the parameter."""
    answer = rest.post(task(rest, "Demo/Analysis", "BufferFeatures") + "/submitJob", {})
    assert answer["error"]["code"] == 400
    assert "Input_Features" in json.dumps(answer["error"])


@pytest.mark.parametrize(
    "inputs, needle",
    [
        ({"Distance": "{\"distance\": \"far\", \"units\": \"esriMeters\"}"}, "Distance"),
        ({"Distance": {"distance": 1, "units": "esriLightYears"}}, "esriLightYears"),
        ({"Dissolve": "SOME"}, "Dissolve"),
        ({"Input_Features": "not json"}, "Input_Features"),
    ],
)
def test_buffer_bad_values_are_400(rest: Rest, inputs: dict[str, Any], needle: str) -> None:
    """Bad values: HTTP 200 with error code 400 and a detail naming the problem."""
    data = {"Input_Features": POINTS_4326, **inputs}
    raw = rest.raw(task(rest, "Demo/Analysis", "BufferFeatures") + "/submitJob", data,
                   method="POST")
    assert raw.status == 200
    err = raw.json()["error"]
    assert err["code"] == 400 and err["message"] and needle in " ".join(err["details"])


def test_buffer_invalid_geometry_fails_the_job(rest: Rest) -> None:
    """A geometry that cannot be read fails the job with an error message."""
    bad = dict(POINTS_4326, features=[{"attributes": {}, "geometry": {"x": "east", "y": 1}}])
    status = rest.run(task(rest, "Demo/Analysis", "BufferFeatures"), {"Input_Features": bad})
    assert status["jobStatus"] == "esriJobFailed"
    assert any(m["type"] == "esriJobMessageTypeError" for m in status["messages"])


# --------------------------------------------------------------------------- CopyFeatures
def test_copy_keeps_z_m_attributes_and_spatial_reference(rest: Rest) -> None:
    """CopyFeatures returns the input: Z, M, attributes, wkt spatial reference."""
    wkt = QgsCoordinateReferenceSystem("EPSG:2056").toWkt(
        QgsCoordinateReferenceSystem.WktVariant.WKT1_ESRI)
    fs = {
        "geometryType": "esriGeometryPolyline",
        "hasZ": True,
        "hasM": True,
        "spatialReference": {"wkt": wkt},
        "fields": [
            {"name": "FID", "type": "esriFieldTypeOID", "alias": "FID"},
            {"name": "When", "type": "esriFieldTypeDate", "alias": "When"},
        ],
        "features": [
            {
                "attributes": {"FID": 7, "When": 1199145600000},
                "geometry": {
                    "paths": [[[2600000, 1200000, 400, 0], [2600100, 1200000, 410, None]]]
                },
            }
        ],
    }
    for service in ("Demo/Analysis", "Demo/AnalysisSync"):
        url = task(rest, service, "CopyFeatures")
        if service.endswith("Sync"):
            value = rest.post(url + "/execute", {"Input_Features": fs})["results"][0]["value"]
        else:
            value = rest.run(url, {"Input_Features": fs})["values"]["Output_Features"]
        assert value["features"] == fs["features"]
        assert value["spatialReference"] == fs["spatialReference"]
        assert value["fields"] == fs["fields"]
        assert value["hasZ"] is True and value["hasM"] is True


def test_copy_reads_an_uploaded_item(rest: Rest) -> None:
    """{'itemID': ...} of an uploaded Esri JSON file is a valid feature input."""
    base = f"{rest.base_url}/arcgis/rest/services/Demo/Analysis/GPServer"
    up = rest.raw(base + "/uploads/upload", {},
                  files={"file": ("points.json", json.dumps(POINTS_4326).encode())}).json()
    status = rest.run(task(rest, "Demo/Analysis", "CopyFeatures"),
                      {"Input_Features": {"itemID": up["item"]["itemID"]}})
    assert status["values"]["Output_Features"]["features"] == POINTS_4326["features"]


# --------------------------------------------------------------------------- Sleep
def test_sleep_reports_progress_and_messages(rest: Rest) -> None:
    """Sleep(1.2): executing snapshots carry progress; a message per whole second."""
    url = task(rest, "Demo/Analysis", "Sleep")
    job = rest.submit(url, {"Seconds": 1.2})
    assert job["jobStatus"] == "esriJobSubmitted"
    snapshots = []
    while True:
        status = rest.get(f"{url}/jobs/{job['jobId']}")
        snapshots.append(status)
        if status["jobStatus"] == "esriJobSucceeded":
            break
        assert status["jobStatus"] in ("esriJobSubmitted", "esriJobExecuting")
    progress = [s["progress"] for s in snapshots if "progress" in s]
    assert progress, "no progress seen while executing"
    assert all(0 <= p["percent"] <= 100 and p["type"] == "default" for p in progress)
    texts = [m["description"] for m in snapshots[-1]["messages"]]
    assert "Slept 1 of 1.2 seconds." in texts
    assert "progress" not in snapshots[-1]
    value = rest.get(f"{url}/jobs/{job['jobId']}/results/Slept")
    assert value == {"paramName": "Slept", "dataType": "GPDouble", "value": 1.2}
    assert rest.get(f"{url}/jobs/{job['jobId']}/inputs/Seconds")["value"] == 1.2


def test_sleep_cancel(rest: Rest) -> None:
    """cancel on an executing job: esriJobCancelling (or Cancelled), then esriJobCancelled."""
    url = task(rest, "Demo/Analysis", "Sleep")
    job = rest.submit(url, {"Seconds": 30})
    rest.wait(url, job["jobId"], until={"esriJobExecuting"})
    answer = rest.post(f"{url}/jobs/{job['jobId']}/cancel")
    assert answer["jobId"] == job["jobId"]
    assert answer["jobStatus"] in ("esriJobCancelling", "esriJobCancelled")
    final = rest.wait(url, job["jobId"])
    assert final["jobStatus"] == "esriJobCancelled"
    assert final["messages"][-1]["description"] == "Cancel complete."
    err = rest.get(f"{url}/jobs/{job['jobId']}/results/Slept")["error"]
    assert err["code"] == 400


@pytest.mark.parametrize(
    "outcome, status",
    [("TimedOut", "esriJobTimedOut"), ("Deleted", "esriJobDeleted"), ("Failed", "esriJobFailed")],
)
def test_sleep_outcomes(rest: Rest, outcome: str, status: str) -> None:
    """Outcome makes the job end in each terminal state."""
    url = task(rest, "Demo/Analysis", "Sleep")
    final = rest.run(url, {"Seconds": 0, "Outcome": outcome})
    assert final["jobStatus"] == status
    assert "results" not in final


def test_service_time_limit_times_jobs_out(gpserver: Any) -> None:
    """A job running past the service's max time ends esriJobTimedOut."""
    from tests.gpserver import GPServer

    with GPServer(max_job_seconds=0.2) as srv:
        final = Rest(srv.url).run(srv.task_url("Demo/Analysis", "Sleep"), {"Seconds": 30})
    assert final["jobStatus"] == "esriJobTimedOut"
    assert "maximum time" in final["messages"][-1]["description"]


def test_delete_a_running_job(rest: Rest) -> None:
    """jobs/<id>/delete ends the job esriJobDeleted; its inputs are gone."""
    url = task(rest, "Demo/Analysis", "Sleep")
    job = rest.submit(url, {"Seconds": 30})
    rest.wait(url, job["jobId"], until={"esriJobExecuting"})
    rest.post(f"{url}/jobs/{job['jobId']}/delete")
    final = rest.wait(url, job["jobId"])
    assert final["jobStatus"] == "esriJobDeleted"
    assert rest.get(f"{url}/jobs/{job['jobId']}/inputs/Seconds")["error"]["code"] == 404


# --------------------------------------------------------------------------- AlwaysFails
def test_always_fails_with_the_message(rest: Rest) -> None:
    """The job fails with the given text as an error message."""
    final = rest.run(task(rest, "Demo/Analysis", "AlwaysFails"), {"Message": "Nope, sorry."})
    assert final["jobStatus"] == "esriJobFailed"
    errors = [m["description"] for m in final["messages"]
              if m["type"] == "esriJobMessageTypeError"]
    assert errors[0] == "Nope, sorry."


# --------------------------------------------------------------------------- EchoAllTypes
ECHO_VALUES: dict[str, Any] = {
    "GPString": "Grüße, world",
    "GPBoolean": False,
    "GPLong": -7,
    "GPDouble": 2.25,
    "GPDate": 1199145600000,
    "GPLinearUnit": {"distance": 345.678, "units": "esriMiles"},
    "GPArealUnit": {"area": 12.5, "units": "esriAcres"},
    "GPFeatureRecordSetLayer": POINTS_4326,
    "GPRecordSet": {
        "fields": [{"name": "v", "type": "esriFieldTypeInteger", "alias": "v"}],
        "features": [{"attributes": {"v": 1}}, {"attributes": {"v": 2}}],
    },
    "GPMultiValue:GPString": ["Parcels", "Street Lights"],
    "GPMultiValue:GPDouble": [1.5, -2.0],
    "GPMultiValue:GPLong": [3, 4, 5],
    "GPSpatialReference": {"wkid": 2056},
    "GPExtent": {"xmin": 1, "ymin": 2, "xmax": 3, "ymax": 4, "spatialReference": {"wkid": 4326}},
    "GPEnvelope": {"xmin": 5, "ymin": 6, "xmax": 7, "ymax": 8},
    "Field": {"name": "distance", "type": "esriFieldTypeInteger", "alias": "int",
              "editable": True, "nullable": True, "length": 4},
    "GPValueTable": [["a", 1, True], ["b", 2, False]],
    "GPComposite": {"distance": 3, "units": "esriMeters"},
    "GPSACellSize": {"cellSize": 30},
}


def _expected(data_type: str, value: Any) -> Any:
    if data_type == "GPFeatureRecordSetLayer":
        return value["features"]
    if data_type == "GPRecordSet":
        return value["features"]
    return value


@pytest.mark.parametrize("service", ["Demo/Analysis", "Demo/AnalysisSync"])
def test_echo_all_types(rest: Rest, service: str) -> None:
    """Every In_<Type> comes back unchanged in Out_<Type>, with the same dataType."""
    url = task(rest, service, "EchoAllTypes")
    description = rest.get(url)
    types = {p["name"]: p["dataType"] for p in description["parameters"]}
    for data_type in ECHO_VALUES:
        name = data_type.replace(":", "_")
        assert types[f"In_{name}"] == data_type and types[f"Out_{name}"] == data_type
    inputs = {f"In_{t.replace(':', '_')}": v for t, v in ECHO_VALUES.items()}
    inputs["In_GPString_Choice"] = "Third"
    if service.endswith("Sync"):
        answer = rest.post(url + "/execute", inputs)
        results = {r["paramName"]: r for r in answer["results"]}
    else:
        status = rest.run(url, inputs)
        job = status["jobId"]
        results = {n: rest.get(f"{url}/jobs/{job}/results/{n}") for n in status["results"]}
    for data_type, value in ECHO_VALUES.items():
        result = results[f"Out_{data_type.replace(':', '_')}"]
        assert result["dataType"] == data_type
        got = result["value"]
        if data_type in ("GPFeatureRecordSetLayer", "GPRecordSet"):
            got = got["features"]
        assert got == _expected(data_type, value), data_type
    assert results["Out_GPString_Choice"]["value"] == "Third"
    assert results["Out_GPDataFile"]["value"] is None


def test_echo_defaults_and_choice_list(rest: Rest) -> None:
    """Missing optional inputs take their defaults; a value outside the choice list is a 400."""
    url = task(rest, "Demo/AnalysisSync", "EchoAllTypes") + "/execute"
    results = {r["paramName"]: r["value"] for r in rest.post(url, {})["results"]}
    assert results["Out_GPLong"] == 42 and results["Out_GPString_Choice"] == "Second"
    err = rest.post(url, {"In_GPString_Choice": "Fourth"})["error"]
    assert err["code"] == 400 and "In_GPString_Choice" in err["details"][0]


def test_echo_multivalue_accepts_semicolons_and_python_literals(rest: Rest) -> None:
    """'a;b' and the seeds' str(list) form are accepted for GPMultiValue."""
    url = task(rest, "Demo/AnalysisSync", "EchoAllTypes") + "/execute"
    results = {
        r["paramName"]: r["value"]
        for r in rest.post(url, {"In_GPMultiValue_GPString": "x;y",
                                 "In_GPMultiValue_GPLong": "[1, 2]",
                                 "In_GPLinearUnit": "{'distance': 8.5, 'units': 'esriMiles'}"})[
            "results"
        ]
    }
    assert results["Out_GPMultiValue_GPString"] == ["x", "y"]
    assert results["Out_GPMultiValue_GPLong"] == [1, 2]
    assert results["Out_GPLinearUnit"] == {"distance": 8.5, "units": "esriMiles"}


# --------------------------------------------------------------------------- files and rasters
def _upload(rest: Rest, name: str, payload: bytes) -> str:
    base = f"{rest.base_url}/arcgis/rest/services/Demo/Analysis/GPServer/uploads"
    answer = rest.raw(base + "/upload", {"description": "test"}, files={"file": (name, payload)})
    item = answer.json()
    assert item["success"] is True
    info = rest.get(f"{base}/{item['item']['itemID']}")
    assert info["itemID"] == item["item"]["itemID"] and info["itemName"] == name
    return item["item"]["itemID"]


def test_echo_file_upload_and_download(rest: Rest) -> None:
    """An uploaded file comes back byte for byte from the job's scratch folder."""
    payload = bytes(range(256)) * 40
    item = _upload(rest, "data.bin", payload)
    url = task(rest, "Demo/Analysis", "EchoFile")
    status = rest.run(url, {"Input_File": {"itemID": item}})
    file_url = status["values"]["Output_File"]["url"]
    assert file_url.startswith(f"{url}/jobs/{status['jobId']}/scratch/")
    assert rest.raw(file_url, f=None).body == payload
    # the result URL works as an input URL
    again = rest.run(url, {"Input_File": {"url": file_url}})
    assert rest.raw(again["values"]["Output_File"]["url"], f=None).body == payload


def test_echo_raster_through_gdal(rest: Rest, tmp_path: Path) -> None:
    """A GeoTIFF made with GDAL comes back as a GeoTIFF with the same cells and CRS."""
    from osgeo import gdal, osr

    src = tmp_path / "small.tif"
    ds = gdal.GetDriverByName("GTiff").Create(str(src), 4, 3, 1, gdal.GDT_Int16)
    ds.SetGeoTransform((600000, 10, 0, 5200000, 0, -10))
    sr = osr.SpatialReference()
    sr.ImportFromEPSG(32632)
    ds.SetProjection(sr.ExportToWkt())
    ds.GetRasterBand(1).WriteRaster(0, 0, 4, 3, bytes(range(24)))
    ds = None
    item = _upload(rest, "small.tif", src.read_bytes())
    status = rest.run(task(rest, "Demo/Analysis", "EchoRaster"), {"Input_Raster": {"itemID": item}})
    value = status["values"]["Output_Raster"]
    assert value["format"] == "tif"
    out = tmp_path / "out.tif"
    out.write_bytes(rest.raw(value["url"], f=None).body)
    back = gdal.Open(str(out))
    assert back.RasterXSize == 4 and back.RasterYSize == 3
    assert back.GetGeoTransform() == (600000, 10, 0, 5200000, 0, -10)
    assert back.GetRasterBand(1).ReadRaster() == bytes(range(24))
    assert osr.SpatialReference(back.GetProjection()).GetAuthorityCode(None) == "32632"


def test_echo_raster_rejects_a_non_raster(rest: Rest) -> None:
    """A file GDAL cannot read fails the job with a clear message."""
    item = _upload(rest, "notes.txt", b"not a raster")
    status = rest.run(task(rest, "Demo/Analysis", "EchoRaster"), {"Input_Raster": {"itemID": item}})
    assert status["jobStatus"] == "esriJobFailed"
    assert "not supported" in json.dumps(status["messages"])


def test_upload_needs_a_file_part_and_uploads_capability(rest: Rest) -> None:
    """No file part: 400; a service without Uploads: error."""
    base = f"{rest.base_url}/arcgis/rest/services"
    assert rest.post(base + "/Demo/Analysis/GPServer/uploads/upload")["error"]["code"] == 400
    err = rest.get(base + "/Demo/AnalysisSync/GPServer/uploads/info")["error"]
    assert err["code"] == 400
    assert rest.get(base + "/Demo/Analysis/GPServer/uploads/ixyz")["error"]["code"] == 404


# --------------------------------------------------------------------------- CreateBuffers
def test_create_buffers_feature_collection_rings(rest: Rest) -> None:
    """Without outputName the result is a feature collection; Rings do not overlap."""
    fc = {
        "layerDefinition": {"geometryType": "esriGeometryPoint", "fields": [
            {"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID"}]},
        "featureSet": {
            "geometryType": "esriGeometryPoint",
            "spatialReference": {"wkid": 4326},
            "features": [{"attributes": {"OBJECTID": 1}, "geometry": {"x": 8.5, "y": 47.4}}],
        },
    }
    status = rest.run(
        task(rest, "tasks", "CreateBuffers"),
        {"inputLayer": fc, "distances": [1, 2], "units": "Kilometers",
         "dissolveType": "Dissolve", "ringType": "Rings"},
    )
    assert status["jobStatus"] == "esriJobSucceeded", status["messages"]
    value = status["values"]["bufferLayer"]
    assert set(value) == {"layerDefinition", "featureSet"}
    assert value["layerDefinition"]["geometryType"] == "esriGeometryPolygon"
    feats = value["featureSet"]["features"]
    assert [f["attributes"]["BUFF_DIST"] for f in feats] == [1, 2]
    inner, outer = (QgsGeometry.fromMultiPolygonXY(
        [[[QgsPointXY(*p) for p in ring] for ring in f["geometry"]["rings"]]]) for f in feats)
    assert inner.intersection(outer).area() < 1e-9


def test_create_buffers_needs_distances_or_field(rest: Rest) -> None:
    """Neither distances nor field: the job fails saying so."""
    layer = f"{rest.base_url}/arcgis/rest/services/Demo/SamplePoints/FeatureServer/0"
    status = rest.run(task(rest, "tasks", "CreateBuffers"), {"inputLayer": {"url": layer}})
    assert status["jobStatus"] == "esriJobFailed"
    assert "distances or field" in json.dumps(status["messages"])


def test_create_buffers_by_field(rest: Rest) -> None:
    """field: each feature buffered by its own value."""
    fs = {
        "geometryType": "esriGeometryPoint",
        "spatialReference": {"wkid": 3857},
        "fields": [{"name": "R", "type": "esriFieldTypeDouble", "alias": "R"}],
        "features": [{"attributes": {"R": 10}, "geometry": {"x": 0, "y": 0}},
                     {"attributes": {"R": 20}, "geometry": {"x": 1000, "y": 0}}],
    }
    status = rest.run(task(rest, "tasks", "CreateBuffers"),
                      {"inputLayer": fs, "field": "R", "units": "Meters"})
    feats = status["values"]["bufferLayer"]["featureSet"]["features"]
    widths = sorted(
        round(polygon(f["geometry"]).boundingBox().width()) for f in feats
    )
    assert widths == [20, 40]


# --------------------------------------------------------------------------- FeatureServer
def test_sample_points_query(rest: Rest) -> None:
    """where, outFields, returnGeometry, count, ids, outSR."""
    layer = f"{rest.base_url}/arcgis/rest/services/Demo/SamplePoints/FeatureServer/0"
    info = rest.get(layer)
    assert info["geometryType"] == "esriGeometryPoint" and info["objectIdField"] == "OBJECTID"
    all_ = rest.get(layer + "/query", where="1=1", outFields="*")
    assert len(all_["features"]) == 6
    big = rest.get(layer + "/query", where="Population > 200000", outFields="Name",
                   returnGeometry="false")
    assert sorted(f["attributes"]["Name"] for f in big["features"]) == [
        "Riverside", "San Bernardino"]
    assert all(set(f) == {"attributes"} for f in big["features"])
    assert rest.get(layer + "/query", where="1=1", returnCountOnly="true") == {"count": 6}
    ids = rest.get(layer + "/query", where="Name LIKE 'R%'", returnIdsOnly="true")
    assert ids == {"objectIdFieldName": "OBJECTID", "objectIds": [1, 3]}
    merc = rest.get(layer + "/query", objectIds="1", outSR="3857", outFields="OBJECTID")
    assert merc["spatialReference"]["latestWkid"] == 3857
    # spherical mercator: x = R * longitude in radians
    x = 6378137.0 * math.radians(-117.1825)
    assert merc["features"][0]["geometry"]["x"] == pytest.approx(x, abs=0.01)
    bad = rest.get(layer + "/query", where="Name = ")
    assert bad["error"]["code"] == 400


def test_create_buffers_output_name_publishes_on_the_hosting_root(rest: Rest) -> None:
    """outputName: a queryable hosted layer under /hosted; the GP directory is unchanged."""
    before = rest.get("/arcgis/rest/services")
    layer = f"{rest.base_url}/arcgis/rest/services/Demo/SamplePoints/FeatureServer/0"
    status = rest.run(
        task(rest, "tasks", "CreateBuffers"),
        {"inputLayer": {"url": layer, "filter": "OBJECTID < 3"}, "distances": [5],
         "units": "Kilometers", "outputName": {"serviceProperties": {"name": "tiny buffers"}}},
    )
    value = status["values"]["bufferLayer"]
    hosting = f"{rest.base_url}/hosted/arcgis/rest/services"
    assert value["url"] == f"{hosting}/tiny_buffers/FeatureServer/0"
    assert rest.get("/arcgis/rest/services") == before
    hosted = rest.get("/hosted/arcgis/rest/services")["services"]
    assert {"name": "tiny_buffers", "type": "FeatureServer"} in hosted
    assert rest.get(value["url"])["geometryType"] == "esriGeometryPolygon"
    assert rest.get(value["url"] + "/query", where="1=1", returnCountOnly="true") == {"count": 2}
    # the new layer is a valid input of another task
    copy = rest.run(task(rest, "Demo/Analysis", "CopyFeatures"), {"Input_Features": value})
    assert len(copy["values"]["Output_Features"]["features"]) == 2
    assert rest.get("/arcgis/rest/services/Hosted/tiny_buffers/FeatureServer/0")["error"][
        "code"] == 404
