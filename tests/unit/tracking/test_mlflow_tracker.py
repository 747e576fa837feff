"""The MLflow tracker on a local SQLite store, read back through MlflowClient."""

import math

import pytest
from mlflow.tracking import MlflowClient

from neyman.exceptions import StorageError
from neyman.tracking import MlflowTracker, flatten, git_commit, numeric_items
from neyman.tracking.mlflow import MAX_PARAM_LENGTH


def test_flatten_and_numeric_items():
    cfg = {
        "model": {"type": "mlp", "hidden": [64, 64]},
        "data": {"sources": [{"path": "a.root", "label": "signal"}, {"path": "b.root"}]},
        "seed": 1,
    }
    assert flatten(cfg) == {
        "model.type": "mlp",
        "model.hidden": [64, 64],
        "data.sources.0.path": "a.root",
        "data.sources.0.label": "signal",
        "data.sources.1.path": "b.root",
        "seed": 1,
    }
    metrics = {"test": {"auc": 0.9, "rejection_at_eff_0.3": math.inf, "n": 10}, "flag": True, "model": "mlp"}
    assert numeric_items(metrics) == {"test.auc": 0.9, "test.n": 10.0}


def test_git_commit_outside_a_repository(tmp_path):
    assert git_commit(tmp_path) == (None, False)


def test_runs_params_metrics_histories_and_artefacts_read_back(tmp_path):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    tracker = MlflowTracker(uri, "tests", artifact_location=(tmp_path / "art").as_uri())
    parent = tracker.start_run("study", tags={"neyman.study": "s"})
    child = tracker.start_run("trial-0000", parent_run_id=parent)
    params = {f"p{i:03d}": i for i in range(150)}  # more than one MLflow batch
    params["long"] = "x" * (MAX_PARAM_LENGTH + 10)
    params["hidden"] = [64, 32]
    tracker.log_params(child, params)
    tracker.log_metrics(child, {"test.auc": 0.93, "bad": math.nan})
    tracker.log_series(child, {"val_loss": ([1, 2, 3], [0.7, 0.6, 0.55])})
    (tmp_path / "run" / "plots").mkdir(parents=True)
    (tmp_path / "run" / "plots" / "roc.png").write_bytes(b"png")
    (tmp_path / "run" / "metrics.json").write_text("{}")
    tracker.log_artifact(child, tmp_path / "run" / "plots", "plots")
    tracker.log_artifact(child, tmp_path / "run" / "metrics.json")
    tracker.end_run(child)
    tracker.end_run(parent, "KILLED")

    client = MlflowClient(tracking_uri=uri)
    run = client.get_run(child)
    assert run.info.status == "FINISHED" and run.info.run_name == "trial-0000"
    assert run.data.tags["mlflow.parentRunId"] == parent
    assert run.data.params["p149"] == "149" and run.data.params["hidden"] == "[64, 32]"
    assert len(run.data.params["long"]) == MAX_PARAM_LENGTH and run.data.params["long"].endswith("...")
    assert run.data.metrics == {"test.auc": 0.93, "val_loss": 0.55}
    history = client.get_metric_history(child, "val_loss")
    assert [(m.step, m.value) for m in history] == [(1, 0.7), (2, 0.6), (3, 0.55)]
    assert {a.path for a in client.list_artifacts(child)} == {"plots", "metrics.json"}
    assert [a.path for a in client.list_artifacts(child, "plots")] == ["plots/roc.png"]
    assert client.get_run(parent).info.status == "KILLED"
    assert tracker.find_run("neyman.study", "s") == parent
    assert tracker.find_run("neyman.study", "it's not there") is None
    # a second tracker on the same store finds the experiment instead of creating another
    assert MlflowTracker(uri, "tests").experiment_id == tracker.experiment_id


def test_an_unusable_store_is_a_storage_error(tmp_path):
    (tmp_path / "file").write_text("not a directory")
    with pytest.raises(StorageError, match="cannot open the MLflow store"):
        MlflowTracker(f"sqlite:///{tmp_path / 'file' / 'mlflow.db'}", "x")
