"""Helpers of the network tests: tiny particle batches and an ONNX round trip."""

from __future__ import annotations

import io
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pytest
import torch

from neyman.nn.layers import PARTICLE_DYNAMIC_AXES, example_particle_inputs

Inputs = tuple[torch.Tensor, ...]


@pytest.fixture
def particle_batch() -> Callable[..., Inputs]:
    """``make(n_real, n_constituents, n_features=5, seed=0)`` -> (features, points, vectors, mask)."""

    def make(n_real: Sequence[int], n_constituents: int, n_features: int = 5, seed: int = 0) -> Inputs:
        generator = torch.Generator().manual_seed(seed)
        return example_particle_inputs(len(n_real), n_constituents, n_features, n_real=n_real, generator=generator)

    return make


def _export(net: torch.nn.Module, inputs: Inputs, names: Sequence[str], axes: dict[str, dict[int, str]]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.onnx.export(
            net,
            inputs,
            buffer,
            dynamo=False,
            input_names=list(names),
            output_names=["output"],
            dynamic_axes={**axes, "output": {0: "n_jets"}},
            opset_version=17,
        )
    # the legacy (TorchScript) exporter announces its deprecation; any other warning
    # (a tracer warning about a frozen size, a constant-folding problem) is a failure
    unexpected = [
        f"{w.category.__name__}: {w.message}" for w in caught if not issubclass(w.category, DeprecationWarning)
    ]
    assert not unexpected, unexpected
    return buffer.getvalue()


@pytest.fixture
def onnx_session() -> Callable[..., Callable[..., np.ndarray]]:
    """``export(net, example_inputs)`` -> ``run(*inputs)`` evaluating the exported graph with onnxruntime."""
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")

    def export(net: torch.nn.Module, inputs: Inputs) -> Callable[..., np.ndarray]:
        names = tuple(net.INPUT_NAMES)
        axes = PARTICLE_DYNAMIC_AXES if names != ("image",) else {"image": {0: "n_jets"}}
        model = _export(net.eval(), inputs, names, axes)
        graph_inputs = [i.name for i in onnx.load_from_string(model).graph.input]
        assert graph_inputs == list(names), "every declared input stays in the graph, in order"
        session = ort.InferenceSession(model, providers=["CPUExecutionProvider"])

        def run(*args: torch.Tensor) -> np.ndarray:
            feed = {name: a.numpy().astype(np.float32) for name, a in zip(names, args, strict=True)}
            return session.run(None, feed)[0]

        return run

    return export
