"""What an exported ONNX file says about itself: neyman's ``metadata_props``.

The exporter writes these keys, the verifier and :class:`~neyman.export.runtime.OnnxModel`
read them back; lists and mappings are stored as JSON strings.  This module imports
neither torch nor ONNX Runtime.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import numpy as np

from neyman.exceptions import ModelError
from neyman.representations import ParticleArrays, ParticleSpec
from neyman.runs import representation_json
from neyman.versions import __version__

if TYPE_CHECKING:
    import onnx

    from neyman.runs import TrainedRun

__all__ = [
    "INPUT",
    "METADATA_KEYS",
    "OUTPUT",
    "PARTICLE_INPUTS",
    "attach_metadata",
    "decode_metadata",
    "float32_inputs",
    "input_names",
    "read_metadata",
]

INPUT = "features"
"""Name of a tabular graph's input (raw features, float32)."""
OUTPUT = "scores"
"""Name of every graph's output."""
PARTICLE_INPUTS = ["features", "points", "vectors", "mask"]
"""Names of a particle-set graph's inputs."""

METADATA_KEYS = (
    "neyman_version",
    "family",
    "task",
    "features",
    "classes",
    "score_names",
    "preprocessing",
    "fill_value",
    "kfold",
    "fold",
    "input",
    "inputs",
    "representation",
    "inference_batch_size",
    "feature_ranges",
    "output",
    "uncertainty_left_out",
    "config",
)
"""Keys of ``model.metadata_props``; lists and mappings are JSON strings."""

_TEXT_KEYS = frozenset({"config", "input", "output", "task", "family", "neyman_version"})


def input_names(run: TrainedRun) -> list[str]:
    """Names of the exported graph's inputs: ``input``, the particle arrays or ``image``."""
    if run.representation is None:
        return [INPUT]
    return list(PARTICLE_INPUTS) if isinstance(run.representation, ParticleSpec) else ["image"]


def attach_metadata(onnx_model: onnx.ModelProto, run: TrainedRun, fold: int) -> None:
    """Append neyman's metadata of fold ``fold`` of ``run`` to ``onnx_model``."""
    import onnx

    config = run.path / "config.yaml"
    names = input_names(run)
    values: dict[str, Any] = {
        "neyman_version": __version__,
        "family": run.models[fold].family,
        "task": run.task.name,
        "features": run.features,
        "classes": run.classes,
        "score_names": run.score_names,
        "preprocessing": run.preprocessors[fold].to_json(),
        "fill_value": run.fill_value,
        "kfold": run.kfold,
        "fold": fold,
        "input": names[0],
        "inputs": names,
        "representation": representation_json(run.representation),
        "inference_batch_size": run.models[fold].inference_batch_size,
        "feature_ranges": run.feature_ranges or {},
        "output": OUTPUT,
        # the graph computes the scores: the spread of dropout masks, weight draws or members is not in it
        "uncertainty_left_out": run.uncertainty_names,
        "config": config.read_text(encoding="utf-8") if config.is_file() else "",
    }
    for key in METADATA_KEYS:
        value = values[key]
        text = value if isinstance(value, str) else json.dumps(value)
        onnx_model.metadata_props.append(onnx.StringStringEntryProto(key=key, value=text))


def read_metadata(onnx_model: onnx.ModelProto) -> dict[str, Any]:
    """The neyman metadata of an exported model, JSON values decoded."""
    return decode_metadata({p.key: p.value for p in onnx_model.metadata_props})


def decode_metadata(raw: dict[str, str]) -> dict[str, Any]:
    """Decode the ``metadata_props`` strings written by :func:`attach_metadata`.

    Raises
    ------
    ModelError
        The file carries no neyman metadata.
    """
    if "task" not in raw or "features" not in raw:
        raise ModelError("the ONNX file carries no neyman metadata (task, features); was it exported by neyman?")
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _TEXT_KEYS:
            out[key] = value
        else:
            try:
                out[key] = json.loads(value)
            except ValueError:
                out[key] = value
    return out


def float32_inputs(x: object, session: Any = None) -> dict[str, np.ndarray]:
    """ONNX Runtime feeds of raw particle arrays or images, by input name.

    With ``session`` (an ONNX Runtime session), only the inputs its graph takes: the
    exporter drops an input the network never reads (the particles' four-vectors of a
    transformer without particle-attention layers), and a feed of it is an error.
    """
    if isinstance(x, ParticleArrays):
        feeds = dict(zip(PARTICLE_INPUTS, x.tensors(), strict=True))
    else:
        feeds = {"image": np.ascontiguousarray(x, dtype=np.float32)}
    if session is None:
        return feeds
    taken = {i.name for i in session.get_inputs()}
    return {name: value for name, value in feeds.items() if name in taken}
