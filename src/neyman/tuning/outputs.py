"""What a finished study leaves on disk: ``trials.csv``, ``best.yaml`` and ``tuning.html``.

The functions read an Optuna study and its :class:`~neyman.tuning.SearchSpace`; they know
nothing of configurations or training runs, which :mod:`neyman.workflows.tune` supplies.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from neyman._atomic import write_text
from neyman.exceptions import ConfigError
from neyman.tuning.space import SearchSpace

if TYPE_CHECKING:
    import optuna

__all__ = ["trial_state", "write_best_config", "write_study_report", "write_trials_table"]


def trial_state(trial: optuna.trial.FrozenTrial) -> str:
    """The trial's state as Optuna names it (``COMPLETE``, ``PRUNED``, ``FAIL``, ``RUNNING`` ...)."""
    return str(trial.state.name)


def write_trials_table(study: optuna.Study, path: Path) -> Path:
    """``trials.csv``: one row per trial (number, state, objective, times, duration in seconds,
    sampled parameters, user attributes), written atomically."""
    frame = study.trials_dataframe(
        attrs=("number", "state", "value", "datetime_start", "datetime_complete", "duration", "params", "user_attrs")
    )
    if "duration" in frame:
        frame["duration"] = frame["duration"].dt.total_seconds()
    return write_text(path, frame.to_csv(index=False))


def write_best_config(
    path: Path, config: dict[str, Any], *, study: str, trial: int, objective: str, value: float
) -> Path:
    """``best.yaml``: the best trial's configuration with a header naming the trial and the
    command that trains it, written atomically (YAML, ``safe_dump``)."""
    header = (
        f"# The best configuration of study {study!r}: trial {trial}, {objective} = {value:.6g}.\n"
        f"# Train it with:  neyman train {path.name}\n"
    )
    return write_text(path, header + yaml.safe_dump(config, sort_keys=False))


def write_study_report(
    path: Path,
    study: optuna.Study,
    space: SearchSpace,
    *,
    info: list[list[object]],
    best_yaml: str,
    seed: int,
) -> Path:
    """``tuning.html``: settings, best trial, the Optuna figures and every trial.

    Parameters
    ----------
    path
        The report file.
    study
        The whole study (the trials of every process).
    space
        Its search space (sampled values are shown as the configuration takes them).
    info
        ``[setting, value]`` rows of the settings table.
    best_yaml
        The text of ``best.yaml`` (empty when no trial completed).
    seed
        Seed of the figures' random parts (Optuna's importance evaluator).
    """
    import matplotlib.pyplot as plt

    from neyman.report import Section, write_report
    from neyman.tuning import study_figures

    trials = study.get_trials(deepcopy=False)
    counts: dict[str, int] = {}
    for t in trials:
        counts[trial_state(t)] = counts.get(trial_state(t), 0) + 1
    sections = [
        Section(
            title="Study",
            tables=[
                ("Settings", ["setting", "value"], info),
                ("Trials by state", ["state", "trials"], [[k.lower(), v] for k, v in sorted(counts.items())]),
            ],
        )
    ]
    figures: list[Any] = []
    try:
        if counts.get("COMPLETE"):
            best = study.best_trial
            sampled = [[k, str(v)] for k, v in space.values(best.params).items()]
            sections.append(
                Section(
                    title="Best trial",
                    text=f"Trial {best.number}: objective {best.value:.6g}. Its configuration, best.yaml:",
                    tables=[("Sampled values", ["key", "value"], sampled)],
                    code=best_yaml,
                )
            )
            figures, skipped = study_figures(study, seed=seed)
            note = "Not drawn: " + "; ".join(skipped) if skipped else ""
            sections.append(Section(title="Optimisation", figures=figures, text=note))
        header = ["trial", "state", "objective", "seconds", *space.names]
        rows: list[list[object]] = []
        for t in trials:
            try:
                values = [str(v) for v in space.values(t.params).values()]
            except (KeyError, ConfigError):  # a trial that failed before every parameter was sampled
                values = ["—"] * len(space.names)
            seconds = t.duration.total_seconds() if t.duration is not None else None
            rows.append([t.number, trial_state(t).lower(), t.value, seconds, *values])
        sections.append(Section(title="Trials", tables=[("Every trial of the study", header, rows)]))
        return write_report(path, sections, title=f"Study {study.study_name}", subtitle="neyman tune")
    finally:
        for fig in figures:
            plt.close(fig)
