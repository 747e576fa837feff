"""``neyman.tune``: an Optuna study whose trials are ordinary training runs.

Every trial samples the search space, applies the values to the configuration and
calls :func:`neyman.workflows.train.train`, which writes ``<output_dir>/<study>/trial-NNNN``
like any other run.  The study lives in an Optuna storage (by default the SQLite file
``<output_dir>/<study>/study.db``): running ``tune`` again adds trials to it, and
processes on other machines join it through a shared PostgreSQL URL.  ``workers > 1``
runs trials in parallel on this machine in the processes of a local Dask cluster,
each trial asking the storage for its parameters, so no trial is lost or run twice.

A trial whose sampled values make an invalid configuration, or whose training fails
(e.g. the loss becomes NaN), is recorded as failed and the study goes on.  A trial
whose per-epoch validation loss is hopeless is pruned.

After the trials, the study directory holds ``best.yaml`` (the best configuration,
ready for ``neyman train``), ``trials.csv`` and ``tuning.html`` (figures and tables).
"""

from __future__ import annotations

import copy
import functools
import os
import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neyman.atomic import file_sha256, remove_stale_below
from neyman.config import RunConfig, parse_config, resolve_config, validate_paths
from neyman.config.tuning import TrackingConfig, TuningConfig, check_search_space
from neyman.exceptions import ConfigError
from neyman.runs import RunDirectory
from neyman.tracking import StudyTracking
from neyman.tuning.runner import StopStudy, StudyObjective, TrialContext, TrialOutcome, run_trials
from neyman.tuning.session import OpenedStudy, SamplingPlan, open_session, write_session_outputs
from neyman.tuning.space import SearchSpace, apply_values, check_values, space_from_dict, without_refit
from neyman.tuning.study import STUDY_DB, check_objective, sqlite_url
from neyman.workflows.steps.tracking import config_params, open_tracker

if TYPE_CHECKING:
    import optuna

    from neyman.tracking import MlflowTracker

__all__ = ["TuneResult", "tune"]

_STUDY_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# keys that may differ between the sessions and machines of one study
_MACHINE_KEYS = ("training.device", "training.threads", "training.progress")


@dataclass(frozen=True)
class TuneResult:
    """What a tuning session produced.

    Attributes
    ----------
    study
        Study name.
    study_dir
        ``<output_dir>/<study>``: trial runs, ``best.yaml``, ``trials.csv``, ``tuning.html``.
    storage
        The storage URL (password hidden).
    objective, direction
        What was optimised.
    trials_run
        Numbers of the trials this session ran.
    states
        Trials of the whole study by state (``COMPLETE``, ``PRUNED``, ``FAIL``, ``RUNNING``).
    best_trial, best_value, best_values
        The best complete trial of the study: number, objective and ``{key: value}``.
    best_config
        ``best.yaml`` (``None`` while no trial is complete).
    trials_table, report
        ``trials.csv`` and ``tuning.html``.
    seconds
        Wall time of the session.
    """

    study: str
    study_dir: Path
    storage: str
    objective: str
    direction: str
    trials_run: list[int]
    states: dict[str, int]
    best_trial: int | None
    best_value: float | None
    best_values: dict[str, Any] = field(default_factory=dict)
    best_config: Path | None = None
    trials_table: Path | None = None
    report: Path | None = None
    seconds: float = 0.0


# -- the configuration as plain data -------------------------------------------------------------


def _settings(cfg: RunConfig, trials: int | None, workers: int | None, study: str | None) -> tuple[int, int, str]:
    """Trials and workers of this call, and the study name."""
    if cfg.tuning is None:
        raise ConfigError(
            "the configuration has no tuning: section; add one, e.g.\n"
            "tuning:\n  space:\n    training.optimizer.lr: {float: [1.0e-4, 1.0e-2], log: true}\n  objective: val.auc"
        )
    n_trials = trials if trials is not None else cfg.tuning.trials
    n_workers = workers if workers is not None else cfg.tuning.workers
    if n_trials < 1 or n_workers < 1:
        raise ConfigError(f"--trials and --workers must be at least 1 (got {n_trials}, {n_workers})")
    name = study or cfg.tuning.study or (f"{cfg.name}-study" if cfg.name else "study")
    if not _STUDY_NAME.match(name):
        raise ConfigError(f"study name {name!r}: use letters, digits, '.', '_' and '-' (it names a directory)")
    return n_trials, n_workers, name


def _search(cfg: RunConfig, tuning: TuningConfig) -> tuple[dict[str, Any], SearchSpace]:
    """The base configuration (plain data) and the search space, checked before anything is written."""
    resolved = cfg.model_dump(mode="json")
    check_search_space(resolved, dict(tuning.space))
    base = {k: v for k, v in resolved.items() if k not in ("tuning", "tracking")}
    space = space_from_dict(resolved["tuning"]["space"])
    check_values(base, space, tuning.enqueue, parse_config)
    validate_paths(cfg)
    if tuning.sampler == "grid":
        space.grid()  # a continuous range without a step is an error before anything starts
    return base, space


def _fingerprint(base: dict[str, Any], space: SearchSpace, objective: str) -> dict[str, Any]:
    """What a study's trials are sampled from, without what may differ between machines."""
    data = copy.deepcopy(base)
    for key in _MACHINE_KEYS:
        section, name = key.split(".")
        data.get(section, {}).pop(name, None)
    from neyman.io import parse_source

    for src in data.get("data", {}).get("sources", []):
        # input files may sit in different directories on different machines; their bytes must be the same
        file, tree = parse_source(str(src["path"]))
        src["path"] = Path(file).name + (f":{tree}" if tree else "")
        src["sha256"] = file_sha256(file) if Path(file).is_file() else None
    return {"space": space.describe(), "objective": objective, "config": data}


@dataclass(frozen=True)
class _Session:
    """A study opened by this call, with the configuration its trials and outputs come from."""

    cfg: RunConfig
    tuning: TuningConfig
    base: dict[str, Any]
    space: SearchSpace
    sampling: SamplingPlan
    opened: OpenedStudy
    direction: str


def _open_session(
    cfg: RunConfig, tuning: TuningConfig, base: dict[str, Any], space: SearchSpace, name: str, url: str
) -> _Session:
    """Create the study or join it (checked against what it was started with); enqueue trials of a new one."""
    sampling = SamplingPlan(
        sampler_name=tuning.sampler,
        seed=tuning.seed if tuning.seed is not None else cfg.seed,
        startup_trials=tuning.startup_trials,
        population=tuning.population,
        pruner_name=tuning.pruner.name,
        pruner_startup=tuning.pruner.startup_trials,
        warmup_epochs=tuning.pruner.warmup_epochs,
        min_epochs=tuning.pruner.min_epochs,
        max_epochs=cfg.training.epochs,
    )
    direction = tuning.direction or "maximize"
    remove_stale_below(Path(cfg.output_dir) / name)  # files a killed trial was writing
    opened = open_session(
        (Path(cfg.output_dir) / name).resolve(),
        url,
        name,
        direction=direction,
        space=space,
        sampling=sampling,
        fingerprint=_fingerprint(base, space, tuning.objective),
        enqueue=tuning.enqueue,
    )
    return _Session(cfg, tuning, base, space, sampling, opened, direction)


def _train_trial(
    base: dict[str, Any], study_dir: str, threads: int | None, values: dict[str, Any], trial: TrialContext
) -> TrialOutcome:
    """Train the run ``<study_dir>/trial-NNNN`` of a trial's values, reporting its loss per epoch.

    Its arguments are plain data (the objective travels to Dask worker processes).
    """
    from neyman.workflows.train import train

    cfg = apply_values(base, values)
    name = f"trial-{trial.number:04d}"
    cfg.update(name=name, output_dir=study_dir)
    cfg["training"]["progress"] = False
    without_refit(cfg)
    if threads is not None:
        cfg["training"]["threads"] = threads
    trial.set_attr("run_dir", str(Path(study_dir) / name))

    def on_epoch(epoch: int, losses: dict[str, float]) -> None:
        trial.report(epoch, losses.get("val_loss", losses["train_loss"]))

    result = train(cfg, epoch_callback=on_epoch)
    return TrialOutcome(result.metrics, result.seconds)


def _mark_pruned(study_dir: str, number: int) -> None:
    run_dir = Path(study_dir) / f"trial-{number:04d}"
    if run_dir.is_dir():
        RunDirectory(run_dir).set_status("pruned")


def _objective(session: _Session, workers: int) -> StudyObjective:
    threads = session.cfg.training.threads
    if threads is None and workers > 1:
        threads = max(1, (os.cpu_count() or 1) // workers)
    study_dir = str(session.opened.directory)
    return StudyObjective(
        space=session.space,
        metric=session.tuning.objective,
        direction=session.direction,
        run_trial=functools.partial(_train_trial, session.base, study_dir, threads),
        on_pruned=functools.partial(_mark_pruned, study_dir),
    )


# -- tracking -----------------------------------------------------------------------------------


def _study_tracking(session: _Session, tracker: MlflowTracker) -> StudyTracking:
    tuning, tracking = session.tuning, session.cfg.tracking
    stable = {
        "objective": tuning.objective,
        "direction": tuning.direction,
        "space": tuning.model_dump(mode="json")["space"],
    }
    return StudyTracking(
        tracker,
        study=session.opened.name,
        storage=session.opened.shown,
        params={"tuning": stable},
        tags={"neyman.sampler": tuning.sampler, "neyman.pruner": tuning.pruner.name},
        artifacts=tracking.artifacts if tracking is not None else True,
    )


def _log_trial(session: _Session, tracking: StudyTracking | None, trial: optuna.trial.FrozenTrial) -> None:
    if tracking is None:
        return
    values = session.space.sampled(trial.params)
    params = config_params(apply_values(session.base, values)) if values else {}
    run_dir = session.opened.directory / f"trial-{trial.number:04d}"
    tracking.trial(trial, run_dir=run_dir, params=params, direction=session.direction)


def _run(session: _Session, tracking: StudyTracking | None, trials: int, workers: int) -> list[int]:
    """Run the trials; end the parent run (failed or killed) when the study stops early."""
    try:
        return run_trials(
            session.opened,
            _objective(session, workers),
            session.sampling,
            trials=trials,
            workers=workers,
            on_trial=functools.partial(_log_trial, session, tracking),
        )
    except StopStudy as stop:
        if tracking is not None:
            tracking.end("FAILED")
        raise stop.error from None
    except BaseException:
        if tracking is not None:
            tracking.end("KILLED")
        raise


def _best_config(session: _Session, best: optuna.trial.FrozenTrial) -> dict[str, Any]:
    cfg = session.cfg
    data = apply_values(session.base, session.space.values(best.params))
    data.update(name=f"{session.opened.name}-best", output_dir=cfg.output_dir)
    without_refit(data)  # the model the trial evaluated, not one refitted on its validation events too
    if cfg.tracking is not None:
        data["tracking"] = cfg.tracking.model_dump(mode="json")
    return parse_config(data).model_dump(mode="json", exclude={"tuning"})


def _outputs(session: _Session, numbers: list[int]) -> TuneResult:
    """Write trials.csv, best.yaml and tuning.html from the whole study (all processes' trials)."""
    out = write_session_outputs(
        session.opened,
        session.space,
        session.sampling,
        objective=session.tuning.objective,
        best_config=functools.partial(_best_config, session),
    )
    return TuneResult(
        study=session.opened.name,
        study_dir=session.opened.directory,
        storage=session.opened.shown,
        objective=session.tuning.objective,
        direction=session.direction,
        trials_run=sorted(numbers),
        states=out.states,
        best_trial=out.best.number if out.best is not None else None,
        best_value=out.best_value,
        best_values=out.best_values,
        best_config=out.best_config,
        trials_table=out.trials_table,
        report=out.report,
    )


# -- the workflow -------------------------------------------------------------------------------


def tune(
    config: RunConfig | Mapping[str, Any] | str | os.PathLike[str],
    *,
    overrides: Iterable[str] = (),
    trials: int | None = None,
    workers: int | None = None,
    storage: str | None = None,
    study: str | None = None,
    track: bool = False,
) -> TuneResult:
    """Run (or continue) a hyper-parameter study configured by a ``tuning:`` section.

    Parameters
    ----------
    config
        A :class:`~neyman.config.RunConfig`, a mapping or a YAML path, with a ``tuning:`` section.
    overrides
        ``section.key=value`` strings applied first (``tuning.trials=50`` too).
    trials
        Trials this call runs (default ``tuning.trials``).  They are added to the
        study: run again to continue it.
    workers
        Trials in parallel on this machine (default ``tuning.workers``): processes
        of a local Dask cluster, each trial with ``cores // workers`` threads unless
        ``training.threads`` is set.
    storage
        Optuna storage URL (default ``tuning.storage``, else
        ``sqlite:///<output_dir>/<study>/study.db``).  Processes on several machines
        join one study through the same ``postgresql://`` URL.
    study
        Study name (default ``tuning.study``, else ``<name>-study`` for a configuration
        with a ``name``, else ``study``).
    track
        Log to MLflow without a ``tracking:`` section: a parent run for the study and
        a child run per trial.

    Returns
    -------
    TuneResult

    Raises
    ------
    ConfigError
        No ``tuning:`` section, a search-space key that is not a configuration key,
        a range whose edge is not a valid value, an objective that is not in
        ``metrics.json``, or an existing study that was started with something else.
    StorageError
        The storage (or tracking store) cannot be reached.

    Examples
    --------
    >>> result = neyman.workflows.tune.tune("configs/tune.yaml", trials=20, workers=2)  # doctest: +SKIP
    >>> result.best_value, result.best_config  # doctest: +SKIP
    """
    t0 = time.perf_counter()
    cfg = resolve_config(config, overrides)
    n_trials, n_workers, name = _settings(cfg, trials, workers, study)
    tuning = cfg.tuning
    assert tuning is not None
    base, space = _search(cfg, tuning)
    labelled = cfg.data.label_column is not None or any(s.label is not None for s in cfg.data.sources)
    classes = list(cfg.data.classes or ())
    check_objective(tuning.objective, cfg.task.type, classes, labelled=labelled, kfold=cfg.split.kfold)
    url = storage or tuning.storage or sqlite_url((Path(cfg.output_dir) / name).resolve() / STUDY_DB)
    tracker = None
    if cfg.tracking is not None or track:
        tracker = open_tracker(cfg.tracking or TrackingConfig(), cfg.output_dir)
    session = _open_session(cfg, tuning, base, space, name, url)
    tracking = _study_tracking(session, tracker) if tracker is not None else None
    result = _outputs(session, _run(session, tracking, n_trials, n_workers))
    if tracking is not None:
        tracking.finish(
            session.opened.study, [p for p in (result.best_config, result.trials_table, result.report) if p]
        )
    return replace(result, seconds=time.perf_counter() - t0)
