"""The evaluation figures: each runs on small arrays, labels its axes, saves a PNG and rejects bad input."""

from __future__ import annotations

import math
import sys

import matplotlib
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from neyman.exceptions import DataError
from neyman.metrics import background_rejection, roc_curve
from neyman.plotting import (
    figure,
    hep_style,
    plot_binned_response,
    plot_confusion,
    plot_correlation,
    plot_feature_distributions,
    plot_importance,
    plot_reliability,
    plot_roc_comparison,
    plot_significance,
    save,
)
from neyman.plotting.compare import rejection_on_grid
from neyman.plotting.hepstyle import HEP_STYLES, hep_rc, mplhep_available


def _labelled(ax: Axes) -> None:
    assert isinstance(ax, Axes)
    assert ax.get_xlabel() and ax.get_ylabel()


def _saves_png(fig: Figure | None, tmp_path) -> None:
    assert fig is not None
    (png,) = save(fig, tmp_path / "figure")
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000


def _texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


@pytest.fixture
def binary_scores():
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 2, 600)
    good = rng.normal(1.5 * labels, 1.0)
    poor = rng.normal(0.7 * labels, 1.0)
    return labels, good, poor


# -- confusion -------------------------------------------------------------------------------


def test_plot_confusion_normalises_rows_and_annotates_every_cell(tmp_path):
    matrix = np.array([[90.0, 10.0], [30.0, 70.0]])
    ax = plot_confusion(matrix, ["background", "signal"], normalise="true")
    _labelled(ax)
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    assert _texts(ax) == ["0.90", "0.10", "0.30", "0.70"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["background", "signal"]
    _saves_png(ax.get_figure(), tmp_path)


def test_plot_confusion_by_prediction_raw_and_empty_rows():
    matrix = np.array([[8.0, 2.0, 0.0], [2.0, 6.0, 0.0], [0.0, 0.0, 0.0]])
    assert _texts(plot_confusion(matrix, ["a", "b", "c"], normalise="pred"))[:2] == ["0.80", "0.25"]
    assert _texts(plot_confusion(matrix, ["a", "b", "c"], normalise=None))[:2] == ["8", "2"]
    # The empty class has no fractions: a dash, not a division by zero.
    assert _texts(plot_confusion(matrix, ["a", "b", "c"]))[-3:] == ["–", "–", "–"]


@pytest.mark.parametrize(
    ("matrix", "names", "normalise", "message"),
    [
        (np.ones((2, 3)), ["a", "b"], "true", "must be square"),
        (np.ones((2, 2)), ["a"], "true", "2 classes but 1 class names"),
        (np.ones((2, 2)), ["a", "b"], "rows", "normalise must be one of"),
    ],
)
def test_plot_confusion_rejects_bad_input(matrix, names, normalise, message):
    with pytest.raises(DataError, match=message):
        plot_confusion(matrix, names, normalise=normalise)


# -- significance ------------------------------------------------------------------------------


def test_plot_significance_marks_the_maximum_of_each_curve(tmp_path):
    cuts = np.linspace(0.0, 1.0, 101)
    s, b = 100 * (1 - cuts**2), 1000 * (1 - cuts) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        curves = {"S/√B": s / np.sqrt(b), "S/√(S+B)": s / np.sqrt(s + b)}
    ax = plot_significance(cuts, curves)
    _labelled(ax)
    labels = ax.get_legend_handles_labels()[1]
    best = int(np.nanargmax(np.where(np.isfinite(curves["S/√(S+B)"]), curves["S/√(S+B)"], np.nan)))
    assert labels[1] == f"S/√(S+B): Z = {curves['S/√(S+B)'][best]:.3g} at cut {cuts[best]:.3g}"
    # S/√B is infinite at the last cut (B = 0): not drawn, never the maximum.
    assert np.isfinite(ax.get_ylim()).all()
    _saves_png(ax.get_figure(), tmp_path)


def test_plot_significance_marks_the_given_cut():
    cuts = np.linspace(0.0, 1.0, 11)
    ax = plot_significance(cuts, {"Z": 2 * cuts}, best={"Z": 0.25})
    assert ax.get_legend_handles_labels()[1] == ["Z: Z = 0.5 at cut 0.25"]


def test_plot_significance_rejects_mismatched_shapes():
    with pytest.raises(DataError, match="has shape"):
        plot_significance(np.linspace(0, 1, 5), {"Z": np.ones(4)})
    with pytest.raises(DataError, match="no significance curve"):
        plot_significance(np.linspace(0, 1, 5), {})


# -- calibration ------------------------------------------------------------------------------


def test_plot_reliability_draws_the_diagonal_and_skips_empty_bins(tmp_path):
    predicted = np.array([0.05, 0.15, np.nan, 0.35, 0.45])
    observed = np.array([0.04, 0.18, np.nan, 0.30, 0.50])
    ax = plot_reliability(predicted, observed)
    _labelled(ax)
    diagonal, curve = ax.get_lines()
    assert list(diagonal.get_xdata()) == [0.0, 1.0] and list(diagonal.get_ydata()) == [0.0, 1.0]
    assert len(curve.get_xdata()) == 4
    assert ax.get_xlim() == (0.0, 1.0) and ax.get_ylim() == (0.0, 1.0)
    _saves_png(ax.get_figure(), tmp_path)
    with pytest.raises(DataError, match="equal length"):
        plot_reliability([0.1, 0.2], [0.1])


# -- importance -------------------------------------------------------------------------------


def test_plot_importance_sorts_bars_with_the_largest_on_top(tmp_path):
    values = {"eta": (0.01, 0.002), "pt": (0.20, 0.01), "mass": (0.08, 0.0), "phi": (-0.002, 0.001)}
    fig, ax = figure(figsize=(6.4, 2.6))
    assert plot_importance(values, xlabel="AUC drop", ax=ax) is ax
    _labelled(ax)
    order = [t.get_text() for t in sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1])]
    assert order == ["pt", "mass", "eta", "phi"]
    widths = sorted((bar.get_y(), bar.get_width()) for bar in ax.patches)
    assert [w for _, w in widths] == pytest.approx([-0.002, 0.01, 0.08, 0.20])
    _saves_png(fig, tmp_path)


def test_plot_importance_rejects_bad_values():
    with pytest.raises(DataError, match="no feature importance"):
        plot_importance({})
    with pytest.raises(DataError, match="pair"):
        plot_importance({"pt": 0.3})  # type: ignore[dict-item]


# -- inputs -----------------------------------------------------------------------------------


def test_plot_feature_distributions_normalises_each_class(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 500)
    x = np.column_stack(
        [
            rng.normal(labels, 1.0),
            rng.exponential(1.0 + labels),
            rng.integers(0, 5, 500),  # discrete: one bin per value
            rng.normal(0.0, 1.0, 500),
            rng.uniform(0.0, 1.0, 500),
        ]
    )
    weights = rng.uniform(0.5, 2.0, 500)
    fig = plot_feature_distributions(
        x, labels, ["pt [GeV]", "mass [GeV]", "n", "eta", "u"], sample_weight=weights, class_names=["QCD", "top"]
    )
    assert isinstance(fig, Figure)
    shown = [ax for ax in fig.axes if ax.get_visible()]
    assert len(shown) == 5
    for ax in shown:
        _labelled(ax)
        for stairs in ax.patches[1::2]:  # the outline of each class
            data = stairs.get_data()
            assert np.sum(data.values * np.diff(data.edges)) == pytest.approx(1.0)
    discrete_edges = shown[2].patches[0].get_data().edges
    assert np.allclose(np.diff(discrete_edges), 1.0)
    legend_texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend_texts == ["QCD", "top"]
    _saves_png(fig, tmp_path)


def test_plot_feature_distributions_limits_the_features():
    rng = np.random.default_rng(1)
    fig = plot_feature_distributions(rng.normal(size=(50, 6)), rng.integers(0, 3, 50), list("abcdef"), max_features=2)
    assert [ax.get_xlabel() for ax in fig.axes if ax.get_visible()] == ["a", "b"]
    if hasattr(fig, "get_suptitle"):  # matplotlib >= 3.8
        assert fig.get_suptitle() == "first 2 of 6 features"


@pytest.mark.parametrize(
    ("x", "labels", "names", "message"),
    [
        (np.ones(5), np.zeros(5), ["a"], "n_events, n_features"),
        (np.ones((5, 2)), np.zeros(5), ["a"], "2 features but 1 feature names"),
        (np.ones((5, 1)), np.zeros(4), ["a"], "labels must have shape"),
    ],
)
def test_plot_feature_distributions_rejects_bad_input(x, labels, names, message):
    with pytest.raises(DataError, match=message):
        plot_feature_distributions(x, labels, names)


def test_plot_correlation_writes_percent_and_names_both_axes(tmp_path):
    matrix = np.array([[1.0, 0.5, np.nan], [0.5, 1.0, np.nan], [np.nan, np.nan, np.nan]])
    ax = plot_correlation(matrix, ["pt", "mass", "constant"], title="correlations: signal")
    assert [t.get_text() for t in ax.get_xticklabels()] == ["pt", "mass", "constant"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["pt", "mass", "constant"]
    assert _texts(ax) == ["100", "50", "50", "100"]  # NaN cells stay blank
    assert ax.get_title() == "correlations: signal"
    _saves_png(ax.get_figure(), tmp_path)
    with pytest.raises(DataError, match="must be square"):
        plot_correlation(np.ones((2, 3)), ["a", "b"])


# -- ROC comparison ---------------------------------------------------------------------------


def test_rejection_on_grid_matches_background_rejection(binary_scores):
    labels, good, _ = binary_scores
    roc = roc_curve(good, labels)
    grid = np.array([0.0, 0.013, 0.1, 0.25, 0.5, 0.77, 0.999, 1.0])
    expected = [background_rejection(roc, e) for e in grid]
    assert rejection_on_grid(roc, grid) == pytest.approx(expected)


def test_plot_roc_comparison_ratio_panel(tmp_path, binary_scores):
    labels, good, poor = binary_scores
    rocs = {"good": roc_curve(good, labels), "poor": roc_curve(poor, labels)}
    fig = plot_roc_comparison(rocs, reference="poor")
    main, ratio = fig.axes
    assert main.get_yscale() == "log"
    assert main.get_ylabel() and ratio.get_xlabel() and ratio.get_ylabel()
    assert "poor" in ratio.get_ylabel()
    labels_main = main.get_legend_handles_labels()[1]
    assert labels_main[0].startswith("good, AUC = ") and labels_main[1].startswith("poor (reference), AUC = ")
    good_ratio, poor_ratio = (line for line in ratio.get_lines() if len(line.get_xdata()) > 2)
    assert np.allclose(poor_ratio.get_ydata(), 1.0)
    # The better classifier rejects more background at every efficiency of the bulk.
    x, y = np.asarray(good_ratio.get_xdata()), np.asarray(good_ratio.get_ydata())
    assert np.all(y[(x > 0.2) & (x < 0.9)] > 1.0)
    _saves_png(fig, tmp_path)


def test_plot_roc_comparison_rejects_unknown_reference(binary_scores):
    labels, good, _ = binary_scores
    with pytest.raises(DataError, match="reference 'godo' is not among the curves"):
        plot_roc_comparison({"good": roc_curve(good, labels)}, reference="godo")
    with pytest.raises(DataError, match="no ROC curve"):
        plot_roc_comparison({})


# -- resolution -------------------------------------------------------------------------------


def test_plot_binned_response(tmp_path):
    centres = np.linspace(50.0, 500.0, 10)
    bias = 0.01 * centres - 2.0
    resolution = 5.0 + 0.05 * centres
    resolution[3] = np.nan
    ax = plot_binned_response(centres, bias, resolution, xlabel="true jet pt [GeV]", unit="GeV")
    _labelled(ax)
    assert ax.get_xlabel() == "true jet pt [GeV]" and ax.get_ylabel().endswith("[GeV]")
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert len(lines["bias"].get_xdata()) == 10 and len(lines["resolution"].get_xdata()) == 9
    _saves_png(ax.get_figure(), tmp_path)
    with pytest.raises(DataError, match="equal length"):
        plot_binned_response(centres, bias[:3], resolution, xlabel="x")


# -- HEP style --------------------------------------------------------------------------------


def test_hep_style_is_scoped_to_the_with_block(tmp_path):
    before = dict(matplotlib.rcParams)
    with hep_style() as rc:
        if mplhep_available():
            assert rc["xtick.direction"] == "in" and "figure.figsize" not in rc
            assert matplotlib.rcParams["xtick.direction"] == "in"
            assert rc["font.size"] == pytest.approx(13.0)
        else:
            assert rc == {}
        fig, ax = figure()
        plot_reliability([0.2, 0.8], [0.25, 0.75], ax=ax)
        _saves_png(fig, tmp_path)
    after = dict(matplotlib.rcParams)
    assert {k: v for k, v in after.items() if before.get(k) != v and not _both_nan(before.get(k), v)} == {}


def _both_nan(a: object, b: object) -> bool:
    return isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)


def test_hep_style_is_a_no_op_without_mplhep(monkeypatch):
    monkeypatch.setitem(sys.modules, "mplhep", None)  # makes `import mplhep` fail
    assert not mplhep_available()
    before = matplotlib.rcParams["xtick.direction"]
    with hep_style("CMS") as rc:
        assert rc == {}
        assert matplotlib.rcParams["xtick.direction"] == before


def test_hep_rc_knows_its_styles():
    for style in HEP_STYLES:
        assert isinstance(hep_rc(style), dict)
    with pytest.raises(DataError, match="did you mean 'ATLAS'"):
        hep_rc("ATLSA")


def test_plot_closure_widens_its_ratio_panel_to_show_a_sample_far_from_the_reference():
    from neyman.metrics import compare_histograms, comparison_edges
    from neyman.plotting import plot_closure

    gen = np.random.default_rng(3)
    target, close, far = gen.normal(size=20_000), gen.normal(size=20_000), gen.normal(0.5, size=20_000)
    edges = comparison_edges(close, target)
    near = plot_closure(compare_histograms([("close", close, None), ("target", target, None)], edges), "x")
    assert near.axes[1].get_ylim() == pytest.approx((0.7, 1.3))
    wide = plot_closure(compare_histograms([("far", far, None), ("target", target, None)], edges), "x")
    low, high = wide.axes[1].get_ylim()
    assert low < 0.5 and high > 1.5  # a shift of half a standard deviation moves the ratio by more than 50 %
