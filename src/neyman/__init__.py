"""neyman: machine learning for particle physics.

Module map (imports point downwards only)::

    cli          the ``neyman`` command (parsing and printing)
    workflows    train, tune, predict, reweight, demo: the only code that reads a configuration
    models       one Model interface over networks, boosted trees and baselines
    tuning       Optuna search spaces, studies (SQLite/PostgreSQL), their figures
    tracking     experiment tracking with MLflow (imported only when asked for)
    training     the trainer loop, checkpoints, device choice
    plotting     figures from result objects
    nn           torch modules (architecture only)
    io           readers/writers: ROOT, Parquet, HDF5, CSV, NumPy, UCI layouts
    preprocessing  selections, fitted transforms, weights
    metrics      weighted classification and regression metrics
    tasks        what is learned: binary, multiclass, regression, gaussian
    reweighting  per-event weights p_target/p_source and their closure tests
    table        the Table exchange type
    config       the configuration schema and loader
    testing      synthetic data with a known answer

``import neyman`` is cheap: heavy dependencies load in the sub-packages that use them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from neyman.exceptions import ConfigError, DataError, ModelError, NeymanError
from neyman.table import Table
from neyman.versions import __version__

__all__ = [
    "ConfigError",
    "DataError",
    "ModelError",
    "NeymanError",
    "Table",
    "__version__",
    "predict",
    "train",
]

if TYPE_CHECKING:
    from neyman.workflows.predict import predict
    from neyman.workflows.train import train


def __getattr__(name: str) -> Any:
    if name == "train":
        from neyman.workflows.train import train

        return train
    if name == "predict":
        from neyman.workflows.predict import predict

        return predict
    raise AttributeError(f"module 'neyman' has no attribute {name!r}")
