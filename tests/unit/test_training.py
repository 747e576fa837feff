import numpy as np
import pytest
import torch

from neyman.exceptions import ConfigError, ModelError
from neyman.nn import MLP
from neyman.tasks import BinaryTask
from neyman.training import (
    OptimizerSpec,
    ScheduleSpec,
    TensorBatches,
    Trainer,
    load_state,
    save_state,
)


def _data(n=4000, seed=0):
    gen = np.random.default_rng(seed)
    x = gen.normal(size=(n, 4)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] ** 2 + 0.3 * gen.normal(size=n) > 0.5).astype(np.int64)
    dev = torch.device("cpu")
    return TensorBatches(torch.tensor(x), torch.tensor(y), torch.ones(n), device=dev)


def _fit(tmp_path, epochs=4, resume=False, **kw):
    torch.manual_seed(0)
    net = MLP(4, 1, hidden=(16, 16), dropout=0.1)
    tr = Trainer(epochs=epochs, batch_size=128, seed=3, checkpoint_dir=tmp_path, progress=False, **kw)
    h = tr.fit(net, BinaryTask().loss, _data(), _data(1000, 1), resume=resume)
    return net, h


def test_checkpoint_round_trip_without_pickle(tmp_path):
    state = {"a": torch.arange(3.0), "nested": {1: (torch.ones(2), "x", None, 2.5)}, "l": [True, 3]}
    save_state(tmp_path / "s.safetensors", state)
    back = load_state(tmp_path / "s.safetensors")
    assert torch.equal(back["a"], state["a"])
    assert back["nested"][1][1:] == ("x", None, 2.5)
    assert torch.equal(back["nested"][1][0], torch.ones(2))
    (tmp_path / "bad.safetensors").write_bytes(b"garbage")
    with pytest.raises(ModelError, match="damaged"):
        load_state(tmp_path / "bad.safetensors")


def test_training_learns_and_is_bit_for_bit_repeatable(tmp_path):
    net1, h1 = _fit(tmp_path / "a")
    net2, _h2 = _fit(tmp_path / "b")
    assert h1.columns["val_loss"][-1] < h1.columns["val_loss"][0] < 0.7
    for p1, p2 in zip(net1.parameters(), net2.parameters(), strict=True):
        assert torch.equal(p1, p2)


def test_resume_reaches_the_same_weights(tmp_path, interrupt_training):
    full, h_full = _fit(tmp_path / "full", epochs=5, schedule=ScheduleSpec(name="cosine"))
    disarm = interrupt_training(2)  # after the checkpoint of epoch 2 has been written
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path / "cut", epochs=5, schedule=ScheduleSpec(name="cosine"))
    disarm()
    resumed, h_res = _fit(tmp_path / "cut", epochs=5, resume=True, schedule=ScheduleSpec(name="cosine"))
    assert h_res.columns["epoch"] == [1, 2, 3, 4, 5]
    assert h_res.columns["val_loss"] == h_full.columns["val_loss"]
    for p1, p2 in zip(full.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(p1, p2)


@pytest.mark.parametrize("schedule", ["cosine", "onecycle"])
def test_resume_with_more_epochs_and_a_new_rate_follows_the_new_schedule(tmp_path, interrupt_training, schedule):
    """4 epochs cut after 2, resumed for 8 at lr 0.01: the rates are those of an 8-epoch run at 0.01 from epoch 3."""
    spec = ScheduleSpec(name=schedule)
    disarm = interrupt_training(2)
    with pytest.raises(KeyboardInterrupt):
        _fit(tmp_path / "cut", epochs=4, schedule=spec)
    disarm()
    new = {"epochs": 8, "schedule": spec, "optimizer": OptimizerSpec(lr=0.01)}
    _, resumed = _fit(tmp_path / "cut", resume=True, **new)
    _, planned = _fit(tmp_path / "planned", **new)
    assert resumed.columns["epoch"] == list(range(1, 9))
    assert resumed.columns["lr"][:2] == pytest.approx(
        _fit(tmp_path / "old", epochs=4, schedule=spec)[1].columns["lr"][:2]
    )
    assert resumed.columns["lr"][2:] == pytest.approx(planned.columns["lr"][2:])
    if schedule == "cosine":  # decaying to the end, never rising again
        assert np.all(np.diff(resumed.columns["lr"][2:]) < 0)


def test_early_stopping_restores_best_weights(tmp_path):
    # a learning rate far too high makes the validation loss worse after the first epochs
    _net, h = _fit(tmp_path, epochs=30, optimizer=OptimizerSpec(name="sgd", lr=0.5, momentum=0.9), patience=2)
    assert h.stopped_early
    assert h.n_epochs < 30
    best = min(h.columns["val_loss"])
    assert h.columns["val_loss"][h.best_epoch - 1] == best


@pytest.mark.parametrize("name", ["sgd", "adam", "adamw", "nadam", "rmsprop"])
@pytest.mark.parametrize("schedule", ["none", "step", "cosine", "onecycle", "plateau"])
def test_every_optimiser_and_schedule_trains(tmp_path, name, schedule):
    spec = OptimizerSpec(name=name, lr=0.01, momentum=0.9 if name in ("sgd", "rmsprop") else 0.0)
    _, h = _fit(
        tmp_path,
        epochs=2,
        optimizer=spec,
        schedule=ScheduleSpec(name=schedule),
        l1=1e-5,
        l2=1e-4,
        grad_clip=1.0,
    )
    assert h.n_epochs == 2 and np.isfinite(h.columns["train_loss"]).all()


def test_bad_specs_are_config_errors():
    with pytest.raises(ConfigError, match="nesterov"):
        OptimizerSpec(name="adam", nesterov=True)
    with pytest.raises(ConfigError, match="did you mean 'adam'"):
        OptimizerSpec(name="adm").build([torch.nn.Parameter(torch.zeros(1))])
    with pytest.raises(ModelError, match="no checkpoint"):
        Trainer(checkpoint_dir="/nonexistent-dir", progress=False).fit(
            MLP(4, 1), BinaryTask().loss, _data(100), resume=True
        )


def test_the_default_plan_fixes_steps_not_passes():
    from neyman.training.trainer import DEFAULT_STEPS, plan_training

    small = plan_training(5_000, epochs=None, batch_size=None, steps=DEFAULT_STEPS)
    large = plan_training(1_000_000, epochs=None, batch_size=None, steps=DEFAULT_STEPS)
    huge = plan_training(20_000_000, epochs=None, batch_size=None, steps=DEFAULT_STEPS)
    assert small[1] == 32 and large[1] == huge[1] == 1024
    # small samples get many passes of small batches, large ones few passes of full batches
    assert small[0] * np.ceil(5_000 / small[1]) >= DEFAULT_STEPS * 0.9
    assert huge[0] == 10, "ten passes at least"
    # above the 204,800 events that fill the largest batch the budget grows as sqrt(n): more steps
    # than the fixed budget, fewer passes than a smaller sample's
    assert large[0] == np.ceil(DEFAULT_STEPS * np.sqrt(1_000_000 / 204_800) / np.ceil(1_000_000 / 1024)) == 19
    at_cap = plan_training(204_800, epochs=None, batch_size=None, steps=DEFAULT_STEPS)
    assert at_cap[0] * 200 == DEFAULT_STEPS, "up to the batch cap the budget is the given steps"
    assert plan_training(10, epochs=None, batch_size=None, steps=DEFAULT_STEPS) == (200, 32)
    assert plan_training(5_000, epochs=7, batch_size=100, steps=1) == (7, 100), "given values are kept"


def test_gradient_clipping_measures_only_what_the_optimiser_moves(tmp_path):
    """A sub-network trained apart (an adversary) must not shrink the clipped step of the rest."""

    class Tagged(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.tagger = torch.nn.Linear(4, 1)
            self.apart = torch.nn.Parameter(torch.ones(1))  # trained by its own optimiser elsewhere

        def forward(self, x):
            return self.tagger(x) + 1e6 * (self.apart - self.apart.detach())  # a huge gradient, no value

        def parameter_groups(self, lr):
            return [{"params": list(self.tagger.parameters()), "lr": lr}]

    def moved(grad_clip):
        torch.manual_seed(0)
        net = Tagged()
        before = torch.nn.utils.parameters_to_vector(net.tagger.parameters()).detach().clone()
        spec = OptimizerSpec(name="sgd", lr=0.1)
        Trainer(epochs=1, batch_size=4000, seed=3, progress=False, grad_clip=grad_clip, optimizer=spec).fit(
            net, BinaryTask().loss, _data(), None
        )
        after = torch.nn.utils.parameters_to_vector(net.tagger.parameters()).detach()
        return float((after - before).norm()), float(net.apart.detach())

    clipped, apart = moved(1.0)
    assert apart == 1.0
    assert clipped == pytest.approx(min(moved(None)[0], 0.1), rel=1e-3)  # one step of at most lr x 1
