"""Hyper-parameter search with Optuna: search spaces, studies, running trials, figures and outputs.

Nothing here reads a configuration: :class:`SearchSpace` holds named distributions
and returns ``{name: value}`` samples, :func:`open_storage`/:func:`open_study` open a
study on an SQLite file or a database server, :func:`open_session` opens one for a
session that runs trials, :func:`run_trials` runs them (inline or on a local Dask
cluster) through a :class:`StudyObjective` whose ``run_trial`` the caller supplies,
:func:`study_figures` draws a study.  The ``neyman tune``
workflow (:mod:`neyman.workflows.tune`) wires these to training runs.
Optuna is imported when a function needs it, not with this package.
"""

from neyman.tuning.figures import study_figures
from neyman.tuning.outputs import (
    BEST_CONFIG,
    REPORT,
    TRIALS_TABLE,
    StudyOutputs,
    state_counts,
    trial_state,
    write_best_config,
    write_study_outputs,
    write_study_report,
    write_trials_table,
)
from neyman.tuning.runner import StopStudy, StudyObjective, TrialContext, TrialOutcome, run_trials
from neyman.tuning.session import OpenedStudy, SamplingPlan, open_session, write_session_outputs
from neyman.tuning.space import (
    CategoricalParam,
    FloatParam,
    IntParam,
    LayersParam,
    Param,
    SearchSpace,
    apply_values,
    check_values,
    space_from_dict,
)
from neyman.tuning.study import (
    PRUNERS,
    SAMPLERS,
    STUDY_DB,
    check_objective,
    displayed_url,
    make_pruner,
    make_sampler,
    objective_value,
    open_storage,
    open_study,
    open_study_storage,
    sqlite_url,
    study_exists,
    trial_count,
)

__all__ = [
    "BEST_CONFIG",
    "PRUNERS",
    "REPORT",
    "SAMPLERS",
    "STUDY_DB",
    "TRIALS_TABLE",
    "CategoricalParam",
    "FloatParam",
    "IntParam",
    "LayersParam",
    "OpenedStudy",
    "Param",
    "SamplingPlan",
    "SearchSpace",
    "StopStudy",
    "StudyObjective",
    "StudyOutputs",
    "TrialContext",
    "TrialOutcome",
    "apply_values",
    "check_objective",
    "check_values",
    "displayed_url",
    "make_pruner",
    "make_sampler",
    "objective_value",
    "open_session",
    "open_storage",
    "open_study",
    "open_study_storage",
    "run_trials",
    "space_from_dict",
    "sqlite_url",
    "state_counts",
    "study_exists",
    "study_figures",
    "trial_count",
    "trial_state",
    "write_best_config",
    "write_session_outputs",
    "write_study_outputs",
    "write_study_report",
    "write_trials_table",
]
