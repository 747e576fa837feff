"""The configuration schema of a neyman run.

Every section rejects unknown keys.  Only the workflow layer and the command line
read these objects; library code below takes plain arguments.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "DataConfig",
    "DiscriminantConfig",
    "EarlyStoppingConfig",
    "FisherConfig",
    "LightGBMConfig",
    "LogisticConfig",
    "MLPConfig",
    "ModelConfig",
    "OptimizerConfig",
    "PreprocessingConfig",
    "RunConfig",
    "ScheduleConfig",
    "SourceConfig",
    "SplitConfig",
    "TaskConfig",
    "TrainingConfig",
    "XGBoostConfig",
]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


Selection = list[str] | None


class SourceConfig(_Section):
    """One input file (or tree) and the class its events belong to."""

    path: str = Field(description="File path; 'file.root:tree' names the tree.")
    tree: str | None = Field(None, description="Tree (ROOT) or group (HDF5) name.")
    label: str | int | None = Field(None, description="Class of all events of this source (a class name or index).")
    scale: float = Field(1.0, description="Multiplies every event weight of this source.")
    weight: str | None = Field(None, description="Weight column of this source (default: data.weight).")
    selection: Selection = Field(None, description="Extra cuts for this source only.")
    max_events: int | None = Field(None, ge=1, description="Read at most this many events.")

    @field_validator("selection", mode="before")
    @classmethod
    def _one_cut(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v


class DataConfig(_Section):
    """Where the events come from and which columns mean what."""

    sources: list[SourceConfig] = Field(
        default_factory=list, description="Input files, e.g. one per class (TMVA style)."
    )
    format: str | None = Field(
        None,
        description="File format; default from the extension. 'uci-susy'/'uci-higgs' for UCI layouts.",
    )
    features: list[str] | str = Field(
        default_factory=list,
        description="Feature columns, or a named set of a benchmark layout ('low-level', 'high-level', 'all').",
    )
    label_column: str | None = Field(None, description="Column holding the class (single-file classification).")
    target: str | None = Field(None, description="Regression target column.")
    classes: list[str] | None = Field(None, description="Class names in index order.")
    weight: str | None = Field(None, description="Event-weight column (negative weights allowed).")
    event_id: str | None = Field(None, description="Event-number column (parity split, k-fold assignment).")
    selection: Selection = Field(None, description="Cuts applied to every source, e.g. 'pt > 20'.")
    fill_value: float | None = Field(None, description="Replace NaN/inf inputs by this value (default: error).")
    streaming: bool = Field(
        False, description="Stream the inputs chunk by chunk in every epoch (data larger than memory; mlp only)."
    )
    step_size: int = Field(200_000, ge=1000, description="Events per chunk when streaming.")
    fit_events: int = Field(
        500_000, ge=1000, description="Streaming: training events sampled to fit the preprocessing."
    )
    max_val_events: int = Field(
        500_000, ge=1000, description="Streaming: validation events kept in memory for early stopping."
    )

    @field_validator("selection", mode="before")
    @classmethod
    def _one_cut(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v

    @field_validator("features", mode="before")
    @classmethod
    def _split_features(cls, v: object) -> object:
        if isinstance(v, str) and "," in v:
            return [s.strip() for s in v.split(",") if s.strip()]
        return v


class DiscriminantConfig(_Section):
    """Multi-class discriminant ``log(p_signal / sum_j f_j p_j)``."""

    signal: str
    backgrounds: dict[str, float]


class TaskConfig(_Section):
    """What is learned."""

    type: Literal["binary", "multiclass", "regression", "gaussian"] = "binary"
    balance_classes: bool = Field(True, description="Reweight classes to equal total training weight (classification).")
    discriminant: DiscriminantConfig | None = None


class MLPConfig(_Section):
    """Multilayer perceptron."""

    type: Literal["mlp"] = "mlp"
    hidden: list[int] = Field(default_factory=lambda: [128, 128, 128], description="Hidden layer widths.")
    activation: Literal["relu", "leaky_relu", "elu", "gelu", "selu", "sigmoid", "tanh", "softplus"] = "relu"
    dropout: float = Field(0.0, ge=0.0, lt=1.0)
    batch_norm: bool = False
    init: Literal["he", "xavier", "lecun", "default"] = "he"


class XGBoostConfig(_Section):
    """Gradient-boosted trees with XGBoost (histogram method)."""

    type: Literal["xgboost"] = "xgboost"
    n_estimators: int = Field(500, ge=1)
    max_depth: int = Field(6, ge=1)
    learning_rate: float = Field(0.1, gt=0)
    subsample: float = Field(1.0, gt=0, le=1)
    colsample_bytree: float = Field(1.0, gt=0, le=1)
    min_child_weight: float = Field(1.0, ge=0)
    reg_lambda: float = Field(1.0, ge=0)
    early_stopping_rounds: int | None = Field(20, ge=1)
    n_jobs: int | None = None
    negative_weights: Literal["error", "zero", "abs"] = Field(
        "error", description="XGBoost refuses negative weights: stop, drop them, or use |w|."
    )


class LightGBMConfig(_Section):
    """Gradient-boosted trees with LightGBM."""

    type: Literal["lightgbm"] = "lightgbm"
    n_estimators: int = Field(500, ge=1)
    num_leaves: int = Field(31, ge=2)
    max_depth: int = -1
    learning_rate: float = Field(0.1, gt=0)
    subsample: float = Field(1.0, gt=0, le=1)
    colsample_bytree: float = Field(1.0, gt=0, le=1)
    min_child_samples: int = Field(20, ge=1)
    reg_lambda: float = Field(0.0, ge=0)
    early_stopping_rounds: int | None = Field(20, ge=1)
    n_jobs: int | None = None


class FisherConfig(_Section):
    """Fisher's linear discriminant."""

    type: Literal["fisher"] = "fisher"
    shrinkage: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Shrink the covariance towards its mean diagonal by this fraction.",
    )


class LogisticConfig(_Section):
    """Logistic regression (a linear classifier trained with cross-entropy)."""

    type: Literal["logistic"] = "logistic"
    C: float = Field(1.0, gt=0, description="Inverse L2 strength.")
    max_iter: int = Field(1000, ge=1)


ModelConfig = Annotated[
    MLPConfig | XGBoostConfig | LightGBMConfig | FisherConfig | LogisticConfig,
    Field(discriminator="type"),
]


class PreprocessingConfig(_Section):
    """Transforms fitted on the training split and stored with the model."""

    scaler: Literal["standard", "minmax", "none"] | None = Field(
        None, description="Default: standard for neural models, none for trees and baselines."
    )
    log: list[str] = Field(default_factory=list, description="Features to take the logarithm of first.")
    clip: dict[str, tuple[float, float]] = Field(default_factory=dict, description="Per-feature [lo, hi].")
    standard_clip: float | None = Field(None, gt=0, description="Clip standardised values to ±this.")


class OptimizerConfig(_Section):
    """Optimiser."""

    name: Literal["sgd", "adam", "adamw", "nadam", "rmsprop"] = "adam"
    lr: float = Field(1e-3, gt=0)
    momentum: float = Field(0.0, ge=0, lt=1)
    nesterov: bool = False
    weight_decay: float = Field(0.0, ge=0)


class ScheduleConfig(_Section):
    """Learning-rate schedule."""

    name: Literal["none", "step", "cosine", "onecycle", "plateau"] = "none"
    step_size: int = Field(10, ge=1)
    gamma: float = Field(0.5, gt=0)
    factor: float = Field(0.5, gt=0, lt=1)
    patience: int = Field(3, ge=0)
    min_lr: float = Field(0.0, ge=0)
    max_lr: float | None = Field(None, gt=0)


class EarlyStoppingConfig(_Section):
    """Stop when the validation loss stops improving; keep the best weights."""

    patience: int = Field(10, ge=0, description="Epochs without improvement; 0 disables.")
    min_delta: float = Field(0.0, ge=0)


class TrainingConfig(_Section):
    """How neural models are optimised."""

    epochs: int = Field(50, ge=1)
    batch_size: int = Field(1024, ge=1)
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    l1: float = Field(0.0, ge=0)
    l2: float = Field(0.0, ge=0)
    grad_clip: float | None = Field(None, gt=0)
    early_stopping: EarlyStoppingConfig = Field(default_factory=EarlyStoppingConfig)
    device: str = "auto"
    threads: int | None = Field(None, ge=1)
    progress: bool = True


class SplitConfig(_Section):
    """Train/validation/test split and k-fold."""

    method: Literal["fraction", "parity"] = Field(
        "fraction", description="fraction: random by seed; parity: even event ids train, odd test."
    )
    train: float = Field(0.6, gt=0, lt=1)
    val: float = Field(0.2, ge=0, lt=1)
    test: float = Field(0.2, ge=0, lt=1)
    kfold: int = Field(0, ge=0, description="k >= 2: train k models, each scoring the fold it never saw.")

    @model_validator(mode="after")
    def _check(self) -> SplitConfig:
        if self.method == "fraction" and self.kfold < 2 and abs(self.train + self.val + self.test - 1) > 1e-9:
            raise ValueError(
                f"split fractions must add up to 1 (train + val + test = {self.train + self.val + self.test:g})"
            )
        if self.kfold == 1:
            raise ValueError("kfold must be 0 (off) or at least 2")
        return self


class RunConfig(_Section):
    """A complete training run."""

    name: str | None = Field(None, description="Run name; the run directory is output_dir/name.")
    output_dir: str = "runs"
    seed: int = 42
    data: DataConfig = Field(default_factory=DataConfig)
    task: TaskConfig = Field(default_factory=TaskConfig)
    model: ModelConfig = Field(default_factory=MLPConfig)
    preprocessing: PreprocessingConfig = Field(default_factory=PreprocessingConfig)
    training: TrainingConfig = Field(default_factory=TrainingConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)

    @model_validator(mode="before")
    @classmethod
    def _default_model_type(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("model"), dict) and "type" not in data["model"]:
            data = {**data, "model": {"type": "mlp", **data["model"]}}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> RunConfig:
        if not self.data.sources:
            raise ValueError("data.sources is empty: give at least one input file")
        if self.task.type in ("regression", "gaussian") and not self.data.target:
            raise ValueError(f"task {self.task.type!r} needs data.target (the column to regress)")
        if self.task.type == "gaussian" and self.model.type != "mlp":
            raise ValueError(
                "task 'gaussian' predicts a mean and a resolution per event and needs a neural model "
                f"(model.type: mlp), not {self.model.type!r}"
            )
        if self.data.streaming and (self.model.type != "mlp" or self.split.kfold >= 2):
            raise ValueError(
                "data.streaming trains neural models (model.type: mlp) without k-fold; "
                "boosted trees and baselines need their data in memory"
            )
        if self.model.type in ("fisher", "logistic") and self.task.type not in (
            "binary",
            "multiclass",
        ):
            raise ValueError(
                f"model {self.model.type!r} is a classifier; task {self.task.type!r} needs mlp, xgboost or lightgbm"
            )
        return self
