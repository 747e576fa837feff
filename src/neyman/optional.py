"""Import optional dependencies with an error that says what to install."""

from __future__ import annotations

import importlib
from types import ModuleType

from neyman.exceptions import MissingDependencyError

__all__ = ["require"]

# module name -> (extra that provides it, distribution to mention)
_EXTRAS: dict[str, tuple[str, str]] = {
    "uproot": ("root", "uproot"),
    "awkward": ("root", "awkward"),
    "h5py": ("hdf5", "h5py"),
    "torch": ("torch", "torch"),
    "safetensors": ("torch", "safetensors"),
    "zuko": ("torch", "zuko"),
    "xgboost": ("gbdt", "xgboost-cpu"),
    "lightgbm": ("gbdt", "lightgbm"),
    "onnx": ("onnx", "onnx"),
    "onnxruntime": ("onnx", "onnxruntime"),
    "onnxmltools": ("onnx", "onnxmltools"),
    "pythia8mc": ("generation", "pythia8mc"),
    "fastjet": ("generation", "fastjet"),
    "optuna": ("tune", "optuna"),
    "cmaes": ("tune", "cmaes"),
    "mlflow": ("tune", "mlflow-skinny"),
    "psycopg": ("tune", "psycopg[binary]"),
    "iminuit": ("hunt", "iminuit"),
    "pyBumpHunter": ("hunt", "pybumphunter"),
}


def require(module: str, *, purpose: str = "") -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the extra.

    Parameters
    ----------
    module
        Importable module name, e.g. ``"uproot"``.
    purpose
        What the module is needed for, quoted in the error.
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        extra, dist = _EXTRAS.get(module.split(".")[0], ("all", module))
        why = f" to {purpose}" if purpose else ""
        raise MissingDependencyError(
            f"neyman needs the optional package {dist!r}{why}, and it is not installed. "
            f'Install it with: pip install "neyman[{extra}]"'
        ) from exc
