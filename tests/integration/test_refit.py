"""The small-sample refit: early stopping chooses the budget, training + validation events train."""

import json
import math

import numpy as np
import pytest

import neyman
from neyman import io
from neyman.table import EVENT_ID, SPLIT
from neyman.testing import write_labelled_file

FEATURES = [f"x{i:02d}" for i in range(6)]


def _train(tmp_path, path, name, model, refit=None, **training):
    cfg = {
        "name": name,
        "output_dir": str(tmp_path / "runs"),
        "data": {"sources": [{"path": str(path)}], "features": FEATURES, "label_column": "label"},
        "model": model,
        "training": {"progress": False, "refit": refit, **training},
    }
    return neyman.train(cfg)


@pytest.mark.parametrize(
    ("model", "training"),
    [({"type": "xgboost", "n_estimators": 400}, {}), ({"type": "mlp", "hidden": [16]}, {"epochs": 8})],
)
def test_refit_reuses_the_chosen_budget_and_keeps_validation_out_of_sample(tmp_path, model, training):
    path = write_labelled_file(tmp_path, "parquet", n_events=3000)
    plain = _train(tmp_path, path, "plain", model, refit=False, **training)
    refit = _train(tmp_path, path, "refit", model, **training)  # 1,800 training events: refitted by default
    assert not (plain.run_dir / "checkpoints" / "refit").exists()
    assert (refit.run_dir / "checkpoints" / "refit").is_dir()
    # the fit that chose the budget is the plain run's: the validation metrics are the same numbers
    plain_m = json.loads((plain.run_dir / "metrics.json").read_text())
    refit_m = json.loads((refit.run_dir / "metrics.json").read_text())
    assert refit_m["val"]["auc"] == pytest.approx(plain_m["val"]["auc"], abs=1e-12)
    assert refit_m["test"]["auc"] != plain_m["test"]["auc"]
    saved = json.loads((refit.run_dir / "model" / "model.json").read_text())["params"]
    if model["type"] == "xgboost":
        chosen = json.loads((plain.run_dir / "model" / "model.json").read_text())["state"]["best_iteration_"] + 1
        split = np.asarray(io.read(plain.run_dir / "predictions.parquet")[SPLIT])
        n_train, n_val = int(np.sum(split == 0)), int(np.sum(split == 1))
        assert saved["early_stopping_rounds"] is None
        assert saved["n_estimators"] == math.ceil((n_train + n_val) / n_train * chosen) > chosen
    else:  # the history shown is the chosen fit's, with its validation curve
        assert (refit.run_dir / "checkpoints" / "refit" / "last.safetensors").is_file()
        assert _best_epoch(refit.run_dir / "history.csv") == _best_epoch(plain.run_dir / "history.csv")
    # the validation events are scored by the chosen fit; the saved (refitted) model gives others
    preds = io.read(refit.run_dir / "predictions.parquet")
    val = np.asarray(preds[SPLIT]) == 1
    plain_preds = io.read(plain.run_dir / "predictions.parquet")
    assert np.array_equal(np.asarray(preds[EVENT_ID]), np.asarray(plain_preds[EVENT_ID]))
    assert np.allclose(np.asarray(preds["score"])[val], np.asarray(plain_preds["score"])[val])
    assert not np.allclose(np.asarray(preds["score"])[~val], np.asarray(plain_preds["score"])[~val])


def _best_epoch(history_csv):
    rows = [line.split(",") for line in history_csv.read_text().splitlines()]
    col = rows[0].index("val_loss")
    losses = [float(r[col]) for r in rows[1:]]
    return int(np.argmin(losses)) + 1


def test_large_samples_and_refit_false_keep_the_early_stopped_model(tmp_path):
    small = write_labelled_file(tmp_path / "small", "parquet", n_events=3000)
    large = write_labelled_file(tmp_path / "large", "parquet", n_events=36_000)  # 21.6k training events
    for name, path, refit in (("asked", small, False), ("large", large, None)):
        run = _train(tmp_path, path, name, {"type": "lightgbm"}, refit=refit)
        assert not (run.run_dir / "checkpoints" / "refit").exists()
        saved = json.loads((run.run_dir / "model" / "model.json").read_text())["params"]
        assert saved["early_stopping_rounds"] == 20


def test_a_resumed_refitted_run_keeps_the_choosing_fits_validation_scores_and_history(tmp_path):
    path = write_labelled_file(tmp_path, "parquet", n_events=2000)
    run = _train(tmp_path, path, "m", {"type": "mlp", "hidden": [16]}, epochs=6).run_dir
    before, history = io.read(run / "predictions.parquet"), (run / "history.csv").read_text()
    assert "val_loss" in history.splitlines()[0]
    # interrupted after the model was saved: status failed, artefacts gone
    (run / "status.json").write_text('{"state": "failed"}')
    for name in ("metrics.json", "history.csv", "predictions.parquet"):
        (run / name).unlink()
    neyman.train(resume=run)
    after = io.read(run / "predictions.parquet")
    assert np.array_equal(np.asarray(before["score"]), np.asarray(after["score"]))
    assert (run / "history.csv").read_text() == history
