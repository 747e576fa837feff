"""Neural models to ONNX with torch's exporter.

The network is wrapped in a module that adds the task's output activation and,
for regression, the de-standardisation of the targets, so the exported graph maps
preprocessed float32 inputs to the scores :meth:`Model.predict` returns.  The
legacy TorchScript exporter (``dynamo=False``) is used: it needs no extra
packages and works offline; the torch.export-based one needs ``onnxscript``.
"""

from __future__ import annotations

import math
import tempfile
import warnings

import onnx
import torch

from neyman.exceptions import ConfigError, ModelError
from neyman.export.graph import GraphBuilder
from neyman.models import Model

__all__ = ["network_ops", "scores_head", "target_scale", "torch_export"]

_LOG_SIGMA_MIN = -12.0
_LOG_SIGMA_MAX = 12.0
_LOG_SIGMA_FLOAT32 = 80.0


def _sigmoid(raw: torch.Tensor, mean: float, std: float, scale: float) -> torch.Tensor:
    return torch.sigmoid(raw[:, 0])


def _softmax(raw: torch.Tensor, mean: float, std: float, scale: float) -> torch.Tensor:
    return torch.softmax(raw, dim=1)


def _identity(raw: torch.Tensor, mean: float, std: float, scale: float) -> torch.Tensor:
    # de-standardise in float64, as Task.rescale_raw does, and stay there: a target of 1e7 in
    # float32 has steps of 1, coarser than many a resolution
    return raw[:, 0].double() * std + mean


def _gaussian(raw: torch.Tensor, mean: float, std: float, scale: float) -> torch.Tensor:
    mu = raw[:, 0].double() * std + mean
    log_sigma = torch.clamp(raw[:, 1].double(), _LOG_SIGMA_MIN, _LOG_SIGMA_MAX) + math.log(std * scale)
    log_sigma = torch.clamp(log_sigma, -_LOG_SIGMA_FLOAT32, _LOG_SIGMA_FLOAT32)
    return torch.stack([mu, torch.exp(log_sigma)], dim=1)


def _density(raw: torch.Tensor, mean: float, std: float, scale: float) -> torch.Tensor:
    log_p = raw[:, 0]
    return torch.stack([-log_p, log_p], dim=1)


_HEADS = {
    "sigmoid": _sigmoid,
    "softmax": _softmax,
    "identity": _identity,
    "gaussian": _gaussian,
    "density": _density,
}


def scores_head(raw: torch.Tensor, head: str, mean: float, std: float, interval_scale: float = 1.0) -> torch.Tensor:
    """The task's output head (:attr:`neyman.tasks.Task.output_head`) on raw network outputs.

    Notes
    -----
    The same scores as :meth:`Model.predict`: ``sigmoid(a_0)``, ``softmax(a)``,
    ``a_0 s + m`` for regressions trained on standardised targets, and
    ``(a_0 s + m, exp(clip(a_1) + log s k))`` for the Gaussian task (``k`` the
    model's calibrated ``interval_scale_``), and
    ``(-a_0, a_0)`` (anomaly score, log-density) for a density.  Regression outputs
    are float64 (:data:`neyman.export.graph.FLOAT64_HEADS`), the others float32.
    """
    if head not in _HEADS:
        raise ModelError(f"no ONNX output head {head!r}; known: {', '.join(_HEADS)}")
    return _HEADS[head](raw, mean, std, interval_scale)


def target_scale(model: Model) -> tuple[float, float, float]:
    """The regression target's standardisation ``(mean, std)`` and the interval scale of a neural model."""
    return (
        float(getattr(model, "target_mean_", 0.0)),
        float(getattr(model, "target_std_", 1.0)),
        float(getattr(model, "interval_scale_", 1.0)),
    )


def _wrapped(model: Model, opset: int) -> onnx.ModelProto:
    network: torch.nn.Module | None = getattr(model, "network", None)
    if network is None:
        raise ModelError(f"the {model.family} model has no torch network to export")
    head = model.task.output_head
    scaling = target_scale(model)

    class Scores(torch.nn.Module):
        def __init__(self, network: torch.nn.Module) -> None:
            super().__init__()
            self.network = network

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return scores_head(self.network(x), head, *scaling)

    wrapper = Scores(network).eval().to("cpu")
    with tempfile.TemporaryDirectory(prefix="neyman-onnx-") as tmp:
        path = f"{tmp}/network.onnx"
        _export(wrapper, path, model.n_features, opset, model.family)
        return onnx.load(path)


def _export(wrapper: torch.nn.Module, path: str, n_features: int, opset: int, family: str) -> None:
    torch_export(
        wrapper,
        (torch.zeros(2, n_features),),
        path,
        input_names=["input"],
        dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
        opset=opset,
        family=family,
    )


def torch_export(
    module: torch.nn.Module,
    example: tuple[torch.Tensor, ...],
    path: str,
    *,
    input_names: list[str],
    dynamic_axes: dict[str, dict[int, str]],
    opset: int,
    family: str,
) -> None:
    """``torch.onnx.export`` (legacy exporter) with one output named ``output``; errors become ModelError."""
    limit = getattr(getattr(torch.onnx, "_constants", None), "ONNX_TORCHSCRIPT_EXPORTER_MAX_OPSET", None)
    if isinstance(limit, int) and opset > limit:
        raise ConfigError(
            f"opset {opset}: torch {torch.__version__} exports networks with opsets up to {limit}; give --opset "
            f"{limit} or lower (tree and linear models take any opset onnx knows)"
        )
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.onnx")
            warnings.filterwarnings("ignore", message=r".*legacy TorchScript-based ONNX export.*")
            warnings.filterwarnings("ignore", message=r".*feature will be removed.*")
            warnings.filterwarnings("ignore", message=r"Constant folding - Only steps=1")  # flows' strided slices
            # shape-dependent Python in a network (e.g. k capped at the particle count) is traced as constants
            warnings.filterwarnings("ignore", category=getattr(torch.jit, "TracerWarning", UserWarning))
            torch.onnx.export(
                module,
                example,
                path,
                dynamo=False,
                input_names=input_names,
                output_names=["output"],
                dynamic_axes=dynamic_axes,
                opset_version=opset,
            )
    except Exception as exc:  # torch's exporter raises many unrelated types
        raise ModelError(f"torch could not export the {family} network to ONNX: {exc}") from exc


def network_ops(g: GraphBuilder, x: str, model: Model, *, opset: int) -> str:
    """Embed the network (with its output head) applied to ``x``; returns the scores' name."""
    exported = _wrapped(model, opset)
    return g.embed(exported, "network_", {"input": x})["output"]
