"""The one table from GP data types to their entries (see the package's docstring)."""

from __future__ import annotations

from ...gp_client.values import AREAL_UNITS, LINEAR_UNITS, member_type
from .base import GpType, RawJson
from .choices import UnitType
from .features import FeatureSetType
from .files import FileType, RasterType
from .multi import MultiValueType
from .simple import BooleanType, CrsType, DateType, ExtentType, FieldType, NumberType, StringType
from .tables import COMPOSITE, VALUE_TABLE

TYPES: dict[str, GpType] = {
    "GPString": StringType(),
    "GPBoolean": BooleanType(),
    "GPLong": NumberType(integer=True),
    "GPDouble": NumberType(integer=False),
    "GPLinearUnit": UnitType(LINEAR_UNITS),
    "GPArealUnit": UnitType(AREAL_UNITS),
    "GPDate": DateType(),
    "GPFeatureRecordSetLayer": FeatureSetType(table=False),
    "GPRecordSet": FeatureSetType(table=True),
    "GPDataFile": FileType(),
    "GPRasterData": RasterType(),
    "GPRasterDataLayer": RasterType(),
    "GPSpatialReference": CrsType(),
    "GPExtent": ExtentType(),
    "GPEnvelope": ExtentType(),
    "Field": FieldType(),
    "GPValueTable": VALUE_TABLE,
    "GPComposite": COMPOSITE,
}
_RAW = RawJson()


def gp_type(data_type: str) -> GpType:
    """Return the table entry for a GP data type (raw JSON for unknown ones)."""
    if data_type in TYPES:
        return TYPES[data_type]
    inner = member_type(data_type)
    if inner is not None:
        return MultiValueType(inner, TYPES.get(inner))
    return _RAW

