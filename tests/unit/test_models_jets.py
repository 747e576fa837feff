"""Constituent-based families: fit on particle sets / images, predict, save, load."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from neyman.exceptions import DataError
from neyman.models import Arrays, Model, build_model, model_class
from neyman.representations import ParticleArrays
from neyman.tasks import make_task
from neyman.training import OptimizerSpec, Trainer

SMALL = {
    "pfn": {"phi": [16, 16], "f": [16]},
    "efn": {"phi": [16, 16], "f": [16]},
    "particlenet": {"preset": "tiny"},
    "transformer": {"preset": "tiny"},
    "cnn": {"channels": [4, 8], "dense": [16]},
}


def _particles(n: int, seed: int) -> tuple[ParticleArrays, np.ndarray]:
    """Two classes of toy jets: signal constituents spread wider in (deta, dphi)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    counts = rng.integers(3, 12, n)
    mask = (np.arange(12)[None, :] < counts[:, None]).astype(np.float32)
    points = rng.normal(0, 0.05 + 0.15 * y[:, None, None], (n, 12, 2)).astype(np.float32) * mask[..., None]
    pt = rng.exponential(20, (n, 12)).astype(np.float32) * mask
    vectors = np.stack([pt, np.zeros_like(pt), pt * points[..., 0], pt * 1.1], axis=-1).astype(np.float32)
    spread = np.abs(points).sum(axis=-1, keepdims=True) * 5  # larger for signal
    features = np.concatenate([points, spread], axis=-1) * mask[..., None]
    return ParticleArrays(features, points, vectors, mask, ("deta", "dphi", "spread")), y


@pytest.mark.parametrize("family", ["pfn", "efn", "particlenet", "transformer", "cnn"])
def test_jet_family_trains_saves_and_loads(family: str, tmp_path: Path) -> None:
    x, y = _particles(300, seed=1)
    if family == "cnn":
        rng = np.random.default_rng(2)
        inputs = rng.random((300, 1, 12, 12)).astype(np.float32)
        inputs[y == 1, 0, 5:7, 5:7] += 2.0  # a bright core marks the signal
        n_features = 1
    else:
        inputs, n_features = x, 3
    trainer = Trainer(epochs=6, batch_size=32, optimizer=OptimizerSpec(lr=5e-3), progress=False, seed=1)
    model = build_model(
        family, make_task("binary"), n_features, params=SMALL[family], seed=1, trainer=trainer, image_size=12
    )
    arrays = Arrays(inputs, y, np.ones(len(y)))
    model.fit(arrays)
    scores = model.predict(inputs)
    assert scores.shape == (300,) and np.all((scores >= 0) & (scores <= 1))
    from sklearn.metrics import roc_auc_score

    assert roc_auc_score(y, scores) > 0.75  # the classes differ plainly
    model.save(tmp_path / family)
    loaded = Model.load(tmp_path / family)
    np.testing.assert_allclose(loaded.predict(inputs), scores, rtol=1e-6, atol=1e-7)


def test_inputs_of_the_wrong_representation_are_refused() -> None:
    x, _ = _particles(10, seed=3)
    pfn = build_model("pfn", make_task("binary"), 3, params=SMALL["pfn"])
    with pytest.raises(DataError, match="particle sets"):
        pfn.predict(np.zeros((10, 3), dtype=np.float32))
    with pytest.raises(DataError, match="features per particle"):
        build_model("pfn", make_task("binary"), 5, params=SMALL["pfn"]).predict(x)
    cnn = build_model("cnn", make_task("binary"), 1, params=SMALL["cnn"], image_size=12)
    with pytest.raises(DataError, match="channels"):
        cnn.predict(np.zeros((2, 3, 12, 12), dtype=np.float32))


def test_transformer_scores_and_validates_in_bounded_batches() -> None:
    """The n^2 pair activations of the transformer are never built for thousands of jets at once."""
    from neyman.models.families import TransformerConfig
    from neyman.models.jets import TransformerModel

    x, y = _particles(700, seed=4)
    trainer = Trainer(epochs=1, batch_size=64, progress=False, seed=1)
    model = TransformerModel(make_task("binary"), 3, params=TransformerConfig(preset="tiny"), seed=1, trainer=trainer)
    seen: list[tuple[bool, int]] = []
    model.network.register_forward_pre_hook(lambda net, args: seen.append((net.training, len(args[0]))))
    model.fit(Arrays(x[:400], y[:400], np.ones(400)), Arrays(x[400:], y[400:], np.ones(300)))
    training = [n for train, n in seen if train]
    validation = [n for train, n in seen if not train]
    assert max(training) == 64 and validation == [256, 44]  # not one pass of max(batch, 8192)
    seen.clear()
    model.predict(x)
    assert [n for _, n in seen] == [256, 256, 188]
    assert TransformerModel.inference_batch_size < model_class("pfn").inference_batch_size


def test_particlenet_training_is_bit_for_bit_repeatable_on_a_busy_machine() -> None:
    """Gathers of neighbours (a constituent chosen by many) must not accumulate gradients in an
    order that depends on thread timing: the same seed gives the same network, as for every
    other family (the gradient of ``x[index]`` is accumulated with atomic adds on CPU)."""
    import threading

    x, y = _particles(400, seed=5)
    scores = []
    busy = threading.Event()

    def compete() -> None:  # a thread taking CPU time from torch's workers, as other jobs do
        while not busy.is_set():
            sum(i * i for i in range(10_000))

    for competing in (False, True, True):
        rival = threading.Thread(target=compete, daemon=True)
        busy.clear()
        if competing:
            rival.start()
        try:
            trainer = Trainer(epochs=1, batch_size=64, progress=False, seed=1)
            params = {"preset": "tiny"}
            model = build_model("particlenet", make_task("binary"), 3, params=params, seed=1, trainer=trainer)
            model.fit(Arrays(x, y, np.ones(len(y))))
        finally:
            busy.set()
        scores.append(model.predict(x))
    assert np.array_equal(scores[0], scores[1]) and np.array_equal(scores[0], scores[2])
