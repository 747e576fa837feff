"""Workflows: the only layer that reads a configuration.

Each workflow is a function returning a result object; the command line is a thin
shell around them.
"""

from neyman.workflows.demo import DemoResult, demo
from neyman.workflows.predict import PredictResult, predict
from neyman.workflows.train import RunResult, train
from neyman.workflows.tune import TuneResult, tune

__all__ = ["DemoResult", "PredictResult", "RunResult", "TuneResult", "demo", "predict", "train", "tune"]
