"""Hyper-parameter search with Optuna: search spaces, studies, figures and study outputs.

Nothing here reads a configuration: :class:`SearchSpace` holds named distributions
and returns ``{name: value}`` samples, :func:`open_storage`/:func:`open_study` open a
study on an SQLite file or a database server, :func:`study_figures` draws it.  The
``neyman tune`` workflow (:mod:`neyman.workflows.tune`) wires these to training runs.
Optuna is imported when a function needs it, not with this package.
"""

from neyman.tuning.figures import study_figures
from neyman.tuning.outputs import trial_state, write_best_config, write_study_report, write_trials_table
from neyman.tuning.space import (
    CategoricalParam,
    FloatParam,
    IntParam,
    LayersParam,
    Param,
    SearchSpace,
)
from neyman.tuning.study import (
    PRUNERS,
    SAMPLERS,
    displayed_url,
    make_pruner,
    make_sampler,
    objective_value,
    open_storage,
    open_study,
    sqlite_url,
    study_exists,
)

__all__ = [
    "PRUNERS",
    "SAMPLERS",
    "CategoricalParam",
    "FloatParam",
    "IntParam",
    "LayersParam",
    "Param",
    "SearchSpace",
    "displayed_url",
    "make_pruner",
    "make_sampler",
    "objective_value",
    "open_storage",
    "open_study",
    "sqlite_url",
    "study_exists",
    "study_figures",
    "trial_state",
    "write_best_config",
    "write_study_report",
    "write_trials_table",
]
