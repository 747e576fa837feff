"""One interface over neural networks, boosted trees and classic baselines.

Model families are declared in :mod:`neyman.models.families`.
"""

from neyman.models.base import Arrays, Model
from neyman.models.registry import MODEL_FAMILIES, build_model, model_class

__all__ = ["MODEL_FAMILIES", "Arrays", "Model", "build_model", "model_class"]
