"""A trained run as a library object: its directory, its models and the inputs they take.

Below export and the workflows: nothing here reads a configuration.  A run
directory (:class:`RunDirectory`) is written by :func:`neyman.train`;
:func:`load_run` turns a finished one into a :class:`TrainedRun` that scores new
events the way the training did.
"""

from neyman.runs.directory import RunDirectory
from neyman.runs.domain import RangeCheck, feature_ranges, outside_counts
from neyman.runs.hunting import HUNT_FILE, HuntScorer, is_hunt, load_hunt
from neyman.runs.inputs import (
    InputPreprocessor,
    ModelInput,
    as_model_input,
    input_size,
    model_inputs,
    preprocessor_from_json,
    representation_from_json,
    representation_json,
)
from neyman.runs.ratio import RATIO_FILE, WeightMap, read_ratio_weights, write_ratio_weights
from neyman.runs.scoring import Scorer, score_table
from neyman.runs.sources import changed_sources, source_records
from neyman.runs.trained import METADATA_DIGEST, TrainedRun, load_run, model_dirs

__all__ = [
    "HUNT_FILE",
    "METADATA_DIGEST",
    "RATIO_FILE",
    "HuntScorer",
    "InputPreprocessor",
    "ModelInput",
    "RangeCheck",
    "RunDirectory",
    "Scorer",
    "TrainedRun",
    "WeightMap",
    "as_model_input",
    "changed_sources",
    "feature_ranges",
    "input_size",
    "is_hunt",
    "load_hunt",
    "load_run",
    "model_dirs",
    "model_inputs",
    "outside_counts",
    "preprocessor_from_json",
    "read_ratio_weights",
    "representation_from_json",
    "representation_json",
    "score_table",
    "source_records",
    "write_ratio_weights",
]
