"""One interface over neural networks, boosted trees and classic baselines."""

from neyman.models.base import Arrays, Model
from neyman.models.registry import MODEL_FAMILIES, model_class

__all__ = ["MODEL_FAMILIES", "Arrays", "Model", "model_class"]
