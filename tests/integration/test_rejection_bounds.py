"""A rejection with no background passing is a lower bound (``> N``), never ``inf``: metrics, JSON, tables, report."""

from __future__ import annotations

import json

import numpy as np
import pytest

import neyman
from neyman import io, metrics
from neyman.cli.main import main
from neyman.exceptions import NeymanWarning
from neyman.table import EVENT_ID, LABEL, WEIGHT, Table
from neyman.workflows.evaluate import evaluate


def test_bounded_rejection_is_the_background_count_for_a_perfect_classifier():
    labels = np.repeat([0, 1], [400, 100])
    scores = labels + np.random.default_rng(1).uniform(0, 0.5, 500)
    roc = metrics.roc_curve(scores, labels)
    assert np.isinf(metrics.background_rejection(roc, 0.3))
    assert metrics.bounded_rejection(roc, 0.3) == (pytest.approx(400.0), True)
    assert metrics.rejection_text(*metrics.bounded_rejection(roc, 0.3)) == "> 400"
    weighted = metrics.roc_curve(scores, labels, sample_weight=np.where(labels == 0, 2.0, 1.0))
    assert metrics.rejection_limit(weighted) == pytest.approx(400.0)  # 1 / (2 / 800)
    overlap = metrics.roc_curve(np.r_[scores, 1.6], np.r_[labels, 0])  # one background above every signal
    value, is_bound = metrics.bounded_rejection(overlap, 0.5)
    assert not is_bound and np.isfinite(value)


def test_a_rejection_beyond_the_first_background_event_is_a_bound_and_weights_of_any_scale_agree():
    # 32 background events, the hardest tied with the fifth signal event: the curve steps from (0.4, 0) to
    # (0.5, 1/32), and at ε_S = 0.45 the interpolation would claim 1/ε_B = 64, more than 32 events resolve
    signal = np.linspace(1.0, 0.91, 10)
    labels = np.repeat([0, 1], [32, 10])
    scores = np.r_[np.linspace(0.0, 0.5, 31), signal[4], signal]
    roc = metrics.roc_curve(scores, labels)
    assert metrics.background_rejection(roc, 0.45) == pytest.approx(64.0)
    assert metrics.bounded_rejection(roc, 0.45) == (pytest.approx(32.0), True)
    assert metrics.bounded_rejection(roc, 0.5) == (pytest.approx(32.0), False)  # resolved: one event passes
    # a working point on a point of the curve stays there whatever the weights' scale: ε_S = 0.5 is 7 of 14
    # signal events, reached before any background passes (summed at 1e30 or 0.3 each, 7/14 rounds below 0.5)
    signal = np.linspace(1.0, 0.87, 14)
    labels = np.repeat([0, 1], [32, 14])
    scores = np.r_[np.linspace(0.0, 0.5, 30), 0.935, 0.925, signal]
    rejections = {
        scale: metrics.bounded_rejection(metrics.roc_curve(scores, labels, sample_weight=np.full(46, scale)), 0.5)
        for scale in (0.3, 1.0, 1e30)
    }
    assert rejections[1.0] == (pytest.approx(32.0), True)
    for scale in (0.3, 1e30):
        assert rejections[scale] == (pytest.approx(rejections[1.0][0], rel=1e-12), rejections[1.0][1])


def test_a_separable_sample_reports_bounds_everywhere(tmp_path, capsys):
    gen = np.random.default_rng(0)
    n = 3000
    label = (np.arange(n) % 2).astype(np.int64)
    table = Table(
        {
            "x": label * 10.0 + gen.normal(size=n),
            "y": gen.normal(size=n),
            LABEL: label,
            WEIGHT: np.ones(n),
            EVENT_ID: np.arange(n, dtype=np.int64),
        }
    )
    path = tmp_path / "separable.parquet"
    io.write(table, path)
    cfg = {
        "name": "sep",
        "output_dir": str(tmp_path / "runs"),
        "data": {"sources": [{"path": str(path)}], "label_column": LABEL, "features": ["x", "y"]},
        "model": {"type": "logistic"},
    }
    with pytest.warns(NeymanWarning, match=r"'x' \(class 'signal': AUC 1\.0000 on its own\)"):
        run = neyman.train(cfg)  # rightly taken for a feature derived from the label
    test = run.metrics["test"]
    n_background = int(test["n_events"] - round(test["sum_weights"] / 2))  # balanced halves
    assert test["rejection_at_eff_0.3_is_bound"] == 1.0
    assert abs(test["rejection_at_eff_0.3"] - n_background) <= n_background * 0.1
    text = (run.run_dir / "metrics.json").read_text()
    assert "inf" not in text.lower()
    r = evaluate(run.run_dir, n_bootstrap=5)
    assert r.metrics["rejection@eS=0.3_is_bound"] == 1.0
    assert "inf" not in json.dumps(r.metrics).lower()
    assert r.report is not None
    html = r.report.read_text()
    assert "&gt; " in html and ">inf<" not in html
    args = ["train", "--data", str(path), "--label-column", LABEL, "--features", "x,y", "--model", "logistic"]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--output-dir", str(tmp_path / "cli")])
    printed = capsys.readouterr().out
    assert exit_info.value.code in (0, None)
    assert "> " in printed and "inf" not in printed
