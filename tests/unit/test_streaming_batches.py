import numpy as np
import torch

from neyman.preprocessing import hash_splits
from neyman.training import ChunkedBatches


def test_every_event_once_per_epoch_with_constant_batch_size():
    chunks = [(0, 70), (70, 200), (200, 230)]
    loaded = []

    def load(c):
        loaded.append(c)
        x = np.arange(c[0], c[1], dtype=np.float32)[:, None]
        return x, np.arange(c[0], c[1]), np.ones(c[1] - c[0], dtype=np.float32)

    src = ChunkedBatches(chunks, load, n_events=230, device=torch.device("cpu"))
    gen = torch.Generator().manual_seed(0)
    sizes, seen = [], []
    for x, y, _w in src.batches(32, shuffle=True, generator=gen):
        sizes.append(len(x))
        seen.extend(y.tolist())
        assert torch.equal(x[:, 0].long(), y)  # rows stay aligned through shuffling and carry-over
    assert sorted(seen) == list(range(230))
    assert sizes[:-1] == [32] * (len(sizes) - 1) and sizes[-1] == 230 - 32 * (len(sizes) - 1)


def test_chunks_of_one_file_per_class_are_mixed_into_every_batch():
    """Streaming --signal s.parquet --background b.parquet: a chunk holds one class, a batch must hold both."""
    chunks = [("signal", i) for i in range(3)] + [("background", i) for i in range(6)]

    def load(c):
        n = 600 if c[0] == "signal" else 1000  # the signal's cuts keep 60% of its entries
        first = (0 if c[0] == "signal" else 10_000) + 1000 * c[1]
        y = np.full(n, int(c[0] == "signal"))
        return np.arange(first, first + n, dtype=np.float32)[:, None], y, np.ones(n, dtype=np.float32)

    groups = [(c[0], 1000) for c in chunks]
    src = ChunkedBatches(chunks, load, n_events=7800, device=torch.device("cpu"), groups=groups)
    seen, fractions = [], []
    for x, y, _w in src.batches(64, shuffle=True, generator=torch.Generator().manual_seed(1)):
        assert torch.equal(x[:, 0].long() >= 10_000, y == 0)  # rows stay aligned
        seen.extend(x[:, 0].long().tolist())
        fractions.append(float(y.float().mean()))
    assert len(seen) == len(set(seen)) == 7800
    quarters = np.array_split(np.array(fractions), 4)  # early and late batches alike, near 1800/7800
    assert all(abs(q.mean() - 1800 / 7800) < 0.03 for q in quarters), [q.mean() for q in quarters]
    assert max(fractions) < 0.6 and min(fractions) > 0.0  # never one class alone
    # without groups (one file) the chunks come one by one, as before
    plain = ChunkedBatches(chunks, load, n_events=7800, device=torch.device("cpu"))
    alone = [float(y.float().mean()) for _, y, _ in plain.batches(64, shuffle=True, generator=torch.Generator())]
    assert min(alone) == 0.0 and max(alone) == 1.0


def test_hash_splits_do_not_depend_on_chunking():
    ids = np.arange(10_000)
    whole = hash_splits(ids, seed=4)
    parts = np.concatenate([hash_splits(ids[i : i + 777], seed=4) for i in range(0, 10_000, 777)])
    assert np.array_equal(whole, parts)
    assert abs(np.mean(whole == 0) - 0.6) < 0.02


def test_a_file_sorted_by_class_is_read_as_one_group_per_class():
    """One file, all signal then all background: its chunks are read side by side, as files of one class are."""
    from neyman.workflows.steps.streaming import chunk_groups

    # 1 % signal in the file's last chunk; a mixed file of 1 % signal; a second file of background only
    sorted_counts = [np.array([1000, 0])] * 9 + [np.array([900, 100])]
    assert chunk_groups([0] * 10, sorted_counts) == [(0, -1)] * 9 + [(0, 1)]
    rng = np.random.default_rng(0)
    mixed = [np.array([n - s, s]) for n, s in zip([20_000] * 10, rng.binomial(20_000, 0.01, 10), strict=True)]
    assert chunk_groups([0] * 10, mixed) == [(0, -1)] * 10  # fluctuations lean nowhere: one chunk in memory
    both = chunk_groups([0] * 4 + [1] * 2, [np.array([0, 500])] * 2 + [np.array([500, 0])] * 2 + [np.array([9, 1])] * 2)
    assert both == [(0, 1), (0, 1), (0, 0), (0, 0), (1, -1), (1, -1)]
    assert chunk_groups([0, 0], []) == [(0, -1), (0, -1)]  # regression: no classes
    # a 50/50 file sorted by label, read with these groups: every batch holds both classes
    chunks = list(range(10))

    def load(c):
        y = np.full(1000, int(c >= 5))
        return np.arange(1000 * c, 1000 * (c + 1), dtype=np.float32)[:, None], y, np.ones(1000, dtype=np.float32)

    groups = chunk_groups([0] * 10, [np.bincount(load(c)[1], minlength=2) for c in chunks])
    src = ChunkedBatches(
        chunks, load, n_events=10_000, device=torch.device("cpu"), groups=list(zip(groups, [1000] * 10, strict=True))
    )
    fractions = [float(y.float().mean()) for _, y, _ in src.batches(64, shuffle=True, generator=torch.Generator())]
    assert min(fractions) > 0.3 and max(fractions) < 0.7, (min(fractions), max(fractions))
