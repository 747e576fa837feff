"""model.uncertainty through a run: neyman predict writes the spreads, neyman export the deterministic mean."""

import numpy as np
import pytest

import neyman
from neyman import io
from neyman.exceptions import ConfigError
from neyman.runs import load_run
from neyman.testing import gaussian_regression_dataset, write_labelled_file

FEATURES = [f"x{i:02d}" for i in range(6)]


@pytest.fixture(scope="session")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("uncertainty")
    io.write(gaussian_regression_dataset(3000, seed=2), d / "reg.parquet")
    return d, write_labelled_file(d, "parquet", n_events=3000), d / "reg.parquet"


def _train(d, name, path, model, **data):
    cfg = {
        "output_dir": str(d / "runs"),
        "name": name,
        "data": {"sources": [{"path": str(path)}], **data},
        "model": {"type": "mlp", "hidden": [16, 16], **model},
        "training": {"epochs": 3, "progress": False},
    }
    return neyman.train(cfg, force=True).run_dir


def _train_gaussian(d, reg, name, model, epochs=3):
    cfg = {
        "output_dir": str(d / "runs"),
        "name": name,
        "data": {"sources": [{"path": str(reg)}], "features": ["x00", "x01", "x02", "x03"], "target": "target"},
        "task": {"type": "gaussian"},
        "model": {"type": "mlp", **model},
        "training": {"epochs": epochs, "progress": False},
    }
    return neyman.train(cfg, force=True).run_dir


@pytest.mark.parametrize(
    "model",
    [
        {"uncertainty": "bayesian", "passes": 20},
        {"uncertainty": "mc_dropout", "dropout": 0.2},
        {"uncertainty": "ensemble", "ensemble": 2},
    ],
)
def test_predict_writes_score_and_logit_spreads(files, tmp_path, model):
    d, labelled, _ = files
    run = _train(d, model["uncertainty"], labelled, model, features=FEATURES, label_column="label")
    out = neyman.predict(run, labelled, tmp_path / "scored.parquet")
    assert out.score_columns == ["score", "score_std", "logit_std"]
    scored = io.read(tmp_path / "scored.parquet")
    std, logit_std = np.asarray(scored["score_std"]), np.asarray(scored["logit_std"])
    assert np.all(std > 0) and np.all(logit_std > 0) and np.all(std <= 0.5)
    # the score column is the deterministic one, as the run scores without draws
    np.testing.assert_allclose(np.asarray(scored["score"]), load_run(run).score(io.read(labelled)), rtol=1e-6)


def test_onnx_export_of_a_bayesian_network_is_its_mean(files, tmp_path):
    pytest.importorskip("onnxruntime")
    from neyman.export import OnnxModel, export_onnx

    d, labelled, _ = files
    run = _train(d, "bayes-onnx", labelled, {"uncertainty": "bayesian"}, features=FEATURES, label_column="label")
    table = io.read(labelled)
    onnx_scores = OnnxModel(export_onnx(run, tmp_path / "bayes.onnx")).score(table)
    np.testing.assert_allclose(onnx_scores, load_run(run).score(table), rtol=1e-5, atol=1e-6)
    # the file and the command say what the graph leaves out (it was silent)
    assert OnnxModel(tmp_path / "bayes.onnx").metadata["uncertainty_left_out"] == ["score_std", "logit_std"]
    from typer.testing import CliRunner

    from neyman.cli.main import _register, app

    _register()
    said = CliRunner().invoke(app, ["export", str(run), "--out", str(tmp_path / "cli.onnx")], terminal_width=200)
    assert said.exit_code == 0 and "the graph computes the scores only: score_std, logit_std" in said.output


def test_gaussian_regression_gets_sigma_model_beside_sigma(files, tmp_path):
    d, _, reg = files
    run = _train_gaussian(d, reg, "reg-bayes", {"hidden": [16, 16], "uncertainty": "bayesian"})
    out = neyman.predict(run, reg, tmp_path / "reg_scored.parquet")
    assert out.score_columns == ["prediction", "sigma", "sigma_model"]
    scored = io.read(tmp_path / "reg_scored.parquet")
    assert np.all(np.asarray(scored["sigma_model"]) > 0) and np.all(np.asarray(scored["sigma"]) > 0)


def test_calibrated_mc_dropout_intervals_reach_predict_and_onnx_alike(files, tmp_path):
    pytest.importorskip("onnxruntime")
    from neyman.export import OnnxModel, export_onnx

    d, _, reg = files
    run = _train_gaussian(d, reg, "reg-dropout", {"hidden": [16, 16], "uncertainty": "mc_dropout", "dropout": 0.3})
    trained = load_run(run)
    scale = trained.models[0].interval_scale_
    assert scale != 1.0  # fitted on the validation events
    table = io.read(reg)
    scores = trained.score(table)
    onnx_scores = OnnxModel(export_onnx(run, tmp_path / "dropout.onnx")).score(table)
    np.testing.assert_allclose(onnx_scores, scores, rtol=1e-5, atol=1e-6)  # the exported σ carries the factor
    scored = io.read(neyman.predict(run, reg, tmp_path / "scored.parquet").output)
    np.testing.assert_allclose(np.asarray(scored["sigma"]), scores[:, 1], rtol=1e-6)


def test_mc_dropout_without_dropout_is_refused_before_a_run_exists(files):
    d, labelled, _ = files
    with pytest.raises(ConfigError, match="dropout"):
        _train(
            d,
            "nodrop",
            labelled,
            {"uncertainty": "mc_dropout", "dropout": 0.0},
            features=FEATURES,
            label_column="label",
        )
    assert not (d / "runs" / "nodrop").exists()


def test_evaluate_reports_the_uncertainty_profile_and_the_coverage(files):
    from neyman.workflows.evaluate import evaluate

    d, labelled, reg = files
    run = _train(
        d, "eval-bayes", labelled, {"uncertainty": "bayesian", "passes": 20}, features=FEATURES, label_column="label"
    )
    numbers = evaluate(run, formats=("png",), n_bootstrap=20).metrics["model_uncertainty"]
    assert numbers["mean_logit_std"] > 0 and len(numbers["profile"]["score"]) == 10
    assert (run / "plots" / "uncertainty.png").is_file()
    # against the distance from the training bulk: the farthest decile is the least certain
    profile = numbers["vs_input_radius"]
    assert len(profile["radius"]) == 10 and profile["logit_std"][-1] > profile["logit_std"][0]
    assert (run / "plots" / "uncertainty_vs_radius.png").is_file()
    assert "Model uncertainty" in (run / "report.html").read_text()
    model = {"hidden": [32, 32], "uncertainty": "ensemble", "ensemble": 2}
    reg_run = _train_gaussian(d, reg, "eval-reg", model, epochs=20)
    coverage = evaluate(reg_run, formats=("png",), n_bootstrap=20).metrics["model_uncertainty"]
    # the regression's intervals are roughly honest even after a short training
    assert 0.55 < coverage["coverage_68"] < 0.85 and 0.85 < coverage["coverage_95"] < 1.0
    assert len(coverage["binned"]["coverage_68"]) == 4
    assert (reg_run / "plots" / "coverage.png").is_file()


def test_a_kfold_run_scores_its_training_file_with_each_events_fold_and_new_files_with_all(files, tmp_path):
    d, labelled, _ = files
    cfg = {
        "output_dir": str(d / "runs"),
        "name": "kfold-bayes",
        "data": {"sources": [{"path": str(labelled)}], "features": FEATURES, "label_column": "label"},
        "model": {"type": "mlp", "hidden": [16, 16], "uncertainty": "bayesian", "passes": 10},
        "split": {"kfold": 2},
        "training": {"epochs": 2, "progress": False},
    }
    run = neyman.train(cfg, force=True).run_dir
    own = io.read(neyman.predict(run, labelled, tmp_path / "own.parquet").output)
    copy = tmp_path / "copy.csv"
    io.write(io.read(labelled), copy)  # the same events in a file the run never read (a byte copy would be known)
    new = io.read(neyman.predict(run, copy, tmp_path / "new.parquet").output)
    # the pooled draws of both fold models spread at least as much as one fold's
    assert np.mean(np.asarray(new["logit_std"])) > np.mean(np.asarray(own["logit_std"]))
    # evaluated on new events (--test-data: no fold), the uncertainty is the pooled draws', never zero
    from neyman.workflows.evaluate import evaluate

    fresh = write_labelled_file(tmp_path, "csv", n_events=600, seed=9)
    numbers = evaluate(run, test_data=[str(fresh)], formats=("png",), n_bootstrap=5, report=False).metrics
    spread = numbers["model_uncertainty"]
    assert spread["mean_logit_std"] > 0.5 * np.mean(np.asarray(new["logit_std"]))
    radii = spread["vs_input_radius"]["radius"]
    assert all(0.1 < r < 10 for r in radii)  # distances of standardised inputs (once uninitialised memory)
    # the run's own training file is no test file: its events would measure the model's memory
    with pytest.raises(ConfigError, match=r"--test-data .*labelled\.parquet is a file the run trained on"):
        evaluate(run, test_data=[str(labelled)], n_bootstrap=5, report=False)
