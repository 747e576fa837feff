"""training.decorrelate: a tagger trained not to sculpt the mass, its sculpting evaluated and reported."""

import json
import warnings

import numpy as np
import pytest

import neyman
from neyman import io
from neyman.exceptions import ConfigError, DataError, NeymanWarning
from neyman.metrics import roc_auc
from neyman.testing import mass_sculpting_dataset
from neyman.workflows.evaluate import evaluate

FEATURES = ["shape", "mass_proxy", "noise"]


@pytest.fixture(scope="session")
def sample(tmp_path_factory):
    d = tmp_path_factory.mktemp("decorrelate")
    path = d / "jets.parquet"
    io.write(mass_sculpting_dataset(8_000, seed=4), path)
    return d, path


def _config(d, path, name, **decorrelate):
    model = decorrelate.pop("model", {"type": "mlp", "hidden": [32, 32]})
    return {
        "name": name,
        "output_dir": str(d / "runs"),
        "data": {"sources": [{"path": str(path)}], "label_column": "label", "features": FEATURES},
        "model": model,
        "training": {"epochs": 15, "progress": False, "decorrelate": {"variable": "mass", **decorrelate}},
    }


def _sculpting(run):
    evaluate(run, formats=("png",), n_bootstrap=20)
    metrics = json.loads((run / "metrics.json").read_text())["evaluation"]
    return metrics["sculpting"]


def test_disco_run_sculpts_less_than_the_plain_tagger_and_reports_it(sample):
    d, path = sample
    plain = neyman.train(_config(d, path, "plain", method="none")).run_dir
    disco = neyman.train(_config(d, path, "disco", method="disco", strength=10)).run_dir
    # the predictions carry the variable; the evaluation measures its sculpting
    assert "mass" in io.read(plain / "predictions.parquet").column_names
    before, after = _sculpting(plain), _sculpting(disco)
    assert before["variable"] == "mass" and len(before["points"]) == 3
    assert after["distance_correlation"] < before["distance_correlation"] / 3
    jsd_before = {p["signal_efficiency"]: p["jsd"] for p in before["points"]}
    jsd_after = {p["signal_efficiency"]: p["jsd"] for p in after["points"]}
    assert jsd_after[0.5] < jsd_before[0.5] / 2
    # and it still tags: the mass-independent feature alone gives AUC Φ(1.2/√2) = 0.80
    scored = io.read(disco / "predictions.parquet")
    test = np.asarray(scored["split"]) == 2
    assert roc_auc(np.asarray(scored["score"])[test], np.asarray(scored["label"])[test]) > 0.72
    assert (disco / "plots" / "sculpting.png").is_file()
    report = (disco / "report.html").read_text()
    assert "Sculpting of mass" in report and "1/JSD" in report
    # the saved model is the trained one: ReLU and He's start resolved for the decorrelated training (a reload
    # without the training's context once rebuilt it with GELU), so predict gives the run's own test scores
    from neyman.workflows.predict import predict

    again = io.read(predict(disco, path, d / "disco-scored.parquet").output)
    own = io.read(disco / "predictions.parquet")
    rows = np.asarray(own["event_id"])[test]
    np.testing.assert_allclose(np.asarray(again["score"])[rows], np.asarray(own["score"])[test], rtol=1e-5, atol=1e-7)


def test_planing_decorrelates_a_boosted_tree_when_the_signal_spans_the_mass_range(tmp_path):
    d, path = tmp_path, tmp_path / "wide.parquet"
    io.write(mass_sculpting_dataset(12_000, seed=5, signal_width=60.0), path)
    cfg = _config(d, path, "planed", method="planing", model={"type": "xgboost", "n_estimators": 40})
    run = neyman.train(cfg).run_dir
    planed = _sculpting(run)
    plain_cfg = _config(d, path, "bdt", method="none", model={"type": "xgboost", "n_estimators": 40})
    plain = _sculpting(neyman.train(plain_cfg).run_dir)
    assert planed["distance_correlation"] < plain["distance_correlation"] / 2


def test_test_data_evaluation_reads_the_variable_from_the_files(sample, tmp_path):
    d, path = sample
    run = neyman.train(_config(d, path, "adv", method="adversary", strength=5)).run_dir
    other = tmp_path / "other.parquet"
    io.write(mass_sculpting_dataset(4_000, seed=9), other)
    result = evaluate(run, test_data=[str(other)], formats=("png",), n_bootstrap=20)
    assert result.metrics["sculpting"]["variable"] == "mass"
    assert result.metrics["n_test_events"] == 4_000


def test_bad_decorrelation_settings_are_refused_before_training(sample):
    d, path = sample
    with pytest.raises(ConfigError, match="planing"):
        neyman.train(_config(d, path, "x", method="disco", model={"type": "xgboost"}))
    bad = _config(d, path, "x", method="disco")
    bad["task"] = {"type": "regression"}
    bad["data"]["target"] = "mass_proxy"
    bad["data"]["features"] = ["shape", "noise"]
    with pytest.raises(ConfigError, match="binary"):
        neyman.train(bad)
    with pytest.raises(ConfigError, match="neyman builds"):
        neyman.train(_config(d, path, "x", method="disco") | {"training": {"decorrelate": {"variable": "weight"}}})
    missing = _config(d, path, "x", method="disco")
    missing["training"]["decorrelate"]["variable"] = "mas"
    with pytest.raises(DataError, match="'mas' \\(did you mean 'mass'\\?\\)"):
        neyman.train(missing)
    assert not (d / "runs" / "x").exists()


def test_a_decorrelation_variable_among_the_features_warns(sample):
    d, path = sample
    cfg = _config(d, path, "leaky", method="disco")
    cfg["data"]["features"] = [*FEATURES, "mass"]
    cfg["training"]["epochs"] = 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        neyman.train(cfg)
    assert any(issubclass(w.category, NeymanWarning) and "undo" in str(w.message) for w in caught)


def test_the_variable_is_left_out_of_the_automatic_features(sample):
    d, path = sample
    cfg = _config(d, path, "automatic", method="disco")
    del cfg["data"]["features"]  # every numeric column: the mass was trained on, with a warning only
    cfg["training"]["epochs"] = 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = neyman.train(cfg).run_dir
    assert not any("undo" in str(w.message) for w in caught)
    features = json.loads((run / "model" / "metadata.json").read_text())["features"]
    assert "mass" not in features and set(FEATURES) <= set(features)


def test_missing_values_of_the_variable_are_named_before_training(sample, tmp_path):
    d, path = sample
    table = io.read(path)
    mass = np.asarray(table["mass"]).copy()
    mass[7] = np.nan
    holed = tmp_path / "holed.parquet"
    io.write(table.with_column("mass", mass), holed)
    with pytest.raises(DataError, match=r"'mass' holds 1 missing or infinite values \(the first in event 8"):
        neyman.train(_config(d, holed, "holed", method="disco"))
    assert not (d / "runs" / "holed").exists()


def test_more_adversary_classes_than_the_background_fills_are_warned_about(sample):
    """8000 jets, about 4000 of background: 1000 classes hold four events each."""
    d, path = sample
    cfg = _config(d, path, "adv-bins", method="adversary", strength=1, bins=1000)
    cfg["training"]["epochs"] = 1
    with pytest.warns(NeymanWarning, match=r"bins = 1000 classes of 'mass' for \d+ background events.*at most \d+"):
        neyman.train(cfg)
