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
import hashlib
import os
import re
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neyman._optional import require
from neyman.config import RunConfig, parse_config, validate_paths
from neyman.config.tuning import Categorical, FloatRange, IntRange, Layers, TuningConfig, check_search_space
from neyman.exceptions import ConfigError, MissingDependencyError, NeymanError
from neyman.tuning import (
    CategoricalParam,
    FloatParam,
    IntParam,
    LayersParam,
    Param,
    SearchSpace,
    displayed_url,
    make_pruner,
    make_sampler,
    objective_value,
    open_storage,
    open_study,
    sqlite_url,
    study_exists,
    trial_state,
    write_best_config,
    write_study_report,
    write_trials_table,
)
from neyman.workflows.rundir import RunDirectory
from neyman.workflows.train import resolve_config

if TYPE_CHECKING:
    import optuna

    from neyman.tracking import MlflowTracker

__all__ = ["TuneResult", "search_space", "tune"]

STUDY_DB = "study.db"
BEST_CONFIG = "best.yaml"
TRIALS_TABLE = "trials.csv"
REPORT = "tuning.html"
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


class _StopStudy(Exception):
    """Raised inside a trial for an error every later trial would repeat (not caught by Optuna)."""

    def __init__(self, error: NeymanError) -> None:
        super().__init__(error)
        self.error = error


# -- the search space from the configuration ---------------------------------------------------


def _param(key: str, entry: Any) -> Param:
    if isinstance(entry, FloatRange):
        return FloatParam(key, entry.low, entry.high, log=entry.log, step=entry.step)
    if isinstance(entry, IntRange):
        return IntParam(key, entry.low, entry.high, log=entry.log, step=entry.step)
    if isinstance(entry, Categorical):
        return CategoricalParam(key, tuple(entry.choices))
    if isinstance(entry, Layers):
        w = entry.width
        width: IntParam | CategoricalParam = (
            IntParam("width", w.low, w.high, log=w.log, step=w.step)
            if isinstance(w, IntRange)
            else CategoricalParam("width", tuple(w.choices))
        )
        return LayersParam(key, entry.n[0], entry.n[1], width)
    raise ConfigError(f"tuning.space.{key}: unsupported entry {entry!r}")


def search_space(tuning: TuningConfig) -> SearchSpace:
    """The :class:`~neyman.tuning.SearchSpace` of a ``tuning:`` section."""
    return SearchSpace(_param(k, v) for k, v in tuning.space.items())


def _set(data: dict[str, Any], key: str, value: Any) -> None:
    node = data
    *parents, last = key.split(".")
    for part in parents:
        node = node[part]
    node[last] = copy.deepcopy(value)


def _apply(base: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(dict(base))
    for key, value in values.items():
        _set(out, key, value)
    return out


def _check_values(base: dict[str, Any], space: SearchSpace, enqueue: list[dict[str, Any]]) -> None:
    """Every edge of every range, and every enqueued trial, must make a valid configuration."""
    for key, candidates in space.extremes().items():
        for value in candidates:
            try:
                parse_config(_apply(base, {key: value}))
            except ConfigError as exc:
                raise ConfigError(
                    f"tuning.space.{key}: the value {value!r} (an edge of its range) is not valid here; "
                    f"narrow the range.\n{exc}"
                ) from None
    for i, entry in enumerate(enqueue):
        try:
            space.to_trial(entry)
            parse_config(_apply(base, entry))
        except ConfigError as exc:
            raise ConfigError(f"tuning.enqueue.{i}: {exc}") from None


def _fingerprint(base: dict[str, Any], space: SearchSpace, objective: str) -> dict[str, Any]:
    """What a study's trials are sampled from, without what may differ between machines."""
    data = copy.deepcopy(base)
    for key in _MACHINE_KEYS:
        section, name = key.split(".")
        data.get(section, {}).pop(name, None)
    from neyman.io import parse_source

    for src in data.get("data", {}).get("sources", []):
        # input files may sit in different directories on different machines
        file, tree = parse_source(str(src["path"]))
        src["path"] = Path(file).name + (f":{tree}" if tree else "")
    return {"space": space.describe(), "objective": objective, "config": data}


# -- one trial ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """Everything a trial needs, as plain data (it travels to Dask worker processes)."""

    base: dict[str, Any]
    space: SearchSpace
    objective: str
    direction: str
    study_dir: str
    threads: int | None


class _Objective:
    """The Optuna objective: sample, train a run, return the objective from its metrics."""

    def __init__(self, plan: _Plan) -> None:
        self.plan = plan

    def __call__(self, trial: optuna.Trial) -> float:
        optuna = require("optuna", purpose="tune hyper-parameters")
        from neyman.workflows.train import train

        plan = self.plan
        values = plan.space.suggest(trial)
        cfg = _apply(plan.base, values)
        name = f"trial-{trial.number:04d}"
        cfg.update(name=name, output_dir=plan.study_dir)
        cfg["training"]["progress"] = False
        if plan.threads is not None:
            cfg["training"]["threads"] = plan.threads
        run_dir = Path(plan.study_dir) / name
        trial.set_user_attr("run_dir", str(run_dir))
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        # intermediate values are losses, negated when the study maximises, so that the
        # pruner (which compares them in the study's direction) stops the worst trials
        sign = 1.0 if plan.direction == "minimize" else -1.0
        step = 0

        def on_epoch(epoch: int, losses: dict[str, float]) -> None:
            nonlocal step
            step += 1
            loss = losses.get("val_loss", losses["train_loss"])
            trial.report(sign * loss, step)
            if trial.should_prune():
                raise optuna.TrialPruned(f"pruned after epoch {epoch}: validation loss {loss:.4g}")

        try:
            result = train(cfg, epoch_callback=on_epoch)
        except optuna.TrialPruned:
            if run_dir.is_dir():
                RunDirectory(run_dir).set_status("pruned")
            raise
        except MissingDependencyError as exc:
            raise _StopStudy(exc) from exc
        except NeymanError as exc:
            trial.set_user_attr("error", f"{type(exc).__name__}: {exc}"[:2000])
            raise
        try:
            value = objective_value(result.metrics, plan.objective)
        except ConfigError as exc:
            raise _StopStudy(exc) from exc
        trial.set_user_attr("seconds", round(result.seconds, 3))
        return value


@dataclass(frozen=True)
class _SamplerPlan:
    name: str
    seed: int
    startup_trials: int
    population: int
    pruner: str
    pruner_startup: int
    warmup_epochs: int
    min_epochs: int
    max_epochs: int

    def sampler(self, space: SearchSpace, offset: int) -> optuna.samplers.BaseSampler:
        # a fresh sampler per session (and per parallel trial) gets its own random stream,
        # so a resumed study does not replay the random trials it started with
        return make_sampler(
            self.name,
            space=space,
            seed=self.seed + 1009 * offset,
            startup_trials=self.startup_trials,
            population=self.population,
        )

    def pruner_(self) -> optuna.pruners.BasePruner:
        return make_pruner(
            self.pruner,
            startup_trials=self.pruner_startup,
            warmup_epochs=self.warmup_epochs,
            min_epochs=self.min_epochs,
            max_epochs=self.max_epochs,
        )


def _run_one_trial(
    plan: _Plan, sampling: _SamplerPlan, storage_url: str, study_name: str, offset: int, verbosity: int
) -> int | None:
    """Run one trial of the study in this process (a Dask task); return its number."""
    optuna = require("optuna", purpose="tune hyper-parameters")
    optuna.logging.set_verbosity(verbosity)  # this worker process logs like the one that started it
    storage = open_storage(storage_url)
    study = optuna.load_study(
        study_name=study_name,
        storage=storage,
        sampler=sampling.sampler(plan.space, offset),
        pruner=sampling.pruner_(),
    )
    numbers: list[int] = []
    study.optimize(
        _Objective(plan), n_trials=1, catch=(NeymanError,), callbacks=[lambda _s, t: numbers.append(t.number)]
    )
    return numbers[0] if numbers else None


# -- sessions -----------------------------------------------------------------------------------


def _run_inline(
    study: optuna.Study, plan: _Plan, n: int, on_trial: Callable[[optuna.trial.FrozenTrial], None]
) -> list[int]:
    numbers: list[int] = []

    def done(_study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        numbers.append(trial.number)
        on_trial(trial)

    study.optimize(_Objective(plan), n_trials=n, catch=(NeymanError,), callbacks=[done])
    return numbers


def _optuna_verbosity() -> int:
    """Optuna's logging level in this process."""
    require("optuna", purpose="tune hyper-parameters")
    import optuna

    return optuna.logging.get_verbosity()


def _trial_by_number(storage: optuna.storages.BaseStorage, study_name: str, number: int) -> optuna.trial.FrozenTrial:
    study_id = storage.get_study_id_from_name(study_name)
    return storage.get_trial(storage.get_trial_id_from_study_id_trial_number(study_id, number))


def _run_dask(
    study: optuna.Study,
    storage: optuna.storages.BaseStorage,
    plan: _Plan,
    sampling: _SamplerPlan,
    storage_url: str,
    n: int,
    workers: int,
    first_offset: int,
    on_trial: Callable[[optuna.trial.FrozenTrial], None],
) -> list[int]:
    distributed = require("distributed", purpose="run trials in parallel (--workers)")
    cluster = distributed.LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0", silence_logs=50
    )
    client = distributed.Client(cluster)
    numbers: list[int] = []
    verbosity = _optuna_verbosity()
    try:
        futures = [
            client.submit(
                _run_one_trial,
                plan,
                sampling,
                storage_url,
                study.study_name,
                first_offset + i + 1,
                verbosity,
                pure=False,
            )
            for i in range(n)
        ]
        try:
            for future in distributed.as_completed(futures):
                number = future.result()
                if number is not None:
                    numbers.append(number)
                    on_trial(_trial_by_number(storage, study.study_name, number))
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    finally:
        client.close()
        cluster.close()
    return numbers


# -- outputs ------------------------------------------------------------------------------------


def _best_config(
    plan: _Plan, space: SearchSpace, best: optuna.trial.FrozenTrial, cfg: RunConfig, study_name: str
) -> dict[str, Any]:
    data = _apply(plan.base, space.values(best.params))
    data.update(name=f"{study_name}-best", output_dir=cfg.output_dir)
    if cfg.tracking is not None:
        data["tracking"] = cfg.tracking.model_dump(mode="json")
    return parse_config(data).model_dump(mode="json", exclude={"tuning"})


# -- tracking -----------------------------------------------------------------------------------


class _StudyTracking:
    """A parent MLflow run for the study and a child run per trial."""

    def __init__(self, tracker: MlflowTracker, *, study: str, storage: str, tuning: TuningConfig, artifacts: bool):
        from neyman.tracking import flatten

        self.tracker = tracker
        self.artifacts = artifacts
        key = hashlib.sha1(f"{storage}|{study}".encode()).hexdigest()[:16]
        found = tracker.find_run("neyman.study_key", key)
        if found is not None:
            tracker.reopen_run(found)
            self.parent = found
        else:
            self.parent = tracker.start_run(
                study, tags={"neyman.kind": "tune", "neyman.study": study, "neyman.study_key": key}
            )
            stable = {
                "objective": tuning.objective,
                "direction": tuning.direction,
                "space": tuning.model_dump(mode="json")["space"],
            }
            tracker.log_params(self.parent, flatten({"tuning": stable}))
        tracker.set_tags(
            self.parent,
            {"neyman.storage": storage, "neyman.sampler": tuning.sampler, "neyman.pruner": tuning.pruner.name},
        )

    def trial(self, trial: optuna.trial.FrozenTrial, plan: _Plan, space: SearchSpace) -> None:
        from neyman.workflows.tracking import config_params, log_run_directory

        state = trial_state(trial)
        try:
            values = space.values(trial.params)
        except (KeyError, ConfigError):
            values = {}
        params = config_params(_apply(plan.base, values)) if values else {}
        # the per-epoch loss the pruner saw (intermediate values are negated for maximised objectives);
        # a pruned run has no history.csv, so this is its only record per epoch
        sign = 1.0 if plan.direction == "minimize" else -1.0
        steps = sorted(trial.intermediate_values)
        series = {"monitored_loss": (steps, [sign * trial.intermediate_values[s] for s in steps])} if steps else {}
        if trial.value is not None:
            series["objective"] = ([0], [float(trial.value)])
        status = {"COMPLETE": "FINISHED", "PRUNED": "KILLED"}.get(state, "FAILED")
        log_run_directory(
            self.tracker,
            Path(plan.study_dir) / f"trial-{trial.number:04d}",
            params=params,
            name=f"trial-{trial.number:04d}",
            parent_run_id=self.parent,
            tags={"neyman.kind": "trial", "neyman.trial": str(trial.number), "neyman.trial_state": state.lower()},
            status=status,
            artifacts=self.artifacts and state == "COMPLETE",
            extra_series=series,
        )

    def finish(self, study: optuna.Study, files: Iterable[Path], status: str = "FINISHED") -> None:
        trials = study.get_trials(deepcopy=False)
        counts = {
            f"trials_{s.lower()}": float(sum(trial_state(t) == s for t in trials))
            for s in ("COMPLETE", "PRUNED", "FAIL")
        }
        complete = [t for t in trials if trial_state(t) == "COMPLETE"]
        if complete:
            counts["best_value"] = float(study.best_value)
        self.tracker.log_metrics(self.parent, counts, step=len(trials))
        for f in files:
            if f.is_file():
                self.tracker.log_artifact(self.parent, f)
        self.tracker.end_run(self.parent, status)


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
    if cfg.tuning is None:
        raise ConfigError(
            "the configuration has no tuning: section; add one, e.g.\n"
            "tuning:\n  space:\n    training.optimizer.lr: {float: [1.0e-4, 1.0e-2], log: true}\n  objective: val.auc"
        )
    tuning = cfg.tuning
    n_trials = trials if trials is not None else tuning.trials
    n_workers = workers if workers is not None else tuning.workers
    if n_trials < 1 or n_workers < 1:
        raise ConfigError(f"--trials and --workers must be at least 1 (got {n_trials}, {n_workers})")
    study_name = study or tuning.study or (f"{cfg.name}-study" if cfg.name else "study")
    if not _STUDY_NAME.match(study_name):
        raise ConfigError(f"study name {study_name!r}: use letters, digits, '.', '_' and '-' (it names a directory)")

    resolved = cfg.model_dump(mode="json")
    check_search_space(resolved, dict(tuning.space))
    base = {k: v for k, v in resolved.items() if k not in ("tuning", "tracking")}
    space = search_space(tuning)
    _check_values(base, space, tuning.enqueue)
    validate_paths(cfg)
    if tuning.sampler == "grid":
        space.grid()  # a continuous range without a step is an error before anything starts

    study_dir = (Path(cfg.output_dir) / study_name).resolve()
    url = storage or tuning.storage or sqlite_url(study_dir / STUDY_DB)
    shown = displayed_url(url)
    tracker = None
    if cfg.tracking is not None or track:
        from neyman.config.tuning import TrackingConfig
        from neyman.workflows.tracking import open_tracker

        tracker = open_tracker(cfg.tracking or TrackingConfig(), cfg.output_dir)

    # trial directories of a study that this storage does not hold would be overwritten by
    # a new study's trials: refuse (listing before asking the storage keeps this race-free)
    if (study_dir / "config.yaml").is_file():
        raise ConfigError(f"{study_dir} is a training run, not a study; choose another study name (--study NAME)")
    old_trials = sorted(p.name for p in study_dir.glob("trial-*")) if study_dir.is_dir() else []
    opened = open_storage(url)
    if old_trials and not study_exists(opened, study_name):
        raise ConfigError(
            f"{study_dir} holds trial runs ({', '.join(old_trials[:3])}{' ...' if len(old_trials) > 3 else ''}) "
            f"of a study that the storage {shown} does not hold. Resume with the storage it was run with "
            "(--storage URL), or choose another study name (--study NAME)"
        )
    seed = tuning.seed if tuning.seed is not None else cfg.seed
    epochs = cfg.training.epochs
    sampling = _SamplerPlan(
        name=tuning.sampler,
        seed=seed,
        startup_trials=tuning.startup_trials,
        population=tuning.population,
        pruner=tuning.pruner.name,
        pruner_startup=tuning.pruner.startup_trials,
        warmup_epochs=tuning.pruner.warmup_epochs,
        min_epochs=tuning.pruner.min_epochs,
        max_epochs=epochs,
    )
    direction = tuning.direction or "maximize"
    # the first session's sampler is seeded with the seed itself; later ones are offset
    # by the number of trials already in the study
    existing = (
        len(opened.get_all_trials(opened.get_study_id_from_name(study_name), deepcopy=False))
        if study_exists(opened, study_name)
        else 0
    )
    the_study, created = open_study(
        opened,
        study_name,
        direction=direction,
        sampler=sampling.sampler(space, existing),
        pruner=sampling.pruner_(),
        fingerprint=_fingerprint(base, space, tuning.objective),
    )
    if created:
        for entry in tuning.enqueue:
            the_study.enqueue_trial(space.to_trial(entry), skip_if_exists=True)
    threads = cfg.training.threads
    if threads is None and n_workers > 1:
        threads = max(1, (os.cpu_count() or 1) // n_workers)
    plan = _Plan(
        base=base,
        space=space,
        objective=tuning.objective,
        direction=direction,
        study_dir=str(study_dir),
        threads=threads,
    )
    if tuning.sampler == "grid":
        done = sum(trial_state(t) != "FAIL" for t in the_study.get_trials(deepcopy=False))
        n_trials = min(n_trials, max(space.grid_size() - done, 0))

    tracking = (
        _StudyTracking(
            tracker,
            study=study_name,
            storage=shown,
            tuning=tuning,
            artifacts=(cfg.tracking.artifacts if cfg.tracking else True),
        )
        if tracker is not None
        else None
    )

    def on_trial(trial: optuna.trial.FrozenTrial) -> None:
        if tracking is not None:
            tracking.trial(trial, plan, space)

    try:
        if n_trials == 0:
            numbers: list[int] = []
        elif n_workers == 1:
            numbers = _run_inline(the_study, plan, n_trials, on_trial)
        else:
            numbers = _run_dask(
                the_study, opened, plan, sampling, url, n_trials, min(n_workers, n_trials), existing, on_trial
            )
    except _StopStudy as stop:
        if tracking is not None:
            tracking.tracker.end_run(tracking.parent, "FAILED")
        raise stop.error from None
    except BaseException:
        if tracking is not None:
            tracking.tracker.end_run(tracking.parent, "KILLED")
        raise

    result = _outputs(the_study, plan, space, cfg, study_name, study_dir, shown, seed, numbers)
    if tracking is not None:
        tracking.finish(the_study, [p for p in (result.best_config, result.trials_table, result.report) if p])
    return TuneResult(**{**result.__dict__, "seconds": time.perf_counter() - t0})


def _outputs(
    study: optuna.Study,
    plan: _Plan,
    space: SearchSpace,
    cfg: RunConfig,
    study_name: str,
    study_dir: Path,
    shown: str,
    seed: int,
    numbers: list[int],
) -> TuneResult:
    """Write trials.csv, best.yaml and tuning.html from the whole study (all processes' trials)."""
    assert cfg.tuning is not None
    tuning = cfg.tuning
    trials = study.get_trials(deepcopy=False)
    states: dict[str, int] = {}
    for t in trials:
        states[trial_state(t)] = states.get(trial_state(t), 0) + 1
    study_dir.mkdir(parents=True, exist_ok=True)
    table = write_trials_table(study, study_dir / TRIALS_TABLE)
    best_path: Path | None = None
    best_yaml = ""
    best_trial = best_value = None
    best_values: dict[str, Any] = {}
    if states.get("COMPLETE"):
        best = study.best_trial
        best_trial, best_value = best.number, float(best.value) if best.value is not None else None
        best_values = space.values(best.params)
        best_path = write_best_config(
            study_dir / BEST_CONFIG,
            _best_config(plan, space, best, cfg, study_name),
            study=study_name,
            trial=best.number,
            objective=tuning.objective,
            value=float(best.value if best.value is not None else float("nan")),
        )
        best_yaml = best_path.read_text(encoding="utf-8")
    info: list[list[object]] = [
        ["study", study_name],
        ["storage", shown],
        ["objective", f"{tuning.objective} ({plan.direction})"],
        ["sampler", f"{tuning.sampler} (seed {seed})"],
        ["pruner", tuning.pruner.name],
        ["trial runs", str(study_dir)],
    ]
    report = write_study_report(study_dir / REPORT, study, space, info=info, best_yaml=best_yaml, seed=seed)
    return TuneResult(
        study=study_name,
        study_dir=study_dir,
        storage=shown,
        objective=tuning.objective,
        direction=plan.direction,
        trials_run=sorted(numbers),
        states=states,
        best_trial=best_trial,
        best_value=best_value,
        best_values=best_values,
        best_config=best_path,
        trials_table=table,
        report=report,
    )
