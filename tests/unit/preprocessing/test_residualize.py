"""Residualize: features that are almost linear functions of earlier ones become their residuals."""

from __future__ import annotations

import json

import numpy as np
import pytest

from neyman.exceptions import ConfigError, DataError
from neyman.preprocessing import Residualize, transform_from_json


def objects(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Momentum, an unrelated feature and the energy of objects of mass ~20: (matrix, mass)."""
    rng = np.random.default_rng(seed)
    p = 400.0 * np.exp(0.3 * rng.normal(size=n))
    m = 20.0 * np.exp(0.25 * rng.normal(size=n))
    return np.column_stack([p, rng.normal(size=n), np.sqrt(p * p + m * m)]), m


def test_energy_beside_momentum_becomes_a_residual_that_carries_the_mass() -> None:
    x, m = objects(40_000)
    t = Residualize().fit(x)
    assert t.kind_.tolist() == [0, 0, 1]
    y = t.transform(x)
    np.testing.assert_array_equal(y[:, :2], x[:, :2])  # the others exactly as they were
    # E - p = m^2 / (E + p): the residual follows m^2 / p, where the energy itself does not
    assert np.corrcoef(y[:, 2], m * m / x[:, 0])[0, 1] > 0.85
    assert abs(np.corrcoef(x[:, 2], m * m / x[:, 0])[0, 1]) < 0.5


def test_features_without_a_near_linear_relation_are_untouched() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(20_000, 6)) @ rng.normal(size=(6, 6))  # correlated, but each with its own share
    x[:, 4] = np.exp(x[:, 4])
    t = Residualize().fit(x)
    assert not t.kind_.any()
    np.testing.assert_array_equal(t.transform(x), x)


def test_an_exact_combination_is_redundant_and_the_inverse_restores_everything() -> None:
    x, _ = objects(10_000)
    total = (x[:, 0] + 3.0 * x[:, 1])[:, None]
    x = np.hstack([x, total, np.full((len(x), 1), 7.0)])
    t = Residualize().fit(x)
    assert t.kind_.tolist() == [0, 0, 1, 2, 0]  # a constant is kept as it is
    y = t.transform(x)
    assert (y[:, 3] == 0).all()
    np.testing.assert_allclose(t.inverse_transform(y), x, rtol=1e-9, atol=1e-9)


def test_events_of_zero_or_negative_weight_do_not_decide() -> None:
    x, _ = objects(10_000)
    off_line = np.arange(len(x)) % 4 == 0
    x[off_line, 2] = x[off_line, 0] * np.random.default_rng(2).uniform(0.5, 1.5, off_line.sum())
    assert not Residualize().fit(x).kind_.any()
    w = np.where(off_line, -1.0, 1.0)
    assert Residualize().fit(x, w).kind_.tolist() == [0, 0, 1]


def test_state_round_trips_through_json_and_bad_state_is_refused() -> None:
    x, _ = objects(5_000)
    t = Residualize().fit(x)
    again = transform_from_json(json.loads(json.dumps(t.to_json())))
    np.testing.assert_array_equal(again.transform(x), t.transform(x))
    state = t.to_json()
    state["state"]["coef_"][0][2] = 0.5  # a fit on a later feature
    with pytest.raises(DataError, match="lower triangular"):
        transform_from_json(state)


@pytest.mark.parametrize("threshold", [0.0, 1.0, -1e-3])
def test_threshold_outside_zero_one_is_refused(threshold: float) -> None:
    with pytest.raises(ConfigError, match="0 < threshold < 1"):
        Residualize(threshold=threshold).fit(objects(100)[0])
