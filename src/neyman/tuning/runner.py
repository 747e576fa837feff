"""Running the trials of a study: in this process, or in the processes of a local Dask cluster.

A trial samples the search space and hands the ``{key: value}`` sample to a
``run_trial`` callable that the caller supplies (for ``neyman tune``, one training
run); the number at the study's objective path of the metrics it returns is the
trial's value.  While it runs, the trial reports a loss per epoch through its
:class:`TrialContext`, and a trial whose loss is hopeless is pruned.

Failures: a :class:`~neyman.exceptions.NeymanError` of one trial (an invalid sample,
a loss that became NaN) fails that trial and the study goes on; an error every later
trial would repeat (a missing package, an objective that is not in the metrics)
stops the study with :class:`StopStudy`.

With several workers every trial runs in a worker process that joins the study
through its storage and asks it for its parameters, so no trial is lost or run twice.
Optuna is imported when a function needs it, not with this module.
"""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from neyman.cluster import local_cluster
from neyman.exceptions import ConfigError, MissingDependencyError, NeymanError
from neyman.optional import require
from neyman.tuning.outputs import trial_state
from neyman.tuning.session import OpenedStudy, SamplingPlan
from neyman.tuning.space import SearchSpace
from neyman.tuning.study import BOUND_ATTR, objective_is_bound, objective_value, open_storage

if TYPE_CHECKING:
    import optuna

__all__ = [
    "StopStudy",
    "StudyObjective",
    "TrialContext",
    "TrialOutcome",
    "optuna_verbosity",
    "run_inline",
    "run_on_dask",
    "run_one_trial",
    "run_trials",
    "trial_by_number",
]

OnTrial = Callable[["optuna.trial.FrozenTrial"], None]
"""Called with each finished trial, in the process that runs the study."""


class StopStudy(Exception):
    """Raised inside a trial for an error every later trial would repeat (Optuna does not catch it).

    Parameters
    ----------
    error
        The error to report once the study has stopped.
    """

    def __init__(self, error: NeymanError) -> None:
        super().__init__(error)
        self.error = error


@dataclass(frozen=True)
class TrialOutcome:
    """What a trial's run produced.

    Attributes
    ----------
    metrics
        Its metrics (for a training run, the content of ``metrics.json``).
    seconds
        Its wall time.
    """

    metrics: Mapping[str, Any]
    seconds: float


class TrialContext:
    """What a running trial may do: report its loss per epoch and record attributes.

    Parameters
    ----------
    trial
        The Optuna trial.
    direction
        ``minimize`` or ``maximize``: the study's direction.

    Notes
    -----
    Intermediate values are losses, negated when the study maximises, so that the
    pruner (which compares them in the study's direction) stops the worst trials.
    The step is the epoch.  A k-fold run or an ensemble trains several models, each
    from epoch 1: only the first one's epochs are reported, so that the pruner
    compares a trial's epoch ``e`` with the other trials' epoch ``e`` (counted on
    across models, a fresh fold's first epoch was judged against late epochs).
    """

    def __init__(self, trial: optuna.Trial, direction: str) -> None:
        self._trial = trial
        self._sign = 1.0 if direction == "minimize" else -1.0
        self._epoch = 0
        self._first_model = True

    @property
    def number(self) -> int:
        """The trial's number in the study."""
        return int(self._trial.number)

    def set_attr(self, key: str, value: Any) -> None:
        """Record a user attribute of the trial (JSON-able)."""
        self._trial.set_user_attr(key, value)

    def report(self, epoch: int, loss: float) -> None:
        """Report the validation loss after an epoch; raise ``optuna.TrialPruned`` when it is hopeless."""
        optuna = require("optuna", purpose="tune hyper-parameters")
        self._first_model &= epoch > self._epoch  # an epoch number not above the last: the next fold or member
        if not self._first_model:
            return
        self._epoch = epoch
        self._trial.report(self._sign * loss, epoch)
        if self._trial.should_prune():
            raise optuna.TrialPruned(f"pruned after epoch {epoch}: validation loss {loss:.4g}")


RunTrial = Callable[[dict[str, Any], TrialContext], TrialOutcome]
"""Runs one trial's sample ``{key: value}`` and returns what it produced."""


@dataclass(frozen=True)
class StudyObjective:
    """The Optuna objective: sample, run the trial, return the number at ``metric`` of its metrics.

    Plain data and module-level callables only, so that it travels to Dask worker processes.

    Attributes
    ----------
    space
        The search space.
    metric
        Dotted path of the objective in the trial's metrics (e.g. ``val.auc``).
    direction
        ``minimize`` or ``maximize``.
    run_trial
        Runs a sample (see :data:`RunTrial`).  A :class:`~neyman.exceptions.NeymanError`
        it raises fails the trial (its message is kept as the ``error`` attribute); a
        :class:`~neyman.exceptions.MissingDependencyError` stops the study.
    on_pruned
        Called with the trial's number when the trial is pruned.
    """

    space: SearchSpace
    metric: str
    direction: str
    run_trial: RunTrial
    on_pruned: Callable[[int], None] | None = None

    def __call__(self, trial: optuna.Trial) -> float:
        """Run one trial and return its objective."""
        optuna = require("optuna", purpose="tune hyper-parameters")
        values = self.space.suggest(trial)
        trial.set_user_attr("worker", f"{socket.gethostname()}:{os.getpid()}")
        try:
            outcome = self.run_trial(values, TrialContext(trial, self.direction))
        except optuna.TrialPruned:
            if self.on_pruned is not None:
                self.on_pruned(trial.number)
            raise
        except MissingDependencyError as exc:
            raise StopStudy(exc) from exc
        except NeymanError as exc:
            trial.set_user_attr("error", f"{type(exc).__name__}: {exc}"[:2000])
            raise
        except KeyboardInterrupt:
            trial.set_user_attr("error", _INTERRUPTED)
            raise
        try:
            value = objective_value(outcome.metrics, self.metric)
        except ConfigError as exc:
            raise StopStudy(exc) from exc
        trial.set_user_attr("seconds", round(outcome.seconds, 3))
        if objective_is_bound(outcome.metrics, self.metric):
            trial.set_user_attr(BOUND_ATTR, True)
        return value


class _StoppedTrialFilter(logging.Filter):
    """Drops Optuna's report (with a traceback) of a trial that raised :class:`StopStudy`, or that Ctrl-C or
    SIGTERM (a :class:`KeyboardInterrupt`) stopped: neyman reports those itself, in one line; a trial
    that failed with neyman's error keeps Optuna's one line, which names it, without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, KeyboardInterrupt):
            return False
        if isinstance(exc, NeymanError):  # a failed trial: Optuna's line names the error; no traceback
            record.exc_info, record.exc_text = None, None
            return True
        return not isinstance(exc, StopStudy) and "StopStudy(" not in record.getMessage()


@contextlib.contextmanager
def _stop_reported_once() -> Iterator[None]:
    """While Optuna runs trials, leave the report of an error that stops the study to neyman."""
    logger = logging.getLogger("optuna.study._optimize")
    quiet = _StoppedTrialFilter()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


def optuna_verbosity() -> int:
    """Optuna's logging level in this process."""
    optuna = require("optuna", purpose="tune hyper-parameters")
    return int(optuna.logging.get_verbosity())


def trial_by_number(storage: optuna.storages.BaseStorage, study_name: str, number: int) -> optuna.trial.FrozenTrial:
    """Trial ``number`` of the study ``study_name`` as the storage holds it now."""
    study_id = storage.get_study_id_from_name(study_name)
    return storage.get_trial(storage.get_trial_id_from_study_id_trial_number(study_id, number))


def run_inline(study: optuna.Study, objective: StudyObjective, trials: int, on_trial: OnTrial) -> list[int]:
    """Run ``trials`` trials of ``study`` one after the other in this process; return their numbers."""
    numbers: list[int] = []

    def done(_study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        numbers.append(trial.number)
        on_trial(trial)

    with _stop_reported_once():
        study.optimize(objective, n_trials=trials, catch=(NeymanError,), callbacks=[done])
    return numbers


def run_one_trial(
    objective: StudyObjective, sampling: SamplingPlan, storage_url: str, study_name: str, offset: int, verbosity: int
) -> int | None:
    """Run one trial of the study in this process (a Dask task); return its number.

    Parameters
    ----------
    objective
        The objective.
    sampling
        Makes this trial's sampler (seeded with ``offset``) and pruner.
    storage_url
        The study's storage.
    study_name
        The study.
    offset
        Distinct per trial of a session (see :meth:`SamplingPlan.sampler`).
    verbosity
        Optuna's logging level in the process that started the study.
    """
    optuna = require("optuna", purpose="tune hyper-parameters")
    optuna.logging.set_verbosity(verbosity)  # this worker process logs like the one that started it
    study = optuna.load_study(
        study_name=study_name,
        storage=open_storage(storage_url),
        sampler=sampling.sampler(objective.space, offset),
        pruner=sampling.pruner(),
    )
    numbers: list[int] = []
    with _stop_reported_once():
        study.optimize(objective, n_trials=1, catch=(NeymanError,), callbacks=[lambda _s, t: numbers.append(t.number)])
    return numbers[0] if numbers else None


def run_on_dask(
    study: optuna.Study,
    storage: optuna.storages.BaseStorage,
    objective: StudyObjective,
    sampling: SamplingPlan,
    *,
    storage_url: str,
    trials: int,
    workers: int,
    first_offset: int,
    on_trial: OnTrial,
) -> list[int]:
    """Run ``trials`` trials in ``workers`` processes of a local Dask cluster; return their numbers.

    Parameters
    ----------
    study, storage
        The study and its opened storage (finished trials are read from it).
    objective, sampling
        What each trial runs; how it samples and prunes.
    storage_url
        The storage's URL (each worker opens it).
    trials, workers
        Trials to run, and worker processes.
    first_offset
        Trial ``i`` (from 0) of this session samples with offset ``first_offset + i + 1``.
    on_trial
        Called here with each finished trial, in the order they finish.
    """
    distributed = require("distributed", purpose="run trials in parallel (--workers)")
    numbers: list[int] = []
    verbosity = optuna_verbosity()
    try:
        with local_cluster(workers, purpose="run trials in parallel (--workers)") as client:
            futures = [
                client.submit(
                    run_one_trial,
                    objective,
                    sampling,
                    storage_url,
                    study.study_name,
                    first_offset + i + 1,
                    verbosity,
                    pure=False,
                )
                for i in range(trials)
            ]
            try:
                for future in distributed.as_completed(futures):
                    number = future.result()
                    if number is not None:
                        numbers.append(number)
                        on_trial(trial_by_number(storage, study.study_name, number))
            except BaseException:
                for future in futures:
                    future.cancel()
                raise
    except BaseException:
        _fail_orphaned_trials(study, storage)
        raise
    return numbers


_INTERRUPTED = "interrupted: the study's process was stopped (Ctrl-C or SIGTERM) while the trial ran"
"""The error recorded for a trial that an interruption of the study stopped."""


def _fail_orphaned_trials(
    study: optuna.Study, storage: optuna.storages.BaseStorage, *, wait: float = 10.0
) -> list[int]:
    """Mark failed the running trials of this machine whose worker process is gone; their numbers.

    A stopped ``--workers`` study closes its Dask cluster, whose worker processes end
    without Optuna recording their trials' ends: without this the trials stay
    ``RUNNING`` until another process finds their heartbeats stale.  A worker is named
    ``host:pid`` (a trial's ``worker`` attribute); trials of other machines are left
    to them.  Worker processes still ending are waited for up to ``wait`` seconds.
    """
    optuna = require("optuna", purpose="tune hyper-parameters")
    host, failed = socket.gethostname(), []
    deadline = time.monotonic() + wait
    for trial in study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,)):
        name, _, pid = str(trial.user_attrs.get("worker", "")).rpartition(":")
        if name != host or not pid.isdigit() or int(pid) == os.getpid():
            continue
        while _alive(int(pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        if _alive(int(pid)):
            continue
        try:
            storage.set_trial_user_attr(trial._trial_id, "error", _INTERRUPTED)
            storage.set_trial_state_values(trial._trial_id, state=optuna.trial.TrialState.FAIL)
        except optuna.exceptions.UpdateFinishedTrialError:
            continue  # it ended after all
        failed.append(trial.number)
    return failed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def run_trials(
    opened: OpenedStudy,
    objective: StudyObjective,
    sampling: SamplingPlan,
    *,
    trials: int,
    workers: int,
    on_trial: OnTrial,
) -> list[int]:
    """Run up to ``trials`` trials: inline for one worker, else on a local Dask cluster.

    Parameters
    ----------
    opened
        The study.
    objective, sampling
        What each trial runs; how it samples and prunes.
    trials
        Trials to run; a grid sampler runs at most the grid points that no trial
        (but a failed one) has taken.
    workers
        Worker processes (capped at ``trials``).
    on_trial
        Called here with each finished trial, in the order they finish.

    Returns
    -------
    list[int]
        Numbers of the trials run, in the order they finished.

    Raises
    ------
    StopStudy
        From a trial, for an error every later trial would repeat.
    """
    study = opened.study
    if sampling.sampler_name == "grid":
        done = sum(trial_state(t) != "FAIL" for t in study.get_trials(deepcopy=False))
        trials = min(trials, max(objective.space.grid_size() - done, 0))
    if trials == 0:
        return []
    if workers == 1:
        return run_inline(study, objective, trials, on_trial)
    return run_on_dask(
        study,
        opened.storage,
        objective,
        sampling,
        storage_url=opened.url,
        trials=trials,
        workers=min(workers, trials),
        first_offset=opened.existing,
        on_trial=on_trial,
    )
