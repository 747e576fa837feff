"""The configuration schema of a neyman run.

Every section rejects unknown keys.  Only the workflow layer and the command line
read these objects; library code below takes plain arguments.  The ``model:``
section is one family's hyper-parameters, declared with the family in
:mod:`neyman.models.families`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from neyman.config.tuning import TrackingConfig, TuningConfig
from neyman.exceptions import close_matches
from neyman.io.datasets import FEATURE_SETS
from neyman.models.families import (
    CLASSIFIER_MODELS,
    FAMILIES,
    NEURAL_MODELS,
    PARTICLE_MODELS,
    CNNConfig,
    ConfigSection,
    EFNConfig,
    FisherConfig,
    LightGBMConfig,
    LogisticConfig,
    MLPConfig,
    ModelConfig,
    ParticleNetConfig,
    PFNConfig,
    TransformerConfig,
    XGBoostConfig,
    families_reading,
    one_of,
)
from neyman.runs.guard import check_run_name
from neyman.table import TARGET
from neyman.tasks import TASKS

__all__ = [
    "NEURAL_MODELS",
    "PARTICLE_MODELS",
    "CNNConfig",
    "DataConfig",
    "DecorrelateConfig",
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


Selection = list[str] | None


class SourceConfig(ConfigSection):
    """One input file (or tree) and the class its events belong to."""

    path: str = Field(description="File path; 'file.root:tree' names the tree.")
    tree: str | None = Field(None, description="Tree (ROOT) or group (HDF5) name.")
    label: str | int | None = Field(None, description="Class of all events of this source (a class name or index).")
    scale: float = Field(1.0, description="Multiplies every event weight of this source.")
    weight: str | None = Field(None, description="Weight column of this source (default: data.weight).")
    columns: dict[str, float | list[float]] = Field(
        default_factory=dict,
        description="Columns given to the events of this source, e.g. {alphaS: 0.13}: the parameter of a "
        "parametrised network (DCTR, mass-parametrised taggers).  A list of values is dealt out in turn "
        "by entry number (entry i gets value i mod n): a background spread over the signal's parameters.",
    )
    selection: Selection = Field(None, description="Extra cuts for this source only.")
    max_events: int | None = Field(None, ge=1, description="Read at most this many events.")
    test: bool = Field(
        False,
        description=(
            "An external test file: its events are only tested, and all other events train but "
            "a split.val fraction (split.test is then unused)."
        ),
    )

    @field_validator("selection", mode="before")
    @classmethod
    def _one_cut(cls, v: object) -> object:
        return [v] if isinstance(v, str) else v


class ParticlesConfig(ConfigSection):
    """Jets as padded particle sets (``data.representation: particles``)."""

    n_constituents: int = Field(100, ge=1, description="Hardest constituents kept per jet (padded with a mask).")
    features: list[str] | None = Field(
        None, description="Per-particle features by name (default: the ParticleNet/ParT set)."
    )
    prefix: str = Field("constituent_", description="Prefix of the jagged constituent columns.")
    clip: float | None = Field(5.0, gt=0, description="Clip standardised particle features to ±this.")

    @field_validator("features")
    @classmethod
    def _features_named_once(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        if not v:
            raise ValueError("names no particle feature; list some, or leave it out for the default set")
        twice = sorted({f for f in v if v.count(f) > 1})
        if twice:
            raise ValueError(f"lists {', '.join(map(repr, twice))} more than once")
        return v


class ImageConfig(ConfigSection):
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


NAMED_FEATURE_SETS = frozenset(name for sets in FEATURE_SETS.values() for name in sets)
"""The names ``data.features`` may give instead of columns (with a benchmark layout's ``data.format``)."""


class DataConfig(ConfigSection):
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
    bootstrap: int | None = Field(
        None,
        ge=0,
        description=(
            "Train on a bootstrap replica: every event's weight is multiplied by a Poisson(1) count fixed by "
            "(this seed, its source, its entry).  Replicas with different seeds measure how much a result "
            "owes to the statistics of the training samples.  Test files (sources with test: true, and the files "
            "given to evaluate --test-data) keep their own weights; the test split of the training files is "
            "resampled with them (its metrics are a replica's too): judge replicas on an external test file."
        ),
    )
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
        if isinstance(v, str) and ("," in v or v.strip() not in NAMED_FEATURE_SETS):
            # one column name is a list of one; only the benchmark layouts' set names stay a name
            v = [s.strip() for s in v.split(",")]
        if isinstance(v, list) and any(isinstance(s, str) and not s.strip() for s in v):
            raise ValueError(
                "names an empty column; list the feature columns separated by commas "
                "(or leave data.features out for every column)"
            )
        return v

    @model_validator(mode="after")
    def _roles_apart(self) -> DataConfig:
        if isinstance(self.features, list):
            twice = sorted({f for f in self.features if self.features.count(f) > 1})
            if twice:
                raise ValueError(f"data.features lists {', '.join(map(repr, twice))} more than once")
            roles = {
                "label_column": self.label_column,
                "target": self.target,
                "weight": self.weight,
                "event_id": self.event_id,
            }
            for role, column in roles.items():
                if column is not None and column in self.features:
                    raise ValueError(
                        f"data.features includes {column!r}, which is data.{role}: a model that reads its own "
                        "answer (or weight) learns nothing; drop it from the features"
                    )
        seen: dict[tuple[str, str | None, tuple[str, ...]], tuple[int, str | int | None]] = {}
        for i, src in enumerate(self.sources):
            key = (src.path, src.tree, tuple(src.selection or ()))
            if key in seen and src.label is not None and seen[key][1] != src.label:
                raise ValueError(
                    f"data.sources.{seen[key][0]} and data.sources.{i} read the same events ({src.path}) as "
                    f"classes {seen[key][1]!r} and {src.label!r}; give each class its own file or selection"
                )
            seen.setdefault(key, (i, src.label))
        return self


class DiscriminantConfig(ConfigSection):
    """Multi-class discriminant ``log(p_signal / sum_j f_j p_j)``."""

    signal: str
    backgrounds: dict[str, float]


class TaskConfig(ConfigSection):
    """What is learned."""

    type: str = Field("binary", description="The task: one of neyman.tasks.TASKS (binary, multiclass, ...).")
    balance_classes: bool = Field(True, description="Reweight classes to equal total training weight (classification).")
    discriminant: DiscriminantConfig | None = None

    @field_validator("type")
    @classmethod
    def _known_task(cls, v: str) -> str:
        if v not in TASKS:
            raise ValueError(f"unknown task {v!r}{close_matches(v, TASKS)}; choose one of {', '.join(TASKS)}")
        return v


class PreprocessingConfig(ConfigSection):
    """Transforms fitted on the training split and stored with the model."""

    scaler: Literal["gaussian", "standard", "minmax", "none"] | None = Field(
        None,
        description=(
            "gaussian: quantiles to a normal with soft tails (robust to heavy tails, integers, "
            "near-constant columns). Default: gaussian for neural models, none for trees and baselines."
        ),
    )
    log: list[str] = Field(default_factory=list, description="Features to take the logarithm of first.")
    clip: dict[str, tuple[float, float]] = Field(default_factory=dict, description="Per-feature [lo, hi].")
    standard_clip: float | None = Field(None, gt=0, description="Clip standardised values to ±this.")
    residualize: bool | None = Field(
        None,
        description=(
            "Replace a feature that a linear fit on the earlier features explains to within 0.1% of its "
            "variance (energy and momentum of one object) by its residual, so that the small difference "
            "carrying the information reaches the model at unit scale. Default: on for neural models, "
            "off for trees and baselines."
        ),
    )


class OptimizerConfig(ConfigSection):
    """Optimiser."""

    name: Literal["sgd", "adam", "adamw", "nadam", "rmsprop"] = "adam"
    lr: float = Field(1e-3, gt=0)
    momentum: float = Field(0.0, ge=0, lt=1)
    nesterov: bool = False
    weight_decay: float = Field(0.0, ge=0)


class ScheduleConfig(ConfigSection):
    """Learning-rate schedule."""

    name: Literal["none", "step", "cosine", "onecycle", "plateau"] = Field(
        "cosine", description="Learning-rate schedule over the planned epochs (cosine: decays to min_lr)."
    )
    step_size: int = Field(10, ge=1)
    gamma: float = Field(0.5, gt=0)
    factor: float = Field(0.5, gt=0, lt=1)
    patience: int = Field(3, ge=0)
    min_lr: float = Field(0.0, ge=0)
    max_lr: float | None = Field(None, gt=0)


class EarlyStoppingConfig(ConfigSection):
    """Stop when the validation loss stops improving; keep the best weights."""

    patience: int = Field(10, ge=0, description="Epochs without improvement; 0 disables.")
    min_delta: float = Field(0.0, ge=0)


class DecorrelateConfig(ConfigSection):
    """Train a binary tagger decorrelated from one variable (e.g. the jet mass)."""

    variable: str = Field(description="Column the tagger must not sculpt; keep it out of the features.")
    method: Literal["none", "planing", "disco", "adversary"] = Field(
        "disco",
        description=(
            "disco: distance-correlation penalty; adversary: a network predicting the variable from the score, "
            "trained against the tagger; planing: training weights flat in the variable (any model); none: only "
            "evaluate the sculpting (the baseline)."
        ),
    )
    strength: float | None = Field(
        None,
        ge=0,
        description="λ of disco or adversary (default 10).",
    )
    bins: int | None = Field(
        None,
        ge=2,
        le=1000,
        description="Bins of the variable: planing's histogram (default 20), the adversary's classes (default 10).",
    )

    @model_validator(mode="after")
    def _only_what_the_method_uses(self) -> DecorrelateConfig:
        """Refuse a strength or bins the method would ignore without a word."""
        if self.strength is not None and self.method not in ("disco", "adversary"):
            raise ValueError(
                f"strength is the λ of disco and adversary; method {self.method!r} has none: remove it, or choose "
                "disco or adversary"
            )
        if self.bins is not None and self.method not in ("planing", "adversary"):
            raise ValueError(
                f"bins are planing's histogram and the adversary's classes; method {self.method!r} uses none: "
                "remove them"
            )
        return self

    def resolved_strength(self) -> float:
        """The strength, or the method's default."""
        if self.strength is not None:
            return self.strength
        return DEFAULT_DECORRELATION_STRENGTH if self.method in ("disco", "adversary") else 0.0

    def resolved_bins(self) -> int:
        """The bins, or the method's default.

        Notes
        -----
        Planing flattens a histogram of the variable (20 bins); the adversary predicts
        which of 10 equally populated bins an event is in.  With 20 classes the
        adversary's estimate of the information :math:`H - L_r` is noisier, and at
        large λ the tagger learned to exploit it: on
        :func:`neyman.testing.mass_sculpting_dataset` (two seeds, λ = 3, 10, 30),
        the 1/JSD fell from λ = 10 to λ = 30 with 20 bins in both seeds; with 10 it
        rose in one seed and fell less in the other, at comparable rejection.
        """
        if self.bins is not None:
            return self.bins
        return ADVERSARY_BINS if self.method == "adversary" else PLANING_BINS


DEFAULT_DECORRELATION_STRENGTH = 10.0
"""λ of disco and the adversary when not given (the middle of the range the literature scans)."""

PLANING_BINS = 20
"""Bins of planing's histogram of the variable when not given."""

ADVERSARY_BINS = 10
"""Classes (equally populated bins of the variable) the adversary predicts when not given."""


class TrainingConfig(ConfigSection):
    """How neural models are optimised."""

    epochs: int | None = Field(
        None, ge=1, description="Maximum epochs. Default: planned from training.steps and the sample size."
    )
    batch_size: int | None = Field(
        None,
        ge=1,
        description=(
            "Events per step. Default: the power of two nearest n_train/200, in [32, 1024]; for a disco or "
            "adversary decorrelation the power of two at or below n_train/16, in [32, 1024] (its penalty is a "
            "statistic of the batch)."
        ),
    )
    steps: int = Field(
        8_000,
        ge=1,
        description=(
            "Optimisation steps the default epochs are planned for, up to 204,800 training events; "
            "above that the budget grows as the square root of the sample size."
        ),
    )
    optimizer: OptimizerConfig = Field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    l1: float = Field(0.0, ge=0)
    l2: float = Field(0.0, ge=0)
    grad_clip: float | None = Field(None, gt=0)
    early_stopping: EarlyStoppingConfig = Field(default_factory=EarlyStoppingConfig)
    refit: bool | None = Field(
        None,
        description=(
            "After early stopping, train again on training + validation events with the budget validation "
            "chose (MLP epochs, boosted-tree rounds). Default: below 20,000 training events."
        ),
    )
    device: str = "auto"
    threads: int | None = Field(None, ge=1)
    progress: bool = True
    decorrelate: DecorrelateConfig | None = Field(
        None, description="Decorrelate a binary tagger from a variable (the jet mass), and evaluate its sculpting."
    )


class SplitConfig(ConfigSection):
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
        if self.kfold >= 2 and self.method == "parity":
            raise ValueError(
                "split.method: parity splits even and odd event ids without k-fold; with kfold the folds are "
                "event_id mod k already: remove split.method or split.kfold"
            )
        return self


def _default_family(task: object, data: object) -> str:
    """The model a task gets when none is named: the MLP, or the first family of an unsupervised
    task's objective that reads the configured representation (else tabular inputs)."""
    name = task.get("type", "binary") if isinstance(task, dict) else "binary"
    learned = TASKS.get(name) if isinstance(name, str) else None
    if learned is None or learned.objective == "supervised":
        return "mlp"
    representation = data.get("representation", "tabular") if isinstance(data, dict) else "tabular"
    reading = families_reading(str(representation), learned.objective) or families_reading("tabular", learned.objective)
    return (reading or tuple(n for n, f in FAMILIES.items() if f.objective == learned.objective))[0]


class RunConfig(ConfigSection):
    """A complete training run."""

    name: str | None = Field(None, description="Run name (one folder name); the run directory is output_dir/name.")
    output_dir: str = "runs"
    seed: int = Field(42, ge=0, lt=2**63, description="Seed of every random choice of the run.")
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
        if isinstance(data, dict) and isinstance(data.get("model", {}), dict) and "type" not in data.get("model", {}):
            default = _default_family(data.get("task"), data.get("data"))
            data = {**data, "model": {"type": default, **data.get("model", {})}}
        # constituent-based models read their representation unless it is said otherwise
        if isinstance(data, dict) and isinstance(data.get("model"), dict) and isinstance(data.get("data"), dict):
            kind = data["model"].get("type")
            family = FAMILIES.get(kind) if isinstance(kind, str) else None
            wanted = family.representation if family is not None else "tabular"
            if wanted != "tabular" and "representation" not in data["data"]:
                data = {**data, "data": {**data["data"], "representation": wanted}}
            # a generator is conditioned on the images' totals: they keep them unless it is said otherwise
            image = data["data"].get("image", {})
            if family is not None and family.objective == "generation" and isinstance(image, dict):
                data = {**data, "data": {**data["data"], "image": {"normalise": False, **image}}}
        return data

    @field_validator("name")
    @classmethod
    def _one_folder(cls, v: str | None) -> str | None:
        return None if v is None else check_run_name(v)

    @model_validator(mode="after")
    def _consistent(self) -> RunConfig:
        if not self.data.sources:
            raise ValueError("data.sources is empty: give at least one input file")
        task = TASKS[self.task.type]
        if task.truth_column == TARGET and not self.data.target:
            raise ValueError(f"task {self.task.type!r} needs data.target (the column to regress)")
        if task.neural_only and self.model.type not in NEURAL_MODELS:
            able = [n for n in families_reading("tabular", task.objective) if n in NEURAL_MODELS]
            raise ValueError(
                f"task {self.task.type!r} ({task.summary}) needs a neural model "
                f"({', '.join(able)}, or a constituent network), not {self.model.type!r}"
            )
        rep = self.data.representation
        wanted = FAMILIES[self.model.type].representation
        if wanted != "tabular" and rep != wanted:
            raise ValueError(
                f"model {self.model.type!r} reads {wanted}: set data.representation: {wanted} (it is {rep!r})"
            )
        if wanted == "tabular" and rep != "tabular":
            choices = ", ".join(families_reading(rep))
            raise ValueError(
                f"data.representation {rep!r} needs a model that reads it ({choices}); "
                f"model {self.model.type!r} reads a feature matrix (representation: tabular)"
            )
        if any(src.test for src in self.data.sources):
            if all(src.test for src in self.data.sources):
                raise ValueError("every data.sources entry is a test file (test: true); give events to train on")
            if self.split.kfold >= 2 or self.data.streaming:
                raise ValueError(
                    "external test files (data.sources[*].test) need one train/validation split: "
                    "not with split.kfold or data.streaming"
                )
        if self.data.streaming and (self.model.type not in NEURAL_MODELS or self.split.kfold >= 2):
            raise ValueError(
                f"data.streaming trains neural models ({', '.join(NEURAL_MODELS)}) without k-fold; "
                "boosted trees and baselines need their data in memory"
            )
        self._check_decorrelation()
        self._check_objective()
        if self.model.type in CLASSIFIER_MODELS and not task.is_classification:
            others = one_of(f for f in families_reading(wanted) if f not in CLASSIFIER_MODELS)
            raise ValueError(f"model {self.model.type!r} is a classifier; task {self.task.type!r} needs {others}")
        return self

    def _check_objective(self) -> None:
        """The model family must optimise what the task learns; a self-scaling family takes no preprocessing."""
        task, family = TASKS[self.task.type], FAMILIES[self.model.type]
        if family.objective != task.objective:
            wanted = families_reading(family.representation, task.objective) or families_reading(
                "tabular", task.objective
            )
            own = [name for name, t in TASKS.items() if t.objective == family.objective]
            raise ValueError(
                f"model {self.model.type!r} learns by {family.objective} and cannot learn task {self.task.type!r} "
                f"({task.summary}); use model type {one_of(wanted)}, or give the task it learns "
                f"(--task {one_of(own)})"
            )
        if task.objective != "supervised" and self.data.streaming:
            raise ValueError(f"task {self.task.type!r} trains on events in memory: not with data.streaming")
        p = self.preprocessing
        if family.own_scaling and (
            p.scaler not in (None, "none") or p.log or p.clip or p.standard_clip is not None or p.residualize
        ):
            raise ValueError(
                f"model {self.model.type!r} standardises its inputs itself, so that its density is of the physical "
                "variables (the Jacobian included); remove the preprocessing section (scaler, log, clip, "
                "residualize), or add transformed columns (e.g. log of a mass) to your files instead"
            )

    def _check_decorrelation(self) -> None:
        deco = self.training.decorrelate
        if deco is None:
            return
        if self.task.type != "binary":
            raise ValueError(f"training.decorrelate trains a binary tagger; the task is {self.task.type!r}")
        if self.data.streaming:
            raise ValueError("training.decorrelate needs the events in memory: not with data.streaming")
        if deco.method in ("disco", "adversary") and self.model.type not in NEURAL_MODELS:
            able = [n for n in families_reading("tabular") if n in NEURAL_MODELS]
            raise ValueError(
                f"training.decorrelate.method {deco.method!r} is a training objective of neural models "
                f"({', '.join(able)}, or a constituent network); model {self.model.type!r} can be decorrelated by "
                "method: planing"
            )
