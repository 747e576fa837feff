"""The axis setup the plots share: array checks, finite points, colour bars, matrix cells."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from neyman.exceptions import DataError
from neyman.plotting.style import (
    class_name,
    colorbar,
    equal_length_arrays,
    figure,
    headroom,
    label_cells,
    matrix_ticks,
    plot_finite,
    square_matrix,
    unit_square,
)


def test_equal_length_arrays_lists_every_shape():
    a, b = equal_length_arrays("a and b", [1, 2], [3, 4])
    assert a.dtype == np.float64 and b.shape == (2,)
    with pytest.raises(DataError, match=r"x, y and z must be .* got shapes \(2,\), \(2,\) and \(1,\)"):
        equal_length_arrays("x, y and z", [1, 2], [1, 2], [1])
    with pytest.raises(DataError, match="a correlation matrix must be square"):
        square_matrix(np.ones((2, 3)), "correlation")


def test_drawing_helpers_set_up_the_axes():
    _, ax = figure()
    plot_finite(ax, np.array([0.0, np.nan, 1.0]), np.array([1.0, 2.0, np.inf]), label="p")
    assert len(ax.lines[0].get_xdata()) == 1
    unit_square(ax, "diagonal")
    assert ax.get_xlim() == (0.0, 1.0) and ax.get_ylim() == (0.0, 1.0)
    headroom(ax, 0.5)
    assert ax.get_ylim() == (0.0, 1.5)
    image = ax.imshow(np.eye(2))
    assert colorbar(ax, image, label="z") is not None
    label_cells(ax, [(0, 1, "x", True)], fontsize=9.0)
    assert ax.texts[0].get_text() == "x" and ax.texts[0].get_color() == "white"
    matrix_ticks(ax, ["a", "b"], rotation=90)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b"]


def test_class_name():
    assert class_name(1, None, True) == "signal"
    assert class_name(np.int64(0), ["bkg", "sig"], True) == "bkg"
    assert class_name(2, None, False) == "class 2"
