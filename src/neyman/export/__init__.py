"""Export trained runs to ONNX (preprocessing folded in) and score with ONNX Runtime.

Module map::

    onnx      export_onnx: run directory -> verified, self-describing .onnx file
    graph     the preprocessing and linear models as onnx.helper graphs
    neural    torch networks through torch.onnx.export
    trees     XGBoost / LightGBM through onnxmltools
    verify    verify_onnx: ONNX Runtime vs the run's own scores on real events
    runtime   OnnxModel: score tables with ONNX Runtime only (no torch)

Importing this package is cheap; ``onnx``, ``onnxruntime`` and the converters load
when first used.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["OnnxModel", "export_onnx", "verify_onnx"]

if TYPE_CHECKING:
    from neyman.export.onnx import export_onnx
    from neyman.export.runtime import OnnxModel
    from neyman.export.verify import verify_onnx


def __getattr__(name: str) -> Any:
    if name == "export_onnx":
        from neyman.export.onnx import export_onnx

        return export_onnx
    if name == "verify_onnx":
        from neyman.export.verify import verify_onnx

        return verify_onnx
    if name == "OnnxModel":
        from neyman.export.runtime import OnnxModel

        return OnnxModel
    raise AttributeError(f"module 'neyman.export' has no attribute {name!r}")
