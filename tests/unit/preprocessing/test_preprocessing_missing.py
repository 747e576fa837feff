from __future__ import annotations

import re

import numpy as np
import pytest

from neyman.exceptions import ConfigError, DataError
from neyman.preprocessing import check_finite, marker_values
from neyman.table import Table


def matrix() -> np.ndarray:
    return np.array(
        [
            [1.0, np.nan, 3.0, 0.0],
            [np.inf, np.nan, 3.0, 1.0],
            [-np.inf, 2.0, 3.0, np.inf],
        ]
    )


def test_error_names_every_column_with_counts() -> None:
    with pytest.raises(DataError) as info:
        check_finite(matrix(), ["pt", "eta", "phi", "mass"], source="sample.root")
    message = str(info.value)
    assert "sample.root" in message
    assert "'pt': 0 NaN, 1 +inf, 1 -inf" in message
    assert "'eta': 2 NaN, 0 +inf, 0 -inf" in message
    assert "'mass': 0 NaN, 1 +inf, 0 -inf" in message
    assert "'phi'" not in message
    assert "fill_value" in message
    assert "cut" in message


def test_fill_replaces_and_does_not_mutate() -> None:
    x = matrix()
    out = check_finite(x, ["pt", "eta", "phi", "mass"], fill_value=-999.0)
    assert np.isfinite(out).all()
    assert (out == -999.0).sum() == 5
    np.testing.assert_array_equal(out[:, 2], 3.0)
    assert np.isnan(x[0, 1])  # input untouched


def test_finite_input_passes_and_table_input() -> None:
    t = Table({"a": np.array([1.0, 2.0]), "b": np.array([np.nan, 1.0])}, source="f.parquet")
    np.testing.assert_array_equal(check_finite(t, ["a"]), [[1.0], [2.0]])
    with pytest.raises(DataError, match=r"f\.parquet.*'b': 1 NaN"):
        check_finite(t, ["a", "b"])
    np.testing.assert_array_equal(check_finite(t, ["b"], fill_value=0.0), [[0.0], [1.0]])


def test_bad_arguments() -> None:
    with pytest.raises(DataError, match="2 feature names"):
        check_finite(np.zeros((3, 4)), ["a", "b"])
    with pytest.raises(ConfigError, match="finite"):
        check_finite(matrix(), None, fill_value=float("nan"))
    with pytest.raises(DataError, match="feature 1: 2 NaN"):
        check_finite(matrix(), None)


def test_markers_for_undefined_values_are_told_from_measured_pile_ups():
    gen = np.random.default_rng(0)
    n = 50_000
    mass = gen.gamma(3.0, 40.0, n)
    mass[gen.random(n) < 0.15] = -999.0  # the ATLAS Higgs challenge's undefined mass
    saturated = np.minimum(gen.normal(100.0, 10.0, n), 400.0)
    saturated[gen.random(n) < 0.02] = 4095.0  # an ADC's overflow value
    columns = {
        "mass": mass,
        "saturated": saturated,
        "clipped_at_zero": np.maximum(gen.normal(50.0, 30.0, n), 0.0),  # a pile-up at the physical edge
        "flag": gen.integers(0, 2, n).astype(float),
        "multiplicity": gen.poisson(3.0, n).astype(float),
        "cauchy": gen.standard_cauchy(n),
        "rare": np.where(gen.random(n) < 0.005, -999.0, gen.normal(size=n)),  # below the share of a marker
    }
    found = marker_values(np.column_stack(list(columns.values())), list(columns))
    assert len(found) == 2
    assert re.fullmatch(
        r"'mass' holds -999 in 1[45]\.\d% of events, 1\d standard deviations below its other values", found[0]
    )
    assert re.match(r"'saturated' holds 4095 in 2\.\d% of events, \d+ standard deviations above", found[1])
