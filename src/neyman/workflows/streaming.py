"""Training of neural models on inputs streamed from files larger than memory.

Memory holds one chunk of events (``data.step_size``) at a time, plus a sample of
training events for fitting the preprocessing (``data.fit_events``), the
validation events used for early stopping (at most ``data.max_val_events``) and,
for the metrics, the scores of the validation and test events.

Passes over the inputs:

1. statistics: event counts and class weight totals of the training split, a
   uniform sample of training events to fit the preprocessing and the target
   scale, and the validation sample;
2. every epoch: the training events, chunk by chunk in a random order
   (:class:`~neyman.training.ChunkedBatches`);
3. scoring: every event is scored and written to ``predictions.parquet`` chunk by
   chunk; the metrics use a uniform sample of at most :data:`METRIC_EVENTS` events
   per split (their statistical precision is then far below any systematic effect).

Splits are decided per event from its id (:func:`~neyman.preprocessing.hash_splits`),
so they do not depend on how the files are chunked.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from neyman import io
from neyman._seeding import rng
from neyman.config import RunConfig
from neyman.exceptions import ConfigError, DataError
from neyman.models.neural import NeuralModel
from neyman.preprocessing import TRAIN, VAL, check_finite, hash_splits
from neyman.representations import ParticleArrays, RepresentationSpec, build_inputs
from neyman.table import EVENT_ID, FOLD, LABEL, SPLIT, TARGET, WEIGHT, Table
from neyman.tasks import make_task
from neyman.training import ChunkedBatches, TensorBatches
from neyman.workflows.data import (
    SOURCE,
    SourcePlan,
    events_from_chunk,
    plan_sources,
    resolve_classes,
    resolve_features,
)
from neyman.workflows.inputs import as_model_input, input_preprocessor, input_size, representation_spec
from neyman.workflows.rundir import RunDirectory
from neyman.workflows.train import _make_model, _Training

__all__ = ["METRIC_EVENTS", "StreamingTraining", "check_streaming_inputs"]

METRIC_EVENTS = 2_000_000
"""At most this many events per split enter the metrics of a streamed run (uniform sample)."""


def _joined(parts: list[Any]) -> Any:
    """Concatenate sampled inputs of several chunks (matrices, images or particle sets)."""
    if parts and isinstance(parts[0], ParticleArrays):
        return ParticleArrays.concat(parts)
    return np.concatenate(parts)


def _merge(parts: list[np.ndarray]) -> np.ndarray:
    """Concatenate chunk arrays, releasing each chunk as it is copied."""
    out = np.empty(sum(len(p) for p in parts), dtype=parts[0].dtype if parts else np.float32)
    start = 0
    while parts:
        p = parts.pop(0)
        out[start : start + len(p)] = p
        start += len(p)
    return out


@dataclass(frozen=True)
class _Chunk:
    plan: SourcePlan
    start: int
    stop: int


@dataclass(frozen=True)
class StreamingInputs:
    """Resolved inputs of a streamed training."""

    features: list[str]
    classes: list[str]
    plans: list[SourcePlan]
    chunks: list[_Chunk]
    n_entries: int
    representation: RepresentationSpec | None = None


def check_streaming_inputs(cfg: RunConfig) -> StreamingInputs:
    """Resolve features, classes, sources and chunks; check files and columns exist."""
    data = cfg.data
    classification = cfg.task.type in ("binary", "multiclass")
    classes = resolve_classes(data, cfg.task.type)
    if classification and not classes:
        raise ConfigError("streaming a multiclass task needs data.classes (the labels cannot be collected first)")
    spec = representation_spec(cfg)
    features = resolve_features(data, data.sources[0]) if spec is None else []
    plans = plan_sources(data, features, classification=classification, carry=None if spec is None else spec.columns)
    chunks = []
    for plan in plans:
        n = io.num_entries(plan.path, tree=plan.tree, format=data.format)
        if plan.config.max_events is not None:
            n = min(n, plan.config.max_events)
        missing = set(plan.columns) - set(io.available_columns(plan.path, tree=plan.tree, format=data.format))
        if missing:
            # read one entry so the reader raises its usual message with close matches
            io.read(plan.path, tree=plan.tree, columns=plan.columns, entry_stop=1, format=data.format)
        chunks += [_Chunk(plan, s, min(s + data.step_size, n)) for s in range(0, n, data.step_size)]
    return StreamingInputs(features, classes, plans, chunks, sum(c.stop - c.start for c in chunks), spec)


class StreamingTraining(_Training):
    """One streamed training run (see the module docstring)."""

    def __init__(self, config: RunConfig, run: RunDirectory, inputs: StreamingInputs, *, resume: bool) -> None:
        super().__init__(config, run, None, np.empty((0, 0)), resume=resume)  # type: ignore[arg-type]
        self.inputs = inputs
        self.classification = config.task.type in ("binary", "multiclass")

    # -- reading ----------------------------------------------------------------------
    def _read(self, chunk: _Chunk) -> tuple[Table, Any, np.ndarray]:
        """Events of a chunk, their model inputs (matrix, particle sets or images) and split codes."""
        cfg, inp = self.config, self.inputs
        raw = io.read(
            chunk.plan.path,
            tree=chunk.plan.tree,
            columns=chunk.plan.columns,
            entry_start=chunk.start,
            entry_stop=chunk.stop,
            format=cfg.data.format,
        )
        events = events_from_chunk(
            raw,
            chunk.plan,
            cfg.data,
            inp.features,
            inp.classes,
            classification=self.classification,
            first_entry=chunk.start,
            carry=None if inp.representation is None else inp.representation.columns,
        )
        if inp.representation is not None:
            x: Any = build_inputs(events, inp.representation)
            events = events.drop(inp.representation.columns)
        else:
            x = check_finite(
                events.to_numpy(inp.features, dtype=np.float64),
                inp.features,
                fill_value=cfg.data.fill_value,
                source=f"{chunk.plan.path} entries {chunk.start}-{chunk.stop}",
            )
        s = cfg.split
        codes = hash_splits(
            np.asarray(events[EVENT_ID]), method=s.method, train=s.train, val=s.val, test=s.test, seed=cfg.seed
        )
        return events, x, codes

    def _truth(self, events: Table) -> np.ndarray:
        return np.asarray(events[LABEL] if self.classification else events[TARGET])

    def _chunks(self) -> Iterator[tuple[Table, Any, np.ndarray]]:
        for chunk in self.inputs.chunks:
            yield self._read(chunk)

    # -- the passes ---------------------------------------------------------------------
    def execute(self) -> dict[str, Any]:
        cfg, inp = self.config, self.inputs
        t0 = time.perf_counter()
        task = make_task(cfg.task.type, n_classes=max(len(inp.classes), 2))
        n_cls = len(inp.classes)

        # pass 1: counts, class totals, samples
        expected_train = max(inp.n_entries * cfg.split.train, 1.0)
        expected_val = max(inp.n_entries * cfg.split.val, 1.0)
        p_fit = min(1.0, cfg.data.fit_events / expected_train)
        p_val = min(1.0, cfg.data.max_val_events / expected_val)
        gen = rng(cfg.seed, "streaming-samples")
        n_train, total_w, class_w = 0, 0.0, np.zeros(max(n_cls, 1))
        fit_x, fit_w, fit_y, val_parts = [], [], [], []
        for events, x, codes in self._chunks():
            tr = codes == TRAIN
            w, y = np.asarray(events[WEIGHT], dtype=np.float64), self._truth(events)
            n_train += int(tr.sum())
            if self.classification:
                class_w += np.bincount(y[tr], weights=w[tr], minlength=n_cls)
            pick = tr & (gen.random(len(x)) < p_fit)
            fit_x.append(x[pick])
            fit_w.append(w[pick])
            fit_y.append(y[pick])
            vpick = (codes == VAL) & (gen.random(len(x)) < p_val)
            val_parts.append((x[vpick], y[vpick], w[vpick]))
            total_w += float(w[tr].sum())
        if n_train == 0 or total_w <= 0:
            raise DataError(
                f"the streamed inputs hold {n_train} training events with total weight {total_w:g}; "
                "training needs events with a positive total weight"
            )
        if self.classification and (class_w <= 0).any():
            empty = {inp.classes[k]: float(class_w[k]) for k in np.flatnonzero(class_w <= 0)}
            raise DataError(f"classes without a positive total training weight in the streamed inputs: {empty}")

        prep = input_preprocessor(cfg, inp.features)
        fx, fw, fy = _joined(fit_x), np.concatenate(fit_w), np.concatenate(fit_y)
        prep.fit(fx, sample_weight=fw)
        if self.classification and cfg.task.balance_classes:
            scale = (total_w / n_cls) / class_w
        else:
            scale = np.ones(max(n_cls, 1))
        # balancing keeps the total training weight; the mean weight normalises it to 1
        weight_norm = total_w / n_train
        mean, std = (0.0, 1.0)
        if not self.classification:
            mean = float(np.average(fy, weights=fw))
            std = float(np.sqrt(np.average((fy - mean) ** 2, weights=fw))) or 1.0
        del fit_x, fit_w, fit_y

        def arrays(x: Any, y: np.ndarray, w: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray]:
            if self.classification:
                w = w * scale[y]
                yt = y.astype(np.int64)
            else:
                yt = ((y - mean) / std).astype(np.float32)
            xt = as_model_input(prep.transform(x))
            return (xt.tensors() if isinstance(xt, ParticleArrays) else xt), yt, (w / weight_norm).astype(np.float32)

        def load(chunk: _Chunk) -> tuple[Any, np.ndarray, np.ndarray]:
            events, x, codes = self._read(chunk)
            tr = codes == TRAIN
            return arrays(x[tr], self._truth(events)[tr], np.asarray(events[WEIGHT], dtype=np.float64)[tr])

        n_inputs = len(inp.features) if inp.representation is None else input_size(fx)
        model = _make_model(cfg, task, n_inputs, self.run.checkpoints, on_epoch=self.epoch_callback)
        assert isinstance(model, NeuralModel)
        device = model.trainer.device
        vx = _joined([p[0] for p in val_parts])
        vy, vw = (np.concatenate([p[i] for p in val_parts]) for i in (1, 2))
        val = None
        if len(vx):
            import torch

            ax, ay, aw = arrays(vx, vy, vw)
            inputs = tuple(torch.from_numpy(a) for a in ax) if isinstance(ax, tuple) else torch.from_numpy(ax)
            val = TensorBatches(inputs, torch.from_numpy(ay), torch.from_numpy(aw), device=device)
        train_batches = ChunkedBatches(self.inputs.chunks, load, n_events=n_train, device=device)
        has_checkpoint = (self.run.checkpoints / "last.safetensors").is_file()
        model.fit_batches(train_batches, val, target_mean=mean, target_std=std, resume=self.resume and has_checkpoint)
        model.save(self.run.model)
        train_seconds = time.perf_counter() - t0

        # last pass: score everything and write every prediction chunk by chunk; the metrics
        # use a uniform sample of at most METRIC_EVENTS events per split
        keep_s, keep_t, keep_w, keep_c = [], [], [], []
        keep_gen = rng(cfg.seed, "streaming-metrics")
        expected = np.array([cfg.split.train, cfg.split.val, cfg.split.test]) * inp.n_entries
        p_keep = np.minimum(1.0, METRIC_EVENTS / np.maximum(expected, 1.0))
        with io.open_writer(self.run.predictions) as writer:
            for events, x, codes in self._chunks():
                scores = model.predict(as_model_input(prep.transform(x)))
                truth, w = self._truth(events), np.asarray(events[WEIGHT], dtype=np.float64)
                cols: dict[str, Any] = {
                    EVENT_ID: np.asarray(events[EVENT_ID]),
                    SPLIT: codes,
                    FOLD: np.full(len(x), -1, dtype=np.int64),
                    SOURCE: np.asarray(events[SOURCE]),
                    LABEL if self.classification else TARGET: truth,
                    WEIGHT: w,
                }
                cols.update(self._score_columns(task, inp.classes, scores))
                writer.write(Table(cols))
                keep = keep_gen.random(len(x)) < p_keep[codes]
                keep_s.append(scores[keep].astype(np.float32))
                keep_t.append(truth[keep].astype(np.int64 if self.classification else np.float32))
                keep_w.append(w[keep].astype(np.float32))
                keep_c.append(codes[keep])
        history = [model.history.columns if model.history is not None else None]
        self._write_model_files(task, inp.features, inp.classes, [prep], history)
        result = self._summarise(
            task,
            inp.features,
            inp.classes,
            _merge(keep_s).astype(np.float64),
            _merge(keep_t),
            _merge(keep_w).astype(np.float64),
            _merge(keep_c),
            histories=history,
            fold_metrics=[],
            train_seconds=train_seconds,
        )
        result["n_events"] = inp.n_entries
        result["streaming"] = {
            "chunks": len(self.inputs.chunks),
            "step_size": cfg.data.step_size,
            "n_train": n_train,
            "metrics_sample": dict(zip(("train", "val", "test"), p_keep.tolist(), strict=True)),
            "validation_sample": p_val,
            "preprocessing_sample": p_fit,
        }
        from neyman._atomic import write_json
        from neyman.workflows.evaluation import as_jsonable

        write_json(self.run.metrics, as_jsonable(result))
        return result
