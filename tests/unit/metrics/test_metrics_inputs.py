"""The input checks shared by the metrics: one message for one mistake, whichever metric."""

from __future__ import annotations

import numpy as np
import pytest

from neyman.exceptions import DataError
from neyman.metrics.inputs import (
    binary_sample,
    check_length,
    integer_at_least,
    probability_array,
    read_only_array,
)


def test_binary_sample_converts_and_names_the_values_in_length_messages():
    x, y, w = binary_sample([0.5, np.inf], [1, 0], None, allow_inf=True)
    assert x.dtype == np.float64 and y.dtype == np.bool_
    np.testing.assert_array_equal(w, [1.0, 1.0])
    with pytest.raises(DataError, match="labels has 1 entries but train_scores has 2"):
        binary_sample([0.1, 0.2], [1], None, name="train_scores")
    with pytest.raises(DataError, match="NaN or infinite"):
        binary_sample([np.inf], [1], None)


def test_integer_at_least_words_the_minimum():
    assert integer_at_least(np.int64(3), "n", 2) == 3
    with pytest.raises(DataError, match="n must be a positive integer, got 0"):
        integer_at_least(0, "n", 1)
    with pytest.raises(DataError, match="n must be an integer of at least 2, got True"):
        integer_at_least(True, "n", 2)


def test_probability_array_names_the_activation():
    with pytest.raises(DataError, match=r"apply the sigmoid or softmax first"):
        probability_array([[0.2, 1.5]], ndim=2, activation="sigmoid or softmax")
    np.testing.assert_array_equal(probability_array([0.0, 1.0]), [0.0, 1.0])


def test_check_length_and_read_only_array():
    check_length(np.zeros(2), "a", 2, "b")
    with pytest.raises(DataError, match="a has 2 entries but b has 3; they must match"):
        check_length(np.zeros(2), "a", 3, "b")
    frozen = read_only_array([1, 2], np.int64)
    assert frozen.dtype == np.int64 and not frozen.flags.writeable
