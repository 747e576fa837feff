"""Anomaly scores, autoencoders and normalizing flows as library objects."""

import math

import numpy as np
import pytest
import torch
from scipy import stats

from neyman import metrics
from neyman.exceptions import ConfigError, DataError
from neyman.models import Arrays, build_model
from neyman.nn import Autoencoder, DensityFlow
from neyman.tasks import DensityTask, make_task
from neyman.training import Trainer


def _trainer(steps: int = 600, batch_size: int = 256) -> Trainer:
    return Trainer(steps=steps, batch_size=batch_size, seed=0, progress=False, patience=0)


# -- metrics -----------------------------------------------------------------------------------


def test_anomaly_summary_of_two_gaussians_matches_the_analytic_values():
    gen = np.random.default_rng(0)
    n = 400_000
    scores = np.concatenate([gen.normal(0, 1, n), gen.normal(2, 1, n)])
    labels = np.repeat([0, 1], n)
    summary, _ = metrics.anomaly_summary(scores, labels)
    assert summary.auc == pytest.approx(stats.norm.cdf(2 / math.sqrt(2)), abs=2e-3)
    for eps_b in (1e-2, 1e-3, 1e-4):
        expected = stats.norm.sf(stats.norm.isf(eps_b) - 2)
        assert summary.signal_efficiency[eps_b] == pytest.approx(expected, rel=0.05)
    cut = np.linspace(-1, 5, 2001)
    analytic_sic = stats.norm.sf(cut - 2) / np.sqrt(stats.norm.sf(cut))
    keep = stats.norm.sf(cut) * n >= 10
    assert summary.max_sic == pytest.approx(analytic_sic[keep].max(), rel=0.05)


def test_sic_needs_enough_background_and_small_samples_give_no_deep_working_points():
    gen = np.random.default_rng(1)
    scores = np.concatenate([gen.normal(0, 1, 500), gen.normal(3, 1, 500)])
    labels = np.repeat([0, 1], 500)
    summary, roc = metrics.anomaly_summary(scores, labels)
    _, sic = metrics.sic_curve(roc, 500, min_background=10)
    assert len(sic) == np.sum(roc.background_efficiency * 500 >= 10)
    assert summary.max_sic == pytest.approx(sic.max())
    _, unfloored = metrics.sic_curve(roc, 500, min_background=0)
    assert unfloored.max() > 1.5 * sic.max()  # the last few background events would inflate it
    assert summary.signal_efficiency[1e-3] is None and summary.signal_efficiency[1e-4] is None
    assert summary.signal_efficiency[1e-2] is not None


# -- autoencoder -------------------------------------------------------------------------------


def _manifold(n: int, seed: int, *, off: bool = False) -> np.ndarray:
    """Events on a curved 2-D surface in 6-D (background), or spread off it (anomalies)."""
    gen = np.random.default_rng(seed)
    z = gen.normal(size=(n, 2))
    x = np.stack([z[:, 0], z[:, 1], z[:, 0] * z[:, 1], np.sin(z[:, 0]), z[:, 1] ** 2 - 1, z[:, 0] - z[:, 1]], axis=1)
    x += 0.05 * gen.normal(size=x.shape)
    if off:
        x += 0.8 * gen.normal(size=x.shape)
    return x.astype(np.float32)


@pytest.mark.parametrize(("variational", "min_auc"), [(False, 0.9), (True, 0.8)])
def test_autoencoder_trained_on_background_finds_events_off_its_manifold(variational, min_auc):
    task = make_task("autoencoder")
    params = {"latent": 2, "hidden": [32, 32], "variational": variational}
    model = build_model("autoencoder", task, 6, params=params, trainer=_trainer(1500))
    bkg = _manifold(8000, 0)
    model.fit(Arrays(bkg, np.zeros(len(bkg), dtype=np.int64), np.ones(len(bkg))))
    test_b, test_s = _manifold(3000, 1), _manifold(3000, 2, off=True)
    scores = model.predict(np.concatenate([test_b, test_s]))
    auc = metrics.roc_auc(scores, np.repeat([0, 1], 3000))
    assert auc > min_auc
    assert model.predict(test_b).mean() < model.predict(test_s).mean()


def test_vae_scores_are_deterministic_and_elbo_exceeds_the_reconstruction_term():
    torch.manual_seed(0)
    x = torch.as_tensor(_manifold(200, 3))
    net = Autoencoder(6, latent=2, variational=True, score="elbo").eval()
    assert torch.equal(net(x), net(x))
    reco = Autoencoder(6, latent=2, variational=True, score="reconstruction").eval()
    reco.load_state_dict(net.state_dict())
    # elbo = ½ Σ_j (x̂-x)² + β KL ≥ ½ d · mean_j (x̂-x)²
    assert torch.all(net(x) >= 0.5 * 6 * reco(x) - 1e-5)
    net.train()
    assert not torch.equal(net(x), net(x))  # training draws z


def test_autoencoder_feature_weights_name_features():
    task = make_task("autoencoder")
    with pytest.raises(ConfigError, match=r"'zz'.*not among the features"):
        build_model("autoencoder", task, 2, params={"feature_weights": {"zz": 2.0}}, features=["a", "b"])
    model = build_model("autoencoder", task, 2, params={"feature_weights": {"b": 3.0}}, features=["a", "b"])
    np.testing.assert_allclose(model.network.feature_weights.numpy(), [0.5, 1.5])


def test_families_refuse_tasks_of_another_objective():
    with pytest.raises(ConfigError, match="flow cannot learn the 'binary' task: the family learns by density"):
        build_model("flow", make_task("binary"), 3)
    with pytest.raises(ConfigError, match="mlp cannot learn the 'density' task"):
        build_model("mlp", make_task("density"), 3)


# -- flows -------------------------------------------------------------------------------------


def _gaussian(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    mean = np.array([100.0, -3.0])
    cov = np.array([[25.0, 4.0], [4.0, 1.0]])  # far from the unit scale: the Jacobian matters
    return np.random.default_rng(seed).multivariate_normal(mean, cov, size=n), mean, cov


@pytest.fixture(scope="session")
def gaussian_flow():
    x, mean, cov = _gaussian(20_000, 0)
    model = build_model(
        "flow",
        DensityTask(),
        2,
        params={"transform": "maf", "transforms": 3, "hidden": [32, 32]},
        trainer=_trainer(1500),
        features=["m", "y"],
    )
    model.fit(Arrays(x.astype(np.float32), np.zeros(len(x), dtype=np.int64), np.ones(len(x))))
    return model, mean, cov


def test_flow_log_density_matches_the_gaussian_it_learned(gaussian_flow):
    model, mean, cov = gaussian_flow
    x, _, _ = _gaussian(5000, 1)
    log_p = model.predict(x.astype(np.float32))[:, 1]
    truth = stats.multivariate_normal(mean, cov).logpdf(x)
    bulk = truth > np.quantile(truth, 0.05)
    assert np.abs(log_p - truth)[bulk].mean() < 0.05
    assert np.allclose(model.predict(x[:10].astype(np.float32))[:, 0], -log_p[:10])


def test_flow_density_integrates_to_one_over_the_physical_variables(gaussian_flow):
    model, mean, cov = gaussian_flow
    sd = np.sqrt(np.diag(cov))
    a = np.linspace(mean[0] - 8 * sd[0], mean[0] + 8 * sd[0], 400)
    b = np.linspace(mean[1] - 8 * sd[1], mean[1] + 8 * sd[1], 400)
    grid = np.stack(np.meshgrid(a, b, indexing="ij"), axis=-1).reshape(-1, 2)
    density = np.exp(model.predict(grid.astype(np.float32))[:, 1])
    integral = density.sum() * (a[1] - a[0]) * (b[1] - b[0])
    assert integral == pytest.approx(1.0, abs=0.01)


def test_flow_samples_are_reproducible_and_follow_the_density(gaussian_flow):
    model, mean, cov = gaussian_flow
    first, again, other = model.sample(20_000, seed=3), model.sample(20_000, seed=3), model.sample(20_000, seed=4)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)
    np.testing.assert_allclose(first.mean(axis=0), mean, atol=0.15)
    np.testing.assert_allclose(np.cov(first.T), cov, rtol=0.1)


@pytest.mark.slow  # 19 s; conditional draws follow their condition in test_anomaly_workflow too
def test_conditional_flow_learns_a_density_that_moves_with_its_condition():
    gen = np.random.default_rng(5)
    c = gen.uniform(-2, 2, 20_000)
    v = 3.0 * c + gen.normal(size=len(c))
    x = np.stack([v, c], axis=1).astype(np.float32)
    model = build_model(
        "flow",
        DensityTask(),
        2,
        params={"transform": "nsf", "transforms": 2, "hidden": [32, 32], "condition": ["c"]},
        trainer=_trainer(1200),
        features=["v", "c"],
    )
    model.fit(Arrays(x, np.zeros(len(x), dtype=np.int64), np.ones(len(x))))
    drawn = model.sample(4000, context=np.full((4000, 1), 1.5), seed=1)
    assert drawn.shape == (4000, 1)
    assert drawn.mean() == pytest.approx(4.5, abs=0.2) and drawn.std() == pytest.approx(1.0, abs=0.15)
    with pytest.raises(DataError, match="conditional on c"):
        model.sample(10)


@pytest.mark.slow  # ~1 min; the bounded flows' predict and export run in test_anomaly_workflow
def test_bounded_flow_keeps_hard_edges_and_its_density_integrates_to_one():
    # a mass with its maximum density at the edge m = 0, and a ratio in [0, 1] piling up near 1
    gen = np.random.default_rng(6)
    m = gen.exponential(20.0, 20_000)
    r = gen.beta(3.0, 1.2, 20_000)
    x = np.stack([m, r], axis=1).astype(np.float32)
    models = {}
    for bounded in ([], ["m", "r"]):
        model = build_model(
            "flow", DensityTask(), 2, trainer=_trainer(1200), features=["m", "r"],
            params={"transform": "nsf", "transforms": 2, "hidden": [32, 32], "bounded": bounded},
        )  # fmt: skip
        models[len(bounded)] = model.fit(Arrays(x, np.zeros(len(x), dtype=np.int64), np.ones(len(x))))
    drawn = models[2].sample(20_000, seed=2)
    lower, upper = x.min(axis=0) - 1e-3 * np.ptp(x, axis=0), x.max(axis=0) + 1e-3 * np.ptp(x, axis=0)
    assert np.all(drawn >= lower - 1e-5) and np.all(drawn <= upper + 1e-5)  # the training range and its margin
    leaked = np.mean(models[0].sample(20_000, seed=2)[:, 0] < 0)
    assert leaked > 0.002 and np.mean(drawn[:, 0] < 0) < leaked / 4  # the unbounded flow leaks across m = 0
    truth = stats.expon(scale=20.0).logpdf(m[:3000]) + stats.beta(3.0, 1.2).logpdf(r[:3000])
    err = {k: np.median(np.abs(model.predict(x[:3000])[:, 1] - truth)) for k, model in models.items()}
    assert err[2] < 0.1 and err[2] < err[0]
    a = np.linspace(0.0, m.max(), 600)
    b = np.linspace(0.0, 1.0, 300)
    grid = np.stack(np.meshgrid(a, b, indexing="ij"), axis=-1).reshape(-1, 2).astype(np.float32)
    density = np.exp(models[2].predict(grid)[:, 1])
    assert density.sum() * (a[1] - a[0]) * (b[1] - b[0]) == pytest.approx(1.0, abs=0.03)


def test_density_task_refuses_constant_and_discrete_columns():
    task = DensityTask()
    gen = np.random.default_rng(0)
    fine = gen.normal(size=(1000, 2))
    task.check_inputs(fine, ["a", "b"])
    with pytest.raises(DataError, match=r"'n_tracks' is discrete.*dequantise"):
        task.check_inputs(np.column_stack([fine[:, 0], gen.integers(0, 30, 1000)]), ["a", "n_tracks"])
    with pytest.raises(DataError, match=r"'flag' holds the single value 1.0"):
        task.check_inputs(np.column_stack([fine[:, 0], np.ones(1000)]), ["a", "flag"])
    # a count on a grid that is not the integers is as discrete: tenths of GeV, or counts + 0.5
    for grid in (0.1 * gen.poisson(3.0, 1000), gen.poisson(3.0, 1000) + 0.5):
        with pytest.raises(
            DataError, match=r"'e' is discrete \(\d+ distinct values in 1000 events.*± half the spacing"
        ):
            task.check_inputs(np.column_stack([fine[:, 0], grid]), ["a", "e"])
    # a copy of a feature puts every event on a line, where a density is infinite
    with pytest.raises(DataError, match=r"'a', 'a_mev' are linearly dependent.*drop one"):
        task.check_inputs(np.column_stack([fine, 1000.0 * fine[:, 0]]), ["a", "b", "a_mev"])
    # a conditional flow's condition may be discrete: the density is of the other columns at each value
    task.check_inputs(np.column_stack([fine, gen.integers(0, 5, 1000)]), ["a", "b", "mass_point"], given=["mass_point"])
    # a small continuous sample has few values, each once: not discrete
    task.check_inputs(fine[:50], ["a", "b"])
    # a point mass (an absent object's pT of 0 for half the events): the likelihood grows without bound
    zero_inflated = np.where(gen.random(1000) < 0.5, 0.0, gen.exponential(size=1000))
    with pytest.raises(DataError, match=r"'pt' holds the value 0\.0 in \d+ of 1000 events.*'pt != 0\.0'"):
        task.check_inputs(np.column_stack([fine[:, 0], zero_inflated]), ["a", "pt"])
    task.check_inputs(np.column_stack([fine[:, 0], np.where(np.arange(1000) < 4, 0.0, fine[:, 1])]), ["a", "b"])
    # rounded to 1% of its width (a mass in tenths of GeV): every value repeats, none is a point mass;
    # refused once, as the value a chance fluctuation made the most frequent
    many = gen.normal(size=(2000, 2))
    rounded = np.round(50 + 10 * many[:, 1], 1)
    task.check_inputs(np.column_stack([many[:, 0], rounded]), ["a", "m"])
    # ...while a point mass on such a grid stands out (an absent object's 0 for 5% of the events)
    with pytest.raises(DataError, match=r"'m' holds the value 0\.0 in 100 of 2000 events"):
        task.check_inputs(np.column_stack([many[:, 0], np.where(np.arange(2000) < 100, 0.0, rounded)]), ["a", "m"])
    # a large offset: float32 spacing at 1e9 is 64, so 1e9 + 100 z reaches the flow as a dozen values
    for offset, scale in ((1e9, 100.0), (1e6, 0.01)):
        with pytest.raises(DataError, match=r"'b' varies by .* float32.*subtract the offset"):
            task.check_inputs(np.column_stack([fine[:, 0], offset + scale * fine[:, 1]]), ["a", "b"])
        with pytest.raises(DataError, match=r"'m' varies by .* float32"):  # a condition too
            task.check_inputs(np.column_stack([fine, offset + scale * fine[:, 1]]), ["a", "b", "m"], given=["m"])
    task.check_inputs(np.column_stack([fine[:, 0], 1e9 + 1e5 * fine[:, 1]]), ["a", "b"])  # 64 against 1e5: fine


def test_flow_network_log_prob_is_that_of_the_standardised_flow_plus_the_jacobian():
    torch.manual_seed(0)
    net = DensityFlow(2, transform="nsf", transforms=2, hidden=(16,))
    x = torch.randn(50, 2)
    base = net(x).detach()
    net.set_standardisation(torch.tensor([1.0, -2.0]), torch.tensor([10.0, 0.5]))
    moved = net(x * torch.tensor([10.0, 0.5]) + torch.tensor([1.0, -2.0])).detach()
    torch.testing.assert_close(moved, base - math.log(5.0), rtol=1e-4, atol=1e-4)


# -- generated against real events ---------------------------------------------------------------


def test_wasserstein_distance_is_the_shift_and_matches_scipy_with_weights():
    gen = np.random.default_rng(7)
    a, b = gen.normal(size=50_000), gen.normal(size=50_000)
    assert metrics.wasserstein_distance(a, b + 0.5) == pytest.approx(0.5, abs=0.02)
    wa, wb = gen.uniform(0.1, 2.0, 50_000), gen.uniform(0.1, 2.0, 50_000)
    expected = stats.wasserstein_distance(a, 2 * b, wa, wb)
    assert metrics.wasserstein_distance(a, 2 * b, wa, wb) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_of_two_gaussians_is_the_analytic_value():
    gen = np.random.default_rng(8)
    real = gen.normal(size=(200_000, 2)) * [2.0, 1.0]
    generated = gen.normal(size=(200_000, 2)) * [2.0, 1.5] + [1.0, 0.0]
    # standardised by the real widths: means differ by 0.5, variances 1 vs 1 and 1 vs 2.25
    expected = 0.5**2 + (1 - 1) ** 2 + (1 - 1.5) ** 2
    assert metrics.frechet_distance(real, generated) == pytest.approx(expected, abs=0.01)
    assert metrics.frechet_distance(real, real[::-1]) == pytest.approx(0.0, abs=1e-9)
    # a column constant in the real events (a VAE's flag): singular covariances, the same value and no
    # LinAlgWarning (scipy's general matrix root warned); the generated spread adds its variance, 0.5**2 / 1
    flag_r, flag_g = np.full((200_000, 1), 3.0), 3.0 + 0.5 * gen.normal(size=(200_000, 1))
    with_flag = metrics.frechet_distance(np.hstack([real, flag_r]), np.hstack([generated, flag_g]))
    assert with_flag == pytest.approx(expected + 0.25, abs=0.01)


def test_two_sample_test_cannot_tell_halves_of_one_sample_apart_and_tells_different_samples_apart():
    from neyman.reweighting import two_sample_auc

    x = np.random.default_rng(9).normal(size=(40_000, 3))
    assert two_sample_auc(x[::2], x[1::2]) == pytest.approx(0.5, abs=0.015)
    other = x[1::2] * [1.0, 1.0, 3.0] + [2.0, 0.0, 0.0]
    assert two_sample_auc(x[::2], other) > 0.95


def test_two_sample_test_splits_samples_of_zeros_and_ones_into_both_folds():
    from neyman.reweighting import two_sample_auc

    lit = (np.random.default_rng(3).random((8_000, 16)) < 0.3).astype(np.float64)  # e.g. lit-pixel patterns
    assert two_sample_auc(lit[::2], lit[1::2]) == pytest.approx(0.5, abs=0.03)
    denser = (np.random.default_rng(4).random((4_000, 16)) < 0.6).astype(np.float64)
    assert two_sample_auc(lit[::2], denser) > 0.9


def _images(n: int, seed: int, *, prongs: int) -> np.ndarray:
    """Normalised 15×15 images: one Gaussian blob at the centre, or two at random opposite positions."""
    gen = np.random.default_rng(seed)
    grid = np.arange(15) - 7.0
    yy, xx = np.meshgrid(grid, grid, indexing="ij")
    images = np.zeros((n, 1, 15, 15))
    for i in range(n):
        if prongs == 1:
            centres = [(gen.normal(0, 0.5), gen.normal(0, 0.5))]
        else:
            angle = gen.uniform(0, 2 * np.pi)
            centres = [(3 * np.cos(angle), 3 * np.sin(angle)), (-3 * np.cos(angle), -3 * np.sin(angle))]
        for cy, cx in centres:
            images[i, 0] += np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / 2.0)
        images[i, 0] /= images[i, 0].sum()
    return images.astype(np.float32)


def test_conv_autoencoder_trained_on_one_prong_images_finds_two_prong_ones():
    task = make_task("autoencoder")
    model = build_model(
        "conv_autoencoder", task, 1, params={"latent": 4, "channels": [8, 16]}, image_size=15, trainer=_trainer(600)
    )
    one = _images(3000, 0, prongs=1)
    model.fit(Arrays(one, np.zeros(len(one), dtype=np.int64), np.ones(len(one))))
    test = np.concatenate([_images(500, 1, prongs=1), _images(500, 2, prongs=2)])
    assert model.predict(test).shape == (1000,)
    assert metrics.roc_auc(model.predict(test), np.repeat([0, 1], 500)) > 0.95


# both scores train the same network (the ELBO); the second only scores differently (--run-slow)
@pytest.mark.parametrize("score", ["reconstruction", pytest.param("elbo", marks=pytest.mark.slow)])
def test_convolutional_vae_finds_two_prong_images_with_either_score(score):
    task = make_task("autoencoder")
    params = {"latent": 4, "channels": [8, 16], "variational": True, "score": score}
    model = build_model("conv_autoencoder", task, 1, params=params, image_size=15, trainer=_trainer(600))
    one = _images(3000, 0, prongs=1)
    model.fit(Arrays(one, np.zeros(len(one), dtype=np.int64), np.ones(len(one))))
    test = np.concatenate([_images(500, 1, prongs=1), _images(500, 2, prongs=2)])
    scores = model.predict(test)
    np.testing.assert_array_equal(scores, model.predict(test))  # no sampling when scoring
    assert metrics.roc_auc(scores, np.repeat([0, 1], 500)) > 0.9
    net = model.network
    # the decoder width is calibrated to the pixels' errors (normalised images: far below one)
    rebuilt = model.reconstruct(one[:500])
    mse = float(np.mean((rebuilt - one[:500]) ** 2))
    assert float(net.decoder_var) == pytest.approx(mse, rel=0.5)
    assert model.encode(test).shape == (1000, 4)


def _particle_sets(n: int, seed: int, *, prongs: int, slots: int = 40):
    """Toy jets as padded sets of (Δη, Δφ, ln pT) of 10-30 particles: one core, or two prongs."""
    from neyman.representations import ParticleArrays

    gen = np.random.default_rng(seed)
    features = np.zeros((n, slots, 3), dtype=np.float32)
    mask = np.zeros((n, slots), dtype=np.float32)
    for i in range(n):
        m = gen.integers(10, 31)
        xy = gen.normal(0.0, 0.5, size=(m, 2))
        if prongs == 2:
            angle = gen.uniform(0, 2 * np.pi)
            axis = 1.5 * np.array([np.cos(angle), np.sin(angle)])
            xy += np.where(gen.random(m) < 0.5, 1.0, -1.0)[:, None] * axis
        features[i, :m, :2] = xy
        features[i, :m, 2] = gen.normal(0.0, 1.0, size=m)
        mask[i, :m] = 1.0
    zeros = np.zeros((n, slots, 2), dtype=np.float32)
    return ParticleArrays(features, zeros, np.zeros((n, slots, 4), dtype=np.float32), mask, ("deta", "dphi", "log_pt"))


def test_set_autoencoder_is_blind_to_order_and_padding_and_finds_two_prong_sets():
    from neyman.nn import SetAutoencoder

    net = SetAutoencoder(3, latent=4, phi=(16, 16), hidden=(32,), decoded=8).eval()
    jets = _particle_sets(5, 3, prongs=2)
    f, p, v, m = (torch.as_tensor(a) for a in jets.tensors())
    base = net(f, p, v, m)
    order = torch.randperm(40, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(net(f[:, order], p[:, order], v[:, order], m[:, order]), base, rtol=1e-5, atol=1e-6)
    garbage = torch.where(m.unsqueeze(-1) > 0, f, torch.full_like(f, 1e6))  # padded slots ignored whatever they hold
    torch.testing.assert_close(net(garbage, p, v, m), base)
    padded = [torch.cat([t, torch.zeros_like(t[:, :10])], dim=1) for t in (f, p, v, m)]  # ten more empty slots
    torch.testing.assert_close(net(*padded), base, rtol=1e-5, atol=1e-6)

    task = make_task("autoencoder")
    model = build_model(
        "set_autoencoder", task, 3, params={"latent": 4, "phi": [32, 32], "hidden": [64], "decoded": 16},
        trainer=_trainer(800, 128),
    )  # fmt: skip
    train = _particle_sets(3000, 0, prongs=1)
    model.fit(Arrays(train, np.zeros(len(train), dtype=np.int64), np.ones(len(train))))
    test = type(train).concat([_particle_sets(400, 1, prongs=1), _particle_sets(400, 2, prongs=2)])
    scores = model.predict(test)
    assert scores.shape == (800,)
    assert metrics.roc_auc(scores, np.repeat([0, 1], 400)) > 0.9


@pytest.mark.parametrize("transform", ["nsf", "maf"])
def test_a_flow_of_one_variable_starts_at_the_identity(transform):
    """zuko gives a one-variable flow raw transform parameters; drawn at random they put the NSF 13 nats off."""
    torch.manual_seed(0)
    net = DensityFlow(1, transform=transform)
    x = torch.randn(20_000, 1)
    with torch.no_grad():
        nll = -float(net(x).mean())
    assert nll == pytest.approx(0.5 * math.log(2 * math.pi * math.e), abs=0.03)  # a standard normal's entropy
