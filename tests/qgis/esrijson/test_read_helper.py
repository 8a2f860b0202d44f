"""The read helper process gives the reader the very features, warnings and trailer it
reads alone.

``reader.read_file`` hands big files past the sample to a second Python process
(esrijson/read_helper.py). These tests lower the size threshold to zero (a setting, not a
code path) so that every file here is read both ways, and compare: the recorded fixtures
(every Esri JSON file other projects wrote), and files built here with every malformed case
the reader warns about, placed after the sample so that the helper meets them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from arcgis_gp.esrijson import reader
from arcgis_gp.esrijson.errors import EsriJsonError, EsriJsonSyntaxError
from tests.qgis.esrijson.helpers import RECORDED, child_processes

pytestmark = pytest.mark.timeout(300)

SAMPLE = 5  # a small sample, so that the helper reads most features


def _read(path: Path, helper: bool, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Everything a reader gives, read with or without the helper."""
    monkeypatch.setenv("ARCGIS_GP_HELPER", "1" if helper else "0")
    monkeypatch.setattr(reader, "READ_HELPER_MIN_BYTES", 0)
    decoded = reader.read_file(path, sample_size=SAMPLE)
    features = [(f.id(), [None if v is None or (hasattr(v, "isNull") and v.isNull()) else v
                          for v in f.attributes()],
                 f.geometry().asWkb().data() if f.hasGeometry() else None)
                for f in decoded.features()]
    return {"features": features, "warnings": decoded.warnings,
            "fields": decoded.fields.names(), "type": decoded.wkb_type,
            "exceeded": decoded.exceeded_transfer_limit, "count": decoded.feature_count,
            "strict": decoded.strict_json}


def _both(path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    alone = _read(path, False, monkeypatch)
    helped = _read(path, True, monkeypatch)
    assert helped == alone
    return helped


RECORDED_FILES = sorted(p for p in RECORDED.rglob("*.json")
                        if p.stat().st_size < 5_000_000)


@pytest.mark.parametrize("path", RECORDED_FILES, ids=lambda p: str(p.relative_to(RECORDED)))
def test_recorded_files_read_the_same_with_the_helper(path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    outcomes = []
    for helper in (False, True):
        try:
            outcomes.append(_read(path, helper, monkeypatch))
        except EsriJsonError as err:  # not a feature set: the same refusal both ways
            outcomes.append(f"{type(err).__name__}: {err}")
    assert outcomes[1] == outcomes[0]


def _polygon(i: int) -> dict:
    x = float(i)
    return {"rings": [[[x, 0.0], [x, 1.0], [x + 1, 1.0], [x + 1, 0.0], [x, 0.0]]]}


def _write(tmp_path: Path, features: list, tail: str = "") -> Path:
    path = tmp_path / "features.json"
    head = json.dumps({"geometryType": "esriGeometryPolygon",
                       "spatialReference": {"wkid": 3857},
                       "fields": [{"name": "OBJECTID", "type": "esriFieldTypeOID"},
                                  {"name": "name", "type": "esriFieldTypeString"},
                                  {"name": "when", "type": "esriFieldTypeDate"}]})
    body = ",".join(f if isinstance(f, str) else json.dumps(f) for f in features)
    path.write_text(head[:-1] + ',"features":[' + body + "]" + tail + "}", encoding="utf-8")
    return path


def test_every_malformed_case_after_the_sample_reads_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plain = [{"attributes": {"OBJECTID": i, "name": f"n{i}", "when": 86_400_000 * i},
              "geometry": _polygon(i)} for i in range(1, 3000)]
    odd: list[Any] = [
        "42", '"text"', "[1, 2]", "{}",  # entries that are not features
        {"attributes": "not an object", "geometry": _polygon(1)},
        {"geometry": _polygon(2)},  # no attributes
        {"attributes": {"OBJECTID": 7}, "geometry": None},
        {"attributes": {"OBJECTID": 8}, "geometry": {"rings": [[["1", "2"], ["3", "4"],
                                                               ["5", "6"], ["1", "2"]]]}},
        {"attributes": {"OBJECTID": 9}, "geometry": {"rings": [[[0, 0], ["x", 1], [1, 1],
                                                               [0, 0]]]}},
        {"attributes": {"OBJECTID": 10}, "geometry": {"rings": [[[0, 0], [1, 1], [0, 0]]]}},
        {"attributes": {"OBJECTID": 11}, "geometry": {"paths": [[[0, 0], [1, 1]]]}},
        {"attributes": {"OBJECTID": 12}, "geometry": {"rings": [[[0, 0, 5], [0, 1, 5],
                                                               [1, 1, 5], [0, 0, 5]]]}},
        {"attributes": {"OBJECTID": 13}, "geometry": {"curveRings": [[[0, 0], {"c": [[2, 0],
                                                                            [1, 1]]},
                                                                    [0, 0]]]}},
        {"attributes": {"OBJECTID": 14}, "geometry": "not a geometry"},
        '{"attributes": {"OBJECTID": 15}, "geometry": {"rings": [[[NaN, 0], [0, 1], [1, 1], '
        '[NaN, 0]]]}}',
        {"attributes": {"OBJECTID": 3, "name": None}, "geometry": _polygon(3)},  # OID repeats
        {"attributes": {"objectid": 16, "NAME": "upper"}, "geometry": _polygon(16)},
    ]
    features = plain[:10] + odd + plain[10:] + odd
    path = _write(tmp_path, features, tail=',"exceededTransferLimit":true')
    read = _both(path, monkeypatch)
    assert read["exceeded"] is True
    assert len(read["features"]) == 2999 + 2 * (len(odd) - 4)
    assert any("not {attributes, geometry} objects" in w for w in read["warnings"])
    assert any("exceededTransferLimit" in w for w in read["warnings"])


def test_a_file_broken_after_the_sample_fails_the_same_way(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    features = [{"attributes": {"OBJECTID": i}, "geometry": _polygon(i)} for i in range(1, 50)]
    path = _write(tmp_path, features + ['{"attributes": {"OBJECTID": 50}, "geometry": {'])
    outcomes = []
    for helper in (False, True):
        monkeypatch.setenv("ARCGIS_GP_HELPER", "1" if helper else "0")
        monkeypatch.setattr(reader, "READ_HELPER_MIN_BYTES", 0)
        decoded = reader.read_file(path, sample_size=SAMPLE)
        got = []
        with pytest.raises(EsriJsonSyntaxError) as caught:
            for feature in decoded.features():
                got.append(feature.id())
        outcomes.append((got, str(caught.value)))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == list(range(1, 50))


def test_trailing_commas_and_keys_in_other_case_read_the_same(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    features = [{"attributes": {"objectid": i, "Name": f"n{i}"}, "geometry": _polygon(i)}
                for i in range(1, 40)]
    path = _write(tmp_path, features)
    text = path.read_text(encoding="utf-8").replace("]]]}}", "]]],}}", 3)
    path.write_text(text, encoding="utf-8")
    read = _both(path, monkeypatch)
    assert read["strict"] is False
    assert read["features"][-1][1][:2] == [39, "n39"]


def test_a_big_file_uses_the_helper_by_default(tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """From READ_HELPER_MIN_BYTES on two cores: a child process runs while the features are
    read, and they are the ones read alone."""
    features = [{"attributes": {"OBJECTID": i, "name": "x" * 40}, "geometry": _polygon(i)}
                for i in range(1, 40_000)]
    path = _write(tmp_path, features)
    assert path.stat().st_size >= reader.READ_HELPER_MIN_BYTES
    monkeypatch.delenv("ARCGIS_GP_HELPER", raising=False)
    before = set(child_processes())
    decoded = reader.read_file(path)
    children: set[int] = set()
    ids = []
    for n, feature in enumerate(decoded.features()):
        if n % 5000 == 0:
            children |= set(child_processes()) - before
        ids.append(feature.id())
    if (os.cpu_count() or 1) > 1:
        assert children, "no helper process ran"
    assert not set(child_processes()) - before, "the helper process outlived the reading"
    assert ids == list(range(1, 40_000))


def _hundred_read_by_the_helper(path: Path, monkeypatch: pytest.MonkeyPatch):
    """(iterator, the first 100 ids, the helper's process id) of a read with the helper."""
    monkeypatch.setenv("ARCGIS_GP_HELPER", "1")
    monkeypatch.setattr(reader, "READ_HELPER_MIN_BYTES", 0)
    before = set(child_processes())
    iterator = reader.read_file(path, sample_size=SAMPLE).features()
    first = [next(iterator).id() for _ in range(100)]
    (helper,) = set(child_processes()) - before
    return iterator, first, helper


def test_stopping_early_stops_the_helper(tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    features = [{"attributes": {"OBJECTID": i}, "geometry": _polygon(i)} for i in range(1, 9000)]
    iterator, first, helper = _hundred_read_by_the_helper(_write(tmp_path, features),
                                                          monkeypatch)
    iterator.close()  # as a cancelled run does
    assert helper not in child_processes()
    assert first == list(range(1, 101))


def test_a_helper_that_dies_is_a_clear_error_not_a_short_layer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The helper killed mid-way (as by the system when memory runs out): the reading fails
    saying not every feature was read, instead of ending early as if the file were shorter."""
    import signal

    features = [{"attributes": {"OBJECTID": i, "name": "x" * 200}, "geometry": _polygon(i)}
                for i in range(1, 20_000)]
    iterator, read, helper = _hundred_read_by_the_helper(_write(tmp_path, features),
                                                         monkeypatch)
    os.kill(helper, signal.SIGKILL)
    with pytest.raises(EsriJsonError) as caught:
        for feature in iterator:
            read.append(feature.id())
    assert "stopped before the end" in str(caught.value)
    assert "not every feature was read" in str(caught.value)
    assert "ARCGIS_GP_HELPER=0" in str(caught.value)
    assert len(read) < 19_999 and read == list(range(1, len(read) + 1))
    assert helper not in child_processes()
