"""Deterministic train/validation/test splits and k-fold assignment."""

from __future__ import annotations

import numpy as np

from neyman.exceptions import ConfigError, DataError
from neyman.seeding import child_seed, rng

__all__ = [
    "TEST",
    "TRAIN",
    "VAL",
    "assign_folds",
    "assign_splits",
    "check_split_classes",
    "event_uniform",
    "hash_splits",
    "split_train_val",
]

TRAIN, VAL, TEST = 0, 1, 2


def split_train_val(n: int, val_fraction: float, *, seed: int, stream: int | str = "val") -> np.ndarray:
    """Return ``TRAIN``/``VAL`` codes for ``n`` events, a ``val_fraction`` of them validation."""
    u = rng(seed, "split", stream).random(n)
    return np.where(u < val_fraction, VAL, TRAIN).astype(np.int8)


def assign_splits(
    event_id: np.ndarray,
    *,
    method: str = "fraction",
    train: float = 0.6,
    val: float = 0.2,
    test: float = 0.2,
    seed: int = 0,
    held_out: np.ndarray | None = None,
) -> np.ndarray:
    """Assign each event to train (0), validation (1) or test (2).

    Parameters
    ----------
    event_id
        Integer event numbers, ``(n_events,)``.
    method
        ``fraction``: random with the given fractions (reproducible from ``seed``);
        ``parity``: odd event numbers are the test set and even ones are split into
        train and validation in the ratio ``train : val`` (the convention that lets
        a second model be trained on the other parity).
    train, val, test
        Fractions (``fraction``) or the train:val ratio (``parity``).
    seed
        The run's seed.
    held_out
        Events of external test files (a boolean mask): they are the test set, and
        every other event trains except a ``val`` fraction for validation (``method``
        and ``test`` are then unused).
    """
    if held_out is not None and np.any(held_out):
        codes = split_train_val(len(event_id), val, seed=seed, stream="held-out")
        codes[np.asarray(held_out, dtype=bool)] = TEST
        return codes
    return _codes(rng(seed, "split", method).random(len(event_id)), event_id, method, train, val, test)


def _codes(u: np.ndarray, event_id: np.ndarray, method: str, train: float, val: float, test: float) -> np.ndarray:
    """Split codes from one uniform number per event."""
    if method == "fraction":
        return np.where(u < train, TRAIN, np.where(u < train + val, VAL, TEST)).astype(np.int8)
    if method == "parity":
        codes = np.where(u < val / (train + val), VAL, TRAIN).astype(np.int8)
        codes[_parity_test(event_id)] = TEST
        return codes
    raise ConfigError(f"unknown split method {method!r}; use fraction or parity")


def assign_folds(event_id: np.ndarray, k: int) -> np.ndarray:
    """Fold of each event: ``event_id mod k``.

    The model of fold ``f`` is trained on all other folds, so it can score fold
    ``f`` (and, applied to new files, every event whose number is ``f`` mod ``k``)
    without having seen it.
    """
    if k < 2:
        raise ConfigError(f"k-fold needs k >= 2, got {k}")
    return (np.asarray(event_id, dtype=np.int64) % k).astype(np.int64)


def check_split_classes(
    event_id: np.ndarray,
    labels: np.ndarray,
    classes: list[str],
    *,
    method: str = "fraction",
    kfold: int = 0,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    seed: int = 0,
    held_out: np.ndarray | None = None,
) -> None:
    """Raise :class:`~neyman.exceptions.DataError` when the split leaves a class out of a part.

    Parameters
    ----------
    event_id, labels
        Event number and class index of every event.
    classes
        Class names, indexed by label; empty for a task without classes (regression,
        density, autoencoder), whose parts are checked for holding any event.
    method, kfold, fractions, seed
        The split as configured (``fractions`` is ``(train, val, test)``): ``kfold >= 2``
        checks the training part and the test fold of every fold (:func:`assign_folds`);
        otherwise the parts :func:`assign_splits` makes with ``seed`` (and ``held_out``,
        the events of external test files) are checked, every part with a non-zero
        fraction.

    Notes
    -----
    Splits by event number go wrong silently when the numbering follows the class
    (e.g. the signal file numbered odd, the background even): every fold would then
    learn one class only.  A random split goes wrong on samples too small to split: a
    validation or test part without one of the classes gives no loss to stop on or no
    ROC to judge by.
    """
    train, val, test = fractions
    if kfold >= 2 and kfold * max(1, len(classes)) > len(event_id):
        each = f"an event of each of the {len(classes)} classes" if classes else "an event"
        raise DataError(
            f"split.kfold = {kfold} needs {each} in each of its {kfold} folds, at least "
            f"{kfold * max(1, len(classes))} events, and the sample holds {len(event_id)}: choose fewer folds "
            "(5 is usual)"
        )
    if kfold >= 2:
        folds = assign_folds(event_id, kfold)
        parts = {f"training part of fold {f}": folds != f for f in range(kfold)}
        parts.update({f"test fold {f}": folds == f for f in range(kfold)})
        how = f"kfold = {kfold} (event_id mod {kfold})"
    else:
        external = held_out is not None and bool(np.any(held_out))
        codes = assign_splits(event_id, method=method, train=train, val=val, test=test, seed=seed, held_out=held_out)
        parts = {"training part": codes == TRAIN}
        if val > 0:
            parts["validation part"] = codes == VAL
        if test > 0 or method == "parity" or external:
            parts["test part"] = codes == TEST
        how = "parity (odd event ids test)" if method == "parity" else f"fraction ({train:g}/{val:g}/{test:g})"
        if external:
            how = f"fraction (validation {val:g}, the rest training; the test part is the external test files)"
    counts = ", ".join(f"{c} {int(np.count_nonzero(np.asarray(labels) == i))}" for i, c in enumerate(classes))
    for part, sel in parts.items():
        if not classes:
            if not np.any(sel):
                raise DataError(
                    f"too few events to split: the {part} of the split by {how} holds none of the "
                    f"{len(event_id)} events; give more events, or change split.train/split.val/split.test"
                )
            continue
        present = np.unique(np.asarray(labels)[sel])
        missing = [c for i, c in enumerate(classes) if i not in present]
        if not missing:
            continue
        held = f"({int(np.count_nonzero(sel))} events in it; events per class: {counts})"
        if method == "fraction" and kfold < 2:
            raise DataError(
                f"too few events to split: the {part} of the split by {how} holds no "
                f"{', '.join(repr(c) for c in missing)} events {held}; give more events of every class, "
                "or change split.train/split.val/split.test"
            )
        raise DataError(
            f"the {part} of the split by {how} holds no {', '.join(repr(c) for c in missing)} events "
            f"{held}: the event ids follow the class (or the sample is too small to split); renumber the "
            "events (data.event_id names the column) or use split.method: fraction without kfold"
        )


def _parity_test(event_id: np.ndarray) -> np.ndarray:
    """The test events of a parity split: odd event numbers."""
    return np.asarray(np.asarray(event_id) % 2 == 1)


def event_uniform(event_id: np.ndarray, *, seed: int) -> np.ndarray:
    """A uniform number in [0, 1) per event, a fixed function of its id and the seed.

    Notes
    -----
    The splitmix64 finaliser of ``event_id XOR key(seed)``: the same event gets the
    same number in every chunk, file order and process, which lets a split be
    decided one chunk at a time when the data are streamed.
    """
    z = np.asarray(event_id).astype(np.uint64) ^ np.uint64(child_seed(seed, "event-hash"))
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    return np.asarray((z >> np.uint64(11)).astype(np.float64) / float(2**53))


def hash_splits(
    event_id: np.ndarray,
    *,
    method: str = "fraction",
    train: float = 0.6,
    val: float = 0.2,
    test: float = 0.2,
    seed: int = 0,
) -> np.ndarray:
    """Like :func:`assign_splits`, but each event's split depends only on its id.

    Used when events are streamed chunk by chunk (the fractions hold on average).
    """
    return _codes(event_uniform(event_id, seed=seed), event_id, method, train, val, test)
