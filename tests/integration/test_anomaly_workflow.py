"""task: autoencoder and task: density through train, evaluate, predict and export."""

import json

import numpy as np
import pytest

import neyman
from neyman import io
from neyman.exceptions import ConfigError, DataError, NeymanWarning
from neyman.runs import load_run
from neyman.table import Table
from neyman.workflows.evaluate import evaluate

FEATURES = ["a", "b", "c"]


def _events(n: int, seed: int, *, anomalous: bool) -> Table:
    """Background: b follows a; the anomaly breaks the correlation (same marginals)."""
    gen = np.random.default_rng(seed)
    a = gen.normal(size=n)
    b = (-a if anomalous else a) * 0.9 + 0.45 * gen.normal(size=n)
    c = np.exp(0.5 * gen.normal(size=n))
    return Table({"a": a, "b": b, "c": c, "n_hits": gen.integers(0, 12, n).astype(np.float64)})


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("anomaly")
    io.write(_events(6000, 0, anomalous=False), d / "bkg.parquet")
    io.write(_events(600, 1, anomalous=True), d / "sig.parquet")
    return d


def _config(d, name, task, labelled=True, **extra):
    sources = [{"path": str(d / "bkg.parquet"), "label": "background"}]
    if labelled:
        sources.append({"path": str(d / "sig.parquet"), "label": "signal"})
    else:
        sources[0].pop("label")
    cfg = {
        "name": name,
        "output_dir": str(d / "runs"),
        "task": {"type": task},
        "data": {"sources": sources, "features": FEATURES},
        "training": {"epochs": 6, "batch_size": 64, "progress": False},  # a step budget would meet a 10-epoch floor
    }
    cfg.update(extra)
    return cfg


# the density: 16 s of the default run (near its 10-minute limit; its other tests stay); --run-slow
@pytest.mark.parametrize("task", ["autoencoder", pytest.param("density", marks=pytest.mark.slow)])
def test_unsupervised_run_learns_from_background_only_and_finds_the_labelled_anomaly(files, task):
    run = neyman.train(_config(files, task, task)).run_dir
    preds = io.read(run / "predictions.parquet")
    assert int(np.sum(np.asarray(preds["label"]) == 1)) == 600  # every signal event is scored
    m = json.loads((run / "metrics.json").read_text())
    assert m["test"]["auc"] > 0.75 and m["test"]["max_sic"] > 1.5
    evaluate(run, formats=("png",), n_bootstrap=10)
    ev = json.loads((run / "metrics.json").read_text())["evaluation"]
    assert ev["auc"] == pytest.approx(m["test"]["auc"])
    assert {"eps_s_at_1e-02", "eps_s_at_1e-03", "eps_s_at_1e-04", "max_sic"} <= set(ev)
    assert ev["eps_s_at_1e-04"] is None  # ~1200 test background events cannot resolve 1e-4
    for figure in ("anomaly_scores", "roc_rejection", "sic"):
        assert (run / "plots" / f"{figure}.png").is_file()
    assert "SIC" in (run / "report.html").read_text()
    if task == "autoencoder":  # the codes of the test events, drawn per class
        assert (run / "plots" / "latent_space.png").is_file()
        assert "Latent space" in (run / "report.html").read_text()
    if task == "density":  # a flow draws events like the real ones, and the report compares them
        generated = ev["generated"]
        assert generated["two_sample_auc"] < 0.6 and generated["frechet_distance"] < 0.05
        assert max(generated["wasserstein_over_std"].values()) < 0.1
        assert (run / "plots" / "generated_correlations.png").is_file()
        assert "Generated events" in (run / "report.html").read_text()


def test_signal_events_never_enter_the_training(files):
    """The same background with and without a labelled signal source gives the same model."""
    with_signal = neyman.train(_config(files, "with", "autoencoder", split={"method": "parity"})).run_dir
    without = neyman.train(_config(files, "without", "autoencoder", labelled=False, split={"method": "parity"})).run_dir
    a, b = io.read(with_signal / "predictions.parquet"), io.read(without / "predictions.parquet")
    bkg = np.asarray(a["label"]) == 0
    np.testing.assert_allclose(np.asarray(a["anomaly_score"])[bkg], np.asarray(b["anomaly_score"]), rtol=1e-5)
    assert "auc" not in json.loads((without / "metrics.json").read_text())["test"]


# the unbounded flow: 17 s of the default run (near its 10-minute limit); --run-slow
@pytest.mark.parametrize("bounded", [pytest.param([], marks=pytest.mark.slow), ["a"]])
def test_density_predict_writes_both_scores_and_onnx_reproduces_them(files, tmp_path, bounded):
    pytest.importorskip("onnxruntime")
    from neyman.export import OnnxModel, export_onnx

    model = {"type": "flow", "bounded": bounded}  # bounded: the signal events lie partly outside the range
    run = neyman.train(_config(files, f"dens-export-{len(bounded)}", "density", model=model)).run_dir
    out = neyman.predict(run, files / "sig.parquet", tmp_path / "scored.parquet")
    assert out.score_columns == ["anomaly_score", "log_density"]
    scored = io.read(tmp_path / "scored.parquet")
    np.testing.assert_allclose(np.asarray(scored["anomaly_score"]), -np.asarray(scored["log_density"]))
    onnx = OnnxModel(export_onnx(run, tmp_path / "dens.onnx")).score(io.read(files / "sig.parquet"))
    np.testing.assert_allclose(onnx[:, 1], np.asarray(scored["log_density"]), rtol=1e-4, atol=1e-4)


def test_autoencoder_onnx_round_trip(files, tmp_path):
    pytest.importorskip("onnxruntime")
    from neyman.export import OnnxModel, export_onnx

    run = neyman.train(_config(files, "ae-export", "autoencoder", model={"type": "autoencoder", "latent": 2})).run_dir
    table = io.read(files / "bkg.parquet")
    onnx = np.asarray(OnnxModel(export_onnx(run, tmp_path / "ae.onnx")).score(table)).reshape(-1)
    ours = np.asarray(load_run(run).score(table)).reshape(-1)
    np.testing.assert_allclose(onnx, ours, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        ({"model": {"type": "mlp"}}, ConfigError, r"cannot learn task 'density'.*use model type flow.*--task binary"),
        ({"preprocessing": {"scaler": "gaussian"}}, ConfigError, "standardises its inputs itself"),
        ({"preprocessing": {"residualize": True}}, ConfigError, "standardises its inputs itself"),
        ({"data_features": ["a", "n_hits"]}, DataError, "'n_hits' is discrete"),
        ({"model": {"type": "flow", "condition": ["zz"]}}, ConfigError, r"'zz'.*not among the features"),
        ({"model": {"type": "flow", "condition": ["a", "a"]}}, ConfigError, r"condition names 'a' more than once"),
        ({"model": {"type": "flow", "ensemble": 3}}, ConfigError, "a density is one flow"),
    ],
)
def test_density_runs_refuse_bad_input_before_training(files, change, error, match):
    cfg = _config(files, "bad", "density")
    if "data_features" in change:
        cfg["data"]["features"] = change.pop("data_features")
    cfg.update(change)
    with pytest.raises(error, match=match):
        neyman.train(cfg)
    assert not (files / "runs" / "bad").exists()  # refused before a run directory exists


def test_default_model_of_an_unsupervised_task_is_its_family(files):
    from neyman.config import parse_config

    assert parse_config(_config(files, "x", "density")).model.type == "flow"
    assert parse_config(_config(files, "x", "autoencoder")).model.type == "autoencoder"
    assert parse_config(_config(files, "x", "binary")).model.type == "mlp"
    images = _config(files, "x", "autoencoder")
    images["data"] = {**images["data"], "representation": "image", "features": []}
    assert parse_config(images).model.type == "conv_autoencoder"
    images["data"]["representation"] = "particles"
    assert parse_config(images).model.type == "set_autoencoder"


@pytest.fixture(scope="session")
def density_run(files):
    return neyman.train(_config(files, "dens-sample", "density", labelled=False)).run_dir


def test_sample_is_reproducible_and_follows_the_training_events(files, density_run, tmp_path):
    from neyman.workflows.sample import sample

    first = sample(density_run, tmp_path / "a.parquet", events=30_000, seed=5, step_size=7000)
    again = sample(density_run, tmp_path / "b.root", events=30_000, seed=5, step_size=7000)
    other = sample(density_run, tmp_path / "c.parquet", events=30_000, seed=6, step_size=7000)
    assert first.columns == FEATURES and first.n_events == 30_000
    a, b, c = (io.read(r.output).to_numpy(FEATURES, dtype=np.float64) for r in (first, again, other))
    np.testing.assert_allclose(a, b, rtol=1e-6)  # the same draw, whatever the format
    assert not np.allclose(a, c)
    provenance = json.loads(first.provenance.read_text())
    assert provenance["command"] == "neyman sample" and provenance["seed"] == 5 and provenance["events"] == 30_000
    reference = io.read(files / "bkg.parquet").to_numpy(FEATURES, dtype=np.float64)
    np.testing.assert_allclose(a.mean(axis=0), reference.mean(axis=0), atol=0.05)
    assert np.corrcoef(a[:, 0], a[:, 1])[0, 1] == pytest.approx(
        np.corrcoef(reference[:, 0], reference[:, 1])[0, 1], abs=0.03
    )


def test_sample_refuses_what_it_cannot_draw_from_and_never_overwrites_other_files(files, density_run, tmp_path):
    from neyman.workflows.sample import sample

    classifier = neyman.train(
        {
            "name": "clf",
            "output_dir": str(files / "runs"),
            "data": {
                "sources": [
                    {"path": str(files / "bkg.parquet"), "label": "background"},
                    {"path": str(files / "sig.parquet"), "label": "signal"},
                ],
                "features": FEATURES,
            },
            "model": {"type": "mlp", "hidden": [8]},
            "training": {"epochs": 1, "progress": False},
        }
    ).run_dir
    with pytest.raises(
        DataError, match="run of task 'binary' with model 'mlp', which has no distribution to draw from"
    ):
        sample(classifier, tmp_path / "x.parquet", events=10)
    with pytest.raises(DataError, match="unconditionally; draw without --condition"):
        sample(density_run, tmp_path / "x.parquet", events=10, condition={"a": 1.0})
    keep = tmp_path / "data.parquet"
    io.write(io.read(files / "sig.parquet"), keep)
    before = keep.read_bytes()
    with pytest.raises(DataError, match="not a sample neyman drew"):
        sample(density_run, keep, events=10, force=True)
    assert keep.read_bytes() == before
    with pytest.raises(DataError, match="inside the run directory"):
        sample(density_run, density_run / "x.parquet", events=10)


def test_conditional_density_samples_at_a_value_and_from_a_file(files, tmp_path, monkeypatch):
    from neyman.workflows.sample import sample
    from neyman.workflows.steps import fidelity

    cfg = _config(files, "cond", "density", labelled=False, model={"type": "flow", "condition": ["a"]})
    cfg["training"] = {"epochs": 4, "batch_size": 256, "progress": False}  # a budget in steps meets a 10-epoch floor
    run = neyman.train(cfg).run_dir
    fixed = sample(run, tmp_path / "fixed.parquet", events=4000, condition={"a": 1.5})
    drawn = io.read(fixed.output)
    assert fixed.columns == ["b", "c", "a"] and np.all(np.asarray(drawn["a"]) == 1.5)
    assert np.mean(np.asarray(drawn["b"])) == pytest.approx(0.9 * 1.5, abs=0.15)  # b follows a
    rows = sample(run, tmp_path / "rows.parquet", condition=str(files / "sig.parquet"))
    assert rows.n_events == 600
    np.testing.assert_array_equal(
        np.asarray(io.read(rows.output)["a"]), np.asarray(io.read(files / "sig.parquet")["a"])
    )
    # fewer events than rows: rows spread through the file, not its first (a sorted file's lowest a)
    ordered_a = np.sort(np.asarray(io.read(files / "sig.parquet")["a"]))
    ordered = io.write(Table({"a": ordered_a}), tmp_path / "sorted.parquet")
    spread = io.read(sample(run, tmp_path / "some.parquet", condition=str(ordered), events=60).output)
    np.testing.assert_array_equal(np.asarray(spread["a"]), ordered_a[::10])
    with pytest.raises(DataError, match="conditional on a"):
        sample(run, tmp_path / "none.parquet", events=10)
    with pytest.warns(UserWarning, match=r"conditions outside the range .* trained on: 'a': 1000 outside \["):
        sample(run, tmp_path / "far.parquet", events=10, condition={"a": 1000.0})
    # the export reproduces ln p(b, c | a) within its tolerance (a conditional spline flow in float32
    # differs by up to ~6e-5, which the check once refused)
    from neyman.export import OnnxModel, export_onnx

    events = io.read(files / "bkg.parquet").take(np.arange(2000))
    exported = OnnxModel(export_onnx(run, tmp_path / "cond.onnx", x_raw=events.to_numpy(["a", "b", "c"])))
    ours = io.read(neyman.predict(run, files / "bkg.parquet", tmp_path / "cond-scored.parquet").output)
    np.testing.assert_allclose(exported.score(events)[:, 1], np.asarray(ours["log_density"])[:2000], atol=1e-4)
    # the generated events are judged with their conditions: a model that ignored them is found out
    honest = evaluate(run, formats=("png",), n_bootstrap=5, report=False).metrics["generated"]
    drawn_at = fidelity.draw
    monkeypatch.setattr(fidelity, "draw", lambda t, n, context, **kw: drawn_at(t, n, context=context[::-1], **kw))
    ignoring = evaluate(run, formats=("png",), n_bootstrap=5, report=False).metrics["generated"]
    assert honest["two_sample_auc"] < 0.6 < 0.7 < ignoring["two_sample_auc"]  # on (b, c) alone: both ~0.5
    assert ignoring["wasserstein"]["b"] == pytest.approx(honest["wasserstein"]["b"], abs=0.05)  # marginals alike


def test_sample_command_line(files, density_run, tmp_path):
    import subprocess
    import sys

    def neyman_cli(*args):
        return subprocess.run([sys.executable, "-m", "neyman", *args], capture_output=True, text=True, check=False)

    out = tmp_path / "cli.h5"
    result = neyman_cli("sample", str(density_run), "-n", "500", "-o", str(out), "--seed", "2")
    assert result.returncode == 0, result.stderr
    assert len(io.read(out)) == 500 and "provenance" in result.stdout
    bad = neyman_cli("sample", str(density_run), "-n", "5", "-o", str(tmp_path / "x.parquet"), "--condition", "a=x")
    assert bad.returncode != 0 and "is not a number" in bad.stdout + bad.stderr
    assert "Traceback" not in bad.stdout + bad.stderr


def test_a_run_without_signal_labels_is_evaluated_and_reported(density_run):
    """Labels are optional for an unsupervised run: its evaluation and report leave out the signal class."""
    result = evaluate(density_run, formats=("png",), n_bootstrap=10)
    ev = json.loads((density_run / "metrics.json").read_text())["evaluation"]
    assert "auc" not in ev or ev["auc"] is None
    assert (density_run / "plots" / "correlation_background.png").is_file()
    assert not (density_run / "plots" / "correlation_signal.png").exists()
    assert result.report.is_file() and "density" in result.report.read_text()
    # its importance is the rise of the background's anomaly score, not an AUC it does not have
    assert ev["permutation_importance_measures"] == "the rise of the background's mean anomaly score"
    assert "Permutation importance: the rise of the background&#x27;s mean anomaly score" in result.report.read_text()


# the density: 21 s of the default run (near its 10-minute limit); --run-slow
@pytest.mark.parametrize("task", ["autoencoder", pytest.param("density", marks=pytest.mark.slow)])
def test_a_test_file_of_a_handful_of_events_is_evaluated_without_its_sample_figures(files, tmp_path, task):
    """One background event has no covariance (the latent plane) and five no two-sample test: both are left out."""
    run = neyman.train(_config(files, f"tiny-{task}", task, training={"epochs": 2, "progress": False})).run_dir
    io.write(_events(1, 5, anomalous=False), tmp_path / "one_bkg.parquet")
    io.write(_events(4, 6, anomalous=True), tmp_path / "four_sig.parquet")
    tests = [str(tmp_path / "one_bkg.parquet"), str(tmp_path / "four_sig.parquet")]
    result = evaluate(run, test_data=tests, formats=("png",), n_bootstrap=10)
    assert result.report.is_file()
    said = json.dumps(json.loads((result.report.parent / "metrics.json").read_text()))
    assert '"auc"' in said and '"generated"' not in said  # no comparison of generated with one real event
    # a file of signal alone: the importance (the background's score) is undefined and left out with a word; it
    # was a traceback. A run of one labelled file, so that one test file replaces it
    both = Table.concat([_events(3000, 7, anomalous=False), _events(300, 8, anomalous=True)])
    io.write(both.with_column("label", np.repeat([0, 1], [3000, 300])), tmp_path / "labelled.parquet")
    cfg = _config(files, f"one-file-{task}", task, training={"epochs": 2, "progress": False})
    cfg["data"].update(sources=[{"path": str(tmp_path / "labelled.parquet")}], label_column="label")
    one = neyman.train(cfg).run_dir
    io.write(_events(50, 9, anomalous=True).with_column("label", np.ones(50, dtype=np.int64)), tmp_path / "sig.parquet")
    with pytest.warns(NeymanWarning, match=r"no permutation importance.*without background"):
        result = evaluate(one, test_data=[str(tmp_path / "sig.parquet")], formats=("png",), n_bootstrap=10)
    assert result.report.is_file()
    assert "permutation_importance" not in json.loads((result.report.parent / "metrics.json").read_text())


def test_a_k_fold_density_applied_to_new_events_is_the_mixture_of_its_folds_and_integrates_to_one(files):
    cfg = _config(files, "kfold-density", "density", labelled=False, split={"kfold": 3})
    cfg["data"]["features"] = ["a"]
    cfg["training"]["steps"] = 150
    trained = load_run(neyman.train(cfg).run_dir)
    grid = np.linspace(-12.0, 12.0, 24_001)
    log_p = np.asarray(trained.score(Table({"a": grid})))[:, 1]
    folds = [
        np.asarray(m.predict_raw(p.transform(grid[:, None]))).reshape(-1)
        for m, p in zip(trained.models, trained.preprocessors, strict=True)
    ]
    mixture = np.log(np.mean(np.exp(folds), axis=0))
    np.testing.assert_allclose(log_p, mixture, rtol=1e-6, atol=1e-6)
    assert np.max(np.abs(np.mean(folds, axis=0) - mixture)) > 1e-3  # the folds differ: a mean of logs would not do
    assert abs(np.exp(log_p).sum() * (grid[1] - grid[0]) - 1.0) < 5e-3


def test_a_k_fold_anomaly_evaluation_gives_the_spread_over_folds(files):
    """As for a k-fold classifier: every number per fold, then mean ± std across the folds."""
    cfg = _config(files, "kfold-autoencoder", "autoencoder", split={"kfold": 3})
    cfg["training"]["steps"] = 150
    run = neyman.train(cfg).run_dir
    ev = evaluate(run, formats=("png",), n_bootstrap=5, report=False).metrics
    spread = ev["folds"]
    assert {"auc", "max_sic", "eps_s_at_1e-02"} <= set(spread)
    assert spread["auc"]["std"] > 0 and abs(spread["auc"]["mean"] - ev["auc"]) < 0.05


def test_negative_weights_in_a_density_fit_are_warned_about(files, tmp_path):
    """150 events of weight -1 in one place carved a hole of ln p = -11.7 there, without a word."""
    table = _events(3000, 11, anomalous=False)
    weights = np.where(np.arange(3000) < 150, -1.0, 1.0)
    io.write(table.with_column("w", weights), tmp_path / "signed.parquet")
    cfg = _config(files, "signed", "density", labelled=False, training={"epochs": 2, "progress": False})
    cfg["data"].update(sources=[{"path": str(tmp_path / "signed.parquet")}], features=["a", "b"], weight="w")
    with pytest.warns(NeymanWarning, match=r"150 of the 3000 events have negative weights.*reweight --positive"):
        neyman.train(cfg)


def test_a_vae_draws_a_column_constant_in_training_at_its_value(files, tmp_path):
    """The inverse scaling of a constant column has no scale: draws of c = 3 came out as 3 +- 0.8, down to -6.6."""
    from neyman.workflows.sample import sample

    table = _events(3000, 12, anomalous=False)
    io.write(table.with_column("flag", np.full(3000, 3.0)), tmp_path / "flagged.parquet")
    cfg = _config(files, "vae-flag", "autoencoder", labelled=False, training={"epochs": 2, "progress": False})
    cfg["model"] = {"type": "autoencoder", "variational": True}
    cfg["data"].update(sources=[{"path": str(tmp_path / "flagged.parquet")}], features=["a", "b", "flag"])
    run = neyman.train(cfg).run_dir
    drawn = io.read(sample(run, tmp_path / "drawn.parquet", events=2000).output)
    assert np.all(np.asarray(drawn["flag"]) == 3.0)
    assert np.std(np.asarray(drawn["a"])) > 0.1  # the others are drawn


def test_predict_says_when_events_lie_so_far_out_that_their_log_density_is_minus_infinity(files, tmp_path):
    cfg = _config(files, "far", "density", labelled=False, training={"epochs": 1, "progress": False})
    cfg["data"]["features"] = ["a", "b"]
    run = neyman.train(cfg).run_dir
    io.write(Table({"a": np.array([0.0, 1e20, 1.0, -1e30]), "b": np.zeros(4)}), tmp_path / "far.parquet")
    with pytest.warns(NeymanWarning, match=r"2 of the 4 events of .*far\.parquet got a score that is not a finite"):
        out = neyman.predict(run, tmp_path / "far.parquet", tmp_path / "scored.parquet")
    assert np.isfinite(np.asarray(io.read(out.output)["log_density"])).sum() == 2


def test_a_test_split_of_a_handful_of_events_is_warned_about_without_classes(files, tmp_path):
    """Only classes were counted: a density tested on 2 events gave its figures without a word."""
    io.write(_events(20, 13, anomalous=False), tmp_path / "twenty.parquet")
    cfg = _config(files, "twenty", "density", labelled=False, training={"steps": 20, "progress": False})
    cfg["data"].update(sources=[{"path": str(tmp_path / "twenty.parquet")}], features=["a", "b"])
    with pytest.warns(NeymanWarning, match=r"the test split holds \d events: too few to measure the model"):
        neyman.train(cfg)
