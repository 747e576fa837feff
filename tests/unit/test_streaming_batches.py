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
