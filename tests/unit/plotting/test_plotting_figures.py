"""Every plot runs on small data, labels its axes and returns its Axes; saving is atomic."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from matplotlib.axes import Axes

from neyman.exceptions import DataError
from neyman.metrics import roc_curve
from neyman.plotting import (
    figure,
    plot_history,
    plot_pulls,
    plot_response,
    plot_roc,
    plot_scores,
    save,
)


def _labelled(ax: Axes) -> None:
    assert isinstance(ax, Axes)
    assert ax.get_xlabel() and ax.get_ylabel()


@pytest.fixture
def binary_sample():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 400)
    scores = 1 / (1 + np.exp(-rng.normal(loc=2.0 * labels - 1.0)))
    weights = rng.uniform(0.5, 1.5, 400)
    return scores, labels, weights


def test_plot_history_marks_best_epoch():
    history = {
        "epoch": [1, 2, 3, 4],
        "train_loss": [0.9, 0.6, 0.5, 0.45],
        "val_loss": [1.0, 0.7, 0.65, 0.8],
        "val_auc": [0.7, 0.8, 0.85, 0.84],
        "lr": [1e-3] * 4,
        "seconds": [1.0] * 4,
    }
    ax = plot_history(history)
    _labelled(ax)
    labels = ax.get_legend_handles_labels()[1]
    assert {"train_loss", "val_loss"} <= set(labels)
    assert "best epoch (3)" in labels
    assert "lr" not in labels
    legend_texts = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "val_auc" in legend_texts


def test_plot_history_without_validation_and_on_given_axes():
    _, ax = figure()
    out = plot_history({"train_loss": [1.0, 0.5]}, ax=ax)
    assert out is ax
    _labelled(ax)
    with pytest.raises(DataError, match="no per-epoch curve"):
        plot_history({"epoch": [1, 2], "lr": [0.1, 0.1]})


def test_plot_scores_with_training_overlay(binary_sample):
    scores, labels, weights = binary_sample
    ax = plot_scores(
        scores[:200],
        labels[:200],
        sample_weight=weights[:200],
        class_names=["QCD", "top"],
        bins=20,
        train_scores=scores[200:],
        train_labels=labels[200:],
        train_weight=weights[200:],
    )
    _labelled(ax)
    labels_drawn = ax.get_legend_handles_labels()[1]
    assert {"QCD (test)", "top (test)", "QCD (train)", "top (train)"} <= set(labels_drawn)


def test_plot_scores_histograms_are_normalised(binary_sample):
    scores, labels, weights = binary_sample
    ax = plot_scores(scores, labels, sample_weight=weights, bins=np.linspace(0, 1, 11))
    # One filled and one outline StepPatch per class; each has unit area.
    for patch in ax.patches[::2]:
        values, edges, _ = patch.get_data()
        assert np.sum(values * np.diff(edges)) == pytest.approx(1.0)
    assert {"background (test)", "signal (test)"} <= set(ax.get_legend_handles_labels()[1])


@pytest.mark.parametrize("kind", ["rejection", "classic"])
def test_plot_roc(binary_sample, kind):
    scores, labels, weights = binary_sample
    rocs = {
        "weighted": roc_curve(scores, labels, sample_weight=weights),
        "unweighted": roc_curve(scores, labels),
    }
    ax = plot_roc(rocs, kind=kind)
    _labelled(ax)
    legend = ax.get_legend_handles_labels()[1]
    assert any(text.startswith("weighted (AUC = 0.") for text in legend)
    assert ax.get_yscale() == ("log" if kind == "rejection" else "linear")


def test_plot_roc_single_curve_and_bad_kind(binary_sample):
    scores, labels, _ = binary_sample
    roc = roc_curve(scores, labels)
    _labelled(plot_roc(roc))
    with pytest.raises(DataError, match=r"unknown ROC plot kind 'rejections'.*did you mean"):
        plot_roc(roc, kind="rejections")


def test_plot_pulls_and_response():
    rng = np.random.default_rng(1)
    truth = rng.uniform(50.0, 150.0, 500)
    sigma = rng.uniform(2.0, 10.0, 500)
    pred = truth + sigma * rng.normal(size=500)
    ax = plot_pulls((pred - truth) / sigma, sample_weight=np.ones(500))
    _labelled(ax)
    assert "unit Gaussian" in ax.get_legend_handles_labels()[1]
    ax = plot_response(pred, truth, quantity="jet mass", unit="GeV", bins=20)
    _labelled(ax)
    assert ax.get_xlabel() == "true jet mass [GeV]"
    assert ax.get_ylabel() == "predicted jet mass [GeV]"


def test_save_writes_png_atomically(tmp_path):
    fig, ax = figure()
    plot_history({"train_loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}, ax=ax)
    written = save(fig, tmp_path / "plots" / "loss.v1", formats=("png", "pdf"))
    assert written == [tmp_path / "plots" / "loss.v1.png", tmp_path / "plots" / "loss.v1.pdf"]
    png = written[0].read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 1000
    assert written[1].read_bytes().startswith(b"%PDF")
    assert sorted(p.name for p in (tmp_path / "plots").iterdir()) == ["loss.v1.pdf", "loss.v1.png"]


def test_save_rejects_unknown_format(tmp_path):
    fig, _ = figure()
    with pytest.raises(DataError, match="cannot save a figure as 'jpgg'"):
        save(fig, tmp_path / "x", formats=("jpgg",))
    assert list(tmp_path.iterdir()) == []


def test_save_closes_a_pyplot_figure(tmp_path):
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    plot_pulls(np.random.default_rng(2).normal(size=100), ax=ax)
    assert fig.number in plt.get_fignums()
    save(fig, tmp_path / "pulls")
    assert fig.number not in plt.get_fignums()
    assert (tmp_path / "pulls.png").stat().st_size > 0


def test_decorrelation_plane_draws_one_line_per_method_and_skips_unusable_points(tmp_path):
    from neyman.plotting import plot_decorrelation_plane, save

    fig = plot_decorrelation_plane(
        {
            "disco": [(110.0, 1.8, "λ=10"), (37.0, 9.8, "λ=30"), (8.0, 111.0, "λ=100")],
            "DDT": [(7.2, 14.3, "")],
            "empty": [(float("inf"), 2.0, ""), (0.0, 1.0, "")],
        }
    )
    ax = fig.axes[0]
    assert [line.get_label() for line in ax.get_lines()] == ["disco", "DDT"]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    assert len(ax.texts) == 3
    assert save(fig, tmp_path / "plane")[0].is_file()
