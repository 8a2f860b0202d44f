"""Sample feature layers the server publishes (Demo/SamplePoints/FeatureServer/0)."""

from __future__ import annotations

from typing import Any

from .catalog import FeatureLayerDef

# Approximate locations of a few towns in southern California (EPSG:4326), with made-up
# but plausible attributes. Dates are ms since 1970-01-01 UTC.
_POINTS = [
    ("Redlands", -117.1825, 34.0556, 73168, 411.5, -1325376000000),
    ("San Bernardino", -117.2898, 34.1083, 222101, 321.0, -3471292800000),
    ("Riverside", -117.3962, 33.9533, 314998, 262.0, -2776982400000),
    ("Palm Springs", -116.5453, 33.8303, 44575, 146.0, -1041379200000),
    ("Barstow", -117.0173, 34.8958, 25415, 659.0, -1640995200000),
    ("Temecula", -117.1484, 33.4936, 110003, 327.0, 599616000000),
]


def sample_points() -> dict[str, Any]:
    """Return the SamplePoints FeatureSet."""
    return {
        "displayFieldName": "Name",
        "geometryType": "esriGeometryPoint",
        "spatialReference": {"wkid": 4326, "latestWkid": 4326},
        "fields": [
            {"name": "OBJECTID", "type": "esriFieldTypeOID", "alias": "OBJECTID"},
            {"name": "Name", "type": "esriFieldTypeString", "alias": "Name", "length": 50},
            {"name": "Population", "type": "esriFieldTypeInteger", "alias": "Population"},
            {"name": "Elevation", "type": "esriFieldTypeDouble", "alias": "Elevation (m)"},
            {"name": "Founded", "type": "esriFieldTypeDate", "alias": "Founded", "length": 8},
        ],
        "features": [
            {
                "attributes": {
                    "OBJECTID": i,
                    "Name": name,
                    "Population": pop,
                    "Elevation": elev,
                    "Founded": founded,
                },
                "geometry": {"x": x, "y": y},
            }
            for i, (name, x, y, pop, elev, founded) in enumerate(_POINTS, start=1)
        ],
    }


def sample_layers() -> list[FeatureLayerDef]:
    """Every sample layer."""
    return [
        FeatureLayerDef(
            "Demo/SamplePoints",
            "SamplePoints",
            sample_points(),
            "A handful of towns in southern California (EPSG:4326).",
        )
    ]
