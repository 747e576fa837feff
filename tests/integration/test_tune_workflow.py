"""neyman tune on tiny synthetic data: studies, resume, pruning, failures, Dask workers, MLflow."""

import json
import re
import socket
import subprocess
import sys

import numpy as np
import optuna
import pytest
import yaml

from neyman import io
from neyman.config import load_config
from neyman.exceptions import ConfigError, StorageError
from neyman.table import LABEL
from neyman.testing import write_labelled_file
from neyman.workflows.tune import tune

FEATURES = [f"x{i:02d}" for i in range(6)]


pytestmark = pytest.mark.usefixtures("quiet_optuna")


@pytest.fixture(scope="session")
def data_file(tmp_path_factory):
    return write_labelled_file(tmp_path_factory.mktemp("data"), "parquet", n_events=1500)


def _config(tmp_path, data_file, space=None, **tuning):
    return {
        "output_dir": str(tmp_path / "runs"),
        "seed": 3,
        "data": {"sources": [{"path": str(data_file)}], "label_column": LABEL, "features": FEATURES},
        "model": {"type": "mlp", "hidden": [16]},
        "training": {"epochs": 3, "batch_size": 128, "progress": False, "threads": 1},
        "tuning": {
            "space": space
            or {
                "training.optimizer.lr": {"float": [1e-3, 3e-2], "log": True},
                "model.hidden": {"layers": {"n": [1, 2], "width": {"int": [8, 32]}}},
                "model.activation": {"categorical": ["relu", "tanh"]},
            },
            "objective": "val.auc",
            "sampler": "random",
            "pruner": "none",
            **tuning,
        },
    }


def _study(result):
    return optuna.load_study(study_name=result.study, storage=f"sqlite:///{result.study_dir / 'study.db'}")


def _trial_config(run_dir):
    return yaml.safe_load((run_dir / "config.yaml").read_text())


def test_three_trial_study_writes_runs_best_yaml_table_and_report_then_resumes(tmp_path, data_file):
    result = tune(_config(tmp_path, data_file), trials=3, study="s")
    assert result.trials_run == [0, 1, 2] and result.states == {"COMPLETE": 3}
    study = _study(result)
    assert [t.number for t in study.trials] == [0, 1, 2]
    for t in study.trials:
        run = result.study_dir / f"trial-{t.number:04d}"
        assert json.loads((run / "status.json").read_text())["state"] == "complete"
        cfg = _trial_config(run)
        # each run directory holds exactly the values its trial sampled, and its objective
        assert cfg["training"]["optimizer"]["lr"] == t.params["training.optimizer.lr"]
        assert cfg["model"]["hidden"] == [t.params["model.hidden.width"]] * t.params["model.hidden.n"]
        assert cfg["model"]["activation"] == t.params["model.activation"]
        assert json.loads((run / "metrics.json").read_text())["val"]["auc"] == t.value
        assert cfg.get("tuning") is None and cfg.get("tracking") is None
    best = max(study.trials, key=lambda t: t.value)
    assert result.best_trial == best.number and result.best_value == best.value

    # best.yaml is a plain run configuration holding the best trial's values
    best_cfg = load_config(result.best_config)
    assert best_cfg.tuning is None and best_cfg.name == "s-best"
    assert best_cfg.training.optimizer.lr == best.params["training.optimizer.lr"]
    assert best_cfg.model.hidden == result.best_values["model.hidden"]
    assert best_cfg.training.refit is False  # as the trial was trained: training best.yaml gives the model evaluated
    table = (result.study_dir / "trials.csv").read_text().splitlines()
    assert len(table) == 4 and "params_training.optimizer.lr" in table[0] and "user_attrs_run_dir" in table[0]
    html = result.report.read_text()
    assert html.count("data:image/png;base64,") >= 3
    assert "optimisation history" in html and "parallel coordinates" in html and "Every trial of the study" in html

    # resuming adds trials to the same study; the first three are untouched
    before = [(t.number, t.params, t.value) for t in study.trials]
    again = tune(_config(tmp_path, data_file), trials=2, study="s")
    assert again.trials_run == [3, 4] and again.states == {"COMPLETE": 5}
    trials = _study(again).trials
    assert [(t.number, t.params, t.value) for t in trials[:3]] == before
    # the resumed session's sampler does not replay the first session's random values
    assert trials[3].params != trials[0].params
    assert sorted(p.name for p in again.study_dir.glob("trial-*")) == [f"trial-{i:04d}" for i in range(5)]


def test_pruning_stops_a_trial_that_is_made_to_be_bad(tmp_path, data_file):
    space = {"training.optimizer.lr": {"float": [1e-7, 1e-1], "log": True}}
    # two good learning rates, then one 10^5 times smaller: it learns nothing, so its
    # validation loss after the first epoch is worse than the median of the others
    cfg = _config(
        tmp_path,
        data_file,
        space,
        pruner={"name": "median", "startup_trials": 2, "warmup_epochs": 0},
        enqueue=[
            {"training.optimizer.lr": 1e-2},
            {"training.optimizer.lr": 2e-2},
            {"training.optimizer.lr": 1e-7},
        ],
    )
    cfg["training"]["epochs"] = 4
    result = tune(cfg, trials=3, study="p")
    trials = _study(result).trials
    assert [t.params["training.optimizer.lr"] for t in trials] == [1e-2, 2e-2, 1e-7]
    assert [t.state.name for t in trials] == ["COMPLETE", "COMPLETE", "PRUNED"]
    assert len(trials[0].intermediate_values) == 4 and len(trials[2].intermediate_values) < 4
    run = result.study_dir / "trial-0002"
    assert json.loads((run / "status.json").read_text())["state"] == "pruned"
    assert result.best_trial in (0, 1)
    # a pruned trial has no objective: Optuna's value for it is its last (negated) monitored loss
    import pandas as pd

    table = pd.read_csv(result.study_dir / "trials.csv")
    assert table["value"].isna().tolist() == [False, False, True]
    assert table["value"].iloc[:2].tolist() == [trials[0].value, trials[1].value]


def test_a_failing_trial_is_recorded_and_the_study_goes_on(tmp_path, data_file):
    space = {"training.optimizer.lr": {"categorical": [1e-2, 1e30]}}
    cfg = _config(
        tmp_path,
        data_file,
        space,
        enqueue=[{"training.optimizer.lr": 1e30}, {"training.optimizer.lr": 1e-2}],
    )
    cfg["training"]["optimizer"] = {"name": "sgd"}
    result = tune(cfg, trials=2, study="f")
    trials = _study(result).trials
    assert [t.state.name for t in trials] == ["FAIL", "COMPLETE"]
    assert "loss became" in trials[0].user_attrs["error"]
    assert json.loads((result.study_dir / "trial-0000" / "status.json").read_text())["state"] == "failed"
    assert result.best_trial == 1 and result.best_config.is_file()


def test_a_search_space_key_that_does_not_exist_is_an_error_before_anything_is_written(tmp_path, data_file):
    cfg = _config(tmp_path, data_file, {"training.optimiser.lr": {"float": [1e-4, 1e-2]}})
    with pytest.raises(ConfigError) as err:
        tune(cfg, trials=1, study="bad")
    assert "'training.optimiser.lr' is not a configuration key" in str(err.value)
    assert "did you mean 'training.optimizer.lr'" in str(err.value)
    cfg = _config(tmp_path, data_file, {"model.dropout": {"float": [0.0, 1.0]}})
    with pytest.raises(
        ConfigError,
        match=r"(?s)model.dropout: the value 1.0 .* Input should be less than 1",
    ):
        tune(cfg, trials=1, study="bad")
    assert not (tmp_path / "runs").exists()


def test_an_objective_missing_from_metrics_json_is_refused_before_any_trial(tmp_path, data_file):
    cfg = _config(tmp_path, data_file, objective="val.acu")
    with pytest.raises(ConfigError, match=r"'val.acu'.*no 'acu' under 'val'.*did you mean 'auc'"):
        tune(cfg, trials=3, study="o")
    flag = _config(tmp_path, data_file, objective="val.rejection_at_eff_0.3_is_bound")
    with pytest.raises(ConfigError, match=r"is a flag .* tune on val\.rejection_at_eff_0\.3$"):
        tune(flag, trials=3, study="o")
    assert not (tmp_path / "runs").exists()


def test_an_objective_outside_the_splits_is_checked_against_the_first_trial(tmp_path, data_file):
    cfg = _config(tmp_path, data_file, objective="overtraining.nothing")
    with pytest.raises(ConfigError, match=r"no number at 'overtraining.nothing'"):
        tune(cfg, trials=3, study="o")
    trials = optuna.load_study(study_name="o", storage=f"sqlite:///{tmp_path / 'runs' / 'o' / 'study.db'}").trials
    assert [t.state.name for t in trials] == ["FAIL"]


def test_an_unreachable_storage_is_a_clear_error(tmp_path, data_file):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(
        StorageError, match=rf"cannot open the Optuna storage postgresql://neyman:\*\*\*@127.0.0.1:{port}"
    ):
        tune(_config(tmp_path, data_file), trials=1, storage=f"postgresql://neyman:pw@127.0.0.1:{port}/optuna")
    assert not list((tmp_path / "runs").glob("*/trial-*"))


def test_an_existing_study_is_never_mixed_with_another_configuration(tmp_path, data_file):
    result = tune(_config(tmp_path, data_file), trials=2, study="keep")
    before = [(t.number, t.params, t.value, t.state) for t in _study(result).trials]
    best_before = result.best_config.read_text()

    changed = _config(tmp_path, data_file)
    changed["training"]["epochs"] = 5
    with pytest.raises(ConfigError, match=r"different configuration \(config.training.epochs: 3 then, 5 now\)"):
        tune(changed, trials=1, study="keep")
    other_space = _config(tmp_path, data_file, {"model.dropout": {"float": [0.0, 0.5]}})
    with pytest.raises(ConfigError, match="different configuration"):
        tune(other_space, trials=1, study="keep")
    other_objective = _config(tmp_path, data_file, objective="val.loss")
    with pytest.raises(ConfigError, match="maximizes its objective, but the configuration asks to minimize"):
        tune(other_objective, trials=1, study="keep")
    assert [(t.number, t.params, t.value, t.state) for t in _study(result).trials] == before
    assert result.best_config.read_text() == best_before

    # trial runs whose study is not in the storage are not overwritten by a new study
    (result.study_dir / "study.db").rename(tmp_path / "moved.db")
    with pytest.raises(ConfigError, match=r"holds trial runs \(trial-0000, trial-0001\) of a study that the storage"):
        tune(_config(tmp_path, data_file), trials=1, study="keep")
    assert not (result.study_dir / "study.db").exists() or not optuna.get_all_study_names(
        f"sqlite:///{result.study_dir / 'study.db'}"
    )
    # machine-specific keys may differ between sessions of one study
    moved = _config(tmp_path, data_file, storage=f"sqlite:///{tmp_path / 'moved.db'}")
    moved["training"]["threads"] = 2
    assert tune(moved, trials=1, study="keep").trials_run == [2]


def test_a_best_trial_whose_rejection_is_a_bound_is_named(tmp_path):
    # separable events: no validation background event passes the cut at ε_S = 0.3 of any trial, so the
    # objective reads '> N_B' and cannot rank the trials; the study says so instead of choosing silently
    import numpy as np

    from neyman import io
    from neyman.exceptions import NeymanWarning
    from neyman.table import Table

    rng = np.random.default_rng(4)
    label = np.arange(1200) % 2
    io.write(Table({"x": 10.0 * label + rng.normal(size=1200), "y": rng.normal(size=1200), LABEL: label}),
             tmp_path / "sep.parquet")  # fmt: skip
    cfg = _config(tmp_path, tmp_path / "sep.parquet", objective="val.rejection_at_eff_0.3")
    cfg["data"]["features"] = ["x", "y"]
    with pytest.warns(NeymanWarning) as caught:
        result = tune(cfg, trials=2, study="sep")
    assert all(t.user_attrs["objective_is_bound"] for t in _study(result).trials)
    messages = [str(w.message) for w in caught]
    assert any(
        re.search(rf"best trial's val\.rejection_at_eff_0\.3 \({result.best_value:.4g}, trial \d\) is a lower bound", m)
        for m in messages
    ), messages


@pytest.mark.slow  # starts a Dask cluster whose two worker processes import torch: ~10-20 s on two cores
def test_two_dask_workers_run_every_trial_once(tmp_path, data_file):
    result = tune(_config(tmp_path, data_file), trials=4, workers=2, study="w")
    trials = _study(result).trials
    assert sorted(t.number for t in trials) == [0, 1, 2, 3] and result.trials_run == [0, 1, 2, 3]
    assert all(t.state.name == "COMPLETE" for t in trials)
    for t in trials:
        cfg = _trial_config(result.study_dir / f"trial-{t.number:04d}")
        assert cfg["training"]["optimizer"]["lr"] == t.params["training.optimizer.lr"]
    assert len({t.params["training.optimizer.lr"] for t in trials}) == 4


def test_mlflow_parent_run_with_a_child_per_trial(tmp_path, data_file):
    from mlflow.tracking import MlflowClient

    cfg = _config(tmp_path, data_file)
    cfg["tracking"] = {"experiment": "tune-test"}
    result = tune(cfg, trials=2, study="m")
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'runs' / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("tune-test")
    runs = client.search_runs([experiment.experiment_id])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and len(children) == 2
    parent = parents[0]
    assert parent.info.run_name == "m" and parent.info.status == "FINISHED"
    assert parent.data.params["tuning.objective"] == "val.auc"
    assert parent.data.metrics["trials_complete"] == 2 and parent.data.metrics["best_value"] == result.best_value
    assert {a.path for a in client.list_artifacts(parent.info.run_id)} == {"best.yaml", "trials.csv", "tuning.html"}
    study = _study(result)
    for child in children:
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        trial = study.trials[int(child.data.tags["neyman.trial"])]
        assert float(child.data.params["training.optimizer.lr"]) == trial.params["training.optimizer.lr"]
        assert child.data.metrics["val.auc"] == trial.value
        history = client.get_metric_history(child.info.run_id, "val_loss")
        assert [m.step for m in history] == [1, 2, 3]
        assert {"config.yaml", "metrics.json", "model", "plots"} <= {
            a.path for a in client.list_artifacts(child.info.run_id)
        }

    # a resumed study logs its new trials under the same parent run
    tune(cfg, trials=1, study="m")
    runs = client.search_runs([experiment.experiment_id])
    assert sum("mlflow.parentRunId" not in r.data.tags for r in runs) == 1 and len(runs) == 4


def test_a_tracked_training_that_fails_is_logged_as_failed(tmp_path, data_file):
    """A crash (here at the second epoch) leaves a FAILED MLflow run with the run's parameters, not nothing."""
    from mlflow.tracking import MlflowClient

    import neyman

    cfg = _config(tmp_path, data_file)
    del cfg["tuning"]

    def crash(epoch, *args, **kwargs):
        if epoch == 2:
            raise RuntimeError("out of memory")

    with pytest.raises(RuntimeError, match="out of memory"):
        neyman.train(cfg, overrides=["name=crashed"], track=True, epoch_callback=crash)
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'runs' / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("neyman").experiment_id])
    assert run.info.run_name == "crashed" and run.info.status == "FAILED"
    assert run.data.params["model.hidden"] == "[16]"
    assert json.loads((tmp_path / "runs" / "crashed" / "status.json").read_text())["state"] == "failed"


def test_train_logs_to_mlflow_only_when_asked_and_never_imports_it_otherwise(tmp_path, data_file):
    from mlflow.tracking import MlflowClient

    import neyman

    cfg = _config(tmp_path, data_file)
    del cfg["tuning"]
    result = neyman.train(cfg, overrides=["name=tracked"], track=True)
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'runs' / 'mlflow.db'}")
    (run,) = client.search_runs([client.get_experiment_by_name("neyman").experiment_id])
    assert run.info.run_name == "tracked" and run.data.params["model.hidden"] == "[16]"
    # settings decided at training time are logged as the model used them, not as None or "auto"
    used = json.loads((result.run_dir / "model" / "model.json").read_text())["params"]
    assert run.data.params["model.dropout"] == str(used["dropout"]) != "None"
    assert run.data.params["model.activation"] == used["activation"] != "auto"
    assert run.data.params["data.sources.0.path"] == str(data_file)
    assert run.data.metrics["test.auc"] == result.metrics["test"]["auc"]
    assert [m.value for m in client.get_metric_history(run.info.run_id, "train_loss")] == pytest.approx(
        [float(r.split(",")[1]) for r in (result.run_dir / "history.csv").read_text().splitlines()[1:]]
    )
    assert "neyman.versions.torch" in run.data.tags and run.data.tags["neyman.version"] == neyman.__version__
    head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    if head.returncode == 0:  # the tests run inside the repository's work tree
        assert run.data.tags["mlflow.source.git.commit"] == head.stdout.strip()
    assert {"config.yaml", "metrics.json", "model", "plots", "preprocessing.json"} <= {
        a.path for a in client.list_artifacts(run.info.run_id)
    }
    assert "tracking:" in (result.run_dir / "config.yaml").read_text()

    code = (
        "import sys, json, neyman; "
        f"cfg = json.loads({json.dumps(json.dumps(cfg))}); cfg['model'] = {{'type': 'logistic'}}; "
        "neyman.train(cfg, overrides=['name=untracked']); "
        "print(','.join(m for m in ('mlflow', 'optuna') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    assert out.stdout.strip() == ""
    assert (tmp_path / "runs" / "untracked" / "metrics.json").is_file()


def test_a_resumed_grid_study_runs_every_grid_point_once(tmp_path, data_file):
    """The study stores each trial's place in the grid: every session must shuffle the grid alike."""
    cfg = _config(tmp_path, data_file, space={"model.shrinkage": {"float": [0.0, 0.2], "step": 0.1}}, sampler="grid")
    cfg["model"] = {"type": "fisher"}
    first = tune(cfg, trials=2, study="g")
    second = tune(cfg, trials=3, study="g")  # the one point left, then the grid is done
    assert len(first.trials_run) == 2 and len(second.trials_run) == 1
    values = sorted(round(t.params["model.shrinkage"], 6) for t in _study(second).trials)
    assert values == [0.0, 0.1, 0.2]


def test_a_tracking_store_that_cannot_be_reached_or_created_is_a_clear_error_before_training(tmp_path, data_file):
    import time

    import neyman

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once the socket is closed
    (tmp_path / "afile").write_text("not a folder")
    cfg = _config(tmp_path, data_file)
    del cfg["tuning"]
    for uri, match in [
        (f"http://127.0.0.1:{port}", rf"cannot reach the MLflow tracking server http://127\.0\.0\.1:{port}"),
        # MLflow retries an unreachable database for about 100 s
        (
            f"postgresql://neyman@127.0.0.1:{port}/mlflow",
            rf"cannot reach the postgresql database server of postgresql://neyman@127\.0\.0\.1:{port}/mlflow",
        ),
        (
            f"sqlite:///{tmp_path / 'afile' / 'mlflow.db'}",
            r"cannot create the folder .*afile of tracking\.uri.*is a file",
        ),
        (f"file://{tmp_path / 'mlruns'}", r"is a folder store.*give a database, e\.g\. sqlite:////.*mlflow\.db"),
    ]:
        start = time.perf_counter()
        with pytest.raises(StorageError, match=match):
            neyman.train({**cfg, "tracking": {"uri": uri}}, overrides=["name=untracked"], track=True)
        assert time.perf_counter() - start < 30  # MLflow alone retries an unreachable server for minutes
    assert not (tmp_path / "runs" / "untracked").exists()


def test_a_study_refuses_its_data_file_replaced_under_the_same_name(tmp_path, data_file):
    """Trials on two samples would be ranked together: the study remembers its files' bytes."""
    own = tmp_path / "data.parquet"
    own.write_bytes(data_file.read_bytes())
    tune(_config(tmp_path, own), trials=1, study="s")
    table = io.read(own)
    io.write(table.with_column(LABEL, 1 - np.asarray(table[LABEL])), own)
    with pytest.raises(ConfigError, match=r"different configuration \(config\.data\.sources\)"):
        tune(_config(tmp_path, own), trials=1, study="s")


def test_an_interrupted_trial_leaves_optunas_traceback_out(tmp_path, data_file, interrupt_training):
    """Ctrl-C or SIGTERM during a trial printed Optuna's 'Trial failed' warning with a whole traceback before
    neyman's one line; the interruption still stops the study, and the trial is marked failed for a resume."""
    import logging

    records: list[logging.LogRecord] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = records.append  # type: ignore[method-assign]
    logger = logging.getLogger("optuna")  # Optuna's loggers do not propagate to the root (caplog)
    logger.addHandler(handler)
    arm = interrupt_training(1)
    try:
        with pytest.raises(KeyboardInterrupt):
            tune(_config(tmp_path, data_file), trials=2, study="cut")
    finally:
        arm()
        logger.removeHandler(handler)
    assert not [r for r in records if r.exc_info], [r.getMessage() for r in records]
    storage = f"sqlite:///{tmp_path / 'runs' / 'cut' / 'study.db'}"
    states = [t.state for t in optuna.load_study(study_name="cut", storage=storage).trials]
    assert states == [optuna.trial.TrialState.FAIL]
