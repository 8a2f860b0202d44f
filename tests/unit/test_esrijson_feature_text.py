"""esrijson's text writers without QGIS: attribute text, WKB to Esri geometry text, and the
helper process's loop (``text_helper.serve``) fed through in-memory streams."""

from __future__ import annotations

import io
import json
import math
import os
import pickle
import struct
from pathlib import Path

from arcgis_gp.esrijson import text_helper
from arcgis_gp.esrijson.codes import POLYGON
from arcgis_gp.esrijson.feature_text import DOUBLE, INTEGER, TEXT, AttributeText, batch_text
from arcgis_gp.esrijson.wkb_to_esri import LINEAR_WKB_HEADS, WkbToEsri


def _polygon_wkb(ring: list[tuple[float, float]]) -> bytes:
    return (b"\x01" + struct.pack("<III", 3, 1, len(ring))
            + b"".join(struct.pack("<dd", *p) for p in ring))


RING = [(0.0, 0.0), (0.0, 1.5), (1e-300, 1.7976931348623157e308), (0.0, 0.0)]


def test_attribute_text_is_what_json_writes() -> None:
    text = AttributeText(["n", "x", "s%d"], [INTEGER, DOUBLE, TEXT])
    written = text.text([7, 0.1, 'q " \\ ü %s'])
    assert written == '{"attributes":{"n":7,"x":0.1,"s%d":"q \\" \\\\ ü %s"}'
    assert json.loads(written + "}") == {"attributes": {"n": 7, "x": 0.1, "s%d": 'q " \\ ü %s'}}


def test_nan_and_infinite_doubles_are_null() -> None:
    text = AttributeText(["x", "y", "s"], [DOUBLE, DOUBLE, TEXT])
    for bad in (math.nan, math.inf, -math.inf):
        written = text.text([bad, 2.5, "a"])
        assert json.loads(written + "}") == {"attributes": {"x": None, "y": 2.5, "s": "a"}}


def test_geometry_text_is_exact_and_nan_is_null() -> None:
    linear = WkbToEsri(POLYGON, False, False)
    wkb = _polygon_wkb(RING)
    assert wkb[:5] in LINEAR_WKB_HEADS
    rings = json.loads(linear.text(wkb))["rings"]
    assert [tuple(p) for p in rings[0]] == RING  # the very doubles
    with_nan = _polygon_wkb([(0.0, 0.0), (math.nan, 1.0), (1.0, 1.0), (0.0, 0.0)])
    assert linear.fast_text(with_nan) is None
    assert json.loads(linear.text(with_nan))["rings"][0][1] == [None, 1.0]


def _frame(obj: object) -> bytes:
    data = pickle.dumps(obj, protocol=4)
    return struct.pack("<Q", len(data)) + data


def test_the_helper_loop_appends_batches_and_texts_in_order(tmp_path: Path) -> None:
    """A batch of values, a batch the writer formatted itself (text), then values again:
    the file gets them in that order, without a comma before the first feature."""
    path = tmp_path / "out.json"
    path.write_text("[", encoding="utf-8")
    spec = {"path": str(path), "geometry": (POLYGON, False, False),
            "attributes": (["n"], [INTEGER])}
    attribute_text, linear = AttributeText(["n"], [INTEGER]), WkbToEsri(POLYGON, False, False)
    wkb = _polygon_wkb(RING)
    middle = "".join(batch_text([[2]], [None], attribute_text, linear))
    stdin = io.BytesIO(_frame(spec) + _frame(([[1]], [wkb])) + _frame(middle)
                       + _frame((['{"attributes":{"n":3}'], None)))
    stdout = io.BytesIO()
    assert text_helper.serve(stdin, stdout) == 0
    assert stdout.getvalue() == b"ready\n"
    features = json.loads(path.read_text(encoding="utf-8") + "]")
    assert [f["attributes"]["n"] for f in features] == [1, 2, 3]
    assert [tuple(p) for p in features[0]["geometry"]["rings"][0]] == RING
    assert "geometry" not in features[1] and "geometry" not in features[2]


def test_the_helper_loop_reports_what_esri_json_cannot_hold(tmp_path: Path, capsys) -> None:
    path = tmp_path / "out.json"
    spec = {"path": str(path), "geometry": ("esriGeometryPoint", False, False),
            "attributes": None}
    multipoint = (b"\x01" + struct.pack("<II", 4, 2)
                  + b"".join(b"\x01" + struct.pack("<Idd", 1, x, 0.0) for x in (0.0, 1.0)))
    stdin = io.BytesIO(_frame(spec) + _frame((['{"attributes":{}'], [multipoint])))
    assert text_helper.serve(stdin, io.BytesIO()) == 2
    assert "a multipoint cannot be written to a point feature set" in capsys.readouterr().err


def test_bytes_waiting_in_a_pipe_are_counted() -> None:
    """What the writer looks at to share the work (Linux FIONREAD; 0 where unknown)."""
    read_end, write_end = os.pipe()
    with os.fdopen(read_end, "rb", buffering=0) as reader, os.fdopen(write_end, "wb") as writer:
        writer.write(b"x" * 1000)
        writer.flush()
        assert text_helper._waiting_bytes(writer) == (1000 if os.name == "posix" else 0)
        reader.read(400)
        assert text_helper._waiting_bytes(writer) == (600 if os.name == "posix" else 0)
