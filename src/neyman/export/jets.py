"""Constituent-based taggers (particle sets, jet images) to ONNX.

The graph's inputs are what :func:`neyman.representations.particle_arrays` (or
:func:`~neyman.representations.jet_images`) build from the jagged constituents:

particle sets
    ``features`` ``(batch, particles, n_features)`` RAW per-particle features (their
    standardisation and clipping are part of the graph), ``points``
    ``(batch, particles, 2)`` = (Δη, Δφ), ``vectors`` ``(batch, particles, 4)`` =
    (px, py, pz, E) in GeV and ``mask`` ``(batch, particles)`` (1 real, 0 padding);
    the batch and particle axes are dynamic;
images
    ``image`` ``(batch, channels, size, size)``, preprocessed as the spec in the
    metadata says.

The output is the scores, as for every other export.  How to build the inputs
from a jet's constituents is recorded under ``representation`` in the metadata.
"""

from __future__ import annotations

import tempfile
from typing import TYPE_CHECKING

import onnx
import torch

from neyman.exceptions import ModelError
from neyman.export.metadata import PARTICLE_INPUTS, input_names
from neyman.export.neural import scores_head, target_scale, torch_export
from neyman.representations import ImageSpec, ParticleScaler, ParticleSpec

if TYPE_CHECKING:
    from neyman.runs import TrainedRun

__all__ = ["jet_network_onnx"]


class _ParticleScores(torch.nn.Module):
    """Standardise raw particle features, run the network, apply the task's head."""

    shift: torch.Tensor
    scale: torch.Tensor

    def __init__(
        self, network: torch.nn.Module, scaler: ParticleScaler, head: str, scaling: tuple[float, float, float]
    ) -> None:
        super().__init__()
        self.network = network
        self.register_buffer("shift", torch.tensor(scaler.mean_, dtype=torch.float32))
        self.register_buffer("scale", torch.tensor(scaler.scale_, dtype=torch.float32))
        self.clip = scaler.clip
        self.head, self.scaling = head, scaling

    def forward(
        self, features: torch.Tensor, points: torch.Tensor, vectors: torch.Tensor, mask: torch.Tensor
    ) -> torch.Tensor:
        z = (features - self.shift) / self.scale
        if self.clip is not None:
            z = torch.clamp(z, -self.clip, self.clip)
        z = z * mask.unsqueeze(-1)
        return scores_head(self.network(z, points, vectors, mask), self.head, *self.scaling)


class _ImageScores(torch.nn.Module):
    def __init__(self, network: torch.nn.Module, head: str, scaling: tuple[float, float, float]) -> None:
        super().__init__()
        self.network = network
        self.head, self.scaling = head, scaling

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return scores_head(self.network(image), self.head, *self.scaling)


def jet_network_onnx(run: TrainedRun, fold: int, opset: int) -> onnx.ModelProto:
    """The ONNX graph ``raw constituent inputs -> scores`` of one fold of a particle or image run."""
    model, prep = run.models[fold], run.preprocessors[fold]
    network: torch.nn.Module | None = getattr(model, "network", None)
    if network is None:
        raise ModelError(f"the {model.family} model has no torch network to export")
    network = network.to("cpu").eval()
    scaling = target_scale(model)
    spec = run.representation
    wrapper: torch.nn.Module
    if isinstance(spec, ParticleSpec):
        if not isinstance(prep, ParticleScaler):
            raise ModelError(f"{run.path}: the particle run's preprocessing is not a particle standardisation")
        wrapper = _ParticleScores(network, prep, run.task.output_head, scaling).eval()
        n = 24  # more than any k of a graph network, so no neighbour count is capped while tracing
        example: tuple[torch.Tensor, ...] = (
            torch.randn(2, n, model.n_features),
            torch.randn(2, n, 2) * 0.1,
            torch.rand(2, n, 4) * 10 + torch.tensor([0.0, 0.0, 0.0, 30.0]),
            torch.ones(2, n),
        )
        axes = {name: {0: "batch", 1: "particles"} for name in PARTICLE_INPUTS}
    elif isinstance(spec, ImageSpec):
        wrapper = _ImageScores(network, run.task.output_head, scaling).eval()
        example = (torch.rand(2, spec.n_channels, spec.size, spec.size),)
        axes = {"image": {0: "batch"}}
    else:
        raise ModelError(f"{run.path} has tabular inputs; it is exported through the feature-matrix graph")
    axes["output"] = {0: "batch"}
    with tempfile.TemporaryDirectory(prefix="neyman-onnx-") as tmp:
        path = f"{tmp}/model.onnx"
        names = input_names(run)
        torch_export(wrapper, example, path, input_names=names, dynamic_axes=axes, opset=opset, family=model.family)
        exported = onnx.load(path)
    _rename_output(exported)
    return exported


def _rename_output(model: onnx.ModelProto, new: str = "scores") -> None:
    """Name the graph output ``scores`` like every neyman export."""
    old = model.graph.output[0].name
    for node in model.graph.node:
        node.output[:] = [new if o == old else o for o in node.output]
        node.input[:] = [new if i == old else i for i in node.input]
    model.graph.output[0].name = new
