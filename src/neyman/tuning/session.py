"""A session of a study: how it samples and prunes, opening the study, and writing its outputs.

One call of ``neyman tune`` is a session: it opens (or creates) the study in its
storage with a sampler and a pruner of its own, runs trials
(:mod:`neyman.tuning.runner`), and writes the outputs of the whole study, which
may hold the trials of other sessions and machines.  Nothing here reads a
configuration.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neyman.exceptions import NeymanWarning
from neyman.tuning.outputs import StudyOutputs, write_study_outputs
from neyman.tuning.space import SearchSpace
from neyman.tuning.study import (
    BOUND_ATTR,
    displayed_url,
    make_pruner,
    make_sampler,
    open_study,
    open_study_storage,
    trial_count,
)

if TYPE_CHECKING:
    import optuna

__all__ = ["SEED_STRIDE", "OpenedStudy", "SamplingPlan", "open_session", "write_session_outputs"]

#: Spacing of the seeds of samplers made for one study (per session, per parallel trial).
SEED_STRIDE = 1009


@dataclass(frozen=True)
class SamplingPlan:
    """How every process of a session makes its sampler and pruner (see :func:`~neyman.tuning.make_sampler`).

    Attributes
    ----------
    sampler_name, seed, startup_trials, population
        The sampler, its base seed, random trials before it models the objective,
        and the NSGA-II population.
    pruner_name, pruner_startup, warmup_epochs
        The pruner, and (``median``) trials that finish before anything is pruned and
        epochs of each trial that are never pruned.
    min_epochs, max_epochs
        ``hyperband``: the smallest and largest number of epochs of a trial.
    """

    sampler_name: str
    seed: int
    startup_trials: int
    population: int
    pruner_name: str
    pruner_startup: int
    warmup_epochs: int
    min_epochs: int
    max_epochs: int | None

    def sampler(self, space: SearchSpace, offset: int) -> optuna.samplers.BaseSampler:
        """A fresh sampler for the search space, seeded for ``offset``.

        Parameters
        ----------
        space
            The search space (the grid sampler enumerates it).
        offset
            ``0`` for a study's first session; the trials already in the study for a
            later one, plus ``i + 1`` for its ``i``-th parallel trial.

        Notes
        -----
        The seed is ``seed + SEED_STRIDE · offset`` (``SEED_STRIDE = 1009``).  A fresh
        sampler per session (and per parallel trial) gets its own random stream, so a
        resumed study does not replay the random trials it started with.  The grid
        sampler keeps the seed itself: the study stores each trial's place in the grid
        as shuffled by that seed, and a grid shuffled otherwise would read those places
        as other points (repeating some, never running others).
        """
        return make_sampler(
            self.sampler_name,
            space=space,
            seed=self.seed if self.sampler_name == "grid" else self.seed + SEED_STRIDE * offset,
            startup_trials=self.startup_trials,
            population=self.population,
        )

    def pruner(self) -> optuna.pruners.BasePruner:
        """A fresh pruner."""
        return make_pruner(
            self.pruner_name,
            startup_trials=self.pruner_startup,
            warmup_epochs=self.warmup_epochs,
            min_epochs=self.min_epochs,
            max_epochs=self.max_epochs,
        )


@dataclass(frozen=True)
class OpenedStudy:
    """A study opened by a session (see :func:`open_session`).

    Attributes
    ----------
    name
        Study name.
    directory
        The study's directory (trial runs and outputs).
    url
        The storage URL.
    storage, study
        The opened storage and study.
    existing
        Trials the study held when the session opened it.
    """

    name: str
    directory: Path
    url: str
    storage: optuna.storages.RDBStorage
    study: optuna.Study
    existing: int

    @property
    def shown(self) -> str:
        """The storage URL with any password hidden."""
        return displayed_url(self.url)


def open_session(
    directory: Path,
    url: str,
    name: str,
    *,
    direction: str,
    space: SearchSpace,
    sampling: SamplingPlan,
    fingerprint: Mapping[str, Any],
    enqueue: Iterable[Mapping[str, Any]] = (),
) -> OpenedStudy:
    """Create the study ``name`` or join it, for a session that runs trials.

    Parameters
    ----------
    directory
        The study's directory (checked by :func:`~neyman.tuning.open_study_storage`).
    url
        The storage URL.
    name
        Study name.
    direction
        ``maximize`` or ``minimize``.
    space, sampling
        The search space, and how this session samples and prunes.
    fingerprint
        What the trials are sampled from (see :func:`~neyman.tuning.open_study`).
    enqueue
        ``{key: value}`` trials run first, when this call creates the study.

    Notes
    -----
    The first session's sampler is seeded with the seed itself; a later one with the
    seed offset by the number of trials already in the study (:meth:`SamplingPlan.sampler`).
    """
    storage = open_study_storage(directory, url, name)
    existing = trial_count(storage, name)
    study, created = open_study(
        storage,
        name,
        direction=direction,
        sampler=sampling.sampler(space, existing),
        pruner=sampling.pruner(),
        fingerprint=fingerprint,
    )
    if created:
        for entry in enqueue:
            study.enqueue_trial(space.to_trial(entry), skip_if_exists=True)
    return OpenedStudy(name, directory, url, storage, study, existing)


def write_session_outputs(
    opened: OpenedStudy,
    space: SearchSpace,
    sampling: SamplingPlan,
    *,
    objective: str,
    best_config: Callable[[optuna.trial.FrozenTrial], dict[str, Any]],
) -> StudyOutputs:
    """Write ``trials.csv``, ``best.yaml`` and ``tuning.html`` of the whole study into its directory.

    Parameters
    ----------
    opened
        The study.
    space, sampling
        Its search space, and how this session sampled and pruned (shown in the report).
    objective
        The objective's name.
    best_config
        The configuration of a trial (the best complete one), written as ``best.yaml``.
    """
    direction = opened.study.direction.name.lower()
    info: list[list[object]] = [
        ["study", opened.name],
        ["storage", opened.shown],
        ["objective", f"{objective} ({direction})"],
        ["sampler", f"{sampling.sampler_name} (seed {sampling.seed})"],
        ["pruner", sampling.pruner_name],
        ["trial runs", str(opened.directory)],
    ]
    outputs = write_study_outputs(
        opened.study,
        space,
        opened.directory,
        objective=objective,
        best_config=best_config,
        info=info,
        seed=sampling.seed,
    )
    if outputs.best is not None and outputs.best.user_attrs.get(BOUND_ATTR):
        warnings.warn(
            f"the best trial's {objective} ({outputs.best_value:.4g}, trial {outputs.best.number}) is a lower bound: "
            "no validation background event passes its cut, so the study cannot rank trials beyond it; choose a "
            "looser working point (a larger signal efficiency) or more validation events",
            NeymanWarning,
            stacklevel=2,
        )
    return outputs
