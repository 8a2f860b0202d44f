"""Esri ``spatialReference`` objects <-> QgsCoordinateReferenceSystem."""

from __future__ import annotations

from typing import Any

from qgis.core import QgsCoordinateReferenceSystem

# Esri well-known ids that PROJ does not map to their EPSG twin (the Web Mercator family).
ESRI_TO_EPSG = {102100: 3857, 102113: 3857, 900913: 3857, 3785: 3857, 104199: 4326}
# EPSG codes that ArcGIS writes with an older (Esri) wkid and the EPSG code as latestWkid.
EPSG_TO_ESRI_WKID = {3857: 102100}
# EPSG codes stay below this; Esri's own codes (ESRI:102654, ESRI:54030 ...) are above it.
_EPSG_MAX = 32767


class SpatialReferenceDecoder:
    """Turns spatialReference dicts into CRSs; caches per instance (one per feature set)."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[QgsCoordinateReferenceSystem, list[str]]] = {}

    def decode(self, sr: Any) -> tuple[QgsCoordinateReferenceSystem, list[str]]:
        """Return (crs, warnings) for an Esri spatialReference; an invalid CRS when unknown."""
        if not isinstance(sr, dict) or not sr:
            return QgsCoordinateReferenceSystem(), []
        key = repr(sorted(sr.items()))
        hit = self._cache.get(key)
        if hit is None:
            hit = _decode(sr)
            self._cache[key] = hit
        return hit[0], list(hit[1])


def _from_code(code: Any) -> QgsCoordinateReferenceSystem:
    """Return the CRS for an Esri wkid (EPSG or ESRI authority), invalid when unknown."""
    try:
        wkid = int(code)
    except (TypeError, ValueError):
        return QgsCoordinateReferenceSystem()
    if wkid <= 0:
        return QgsCoordinateReferenceSystem()
    if wkid in ESRI_TO_EPSG:
        return QgsCoordinateReferenceSystem(f"EPSG:{ESRI_TO_EPSG[wkid]}")
    if wkid <= _EPSG_MAX:
        crs = QgsCoordinateReferenceSystem(f"EPSG:{wkid}")
        if crs.isValid():
            return crs
    crs = QgsCoordinateReferenceSystem(f"ESRI:{wkid}")
    if not crs.isValid():
        return crs
    # Many ESRI codes are an EPSG CRS under another name: let PROJ identify it from the WKT.
    twin = QgsCoordinateReferenceSystem.fromWkt(
        crs.toWkt(QgsCoordinateReferenceSystem.WktVariant.WKT1_ESRI))
    if twin.isValid() and twin.authid().startswith("EPSG:"):
        return twin
    return crs


def _decode(sr: dict) -> tuple[QgsCoordinateReferenceSystem, list[str]]:
    warnings: list[str] = []
    crs = QgsCoordinateReferenceSystem()
    for key in ("latestWkid", "wkid"):
        if sr.get(key) is not None:
            crs = _from_code(sr[key])
            if crs.isValid():
                break
    if not crs.isValid():
        for key in ("wkt2", "wkt"):
            text = sr.get(key)
            if isinstance(text, str) and text.strip():
                crs = QgsCoordinateReferenceSystem.fromWkt(text)
                if crs.isValid():
                    break
    if not crs.isValid():
        warnings.append(
            f"Unknown spatial reference {sr!r}: the layer has no CRS; set it by hand "
            "(Layer Properties > Source) if you know it."
        )
    vcs = sr.get("latestVcsWkid") or sr.get("vcsWkid")
    if vcs:
        warnings.append(
            f"The vertical coordinate system {vcs} is not attached to the layer "
            "(QGIS 3.22 layers carry a horizontal CRS only); Z values are kept unchanged."
        )
    return crs, warnings


def encode_spatial_reference(crs: QgsCoordinateReferenceSystem) -> dict | None:
    """Return the Esri spatialReference for a CRS: wkid when it has an EPSG/ESRI id, else wkt."""
    if crs is None or not crs.isValid():
        return None
    authid = crs.authid()
    auth, _, code = authid.partition(":")
    if auth.upper() in ("EPSG", "ESRI") and code.isdigit():
        wkid = int(code)
        if auth.upper() == "EPSG":
            return {"wkid": EPSG_TO_ESRI_WKID.get(wkid, wkid), "latestWkid": wkid}
        return {"wkid": wkid}
    wkt = crs.toWkt(QgsCoordinateReferenceSystem.WktVariant.WKT1_ESRI)
    if wkt:
        return {"wkt": wkt}
    return {"wkt2": crs.toWkt(QgsCoordinateReferenceSystem.WktVariant.WKT2_2019)}
