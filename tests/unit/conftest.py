"""Fixtures of the gp_client tests; the helpers behind them live in tests/unit/helpers.py."""

from tests.unit.helpers import file_host, recording, short_token_server  # noqa: F401
