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


def test_hash_splits_do_not_depend_on_chunking():
    ids = np.arange(10_000)
    whole = hash_splits(ids, seed=4)
    parts = np.concatenate([hash_splits(ids[i : i + 777], seed=4) for i in range(0, 10_000, 777)])
    assert np.array_equal(whole, parts)
    assert abs(np.mean(whole == 0) - 0.6) < 0.02
