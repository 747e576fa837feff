"""The train and predict workflows on real files in every format."""

import json
import re
import warnings

import numpy as np
import pytest
import yaml

import neyman
from neyman import io
from neyman.config import load_config
from neyman.exceptions import ConfigError, DataError, NeymanWarning, RunDirectoryError
from neyman.metrics import roc_auc
from neyman.runs import load_run
from neyman.table import EVENT_ID, LABEL, SPLIT, WEIGHT, Table
from neyman.testing import (
    EXTENSIONS,
    gaussian_regression_dataset,
    likelihood_ratio_dataset,
    multiclass_dataset,
    write_labelled_file,
    write_signal_background,
)
from neyman.workflows.evaluate import evaluate

FEATURES = [f"x{i:02d}" for i in range(6)]
FAST_MLP = {"type": "mlp", "hidden": [32, 32]}
FAST_TRAINING = {"epochs": 4, "batch_size": 256, "progress": False}


def _config(tmp_path, sources, **extra):
    cfg = {"output_dir": str(tmp_path / "runs"), "data": {"sources": sources, "features": FEATURES}}
    for key, value in extra.items():
        if key == "data":
            cfg["data"].update(value)
        else:
            cfg[key] = value
    return cfg


@pytest.mark.parametrize("fmt", sorted(EXTENSIONS))
def test_signal_background_files_in_every_format(tmp_path, fmt):
    sig, bkg = write_signal_background(tmp_path, fmt, n_events=3000)
    src = [{"path": str(sig), "label": "signal"}, {"path": str(bkg), "label": "background"}]
    if fmt == "root":
        src = [
            {"path": f"{sig}:events", "label": "signal"},
            {"path": f"{bkg}:events", "label": "background"},
        ]
    result = neyman.train(_config(tmp_path, src, name=fmt, model={"type": "logistic"}))
    run = result.run_dir
    for name in (
        "config.yaml",
        "model/metadata.json",
        "model/model.json",
        "preprocessing.json",
        "predictions.parquet",
        "metrics.json",
        "status.json",
    ):
        assert (run / name).is_file(), name
    assert (run / "plots" / "roc.png").stat().st_size > 1000
    assert (run / "plots" / "scores.png").is_file()
    m = json.loads((run / "metrics.json").read_text())
    assert 0.7 < m["test"]["auc"] < 1.0
    preds = io.read(run / "predictions.parquet")
    assert set(preds.column_names) >= {EVENT_ID, SPLIT, "fold", LABEL, WEIGHT, "score"}
    assert len(preds) == 3000
    meta = json.loads((run / "model" / "metadata.json").read_text())
    assert meta["features"] == FEATURES and meta["classes"] == ["background", "signal"]
    assert "torch" in meta["versions"] or "xgboost" in meta["versions"]


def test_mlp_label_column_splits_history_and_predict_round_trip(tmp_path):
    path = write_labelled_file(tmp_path, "parquet", n_events=4000)
    cfg = _config(
        tmp_path,
        [{"path": str(path)}],
        name="mlp",
        model=FAST_MLP,
        training=FAST_TRAINING,
        data={"label_column": LABEL, "event_id": EVENT_ID},
        split={"method": "parity", "train": 0.75, "val": 0.25, "test": 0.0},
    )
    result = neyman.train(cfg)
    preds = io.read(result.run_dir / "predictions.parquet")
    test = np.asarray(preds[SPLIT]) == 2
    assert np.all(np.asarray(preds[EVENT_ID])[test] % 2 == 1)  # parity: odd events are the test set
    history = (result.run_dir / "history.csv").read_text().splitlines()
    assert history[0].startswith("epoch,train_loss") and len(history) == 5
    assert (result.run_dir / "checkpoints" / "last.safetensors").is_file()
    # applying the saved run to the same file reproduces the training-time scores of the training and
    # test events; the small sample was refitted on train + val, so the validation events keep the
    # scores of the fit that chose the refit's budget (out of sample), which the saved model does not give
    out = neyman.predict(result.run_dir, path, tmp_path / "scored.parquet", step_size=700)
    scored = io.read(out.output)
    assert len(scored) == 4000 and set(scored.column_names) >= {*FEATURES, "score", "true_log_lr"}
    order = np.argsort(np.asarray(preds[EVENT_ID]))
    again, before = np.asarray(scored["score"]), np.asarray(preds["score"])[order]
    kept = np.asarray(preds[SPLIT])[order] != 1
    assert np.allclose(again[kept], before[kept], rtol=1e-5, atol=1e-6)
    assert not np.allclose(again[~kept], before[~kept], rtol=1e-5, atol=1e-6)


def test_kfold_out_of_fold_scores_and_predict_uses_the_right_fold(tmp_path):
    path = write_labelled_file(tmp_path, "parquet", n_events=3000)
    cfg = _config(
        tmp_path,
        [{"path": str(path)}],
        name="kf",
        model={"type": "fisher"},
        split={"kfold": 3},
        data={"label_column": LABEL, "event_id": EVENT_ID},
    )
    result = neyman.train(cfg)
    m = result.metrics
    assert len(m["folds"]) == 3 and m["folds_summary"]["auc"]["std"] >= 0
    preds = io.read(result.run_dir / "predictions.parquet")
    assert np.array_equal(np.asarray(preds["fold"]), np.asarray(preds[EVENT_ID]) % 3)
    assert (result.run_dir / "model" / "fold_2" / "coefficients.json").is_file()
    out = neyman.predict(result.run_dir, path, tmp_path / "kf.parquet")
    scored = io.read(out.output)
    assert np.allclose(np.asarray(scored["score"]), np.asarray(preds["score"]), rtol=1e-9)
    # the three fold models really differ, so the match above is not trivial
    from neyman.runs import load_run

    run = load_run(result.run_dir)
    x = run.matrix(scored)
    a = run.models[0].predict(run.preprocessors[0].transform(x))
    b = run.models[1].predict(run.preprocessors[1].transform(x))
    assert not np.allclose(a, b)
    # a copy under another name is the training's file (its content): scored by fold, never by the
    # ensemble of models that trained on its events (which scored it AUC 0.86 against 0.69 out of fold)
    copy = tmp_path / "copy.parquet"
    copy.write_bytes(path.read_bytes())
    assert run.trained_on(path) and run.trained_on(copy)
    again = io.read(neyman.predict(result.run_dir, copy, tmp_path / "copy-scored.parquet").output)
    np.testing.assert_allclose(np.asarray(again["score"]), np.asarray(scored["score"]), rtol=1e-9)
    # so is a skim that keeps the event ids (other bytes): each event by the model of its id's fold
    events = io.read(path)
    skim = io.write(events.take(np.arange(0, len(events), 2)), tmp_path / "skim.parquet")
    assert not run.trained_on(skim)
    skimmed = io.read(neyman.predict(result.run_dir, skim, tmp_path / "skim-scored.parquet").output)
    np.testing.assert_allclose(np.asarray(skimmed["score"]), np.asarray(scored["score"])[::2], rtol=1e-9)
    # a new file without the run's event ids gets the k-fold ensemble
    bare = io.write(Table({n: events[n] for n in events.column_names if n != EVENT_ID}), tmp_path / "new.parquet")
    ensemble = io.read(neyman.predict(result.run_dir, bare, tmp_path / "new-scored.parquet").output)
    raw = np.mean([m.predict_raw(p.transform(x)) for m, p in zip(run.models, run.preprocessors, strict=True)], axis=0)
    np.testing.assert_allclose(np.asarray(ensemble["score"]), run.task.scores(raw), rtol=1e-5)
    assert not np.allclose(np.asarray(ensemble["score"]), np.asarray(scored["score"]))
    meta = json.loads((result.run_dir / "model" / "metadata.json").read_text())
    assert meta["sources"][0]["absolute"] == str(path.resolve()) and meta["sources"][0]["bytes"] == path.stat().st_size


def test_weights_scale_selection_and_negative_weights(tmp_path):
    table = likelihood_ratio_dataset(4000, n_features=6, seed=5)
    gen = np.random.default_rng(0)
    w = np.where(gen.random(4000) < 0.1, -0.3, 1.0)
    io.write(table.with_column("w", w), tmp_path / "mc.parquet")
    cfg = _config(
        tmp_path,
        [{"path": str(tmp_path / "mc.parquet"), "scale": 2.5}],
        name="neg",
        model={"type": "lightgbm", "n_estimators": 30},
        data={"label_column": LABEL, "weight": "w", "selection": ["x00 > 20", "abs(x01) < 4"]},
    )
    result = neyman.train(cfg)
    preds = io.read(result.run_dir / "predictions.parquet")
    kept = (np.asarray(table["x00"]) > 20) & (np.abs(np.asarray(table["x01"])) < 4)
    assert len(preds) == kept.sum()
    assert np.allclose(np.sort(np.asarray(preds[WEIGHT])), np.sort(2.5 * w[kept]))
    assert result.metrics["test"]["sum_weights"] < result.metrics["test"]["n_events"] * 2.5


def test_weights_that_cancel_most_of_a_class_are_warned_about(tmp_path):
    """45 % of the events at w = -1: an effective sample of a few events, and metrics out of range."""
    table = likelihood_ratio_dataset(3000, n_features=6, seed=5)
    w = np.where(np.random.default_rng(0).random(3000) < 0.45, -1.0, 1.0)
    io.write(table.with_column("w", w), tmp_path / "nlo.parquet")
    cfg = _config(
        tmp_path,
        [{"path": str(tmp_path / "nlo.parquet")}],
        name="cancel",
        model={"type": "lightgbm", "n_estimators": 10},
        data={"label_column": LABEL, "weight": "w"},
    )
    with pytest.warns(NeymanWarning, match=r"class .*: negative weights cancel 8\d% .*effective sample of \d+ of"):
        neyman.train(cfg)


def test_a_weight_column_no_option_names_is_named(tmp_path):
    """'weight' is reserved (never a feature) and weighs events only when named: it was ignored silently."""
    table = likelihood_ratio_dataset(2000, n_features=6, seed=5)
    weights = np.exp(np.random.default_rng(1).normal(size=len(table)))
    io.write(table.with_column(WEIGHT, weights), tmp_path / "weighted.parquet")
    cfg = _config(
        tmp_path, [{"path": str(tmp_path / "weighted.parquet")}], name="unnamed-weight", model={"type": "fisher"},
        data={"label_column": LABEL, "features": FEATURES},
    )  # fmt: skip
    with pytest.warns(
        NeymanWarning, match=r"weighted\.parquet has a column 'weight' \(e\.g\. [\d.]+\), which weighs no"
    ):
        unweighted = neyman.train(cfg)
    assert unweighted.metrics["test"]["sum_weights"] == unweighted.metrics["test"]["n_events"]
    cfg["data"]["weight"] = WEIGHT
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        weighted = neyman.train(cfg, force=True)
    assert weighted.metrics["test"]["sum_weights"] != weighted.metrics["test"]["n_events"]


def test_metrics_that_negative_weights_put_out_of_range_are_named(tmp_path):
    """A quarter of the background at w = -1 in its signal-like tail: too few to trip the cancelling warning."""
    train = likelihood_ratio_dataset(3000, n_features=6, seed=5)
    io.write(train.with_column("w", np.ones(len(train))), tmp_path / "train.parquet")
    test = likelihood_ratio_dataset(3000, n_features=6, seed=6)
    label, x = np.asarray(test[LABEL]), np.asarray(test["true_log_lr"])
    tail = (label == 0) & (x > np.quantile(x[label == 0], 0.75))
    io.write(test.with_column("w", np.where(tail, -1.0, 1.0)), tmp_path / "test.parquet")
    cfg = _config(
        tmp_path, [{"path": str(tmp_path / "train.parquet")}], name="neg-tail", model={"type": "fisher"},
        data={"label_column": LABEL, "features": FEATURES, "weight": "w"},
    )  # fmt: skip
    run = neyman.train(cfg).run_dir
    with pytest.warns(
        NeymanWarning, match=r"negative weights of the test events put .*specificity = 1\.\d+.* outside \["
    ):
        numbers = evaluate(run, test_data=[str(tmp_path / "test.parquet")], n_bootstrap=5, report=False).metrics
    assert numbers["confusion"]["specificity"] > 1 and "confusion.specificity" in numbers["out_of_range"]


def test_multiclass_with_discriminant(tmp_path):
    t = multiclass_dataset(3000, n_features=6, seed=1)
    io.write(t, tmp_path / "mc.parquet")
    cfg = _config(
        tmp_path,
        [{"path": str(tmp_path / "mc.parquet")}],
        name="mc",
        model={"type": "xgboost", "n_estimators": 40},
        task={
            "type": "multiclass",
            "discriminant": {"signal": "higgs", "backgrounds": {"top": 0.3, "qcd": 0.7}},
        },
        data={"label_column": LABEL, "classes": ["qcd", "top", "higgs"]},
    )
    result = neyman.train(cfg)
    assert result.metrics["test"]["accuracy"] > 0.45
    assert set(result.metrics["discriminant"]) == {"auc_higgs_vs_top", "auc_higgs_vs_qcd"}
    preds = io.read(result.run_dir / "predictions.parquet")
    assert {"score_qcd", "score_top", "score_higgs", "discriminant"} <= set(preds.column_names)


def test_gaussian_regression_writes_pulls(tmp_path):
    io.write(gaussian_regression_dataset(4000, seed=2), tmp_path / "reg.parquet")
    cfg = _config(
        tmp_path,
        [{"path": str(tmp_path / "reg.parquet")}],
        name="gauss",
        model=FAST_MLP,
        training={**FAST_TRAINING, "epochs": 8},
        task={"type": "gaussian"},
        data={"target": "target", "features": ["x00", "x01", "x02", "x03"]},
    )
    result = neyman.train(cfg)
    test = result.metrics["test"]
    for key in ("mse", "bias", "resolution", "pull_mean", "pull_width", "coverage_68"):
        assert key in test
    assert 0.6 < test["pull_width"] < 1.6
    assert (result.run_dir / "plots" / "pulls.png").is_file()
    preds = io.read(result.run_dir / "predictions.parquet")
    assert (np.asarray(preds["sigma"]) > 0).all()


@pytest.mark.parametrize("unit", [1e6, 1e-6])
def test_gaussian_regression_sigma_follows_the_targets_units(tmp_path, unit):
    """σ is bounded in units of the standardised target: a target in other units scales σ, not the pulls."""
    table = gaussian_regression_dataset(3000, seed=2)
    scaled = Table(
        {**{c: np.asarray(table[c]) for c in table.column_names}, "target": unit * np.asarray(table["target"])}
    )
    results = {}
    for name, t in (("plain", table), ("scaled", scaled)):
        io.write(t, tmp_path / f"{name}.parquet")
        cfg = _config(
            tmp_path,
            [{"path": str(tmp_path / f"{name}.parquet")}],
            name=name,
            model=FAST_MLP,
            training={**FAST_TRAINING, "epochs": 4},
            task={"type": "gaussian"},
            data={"target": "target", "features": ["x00", "x01", "x02", "x03"]},
        )
        results[name] = neyman.train(cfg)
    sigma = {k: np.asarray(io.read(r.run_dir / "predictions.parquet")["sigma"]) for k, r in results.items()}
    np.testing.assert_allclose(sigma["scaled"] / unit, sigma["plain"], rtol=1e-3)
    plain, other = results["plain"].metrics["test"], results["scaled"].metrics["test"]
    assert other["pull_width"] == pytest.approx(plain["pull_width"], rel=1e-3)
    assert other["coverage_68"] == pytest.approx(plain["coverage_68"], abs=1e-3)


def test_uci_susy_layout_with_named_feature_set(tmp_path):
    from neyman.io.datasets import FEATURE_SETS

    names = FEATURE_SETS["uci-susy"]["all"]
    gen = np.random.default_rng(0)
    label = gen.integers(0, 2, 1500)
    cols = {LABEL: label.astype(np.float64)}
    for i, n in enumerate(names):
        cols[n] = gen.normal(size=1500) + 0.4 * label * (i % 3 == 0)
    io.write(Table(cols), tmp_path / "SUSY.csv", format="uci-susy")
    cfg = {
        "output_dir": str(tmp_path / "runs"),
        "name": "susy",
        "data": {
            "sources": [{"path": str(tmp_path / "SUSY.csv")}],
            "format": "uci-susy",
            "features": "high-level",
            "label_column": LABEL,
        },
        "model": {"type": "fisher"},
    }
    result = neyman.train(cfg)
    assert result.metrics["features"] == FEATURE_SETS["uci-susy"]["high-level"]


def _cut(base, interrupt_training, after):
    """Train ``base`` as run ``cut``, interrupted right after its ``after``-th checkpoint."""
    disarm = interrupt_training(after)
    with pytest.raises(KeyboardInterrupt):
        neyman.train({**base, "name": "cut"})
    disarm()


def _same_scores(a, b):
    one, other = (np.asarray(io.read(run / "predictions.parquet")["score"]) for run in (a, b))
    assert np.array_equal(one, other)


def test_resume_after_interruption_matches_uninterrupted_run(tmp_path, interrupt_training):
    path = write_labelled_file(tmp_path, "parquet", n_events=3000)
    base = _config(
        tmp_path,
        [{"path": str(path)}],
        model=FAST_MLP,
        training={**FAST_TRAINING, "epochs": 5},
        data={"label_column": LABEL},
    )
    full = neyman.train({**base, "name": "full"})
    _cut(base, interrupt_training, 3)
    cut = tmp_path / "runs" / "cut"
    assert json.loads((cut / "status.json").read_text())["state"] == "failed"
    with pytest.raises(RunDirectoryError, match=r"--resume"):
        neyman.train({**base, "name": "cut"})
    # while another process trains it, the run is not resumed (both wrote one folder: a config of one, a
    # model of the other)
    import subprocess
    import sys

    status = (cut / "status.json").read_text()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (cut / "status.json").write_text(json.dumps({"state": "running", "pid": other.pid, "made_by": "train"}))
        with pytest.raises(RunDirectoryError, match=rf"is being trained now by process {other.pid}"):
            neyman.train(resume=cut)
    finally:
        other.kill()
        other.wait()
    (cut / "status.json").write_text(status)
    _same_scores(full.run_dir, neyman.train(resume=cut).run_dir)


def test_an_interrupted_replacement_says_where_it_is_left(tmp_path, interrupt_training):
    """Ctrl-C in a --force: the earlier run stays, and the hidden folder of the stopped one is named (it was not)."""
    path = write_labelled_file(tmp_path, "parquet", n_events=3000)
    base = _config(
        tmp_path, [{"path": str(path)}], name="kept", model=FAST_MLP, training={**FAST_TRAINING, "epochs": 5},
        data={"label_column": LABEL},
    )  # fmt: skip
    first = neyman.train(base)
    before = (first.run_dir / "predictions.parquet").read_bytes()
    disarm = interrupt_training(2)
    left = r"runs/kept is unchanged; the stopped training that was to replace it is left in .*/runs/\.kept\.new-\d+"
    with pytest.raises(KeyboardInterrupt), pytest.warns(NeymanWarning, match=left):
        neyman.train(base, force=True)
    disarm()
    assert (first.run_dir / "predictions.parquet").read_bytes() == before


def test_a_kfold_run_interrupted_after_a_finished_fold_resumes_to_the_same_scores(tmp_path, interrupt_training):
    """Cut in fold 1 (fold 0 done, its model saved): the resumed run reloads fold 0 and matches the whole run."""
    path = write_labelled_file(tmp_path, "parquet", n_events=1500)
    base = _config(
        tmp_path,
        [{"path": str(path)}],
        model=FAST_MLP,
        training={**FAST_TRAINING, "epochs": 2, "refit": False},
        data={"label_column": LABEL},
        split={"kfold": 3},
    )
    full = neyman.train({**base, "name": "full"})
    _cut(base, interrupt_training, 3)  # fold 0's two epochs, then the first of fold 1
    resumed = neyman.train(resume=tmp_path / "runs" / "cut").run_dir
    _same_scores(full.run_dir, resumed)
    # fold 0's epochs stay in the history (a loaded model has none: they were dropped from history.csv)
    whole, again = (io.read(run / "history.csv") for run in (full.run_dir, resumed))
    assert list(np.asarray(again["fold"])) == list(np.asarray(whole["fold"])) and 0 in np.asarray(again["fold"])


def _interrupted(tmp_path, interrupt_training, *, epochs: int, at: int):
    """A run ``cut`` of ``epochs`` epochs interrupted in epoch ``at``: its input file and directory."""
    path = write_labelled_file(tmp_path, "parquet", n_events=1500)
    base = _config(
        tmp_path,
        [{"path": str(path)}],
        model=FAST_MLP,
        training={**FAST_TRAINING, "epochs": epochs},
        data={"label_column": LABEL},
        name="cut",
    )
    disarm = interrupt_training(at)
    with pytest.raises(KeyboardInterrupt):
        neyman.train(base)
    disarm()
    return path, tmp_path / "runs" / "cut"


def test_resume_refuses_an_input_file_replaced_under_its_name(tmp_path, interrupt_training):
    """The checkpoints were made on the first file's events: a resumed run must not mix in another's."""
    path, cut = _interrupted(tmp_path, interrupt_training, epochs=4, at=2)
    original = path.read_bytes()
    table = io.read(path)
    io.write(table.with_column(LABEL, 1 - np.asarray(table[LABEL])), path)  # labels flipped
    with pytest.raises(
        DataError, match=r"cannot resume .*input changed since it started: .*labelled\.parquet \(same size, other bytes"
    ):
        neyman.train(resume=cut)
    assert json.loads((cut / "status.json").read_text())["state"] == "failed"
    path.write_bytes(original)  # the same bytes again: the run goes on
    assert neyman.train(resume=cut).metrics["test"]["auc"] > 0.5


def test_resume_with_overrides_rewrites_config_or_refuses_shape_changes(tmp_path, interrupt_training):
    _, cut = _interrupted(tmp_path, interrupt_training, epochs=6, at=3)
    before = (cut / "config.yaml").read_bytes()
    for shape in ("model.hidden=[7]", "data.features=[f0]", "seed=3"):
        with pytest.raises(ConfigError, match=r"cannot change .*only training\.\* and tracking\.\*"):
            neyman.train(resume=cut, overrides=[shape])
    assert (cut / "config.yaml").read_bytes() == before
    # fewer epochs than already trained: the run stops at once with its best weights
    resumed = neyman.train(resume=cut, overrides=["training.epochs=2"])
    assert load_config(cut / "config.yaml").training.epochs == 2
    assert yaml.safe_load((cut / "resumes.yaml").read_text())[0]["overrides"] == ["training.epochs=2"]
    assert json.loads((cut / "status.json").read_text())["state"] == "complete"
    assert resumed.metrics["test"]["auc"] > 0.5


def test_existing_run_is_refused_and_force_replaces_only_when_complete(tmp_path, monkeypatch):
    path = write_labelled_file(tmp_path, "parquet", n_events=1500)
    cfg = _config(
        tmp_path,
        [{"path": str(path)}],
        name="r",
        model={"type": "logistic"},
        data={"label_column": LABEL},
    )
    first = neyman.train(cfg)
    before = (first.run_dir / "metrics.json").read_text()
    with pytest.raises(RunDirectoryError, match=r"already holds a run.*--force"):
        neyman.train(cfg)
    import importlib

    wf = importlib.import_module("neyman.workflows.steps.artefacts")

    def boom(*a, **k):
        raise DataError("simulated failure while writing")

    monkeypatch.setattr(wf, "write_training_figures", boom)
    with pytest.raises(DataError, match=r"simulated"):
        neyman.train(cfg, force=True)
    assert (first.run_dir / "metrics.json").read_text() == before  # the old run is intact
    monkeypatch.undo()
    second = neyman.train(cfg, force=True, overrides=["model.C=0.01"])
    assert (second.run_dir / "metrics.json").read_text() != before
    assert not list((tmp_path / "runs").glob(".r.*"))  # no staging leftovers


@pytest.mark.parametrize(
    "mutate,error,match",
    [
        (
            lambda c, p: c["data"]["sources"].append({"path": str(p.parent / "nope.root")}),
            ConfigError,
            r"data.sources.1.path: file .*nope.root does not exist",
        ),
        (
            lambda c, p: c["data"].update(features=["x00", "true_log_rl"]),
            DataError,
            r"true_log_rl.*did you mean 'true_log_lr'",
        ),
        (
            lambda c, p: c["data"].update(selection=["x00 < -1"]),
            DataError,
            "no events left after the selection",
        ),
        (
            lambda c, p: c["data"].update(selection=["label < 1"]),
            DataError,
            "no events of class 'signal'",
        ),
        (
            lambda c, p: c["data"].update(classes=["a", "b"], label_column="event_id"),
            DataError,
            "outside the declared classes",
        ),
        (lambda c, p: c["data"].update(weight="zero_w"), DataError, "weight"),
        (lambda c, p: c.update(model={"type": "xgbost"}), ConfigError, "'xgbost'"),
        (
            lambda c, p: c["data"].update(selection=["__import__('os').system('true')"]),
            ConfigError,
            "selection|not allowed",
        ),
    ],
)
def test_bad_input_gives_clear_errors(tmp_path, mutate, error, match):
    table = likelihood_ratio_dataset(500, n_features=6, seed=1)
    path = tmp_path / "d.parquet"
    io.write(table.with_column("zero_w", np.zeros(500)), path)
    cfg = _config(tmp_path, [{"path": str(path)}], model={"type": "logistic"}, data={"label_column": LABEL})
    mutate(cfg, path)
    with pytest.raises(error, match=match):
        neyman.train(cfg)


def test_nan_inputs_error_or_fill(tmp_path):
    table = likelihood_ratio_dataset(800, n_features=6, seed=1)
    x = np.asarray(table["x03"]).copy()
    x[:7] = np.nan
    x[7:9] = np.inf
    io.write(table.with_column("x03", x), tmp_path / "nan.parquet")
    cfg = _config(
        tmp_path,
        [{"path": str(tmp_path / "nan.parquet")}],
        name="nan",
        model={"type": "logistic"},
        data={"label_column": LABEL},
    )
    with pytest.raises(DataError, match=r"x03.*7.*NaN"):
        neyman.train(cfg)
    # with a clean file beside it, the error names only the file that holds the values
    clean = tmp_path / "clean.parquet"
    io.write(likelihood_ratio_dataset(800, n_features=6, seed=2), clean)
    both = {**cfg, "data": {**cfg["data"], "sources": [{"path": str(clean)}, *cfg["data"]["sources"]]}}
    with pytest.raises(DataError, match=r"non-finite values in \S*nan\.parquet \(among the 1600 events read\)") as err:
        neyman.train(both)
    assert "clean.parquet" not in str(err.value)
    # a run trained on clean events cannot score them: the fix is a cut or another training,
    # not the fill_value it cannot change any more
    clean_cfg = {**cfg, "name": "clean", "data": {**cfg["data"], "sources": [{"path": str(clean)}]}}
    clean_run = neyman.train(clean_cfg).run_dir
    with pytest.raises(DataError, match=r"nan\.parquet.*trained without data\.fill_value.*isfinite\(x03\)"):
        neyman.predict(clean_run, tmp_path / "nan.parquet", tmp_path / "scored.parquet")
    assert not (tmp_path / "scored.parquet").exists()
    cfg["data"]["fill_value"] = 0.0
    assert neyman.train(cfg).metrics["n_events"] == 800


def test_values_beyond_float32_are_refused_with_their_column(tmp_path):
    # a sentinel such as 1e300 is finite in the file but infinite in the models' float32
    table = likelihood_ratio_dataset(800, n_features=6, seed=1)
    huge = np.asarray(table["x02"]) * 1e300
    io.write(table.with_column("x02", huge), tmp_path / "huge.parquet")
    for model in ("xgboost", "fisher", "mlp"):
        cfg = _config(
            tmp_path,
            [{"path": str(tmp_path / "huge.parquet")}],
            name=f"huge-{model}",
            model={"type": model},
            data={"label_column": LABEL},
        )
        with pytest.raises(DataError, match=r"beyond .*huge\.parquet.*column 'x02': \d+ value\(s\) up to"):
            neyman.train(cfg)
    # a run trained on sane values refuses them in a new file as well
    io.write(table, tmp_path / "sane.parquet")
    sane = _config(
        tmp_path, [{"path": str(tmp_path / "sane.parquet")}], name="sane", model={"type": "xgboost"},
        data={"label_column": LABEL},
    )  # fmt: skip
    run = neyman.train(sane).run_dir
    with pytest.raises(DataError, match=r"column 'x02'"):
        neyman.predict(run, tmp_path / "huge.parquet", tmp_path / "scored.parquet")


def test_the_scale_of_event_weights_changes_no_model(tmp_path):
    # cross-section weights are often 1e-2 per event or far smaller: XGBoost compares a leaf's summed
    # Hessian with min_child_weight, and at that scale it never split (test AUC 0.500)
    table = likelihood_ratio_dataset(3000, n_features=6, seed=4)
    aucs = {}
    for scale in (1.0, 1e-2, 1e-300, 1e300):
        name = f"w{scale:g}".replace("+", "")
        io.write(table.with_column(WEIGHT, np.full(len(table), scale)), tmp_path / f"{name}.parquet")
        cfg = _config(
            tmp_path, [{"path": str(tmp_path / f"{name}.parquet")}], name=name,
            model={"type": "xgboost", "n_estimators": 60}, data={"label_column": LABEL, "weight": WEIGHT},
        )  # fmt: skip
        aucs[scale] = neyman.train(cfg).metrics["test"]["auc"]
    assert aucs[1.0] > 0.75
    assert all(abs(a - aucs[1.0]) < 1e-9 for a in aucs.values()), aucs


def test_a_network_reads_the_mass_from_the_energy_and_momentum_of_an_object(tmp_path):
    # E and |p| of one object differ by m^2 / (E + p), a part in a thousand: scaled one by one they
    # reached the network as one input, and the default MLP learnt nothing (test AUC 0.50)
    def objects(n: int, seed: int) -> Table:
        rng = np.random.default_rng(seed)
        label = rng.integers(0, 2, n)
        p = 400.0 * np.exp(0.3 * rng.normal(size=n))
        m = np.where(label == 1, 30.0, 20.0) * np.exp(0.25 * rng.normal(size=n))
        return Table({"p": p, "energy": np.sqrt(p * p + m * m), "eta": rng.normal(size=n), LABEL: label, "mass": m})

    io.write(objects(20_000, 1), tmp_path / "objects.parquet")
    test = objects(10_000, 2)
    best = roc_auc(np.asarray(test["mass"]), np.asarray(test[LABEL]))  # the mass itself: the optimum
    aucs = {}
    for residualize in (None, False):
        cfg = _config(
            tmp_path, [{"path": str(tmp_path / "objects.parquet")}], name=f"r{residualize}",
            model={"type": "mlp", "hidden": [64, 64]}, data={"label_column": LABEL, "features": ["p", "energy", "eta"]},
            training={"epochs": 12, "progress": False}, preprocessing={"residualize": residualize},
        )  # fmt: skip
        aucs[residualize] = roc_auc(load_run(neyman.train(cfg).run_dir).score(test), np.asarray(test[LABEL]))
    assert aucs[None] > best - 0.01, (aucs, best)  # the default residualizes
    assert aucs[False] < best - 0.1, (aucs, best)


def test_one_feature_name_is_a_list_of_one():
    from neyman.config.schema import DataConfig

    assert DataConfig(sources=[{"path": "f.parquet"}], features="x00").features == ["x00"]
    assert DataConfig(sources=[{"path": "f.parquet"}], features="x00, x01").features == ["x00", "x01"]
    assert DataConfig(sources=[{"path": "f.parquet"}], features="high-level").features == "high-level"


def test_corrupt_file_is_a_data_error(tmp_path):
    path = write_labelled_file(tmp_path, "parquet", n_events=500)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    cfg = _config(tmp_path, [{"path": str(path)}], model={"type": "logistic"}, data={"label_column": LABEL})
    with pytest.raises(DataError, match=str(path.name)):
        neyman.train(cfg)


def test_streaming_training_matches_in_memory_quality(tmp_path):
    table = likelihood_ratio_dataset(12_000, n_features=6, seed=8)
    io.write(table, tmp_path / "big.parquet")
    base = _config(
        tmp_path,
        [{"path": str(tmp_path / "big.parquet")}],
        model=FAST_MLP,
        training={**FAST_TRAINING, "epochs": 12},
        data={"label_column": LABEL, "weight": WEIGHT},
    )
    memory = neyman.train({**base, "name": "memory"})
    stream_cfg = {
        **base,
        "name": "stream",
        "data": {**base["data"], "streaming": True, "step_size": 2500, "fit_events": 3000},
    }
    streamed = neyman.train(stream_cfg)
    m = streamed.metrics
    assert m["streaming"]["chunks"] == 5 and m["n_events"] == 12_000

    true_lr, label = np.asarray(table["true_log_lr"]), np.asarray(table[LABEL])
    for run in (memory, streamed):
        p = io.read(run.run_dir / "predictions.parquet")
        test_ids = np.asarray(p[EVENT_ID])[np.asarray(p[SPLIT]) == 2]  # event id = entry number here
        optimal = roc_auc(true_lr[test_ids], label[test_ids])
        assert run.metrics["test"]["auc"] / optimal > 0.95, run.run_dir.name
    preds = io.read(streamed.run_dir / "predictions.parquet")
    assert len(preds) == 12_000 and len(np.unique(np.asarray(preds[EVENT_ID]))) == 12_000
    # the streamed run is an ordinary run: predict reproduces its scores
    out = neyman.predict(streamed.run_dir, tmp_path / "big.parquet", tmp_path / "s.parquet")
    assert np.allclose(np.asarray(io.read(out.output)["score"]), np.asarray(preds["score"]), rtol=1e-5, atol=1e-6)
    with pytest.raises(ConfigError, match="streaming"):
        neyman.train({**stream_cfg, "name": "x", "model": {"type": "xgboost"}})


def test_a_streamed_run_whose_input_changes_while_it_trains_is_not_completed(tmp_path):
    """The events are read from the file every epoch: replaced mid-training, the model learnt from two samples."""
    path = io.write(likelihood_ratio_dataset(6000, n_features=6, seed=8), tmp_path / "moving.parquet")
    cfg = _config(
        tmp_path, [{"path": str(path)}], name="moving", model=FAST_MLP, training={**FAST_TRAINING, "epochs": 3},
        data={"label_column": LABEL, "streaming": True, "step_size": 2000, "fit_events": 2000},
    )  # fmt: skip

    def replace_file(epoch: int, losses: object) -> None:
        if epoch == 1:
            io.write(likelihood_ratio_dataset(4000, n_features=6, seed=9), path)

    with pytest.raises(DataError, match=r"runs/moving is not complete.*moving\.parquet"):
        neyman.train(cfg, epoch_callback=replace_file)
    assert json.loads((tmp_path / "runs" / "moving" / "status.json").read_text())["state"] == "failed"


def test_streaming_one_file_per_class_sorted_so_that_a_cut_empties_chunks(tmp_path):
    """TMVA-style input streamed: every chunk holds one class (batches mix the files), and each file starts with
    its events of x00 <= 30 (over 1000 of each class), so that the cut x00 > 30 leaves its first chunk empty (it
    was scored: a crash)."""
    table = likelihood_ratio_dataset(12_000, n_features=6, seed=9)
    label = np.asarray(table[LABEL])
    files = []
    for cls, name in ((1, "signal"), (0, "background")):
        part = table.take(np.flatnonzero(label == cls))
        part = part.take(np.argsort(np.asarray(part["x00"]) > 30, kind="stable"))
        files.append({"path": str(io.write(part, tmp_path / f"{name}.parquet")), "label": name})
    cfg = _config(
        tmp_path,
        files,
        model=FAST_MLP,
        training={**FAST_TRAINING, "epochs": 12},
        data={"features": FEATURES, "streaming": True, "step_size": 1000, "fit_events": 3000, "selection": "x00 > 30"},
        name="per-class",
    )
    cfg["data"]["classes"] = ["background", "signal"]
    run = neyman.train(cfg)
    selected = np.asarray(table["x00"]) > 30
    assert len(io.read(run.run_dir / "predictions.parquet")) == int(selected.sum())
    memory = {**cfg, "name": "memory", "data": {**cfg["data"], "streaming": False}}
    # chunks taken one after another (one class each, and the signal's only in half of the epoch) gave 0.736
    # against 0.790 in memory; mixed, 0.761 (the test splits differ: ±0.015)
    assert run.metrics["test"]["auc"] > neyman.train(memory).metrics["test"]["auc"] - 0.045


def test_streaming_one_file_sorted_by_class_trains_as_a_shuffled_one(tmp_path):
    """All background events, then all signal ones, in one file: chunks of one class each were read one after
    another, so the network learnt one class for hundreds of steps, then the other."""
    table = likelihood_ratio_dataset(20_000, n_features=6, seed=12)
    order = {
        "sorted": np.argsort(np.asarray(table[LABEL]), kind="stable"),
        "shuffled": np.random.default_rng(1).permutation(20_000),
    }
    auc = {}
    for name, rows in order.items():
        io.write(table.take(rows), tmp_path / f"{name}.parquet")
        cfg = _config(
            tmp_path,
            [{"path": str(tmp_path / f"{name}.parquet")}],
            model=FAST_MLP,
            training={**FAST_TRAINING, "epochs": 8},
            data={
                "label_column": LABEL,
                "features": FEATURES,
                "streaming": True,
                "step_size": 1000,
                "fit_events": 3000,
            },
            name=name,
        )
        auc[name] = neyman.train(cfg).metrics["test"]["auc"]  # the same test events: splits hash the event ids
    assert auc["sorted"] > auc["shuffled"] - 0.01, auc  # read one chunk after another: 0.816 against 0.843


def test_streaming_a_text_file_reads_it_once_and_trains_as_its_parquet_copy(tmp_path, monkeypatch):
    """A CSV chunk is reached by reading the file from its start: every epoch read a file of C chunks ~C/2 times."""
    import neyman.io.csv as csv_io

    table = likelihood_ratio_dataset(6000, n_features=6, seed=13)
    io.write(table, tmp_path / "events.parquet")
    frame = table.to_pandas()
    frame.to_csv(tmp_path / "events.csv", index=False, float_format="%.17g")  # the Parquet file's values exactly
    reads = []
    blocks = csv_io.blocks
    monkeypatch.setattr(csv_io, "blocks", lambda *a, **k: reads.append(1) or blocks(*a, **k))
    metrics = {}
    for name in ("events.parquet", "events.csv"):
        cfg = _config(
            tmp_path,
            [{"path": str(tmp_path / name)}],
            model=FAST_MLP,
            training={**FAST_TRAINING, "epochs": 6},
            data={"label_column": LABEL, "streaming": True, "step_size": 1000, "fit_events": 3000},
            name=name.replace(".", "-"),
        )
        metrics[name] = neyman.train(cfg).metrics
        assert not (tmp_path / "runs" / name.replace(".", "-") / ".staged").exists()  # the copy is removed
    assert len(reads) <= 3, len(reads)  # once for the copy (a header or a count aside); 6 chunks x 8 passes before
    assert metrics["events.csv"]["test"]["auc"] == pytest.approx(metrics["events.parquet"]["test"]["auc"], abs=1e-6)
    # a bad cell deep inside the text file is named in the text file, not in the copy
    frame["x03"] = frame["x03"].astype(object)
    frame.loc[4321, "x03"] = "n/a?"
    frame.to_csv(tmp_path / "bad.csv", index=False, float_format="%.17g")
    cfg = _config(
        tmp_path,
        [{"path": str(tmp_path / "bad.csv")}],
        model=FAST_MLP,
        training=FAST_TRAINING,
        data={"label_column": LABEL, "streaming": True, "step_size": 1000, "fit_events": 3000},
        name="bad",
    )
    with pytest.raises(DataError, match=r"bad\.csv") as err:
        neyman.train(cfg)
    assert ".staged" not in str(err.value)
    assert not (tmp_path / "runs" / "bad").exists()


def test_kfold_without_event_ids_scores_a_training_file_out_of_fold(tmp_path):
    """Events are numbered source * 10^12 + entry, so predict finds each event's fold again."""
    sig, bkg = write_signal_background(tmp_path, "parquet", n_events=3000)
    sources = [
        {"path": str(sig), "label": "signal"},
        {"path": str(bkg), "label": "background", "selection": "x00 > 30"},
    ]
    cfg = _config(tmp_path, sources, name="kf", model={"type": "fisher"}, split={"kfold": 3})
    result = neyman.train(cfg)
    preds = io.read(result.run_dir / "predictions.parquet")
    ids = np.asarray(preds[EVENT_ID])
    from_bkg = ids >= 10**12
    scored = io.read(neyman.predict(result.run_dir, bkg, tmp_path / "b.parquet", step_size=1000).output)
    x00 = np.asarray(scored["x00"])
    kept = np.flatnonzero(x00 > 30)
    np.testing.assert_array_equal(ids[from_bkg] - 10**12, kept)
    np.testing.assert_allclose(np.asarray(scored["score"])[kept], np.asarray(preds["score"])[from_bkg], rtol=1e-9)


@pytest.mark.parametrize("split", [{"kfold": 2}, {"method": "parity", "train": 0.8, "val": 0.2, "test": 0.0}])
def test_event_numbers_that_follow_the_class_are_refused_before_a_run_exists(tmp_path, split):
    path = write_labelled_file(tmp_path, "parquet", n_events=400)
    table = io.read(path)
    label = np.asarray(table[LABEL]).astype(np.int64)
    numbered = Table({**{c: table[c] for c in table.column_names}, EVENT_ID: np.arange(len(label)) * 2 + label})
    io.write(numbered, tmp_path / "numbered.parquet")
    cfg = _config(tmp_path, [{"path": str(tmp_path / "numbered.parquet")}], name="r", model={"type": "logistic"})
    cfg["data"].update(label_column=LABEL, event_id=EVENT_ID)
    with pytest.raises(DataError, match=r"holds no '(signal|background)' events.*event ids follow the class"):
        neyman.train({**cfg, "split": split})
    assert not (tmp_path / "runs" / "r").exists()


def test_events_alike_by_chance_are_no_overlap_of_test_and_training(tmp_path):
    # objects absent in 40% of events give all-zero rows: a few in each of two independent files
    def zero_inflated(n: int, seed: int) -> Table:
        table = likelihood_ratio_dataset(n, n_features=6, seed=seed)
        rng = np.random.default_rng(seed)
        cols = {c: np.where(rng.random(n) < 0.4, 0.0, 30.0 + np.abs(np.asarray(table[c]))) for c in FEATURES}
        return Table({**cols, LABEL: np.asarray(table[LABEL])})

    train, fresh = zero_inflated(20_000, 1), zero_inflated(5_000, 2)
    empty = [(np.stack([np.asarray(t[c]) for c in FEATURES], 1) == 0).all(1) for t in (train, fresh)]
    assert min(e.sum() for e in empty) >= 1, "both files hold events without objects"
    copied = np.flatnonzero(~empty[0])[:10]
    test = Table.concat([fresh, train.take(copied[:9])])  # nine events copied: taken as coincidences
    io.write(train, tmp_path / "a.parquet")
    io.write(test, tmp_path / "b.parquet")
    sources = [{"path": str(tmp_path / "a.parquet")}, {"path": str(tmp_path / "b.parquet"), "test": True}]
    cfg = _config(tmp_path, sources, model={"type": "fisher"}, data={"label_column": LABEL}, name="z")
    with pytest.warns(NeymanWarning, match=r"'x01' holds 0 in 4\d\.\d% of events.*stand-in"):  # 0 for "no object"
        neyman.train(cfg)
    io.write(Table.concat([test, train.take(copied[9:])]), tmp_path / "b.parquet")  # ten: an overlap
    with pytest.raises(DataError, match=r"10 of the 5010 test events"), pytest.warns(NeymanWarning, match="stand-in"):
        neyman.train(cfg, force=True)


def test_a_feature_derived_from_the_label_is_named(tmp_path):
    # the ATLAS Higgs challenge file holds a second weight column, rescaled per class: as a feature
    # it alone separates signal from background, and every figure of merit is meaningless
    table = likelihood_ratio_dataset(4000, n_features=6, seed=5)
    label = np.asarray(table[LABEL])
    leak = table.with_column("KaggleWeight", np.where(label == 1, 0.002, 1.5) * (1 + 0.1 * np.asarray(table["x00"])))
    io.write(leak, tmp_path / "leak.parquet")
    cfg = _config(
        tmp_path, [{"path": str(tmp_path / "leak.parquet")}], name="leak", model={"type": "fisher"},
        data={"label_column": LABEL, "features": [*FEATURES, "KaggleWeight"]},
    )  # fmt: skip
    with pytest.warns(NeymanWarning, match=r"'KaggleWeight' \(class 'signal': AUC 1\.0000 on its own.*\) alone sep"):
        neyman.train(cfg)


def test_a_feature_in_another_unit_for_one_class_is_named(tmp_path):
    # one class's file in MeV, the other's in GeV: the classifier separates the units
    table = likelihood_ratio_dataset(4000, n_features=6, seed=5)
    label = np.asarray(table[LABEL])
    pt = 40.0 + 30.0 * np.abs(np.asarray(table["x00"]))
    io.write(table.with_column("pt", np.where(label == 1, 1000.0 * pt, pt)), tmp_path / "units.parquet")
    cfg = _config(
        tmp_path, [{"path": str(tmp_path / "units.parquet")}], name="units", model={"type": "fisher"},
        data={"label_column": LABEL, "features": [*FEATURES, "pt"]},
    )  # fmt: skip
    match = r"'pt' \(class 'signal': AUC 1\.0000 on its own; its median size is \d+ times the rest's: MeV in"
    with pytest.warns(NeymanWarning, match=match):
        neyman.train(cfg)


def test_a_copy_of_the_regression_target_among_the_features_is_named(tmp_path):
    rng = np.random.default_rng(0)
    truth = 50.0 * np.exp(0.5 * rng.normal(size=3000))
    reco = truth * (1.0 + 0.1 * rng.normal(size=3000))  # a 10% resolution: a measurement, not a copy
    table = Table({"reco_pt": reco, "eta": rng.normal(size=3000), "truth_pt": truth, "log_truth": np.log(truth)})
    io.write(table, tmp_path / "calib.parquet")

    def cfg(features: list[str]) -> dict:
        return _config(
            tmp_path, [{"path": str(tmp_path / "calib.parquet")}], name="calib", task={"type": "regression"},
            model={"type": "xgboost", "n_estimators": 20}, data={"target": "truth_pt", "features": features},
        )  # fmt: skip

    neyman.train(cfg(["reco_pt", "eta"]))
    with pytest.warns(NeymanWarning, match=r"'log_truth' \(rank correlation \+1\.00000\) is the regression target"):
        neyman.train(cfg(["reco_pt", "eta", "log_truth"]), force=True)


def test_event_and_run_numbers_are_never_automatic_features(tmp_path):
    table = likelihood_ratio_dataset(2000, n_features=6, seed=6)
    n = len(table)
    for name, values in (
        ("EventId", np.arange(n)),
        ("RunNumber", np.full(n, 284500)),
        ("lumiBlock", np.arange(n) // 50),
    ):
        table = table.with_column(name, values)
    io.write(table.drop([EVENT_ID, "true_log_lr"]), tmp_path / "numbered.parquet")
    cfg = {
        "output_dir": str(tmp_path / "runs"), "name": "num", "model": {"type": "fisher"},
        "data": {"sources": [{"path": str(tmp_path / "numbered.parquet")}], "label_column": LABEL},
    }  # fmt: skip
    with pytest.warns(NeymanWarning, match=r"'EventId', 'RunNumber', 'lumiBlock' \(an event, run or block number\)"):
        run = neyman.train(cfg)
    assert load_run(run.run_dir).features == FEATURES


def test_weight_columns_are_never_automatic_features(tmp_path):
    # an unweighted signal sample beside sliced background: the generator weight alone tells them apart
    table = likelihood_ratio_dataset(2000, n_features=6, seed=6)
    label = np.asarray(table[LABEL])
    gen_weight = np.where(label == 1, 1.0, np.exp(np.random.default_rng(0).normal(size=len(table))))
    io.write(table.drop([EVENT_ID, "true_log_lr"]).with_column("genWeight", gen_weight), tmp_path / "w.parquet")
    cfg = {
        "output_dir": str(tmp_path / "runs"), "name": "w", "model": {"type": "fisher"},
        "data": {"sources": [{"path": str(tmp_path / "w.parquet")}], "label_column": LABEL},
    }  # fmt: skip
    with pytest.warns(NeymanWarning, match=r"'genWeight' \(an event weight, not a measurement: give it with --weight"):
        run = neyman.train(cfg)
    assert load_run(run.run_dir).features == FEATURES


def test_a_decimal_column_is_a_feature_and_a_struct_is_named(tmp_path):
    """Parquet decimal128 (SQL's NUMERIC) is a number, not text; a struct is neither a number nor a list."""
    from decimal import Decimal

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = likelihood_ratio_dataset(1000, n_features=2, seed=6)
    columns = {name: pa.array(np.asarray(table[name])) for name in ("x00", LABEL)}
    columns["x01"] = pa.array([Decimal(f"{v:.3f}") for v in np.asarray(table["x01"])], type=pa.decimal128(12, 3))
    columns["hit"] = pa.array([{"x": float(i), "y": 1.0} for i in range(len(table))])
    pq.write_table(pa.table(columns), tmp_path / "typed.parquet")
    cfg = {
        "output_dir": str(tmp_path / "runs"), "name": "typed", "model": {"type": "fisher"},
        "data": {"sources": [{"path": str(tmp_path / "typed.parquet")}], "label_column": LABEL},
    }  # fmt: skip
    with pytest.warns(NeymanWarning, match=r"'hit' \(records of several fields: give each field a column"):
        run = neyman.train(cfg)
    assert load_run(run.run_dir).features == ["x00", "x01"]
    cfg["data"]["features"] = ["x00", "hit"]
    with pytest.raises(DataError, match=r"'hit' holds a record of fields \['x', 'y'\] \(a struct\)"):
        neyman.train(cfg, force=True)


def test_generator_truth_is_never_an_automatic_feature_and_a_flavour_code_is_named(tmp_path):
    # a generated jet file holds the matched parton's PDG id (6 for every top jet) and, for the
    # calibration sample, truth_* columns and response = pt / truth_pt: each tells the answer
    table = likelihood_ratio_dataset(4000, n_features=6, seed=7)
    label = np.asarray(table[LABEL])
    rng = np.random.default_rng(7)
    pid = np.where(label == 1, 6, rng.choice([1, 2, 3, 4, 5, 21], len(label)))
    truth_pt = 500.0 + 50.0 * label + rng.normal(size=len(label))
    table = table.drop([EVENT_ID, "true_log_lr"]).with_column("parton_id", pid).with_column("truth_pt", truth_pt)
    table = table.with_column("response", np.asarray(table["x00"]) / truth_pt)
    # the public top-tagging files: the top quark's energy (0 for QCD jets) and the set's own split flag
    table = table.with_column("truthE", np.where(label == 1, truth_pt, 0.0)).with_column(
        "ttv", np.arange(len(label)) % 3
    )
    io.write(table, tmp_path / "jets.parquet")
    io.provenance_path(tmp_path / "jets.parquet").write_text(json.dumps({"truth_columns": ["response"]}))
    cfg = {
        "output_dir": str(tmp_path / "runs"), "name": "jets", "model": {"type": "fisher"},
        "data": {"sources": [{"path": str(tmp_path / "jets.parquet")}], "label_column": LABEL},
    }  # fmt: skip
    truth = r"'parton_id', 'truth_pt', 'response', 'truthE' \(generator truth, which a detector does not measure\)"
    with pytest.warns(NeymanWarning, match=truth + r".*'ttv' \(the data set's own train/test/validation flag\)"):
        run = neyman.train(cfg)
    assert load_run(run.run_dir).features == FEATURES
    # listed by hand it is used, and named: it separates the classes by value, not by order (AUC 0.5 by rank)
    cfg["data"]["features"] = [*FEATURES, "parton_id"]
    with pytest.warns(NeymanWarning, match=r"'parton_id' \(class 'signal': AUC 1\.0000 on its own\) alone sep"):
        neyman.train(cfg, force=True)


def test_predict_names_features_outside_the_training_range(tmp_path):
    # ATLAS files are in MeV, CMS files in GeV: a model scores either without a complaint
    table = likelihood_ratio_dataset(3000, n_features=6, seed=8)
    gev = table.with_column("pt", 40.0 * np.exp(0.4 * np.random.default_rng(8).normal(size=len(table))))
    io.write(gev, tmp_path / "gev.parquet")
    io.write(gev.with_column("pt", 1000.0 * np.asarray(gev["pt"])), tmp_path / "mev.parquet")
    io.write(
        likelihood_ratio_dataset(3000, n_features=6, seed=9).with_column("pt", np.asarray(gev["pt"])),
        tmp_path / "new.parquet",
    )
    cfg = _config(
        tmp_path, [{"path": str(tmp_path / "gev.parquet")}], name="pt", model={"type": "fisher"},
        data={"label_column": LABEL, "features": [*FEATURES, "pt"]},
    )  # fmt: skip
    run = neyman.train(cfg).run_dir
    low, median, high = load_run(run).feature_ranges["pt"]
    assert low < 40.0 < high and abs(median - 40.0) < 3.0
    neyman.predict(run, tmp_path / "new.parquet", tmp_path / "new-scored.parquet")  # like the training: silent
    with pytest.warns(NeymanWarning, match=r"mev\.parquet: features unlike.*'pt': 100% outside.*another unit\?"):
        neyman.predict(run, tmp_path / "mev.parquet", tmp_path / "mev-scored.parquet")
    assert (tmp_path / "mev-scored.parquet").exists()  # scored all the same
    io.write(io.read(tmp_path / "mev.parquet").take(np.arange(25)), tmp_path / "few-mev.parquet")
    with pytest.warns(NeymanWarning, match=r"few-mev\.parquet: features unlike.*\(25 events\).*another unit\?"):
        neyman.predict(run, tmp_path / "few-mev.parquet", tmp_path / "few-mev-scored.parquet")  # a handful too
    with pytest.warns(NeymanWarning, match=r"mev\.parquet: features unlike.*'pt': 100% outside"):
        evaluate(run, test_data=[str(tmp_path / "mev.parquet")])
    # the ONNX export carries the ranges: predict with it says the same
    from neyman.workflows.export import export

    onnx = export(run).path
    neyman.predict(onnx, tmp_path / "new.parquet", tmp_path / "new-onnx.parquet")
    with pytest.warns(NeymanWarning, match=r"mev\.parquet: features unlike.*'pt': 100% outside.*another unit\?"):
        neyman.predict(onnx, tmp_path / "mev.parquet", tmp_path / "mev-onnx.parquet")
    # a k-fold run scores every event out of fold, and every event trained the other folds' models
    kfold = neyman.train({**cfg, "name": "pt-kfold", "split": {"kfold": 3}}).run_dir
    low_k, median_k, high_k = load_run(kfold).feature_ranges["pt"]  # of all 3000 events, the split's of 1800
    assert low_k <= low and high_k >= high and median_k == pytest.approx(median, rel=0.05)
    with pytest.warns(NeymanWarning, match=r"mev\.parquet: features unlike.*'pt': 100% outside"):
        neyman.predict(kfold, tmp_path / "mev.parquet", tmp_path / "mev-kfold.parquet")


def test_a_file_read_twice_is_named_and_shared_event_ids_keep_copies_together(tmp_path):
    # copies of training events in the test split measure memory: a boosted tree scored its own
    # copies, and the file's test AUC rose with nothing learnt
    table = likelihood_ratio_dataset(2000, n_features=6, seed=10)
    io.write(Table.concat([table, table]), tmp_path / "twice.parquet")
    sources = [{"path": str(tmp_path / "twice.parquet")}]
    cfg = _config(tmp_path, sources, name="twice", model={"type": "fisher"}, data={"label_column": LABEL})
    with pytest.warns(NeymanWarning, match=r"twice\.parquet: 2000 of the 4000 events are exact copies"):
        neyman.train(cfg)
    # the file's own event numbers repeat with the copies: each pair shares its split, nothing is said
    neyman.train({**cfg, "name": "ids", "data": {**cfg["data"], "event_id": EVENT_ID}})
    # empty events share one default vector: 5% of the events alike, and no copy of anything
    x = np.stack([np.asarray(table[c]) for c in FEATURES], 1)
    x[::20] = 0.0
    empty = Table({**{c: x[:, j] for j, c in enumerate(FEATURES)}, LABEL: np.asarray(table[LABEL])})
    io.write(empty, tmp_path / "empty.parquet")
    neyman.train(
        {**cfg, "name": "empty", "data": {**cfg["data"], "sources": [{"path": str(tmp_path / "empty.parquet")}]}}
    )
    # a few discrete features repeat vectors by nature
    labels = np.random.default_rng(0).integers(0, 2, 4000)  # (not arange % 2: n1 % 2 would be the label)
    counts = Table({"n1": np.arange(4000) % 4, "n2": np.arange(4000) % 3, LABEL: labels})
    io.write(counts, tmp_path / "counts.parquet")
    neyman.train(_config(
        tmp_path, [{"path": str(tmp_path / "counts.parquet")}], name="counts", model={"type": "fisher"},
        data={"label_column": LABEL, "features": ["n1", "n2"]},
    ))  # fmt: skip


def test_a_header_only_input_is_named_and_leaves_no_run(tmp_path):
    from neyman.workflows.predict import predict

    head = tmp_path / "head.csv"
    head.write_text(",".join([f"x{i:02d}" for i in range(6)] + ["label"]) + "\n")
    cfg = _config(tmp_path, [{"path": str(head)}], data={"label_column": "label"}, name="h")
    for streaming in (False, True):
        with pytest.raises(DataError, match=r"head\.csv holds no events \(its columns but no rows\)"):
            neyman.train({**cfg, "data": {**cfg["data"], "streaming": streaming}})
    assert not (tmp_path / "runs").exists()
    good = write_labelled_file(tmp_path, "csv", n_events=600)
    run = neyman.train(_config(tmp_path, [{"path": str(good)}], data={"label_column": LABEL}, name="g"))
    empty = tmp_path / "empty.csv"
    empty.write_text(",".join(io.read(good).column_names) + "\n")
    with pytest.raises(DataError, match=r"empty\.csv holds no events.*nothing to score"):
        predict(run.run_dir, empty, tmp_path / "scores.parquet")
    assert not (tmp_path / "scores.parquet").exists()


def _with_external_test(tmp_path, name, **data):
    """A logistic run on a 2000-event file with an 800-event external test file: (run, config, train, test file)."""
    train_file = write_labelled_file(tmp_path, "parquet", n_events=2000, seed=1)
    (tmp_path / "test").mkdir()
    test_file = write_labelled_file(tmp_path / "test", "parquet", n_events=800, seed=2)
    cfg = _config(
        tmp_path,
        [{"path": str(train_file)}, {"path": str(test_file), "test": True}],
        model={"type": "logistic"},
        data={"label_column": LABEL, **data},
        name=name,
    )
    return neyman.train(cfg), cfg, train_file, test_file


def test_an_external_test_file_is_the_test_split_and_everything_else_trains(tmp_path):
    from typer.testing import CliRunner

    from neyman.cli.main import _register, app

    run, cfg, train_file, test_file = _with_external_test(tmp_path, "ext")
    preds = io.read(run.run_dir / "predictions.parquet")
    split, source = np.asarray(preds[SPLIT]), np.asarray(preds["source"])
    assert np.array_equal(split == 2, source == 1), "the test split is exactly the external file"
    trained = np.mean(split[source == 0] == 0)
    assert 0.77 < trained < 0.83, "every event but a validation fifth trains"
    assert run.headline["n_events"] == 800
    for bad, why in (
        ({"split": {"kfold": 3}}, r"one train/validation split"),
        ({"data": {**cfg["data"], "sources": [{"path": str(test_file), "test": True}]}}, r"every data.sources"),
    ):
        with pytest.raises(ConfigError, match=why):
            neyman.train({**cfg, **bad, "name": "bad"})
    _register()
    result = CliRunner().invoke(
        app,
        [
            "train",
            "--data",
            str(train_file),
            "--test-data",
            str(test_file),
            "--label-column",
            LABEL,
            "--model",
            "logistic",
            "--output-dir",
            str(tmp_path / "cli"),
            "--name",
            "c",
        ],
    )
    assert result.exit_code == 0, result.output
    cli_preds = io.read(tmp_path / "cli" / "c" / "predictions.parquet")
    assert int(np.sum(np.asarray(cli_preds[SPLIT]) == 2)) == 800


def test_a_test_file_sharing_training_events_is_refused(tmp_path):
    """Test events equal to training events are named; equal row numbers with other values are not."""
    table = likelihood_ratio_dataset(1500, n_features=6, seed=3)
    train_file = io.write(table, tmp_path / "train.parquet")
    overlapping = io.write(table.take(np.arange(1200, 1500)), tmp_path / "overlap.parquet")
    independent = io.write(likelihood_ratio_dataset(300, n_features=6, seed=4), tmp_path / "independent.parquet")

    def cfg(test_file, **data):
        sources = [{"path": str(train_file)}, {"path": str(test_file), "test": True}]
        return _config(tmp_path, sources, model={"type": "fisher"}, data={"label_column": LABEL, **data}, name="o")

    with pytest.raises(DataError, match=r"300 of the 300 test events in .*overlap\.parquet are also in the training"):
        neyman.train(cfg(overlapping))
    assert not (tmp_path / "runs" / "o").exists()
    # both files number their events 0, 1, ...: equal ids alone are not shared events
    assert np.isin(np.asarray(likelihood_ratio_dataset(300, n_features=6, seed=4)["event_id"]), table["event_id"]).all()
    neyman.train(cfg(independent, event_id="event_id"), force=True)
    with pytest.raises(DataError, match=r"300 of the 300 test events .*equal feature values, or event ids"):
        neyman.train(cfg(overlapping, event_id="event_id"), force=True)
    # the same events renumbered: a copy all the same
    renumbered = table.take(np.arange(1200, 1500))
    renumbered = renumbered.with_column("event_id", np.asarray(renumbered["event_id"]) + 10_000_000)
    with pytest.raises(DataError, match=r"300 of the 300 test events in .*renumbered\.parquet"):
        neyman.train(cfg(io.write(renumbered, tmp_path / "renumbered.parquet"), event_id="event_id"), force=True)


def test_features_the_models_number_type_cannot_resolve_are_named(tmp_path):
    """2^26 + label is a constant in XGBoost's float32; integers beyond 2^53 merge already in float64."""
    gen = np.random.default_rng(3)
    label = gen.integers(0, 2, 2000)
    noise = gen.normal(size=2000)
    cols = {"mid": 2.0**26 + label, "big": 2**55 + 3 * label, "x": noise + 0.5 * label, LABEL: label}
    io.write(Table(cols), tmp_path / "ints.parquet")
    cfg = _config(
        tmp_path,
        [{"path": str(tmp_path / "ints.parquet")}],
        name="ints",
        model={"type": "xgboost", "n_estimators": 5},
        data={"label_column": LABEL, "features": ["mid", "big", "x"]},
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        neyman.train(cfg)
    said = " | ".join(str(w.message) for w in caught)
    assert (
        "XGBoost reads its inputs as float32, which merges distinct values of features: 'mid' keeps 1 of its 2" in said
    )
    assert "feature 'big' holds integers beyond 2^53" in said
    precision = [str(w.message) for w in caught if "float32" in str(w.message) or "2^53" in str(w.message)]
    assert len(precision) == 2  # an ordinary feature passes unnamed


def test_a_split_whose_class_weights_cancel_is_named(tmp_path):
    """The file's class sums are positive; fold 1 trains on the even events alone, whose background sums to < 0."""
    gen = np.random.default_rng(4)
    n = 2000
    label = gen.integers(0, 2, n)
    ids = np.arange(n)
    w = np.where((ids % 2 == 0) & (label == 0), -1.0, 3.0)
    cols = {f"x{i:02d}": gen.normal(size=n) + 0.3 * label for i in range(6)}
    io.write(Table({**cols, LABEL: label, "w": w, EVENT_ID: ids}), tmp_path / "folds.parquet")
    cfg = _config(
        tmp_path,
        [{"path": str(tmp_path / "folds.parquet")}],
        name="folds",
        model={"type": "lightgbm", "n_estimators": 5},
        data={"label_column": LABEL, "weight": "w", "event_id": EVENT_ID},
        split={"kfold": 2},
    )
    with pytest.raises(DataError, match=r"the training events of fold 1 \(\d+ events after the split\): every class"):
        neyman.train(cfg)


@pytest.mark.parametrize("label_column", [None, LABEL])
def test_a_0_1_regression_target_is_taken_for_a_label(tmp_path, label_column):
    """The advice names what to change: --label-column when none was given, else that it is ignored."""
    io.write(likelihood_ratio_dataset(1500, n_features=6, seed=2), tmp_path / "lab.parquet")
    data = {"target": LABEL, **({"label_column": label_column} if label_column else {})}
    cfg = _config(
        tmp_path,
        [{"path": str(tmp_path / "lab.parquet")}],
        name="lab",
        model={"type": "lightgbm", "n_estimators": 5},
        task={"type": "regression"},
        data=data,
    )
    advice = (
        r"--label-column label is ignored by a regression task"
        if label_column
        else r"use --label-column label .* instead of --target"
    )
    with pytest.warns(
        NeymanWarning, match=rf"holds only the values 0 and 1: a classification was probably meant; {advice}"
    ):
        neyman.train(cfg)


def _warnings_saying(phrase: str, cfg: dict) -> list[str]:
    """The warnings of training ``cfg`` whose message holds ``phrase``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        neyman.train(cfg)
    return [str(w.message) for w in caught if phrase in str(w.message)]


@pytest.mark.parametrize(
    ("model", "scaler", "warned"),
    [("fisher", None, True), ("xgboost", None, False), ("mlp", None, False), ("mlp", "standard", True)],
)
def test_a_stand_in_for_undefined_values_is_named_where_the_model_takes_it_at_face_value(
    tmp_path, model, scaler, warned
):
    """The ATLAS Higgs challenge writes -999 for an undefined mass: trees and Gaussianised inputs cope, others not."""
    gen = np.random.default_rng(5)
    label = gen.integers(0, 2, 3000)
    mass = gen.gamma(3.0, 40.0, 3000) + 20.0 * label
    mass[gen.random(3000) < 0.15] = -999.0
    cols = {"mass": mass, "x": gen.normal(size=3000) + 0.5 * label, LABEL: label}
    io.write(Table(cols), tmp_path / "markers.parquet")
    cfg = _config(
        tmp_path,
        [{"path": str(tmp_path / "markers.parquet")}],
        name="markers",
        model={"type": model, **({"n_estimators": 5} if model == "xgboost" else {})},
        data={"label_column": LABEL, "features": ["mass", "x"]},
        **({"preprocessing": {"scaler": scaler}} if scaler else {}),
        **({"training": {"epochs": 1}} if model == "mlp" else {}),
    )
    said = _warnings_saying("stand-in", cfg)
    assert len(said) == int(warned), said
    if warned:
        assert re.search(
            r"'mass' holds -999 in 1\d\.\d% of events, \d+ standard deviations below its other values", said[0]
        )
        assert "'x'" not in said[0]


@pytest.mark.parametrize(
    ("model", "balance", "warned"), [("xgboost", True, True), ("xgboost", False, False), ("fisher", True, False)]
)
def test_balancing_a_rare_class_for_trees_is_warned_about(tmp_path, model, balance, warned):
    """2% signal: balanced, each signal event weighs 49 background events, and trees fit single events."""
    gen = np.random.default_rng(6)
    label = (gen.random(4000) < 0.02).astype(np.int64)
    cols = {"x": gen.normal(size=4000) + label, "y": gen.normal(size=4000), LABEL: label}
    io.write(Table(cols), tmp_path / "rare.parquet")
    cfg = _config(
        tmp_path,
        [{"path": str(tmp_path / "rare.parquet")}],
        name="rare",
        model={"type": model, **({"n_estimators": 5} if model == "xgboost" else {})},
        task={"type": "binary", "balance_classes": balance},
        data={"label_column": LABEL, "features": ["x", "y"]},
    )
    said = _warnings_saying("balancing the classes", cfg)
    assert len(said) == int(warned), said
    if warned:
        n_signal = int(label.sum())
        assert f"class 'signal' holds {n_signal} of the 4000 events of the training files" in said[0]
        assert f"as {(4000 - n_signal) / n_signal:.0f} 'background' events" in said[0]


@pytest.mark.parametrize(("n_events", "warned"), [(40, True), (200, False)])
def test_a_test_split_too_small_to_measure_is_warned_about(tmp_path, n_events, warned):
    """40 events give the test split about 4 of each class: the AUC's error (Hanley-McNeil) is quoted."""
    gen = np.random.default_rng(8)
    label = np.arange(n_events) % 2
    cols = {"x": gen.normal(size=n_events) + label, "y": gen.normal(size=n_events), LABEL: label}
    io.write(Table(cols), tmp_path / "few.parquet")
    cfg = _config(
        tmp_path,
        [{"path": str(tmp_path / "few.parquet")}],
        name="few",
        model={"type": "fisher"},
        data={"label_column": LABEL, "features": ["x", "y"]},
    )
    said = _warnings_saying("too few to measure", cfg)
    assert len(said) == int(warned), said
    if warned:
        counts = re.search(r"the test split holds (\d+) 'background' and (\d+) 'signal' events", said[0])
        assert counts and 4 <= int(counts[1]) + int(counts[2]) <= 12  # about 20 % of the events
        assert re.search(r"its AUC is uncertain by about ±0\.[1-3]\d", said[0])


def test_a_bootstrap_replica_reweights_the_training_files_and_never_a_test_file(tmp_path):
    """``data.bootstrap`` multiplies training weights by Poisson counts; test files keep theirs."""
    from neyman.workflows.steps.data import data_with_sources, run_events

    run, _, train_file, test_file = _with_external_test(tmp_path, "replica", weight=WEIGHT, bootstrap=3)
    preds = io.read(run.run_dir / "predictions.parquet")
    source, weight = np.asarray(preds["source"]), np.asarray(preds[WEIGHT])
    on_disk = {0: np.asarray(io.read(train_file)[WEIGHT]), 1: np.asarray(io.read(test_file)[WEIGHT])}
    ratio = weight[source == 0] / on_disk[0][np.asarray(preds[EVENT_ID])[source == 0] % 10**12]
    assert np.mean(np.isclose(ratio, 0)) == pytest.approx(np.exp(-1), abs=0.04)  # Poisson(1) counts of 0
    assert np.array_equal(np.sort(weight[source == 1]), np.sort(on_disk[1]))
    # evaluate --test-data reads a file through the run's data section: unweighted by the replica too
    data = data_with_sources(run.config.data, [str(test_file), str(test_file)])
    assert np.array_equal(
        np.sort(np.asarray(run_events(data, "binary", None)[WEIGHT])), np.sort(np.r_[on_disk[1], on_disk[1]])
    )


@pytest.mark.parametrize("bad", [np.nan, 2.5])
def test_an_event_id_that_is_missing_or_not_whole_is_named(tmp_path, bad):
    """A NaN id became an arbitrary integer (it decides splits and folds); now the entry is named."""
    gen = np.random.default_rng(2)
    ids = np.arange(300, dtype=np.float64)
    ids[17] = bad
    cols = {"x00": gen.normal(size=300), "evt": ids, LABEL: np.arange(300) % 2}
    io.write(Table(cols), tmp_path / "ids.parquet")
    cfg = _config(
        tmp_path,
        [{"path": str(tmp_path / "ids.parquet")}],
        model={"type": "fisher"},
        data={"label_column": LABEL, "features": ["x00"], "event_id": "evt"},
        name="ids",
    )
    with pytest.raises(DataError, match=r"ids\.parquet: event-id column 'evt' holds .* at entry 17"):
        neyman.train(cfg)


@pytest.mark.parametrize("task", ["multiclass", "gaussian"])
def test_streaming_trains_tasks_of_several_score_columns(tmp_path, task):
    """Multi-class probabilities and (mean, sigma) are several columns per event: the scoring pass once crashed."""
    if task == "multiclass":
        table, data = multiclass_dataset(6000, seed=4), {"label_column": LABEL, "classes": ["a", "b", "c"]}
    else:
        table, data = gaussian_regression_dataset(6000, seed=4), {"target": "target"}
    io.write(table, tmp_path / "events.parquet")
    features = [c for c in table.column_names if c.startswith("x")]
    base = _config(
        tmp_path,
        [{"path": str(tmp_path / "events.parquet")}],
        model=FAST_MLP,
        training={**FAST_TRAINING, "epochs": 6},
        data={**data, "features": features},
    )
    base["task"] = {"type": task}
    memory = neyman.train({**base, "name": "memory"})
    streamed = neyman.train({**base, "name": "stream", "data": {**base["data"], "streaming": True, "step_size": 1500}})
    preds = io.read(streamed.run_dir / "predictions.parquet")
    assert len(preds) == 6000 and len(np.unique(np.asarray(preds[EVENT_ID]))) == 6000
    key = "auc" if task == "multiclass" else "coverage_68"
    assert streamed.metrics["test"][key] == pytest.approx(memory.metrics["test"][key], abs=0.05)


def test_a_multiclass_label_column_of_names_gives_the_classes_their_names(tmp_path):
    """Text labels of k classes: the classes are the names in sorted order, each event under its own."""
    rng = np.random.default_rng(3)
    names = np.array(["wz", "qcd", "top"])[rng.integers(0, 3, 3000)]
    shift = {"qcd": 0.0, "top": 2.0, "wz": -2.0}
    x = rng.normal(size=3000) + np.array([shift[n] for n in names])
    path = io.write(Table({"x": x, "kind": names.astype(object)}), tmp_path / "named.parquet")
    cfg = {
        "name": "named",
        "output_dir": str(tmp_path / "runs"),
        "task": {"type": "multiclass"},
        "data": {"sources": [{"path": str(path)}], "label_column": "kind", "features": ["x"]},
        "model": {"type": "logistic"},
    }
    run = load_run(neyman.train(cfg).run_dir)
    assert run.classes == ["qcd", "top", "wz"]
    scored = run.saved_predictions(tested=True)
    truth = np.array(["qcd", "top", "wz"])[scored.truth.astype(int)]
    assert np.mean(np.array(["qcd", "top", "wz"])[np.argmax(scored.scores, axis=1)] == truth) > 0.75


def test_training_threads_are_the_runs_and_the_callers_thread_count_comes_back(tmp_path):
    import torch

    path = write_labelled_file(tmp_path, "parquet", n_events=1500)
    before = torch.get_num_threads()
    other = 2 if before != 2 else 3
    torch.set_num_threads(other)
    try:
        cfg = _config(
            tmp_path,
            [{"path": str(path)}],
            name="threads",
            model={"type": "mlp", "hidden": [8]},
            training={"epochs": 1, "threads": 1, "progress": False},
            data={"label_column": LABEL},
        )
        neyman.train(cfg)
        assert torch.get_num_threads() == other  # it was left at the run's 1
    finally:
        torch.set_num_threads(before)
