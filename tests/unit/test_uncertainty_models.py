"""Per-event model uncertainty: Bayesian layers, MC dropout and deep ensembles."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from neyman.exceptions import ConfigError, ModelError
from neyman.models import Arrays, build_model
from neyman.nn.bayesian import BayesianLinear, BayesianMLP, kl_divergence
from neyman.tasks import make_task
from neyman.testing import gaussian_regression_dataset, likelihood_ratio_dataset
from neyman.training import Trainer


@torch.no_grad()
def test_bayesian_kl_matches_the_closed_form_of_torch_distributions() -> None:
    torch.manual_seed(0)
    layer = BayesianLinear(4, 3, prior_sigma=0.7, initial_sigma=0.2)
    with torch.no_grad():
        layer.weight_rho.uniform_(-3, 0)
        layer.bias_mu.uniform_(-1, 1)
    expected = torch.zeros((), dtype=torch.float64)
    for mu, rho in ((layer.weight_mu, layer.weight_rho), (layer.bias_mu, layer.bias_rho)):
        q = torch.distributions.Normal(mu.double(), torch.nn.functional.softplus(rho).double())
        p = torch.distributions.Normal(torch.zeros_like(mu).double(), 0.7)
        expected = expected + torch.distributions.kl_divergence(q, p).sum()
    assert float(layer.kl().detach()) == pytest.approx(float(expected), rel=1e-5)
    # and against a Monte-Carlo estimate E_q[log q - log p] (an independent check of the formula)
    mu, sigma = layer.weight_mu.detach().double(), torch.nn.functional.softplus(layer.weight_rho).detach().double()
    draws = mu + sigma * torch.randn(200_000, *mu.shape, dtype=torch.float64)
    log_q = torch.distributions.Normal(mu, sigma).log_prob(draws)
    log_p = torch.distributions.Normal(0.0, 0.7).log_prob(draws)
    mc = float((log_q - log_p).mean(0).sum())
    weight_kl = float(
        torch.distributions.kl_divergence(
            torch.distributions.Normal(mu, sigma), torch.distributions.Normal(torch.zeros_like(mu), 0.7)
        ).sum()
    )
    assert mc == pytest.approx(weight_kl, rel=0.02)


def test_a_bayesian_network_draws_in_training_and_is_deterministic_in_evaluation() -> None:
    net = BayesianMLP(3, 1, hidden=(8,))
    x = torch.randn(5, 3)
    net.train()
    assert not torch.equal(net(x), net(x))
    net.eval()
    assert torch.equal(net(x), net(x))
    assert float(kl_divergence(net).detach()) > 0
    assert float(kl_divergence(torch.nn.Linear(2, 2))) == 0.0


def _binary_data(n: int = 6000) -> tuple[Arrays, Arrays, np.ndarray]:
    table = likelihood_ratio_dataset(n, n_features=4, seed=3)
    x = table.to_numpy([f"x{i:02d}" for i in range(4)], dtype=np.float64)
    x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
    y, w = np.asarray(table["label"]), np.ones(n)
    half = n // 2
    return Arrays(x[:half], y[:half], w[:half]), Arrays(x[half:], y[half:], w[half:]), x[half:]


def _model(params: dict, task: str = "binary", n_features: int = 4):
    trainer = Trainer(epochs=4, batch_size=128, seed=0, progress=False)
    return build_model("mlp", make_task(task), n_features, params={"hidden": [16, 16], **params}, trainer=trainer)


@pytest.mark.parametrize(
    "params",
    [
        {"uncertainty": "ensemble", "ensemble": 3},
        {"uncertainty": "mc_dropout", "dropout": 0.2},
        {"uncertainty": "bayesian"},
    ],
)
def test_every_kind_gives_a_spread_that_grows_away_from_the_training_data(params: dict) -> None:
    train, val, x = _binary_data()
    model = _model(params).fit(train, val)
    draws = model.predict_draws(x)
    assert draws.shape[1:] == (len(x), 1) and draws.shape[0] == (3 if "ensemble" in params else 50)
    spread = model.task.uncertainty(draws)
    assert spread.shape == (len(x), 2) and np.all(spread > 0)
    far = model.task.uncertainty(model.predict_draws(4 * x))
    assert far[:, 1].mean() > 2 * spread[:, 1].mean()  # logit spread out of the training support
    # draws are seeded: the same inputs give the same spread
    np.testing.assert_array_equal(model.task.uncertainty(model.predict_draws(x)), spread)


def test_spreads_shrink_to_zero_in_the_deterministic_limit() -> None:
    *_, x = _binary_data(2000)
    # identical members
    ensemble = _model({"uncertainty": "ensemble", "ensemble": 2})
    ensemble.network.members[1].load_state_dict(ensemble.network.members[0].state_dict())
    assert np.max(ensemble.task.uncertainty(ensemble.predict_draws(x))) == 0.0
    # a vanishing dropout probability
    dropout = _model({"uncertainty": "mc_dropout", "dropout": 1e-9})
    assert np.max(dropout.task.uncertainty(dropout.predict_draws(x))) < 1e-6
    # vanishing posterior widths
    bayes = _model({"uncertainty": "bayesian"})
    with torch.no_grad():
        for m in bayes.network.modules():
            if isinstance(m, BayesianLinear):
                m.weight_rho.fill_(-40.0)
                m.bias_rho.fill_(-40.0)
    assert np.max(bayes.task.uncertainty(bayes.predict_draws(x))) < 1e-6


def test_gaussian_regression_separates_model_and_aleatoric_uncertainty() -> None:
    table = gaussian_regression_dataset(6000, seed=4)
    x = table.to_numpy([f"x{i:02d}" for i in range(4)], dtype=np.float32)
    y, w = np.asarray(table["target"]), np.ones(6000)
    model = _model({"uncertainty": "bayesian"}, task="gaussian").fit(Arrays(x[:4000], y[:4000], w[:4000]))
    spread = model.task.uncertainty(model.predict_draws(x[4000:]))
    assert model.task.uncertainty_names() == ["sigma_model"] and spread.shape == (2000, 1)
    sigma = model.predict(x[4000:])[:, 1]
    assert np.all(spread[:, 0] > 0) and np.median(spread[:, 0]) < np.median(sigma)


def test_bad_uncertainty_settings_are_refused() -> None:
    with pytest.raises((ConfigError, ValidationError), match="dropout"):
        _model({"uncertainty": "mc_dropout", "dropout": 0.0})
    with pytest.raises((ConfigError, ValidationError), match="ensemble"):
        _model({"uncertainty": "ensemble"})
    with pytest.raises((ConfigError, ValidationError), match="Bayesian layers"):
        build_model("pfn", make_task("binary"), 4, params={"uncertainty": "bayesian"})
    # a family without dropout (the PFN's lite preset) cannot sample masks
    with pytest.raises(ConfigError, match="no dropout"):
        build_model("pfn", make_task("binary"), 4, params={"uncertainty": "mc_dropout"})
    # Bayesian layers regularise by their prior: options of the plain MLP they would ignore are named
    with pytest.raises((ConfigError, ValidationError), match="do not use dropout"):
        _model({"uncertainty": "bayesian", "dropout": 0.2})
    with pytest.raises((ConfigError, ValidationError), match="do not use batch_norm, init"):
        _model({"uncertainty": "bayesian", "batch_norm": True, "init": "he"})
    assert _model({"uncertainty": "bayesian"}).params.planned(5000).dropout == 0.0
    with pytest.raises(ModelError, match="no uncertainty"):
        _model({}).predict_draws(np.zeros((2, 4), np.float32))


def test_interval_scale_is_the_pull_quantile_that_covers_68_percent() -> None:
    task = make_task("gaussian")
    gen = np.random.default_rng(7)
    n = 200_000
    pred, sigma, sigma_model = gen.normal(size=n), gen.uniform(0.5, 2.0, n), gen.uniform(0.0, 0.5, n)
    # the truth scatters 1.6 times wider than the stated total uncertainty
    truth = pred + 1.6 * np.hypot(sigma, sigma_model) * gen.normal(size=n)
    scores = np.stack([pred, sigma], axis=1)
    scale = task.interval_scale(scores, lambda: sigma_model[:, None], truth, np.ones(n))
    assert scale == pytest.approx(1.6, rel=0.01)
    # the scaled draws: the mean stays, sigma and the spread of the mean both grow by the factor
    draws = np.stack([pred + sigma_model, pred - sigma_model])  # two draws: std over draws = sigma_model
    raw = np.stack([draws, np.broadcast_to(np.log(sigma), draws.shape)], axis=2)
    scaled = task.scaled_intervals(raw, scale)
    np.testing.assert_allclose(scaled[:, :, 0].mean(axis=0), pred, atol=1e-12)
    np.testing.assert_allclose(task.uncertainty(scaled)[:, 0], scale * sigma_model, rtol=1e-9)
    np.testing.assert_allclose(np.exp(scaled[0, :, 1]), scale * sigma, rtol=1e-9)
    # fresh events from the same law: the scaled ±1σ and ±2σ intervals cover 68.27% and 95.45%
    fresh = pred + 1.6 * np.hypot(sigma, sigma_model) * gen.normal(size=n)
    pull = np.abs(fresh - pred) / (scale * np.hypot(sigma, sigma_model))
    assert np.mean(pull < 1.0) == pytest.approx(0.6827, abs=0.005)
    assert np.mean(pull < 2.0) == pytest.approx(0.9545, abs=0.005)


def test_tasks_without_intervals_and_tiny_samples_are_not_calibrated() -> None:
    def never() -> np.ndarray:
        raise AssertionError("a task without intervals must not compute the spread")

    for name in ("binary", "regression"):
        assert make_task(name).interval_scale(np.zeros((100, 1)), never, np.zeros(100), np.ones(100)) == 1.0
    few = np.stack([np.zeros(10), np.ones(10)], axis=1)
    assert make_task("gaussian").interval_scale(few, lambda: np.zeros((10, 1)), 5 * np.ones(10), np.ones(10)) == 1.0


def test_mc_dropout_intervals_are_calibrated_on_validation_and_cover_held_out_events(tmp_path) -> None:
    from neyman.models import Model

    table = gaussian_regression_dataset(12_000, seed=5)
    x = table.to_numpy([f"x{i:02d}" for i in range(4)], dtype=np.float32)
    y, w = np.asarray(table["target"]), np.ones(len(table))
    train, val = Arrays(x[:6000], y[:6000], w[:6000]), Arrays(x[6000:9000], y[6000:9000], w[6000:9000])
    model = _model({"uncertainty": "mc_dropout", "dropout": 0.3}, task="gaussian").fit(train, val)
    assert model.interval_scale_ != 1.0

    def coverage(m, xs: np.ndarray, ys: np.ndarray) -> float:
        scores = m.predict(xs)
        total = np.hypot(scores[:, 1], m.task.uncertainty(m.predict_draws(xs))[:, 0])
        return float(np.mean(np.abs(ys - scores[:, 0]) < total))

    assert coverage(model, val.x, val.y) == pytest.approx(0.6827, abs=0.002)  # fitted there
    assert coverage(model, x[9000:], y[9000:]) == pytest.approx(0.6827, abs=0.03)  # held out
    # without the factor the same network's intervals are off by more than that
    scale, model.interval_scale_ = model.interval_scale_, 1.0
    assert abs(coverage(model, x[9000:], y[9000:]) - 0.6827) > 0.03
    model.interval_scale_ = scale
    # the factor is part of the saved model
    model.save(tmp_path)
    loaded = Model.load(tmp_path)
    assert loaded.interval_scale_ == scale
    np.testing.assert_allclose(loaded.predict(x[9000:]), model.predict(x[9000:]), rtol=1e-6)
