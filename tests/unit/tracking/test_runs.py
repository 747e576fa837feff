"""Logging run directories and studies to a local MLflow store, without a configuration."""

import json

import optuna
from mlflow.tracking import MlflowClient

from neyman.tracking import (
    StudyTracking,
    history_series,
    log_run_directory,
    open_store,
    provenance_tags,
    run_params,
    study_key,
)
from neyman.versions import __version__


def _run_dir(path, *, history="epoch,train_loss,val_loss\n1,0.9,1.0\n2,0.5,0.7\n"):
    path.mkdir(parents=True)
    (path / "metrics.json").write_text(json.dumps({"test": {"auc": 0.9}, "model": "mlp"}))
    (path / "history.csv").write_text(history)
    (path / "config.yaml").write_text("seed: 1\n")
    (path / "model").mkdir()
    (path / "model" / "metadata.json").write_text(json.dumps({"versions": {"torch": "9.9"}}))
    (path / "plots").mkdir()  # empty: not logged
    return path


def test_history_series_per_fold_and_per_iteration(tmp_path):
    f = tmp_path / "history.csv"
    f.write_text("fold,epoch,train_loss,lr\n0,1,0.5,0.1\n0,2,,0.1\n1,1,0.4,x\n,3,0.3,0.2\n")
    assert history_series(f) == {
        "fold0.train_loss": ([1], [0.5]),
        "fold0.lr": ([1, 2], [0.1, 0.1]),
        "fold1.train_loss": ([1], [0.4]),
        "train_loss": ([3], [0.3]),
        "lr": ([3], [0.2]),
    }
    f.write_text("iteration,train_loss\n10,0.5\nnot-a-number,0.4\n")
    assert history_series(f) == {"train_loss": ([10], [0.5])}
    assert history_series(tmp_path / "missing.csv") == {}


def test_run_params_and_provenance_tags():
    cfg = {"seed": 1, "name": None, "model": {"hidden": [8]}, "tuning": {"trials": 3}, "tracking": {"uri": "x"}}
    assert run_params(cfg) == {"seed": 1, "model.hidden": [8]}
    tags = provenance_tags({"torch": "9.9"})
    assert tags["neyman.versions.torch"] == "9.9" and tags["neyman.version"] == __version__


def test_open_store_keeps_artefacts_next_to_a_sqlite_file(tmp_path):
    tracker = open_store(None, "e", tmp_path / "runs")
    assert tracker.uri == f"sqlite:///{(tmp_path / 'runs' / 'mlflow.db').resolve()}"
    experiment = tracker.client.get_experiment(tracker.experiment_id)
    assert experiment.artifact_location == (tmp_path / "runs" / "mlartifacts").resolve().as_uri()
    other = open_store(f"sqlite:///{tmp_path / 'db' / 'store.db'}", "e", tmp_path / "runs")
    location = other.client.get_experiment(other.experiment_id).artifact_location
    assert location == (tmp_path / "db" / "mlartifacts").resolve().as_uri()


def test_a_run_directory_becomes_one_run(tmp_path):
    tracker = open_store(None, "e", tmp_path)
    run = _run_dir(tmp_path / "r")
    run_id = log_run_directory(tracker, run, params={"seed": 1}, name="r", tags={"neyman.kind": "train"})
    client = MlflowClient(tracking_uri=tracker.uri)
    got = client.get_run(run_id)
    assert got.info.status == "FINISHED" and got.info.run_name == "r"
    assert got.data.params == {"seed": "1"} and got.data.metrics["test.auc"] == 0.9
    assert got.data.tags["neyman.versions.torch"] == "9.9" and got.data.tags["neyman.kind"] == "train"
    assert [m.value for m in client.get_metric_history(run_id, "val_loss")] == [1.0, 0.7]
    assert {a.path for a in client.list_artifacts(run_id)} == {"config.yaml", "metrics.json", "history.csv", "model"}


def test_a_study_has_a_parent_run_and_a_child_per_trial(tmp_path):
    tracker = open_store(None, "e", tmp_path)
    study = optuna.create_study(direction="maximize")
    for i, (value, losses) in enumerate([(0.8, [0.5, 0.4]), (None, [3.0])]):
        trial = study.ask()
        trial.suggest_float("lr", 1e-3, 1e-1)
        for step, loss in enumerate(losses, start=1):
            trial.report(-loss, step)  # a maximised study reports negated losses
        _run_dir(tmp_path / f"trial-{i:04d}")
        if value is None:
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, value)

    def track():
        return StudyTracking(
            tracker,
            study="s",
            storage="sqlite:///x.db",
            params={"tuning": {"objective": "val.auc"}},
            tags={"neyman.sampler": "tpe"},
            artifacts=True,
        )

    tracking = track()
    for t in study.trials:
        tracking.trial(t, run_dir=tmp_path / f"trial-{t.number:04d}", params={"lr": 0.1}, direction="maximize")
    tracking.finish(study, [tmp_path / "trial-0000" / "config.yaml", tmp_path / "absent.yaml"])
    client = MlflowClient(tracking_uri=tracker.uri)
    parent = client.get_run(tracking.parent)
    assert parent.info.status == "FINISHED" and parent.data.params == {"tuning.objective": "val.auc"}
    assert parent.data.tags["neyman.study_key"] == study_key("sqlite:///x.db", "s")
    assert parent.data.tags["neyman.sampler"] == "tpe" and parent.data.tags["neyman.storage"] == "sqlite:///x.db"
    assert parent.data.metrics == {"trials_complete": 1, "trials_pruned": 1, "trials_fail": 0, "best_value": 0.8}
    assert {a.path for a in client.list_artifacts(tracking.parent)} == {"config.yaml"}
    children = client.search_runs([tracker.experiment_id], filter_string="tags.`neyman.kind` = 'trial'")
    by_trial = {int(c.data.tags["neyman.trial"]): c for c in children}
    assert by_trial[0].info.status == "FINISHED" and by_trial[1].info.status == "KILLED"
    assert [m.value for m in client.get_metric_history(by_trial[0].info.run_id, "monitored_loss")] == [0.5, 0.4]
    assert client.get_metric_history(by_trial[0].info.run_id, "objective")[0].value == 0.8
    assert client.list_artifacts(by_trial[1].info.run_id) == []  # only complete trials log their files

    # a second session of the study reopens the same parent run
    again = track()
    assert again.parent == tracking.parent and client.get_run(again.parent).info.status == "RUNNING"
    again.end("KILLED")
    assert client.get_run(again.parent).info.status == "KILLED"
