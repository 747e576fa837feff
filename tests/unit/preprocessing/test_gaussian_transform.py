"""The Gaussianising transform: quantiles to a normal, soft monotone tails, exact JSON state."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import stats

from neyman.exceptions import DataError
from neyman.preprocessing import GaussianTransform, transform_from_json


@pytest.fixture(scope="session")
def hostile():
    """Heavy tails, a skewed spectrum, integers, a constant and a near-constant column."""
    rng = np.random.default_rng(7)
    n = 50_000
    near_constant = np.where(rng.random(n) < 0.999, 1.0, 2.0)
    return np.column_stack(
        [
            rng.standard_cauchy(n),
            rng.exponential(50.0, n),
            rng.poisson(4.0, n).astype(float),
            np.full(n, 3.5),
            near_constant,
            rng.lognormal(3.0, 2.0, n),
        ]
    )


def test_continuous_features_become_standard_normal(hostile):
    z = GaussianTransform().fit_transform(hostile)
    for j in (0, 1, 5):  # Cauchy, exponential, log-normal
        assert abs(z[:, j].mean()) < 0.02 and abs(z[:, j].std() - 1) < 0.05
        # a normal's quantiles: the KS distance to N(0, 1) is that of a sample
        assert stats.kstest(z[:, j], "norm").statistic < 0.01
    assert np.all(z[:, 3] == 0.0), "a constant feature maps to 0"
    assert np.ptp(z[:, 4]) > 0 and np.isfinite(z).all()


def test_the_map_is_monotone_everywhere_and_tails_stay_ordered(hostile):
    t = GaussianTransform().fit(hostile)
    grid = np.concatenate([-np.logspace(12, -3, 400), [0.0], np.logspace(-3, 12, 400)])
    z = t.transform(np.column_stack([grid] * hostile.shape[1]))
    assert np.all(np.diff(z, axis=0) >= 0)
    # beyond the training range the tails grow like a logarithm: ordered, but never huge
    assert z[-1, 0] > z[-2, 0] > 3 and z[-1, 0] < 40
    assert z[0, 1] < z[1, 1] and np.abs(z).max() < 40


def test_inverse_and_json_state_round_trip_exactly(hostile):
    t = GaussianTransform(n_quantiles=64).fit(hostile)
    z = t.transform(hostile)
    back = t.inverse_transform(z)
    for j in (0, 1, 5):  # strictly increasing maps invert
        np.testing.assert_allclose(back[:, j], hostile[:, j], rtol=1e-9, atol=1e-9)
    again = transform_from_json(json.loads(json.dumps(t.to_json())))
    assert np.array_equal(again.transform(hostile), z)


def test_integers_map_to_the_mean_normal_quantile_of_their_mass():
    x = np.repeat([0.0, 1.0], [3000, 7000])[:, None]
    z = GaussianTransform().fit_transform(x)
    # P(0) = 0.3: the knots in [0, 0.3] share the mean of Phi^-1 over them (about -1.16)
    assert z[0, 0] == pytest.approx(-1.16, abs=0.03)
    assert z[-1, 0] == pytest.approx(0.5, abs=0.03)


def test_weights_move_the_quantiles_and_negative_ones_count_as_zero():
    x = np.arange(1000.0)[:, None]
    w = np.where(x[:, 0] < 500, 3.0, 1.0)
    median_weighted = GaussianTransform().fit(x, w).inverse_transform(np.zeros((1, 1)))[0, 0]
    assert median_weighted == pytest.approx(333, abs=5)
    w_neg = np.where(x[:, 0] < 500, -1.0, 1.0)
    median_positive = GaussianTransform().fit(x, w_neg).inverse_transform(np.zeros((1, 1)))[0, 0]
    assert median_positive == pytest.approx(750, abs=5)


def test_damaged_state_is_refused():
    state = GaussianTransform().fit(np.random.default_rng(0).normal(size=(100, 2))).to_json()
    state["state"]["knots_"][0] = list(reversed(state["state"]["knots_"][0]))
    with pytest.raises(DataError, match=r"knots must not decrease"):
        transform_from_json(state)
    state["state"]["knots_"] = state["state"]["knots_"][:1]
    with pytest.raises(DataError, match=r"knots_ has shape"):
        transform_from_json(state)
