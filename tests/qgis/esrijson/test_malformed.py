"""Malformed Esri JSON (files and in-memory results) is reported, never written silently.

Each case is read both from a file (streamed) and from a dict (a GP result in memory): deep
nesting and a ``features`` that is not an array are one-line errors; junk entries, rings of
fewer than 4 points, one-point paths, NaN/infinite and text coordinates are warnings naming
the features' positions, and what is written holds no such geometry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from arcgis_gp.esrijson import reader
from arcgis_gp.esrijson.errors import EsriJsonError, EsriJsonSyntaxError
from tests.qgis.esrijson.helpers import square

pytestmark = pytest.mark.timeout(120)

GOOD_RING = square(0, 0, 10)


def _doc(geometry_type: str, entries: list) -> dict:
    return {"geometryType": geometry_type, "spatialReference": {"wkid": 4326},
            "fields": [{"name": "id", "type": "esriFieldTypeInteger"}], "features": entries}


@pytest.fixture(params=["file", "dict"])
def read(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """Return a function decoding a document either way: (decoded, features)."""

    def run(doc: dict) -> tuple[Any, list]:
        if request.param == "file":
            path = tmp_path / "in.json"
            path.write_text(json.dumps(doc), encoding="utf-8")  # NaN/Infinity as literals
            decoded = reader.read_file(path)
        else:
            decoded = reader.read_feature_set(doc)
        return decoded, list(decoded.features())

    return run


def _warning(decoded: Any, words: str) -> str:
    found = [w for w in decoded.warnings if words in w]
    assert len(found) == 1, decoded.warnings
    return found[0]


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    '{"features":[{"attributes":{},"geometry":{"rings":' + "[" * 100_000 + "]" * 100_000 + "}}]}",
    '{"value":' * 100_000 + "{}" + "}" * 100_000,
    '{"fields":[],"features":[],"x":' + "[" * 100_000 + "]" * 100_000 + "}",
], ids=["deep-rings", "deep-values", "deep-header"])
def test_deep_nesting_is_a_one_line_error(tmp_path: Path, text: str) -> None:
    """100,000 levels: an EsriJsonSyntaxError with one line and no RecursionError chained."""
    path = tmp_path / "deep.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(EsriJsonSyntaxError, match="nested too deep") as info:
        list(reader.read_file(path).features())
    assert "\n" not in str(info.value)
    assert info.value.__context__ is None and info.value.__cause__ is None
    assert isinstance(info.value, EsriJsonError)


def test_deep_geometry_in_memory_is_a_warning() -> None:
    """A result dict whose rings nest 100,000 deep: that feature has no geometry, said so."""
    rings: list = []
    for _ in range(100_000):
        rings = [rings]
    doc = _doc("esriGeometryPolygon", [
        {"attributes": {"id": 1}, "geometry": {"rings": rings}},
        {"attributes": {"id": 2}, "geometry": {"rings": [GOOD_RING]}}])
    decoded = reader.read_feature_set(doc)
    features = list(decoded.features())
    assert [f.hasGeometry() for f in features] == [False, True]
    assert "could not be read" in _warning(decoded, "position 1 ")


@pytest.mark.parametrize("features", [{}, {"a": 1}, 0, 7, "", "abc", True])
def test_features_not_a_list_is_an_error(read: Any, features: Any) -> None:
    """'features' that is not an array stops the read with a message saying so."""
    with pytest.raises(EsriJsonError, match="'features' is a JSON .*, not an array"):
        read(_doc("esriGeometryPoint", features))


# -- warnings naming the features --------------------------------------------------------------


def test_junk_feature_entries_are_skipped_with_their_positions(read: Any) -> None:
    """Entries that are not feature objects are skipped; 'attributes' not an object too."""
    good = {"attributes": {"id": 1}, "geometry": {"x": 1, "y": 2}}
    entries = [good, 5, "x", None, [], {}, {"attributes": [1, 2], "geometry": {"x": 3, "y": 4}},
               {"attributes": {"id": 8}, "geometry": {"x": 5, "y": 6}}]
    decoded, features = read(_doc("esriGeometryPoint", entries))
    assert [f.geometry().asWkt() for f in features] == ["Point (1 2)", "Point (3 4)",
                                                       "Point (5 6)"]
    assert [f["id"] for f in features][::2] == [1, 8]
    skipped = _warning(decoded, "were skipped")
    assert "(5 features, at positions 2, 3, 4, 5, 6 in 'features')" in skipped
    assert "position 7 " in _warning(decoded, "'attributes' is not an object")
    assert decoded.feature_count == 3


def test_geometry_not_an_object_is_reported(read: Any) -> None:
    """A geometry that is a string or has no geometry keys: no geometry, and a warning."""
    entries = [{"attributes": {"id": 1}, "geometry": "POINT (1 2)"},
               {"attributes": {"id": 2}, "geometry": {"lat": 1, "lon": 2}},
               {"attributes": {"id": 3}, "geometry": None}]
    decoded, features = read(_doc(None, entries) | {"geometryType": "esriGeometryPoint"})
    assert not any(f.hasGeometry() for f in features)
    assert "positions 1, 2 in" in _warning(decoded, "not Esri JSON geometry objects")


def test_short_rings_are_kept_with_a_warning(read: Any) -> None:
    """Rings of fewer than 4 points (after closing) are kept as GDAL keeps them (nothing is
    lost), and a warning names the features."""
    entries = [
        {"attributes": {"id": 1}, "geometry": {"rings": [[[0, 0], [1, 1]]]}},
        {"attributes": {"id": 2}, "geometry": {"rings": [GOOD_RING, [[2, 2], [3, 3], [2, 2]]]}},
        {"attributes": {"id": 3}, "geometry": {"rings": [[[0, 0], [0, 1], [1, 1]]]}},  # closes
    ]
    decoded, features = read(_doc("esriGeometryPolygon", entries))
    assert features[0].geometry().asWkt() == "MultiPolygon (((0 0, 1 1, 0 0)))"
    assert features[1].geometry().constGet().nCoordinates() == 5 + 3
    assert features[2].geometry().asWkt() == "MultiPolygon (((0 0, 0 1, 1 1, 0 0)))"
    warning = _warning(decoded, "fewer than 4")
    assert "(2 features, at positions 1, 2 in 'features')" in warning
    assert "not valid" in warning


def test_one_point_paths_are_kept_with_a_warning(read: Any) -> None:
    """A path of one point is kept (as GDAL keeps it), and a warning names the features."""
    entries = [{"attributes": {"id": 1}, "geometry": {"paths": [[[0, 0]]]}},
               {"attributes": {"id": 2}, "geometry": {"paths": [[[5, 5]], [[0, 0], [1, 1]]]}},
               {"attributes": {"id": 3}, "geometry": {"paths": [[[0, 0], [1, 1]]]}}]
    decoded, features = read(_doc("esriGeometryPolyline", entries))
    assert features[0].geometry().constGet().nCoordinates() == 1
    assert features[1].geometry().constGet().numGeometries() == 2
    assert "(2 features, at positions 1, 2 in 'features')" in _warning(decoded, "single point")


INF = float("inf")
NAN = float("nan")


@pytest.mark.parametrize("geometry_type,geometry", [
    ("esriGeometryPolygon", {"rings": [[[0, 0], [0, INF], [1, 1], [0, 0]]]}),
    ("esriGeometryPolygon", {"rings": [[[0, 0], [NAN, 1], [1, 1], [0, 0]]]}),
    ("esriGeometryPolygon", {"rings": [[[0, 0], [None, 1], [1, 1], [0, 0]]]}),
    ("esriGeometryPolyline", {"paths": [[[0, 0], [-INF, 1]]]}),
    ("esriGeometryMultipoint", {"points": [[0, 0], [1, NAN]]}),
    ("esriGeometryPoint", {"x": INF, "y": 1}),
    ("esriGeometryEnvelope", {"xmin": 0, "ymin": 0, "xmax": INF, "ymax": 1}),
])
def test_nan_and_infinite_coordinates_are_reported(read: Any, geometry_type: str,
                                                   geometry: dict) -> None:
    """NaN or infinite x/y: the feature is kept without geometry, and a warning says which."""
    entries = [{"attributes": {"id": 1}, "geometry": {"x": 1, "y": 1} if geometry_type ==
                "esriGeometryPoint" else {"points": [[1, 1]]} if "Multi" in geometry_type
                else {"xmin": 0, "ymin": 0, "xmax": 1, "ymax": 1} if "Env" in geometry_type
                else {"rings": [GOOD_RING]} if "Polygon" in geometry_type
                else {"paths": [[[0, 0], [1, 1]]]}},
               {"attributes": {"id": 2}, "geometry": geometry}]
    decoded, features = read(_doc(geometry_type, entries))
    assert [f.hasGeometry() for f in features] == [True, False]
    assert "position 2 " in _warning(decoded, "NaN or infinite")


def test_nan_z_and_empty_points_stay_quiet(read: Any) -> None:
    """What Esri allows is not reported: null Z values, and null or "NaN" x/y (empty point)."""
    entries = [{"attributes": {"id": 1}, "geometry": {"x": None, "y": None}},
               {"attributes": {"id": 2}, "geometry": {"x": "NaN", "y": "NaN"}},
               {"attributes": {"id": 3}, "geometry": {"x": 1, "y": 2, "z": None}}]
    decoded, features = read(_doc("esriGeometryPoint", entries) | {"hasZ": True})
    assert [f.hasGeometry() for f in features] == [False, False, True]
    assert decoded.warnings == []


@pytest.mark.parametrize("geometry_type,geometry", [
    ("esriGeometryPolyline", {"paths": [[[0, 0], [1, "abc"]]]}),
    ("esriGeometryPoint", {"x": "east", "y": 3}),
    ("esriGeometryPoint", {"x": 1, "y": 2, "z": "high"}),
])
def test_text_where_numbers_go_is_reported(read: Any, geometry_type: str,
                                           geometry: dict) -> None:
    """Coordinates that are text (other than Esri's "NaN") drop the geometry, with a warning."""
    decoded, features = read(_doc(geometry_type, [{"attributes": {"id": 1},
                                                   "geometry": geometry}]))
    assert len(features) == 1 and not features[0].hasGeometry()
    assert "position 1 " in _warning(decoded, "text where a coordinate must be a number")


def test_numbers_written_as_text_are_read_with_a_warning(read: Any) -> None:
    """Text that spells a number is read as that number (as before), but not silently."""
    entries = [{"attributes": {"id": 1}, "geometry": {"rings": [[["0", "0"], ["0", "1"],
                                                                 ["1", "1"], ["0", "0"]]]}},
               {"attributes": {"id": 2}, "geometry": {"rings": [GOOD_RING]}}]
    decoded, features = read(_doc("esriGeometryPolygon", entries))
    assert features[0].geometry().asWkt() == "MultiPolygon (((0 0, 0 1, 1 1, 0 0)))"
    assert "(1 feature, at position 1 in 'features')" in _warning(decoded, "written as text")
