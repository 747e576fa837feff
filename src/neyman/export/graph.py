"""ONNX graphs built with ``onnx.helper``: the folded preprocessing and the linear models.

Every exported model is one graph ``features -> scores``:

``features``
    the RAW feature matrix ``(batch, n_features)`` float32, columns in training order;
``scores``
    float32, what :meth:`neyman.runs.TrainedRun.score` returns:
    ``(batch,)`` for binary and regression, ``(batch, n_classes)`` for multiclass,
    ``(batch, 2)`` = (mean, sigma) for gaussian.

The preprocessing part replaces non-finite inputs by the run's ``fill_value`` (if it
has one), applies the fitted transforms in float64 exactly as
:class:`~neyman.preprocessing.Preprocessor` does and casts the result to float32, the
dtype every model is applied to, so the model body sees bit-identical inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from neyman.exceptions import ModelError
from neyman.export.metadata import INPUT, OUTPUT
from neyman.preprocessing import Preprocessor
from neyman.preprocessing.scaling import (
    Clip,
    GaussianTransform,
    LogTransform,
    MinMaxScaler,
    Residualize,
    StandardScaler,
    Transform,
)

__all__ = ["FLOAT64_HEADS", "INPUT", "OUTPUT", "PREPROCESSED", "GraphBuilder"]

FLOAT64_HEADS = ("identity", "gaussian")
"""Output heads whose scores leave the graph as float64: a regression's value in its own units
(float32 has steps of 1 at 1e7)."""

PREPROCESSED = "preprocessed"


@dataclass
class GraphBuilder:
    """Accumulates nodes and constants of one graph, with unique names."""

    nodes: list[onnx.NodeProto] = field(default_factory=list)
    initializers: list[onnx.TensorProto] = field(default_factory=list)
    domains: dict[str, int] = field(default_factory=dict)
    n_features: int = 0
    _count: int = 0

    def name(self, stem: str) -> str:
        """A fresh value name."""
        self._count += 1
        return f"{stem}_{self._count}"

    def const(self, value: Any, stem: str, dtype: Any = np.float64) -> str:
        """Add a constant tensor; returns its name."""
        name = self.name(stem)
        self.initializers.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, inputs: Sequence[str], stem: str | None = None, **attrs: Any) -> str:
        """Add a node with one output; returns the output name."""
        out = self.name(stem or op_type.lower())
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], name=f"{out}_node", **attrs))
        return out

    def embed(self, model: onnx.ModelProto, prefix: str, inputs: dict[str, str]) -> dict[str, str]:
        """Copy ``model``'s graph in, its inputs wired to existing values.

        Returns the map from the embedded graph's output names to their names here.
        """
        model = onnx.compose.add_prefix(model, prefix)
        rename = {prefix + k: v for k, v in inputs.items()}
        for node in model.graph.node:
            for j, name in enumerate(node.input):
                if name in rename:
                    node.input[j] = rename[name]
            self.nodes.append(node)
        self.initializers.extend(model.graph.initializer)
        for op in model.opset_import:
            if op.domain not in ("", "ai.onnx"):
                self.domains[op.domain] = max(self.domains.get(op.domain, 0), op.version)
        return {o.name[len(prefix) :]: o.name for o in model.graph.output}

    def model(
        self, output: str, output_shape: list[int | str], *, opset: int, doc: str, float64: bool = False
    ) -> onnx.ModelProto:
        """Finish: one float32 input ``features``, one output ``scores`` (float32, or float64 if ``float64``)."""
        self.nodes.append(helper.make_node("Identity", [output], [OUTPUT], name="scores_node"))
        kind = TensorProto.DOUBLE if float64 else TensorProto.FLOAT
        graph = helper.make_graph(
            self.nodes,
            "neyman",
            [helper.make_tensor_value_info(INPUT, TensorProto.FLOAT, ["batch", self.n_features])],
            [helper.make_tensor_value_info(OUTPUT, kind, output_shape)],
            initializer=self.initializers,
        )
        imports = [helper.make_opsetid("", opset)] + [
            helper.make_opsetid(d, v) for d, v in sorted(self.domains.items())
        ]
        model = helper.make_model(graph, opset_imports=imports, producer_name="neyman", doc_string=doc)
        model.ir_version = helper.find_min_ir_version_for(imports, ignore_unknown=True)
        return model


def _transform_ops(g: GraphBuilder, x: str, t: Transform, cols: np.ndarray, n: int) -> str:
    """Ops applying fitted transform ``t`` to columns ``cols`` of ``x`` (float64, n columns)."""

    def full(values: np.ndarray, identity: float) -> np.ndarray:
        out = np.full(n, identity, dtype=np.float64)
        out[cols] = values
        return out

    if isinstance(t, StandardScaler):
        y = g.op("Sub", [x, g.const(full(t.mean_, 0.0), "mean")])
        y = g.op("Div", [y, g.const(full(t.scale_, 1.0), "scale")])
        if t.clip is not None:
            c = float(t.clip)
            y = g.op("Clip", [y, g.const(-c, "lo"), g.const(c, "hi")])
        return y
    if isinstance(t, MinMaxScaler):
        y = g.op("Mul", [x, g.const(full(t.scale_, 1.0), "scale")])
        return g.op("Add", [y, g.const(full(t.min_, 0.0), "min")])
    if isinstance(t, LogTransform):
        return g.op("Log", [g.op("Add", [x, g.const(float(t.offset), "offset")])])
    if isinstance(t, Clip):
        # np.clip(x, lo, hi) == min(max(x, lo), hi)
        y = g.op("Max", [x, g.const(full(t.lower_, -np.inf), "lower")])
        return g.op("Min", [y, g.const(full(t.upper_, np.inf), "upper")])
    if isinstance(t, GaussianTransform):
        return _gaussian_ops(g, x, t, cols, n)
    if isinstance(t, Residualize):
        return _residual_ops(g, x, t, cols, n)
    raise ModelError(f"the {t.name!r} transform cannot be exported to ONNX yet")


def _gaussian_ops(g: GraphBuilder, x: str, t: GaussianTransform, cols: np.ndarray, n: int) -> str:
    """:class:`GaussianTransform` in ONNX: the segment of each value by counting knots ``<= x``.

    Columns outside ``cols`` get the knots ``0, 1, ...`` (restored by the caller's mask).
    """
    k = t.knots_.shape[1]
    knots = np.tile(np.arange(k, dtype=np.float64), (n, 1))
    values = np.tile(np.arange(k, dtype=np.float64), (n, 1))
    knots[cols], values[cols] = t.knots_, t.values_
    width = np.diff(knots, axis=1)
    slopes = np.zeros_like(knots)
    np.divide(np.diff(values, axis=1), width, out=slopes[:, :-1], where=width > 0)
    low, high = np.ones(n), np.ones(n)
    low[cols], high[cols] = t.tail_low_, t.tail_high_
    xc = g.op("Min", [g.op("Max", [x, g.const(knots[:, 0], "first")]), g.const(knots[:, -1], "last")])
    above = g.op(
        "Not", [g.op("Greater", [g.const(knots[None], "knots"), g.op("Unsqueeze", [xc, g.const([2], "ax", np.int64)])])]
    )
    count = g.op("MatMul", [g.op("Cast", [above], to=TensorProto.DOUBLE), g.const(np.ones((k, 1)), "ones")])
    count = g.op("Reshape", [count, g.const([-1, n], "shape", np.int64)])
    segment = g.op("Min", [g.op("Max", [count, g.const(1.0, "one")]), g.const(float(k - 1), "kmax")])
    flat = g.op(
        "Add", [g.op("Cast", [segment], to=TensorProto.INT64), g.const(np.arange(n) * k - 1, "offset", np.int64)]
    )

    def at(table: np.ndarray, stem: str) -> str:
        return g.op("Gather", [g.const(table.ravel(), stem), flat])

    z = g.op("Add", [at(values, "values"), g.op("Mul", [at(slopes, "slopes"), g.op("Sub", [xc, at(knots, "kt")])])])
    one = g.const(1.0, "one")
    zero = g.const(0.0, "zero")
    up = g.op("Div", [g.op("Max", [g.op("Sub", [x, g.const(knots[:, -1], "last")]), zero]), g.const(high, "high")])
    down = g.op("Div", [g.op("Max", [g.op("Sub", [g.const(knots[:, 0], "first"), x]), zero]), g.const(low, "low")])
    z = g.op("Add", [z, g.op("Log", [g.op("Add", [up, one])])])
    return g.op("Sub", [z, g.op("Log", [g.op("Add", [down, one])])])


def _residual_ops(g: GraphBuilder, x: str, t: Residualize, cols: np.ndarray, n: int) -> str:
    """:class:`Residualize` in ONNX: standardise, subtract the fit, and pick per column as it does."""
    coef = np.zeros((n, n))
    coef[np.ix_(cols, cols)] = t.coef_
    kind = np.zeros((1, n))
    kind[0, cols] = t.kind_
    mean, scale = np.zeros(n), np.ones(n)
    mean[cols], scale[cols] = t.mean_, t.scale_
    z = g.op("Div", [g.op("Sub", [x, g.const(mean, "mean")]), g.const(scale, "scale")])
    residual = g.op("Sub", [z, g.op("MatMul", [z, g.const(coef.T, "coef")])])
    y = g.op("Where", [g.const(kind == Residualize.RESIDUAL, "residual", dtype=bool), residual, x])
    return g.op("Where", [g.const(kind == Residualize.REDUNDANT, "redundant", dtype=bool), g.const(0.0, "zero"), y])


def preprocessing_ops(g: GraphBuilder, preprocessor: Preprocessor, *, fill_value: float | None) -> str:
    """Add the fitted preprocessing after the graph input; returns the float32 result's name.

    Notes
    -----
    A step acting on a subset of the features is applied to the whole matrix and
    the untouched columns are restored with ``Where`` and a constant column mask,
    so no gather/scatter is needed and each column is transformed exactly once.
    """
    n = len(preprocessor.feature_names)
    g.n_features = n
    x = g.op("Cast", [INPUT], "raw64", to=TensorProto.DOUBLE)
    if fill_value is not None:
        bad = g.op("Or", [g.op("IsNaN", [x]), g.op("IsInf", [x])])
        x = g.op("Where", [bad, g.const(float(fill_value), "fill"), x], "filled")
    if preprocessor.steps and not preprocessor.is_fitted:
        raise ModelError("the run's preprocessing is not fitted; it cannot be exported")
    indices = preprocessor.step_indices_ if preprocessor.steps else []
    for (_, transform), cols in zip(preprocessor.steps, indices, strict=True):
        y = _transform_ops(g, x, transform, np.asarray(cols), n)
        if len(cols) == n:
            x = y
        else:
            mask = np.zeros((1, n), dtype=bool)
            mask[0, cols] = True
            x = g.op("Where", [g.const(mask, "mask", dtype=bool), y, x])
    return g.op("Cast", [x], PREPROCESSED, to=TensorProto.FLOAT)


def linear_ops(g: GraphBuilder, x: str, coef: np.ndarray, intercept: np.ndarray, head: str) -> str:
    """Linear model ``x @ coef.T + intercept`` in float64, then the task's ``sigmoid`` or
    ``softmax`` head (:attr:`neyman.tasks.Task.output_head`; float32 out)."""
    xd = g.op("Cast", [x], "x64", to=TensorProto.DOUBLE)
    raw = g.op("Add", [g.op("MatMul", [xd, g.const(np.asarray(coef).T, "coef")]), g.const(intercept, "intercept")])
    if head == "sigmoid":
        logit = g.op("Gather", [raw, g.const(0, "col", dtype=np.int64)], axis=1)
        scores = g.op("Sigmoid", [logit])
    elif head == "softmax":
        scores = g.op("Softmax", [raw], axis=1)
    else:
        raise ModelError(f"linear models are classifiers; cannot export a task with the {head!r} head")
    return g.op("Cast", [scores], "scores32", to=TensorProto.FLOAT)
