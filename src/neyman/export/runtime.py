"""Score events with an exported ONNX file and ONNX Runtime alone (no torch, no boosters)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from neyman.exceptions import DataError, ModelError
from neyman.export.metadata import decode_metadata
from neyman.optional import require
from neyman.preprocessing import check_finite
from neyman.runs.domain import feature_matrix
from neyman.table import Table

__all__ = ["OnnxModel", "onnx_session"]


def onnx_session(path: str | os.PathLike[str]) -> Any:
    """An ONNX Runtime CPU session of ``path`` (a clear error when it cannot load).

    Raises
    ------
    ModelError
        ONNX Runtime cannot load the file.
    """
    ort = require("onnxruntime", purpose="run ONNX models")
    options = ort.SessionOptions()
    options.log_severity_level = 3  # warnings about shape annotations of unused tree outputs
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own untyped exceptions
        raise ModelError(f"ONNX Runtime cannot load {path}: {exc}") from exc


class OnnxModel:
    """An ONNX file written by :func:`neyman.export.export_onnx`, ready to score.

    Parameters
    ----------
    path
        The ``.onnx`` file.

    Attributes
    ----------
    metadata : dict
        The neyman metadata embedded in the file (task, features, classes,
        score_names, preprocessing, fold, config, ...).
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ModelError(f"{self.path} does not exist")
        self._session = onnx_session(self.path)
        raw = dict(self._session.get_modelmeta().custom_metadata_map)
        try:
            self.metadata: dict[str, Any] = decode_metadata(raw)
        except ModelError as exc:
            raise ModelError(f"{self.path}: {exc}") from exc
        self._input = str(self.metadata.get("input", self._session.get_inputs()[0].name))
        rep = self.metadata.get("representation")
        self.representation = None
        if isinstance(rep, dict) and rep.get("type") not in (None, "tabular"):
            from neyman.representations import spec_from_json

            self.representation = spec_from_json(rep)

    @property
    def task(self) -> str:
        """The task name (``binary``, ``multiclass``, ``regression``, ``gaussian``)."""
        return str(self.metadata["task"])

    @property
    def features(self) -> list[str]:
        """Input feature names, in order."""
        return [str(f) for f in self.metadata["features"]]

    @property
    def classes(self) -> list[str]:
        """Class names (classification)."""
        return [str(c) for c in self.metadata.get("classes", [])]

    @property
    def score_names(self) -> list[str]:
        """Names of the score columns :meth:`score` returns."""
        return [str(s) for s in self.metadata["score_names"]]

    @property
    def feature_ranges(self) -> dict[str, list[float]]:
        """The training events' range of each tabular feature (:func:`neyman.runs.feature_ranges`; empty for
        files exported before it was recorded), so that ``neyman predict`` names inputs outside it."""
        ranges = self.metadata.get("feature_ranges")
        return ranges if isinstance(ranges, dict) else {}

    @property
    def fill_value(self) -> float | None:
        """Replacement of non-finite inputs (``None`` = they are an error)."""
        value = self.metadata.get("fill_value")
        return None if value is None else float(value)

    def matrix(self, table: Table) -> np.ndarray:
        """Raw feature matrix of ``table`` with the run's NaN policy checked."""
        return feature_matrix(
            table, self.features, fill_value=self.fill_value, ranges=self.feature_ranges, model=str(self.path)
        )

    def score(self, data: Table | np.ndarray, *, batch_size: int = 65536) -> np.ndarray:
        """Scores of every event, as :meth:`TrainedRun.score` returns them (float64).

        Parameters
        ----------
        data
            A table holding the features (or the jagged constituents, for particle
            and image models), or raw inputs: a matrix ``(n_events, n_features)``,
            particle arrays or images.
        batch_size
            Events per ONNX Runtime call; particle-set and image models take at most
            the bound their family recorded at export (``inference_batch_size``).
        """
        if self.representation is not None:
            # the family's own bound (files exported before it existed: 4096)
            bound = int(self.metadata.get("inference_batch_size", 4096))
            return self._score_jets(data, batch_size=min(batch_size, bound))
        if isinstance(data, Table):
            x = self.matrix(data)
        else:
            x = np.asarray(data)
            if x.ndim != 2 or x.shape[1] != len(self.features):
                raise DataError(f"{self.path} expects inputs of shape (n, {len(self.features)}), got {x.shape}")
            x = check_finite(x, self.features, fill_value=self.fill_value, trained=True)
        x32 = np.ascontiguousarray(x, dtype=np.float32)
        parts = [
            np.asarray(self._session.run(None, {self._input: x32[i : i + batch_size]})[0], dtype=np.float64)
            for i in range(0, len(x32), batch_size)
        ]
        if parts:
            return np.concatenate(parts)
        width = len(self.score_names)
        return np.empty((0, width) if width > 1 else (0,))

    def _score_jets(self, data: Any, *, batch_size: int) -> np.ndarray:
        """Scores of particle-set or image inputs (built from a table's constituents, or given)."""
        from neyman.export.metadata import float32_inputs
        from neyman.representations import build_inputs

        assert self.representation is not None
        x = build_inputs(data, self.representation) if isinstance(data, Table) else data
        run = self._session.run
        parts = [
            np.asarray(run(None, float32_inputs(x[i : i + batch_size], self._session))[0], dtype=np.float64)
            for i in range(0, len(x), batch_size)
        ]
        if parts:
            return np.concatenate(parts)
        width = len(self.score_names)
        return np.empty((0, width) if width > 1 else (0,))
