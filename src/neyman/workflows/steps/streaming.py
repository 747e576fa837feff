"""Training of neural models on inputs streamed from files larger than memory.

Memory holds one chunk of events (``data.step_size``) at a time, plus a sample of
training events for fitting the preprocessing (``data.fit_events``), the
validation events used for early stopping (at most ``data.max_val_events``) and,
for the metrics, the scores of the validation and test events.

Passes over the inputs (a text file of several chunks is first copied once into a
Parquet file in the run's folder, removed at the end: its chunks are then reached
without reading it from its start):

1. statistics: event counts and class weight totals of the training split, a
   uniform sample of training events to fit the preprocessing and the target
   scale, and the validation sample;
2. every epoch: the training events, chunk by chunk in a random order, the files
   read side by side in proportion to their training events (pass 1 counts them per
   chunk), so that one file per class still gives batches of every class
   (:class:`~neyman.training.ChunkedBatches`); a file's chunks that lean to one class
   (a file sorted by class) are read side by side with its others (:func:`chunk_groups`);
3. scoring: every event is scored and written to ``predictions.parquet`` chunk by
   chunk; the metrics use a uniform sample of at most :data:`METRIC_EVENTS` events
   per split (their statistical precision is then far below any systematic effect).

Splits are decided per event from its id (:func:`~neyman.preprocessing.hash_splits`),
so they do not depend on how the files are chunked; they are not the in-memory
training's (which shuffles the events it holds), so a streamed and an in-memory run
of the same files test on different events.
"""

from __future__ import annotations

import contextlib
import dataclasses
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from neyman import io
from neyman.config import RunConfig
from neyman.exceptions import ConfigError, DataError
from neyman.preprocessing import TRAIN, VAL, check_finite, hash_splits
from neyman.representations import ParticleArrays, RepresentationSpec, build_inputs
from neyman.runs import InputPreprocessor, RunDirectory, as_model_input, feature_ranges, input_size
from neyman.seeding import rng
from neyman.table import EVENT_ID, FOLD, SPLIT, WEIGHT, Table
from neyman.tasks import Task, make_task
from neyman.workflows.steps.artefacts import Fitted, score_columns
from neyman.workflows.steps.data import (
    SOURCE,
    SourcePlan,
    events_from_chunk,
    plan_sources,
    resolve_classes,
    resolve_features,
)
from neyman.workflows.steps.inputs import input_preprocessor, representation_spec
from neyman.workflows.steps.models import EpochCallback, make_model

if TYPE_CHECKING:
    from neyman.models.neural import NeuralModel

__all__ = ["LEANING", "METRIC_EVENTS", "StreamingInputs", "check_streaming_inputs", "chunk_groups", "fit_streaming"]

METRIC_EVENTS = 2_000_000
"""At most this many events per split enter the metrics of a streamed run (uniform sample)."""


def _joined(parts: list[Any]) -> Any:
    """Concatenate sampled inputs of several chunks (matrices, images or particle sets)."""
    if parts and isinstance(parts[0], ParticleArrays):
        return ParticleArrays.concat(parts)
    return np.concatenate(parts)


def _merge(parts: list[np.ndarray]) -> np.ndarray:
    """Concatenate chunk arrays along their first axis (several score columns too), releasing each when copied."""
    shape = parts[0].shape[1:] if parts else ()
    out = np.empty((sum(len(p) for p in parts), *shape), dtype=parts[0].dtype if parts else np.float32)
    start = 0
    while parts:
        p = parts.pop(0)
        out[start : start + len(p)] = p
        start += len(p)
    return out


@dataclass(frozen=True)
class Chunk:
    """Entries ``start:stop`` of one source."""

    plan: SourcePlan
    start: int
    stop: int


@dataclass(frozen=True)
class StreamingInputs:
    """Resolved inputs of a streamed training."""

    features: list[str]
    classes: list[str]
    plans: list[SourcePlan]
    chunks: list[Chunk]
    n_entries: int
    representation: RepresentationSpec | None = None
    staged: dict[int, Path] = field(default_factory=dict)  # a text source's Parquet copy, by source index


SEQUENTIAL_FORMATS = ("csv", "uci-susy", "uci-higgs")
"""Formats whose entries are reached by reading the file from its start (delimited text)."""


@contextlib.contextmanager
def _staged(cfg: RunConfig, run: RunDirectory, inputs: StreamingInputs) -> Iterator[StreamingInputs]:
    """The inputs with each text source of several chunks copied once into a Parquet file in the run's folder.

    A chunk of a text file is reached by reading the file from its start, so the random
    chunk order of every epoch read a file of ``C`` chunks about ``C/2`` times per epoch
    (HIGGS.csv.gz in 200k-event chunks: 28 times).  The copy holds the columns the
    run reads, is read like any Parquet file (a chunk: its row groups), and is
    removed when the training ends, failed or not.  Events keep their source and
    entry numbers, so ids, splits and messages are those of the text file.
    """
    text = [
        plan
        for plan in inputs.plans
        if io.detect_format(plan.path, cfg.data.format) in SEQUENTIAL_FORMATS
        and sum(c.plan.index == plan.index for c in inputs.chunks) > 1
    ]
    if not text:
        yield inputs
        return
    folder = run.path / ".staged"
    try:
        copies = {}
        for plan in text:
            stop = max(c.stop for c in inputs.chunks if c.plan.index == plan.index)
            copies[plan.index] = folder / f"source-{plan.index}.parquet"
            pieces = io.iterate(
                plan.path,
                tree=plan.tree,
                columns=plan.columns,
                step_size=cfg.data.step_size,
                entry_stop=stop,
                format=cfg.data.format,
            )
            try:
                with io.open_writer(copies[plan.index]) as writer:
                    for piece in pieces:
                        writer.write(piece)
            except OSError as exc:  # a full disk, most often
                raise DataError(
                    f"cannot copy {plan.path} (text, read from its start for every chunk) into {folder} as "
                    f"Parquet for the streamed training: {exc.strerror or exc}; free space there, or write the "
                    "file as Parquet yourself and stream that"
                ) from None
        yield dataclasses.replace(inputs, staged=copies)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def check_streaming_inputs(cfg: RunConfig) -> StreamingInputs:
    """Resolve features, classes, sources and chunks; check files and columns exist."""
    data = cfg.data
    classification = make_task(cfg.task.type).is_classification
    classes = resolve_classes(data, cfg.task.type)
    if classification and not classes:
        raise ConfigError("streaming a multiclass task needs data.classes (the labels cannot be collected first)")
    spec = representation_spec(cfg)
    features = resolve_features(data, data.sources[0]) if spec is None else []
    plans = plan_sources(data, features, classification=classification, carry=None if spec is None else spec.columns)
    chunks = []
    for plan in plans:
        n = io.num_entries(plan.path, tree=plan.tree, format=data.format)
        if n == 0:
            raise DataError(
                f"{plan.path} holds no events (its columns but no rows); fill it or remove it from data.sources "
                "(or --test-data)"
            )
        if plan.config.max_events is not None:
            n = min(n, plan.config.max_events)
        missing = set(plan.columns) - set(io.available_columns(plan.path, tree=plan.tree, format=data.format))
        if missing:
            # read one entry so the reader raises its usual message with close matches
            io.read(plan.path, tree=plan.tree, columns=plan.columns, entry_stop=1, format=data.format)
        chunks += [Chunk(plan, s, min(s + data.step_size, n)) for s in range(0, n, data.step_size)]
    return StreamingInputs(features, classes, plans, chunks, sum(c.stop - c.start for c in chunks), spec)


@dataclass(frozen=True)
class _Reader:
    """Reads a chunk: its events, their model inputs (matrix, particle sets or images) and split codes."""

    cfg: RunConfig
    inputs: StreamingInputs
    task: Task

    def __call__(self, chunk: Chunk) -> tuple[Table, Any, np.ndarray]:
        cfg, inp = self.cfg, self.inputs
        copy = inp.staged.get(chunk.plan.index)
        raw = io.read(
            chunk.plan.path if copy is None else copy,
            tree=chunk.plan.tree if copy is None else None,
            columns=chunk.plan.columns,
            entry_start=chunk.start,
            entry_stop=chunk.stop,
            format=cfg.data.format if copy is None else None,
        )
        events = events_from_chunk(
            raw,
            chunk.plan,
            cfg.data,
            inp.features,
            inp.classes,
            classification=bool(inp.classes),
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

    def truth(self, events: Table) -> np.ndarray:
        return np.asarray(events[self.task.truth_column])

    def all(self) -> Iterator[tuple[Table, Any, np.ndarray]]:
        for chunk in self.inputs.chunks:
            yield self(chunk)


@dataclass
class _Statistics:
    """Pass 1: training counts and class totals, and the samples for the preprocessing and validation."""

    n_train: int = 0
    total_w: float = 0.0
    class_w: np.ndarray | None = None
    fit: tuple[Any, np.ndarray, np.ndarray] | None = None
    val: tuple[Any, np.ndarray, np.ndarray] | None = None
    p_fit: float = 1.0
    p_val: float = 1.0
    per_chunk: list[int] = field(default_factory=list)  # training events of each chunk, in inputs.chunks' order
    per_chunk_classes: list[np.ndarray] = field(default_factory=list)  # the same per class (classification)


LEANING = 1.5
"""A chunk whose share of some class is this many times the class's share overall leans to it."""


def chunk_groups(files: list[int], per_class: list[np.ndarray]) -> list[tuple[int, int]]:
    """The group each chunk is read in: its file, and the class it leans to (-1 for none).

    :class:`~neyman.training.ChunkedBatches` reads its groups side by side, one chunk of
    each at a time.  A file sorted by class (all signal events, then all background)
    has chunks of one class each: read one after the other, they would give batches of
    one class for thousands of steps.  Grouped by the class they lean to, its chunks
    are read side by side, as files of one class each are.  A well-mixed file leans
    nowhere and stays one group (one chunk in memory).

    Notes
    -----
    With :math:`n_{ck}` the training events of class :math:`k` in chunk :math:`c` and
    :math:`p_k = \\sum_c n_{ck} / \\sum_{c,k} n_{ck}` over the chunks of its file, chunk :math:`c` leans to
    :math:`\\arg\\max_k (n_{ck}/n_c) / p_k` when that ratio is at least
    :data:`LEANING`, else to none.  Chunk fluctuations of a mixed file stay far below
    it: at 20k events and 1 % signal, the share's relative spread is 7 %.
    """
    if not per_class:
        return [(f, -1) for f in files]
    counts = np.asarray(per_class, dtype=np.float64)
    totals: dict[int, np.ndarray] = {}
    for f, n in zip(files, counts, strict=True):
        totals[f] = totals.get(f, 0.0) + n
    groups = []
    for f, n in zip(files, counts, strict=True):
        overall = totals[f] / max(totals[f].sum(), 1.0)
        ratio = np.divide(n / max(n.sum(), 1.0), overall, out=np.zeros_like(overall), where=overall > 0)
        k = int(np.argmax(ratio))
        groups.append((f, k if n.sum() > 0 and ratio[k] >= LEANING else -1))
    return groups


def _statistics(cfg: RunConfig, reader: _Reader) -> _Statistics:
    inp = reader.inputs
    n_cls = len(inp.classes)
    st = _Statistics()
    class_w = np.zeros(max(n_cls, 1))
    st.p_fit = min(1.0, cfg.data.fit_events / max(inp.n_entries * cfg.split.train, 1.0))
    st.p_val = min(1.0, cfg.data.max_val_events / max(inp.n_entries * cfg.split.val, 1.0))
    gen = rng(cfg.seed, "streaming-samples")
    fit_parts: list[tuple[Any, np.ndarray, np.ndarray]] = []
    val_parts: list[tuple[Any, np.ndarray, np.ndarray]] = []
    for events, x, codes in reader.all():
        tr = codes == TRAIN
        w, y = np.asarray(events[WEIGHT], dtype=np.float64), reader.truth(events)
        st.n_train += int(tr.sum())
        st.per_chunk.append(int(tr.sum()))
        if n_cls:
            class_w += np.bincount(y[tr], weights=w[tr], minlength=n_cls)
            st.per_chunk_classes.append(np.bincount(y[tr], minlength=n_cls))
        pick = tr & (gen.random(len(x)) < st.p_fit)
        fit_parts.append((x[pick], w[pick], y[pick]))
        vpick = (codes == VAL) & (gen.random(len(x)) < st.p_val)
        val_parts.append((x[vpick], y[vpick], w[vpick]))
        st.total_w += float(w[tr].sum())
    if st.n_train == 0 or st.total_w <= 0:
        raise DataError(
            f"the streamed inputs hold {st.n_train} training events with total weight {st.total_w:g}; "
            "training needs events with a positive total weight"
        )
    st.class_w = class_w
    if n_cls and (class_w <= 0).any():
        empty = {inp.classes[k]: float(class_w[k]) for k in np.flatnonzero(class_w <= 0)}
        raise DataError(f"classes without a positive total training weight in the streamed inputs: {empty}")
    st.fit = (_joined([p[0] for p in fit_parts]), *(np.concatenate([p[i] for p in fit_parts]) for i in (1, 2)))
    st.val = (_joined([p[0] for p in val_parts]), *(np.concatenate([p[i] for p in val_parts]) for i in (1, 2)))
    return st


@dataclass(frozen=True)
class _Batching:
    """Turns raw inputs, truth and weights into training tensors (preprocessed, balanced, normalised)."""

    prep: InputPreprocessor
    scale: np.ndarray | None
    weight_norm: float
    mean: float
    std: float

    def __call__(self, x: Any, y: np.ndarray, w: np.ndarray) -> tuple[Any, np.ndarray, np.ndarray]:
        if self.scale is not None:
            w = w * self.scale[y]
            yt = y.astype(np.int64)
        else:
            yt = ((y - self.mean) / self.std).astype(np.float32)
        xt = as_model_input(self.prep.transform(x))
        return (xt.tensors() if isinstance(xt, ParticleArrays) else xt), yt, (w / self.weight_norm).astype(np.float32)


def _batching(cfg: RunConfig, reader: _Reader, st: _Statistics) -> _Batching:
    """Fit the preprocessing and the target scale on the sample; class balancing factors."""
    assert st.fit is not None and st.class_w is not None
    fx, fw, fy = st.fit
    prep = input_preprocessor(cfg, reader.inputs.features)
    prep.fit(fx, sample_weight=fw)
    n_cls = len(reader.inputs.classes)
    scale = None
    if n_cls:
        balance = cfg.task.balance_classes
        scale = (st.total_w / n_cls) / st.class_w if balance else np.ones(n_cls)
    mean, std = 0.0, 1.0
    if reader.task.standardise_target:
        mean = float(np.average(fy, weights=fw))
        std = float(np.sqrt(np.average((fy - mean) ** 2, weights=fw))) or 1.0
    # balancing keeps the total training weight; the mean weight normalises it to 1
    return _Batching(prep, scale, st.total_w / st.n_train, mean, std)


def _train(
    cfg: RunConfig, run: RunDirectory, reader: _Reader, st: _Statistics, *, resume: bool, on_epoch: EpochCallback | None
) -> tuple[NeuralModel, _Batching]:
    """Passes 2…: every epoch reads the training events chunk by chunk in a random order."""
    from neyman.models.neural import NeuralModel
    from neyman.training import ChunkedBatches, TensorBatches

    batching = _batching(cfg, reader, st)
    assert st.fit is not None and st.val is not None
    inp = reader.inputs
    n_inputs = len(inp.features) if inp.representation is None else input_size(st.fit[0])
    model = make_model(cfg, reader.task, n_inputs, run.checkpoints, n_train=st.n_train, on_epoch=on_epoch)
    assert isinstance(model, NeuralModel)
    device = model.trainer.device

    def load(chunk: Chunk) -> tuple[Any, np.ndarray, np.ndarray]:
        events, x, codes = reader(chunk)
        tr = codes == TRAIN
        return batching(x[tr], reader.truth(events)[tr], np.asarray(events[WEIGHT], dtype=np.float64)[tr])

    vx, vy, vw = st.val
    val = None
    if len(vx):
        import torch

        ax, ay, aw = batching(vx, vy, vw)
        tensors = tuple(torch.from_numpy(a) for a in ax) if isinstance(ax, tuple) else torch.from_numpy(ax)
        val = TensorBatches(tensors, torch.from_numpy(ay), torch.from_numpy(aw), device=device)
    # batches mix the files (one per class, often), and a file's chunks of one class with its others'
    lean = chunk_groups([c.plan.index for c in inp.chunks], st.per_chunk_classes)
    groups = list(zip(lean, st.per_chunk, strict=True))
    train_batches = ChunkedBatches(inp.chunks, load, n_events=st.n_train, device=device, groups=groups)
    has_checkpoint = any(run.checkpoints.glob("**/last.safetensors"))  # a network, or ensemble members
    model.fit_batches(
        train_batches, val, target_mean=batching.mean, target_std=batching.std, resume=resume and has_checkpoint
    )
    model.save(run.model)
    return model, batching


def _score(
    cfg: RunConfig, run: RunDirectory, reader: _Reader, model: NeuralModel, prep: InputPreprocessor
) -> tuple[list[np.ndarray], np.ndarray]:
    """Last pass: score every event, write every prediction chunk by chunk, keep a metrics sample.

    Returns the sampled ``[scores, truth, weights, split codes]`` and the sampling
    probability of each split.
    """
    inp, task = reader.inputs, reader.task
    keep: list[list[np.ndarray]] = [[], [], [], []]
    keep_gen = rng(cfg.seed, "streaming-metrics")
    expected = np.array([cfg.split.train, cfg.split.val, cfg.split.test]) * inp.n_entries
    p_keep = np.minimum(1.0, METRIC_EVENTS / np.maximum(expected, 1.0))
    with io.open_writer(run.predictions) as writer:
        for events, x, codes in reader.all():
            if not len(codes):
                continue  # a chunk the cuts emptied
            scores = model.predict(as_model_input(prep.transform(x)))
            truth, w = reader.truth(events), np.asarray(events[WEIGHT], dtype=np.float64)
            cols: dict[str, Any] = {
                EVENT_ID: np.asarray(events[EVENT_ID]),
                SPLIT: codes,
                FOLD: np.full(len(x), -1, dtype=np.int64),
                SOURCE: np.asarray(events[SOURCE]),
                task.truth_column: truth,
                WEIGHT: w,
            }
            cols.update(score_columns(cfg, task, inp.classes, scores))
            writer.write(Table(cols))
            sel = keep_gen.random(len(x)) < p_keep[codes]
            keep[0].append(scores[sel].astype(np.float32))
            keep[1].append(truth[sel].astype(np.float32 if task.standardise_target else np.int64))
            keep[2].append(w[sel].astype(np.float32))
            keep[3].append(codes[sel])
    return [_merge(parts) for parts in keep], p_keep


def fit_streaming(
    cfg: RunConfig,
    run: RunDirectory,
    inputs: StreamingInputs,
    *,
    resume: bool,
    on_epoch: EpochCallback | None = None,
) -> Fitted:
    """Train a network on inputs streamed from files (see the module docstring)."""
    t0 = time.perf_counter()
    task = make_task(cfg.task.type, n_classes=max(len(inputs.classes), 2))
    with _staged(cfg, run, inputs) as staged:
        reader = _Reader(cfg, staged, task)
        st = _statistics(cfg, reader)
        model, batching = _train(cfg, run, reader, st, resume=resume, on_epoch=on_epoch)
        train_seconds = time.perf_counter() - t0
        (scores, truth, weights, split), p_keep = _score(cfg, run, reader, model, batching.prep)
    extra = {
        "n_events": inputs.n_entries,
        "streaming": {
            "chunks": len(inputs.chunks),
            "step_size": cfg.data.step_size,
            "n_train": st.n_train,
            "metrics_sample": dict(zip(("train", "val", "test"), p_keep.tolist(), strict=True)),
            "validation_sample": st.p_val,
            "preprocessing_sample": st.p_fit,
        },
    }
    return Fitted(
        task=task,
        features=inputs.features,
        classes=inputs.classes,
        preprocessors=[batching.prep],
        histories=[model.history.columns if model.history is not None else None],
        scores=scores.astype(np.float64),
        truth=truth,
        weights=weights.astype(np.float64),
        split=split,
        train_seconds=train_seconds,
        extra=extra,
        ranges=feature_ranges(st.fit[0], inputs.features) if st.fit and isinstance(st.fit[0], np.ndarray) else {},
    )
