"""Every model family, declared once.

A family is one :class:`Family` entry of :data:`FAMILIES`: its typed
hyper-parameters (a pydantic class, which is also the ``model:`` section of a run
configuration), where its :class:`~neyman.models.Model` subclass lives, the
representation it reads, whether the neural-network trainer trains it, whether it
only classifies, and how it is exported to ONNX.  The configuration schema, the
model registry, the command line and the ONNX export derive what they need from
here.

Adding a family touches three files: its network in :mod:`neyman.nn` (neural
families), its :class:`~neyman.models.Model` subclass in :mod:`neyman.models`
and its entry here.

This module imports neither torch nor any model library: the configuration layer
reads it.
"""

from __future__ import annotations

import functools
import importlib
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from types import UnionType
from typing import TYPE_CHECKING, Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, model_validator

from neyman.exceptions import ConfigError, close_matches

__all__ = [
    "CLASSIFIER_MODELS",
    "FAMILIES",
    "MODEL_FAMILIES",
    "NEURAL_MODELS",
    "PARTICLE_MODELS",
    "AutoencoderConfig",
    "CNNConfig",
    "ConfigSection",
    "ConvAutoencoderConfig",
    "EFNConfig",
    "Family",
    "FamilyParams",
    "FisherConfig",
    "FlowConfig",
    "GBReweighterConfig",
    "ImageGeneratorConfig",
    "LightGBMConfig",
    "LogisticConfig",
    "MLPConfig",
    "ModelConfig",
    "PFNConfig",
    "ParticleNetConfig",
    "PresetParams",
    "SetAutoencoderConfig",
    "TransformerConfig",
    "XGBoostConfig",
    "check_columns",
    "families_reading",
    "get_family",
    "one_of",
    "ratio_model",
]

Representation = Literal["tabular", "particles", "image"]
ExportKind = Literal["linear", "trees", "reweight_trees", "network", "jet_network"]


class ConfigSection(BaseModel):
    """A section of a configuration: unknown keys, infinities and NaN refused, assignments validated,
    and no truth value taken for a number (``epochs: true`` is a slip, not 1, as pydantic's lax mode
    would have it)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _no_truth_value_for_a_number(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for key, value in data.items():
                field = cls.model_fields.get(key) if isinstance(key, str) else None
                if isinstance(value, bool) and field is not None and not _takes_bool(field.annotation):
                    raise ValueError(f"{key}: expected a value of its kind, not the truth value {str(value).lower()}")
        return data


def _takes_bool(annotation: Any) -> bool:
    """Whether a field of this type takes a boolean (``bool``, ``Any``, a union or literal with one)."""
    if annotation is bool or annotation is Any:
        return True
    if get_origin(annotation) is Literal:
        return any(isinstance(arg, bool) for arg in get_args(annotation))
    return get_origin(annotation) in (Union, UnionType) and any(_takes_bool(arg) for arg in get_args(annotation))


class FamilyParams(ConfigSection):
    """Hyper-parameters of a model family (base of every family's class).

    Rejects unknown keys and validates assignments, as every configuration
    section does (:class:`ConfigSection`).  ``type`` names the family; it is the
    discriminator of the ``model:`` section of a run configuration.
    """

    type: str

    def planned(self, n_train: int) -> FamilyParams:
        """These hyper-parameters with any left to the sample size filled in for ``n_train`` events."""
        return self

    def named_columns(self) -> dict[str, list[str]]:
        """The feature columns these hyper-parameters name, by option (checked against the inputs)."""
        return {}


class NeuralParams(FamilyParams):
    """Hyper-parameters every network family shares."""

    ensemble: PositiveInt = Field(
        1, description="Members trained with different seeds; their raw outputs (logits) are averaged."
    )
    uncertainty: Literal["none", "ensemble", "mc_dropout", "bayesian"] = Field(
        "none",
        description=(
            "Per-event model uncertainty (score_std, sigma_model): the spread of the ensemble's members "
            "(needs ensemble >= 2), of dropout masks at inference (needs dropout > 0), or of weights drawn "
            "from Bayesian layers (mlp)."
        ),
    )
    passes: PositiveInt = Field(
        50, description="Forward passes (dropout masks or weight draws) per event for mc_dropout and bayesian."
    )

    @model_validator(mode="after")
    def _members_for_ensemble(self) -> NeuralParams:
        if self.uncertainty == "ensemble" and self.ensemble < 2:
            raise ValueError("uncertainty: ensemble needs ensemble: N >= 2 members (e.g. 5)")
        if self.uncertainty in ("mc_dropout", "bayesian") and self.passes < 2:
            raise ValueError(
                f"passes: {self.passes} forward pass gives {self.uncertainty} no spread (score_std = 0 for every "
                "event); draw at least 2 (the default 50 estimates a standard deviation to about 10%)"
            )
        if self.uncertainty in ("mc_dropout", "bayesian") and self.ensemble > 1:
            raise ValueError(f"uncertainty: {self.uncertainty} is for one network; remove ensemble: {self.ensemble}")
        if self.uncertainty == "bayesian" and self.type != "mlp":
            raise ValueError(f"uncertainty: bayesian needs Bayesian layers (type: mlp); {self.type} can use ensemble")
        if self.uncertainty == "mc_dropout" and getattr(self, "dropout", None) == 0:
            raise ValueError("uncertainty: mc_dropout samples dropout masks: set dropout > 0 (e.g. 0.1), not 0")
        if self.uncertainty == "bayesian":
            unused = {
                "dropout": getattr(self, "dropout", None) not in (None, 0),
                "batch_norm": getattr(self, "batch_norm", False),
                "init": getattr(self, "init", "auto") != "auto",
            }
            if any(unused.values()):
                names = ", ".join(k for k, v in unused.items() if v)
                raise ValueError(
                    f"uncertainty: bayesian layers do not use {names}: their Gaussian weight prior is the "
                    "regulariser (prior_sigma sets its width); remove "
                    + ("it" if sum(unused.values()) == 1 else "them")
                )
        return self


class PresetParams(NeuralParams):
    """Hyper-parameters of a jet tagger: a named ``preset`` that the other keys override."""

    preset: str = "lite"


SMALL_SAMPLE = 20_000
"""Below this many training events the MLP's default is regularised and trainings refit."""
LARGE_HIDDEN, SMALL_DROPOUT = (128, 128, 128), 0.2
"""The MLP's default widths (at every sample size) and its dropout below ``SMALL_SAMPLE`` events."""
MC_DROPOUT = 0.1
"""The MLP's dropout for ``uncertainty: mc_dropout`` on large samples when none is given."""


class MLPConfig(NeuralParams):
    """Multilayer perceptron."""

    type: Literal["mlp"] = "mlp"
    hidden: list[PositiveInt] | None = Field(
        None,
        description=(
            f"Hidden layer widths. Default: {LARGE_HIDDEN}, with dropout {SMALL_DROPOUT} below "
            f"{SMALL_SAMPLE:,} training events."
        ),
    )
    activation: Literal["auto", "relu", "leaky_relu", "elu", "gelu", "selu", "sigmoid", "tanh", "softplus"] = Field(
        "auto",
        description=(
            "Hidden-layer activation. auto: GELU, but ReLU for a decorrelated training, whose strengths were "
            "calibrated with it (docs/training-policy.md)."
        ),
    )
    dropout: float | None = Field(
        None,
        ge=0.0,
        lt=1.0,
        description=f"Default: {SMALL_DROPOUT} for the default widths below {SMALL_SAMPLE:,} training events, else 0.",
    )
    batch_norm: bool = False
    init: Literal["auto", "he", "xavier", "lecun", "default"] = Field(
        "auto",
        description=(
            "Weight initialisation. auto: PyTorch's U(±1/√fan_in) ('default'), which generalised better than "
            "He's on every sample tried; He's for decorrelated trainings (docs/training-policy.md)."
        ),
    )
    prior_sigma: float = Field(1.0, gt=0, description="uncertainty: bayesian: width of the Gaussian weight prior.")

    def resolved_init(self, *, decorrelated: bool) -> str:
        """The initialisation ``auto`` stands for: ``he`` for a decorrelated training, else ``default``.

        Notes
        -----
        PyTorch's ``U(±1/√fan_in)`` starts the network smaller than He's
        ``N(0, 2/fan_in)``; plain classifiers generalised better from it on every
        sample tried.  DisCo and the adversary were calibrated with He's start: from
        the smaller one the toy's DisCo tagger learns slower (AUC 0.64 against 0.78
        after 12 epochs) and the adversary decorrelates less (dCorr² 0.023 against
        0.003).
        """
        if self.init != "auto":
            return self.init
        return "he" if decorrelated else "default"

    def resolved_activation(self, *, decorrelated: bool) -> str:
        """The activation ``auto`` stands for: ``relu`` for a decorrelated training, else ``gelu``.

        Notes
        -----
        GELU, :math:`x\\,\\Phi(x)` with :math:`\\Phi` the standard normal CDF, is smooth
        where ReLU, :math:`\\max(0, x)`, has a kink: sums of its units approximate the
        curved decision boundaries of a likelihood ratio (quadratic forms, rotations
        that depend on the inputs) with fewer units.  On four maps of Gaussian classes
        with a known likelihood ratio (fresh seeds, 200k events, fraction of the optimal
        AUC, ReLU → GELU, 3×128 both): swirled pairs 0.9576 → 0.9660, a feature-driven
        rotation 0.9859 → 0.9923, heavy tails 0.9976 → 0.9990, integer + remainder
        splits 0.9968 → 0.9986, at the same training cost; on 2k, 5k and 10k events
        the mean change was +0.0060, +0.0002 and +0.0008 (docs/training-policy.md).
        The ensembles, MC dropout and the Bayesian layers met their AUC, coverage and
        out-of-support bars with GELU too (``benchmarks/README.md``).  DisCo and the
        adversary were calibrated with ReLU and keep it.
        """
        if self.activation != "auto":
            return self.activation
        return "relu" if decorrelated else "gelu"

    def planned(self, n_train: int) -> MLPConfig:
        """Widths and dropout matched to the sample when not given.

        Notes
        -----
        The widths are ``LARGE_HIDDEN`` at every size; below ``SMALL_SAMPLE``
        training events the default adds dropout ``SMALL_DROPOUT``.  A network far
        larger than its sample memorises it within a few epochs unless regularised:
        on 4k training events 3×128 without dropout (and He's initialisation)
        peaked at epoch 7 with a test AUC of 0.75.  With dropout 0.2 and PyTorch's
        initialisation, 3×128 beat the 2×64 used before on six samples of 1k-10k
        events (by −0.002 to +0.037 of the optimal AUC; docs/training-policy.md).
        """
        small = n_train < SMALL_SAMPLE and self.hidden is None  # given widths get no dropout unless asked
        update: dict[str, object] = {}
        if self.hidden is None:
            update["hidden"] = list(LARGE_HIDDEN)
        if self.dropout is None:
            update["dropout"] = (
                0.0
                if self.uncertainty == "bayesian"  # the weight prior regularises Bayesian layers
                else SMALL_DROPOUT
                if small
                else (MC_DROPOUT if self.uncertainty == "mc_dropout" else 0.0)
            )
        return self.model_copy(update=update) if update else self


class XGBoostConfig(FamilyParams):
    """Gradient-boosted trees with XGBoost (histogram method)."""

    type: Literal["xgboost"] = "xgboost"
    n_estimators: int = Field(1000, ge=1, description="The most boosting rounds (early stopping chooses fewer).")
    max_depth: int = Field(6, ge=1)
    learning_rate: float = Field(0.05, gt=0)
    subsample: float = Field(0.8, gt=0, le=1, description="Fraction of the events each tree sees.")
    colsample_bytree: float = Field(0.8, gt=0, le=1, description="Fraction of the features each tree sees.")
    min_child_weight: float = Field(
        5.0, ge=0, description="Minimum hessian sum per leaf (5: about 20 events at p = 0.5; XGBoost's own is 1)."
    )
    reg_lambda: float = Field(1.0, ge=0)
    early_stopping_rounds: int | None = Field(20, ge=1)
    n_jobs: int | None = None
    negative_weights: Literal["error", "zero", "abs"] = Field(
        "error", description="XGBoost refuses negative weights: stop, drop them, or use |w|."
    )


class LightGBMConfig(FamilyParams):
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
    max_bin: int = Field(255, ge=2, description="Histogram bins per feature: the split points a tree may choose.")
    early_stopping_rounds: int | None = Field(20, ge=1)
    n_jobs: int | None = None


class FisherConfig(FamilyParams):
    """Fisher's linear discriminant."""

    type: Literal["fisher"] = "fisher"
    shrinkage: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Shrink the covariance towards its diagonal (the correlations towards 0) by this fraction.",
    )


class LogisticConfig(FamilyParams):
    """Logistic regression (a linear classifier trained with cross-entropy)."""

    type: Literal["logistic"] = "logistic"
    C: float = Field(1.0, gt=0, description="Inverse L2 strength.")
    max_iter: int = Field(1000, ge=1)


class GBReweighterConfig(FamilyParams):
    """Gradient-boosted reweighter: shallow trees that move the source's weights towards a target sample."""

    type: Literal["gbreweighter"] = "gbreweighter"
    n_estimators: int = Field(40, ge=1, description="Trees grown (no early stopping).")
    learning_rate: float = Field(0.2, gt=0, le=1, description="Fraction of each tree's log-weight change applied.")
    max_depth: int = Field(3, ge=1, le=16)
    min_samples_leaf: int = Field(200, ge=1, description="Fewest events (source and target) in a leaf.")
    regularisation: float = Field(
        5.0, ge=0, description="Events' worth of weight added to both sides of each leaf's ratio."
    )


Preset = Literal["lite", "full"]
GraphPreset = Literal["tiny", "lite", "full"]
PRESET_HELP = "Named size: 'lite' (sized for CPUs) or 'full' (the paper's); keys below override it."


class CNNConfig(PresetParams):
    """Convolutional network on jet images."""

    type: Literal["cnn"] = "cnn"
    preset: Preset = Field("lite", description=PRESET_HELP)
    channels: list[PositiveInt] | None = Field(None, description="Filters of each convolution block.")
    kernel_size: int | None = Field(None, ge=1)
    dense: list[PositiveInt] | None = Field(None, description="Widths of the dense head.")
    dropout: float | None = Field(None, ge=0.0, lt=1.0)
    batch_norm: bool | None = None


class PFNConfig(PresetParams):
    """Particle Flow Network (Deep Sets)."""

    type: Literal["pfn"] = "pfn"
    preset: Preset = Field("lite", description=PRESET_HELP)
    phi: list[PositiveInt] | None = Field(None, description="Widths of the per-particle network Φ.")
    f: list[PositiveInt] | None = Field(None, description="Widths of the network F on the summed latent space.")
    dropout: float | None = Field(None, ge=0.0, lt=1.0)


class EFNConfig(PresetParams):
    """Energy Flow Network (IRC-safe Deep Sets on energy fractions and angles)."""

    type: Literal["efn"] = "efn"
    preset: Preset = Field("lite", description=PRESET_HELP)
    phi: list[PositiveInt] | None = Field(None, description="Widths of the angular network Φ(η, φ).")
    f: list[PositiveInt] | None = Field(None, description="Widths of the network F.")


class ParticleNetConfig(PresetParams):
    """ParticleNet (dynamic-graph EdgeConv)."""

    type: Literal["particlenet"] = "particlenet"
    preset: GraphPreset = Field("lite", description=PRESET_HELP + " lite = ParticleNet-Lite; tiny: ~4 MFLOP/jet.")
    k: int | None = Field(None, ge=1, description="Nearest neighbours per particle.")
    edge_convs: list[list[PositiveInt]] | None = Field(None, description="Widths of each EdgeConv block's edge MLP.")
    fc: list[PositiveInt] | None = Field(None, description="Widths of the fully connected head.")
    dropout: float | None = Field(None, ge=0.0, lt=1.0)


class TransformerConfig(PresetParams):
    """Particle transformer (self-attention with pairwise interaction features, class token)."""

    type: Literal["transformer"] = "transformer"
    preset: GraphPreset = Field("lite", description=PRESET_HELP + " tiny: ~9 MFLOP/jet.")
    embed_dim: int | None = Field(None, ge=1)
    num_heads: int | None = Field(None, ge=1)
    num_layers: int | None = Field(None, ge=0)
    num_class_layers: int | None = Field(None, ge=1)
    dropout: float | None = Field(None, ge=0.0, lt=1.0)
    attention_dropout: float | None = Field(
        None, ge=0.0, lt=1.0, description="Dropout on attention weights (tiny/lite: 0, full: 0.1)."
    )
    pair_features: bool | None = Field(None, description="Add ln ΔR, ln kT, ln z, ln m² as attention biases.")


class _VariationalParams(NeuralParams):
    """The options of an autoencoder that can be variational."""

    variational: bool = Field(False, description="A VAE: Gaussian latent space with a KL term.")
    beta: float = Field(1.0, ge=0, description="Weight of the VAE's KL term.")
    score: Literal["reconstruction", "elbo"] = Field(
        "reconstruction", description="Anomaly score: the reconstruction error, or a VAE's negative ELBO."
    )

    def variational_options(self) -> dict[str, Any]:
        """``variational``, ``beta`` and ``score``, as the autoencoder networks take them."""
        return {"variational": self.variational, "beta": self.beta, "score": self.score}

    @model_validator(mode="after")
    def _elbo_needs_vae(self) -> _VariationalParams:
        if self.score == "elbo" and not self.variational:
            raise ValueError("score: elbo is the negative ELBO of a VAE: set variational: true")
        return self


class AutoencoderConfig(_VariationalParams):
    """Dense (variational) autoencoder for ``task: autoencoder``."""

    type: Literal["autoencoder"] = "autoencoder"
    latent: PositiveInt = Field(4, description="Size of the bottleneck (latent space).")
    hidden: list[PositiveInt] = Field(
        default_factory=lambda: [64, 32], description="Encoder widths; the decoder mirrors them."
    )
    activation: Literal["relu", "leaky_relu", "elu", "gelu", "selu", "tanh", "softplus"] = "elu"
    feature_weights: dict[str, float] = Field(
        default_factory=dict,
        description="Weight of a feature's squared error in the reconstruction loss (default 1 each).",
    )

    def named_columns(self) -> dict[str, list[str]]:
        return {"feature_weights": list(self.feature_weights)}

    @model_validator(mode="after")
    def _positive_weights(self) -> AutoencoderConfig:
        bad = {k: v for k, v in self.feature_weights.items() if not v > 0}
        if bad:
            raise ValueError(f"feature_weights must be positive, got {bad}")
        return self


class ConvAutoencoderConfig(_VariationalParams):
    """Convolutional (variational) autoencoder on jet images for ``task: autoencoder``."""

    type: Literal["conv_autoencoder"] = "conv_autoencoder"
    latent: PositiveInt = Field(16, description="Size of the bottleneck.")
    channels: list[PositiveInt] = Field(
        default_factory=lambda: [16, 32], description="Filters of each encoder block; the decoder mirrors them."
    )
    kernel_size: PositiveInt = Field(3, description="Square convolution kernel.")


class SetAutoencoderConfig(NeuralParams):
    """Permutation-invariant autoencoder on particle sets for ``task: autoencoder``."""

    type: Literal["set_autoencoder"] = "set_autoencoder"
    latent: PositiveInt = Field(16, description="Size of the bottleneck.")
    phi: list[PositiveInt] = Field(
        default_factory=lambda: [64, 64], min_length=1, description="Widths of the per-particle network."
    )
    hidden: list[PositiveInt] = Field(default_factory=lambda: [128, 128], description="Widths of the decoder.")
    decoded: PositiveInt = Field(32, description="Particles the decoder emits (compared by a Chamfer distance).")
    activation: Literal["relu", "leaky_relu", "elu", "gelu", "selu", "tanh", "softplus"] = "elu"


class FlowConfig(NeuralParams):
    """Normalizing flow for ``task: density`` (zuko)."""

    type: Literal["flow"] = "flow"
    transform: Literal["nsf", "maf"] = Field(
        "nsf", description="nsf: rational-quadratic spline flow; maf: masked autoregressive (affine) flow."
    )
    transforms: PositiveInt = Field(4, description="Number of autoregressive transforms.")
    hidden: list[PositiveInt] = Field(default_factory=lambda: [128, 128], description="Widths of each transform's net.")
    bins: int = Field(8, ge=2, description="Spline bins (nsf).")
    condition: list[str] = Field(
        default_factory=list, description="Feature columns the density is conditioned on: p(x | these)."
    )
    bounded: list[str] = Field(
        default_factory=list,
        description="Features modelled on their training range through a logit (hard edges: a mass ≥ 0, τ21 ≤ 1); "
        "the density vanishes outside that range.",
    )

    def named_columns(self) -> dict[str, list[str]]:
        return {"condition": list(self.condition), "bounded": list(self.bounded)}

    @model_validator(mode="after")
    def _one_flow(self) -> FlowConfig:
        both = sorted(set(self.bounded) & set(self.condition))
        if both:
            raise ValueError(f"{both[0]!r} is a condition: only modelled variables can be bounded")
        if self.ensemble > 1 or self.uncertainty != "none":
            raise ValueError(
                "a density is one flow: the average of several flows' log-densities is not a density "
                "(remove ensemble and uncertainty)"
            )
        return self


class ImageGeneratorConfig(NeuralParams):
    """Conditional generator of jet images for ``task: generator``."""

    type: Literal["image_generator"] = "image_generator"
    kind: Literal["autoregressive", "flow_matching"] = Field(
        "autoregressive",
        description="autoregressive: one pixel at a time, an exact likelihood (MADE); flow_matching: a velocity "
        "field integrated from noise.",
    )
    width: PositiveInt = Field(512, description="Hidden units per layer (masked layers, or the velocity network's).")
    blocks: PositiveInt | None = Field(
        None, description="Residual layers. Default: 2 (autoregressive), 4 (flow_matching)."
    )
    components: PositiveInt = Field(4, description="Gaussian components of a lit pixel's ln q (autoregressive).")
    dropout: float = Field(0.2, ge=0, lt=1, description="Dropout of the hidden units in training (autoregressive).")
    steps: PositiveInt = Field(
        16,
        description="Midpoint steps of the ODE integration when drawing (flow_matching; 8: twice as fast, nearly "
        "as faithful).",
    )
    condition: list[str] = Field(
        default_factory=lambda: ["pt"],
        description="Name of the condition when drawing: the images' total intensity (Σ pixels: the jet pT, or "
        "energy, inside the image); neyman sample --condition NAME=VALUE or a file with that column.",
    )

    @model_validator(mode="after")
    def _one_generator(self) -> ImageGeneratorConfig:
        if len(self.condition) != 1:
            raise ValueError(f"condition names the one conditioning quantity (the image total), got {self.condition}")
        if self.ensemble > 1 or self.uncertainty != "none":
            raise ValueError("a generator is one network: remove ensemble and uncertainty")
        other = {"autoregressive": ("steps",), "flow_matching": ("components", "dropout")}[self.kind]
        fields = type(self).model_fields
        ignored = [f"{name}: {getattr(self, name)}" for name in other if getattr(self, name) != fields[name].default]
        if ignored:
            raise ValueError(
                f"{', '.join(ignored)} would be ignored: kind {self.kind} has no such setting; remove it, "
                f"or choose kind {'flow_matching' if self.kind == 'autoregressive' else 'autoregressive'}"
            )
        return self

    def resolved_blocks(self) -> int:
        """The residual layers, or the kind's default."""
        if self.blocks is not None:
            return self.blocks
        return 2 if self.kind == "autoregressive" else 4


@dataclass(frozen=True)
class Family:
    """The declaration of one model family.

    Attributes
    ----------
    name
        Registry name, the ``model.type`` of a run configuration.
    model
        Where the :class:`~neyman.models.Model` subclass lives, as
        ``"package.module:Class"`` (imported only when the family is used).
    params
        The hyper-parameter class; its ``type`` field defaults to :attr:`name`.
    export
        How the ONNX export converts a trained model: ``linear`` (coefficients),
        ``trees`` (a booster), ``reweight_trees`` (a boosted reweighter's trees),
        ``network`` (a torch network on a feature matrix)
        or ``jet_network`` (a torch network on particle sets or images).
    representation
        The inputs the family reads: ``tabular`` (a feature matrix),
        ``particles`` (padded particle sets) or ``image`` (jet images).
    neural
        Whether the neural-network trainer trains the family.
    classifier
        Whether the family learns classification tasks only.
    objective
        What the family optimises: ``supervised`` (a task's loss on targets),
        ``reconstruction``, ``density`` or ``generation``; it learns the tasks of the same
        objective (:attr:`neyman.tasks.Task.objective`).
    own_scaling
        Whether the model standardises its raw inputs itself (a flow, whose
        density must be of the physical variables): the run's preprocessing is
        then ``none`` and cannot be configured.
    """

    name: str
    model: str
    params: type[FamilyParams]
    export: ExportKind
    representation: Representation = "tabular"
    neural: bool = False
    classifier: bool = False
    objective: str = "supervised"
    own_scaling: bool = False

    def model_class(self) -> type:
        """Import and return the class that :attr:`model` names."""
        module, _, attribute = self.model.partition(":")
        klass: type = getattr(importlib.import_module(module), attribute)
        return klass


_NEURAL = "neyman.models.neural"
_JETS = "neyman.models.jets"
_TREES = "neyman.models.trees"
_BASELINES = "neyman.models.baselines"
_UNSUPERVISED = "neyman.models.unsupervised"

FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family("mlp", f"{_NEURAL}:MLPModel", MLPConfig, "network", neural=True),
        Family("xgboost", f"{_TREES}:XGBoostModel", XGBoostConfig, "trees"),
        Family("lightgbm", f"{_TREES}:LightGBMModel", LightGBMConfig, "trees"),
        Family("fisher", f"{_BASELINES}:FisherModel", FisherConfig, "linear", classifier=True),
        Family("logistic", f"{_BASELINES}:LogisticModel", LogisticConfig, "linear", classifier=True),
        Family(
            "gbreweighter",
            "neyman.models.reweighters:GBReweighterModel",
            GBReweighterConfig,
            "reweight_trees",
            classifier=True,
        ),
        Family("cnn", f"{_JETS}:CNNModel", CNNConfig, "jet_network", "image", neural=True),
        Family("pfn", f"{_JETS}:PFNModel", PFNConfig, "jet_network", "particles", neural=True),
        Family("efn", f"{_JETS}:EFNModel", EFNConfig, "jet_network", "particles", neural=True),
        Family("particlenet", f"{_JETS}:ParticleNetModel", ParticleNetConfig, "jet_network", "particles", neural=True),
        Family("transformer", f"{_JETS}:TransformerModel", TransformerConfig, "jet_network", "particles", neural=True),
        Family(
            "autoencoder",
            f"{_UNSUPERVISED}:AutoencoderModel",
            AutoencoderConfig,
            "network",
            neural=True,
            objective="reconstruction",
        ),
        Family(
            "conv_autoencoder",
            f"{_UNSUPERVISED}:ConvAutoencoderModel",
            ConvAutoencoderConfig,
            "jet_network",
            "image",
            neural=True,
            objective="reconstruction",
        ),
        Family(
            "set_autoencoder",
            f"{_UNSUPERVISED}:SetAutoencoderModel",
            SetAutoencoderConfig,
            "jet_network",
            "particles",
            neural=True,
            objective="reconstruction",
        ),
        Family(
            "flow",
            f"{_UNSUPERVISED}:FlowModel",
            FlowConfig,
            "network",
            neural=True,
            objective="density",
            own_scaling=True,
        ),
        Family(
            "image_generator",
            f"{_UNSUPERVISED}:ImageGeneratorModel",
            ImageGeneratorConfig,
            "jet_network",
            "image",
            neural=True,
            objective="generation",
            own_scaling=True,
        ),
    )
}
"""The model families by name, in the order the documentation lists them."""

MODEL_FAMILIES = tuple(FAMILIES)
"""Names of every model family."""
NEURAL_MODELS = tuple(f.name for f in FAMILIES.values() if f.neural)
"""Model types trained by the neural-network trainer."""
CLASSIFIER_MODELS = tuple(f.name for f in FAMILIES.values() if f.classifier)
"""Model types that learn classification tasks only."""


def families_reading(representation: str, objective: str = "supervised") -> tuple[str, ...]:
    """Names of the families that read ``representation`` (``tabular``, ``particles``, ``image``)
    and optimise ``objective`` (``supervised``, ``reconstruction``, ``density``, ``generation``)."""
    return tuple(f.name for f in FAMILIES.values() if f.representation == representation and f.objective == objective)


PARTICLE_MODELS = families_reading("particles")
"""Model types that read particle sets."""


def get_family(name: str) -> Family:
    """The declaration of family ``name``.

    Raises
    ------
    ConfigError
        No family has that name (the message suggests close matches).
    """
    try:
        return FAMILIES[name]
    except KeyError:
        raise ConfigError(
            f"unknown model {name!r}{close_matches(name, MODEL_FAMILIES)}; choose one of {', '.join(MODEL_FAMILIES)}"
        ) from None


RATIO_FAMILIES = ("mlp", "xgboost", "lightgbm", "fisher", "logistic")
"""The classifiers a reweighter or a DCTR fit can be: tabular, binary, with a calibrated score."""

REWEIGHTER_FAMILIES = (*RATIO_FAMILIES, "gbreweighter")
"""The families ``neyman reweight --source --target`` takes: the classifiers and the boosted reweighter."""


def ratio_model(family: str, *, two_samples: bool = False) -> dict[str, Any]:
    """The ``model`` block of a training whose score is turned into a likelihood ratio.

    Reweighting (``neyman reweight``, its positive-weight resampler) and the DCTR fit
    use ``family`` at its defaults, except where the classifiers' defaults moved after
    their closure and fit benchmarks were measured (``benchmarks/README.md``): an MLP
    keeps ReLU (:meth:`MLPConfig.resolved_activation` would choose GELU), XGBoost every
    event and feature in each tree at learning rate 0.1.  ``two_samples``: the
    training reweights one sample to another (``neyman reweight --source --target``),
    which the boosted reweighter ``gbreweighter`` can do too; its trees are piecewise
    constant, so a parametrised fit's scan would be a staircase, and it learns no
    regression.
    """
    allowed = REWEIGHTER_FAMILIES if two_samples else RATIO_FAMILIES
    if family not in allowed:
        why = (
            " (gbreweighter reweights one sample to another: its trees are piecewise constant in a parameter and "
            "regress no weight)"
            if family == "gbreweighter"
            else ""
        )
        raise ConfigError(
            f"--model {family!r}: a reweighter here is a classifier of source against target events on their "
            f"columns; choose {one_of(allowed)}{why}"
        )
    if family == "mlp":
        return {"type": family, "activation": "relu"}
    if family == "xgboost":
        return {"type": family, "learning_rate": 0.1, "subsample": 1.0, "colsample_bytree": 1.0, "n_estimators": 500}
    return {"type": family}


def check_columns(option: str, names: Iterable[str], features: Sequence[str]) -> None:
    """Refuse column names in ``model.<option>`` that are not among the ``features``, or named twice.

    Raises
    ------
    ConfigError
        Naming the unknown columns, a close match and the features; or the repeated column
        (a flow conditioned on ``[pt, pt]`` trained, then could not be evaluated or sampled).
    """
    names = list(names)
    repeated = [c for i, c in enumerate(names) if c in names[:i]]
    if repeated:
        raise ConfigError(f"model.{option} names {repeated[0]!r} more than once; name each column once")
    unknown = [c for c in names if c not in features]
    if unknown:
        raise ConfigError(
            f"model.{option} names {', '.join(map(repr, unknown))}{close_matches(unknown[0], features)}, which "
            f"{'is' if len(unknown) == 1 else 'are'} not among the features ({', '.join(features)}); "
            "add it to data.features or fix the name"
        )


def one_of(names: Iterable[str]) -> str:
    """``"a, b or c"``: names joined for a message."""
    items = list(names)
    return " or ".join([", ".join(items[:-1]), items[-1]]) if len(items) > 1 else "".join(items)


if TYPE_CHECKING:
    ModelConfig = FamilyParams
else:
    ModelConfig = Annotated[
        functools.reduce(operator.or_, (f.params for f in FAMILIES.values())), Field(discriminator="type")
    ]
"""The ``model:`` section of a run configuration: one family's hyper-parameters, by ``type``.

(Type checkers see the common base class; at run time it is the discriminated
union of every family's class, built from :data:`FAMILIES`.)"""
