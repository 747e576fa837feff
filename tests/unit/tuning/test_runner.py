"""Running trials without training: the objective's failure handling, pruning, sessions and the grid cap."""

import optuna
import pytest

from neyman.exceptions import ConfigError, DataError, MissingDependencyError
from neyman.tuning import (
    CategoricalParam,
    FloatParam,
    SamplingPlan,
    SearchSpace,
    StopStudy,
    StudyObjective,
    TrialOutcome,
    open_session,
    run_trials,
    sqlite_url,
)
from neyman.tuning import session as session_module
from neyman.tuning.runner import run_inline, trial_by_number

SPACE = SearchSpace([FloatParam("lr", 1e-4, 1e-1, log=True)])


def _sampling(name="random", pruner="none", **kw):
    settings = {
        "sampler_name": name,
        "seed": 7,
        "startup_trials": 2,
        "population": 4,
        "pruner_name": pruner,
        "pruner_startup": 1,
        "warmup_epochs": 0,
        "min_epochs": 1,
        "max_epochs": 3,
    }
    return SamplingPlan(**{**settings, **kw})


def _metrics_of(values, trial):
    return TrialOutcome({"val": {"auc": values["lr"]}}, seconds=1.23456)


def _failing_for(bad_lr):
    def run(values, trial):
        if values["lr"] == bad_lr:
            raise DataError("the loss became NaN")
        return _metrics_of(values, trial)

    return run


def test_the_objective_returns_the_metric_and_records_seconds_and_worker():
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.RandomSampler(seed=0))
    objective = StudyObjective(SPACE, "val.auc", "maximize", _metrics_of)
    seen = []
    numbers = run_inline(study, objective, 3, seen.append)
    assert numbers == [0, 1, 2] and [t.number for t in seen] == [0, 1, 2]
    for t in study.trials:
        assert t.value == t.params["lr"] and t.user_attrs["seconds"] == 1.235 and ":" in t.user_attrs["worker"]


def test_a_failing_trial_is_recorded_and_the_study_goes_on():
    study = optuna.create_study(direction="maximize")
    study.enqueue_trial({"lr": 1e-2})
    study.enqueue_trial({"lr": 1e-3})
    objective = StudyObjective(SPACE, "val.auc", "maximize", _failing_for(1e-2))
    assert run_inline(study, objective, 2, lambda t: None) == [0, 1]
    assert [t.state.name for t in study.trials] == ["FAIL", "COMPLETE"]
    assert study.trials[0].user_attrs["error"] == "DataError: the loss became NaN"


@pytest.mark.parametrize(
    ("run", "error"),
    [
        (lambda values, trial: (_ for _ in ()).throw(MissingDependencyError("no torch")), MissingDependencyError),
        (lambda values, trial: TrialOutcome({"val": {"loss": 0.1}}, 1.0), ConfigError),
    ],
)
def test_errors_every_trial_would_repeat_stop_the_study(run, error):
    import logging

    class Records(logging.Handler):
        def __init__(self):
            super().__init__()
            self.records: list[logging.LogRecord] = []

        def emit(self, record):
            self.records.append(record)

    study = optuna.create_study()
    objective = StudyObjective(SPACE, "val.auc", "minimize", run)
    seen = Records()
    logging.getLogger("optuna").addHandler(seen)
    try:
        with pytest.raises(StopStudy) as stop:
            run_inline(study, objective, 3, lambda t: None)
    finally:
        logging.getLogger("optuna").removeHandler(seen)
    assert any("failed" in r.getMessage() for r in seen.records)  # Optuna's other reports stay
    assert isinstance(stop.value.error, error)
    assert [t.state.name for t in study.trials] == ["FAIL"]
    # the error is neyman's to report, once: Optuna's own report of it (with a traceback) is dropped
    assert not any(r.exc_info or "StopStudy" in r.getMessage() for r in seen.records)


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_a_trial_with_a_hopeless_loss_is_pruned(direction):
    study = optuna.create_study(direction=direction, pruner=optuna.pruners.MedianPruner(n_startup_trials=1))
    for lr in (1e-2, 1e-3):
        study.enqueue_trial({"lr": lr})

    def run(values, trial):
        loss = 0.1 if values["lr"] == 1e-2 else 5.0
        for epoch in (1, 2):
            trial.report(epoch, loss)
        return TrialOutcome({"val": {"auc": 0.5}}, 1.0)

    pruned = []
    objective = StudyObjective(SPACE, "val.auc", direction, run, on_pruned=pruned.append)
    run_inline(study, objective, 2, lambda t: None)
    assert [t.state.name for t in study.trials] == ["COMPLETE", "PRUNED"] and pruned == [1]
    # intermediate values are losses, negated when the study maximises
    sign = 1.0 if direction == "minimize" else -1.0
    assert study.trials[0].intermediate_values == {1: sign * 0.1, 2: sign * 0.1}
    assert study.trials[1].intermediate_values == {1: sign * 5.0}


def test_stop_study_travels_through_pickle():
    import pickle

    again = pickle.loads(pickle.dumps(StopStudy(ConfigError("no number"))))
    assert isinstance(again, StopStudy) and isinstance(again.error, ConfigError)


def test_a_session_seeds_its_sampler_after_the_trials_already_in_the_study(tmp_path, monkeypatch):
    seeds = []
    make_sampler = session_module.make_sampler

    def spy(name, **kw):
        seeds.append(kw["seed"])
        return make_sampler(name, **kw)

    monkeypatch.setattr(session_module, "make_sampler", spy)
    url = sqlite_url(tmp_path / "s" / "study.db")
    space = SearchSpace([CategoricalParam("act", ("relu", "gelu", "tanh"))])
    objective = StudyObjective(space, "val.auc", "maximize", lambda v, t: TrialOutcome({"val": {"auc": 0.5}}, 0.0))
    kw = {"direction": "maximize", "space": space, "sampling": _sampling(), "fingerprint": {"a": 1}}
    first = open_session(tmp_path / "s", url, "s", enqueue=[{"act": "tanh"}], **kw)
    assert first.existing == 0 and first.shown == url
    assert run_trials(first, objective, _sampling(), trials=2, workers=1, on_trial=lambda t: None) == [0, 1]
    assert first.study.trials[0].params == {"act": "tanh"}  # enqueued trials come first
    second = open_session(tmp_path / "s", url, "s", enqueue=[{"act": "relu"}], **kw)
    assert second.existing == 2 and len(second.study.trials) == 2  # enqueued only when created
    assert seeds == [7, 7 + 1009 * 2]
    assert trial_by_number(second.storage, "s", 1).number == 1


def test_a_grid_study_runs_only_the_points_left(tmp_path):
    space = SearchSpace([CategoricalParam("act", ("relu", "gelu"))])
    sampling = _sampling("grid")
    opened = open_session(
        tmp_path,
        sqlite_url(tmp_path / "study.db"),
        "g",
        direction="maximize",
        space=space,
        sampling=sampling,
        fingerprint={},
    )
    objective = StudyObjective(space, "val.auc", "maximize", lambda v, t: TrialOutcome({"val": {"auc": 0.5}}, 0.0))
    assert run_trials(opened, objective, sampling, trials=5, workers=1, on_trial=lambda t: None) == [0, 1]
    assert run_trials(opened, objective, sampling, trials=5, workers=1, on_trial=lambda t: None) == []


def test_an_objective_that_needs_labels_is_refused_for_an_unlabelled_unsupervised_run():
    from neyman.tuning import check_objective

    check_objective("val.auc", "density")  # labelled (a class per source): the AUC is written
    check_objective("val.loss", "density", labelled=False)
    with pytest.raises(ConfigError, match=r"without labels .* no 'auc' under 'val'.*loss, n_events"):
        check_objective("val.auc", "density", labelled=False)
    check_objective("val.auc", "binary", labelled=False)  # a classifier always reads labels


def test_an_objective_on_the_test_split_is_warned_about():
    from neyman.exceptions import NeymanWarning
    from neyman.tuning import check_objective

    with pytest.warns(NeymanWarning, match=r"'test\.auc' chooses the model on the test split.*tune on val\.auc"):
        check_objective("test.auc", "binary")
    check_objective("val.auc", "binary")  # quiet


def test_the_pruner_sees_the_first_fold_epoch_by_epoch():
    """A k-fold trial's later folds start again at epoch 1: they are not reported as later steps."""
    study = optuna.create_study(direction="minimize", pruner=optuna.pruners.MedianPruner(n_startup_trials=1))
    for lr in (1e-2, 1e-3):
        study.enqueue_trial({"lr": lr})

    def run(values, trial):
        # the first trial: one fold of 6 epochs; the second: three folds of 3, each fresh at epoch 1 with a high
        # loss that a pruner comparing step 4 with the first trial's fourth epoch would take for hopeless
        losses = [0.5, 0.4, 0.3, 0.3, 0.3, 0.3] if values["lr"] == 1e-2 else [0.5, 0.4, 0.3] * 3
        epochs = range(1, 7) if values["lr"] == 1e-2 else [1, 2, 3] * 3
        for epoch, loss in zip(epochs, losses, strict=True):
            trial.report(epoch, loss)
        return TrialOutcome({"val": {"auc": 0.5}}, 1.0)

    run_inline(study, StudyObjective(SPACE, "val.auc", "minimize", run), 2, lambda t: None)
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    assert study.trials[1].intermediate_values == {1: 0.5, 2: 0.4, 3: 0.3}


def test_a_kfold_objective_is_warned_about_for_choosing_on_the_events_it_reports():
    from neyman.exceptions import NeymanWarning
    from neyman.tuning import check_objective

    with pytest.warns(
        NeymanWarning,
        match=r"'val\.auc': with split\.kfold = 3 a trial has no validation split.*"
        r"optimistic",
    ):
        check_objective("val.auc", "binary", kfold=3)
    check_objective("val.auc", "binary", kfold=0)  # quiet


def test_trials_left_running_by_gone_workers_of_this_machine_are_marked_failed(tmp_path):
    """A stopped --workers study leaves its workers' trials RUNNING; they are failed, naming the interruption."""
    import socket
    import subprocess
    import sys

    from neyman.tuning.runner import _fail_orphaned_trials

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    study = optuna.create_study(storage=sqlite_url(tmp_path / "s.db"), study_name="s")
    orphan, elsewhere, alive = study.ask(), study.ask(), study.ask()
    orphan.set_user_attr("worker", f"{socket.gethostname()}:{gone.pid}")
    elsewhere.set_user_attr("worker", f"another-host:{gone.pid}")
    alive.set_user_attr("worker", f"{socket.gethostname()}:{__import__('os').getppid()}")
    assert _fail_orphaned_trials(study, study._storage, wait=0.1) == [orphan.number]
    states = {t.number: t.state for t in study.get_trials()}
    assert states == {
        0: optuna.trial.TrialState.FAIL,
        1: optuna.trial.TrialState.RUNNING,
        2: optuna.trial.TrialState.RUNNING,
    }
    assert study.trials[0].user_attrs["error"].startswith("interrupted: the study's process was stopped")
