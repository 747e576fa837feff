"""Model families by name."""

from __future__ import annotations

from neyman.exceptions import ConfigError, close_matches
from neyman.models.base import Model

__all__ = ["MODEL_FAMILIES", "model_class"]

MODEL_FAMILIES = ("mlp", "xgboost", "lightgbm", "fisher", "logistic", "cnn", "pfn", "efn", "particlenet", "transformer")

_JET_MODELS = {
    "cnn": "CNNModel",
    "pfn": "PFNModel",
    "efn": "EFNModel",
    "particlenet": "ParticleNetModel",
    "transformer": "TransformerModel",
}


def model_class(family: str) -> type[Model]:
    """Return the :class:`Model` subclass of ``family`` (imported on demand)."""
    if family == "mlp":
        from neyman.models.neural import MLPModel

        return MLPModel
    if family == "xgboost":
        from neyman.models.trees import XGBoostModel

        return XGBoostModel
    if family == "lightgbm":
        from neyman.models.trees import LightGBMModel

        return LightGBMModel
    if family == "fisher":
        from neyman.models.baselines import FisherModel

        return FisherModel
    if family == "logistic":
        from neyman.models.baselines import LogisticModel

        return LogisticModel
    if family in _JET_MODELS:
        from neyman.models import jets

        klass: type[Model] = getattr(jets, _JET_MODELS[family])
        return klass
    raise ConfigError(
        f"unknown model {family!r}{close_matches(family, MODEL_FAMILIES)}; choose one of {', '.join(MODEL_FAMILIES)}"
    )
