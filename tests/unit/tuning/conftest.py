"""Fixtures of the tuning tests."""

import pytest


@pytest.fixture(autouse=True)
def _quiet(quiet_optuna: None) -> None:
    """Every tuning test runs with Optuna's per-trial logging off."""
