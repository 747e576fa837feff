"""Boosted trees (XGBoost, LightGBM) to ONNX ``TreeEnsemble*`` nodes with onnxmltools.

The converters emit scores, not raw margins: the binary classifier's
``LOGISTIC`` and the multiclass ``SOFTMAX`` post-transform are exactly
:meth:`~neyman.tasks.BinaryTask.scores` / :meth:`~neyman.tasks.MulticlassTask.scores`
of the margins, and regression trees emit the prediction itself.  Only the trees the
model uses are converted: a booster trained with early stopping keeps
``early_stopping_rounds`` trees past its best iteration, which neyman ignores.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto

from neyman.exceptions import ModelError
from neyman.export.graph import GraphBuilder
from neyman.models import Model
from neyman.optional import require

__all__ = ["CONVERTER_OPSET", "reweighter_ops", "tree_ops"]

# highest default-domain opset onnxmltools 1.16 converts to; the tree nodes live in
# the ai.onnx.ml domain, so the surrounding graph can use a newer default opset
CONVERTER_OPSET = 15


def _used_booster(model: Model) -> Any:
    booster: Any = getattr(model, "booster", None)
    if booster is None:
        raise ModelError(f"the {model.family} model is not trained")
    best = getattr(model, "best_iteration_", None)
    if best is None:
        return booster
    if model.family == "xgboost":
        return booster[: int(best) + 1]
    lgb = require("lightgbm", purpose="export LightGBM models")
    return lgb.Booster(model_str=booster.model_to_string(num_iteration=int(best)))


def _convert(model: Model, opset: int) -> onnx.ModelProto:
    require("onnxmltools", purpose="export boosted trees to ONNX")
    from onnxmltools import convert_lightgbm, convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType

    booster = _used_booster(model)
    types = [("input", FloatTensorType([None, model.n_features]))]
    target = min(opset, CONVERTER_OPSET)
    try:
        with warnings.catch_warnings():
            # the converters warn about their own internals (deprecated numpy/onnx calls)
            warnings.simplefilter("ignore")
            if model.family == "xgboost":
                converted: onnx.ModelProto = convert_xgboost(booster, initial_types=types, target_opset=target)
            else:
                converted = convert_lightgbm(booster, initial_types=types, target_opset=target, zipmap=False)
    except Exception as exc:  # the converters raise bare RuntimeError/ValueError/KeyError
        raise ModelError(
            f"onnxmltools cannot convert this {model.family} booster ({type(exc).__name__}: {exc}); "
            "check that the installed onnxmltools supports the installed "
            f"{model.family} version"
        ) from exc
    return converted


def tree_ops(g: GraphBuilder, x: str, model: Model, *, opset: int) -> str:
    """Embed the converted booster applied to ``x``; returns the float32 scores' name."""
    converted = _convert(model, opset)
    outputs = g.embed(converted, "trees_", {"input": x})
    head = model.task.output_head
    if head in ("sigmoid", "softmax"):
        if "probabilities" not in outputs:
            raise ModelError(f"the converted {model.family} classifier has no 'probabilities' output")
        probs = outputs["probabilities"]
        if head == "sigmoid":
            return g.op("Gather", [probs, g.const(1, "signal", dtype=np.int64)], axis=1)
        return g.op("Cast", [probs], "probs", to=TensorProto.FLOAT)
    if head == "identity":
        (value,) = outputs.values()
        flat = g.op("Reshape", [value, g.const([-1], "flat", dtype=np.int64)])
        # a regression's trees predict the standardised target (trees.py): back to its units
        # in float64, the graph's output type for regressions (FLOAT64_HEADS)
        std = float(getattr(model, "target_std_", 1.0))
        mean = float(getattr(model, "target_mean_", 0.0))
        flat = g.op("Cast", [flat], "flat64", to=TensorProto.DOUBLE)
        if std == 1.0 and mean == 0.0:
            return flat
        scaled = g.op("Mul", [flat, g.const(std, "target_std", dtype=np.float64)])
        return g.op("Add", [scaled, g.const(mean, "target_mean", dtype=np.float64)])
    raise ModelError(f"{model.family} models cannot be exported for the {model.task.name!r} task")


ML_DOMAIN, ML_OPSET = "ai.onnx.ml", 1
"""The domain and version of ``TreeEnsembleRegressor`` as :func:`reweighter_ops` writes it."""


def _float32_at_or_below(threshold: np.ndarray) -> np.ndarray:
    """The largest float32 ``<=`` each threshold: ``x <= t`` then holds for a float32 ``x`` exactly when
    ``x <= t`` holds in float64, as the trees were grown and are evaluated."""
    t32 = threshold.astype(np.float32)
    above = t32.astype(np.float64) > threshold
    t32[above] = np.nextafter(t32[above], np.float32(-np.inf))
    return t32


def reweighter_ops(g: GraphBuilder, x: str, model: Model) -> str:
    """A boosted reweighter's trees applied to ``x``: ``sigmoid(ln w(x))``, float32 ``(n,)``.

    Notes
    -----
    One ``TreeEnsembleRegressor`` (``ai.onnx.ml``) sums the leaf values of every tree,
    :math:`\\ln w(x) = \\sum_m \\Delta_m(x)`; the binary task's score is its sigmoid.
    The thresholds are written as the largest float32 at or below the fitted ones, so
    the float32 comparisons route every event as the model does.
    """
    reweighter: Any = getattr(model, "reweighter", None)
    if reweighter is None:
        raise ModelError(f"the {model.family} model is not trained")
    attrs: dict[str, Any] = {
        k: []
        for k in (
            "nodes_treeids",
            "nodes_nodeids",
            "nodes_featureids",
            "nodes_values",
            "nodes_modes",
            "nodes_truenodeids",
            "nodes_falsenodeids",
            "target_treeids",
            "target_nodeids",
            "target_ids",
            "target_weights",
        )
    }
    for m, tree in enumerate(reweighter.trees):
        leaf = tree.left < 0
        n = len(tree.left)
        attrs["nodes_treeids"] += [m] * n
        attrs["nodes_nodeids"] += list(range(n))
        attrs["nodes_featureids"] += np.where(leaf, 0, tree.feature).tolist()
        attrs["nodes_values"] += np.where(leaf, 0.0, _float32_at_or_below(tree.threshold)).tolist()
        attrs["nodes_modes"] += ["LEAF" if is_leaf else "BRANCH_LEQ" for is_leaf in leaf]
        attrs["nodes_truenodeids"] += np.where(leaf, 0, tree.left).tolist()
        attrs["nodes_falsenodeids"] += np.where(leaf, 0, tree.right).tolist()
        leaves = np.flatnonzero(leaf)
        attrs["target_treeids"] += [m] * len(leaves)
        attrs["target_nodeids"] += leaves.tolist()
        attrs["target_ids"] += [0] * len(leaves)
        attrs["target_weights"] += tree.value[leaves].tolist()
    g.domains[ML_DOMAIN] = max(g.domains.get(ML_DOMAIN, 0), ML_OPSET)
    x32 = g.op("Cast", [x], "x32", to=TensorProto.FLOAT)
    out = g.name("log_weight")
    g.nodes.append(
        onnx.helper.make_node(
            "TreeEnsembleRegressor",
            [x32],
            [out],
            name=f"{out}_node",
            domain=ML_DOMAIN,
            n_targets=1,
            aggregate_function="SUM",
            post_transform="NONE",
            base_values=[0.0],
            **attrs,
        )
    )
    logit = g.op("Reshape", [out, g.const([-1], "flat", dtype=np.int64)])
    return g.op("Sigmoid", [logit])
