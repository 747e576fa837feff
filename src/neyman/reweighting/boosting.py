"""A gradient-boosted reweighter: shallow trees that move weight bin by bin where two samples differ."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from neyman.exceptions import DataError
from neyman.metrics.inputs import float_array, weights

__all__ = ["BoostedReweighter", "ReweightTree"]


@dataclass(frozen=True)
class ReweightTree:
    """One fitted tree: its splits and the log-weight change of each leaf.

    Attributes
    ----------
    left, right
        Child node of each node (``-1`` at a leaf).
    feature, threshold
        Split of each node: ``x[feature] <= threshold`` goes left.
    value
        Log-weight change of each leaf (learning rate included; 0 at inner nodes).
    depth
        Depth of the deepest leaf.
    """

    left: np.ndarray
    right: np.ndarray
    feature: np.ndarray
    threshold: np.ndarray
    value: np.ndarray
    depth: int

    def leaves(self, x: np.ndarray) -> np.ndarray:
        """The leaf node of every row of ``x`` (compared in float32, as the tree was grown)."""
        xs = np.asarray(x, dtype=np.float32).astype(np.float64)
        node = np.zeros(len(xs), dtype=np.int64)
        rows = np.arange(len(xs))
        for _ in range(self.depth):
            inner = self.left[node] >= 0
            goes_left = xs[rows, np.maximum(self.feature[node], 0)] <= self.threshold[node]
            node = np.where(inner, np.where(goes_left, self.left[node], self.right[node]), node)
        return node

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready record of the tree."""
        return {
            "left": self.left.tolist(),
            "right": self.right.tolist(),
            "feature": self.feature.tolist(),
            "threshold": self.threshold.tolist(),
            "value": self.value.tolist(),
            "depth": self.depth,
        }

    @classmethod
    def from_json(cls, record: Any) -> ReweightTree:
        """Read :meth:`to_json`'s record, checking that every node points inside the tree."""
        tree = cls(
            left=np.asarray(record["left"], dtype=np.int64),
            right=np.asarray(record["right"], dtype=np.int64),
            feature=np.asarray(record["feature"], dtype=np.int64),
            threshold=np.asarray(record["threshold"], dtype=np.float64),
            value=np.asarray(record["value"], dtype=np.float64),
            depth=int(record["depth"]),
        )
        n = len(tree.left)
        if not (
            len(tree.right) == len(tree.feature) == len(tree.threshold) == len(tree.value) == n
            and np.all(tree.left < n)
            and np.all(tree.right < n)
            and 0 <= tree.depth < 64
            and np.all(np.isfinite(tree.value))
        ):
            raise ValueError("inconsistent tree arrays")
        return tree


@dataclass
class BoostedReweighter:
    """Weights for a source sample that make it look like a target sample, learned by boosting.

    Parameters
    ----------
    n_estimators
        Trees grown.
    learning_rate
        Fraction of each tree's log-weight change applied.
    max_depth, min_samples_leaf
        Size of each tree (few deep leaves track fine structure, many events per
        leaf keep each step's ratio precise).
    regularisation
        Events' worth of weight added to both sides of each leaf's ratio, so a leaf
        with few events moves its weights little.
    seed
        Seed of the trees' tie-breaking.

    Notes
    -----
    Both samples are normalised to the target's number of events. Each step grows a
    regression tree on ``y = +1`` (target) and ``y = -1`` (source) with the current
    weights: its squared-error splits maximise ``(W_T - W_S)^2 / (W_T + W_S)`` per
    leaf, a χ² between the two weighted samples, so the tree finds the regions where
    they differ most.  Every source event in leaf ``ℓ`` then has its log-weight moved by

    .. math:: \\Delta \\ln w = \\eta \\, \\ln \\frac{W_{T,\\ell} + \\lambda}{W_{S,\\ell} + \\lambda},

    with learning rate ``η`` and regularisation ``λ``. After ``M`` trees
    ``w(x) = exp(Σ_m Δ_m(x))`` (Rogozhnikov, arXiv:1608.05806).  The tree
    structure and leaf values are stored as plain JSON.
    """

    n_estimators: int = 40
    learning_rate: float = 0.2
    max_depth: int = 3
    min_samples_leaf: int = 200
    regularisation: float = 5.0
    seed: int = 0
    trees: list[ReweightTree] = field(default_factory=list)
    n_features: int = 0

    def fit(
        self,
        source: npt.ArrayLike,
        target: npt.ArrayLike,
        source_weight: npt.ArrayLike | None = None,
        target_weight: npt.ArrayLike | None = None,
        *,
        on_tree: Callable[[int], None] | None = None,
    ) -> BoostedReweighter:
        """Grow the trees on a source and a target sample (feature matrices with the same columns).

        ``on_tree(m)`` is called after tree ``m`` (a progress bar).
        """
        from sklearn.tree import DecisionTreeRegressor

        xs = float_array(source, "source", ndim=2)
        xt = float_array(target, "target", ndim=2)
        if xs.shape[1] != xt.shape[1]:
            raise DataError(f"source has {xs.shape[1]} features and target {xt.shape[1]}; give both the same columns")
        ws = weights(source_weight, len(xs), reference="source")
        wt = weights(target_weight, len(xt), reference="target")
        if not (ws.sum() > 0 and wt.sum() > 0):
            raise DataError("the source and target need a positive total event weight")
        wt = wt * len(xt) / wt.sum()
        x = np.concatenate([xs, xt])
        y = np.concatenate([-np.ones(len(xs)), np.ones(len(xt))])
        pred = np.zeros(len(xs))
        self.trees, self.n_features = [], xs.shape[1]
        for m in range(self.n_estimators):
            current = ws * np.exp(pred)
            current *= len(xt) / current.sum()
            sample_weight = np.maximum(np.concatenate([current, wt]), 0.0)
            grown = DecisionTreeRegressor(
                max_depth=self.max_depth, min_samples_leaf=self.min_samples_leaf, random_state=self.seed + m
            ).fit(x, y, sample_weight=sample_weight)
            tree = self._leaf_values(grown.tree_, xs, xt, current, wt)
            pred += tree.value[tree.leaves(xs)]
            self.trees.append(tree)
            if on_tree is not None:
                on_tree(m)
        return self

    def _leaf_values(
        self, grown: Any, xs: np.ndarray, xt: np.ndarray, current: np.ndarray, wt: np.ndarray
    ) -> ReweightTree:
        tree = ReweightTree(
            left=np.asarray(grown.children_left, dtype=np.int64),
            right=np.asarray(grown.children_right, dtype=np.int64),
            feature=np.asarray(grown.feature, dtype=np.int64),
            threshold=np.asarray(grown.threshold, dtype=np.float64),
            value=np.zeros(grown.node_count),
            depth=int(grown.max_depth),
        )
        n = grown.node_count
        w_s = np.bincount(tree.leaves(xs), weights=current, minlength=n)
        w_t = np.bincount(tree.leaves(xt), weights=wt, minlength=n)
        lam = self.regularisation
        ratio = np.log(np.maximum(w_t + lam, 1e-12)) - np.log(np.maximum(w_s + lam, 1e-12))
        value = np.where(tree.left < 0, self.learning_rate * ratio, 0.0)
        return ReweightTree(tree.left, tree.right, tree.feature, tree.threshold, value, tree.depth)

    def log_weights(self, x: npt.ArrayLike) -> np.ndarray:
        """``ln w(x)`` of every row of a feature matrix (before any event weight)."""
        if not self.trees:
            raise DataError("the reweighter is not fitted; call fit first")
        xs = float_array(x, "x", ndim=2)
        if xs.shape[1] != self.n_features:
            raise DataError(f"the reweighter was fitted on {self.n_features} features; got {xs.shape[1]}")
        out = np.zeros(len(xs))
        for tree in self.trees:
            out += tree.value[tree.leaves(xs)]
        return out

    def predict_weights(self, x: npt.ArrayLike) -> np.ndarray:
        """``w(x) = exp(Σ_m Δ_m(x))`` of every row (multiply by the event weights to reweight)."""
        return np.asarray(np.exp(self.log_weights(x)))

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready record: the settings and every tree."""
        return {
            "kind": "boosted-reweighter",
            "n_features": self.n_features,
            "settings": {
                "n_estimators": self.n_estimators,
                "learning_rate": self.learning_rate,
                "max_depth": self.max_depth,
                "min_samples_leaf": self.min_samples_leaf,
                "regularisation": self.regularisation,
                "seed": self.seed,
            },
            "trees": [t.to_json() for t in self.trees],
        }

    @classmethod
    def from_json(cls, record: Any, *, where: str) -> BoostedReweighter:
        """Read :meth:`to_json`'s record, refusing a damaged one (``where`` names the file)."""
        try:
            if record.get("kind") != "boosted-reweighter":
                raise ValueError(f"kind is {record.get('kind')!r}")
            out = cls(**record["settings"])
            out.n_features = int(record["n_features"])
            out.trees = [ReweightTree.from_json(t) for t in record["trees"]]
            if any(np.any(t.feature >= out.n_features) for t in out.trees) or not math.isfinite(out.learning_rate):
                raise ValueError("a split on a feature the reweighter does not have")
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{where} is not a valid boosted reweighter ({exc})") from None
        return out
