"""The trainer's per-epoch hook: what it receives, and that raising in it stops the training."""

import numpy as np
import pytest
import torch

from neyman.nn import MLP
from neyman.tasks import BinaryTask
from neyman.training import TensorBatches, Trainer, load_state


def _batches(n, seed):
    gen = np.random.default_rng(seed)
    x = gen.normal(size=(n, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    return TensorBatches(torch.tensor(x), torch.tensor(y), torch.ones(n), device=torch.device("cpu"))


def _trainer(tmp_path, hook, epochs=4):
    return Trainer(epochs=epochs, batch_size=64, seed=0, checkpoint_dir=tmp_path, progress=False, on_epoch=hook)


def test_hook_sees_every_epoch_and_its_losses(tmp_path):
    calls = []
    history = _trainer(tmp_path, lambda epoch, losses: calls.append((epoch, dict(losses)))).fit(
        MLP(3, 1, hidden=(8,)), BinaryTask().loss, _batches(512, 0), _batches(256, 1)
    )
    assert [epoch for epoch, _ in calls] == [1, 2, 3, 4]
    for i, (_, losses) in enumerate(calls):
        assert set(losses) == {"train_loss", "val_loss", "lr"}
        assert losses["val_loss"] == history.columns["val_loss"][i]
        assert losses["train_loss"] == history.columns["train_loss"][i]


def test_without_validation_the_hook_gets_the_training_loss(tmp_path):
    calls = []
    _trainer(tmp_path, lambda epoch, losses: calls.append(losses), epochs=2).fit(
        MLP(3, 1, hidden=(8,)), BinaryTask().loss, _batches(256, 0)
    )
    assert len(calls) == 2 and all(set(c) == {"train_loss", "lr"} for c in calls)


class _Stop(Exception):
    pass


def test_an_exception_in_the_hook_stops_training_after_the_checkpoint(tmp_path):
    calls = []

    def hook(epoch, losses):
        calls.append(epoch)
        if epoch == 2:
            raise _Stop("enough")

    with pytest.raises(_Stop, match="enough"):
        _trainer(tmp_path, hook, epochs=10).fit(MLP(3, 1, hidden=(8,)), BinaryTask().loss, _batches(256, 0))
    assert calls == [1, 2]
    # the epoch that raised was checkpointed first, so the run can still be resumed
    assert load_state(tmp_path / "last.safetensors")["epoch"] == 2
