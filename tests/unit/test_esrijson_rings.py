"""esrijson's pure parts without QGIS: ring math (rings), WKB parsing (wkb), type codes.

These modules import no qgis/Qt; the first test checks it in a fresh interpreter, so the
other tests here really run without a QgsApplication.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from array import array

from arcgis_gp.esrijson.codes import (
    POLYGON,
    WKB_MULTIPOLYGON,
    WKB_POLYGON,
    WKB_Z,
    dims_offset,
    guess_geometry_type,
    normalize_geometry_type,
)
from arcgis_gp.esrijson.rings import organize_rings, signed_area
from arcgis_gp.esrijson.wkb import flat_from_wkb_line, parse_linear, reshape, wkb_dims
from tests.paths import REPO_ROOT
from tests.qgis.esrijson.helpers import NESTED, square


def _flat(ring: list) -> array:
    return array("d", [c for p in ring for c in p])


def test_pure_modules_load_no_qgis() -> None:
    """codes, wkb, rings and errors import without qgis or Qt."""
    code = ("import sys; import arcgis_gp.esrijson.codes, arcgis_gp.esrijson.wkb, "
            "arcgis_gp.esrijson.rings, arcgis_gp.esrijson.errors; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('qgis', 'PyQt5', 'PyQt6', 'sip')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO_ROOT).stdout
    assert out.strip() == "[]"


def test_organize_rings_direct() -> None:
    """organize_rings returns exteriors first, in the order of their exterior rings."""
    flats = [_flat(ring) for ring in NESTED]
    assert organize_rings(flats, 2) == [[0, 1, 2], [3], [4]]
    assert signed_area(flats[0], 2) < 0 < signed_area(flats[1], 2)


def test_organize_rings_reads_the_first_two_ordinates_of_wider_vertices() -> None:
    """With Z (dim 3) the rings group the same; a hole touching its outer stays a hole."""
    outer = _flat([p + [7.0] for p in square(0, 0, 10)])
    hole = _flat([p + [1.0] for p in [[0, 5], [3, 6], [3, 4], [0, 5]]])
    assert organize_rings([hole, outer], 3) == [[1, 0]]
    assert signed_area(outer, 3) == -200.0


def test_wkb_dims_reads_iso_and_extended_codes() -> None:
    """ISO thousands and EWKB high bits both give (flat type, z, m)."""
    assert wkb_dims(WKB_POLYGON + WKB_Z) == (WKB_POLYGON, True, False)
    assert wkb_dims(3006) == (WKB_MULTIPOLYGON, True, True)
    assert wkb_dims(0x80000000 | 0x40000000 | 2) == (2, True, True)
    assert dims_offset(True, True) == 3000


def test_parse_linear_multipolygon_and_line() -> None:
    """parse_linear gives nested flat arrays; flat_from_wkb_line pads missing M with NaN."""
    ring = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0]
    polygon = struct.pack("<BIII8d", 1, WKB_POLYGON, 1, 4, *ring)
    wkb = struct.pack("<BII", 1, WKB_MULTIPOLYGON, 2) + polygon + polygon
    flat_type, z, m, parts = parse_linear(wkb)
    assert (flat_type, z, m) == (WKB_MULTIPOLYGON, False, False)
    assert [[list(r) for r in p] for p in parts] == [[ring], [ring]]
    line = struct.pack("<BII4d", 1, 2, 2, 1.5, 2.5, 3.5, 4.5)
    padded = flat_from_wkb_line(line, 3)
    assert list(padded[:2]) == [1.5, 2.5] and padded[2] != padded[2]
    assert list(reshape(array("d", [1, 2, 3, 4]), (False, False), (False, False))) == [1, 2, 3, 4]


def test_geometry_type_names() -> None:
    """Esri type names are matched without case; a dict's keys say its type."""
    assert normalize_geometry_type("ESRIGEOMETRYPOLYGON") == POLYGON
    assert normalize_geometry_type(3) is None
    assert guess_geometry_type({"curveRings": []}) == POLYGON
    assert guess_geometry_type([]) is None
