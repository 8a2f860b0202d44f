"""gp_client.values: every GP data type to the wire and back (no server needed)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from arcgis_gp.gp_client import values as v
from arcgis_gp.gp_client.errors import BadInputError

UTC = dt.timezone.utc


@pytest.mark.parametrize(
    ("data_type", "value", "wire"),
    [
        ("GPString", "hello", "hello"),
        ("GPString", 5, "5"),
        ("GPString", True, "true"),
        ("GPBoolean", True, True),
        ("GPBoolean", "false", False),
        ("GPBoolean", 1, True),
        ("GPLong", 42, 42),
        ("GPLong", "17", 17),
        ("GPLong", 3.0, 3),
        ("GPDouble", 2.5, 2.5),
        ("GPDouble", 3, 3.0),
        ("GPDouble", "1e3", 1000.0),
        ("GPDate", dt.datetime(2008, 1, 1, tzinfo=UTC), 1199145600000),
        ("GPDate", dt.datetime(2008, 1, 1), 1199145600000),
        ("GPDate", dt.date(2008, 1, 1), 1199145600000),
        ("GPDate", "2008-01-01T00:00:00Z", 1199145600000),
        ("GPDate", 1199145600000, 1199145600000),
        ("GPLinearUnit", v.LinearUnit(5, "Meters"), {"distance": 5, "units": "esriMeters"}),
        ("GPLinearUnit", (8.5, "miles"), {"distance": 8.5, "units": "esriMiles"}),
        ("GPLinearUnit", "100 Kilometers", {"distance": 100.0, "units": "esriKilometers"}),
        ("GPLinearUnit", {"distance": 1, "units": "esriFeet"},
         {"distance": 1.0, "units": "esriFeet"}),
        ("GPLinearUnit", "2 NauticalMiles", {"distance": 2.0, "units": "esriNauticalMiles"}),
        ("GPArealUnit", v.ArealUnit(2, "SquareKilometers"),
         {"area": 2, "units": "esriSquareKilometers"}),
        ("GPArealUnit", "3 Hectares", {"area": 3.0, "units": "esriHectares"}),
        ("GPDataFile", "https://host/file.csv", {"url": "https://host/file.csv"}),
        ("GPDataFile", v.ItemID("i123"), {"itemID": "i123"}),
        ("GPRasterDataLayer", {"url": "https://h/r.tif", "format": "tif"},
         {"url": "https://h/r.tif", "format": "tif"}),
        ("GPRasterData", '{"itemID": "x"}', {"itemID": "x"}),
        ("GPFeatureRecordSetLayer", "https://h/FeatureServer/0",
         {"url": "https://h/FeatureServer/0"}),
        ("GPFeatureRecordSetLayer", [{"attributes": {"a": 1}}],
         {"features": [{"attributes": {"a": 1}}]}),
        ("GPRecordSet", '{"features": []}', {"features": []}),
        ("GPSpatialReference", 4326, {"wkid": 4326}),
        ("GPSpatialReference", "EPSG:3857", {"wkid": 3857}),
        ("GPSpatialReference", 'GEOGCS["GCS_WGS_1984"]', {"wkt": 'GEOGCS["GCS_WGS_1984"]'}),
        ("GPExtent", (0, 1, 2, 3), {"xmin": 0.0, "ymin": 1.0, "xmax": 2.0, "ymax": 3.0}),
        ("GPEnvelope", (0, 1, 2, 3, 4326),
         {"xmin": 0.0, "ymin": 1.0, "xmax": 2.0, "ymax": 3.0, "spatialReference": {"wkid": 4326}}),
        ("GPExtent", "0 1 2 3", {"xmin": 0.0, "ymin": 1.0, "xmax": 2.0, "ymax": 3.0}),
        ("Field", "distance", {"name": "distance"}),
        ("Field", {"name": "d", "type": "esriFieldTypeInteger"},
         {"name": "d", "type": "esriFieldTypeInteger"}),
        ("GPValueTable", [("a", 1), ["b", dt.datetime(1970, 1, 1, tzinfo=UTC)]],
         [["a", 1], ["b", 0]]),
        ("GPComposite", {"distance": 3, "units": "esriMeters"},
         {"distance": 3, "units": "esriMeters"}),
        ("GPMultiValue:GPString", ["Parcels", "Street Lights"], ["Parcels", "Street Lights"]),
        ("GPMultiValue:GPString", "one", ["one"]),
        ("GPMultiValue:GPLinearUnit", ["1 Miles", (2, "Meters")],
         [{"distance": 1.0, "units": "esriMiles"}, {"distance": 2.0, "units": "esriMeters"}]),
        ("GPMultiValue:GPFeatureRecordSetLayer", ["https://h/0"], [{"url": "https://h/0"}]),
        ("GPSomethingNew", {"any": ["json"]}, {"any": ["json"]}),
        ("GPSomethingNew", "text", "text"),
    ],
)
def test_encode(data_type: str, value: object, wire: object) -> None:
    """Each Python form gives the documented wire form."""
    assert v.encode(data_type, value) == wire


@pytest.mark.parametrize(
    ("data_type", "value", "fragment"),
    [
        ("GPBoolean", "maybe", "True or False"),
        ("GPLong", 2.5, "integer"),
        ("GPLong", True, "not a boolean"),
        ("GPDouble", float("nan"), "NaN"),
        ("GPDouble", "ten", "number"),
        ("GPDate", "yesterday", "ISO 8601"),
        ("GPLinearUnit", 5, "units"),
        ("GPLinearUnit", {"units": "esriMeters"}, "'distance'"),
        ("GPDataFile", "/tmp/local.csv", "uploaded first"),
        ("GPDataFile", Path("/tmp/x.tif"), "uploaded first"),
        ("GPDataFile", {"name": "x"}, "'url'"),
        ("GPFeatureRecordSetLayer", 12, "FeatureSet"),
        ("GPFeatureRecordSetLayer", "{broken", "does not parse"),
        ("GPSpatialReference", True, "WKID"),
        ("GPExtent", (1, 2), "xmin"),
        ("Field", "", "field name"),
        ("GPSomethingNew", object(), "JSON"),
    ],
)
def test_encode_rejects_bad_values_with_a_clear_message(data_type: str, value: object,
                                                        fragment: str) -> None:
    """A value that cannot be sent raises BadInputError saying what is expected."""
    with pytest.raises(BadInputError) as info:
        v.encode(data_type, value)
    assert fragment in str(info.value)
    assert data_type in str(info.value)


@pytest.mark.parametrize(
    ("value", "form"),
    [
        (None, ""),
        (True, "true"),
        (False, "false"),
        (42, "42"),
        (2.5, "2.5"),
        ("a b", "a b"),
        ({"distance": 5, "units": "esriMeters"}, '{"distance":5,"units":"esriMeters"}'),
        (["a", "é"], '["a","é"]'),
        (dt.datetime(1970, 1, 2, tzinfo=UTC), "86400000"),
        ({"when": dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)}, '{"when":1000}'),
        (v.LinearUnit(1, "esriMiles"), '{"distance":1,"units":"esriMiles"}'),
    ],
)
def test_to_form(value: object, form: str) -> None:
    """Form text: literals as is, objects and arrays as compact JSON."""
    assert v.to_form(value) == form


def test_to_form_rejects_nan() -> None:
    """NaN is not JSON: refuse rather than send something the server misreads."""
    with pytest.raises(BadInputError):
        v.to_form({"x": float("inf")})
    with pytest.raises(BadInputError):
        v.to_form(float("nan"))


@pytest.mark.parametrize(
    ("data_type", "wire", "python"),
    [
        ("GPBoolean", "true", True),
        ("GPBoolean", False, False),
        ("GPLong", 3.0, 3),
        ("GPLong", "12", 12),
        ("GPDouble", 3, 3.0),
        ("GPDate", 1199145600000, dt.datetime(2008, 1, 1, tzinfo=UTC)),
        ("GPDate", "1199145600000", dt.datetime(2008, 1, 1, tzinfo=UTC)),
        ("GPDate", "Tue Jan 01 2008", "Tue Jan 01 2008"),
        ("GPMultiValue:GPDate", [0, 1000], [dt.datetime(1970, 1, 1, tzinfo=UTC),
                                            dt.datetime(1970, 1, 1, 0, 0, 1, tzinfo=UTC)]),
        ("GPString", {"credits": 6.66}, {"credits": 6.66}),
        ("GPLinearUnit", {"distance": 1.0, "units": "esriMiles"},
         {"distance": 1.0, "units": "esriMiles"}),
        ("GPDataFile", {"url": "https://h/f"}, {"url": "https://h/f"}),
        ("GPUnknown", {"keep": [1, 2]}, {"keep": [1, 2]}),
        ("GPLong", None, None),
    ],
)
def test_decode(data_type: str, wire: object, python: object) -> None:
    """Results decode to Python values; anything unexpected comes back unchanged."""
    assert v.decode(data_type, wire) == python


@given(st.datetimes(min_value=dt.datetime(1600, 1, 1), max_value=dt.datetime(2500, 1, 1)))
def test_dates_round_trip_to_the_millisecond(when: dt.datetime) -> None:
    """GPDate: datetime -> ms -> datetime keeps every millisecond."""
    when = when.replace(microsecond=when.microsecond // 1000 * 1000, tzinfo=UTC)
    assert v.decode("GPDate", v.encode("GPDate", when)) == when


JSONABLE = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@given(JSONABLE)
def test_unknown_types_pass_through_as_json(value: object) -> None:
    """An unknown data type's value goes out and comes back unchanged."""
    wire = v.encode("GPBrandNewType", value)
    assert wire == value
    form = v.to_form(wire)
    if value is None:
        assert form == ""
    elif isinstance(value, str):
        assert form == value
    else:
        assert json.loads(form) == value
    assert v.decode("GPBrandNewType", wire) == value


def test_member_type() -> None:
    """GPMultiValue:<T> gives T."""
    assert v.member_type("GPMultiValue:GPFeatureRecordSetLayer") == "GPFeatureRecordSetLayer"
    assert v.member_type("GPString") is None
