"""The configuration schema of a neyman run.

Every section rejects unknown keys.  Only the workflow layer and the command line
read these objects; library code below takes plain arguments.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from neyman.config.tuning import TrackingConfig, TuningConfig

__all__ = [
    "NEURAL_MODELS",
    "PARTICLE_MODELS",
    "CNNConfig",
    "DataConfig",
    "DiscriminantConfig",
    "EFNConfig",
    "EarlyStoppingConfig",
    "FisherConfig",
    "ImageConfig",
    "LightGBMConfig",
    "LogisticConfig",
    "MLPConfig",
    "ModelConfig",
    "OptimizerConfig",
    "PFNConfig",
    "ParticleNetConfig",
    "ParticlesConfig",
    "PreprocessingConfig",
    "RunConfig",
    "ScheduleConfig",
    "SourceConfig",
    "SplitConfig",
    "TaskConfig",
    "TrainingConfig",
    "TransformerConfig",
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


class ParticlesConfig(_Section):
    """Jets as padded particle sets (``data.representation: particles``)."""

    n_constituents: int = Field(100, ge=1, description="Hardest constituents kept per jet (padded with a mask).")
    features: list[str] | None = Field(
        None, description="Per-particle features by name (default: the ParticleNet/ParT set)."
    )
    prefix: str = Field("constituent_", description="Prefix of the jagged constituent columns.")
    clip: float | None = Field(5.0, gt=0, description="Clip standardised particle features to ±this.")


class ImageConfig(_Section):
    """Jet images (``data.representation: image``)."""

    size: int = Field(33, ge=2, description="Pixels per side.")
    extent: float = Field(0.8, gt=0, description="Half-width in η and φ (0.8 for R=0.8 jets).")
    intensity: Literal["pt", "energy"] = "pt"
    centre: Literal["centroid", "leading", "none"] = "centroid"
    rotate: bool = True
    flip: bool = True
    normalise: bool = True
    channels: Literal["all", "charged_neutral"] = "all"
    max_constituents: int = Field(200, ge=1)
    prefix: str = "constituent_"


class DataConfig(_Section):
    """Where the events come from and which columns mean what."""

    representation: Literal["tabular", "particles", "image"] = Field(
        "tabular",
        description="Model inputs: a feature matrix, padded particle sets, or jet images.",
    )
    particles: ParticlesConfig = Field(default_factory=ParticlesConfig)
    image: ImageConfig = Field(default_factory=ImageConfig)

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


Preset = Literal["lite", "full"]
GraphPreset = Literal["tiny", "lite", "full"]
_PRESET = "Named size: 'lite' (sized for CPUs) or 'full' (the paper's); keys below override it."


class CNNConfig(_Section):
    """Convolutional network on jet images."""

    type: Literal["cnn"] = "cnn"
    preset: Preset = Field("lite", description=_PRESET)
    channels: list[int] | None = Field(None, description="Filters of each convolution block.")
    kernel_size: int | None = Field(None, ge=1)
    dense: list[int] | None = Field(None, description="Widths of the dense head.")
    dropout: float | None = Field(None, ge=0.0, lt=1.0)
    batch_norm: bool | None = None


class PFNConfig(_Section):
    """Particle Flow Network (Deep Sets)."""

    type: Literal["pfn"] = "pfn"
    preset: Preset = Field("lite", description=_PRESET)
    phi: list[int] | None = Field(None, description="Widths of the per-particle network Φ.")
    f: list[int] | None = Field(None, description="Widths of the network F on the summed latent space.")
    dropout: float | None = Field(None, ge=0.0, lt=1.0)


class EFNConfig(_Section):
    """Energy Flow Network (IRC-safe Deep Sets on energy fractions and angles)."""

    type: Literal["efn"] = "efn"
    preset: Preset = Field("lite", description=_PRESET)
    phi: list[int] | None = Field(None, description="Widths of the angular network Φ(η, φ).")
    f: list[int] | None = Field(None, description="Widths of the network F.")


class ParticleNetConfig(_Section):
    """ParticleNet (dynamic-graph EdgeConv)."""

    type: Literal["particlenet"] = "particlenet"
    preset: GraphPreset = Field("lite", description=_PRESET + " lite = ParticleNet-Lite; tiny: ~4 MFLOP/jet.")
    k: int | None = Field(None, ge=1, description="Nearest neighbours per particle.")
    edge_convs: list[list[int]] | None = Field(None, description="Widths of each EdgeConv block's edge MLP.")
    fc: list[int] | None = Field(None, description="Widths of the fully connected head.")
    dropout: float | None = Field(None, ge=0.0, lt=1.0)


class TransformerConfig(_Section):
    """Particle transformer (self-attention with pairwise interaction features, class token)."""

    type: Literal["transformer"] = "transformer"
    preset: GraphPreset = Field("lite", description=_PRESET + " tiny: ~9 MFLOP/jet.")
    embed_dim: int | None = Field(None, ge=1)
    num_heads: int | None = Field(None, ge=1)
    num_layers: int | None = Field(None, ge=0)
    num_class_layers: int | None = Field(None, ge=1)
    dropout: float | None = Field(None, ge=0.0, lt=1.0)
    attention_dropout: float | None = Field(
        None, ge=0.0, lt=1.0, description="Dropout on attention weights (tiny/lite: 0, full: 0.1)."
    )
    pair_features: bool | None = Field(None, description="Add ln ΔR, ln kT, ln z, ln m² as attention biases.")


NEURAL_MODELS = ("mlp", "cnn", "pfn", "efn", "particlenet", "transformer")
"""Model types trained by the neural-network trainer."""
PARTICLE_MODELS = ("pfn", "efn", "particlenet", "transformer")
"""Model types that read particle sets."""

ModelConfig = Annotated[
    MLPConfig
    | XGBoostConfig
    | LightGBMConfig
    | FisherConfig
    | LogisticConfig
    | CNNConfig
    | PFNConfig
    | EFNConfig
    | ParticleNetConfig
    | TransformerConfig,
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
    tuning: TuningConfig | None = Field(None, description="Hyper-parameter search (neyman tune); ignored by train.")
    tracking: TrackingConfig | None = Field(None, description="Log the run to MLflow (or pass --track).")

    @model_validator(mode="before")
    @classmethod
    def _default_model_type(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("model"), dict) and "type" not in data["model"]:
            data = {**data, "model": {"type": "mlp", **data["model"]}}
        # constituent-based models read their representation unless it is said otherwise
        if isinstance(data, dict) and isinstance(data.get("model"), dict) and isinstance(data.get("data"), dict):
            kind = data["model"].get("type")
            wanted = "particles" if kind in PARTICLE_MODELS else "image" if kind == "cnn" else None
            if wanted and "representation" not in data["data"]:
                data = {**data, "data": {**data["data"], "representation": wanted}}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> RunConfig:
        if not self.data.sources:
            raise ValueError("data.sources is empty: give at least one input file")
        if self.task.type in ("regression", "gaussian") and not self.data.target:
            raise ValueError(f"task {self.task.type!r} needs data.target (the column to regress)")
        if self.task.type == "gaussian" and self.model.type not in NEURAL_MODELS:
            raise ValueError(
                "task 'gaussian' predicts a mean and a resolution per event and needs a neural model "
                f"({', '.join(NEURAL_MODELS)}), not {self.model.type!r}"
            )
        rep = self.data.representation
        wanted = "particles" if self.model.type in PARTICLE_MODELS else "image" if self.model.type == "cnn" else None
        if wanted is not None and rep != wanted:
            raise ValueError(
                f"model {self.model.type!r} reads {wanted}: set data.representation: {wanted} (it is {rep!r})"
            )
        if wanted is None and rep != "tabular":
            choices = "cnn" if rep == "image" else ", ".join(PARTICLE_MODELS)
            raise ValueError(
                f"data.representation {rep!r} needs a model that reads it ({choices}); "
                f"model {self.model.type!r} reads a feature matrix (representation: tabular)"
            )
        if self.data.streaming and (self.model.type not in NEURAL_MODELS or self.split.kfold >= 2):
            raise ValueError(
                f"data.streaming trains neural models ({', '.join(NEURAL_MODELS)}) without k-fold; "
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
