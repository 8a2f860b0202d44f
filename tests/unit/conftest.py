"""Fixtures of the gp_client tests; the helpers behind them live in tests/unit/helpers.py."""

from tests.unit.helpers import (  # noqa: F401
    file_host,
    org,
    recording,
    short_org,
    short_token_server,
)
