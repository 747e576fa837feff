"""The ``tuning:`` and ``tracking:`` sections of a run configuration.

A search space maps dotted configuration keys to distributions::

    tuning:
      space:
        training.optimizer.lr: {float: [1.0e-4, 1.0e-2], log: true}
        model.dropout: {float: [0.0, 0.5]}
        model.activation: {categorical: [relu, gelu]}
        training.batch_size: {categorical: [256, 512, 1024]}
        model.hidden: {layers: {n: [1, 4], width: {int: [32, 512], log: true}}}
      objective: val.auc

The compact forms (``{float: [lo, hi]}``) are read into explicit ones
(``{type: float, low: lo, high: hi}``), which is also how a resolved configuration
writes them.  Nothing is evaluated: every value is a number, a string, a list or
``null``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator

from neyman.exceptions import ConfigError, close_matches
from neyman.models.families import ConfigSection

__all__ = [
    "MINIMISED_METRICS",
    "Categorical",
    "FloatRange",
    "IntRange",
    "Layers",
    "PrunerConfig",
    "SpaceEntry",
    "TrackingConfig",
    "TuningConfig",
    "check_search_space",
]

#: Metric names whose objective is minimised unless ``direction`` says otherwise.
MINIMISED_METRICS = ("loss", "mse", "rmse", "mae", "resolution", "training_seconds")
# best at a value inside their range (0 or 1, the nominal coverage), not at an end: no default direction
_TARGETED_METRICS = (
    "bias",
    "median_bias",
    "pull_mean",
    "pull_width",
    "pull_width_robust",
    "coverage_68",
    "coverage_95",
    "sigma_ratio_median",
)

Scalar = bool | int | float | str | None


class FloatRange(ConfigSection):
    """A real number in ``[low, high]``, uniform or log-uniform, optionally on a grid of ``step``."""

    type: Literal["float"] = "float"
    low: float
    high: float
    log: bool = False
    step: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _check(self) -> FloatRange:
        _check_range(self.low, self.high, self.log, self.step)
        return self


class IntRange(ConfigSection):
    """An integer in ``[low, high]`` (both included), optionally log-uniform or on a grid of ``step``."""

    type: Literal["int"] = "int"
    low: int
    high: int
    log: bool = False
    step: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _check(self) -> IntRange:
        _check_range(self.low, self.high, self.log, None if self.step == 1 else self.step)
        return self


class Categorical(ConfigSection):
    """One of a list of values (numbers, strings, booleans, null, or lists of them)."""

    type: Literal["categorical"] = "categorical"
    choices: list[Scalar | list[Scalar]] = Field(min_length=1)

    @field_validator("choices")
    @classmethod
    def _distinct(cls, v: list[Any]) -> list[Any]:
        seen: list[Any] = []
        for c in v:
            if any(c == s and type(c) is type(s) for s in seen):
                raise ValueError(f"choice {c!r} is listed twice")
            seen.append(c)
        return v


class Layers(ConfigSection):
    """Hidden layers for a list-valued key such as ``model.hidden``: ``n`` layers of one ``width``."""

    type: Literal["layers"] = "layers"
    n: tuple[int, int] = Field(description="Smallest and largest number of layers.")
    width: IntRange | Categorical = Field(description="Width of every layer: {int: [lo, hi]} or {categorical: [...]}.")

    @field_validator("n")
    @classmethod
    def _n(cls, v: tuple[int, int]) -> tuple[int, int]:
        if not 1 <= v[0] <= v[1]:
            raise ValueError(f"n must be [min, max] with 1 <= min <= max, got {list(v)}")
        return v

    @field_validator("width", mode="before")
    @classmethod
    def _compact_width(cls, v: object) -> object:
        return _compact(v)

    @field_validator("width")
    @classmethod
    def _integer_widths(cls, v: IntRange | Categorical) -> IntRange | Categorical:
        if isinstance(v, Categorical) and not all(isinstance(c, int) and not isinstance(c, bool) for c in v.choices):
            raise ValueError(f"layer widths must be integers, got {v.choices}")
        return v


def _check_range(low: float, high: float, log: bool, step: float | None) -> None:
    if not low <= high:
        raise ValueError(f"low must not exceed high (got [{low}, {high}])")
    if log and low <= 0:
        raise ValueError(f"a log-uniform range needs low > 0 (got {low})")
    if log and step is not None:
        raise ValueError("log and step cannot be combined")
    if step is not None and low < high and step > high - low:
        raise ValueError(
            f"step {step} is wider than the range [{low}, {high}], whose grid would hold {low} alone; "
            f"use a step of at most {high - low}"
        )


_KINDS = ("float", "int", "categorical", "layers")


def _compact(v: object) -> object:
    """``{float: [lo, hi], log: true}`` → ``{type: float, low: lo, high: hi, log: true}``."""
    if not isinstance(v, dict) or "type" in v:
        return v
    kinds = [k for k in _KINDS if k in v]
    if len(kinds) != 1:
        raise ValueError(
            "a search-space entry is one of {float: [low, high]}, {int: [low, high]}, "
            f"{{categorical: [a, b, ...]}} or {{layers: {{n: [min, max], width: ...}}}}; got keys {sorted(v)}"
        )
    kind = kinds[0]
    rest = {k: val for k, val in v.items() if k != kind}
    body = v[kind]
    if kind in ("float", "int"):
        if not (isinstance(body, list) and len(body) == 2):
            raise ValueError(f"{kind}: takes [low, high], got {body!r}")
        return {"type": kind, "low": body[0], "high": body[1], **rest}
    if kind == "categorical":
        return {"type": kind, "choices": body, **rest}
    if not isinstance(body, dict):
        raise ValueError(f"layers: takes {{n: [min, max], width: {{int: [low, high]}}}}, got {body!r}")
    return {"type": kind, **body, **rest}


SpaceEntry = Annotated[
    FloatRange | IntRange | Categorical | Layers,
    Field(discriminator="type"),
    BeforeValidator(_compact),
]


class PrunerConfig(ConfigSection):
    """Stop hopeless trials early from their per-epoch validation loss."""

    name: Literal["none", "median", "hyperband"] = "median"
    startup_trials: int = Field(5, ge=0, description="Trials that finish before any trial is pruned (median).")
    warmup_epochs: int = Field(2, ge=0, description="Epochs of every trial that are never pruned (median).")
    min_epochs: int = Field(1, ge=1, description="Smallest number of epochs a trial gets (hyperband).")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: object) -> object:
        return {"name": v} if isinstance(v, str) else v


class TuningConfig(ConfigSection):
    """A hyper-parameter search with Optuna (``neyman tune``)."""

    space: dict[str, SpaceEntry] = Field(description="Dotted configuration keys and their distributions.")
    objective: str = Field(
        "val.auc",
        description="Dotted path into metrics.json, e.g. val.auc, val.rejection_at_eff_0.3, test.loss.",
    )
    direction: Literal["maximize", "minimize"] | None = Field(
        None, description=f"Default: minimize for {', '.join(MINIMISED_METRICS)}, maximize otherwise."
    )
    sampler: Literal["tpe", "random", "grid", "cmaes", "nsga2"] = "tpe"
    seed: int | None = Field(None, description="Sampler seed (default: the run's seed).")
    startup_trials: int = Field(10, ge=0, description="Random trials before TPE and CMA-ES model the space.")
    population: int = Field(20, ge=2, description="NSGA-II population size.")
    pruner: PrunerConfig = Field(default_factory=PrunerConfig)
    trials: int = Field(20, ge=1, description="Trials this invocation runs (--trials overrides).")
    workers: int = Field(1, ge=1, description="Trials in parallel on this machine, through Dask.")
    study: str | None = Field(None, description="Study name (default: '<name>-study', else 'study').")
    storage: str | None = Field(
        None, description="Optuna storage URL (default: sqlite:///<output_dir>/<study>/study.db)."
    )
    enqueue: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Configurations tried first when the study is new: {dotted key: value} per trial.",
    )

    @field_validator("space")
    @classmethod
    def _non_empty(cls, v: dict[str, Any]) -> dict[str, Any]:
        if not v:
            raise ValueError("the search space is empty: name at least one key, e.g. training.optimizer.lr")
        return v

    @field_validator("study")
    @classmethod
    def _study_name(cls, v: str | None) -> str | None:
        if v is not None and (not v.strip() or "/" in v or "\\" in v or v.startswith(".")):
            raise ValueError(f"study name {v!r} must be a plain directory name")
        return v

    @model_validator(mode="after")
    def _direction(self) -> TuningConfig:
        if self.direction is None:
            parts = self.objective.removesuffix(".mean").split(".")
            metric = parts[1] if len(parts) > 1 else parts[0]
            if metric in _TARGETED_METRICS:
                raise ValueError(
                    f"objective {self.objective!r} is best at a value inside its range (0 for a bias or a pull's "
                    "mean, 1 for a pull's width, the nominal share for a coverage), so neither maximising nor "
                    "minimising it is right: tune on val.rmse or val.resolution (or give tuning.direction, if one "
                    "end really is better)"
                )
            minimise = metric in MINIMISED_METRICS or metric.endswith("_loss")
            self.direction = "minimize" if minimise else "maximize"
        for i, entry in enumerate(self.enqueue):
            unknown = [k for k in entry if k not in self.space]
            if unknown:
                raise ValueError(
                    f"enqueue.{i} names {unknown[0]!r}, which is not in the search space"
                    f"{close_matches(unknown[0], self.space)}"
                )
        return self


class TrackingConfig(ConfigSection):
    """Experiment tracking: every run's parameters, metrics and artefacts."""

    backend: Literal["mlflow"] = "mlflow"
    uri: str | None = Field(
        None, description="Tracking URI (default: sqlite:///<output_dir>/mlflow.db) or a tracking server URL."
    )
    experiment: str = Field("neyman", min_length=1, description="MLflow experiment name.")
    artifacts: bool = Field(True, description="Log the model directory, plots, report and files of each run.")

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, v: object) -> object:
        return {"backend": v} if isinstance(v, str) else v

    @field_validator("uri")
    @classmethod
    def _no_password(cls, uri: str | None) -> str | None:
        """Refuse a password in the URI: it would be saved in every run's config.yaml and uploaded with it."""
        from urllib.parse import urlsplit

        try:
            password = urlsplit(uri).password if uri else None
        except ValueError:  # not a URL with a network location
            password = None
        if password and uri:  # a ConfigError, not a ValueError: pydantic's message would repeat the URI
            shown = uri.replace(f":{password}@", ":***@", 1)
            raise ConfigError(
                f"tracking.uri {shown} holds a password, which would be written to every run's config.yaml and "
                "uploaded to the store with it: leave it out of the URI and give it to the client instead "
                "(PGPASSWORD or ~/.pgpass for PostgreSQL, MLFLOW_TRACKING_PASSWORD for an MLflow server)"
            )
        return uri


def _leaf_keys(node: dict[str, Any], prefix: str = "") -> list[str]:
    out: list[str] = []
    for k, v in node.items():
        out.append(prefix + k)
        if isinstance(v, dict):
            out.extend(_leaf_keys(v, f"{prefix}{k}."))
    return out


def check_search_space(resolved: dict[str, Any], space: dict[str, Any]) -> None:
    """Check that every key of a search space names a value of the configuration.

    Parameters
    ----------
    resolved
        The resolved run configuration as plain data (``RunConfig.model_dump(mode="json")``):
        every key with its default, so a key that exists in the schema is found.
    space
        The search space (its keys are what is checked).

    Raises
    ------
    ConfigError
        Naming the first key that does not exist (with close matches), that names a
        whole section, or that cannot be searched (``model.type``, ``data.*``,
        ``split.*``, ``tuning.*``, ``tracking.*``, ``output_dir``, ``name``).
    """
    keys = [k for k in _leaf_keys(resolved) if not k.startswith(("tuning", "tracking"))]
    for key, entry in space.items():
        head = key.split(".", 1)[0]
        if key in ("name", "output_dir", "model.type") or head in ("tuning", "tracking", "data", "split"):
            raise ConfigError(
                f"tuning.space.{key}: this key cannot be searched; a study tunes one model family on one "
                "data set with one validation split (search model.*, training.*, preprocessing.* or task.*)"
            )
        node: Any = resolved
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                family = resolved.get("model", {}).get("type", "")
                where = f" (for model type {family!r})" if key.startswith("model.") else ""
                raise ConfigError(f"tuning.space: {key!r} is not a configuration key{where}{close_matches(key, keys)}")
            node = node[part]
        if isinstance(node, dict):
            inside = ", ".join(sorted(node))
            raise ConfigError(f"tuning.space.{key} names a section; name one of its keys ({inside})")
        kind = getattr(entry, "type", None)
        if kind == "layers" and not isinstance(node, list | None):  # None: widths planned from the sample
            raise ConfigError(
                f"tuning.space.{key}: 'layers' is for list-valued keys such as model.hidden, but {key} holds {node!r}"
            )
