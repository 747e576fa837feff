"""Mass decorrelation: distance correlation, planing, DDT, the sculpting measure and the trained objectives."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from neyman.exceptions import ConfigError, DataError, ModelError
from neyman.metrics import distance_correlation, jensen_shannon, roc_auc, sculpting, sculpting_frontier
from neyman.metrics.closure import comparison_edges
from neyman.models import Arrays, build_model
from neyman.physics.ddt import DDT, QuantileDDT, rho_prime
from neyman.preprocessing import planing_weights
from neyman.tasks import make_task
from neyman.testing import mass_sculpting_dataset
from neyman.training import Trainer
from neyman.training.decorrelation import Decorrelation, distance_correlation_loss


def _reference_dcov2(x: np.ndarray, y: np.ndarray, p: np.ndarray) -> float:
    """dCov² from its definition by expectations over independent copies (Székely et al. 2007):
    E|X-X'||Y-Y'| + E|X-X'| E|Y-Y'| - 2 E|X-X'||Y-Y''|, with the weights as probabilities."""
    a = np.abs(x[:, None] - x[None, :])
    b = np.abs(y[:, None] - y[None, :])
    term1 = sum(p[i] * p[j] * a[i, j] * b[i, j] for i in range(len(x)) for j in range(len(x)))
    term2 = (p @ a @ p) * (p @ b @ p)
    term3 = sum(
        p[i] * p[j] * p[k] * a[i, j] * b[i, k] for i in range(len(x)) for j in range(len(x)) for k in range(len(x))
    )
    return float(term1 + term2 - 2 * term3)


def test_distance_correlation_matches_the_definition_with_weights() -> None:
    gen = np.random.default_rng(3)
    x = gen.normal(size=12)
    y = x**2 + 0.3 * gen.normal(size=12)
    w = gen.uniform(0.2, 2.0, size=12)
    p = w / w.sum()
    expected = _reference_dcov2(x, y, p) / np.sqrt(_reference_dcov2(x, x, p) * _reference_dcov2(y, y, p))
    assert distance_correlation(x, y, w) == pytest.approx(expected, rel=1e-10)
    got = distance_correlation_loss(torch.tensor(x), torch.tensor(y), torch.tensor(w))
    assert float(got) == pytest.approx(expected, rel=1e-8)


def test_distance_correlation_is_one_for_a_linear_map_and_zero_for_independent_variables() -> None:
    gen = np.random.default_rng(4)
    x = gen.normal(size=3000)
    assert distance_correlation(x, 3.0 * x - 1.0) == pytest.approx(1.0, abs=1e-9)
    independent = distance_correlation(x, gen.normal(size=3000))
    assert independent < 0.003  # the V-statistic's bias is O(1/n)
    # a dependence that Pearson's correlation misses
    assert distance_correlation(x, x**2) > 0.1 > abs(np.corrcoef(x, x**2)[0, 1])


def test_distance_correlation_refuses_bad_input() -> None:
    with pytest.raises(DataError, match="non-negative"):
        distance_correlation([1.0, 2.0, 3.0], [1.0, 0.0, 2.0], [1.0, -1.0, 1.0])
    with pytest.raises(DataError, match="finite"):
        distance_correlation([1.0, np.nan], [1.0, 2.0])


def test_jensen_shannon_bounds() -> None:
    assert jensen_shannon([1, 2, 3], [2, 4, 6]) == pytest.approx(0.0, abs=1e-12)
    assert jensen_shannon([1, 0], [0, 1]) == pytest.approx(1.0)


def test_planing_flattens_each_class_and_keeps_its_total() -> None:
    table = mass_sculpting_dataset(20_000, seed=2)
    mass, labels = np.asarray(table["mass"]), np.asarray(table["label"])
    w = np.ones(len(mass))
    planed = planing_weights(mass, labels, w, bins=10)
    edges = np.linspace(*np.quantile(mass, [0.005, 0.995]), 11)
    for c in (0, 1):
        sel = labels == c
        assert planed[sel].sum() == pytest.approx(sel.sum())
        clipped = np.clip(mass[sel], edges[0], edges[-1] - 1e-9)  # outside the range: the outer bins
        content, _ = np.histogram(clipped, bins=edges, weights=planed[sel])
        populated = content[np.histogram(clipped, bins=edges)[0] > 50]
        # flat where the class has events (capped bins aside)
        assert np.ptp(populated) / populated.mean() < 0.35
    # negative weights keep their sign; a bin of one class with no events keeps its weights
    signed = planing_weights(mass, labels, np.where(np.arange(len(mass)) % 10 == 0, -0.2, 1.0), bins=10)
    assert np.all(np.sign(signed) == np.where(np.arange(len(mass)) % 10 == 0, -1.0, 1.0))


def test_ddt_removes_the_linear_trend_of_the_background() -> None:
    gen = np.random.default_rng(5)
    mass = gen.uniform(20, 200, size=20_000)
    pt = gen.uniform(250, 300, size=20_000)
    tau21 = 0.3 + 0.08 * rho_prime(mass, pt) + 0.05 * gen.normal(size=20_000)
    fit = DDT.fit(tau21, mass, pt)
    assert fit.slope == pytest.approx(0.08, abs=0.003)
    corrected = fit.apply(tau21, mass, pt)
    assert abs(np.corrcoef(corrected, rho_prime(mass, pt))[0, 1]) < 0.02
    with pytest.raises(DataError, match="positive"):
        rho_prime([0.0], [300.0])


def test_quantile_ddt_keeps_its_quantile_of_the_background_at_every_mass() -> None:
    gen = np.random.default_rng(8)
    mass = gen.uniform(20, 200, size=40_000)
    pt = gen.uniform(250, 300, size=40_000)
    tau21 = 0.6 + 0.1 * np.sin(QuantileDDT.rho(mass, pt)) + 0.1 * gen.normal(size=40_000)  # not linear
    fit = QuantileDDT.fit(tau21, mass, pt, quantile=0.1, bins=20)
    passed = fit.apply(tau21, mass, pt) < 0
    for low in (20, 60, 100, 140, 180):
        window = (mass >= low) & (mass < low + 20)
        assert passed[window].mean() == pytest.approx(0.1, abs=0.02)
    with pytest.raises(DataError, match="quantile"):
        QuantileDDT.fit(tau21, mass, pt, quantile=1.5)


def test_sculpting_sees_a_mass_cut_and_not_an_independent_one() -> None:
    table = mass_sculpting_dataset(40_000, seed=6)
    mass, labels = np.asarray(table["mass"]), np.asarray(table["label"])
    independent = sculpting(np.asarray(table["shape"]), labels, mass, efficiencies=(0.5,))[0]
    window = sculpting(-np.abs(mass - 80.0), labels, mass, efficiencies=(0.5,))[0]
    assert window.jsd > 0.3 and independent.jsd < 0.01
    assert independent.inverse_jsd > 30 * window.inverse_jsd
    # the same background fraction passes as the cut's rejection says
    assert independent.background_efficiency == pytest.approx(1.0 / independent.rejection)


def _toy(method: str | None, strength: float = 10.0) -> tuple[float, float, float]:
    """A small MLP on the sculpting toy: (AUC, background dCorr², the adversary's last loss)."""
    table = mass_sculpting_dataset(16_000, seed=1)
    x = table.to_numpy(["shape", "mass_proxy", "noise"], dtype=np.float64)
    x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
    y, m, w = np.asarray(table["label"]), np.asarray(table["mass"]), np.ones(len(table))
    deco = None if method is None else Decorrelation(method, strength, bins=10)
    trainer = Trainer(epochs=12, batch_size=256, seed=0, progress=False)
    model = build_model("mlp", make_task("binary"), 3, params={"hidden": [32, 32]}, trainer=trainer, decorrelation=deco)
    tr, va, te = slice(0, 8000), slice(8000, 11000), slice(11000, None)
    model.fit(Arrays(x[tr], y[tr], w[tr], m[tr]), Arrays(x[va], y[va], w[va], m[va]))
    s = model.predict(x[te])
    bkg = y[te] == 0
    return roc_auc(s, y[te]), distance_correlation(s[bkg], m[te][bkg]), float(model.history.columns["val_loss"][-1])


def _bernoulli_jsd(a: float, b: float) -> float:
    return jensen_shannon([a, 1 - a], [b, 1 - b])


def test_the_sculpting_frontier_matches_the_window_model_in_closed_form() -> None:
    """Background flat in the mass, signal in a window of 6 of the 30 bins, score ROC g(e) = 1 - (1 - e)^8 there.

    At ε_S = 50% the window passes e_in = 1 - 2^(-1/8) of its background; the best selection
    under JSD ≤ J passes the largest window share P of its background with
    JSD((P, 1 - P), (q_in, 1 - q_in)) ≤ J, so 1/ε_B = P / (q_in e_in).
    """
    rng = np.random.default_rng(5)
    n_b, n_s = 200_000, 50_000
    mb = rng.uniform(0.0, 1.0, n_b)
    edges = comparison_edges(mb, bins=30)
    ms = rng.uniform(edges[12], edges[18], n_s)
    scores = np.concatenate([rng.uniform(size=n_b), rng.uniform(size=n_s) ** (1 / 8)])
    labels = np.r_[np.zeros(n_b), np.ones(n_s)]
    mass = np.r_[mb, ms]
    q_in = float(np.mean((mb >= edges[12]) & (mb < edges[18])))
    e_in = 1 - 0.5 ** (1 / 8)
    caps = (1.0, 0.1, 0.02, 0.005)
    points = sculpting_frontier(scores, labels, mass, jsd_caps=caps)
    for cap, point in zip(caps, points, strict=True):
        low, high = q_in, 1.0  # the largest window share within the cap, by bisection
        for _ in range(60):
            mid = 0.5 * (low + high)
            low, high = (mid, high) if _bernoulli_jsd(mid, q_in) <= cap else (low, mid)
        expected = low / (q_in * e_in)
        assert point.rejection == pytest.approx(expected, rel=0.05), (cap, point, expected)
        assert point.jsd <= cap * 1.01
    rejections = [p.rejection for p in points]
    assert rejections == sorted(rejections, reverse=True)  # less sculpting allowed, less rejection
    one_cut = sculpting(scores, labels, mass, efficiencies=(0.5,))[0]
    assert points[0].rejection >= one_cut.rejection * 0.98  # one threshold everywhere is one of the selections


def test_the_sculpting_frontier_never_falls_as_the_bound_loosens() -> None:
    """A looser bound admits every selection of a tighter one (SLSQP alone ranked 0.5 below 0.3 here)."""
    rng = np.random.default_rng(3)
    n = 40_000
    y = rng.random(n) < 0.4
    mass = np.where(y, rng.normal(80, 10, n), rng.exponential(60, n) + 30)
    scores = np.round(rng.normal(size=n) + 1.5 * y - 0.01 * np.abs(mass - 80), 2)  # ties, as binned scores have
    caps = (1.0, 0.7, 0.5, 0.3, 0.2, 0.1, 0.05)
    points = sculpting_frontier(scores, y.astype(int), mass, rng.uniform(0.5, 1.5, n), jsd_caps=caps)
    assert [p.jsd_cap for p in points] == list(caps)  # in the order asked
    rejections = [p.rejection for p in points]
    assert rejections == sorted(rejections, reverse=True), rejections
    assert rejections[0] > 1.5 * rejections[-1]  # and the bound matters on these events
    assert all(p.jsd <= p.jsd_cap * 1.01 for p in points)


def test_the_sculpting_frontier_refuses_bad_input() -> None:
    scores, labels, mass = np.array([0.1, 0.9, 0.4]), np.array([0, 1, 0]), np.array([1.0, 2.0, 3.0])
    with pytest.raises(DataError, match="non-negative"):
        sculpting_frontier(scores, labels, mass, np.array([1.0, -1.0, 1.0]), jsd_caps=(0.1,))
    with pytest.raises(DataError, match="efficiency"):
        sculpting_frontier(scores, labels, mass, jsd_caps=(0.1,), efficiency=1.0)
    with pytest.raises(DataError, match="finite"):
        sculpting_frontier(scores, labels, np.array([1.0, np.nan, 3.0]), jsd_caps=(0.1,))
    with pytest.raises(DataError, match="positive number"):
        sculpting_frontier(scores, labels, mass, jsd_caps=(0.1, 0.0))


@pytest.mark.parametrize("method", ["disco", "adversary"])
def test_decorrelated_toy_tagger_is_independent_of_the_mass(method: str) -> None:
    auc0, dcorr0, _ = _toy(None)
    auc, dcorr, _ = _toy(method)
    assert dcorr0 > 0.08  # the plain tagger uses the mass proxy
    assert dcorr < dcorr0 / 3
    # what remains is the mass-independent feature's separation, AUC Φ(1.2/√2) = 0.80
    assert auc > 0.75 and auc < auc0


def test_decorrelation_refuses_other_tasks_and_missing_variables() -> None:
    with pytest.raises(ConfigError, match="binary"):
        build_model("mlp", make_task("regression"), 3, decorrelation=Decorrelation("disco", 1.0))
    with pytest.raises(ConfigError, match="networks"):
        build_model("xgboost", make_task("binary"), 3, decorrelation=Decorrelation("disco", 1.0))
    with pytest.raises(ConfigError, match="disco or adversary"):
        Decorrelation("planing", 1.0)
    model = build_model("mlp", make_task("binary"), 2, decorrelation=Decorrelation("disco", 1.0))
    arrays = Arrays(np.zeros((10, 2), np.float32), np.arange(10) % 2, np.ones(10))
    with pytest.raises(ModelError, match="variable"):
        model.fit(arrays)
    # background that carries no positive weight leaves nothing to decorrelate: the column is named
    spec = Decorrelation("adversary", 10.0, variable="fj_mass")
    labels = np.arange(10) % 2
    with pytest.raises(DataError, match="'fj_mass': the training split has 0 such events"):
        spec.objective(np.arange(10.0), labels, np.where(labels == 0, -1.0, 1.0))


def test_the_batch_penalty_of_independent_variables_is_a_small_sample_floor_of_order_one_over_n() -> None:
    gen = torch.Generator().manual_seed(0)

    def floor(n: int) -> float:
        pairs = [(torch.rand(n, generator=gen), torch.randn(n, generator=gen)) for _ in range(200)]
        return float(torch.stack([distance_correlation_loss(s, m, torch.ones(n)) for s, m in pairs]).mean())

    small, large = floor(64), floor(512)
    # dCorr² of independent variables is 0, its V-statistic on n events about 2.8/n: on the 64
    # background events of a 128-event batch the floor (≈ 0.04) dwarfs what a decorrelated tagger
    # reaches (dCorr² ≈ 0.001), hence the larger batches of decorrelation_batch_size
    assert small == pytest.approx(2.8 / 64, rel=0.25) and large == pytest.approx(2.8 / 512, rel=0.25)


def test_decorrelated_trainings_are_planned_with_large_batches(tmp_path) -> None:
    from neyman.config import RunConfig
    from neyman.training.decorrelation import decorrelation_batch_size
    from neyman.workflows.steps.models import make_model

    def batch(n_train: int = 36_000, **training: object) -> int | None:
        cfg = RunConfig.model_validate(
            {
                "data": {"sources": [{"path": "x.parquet"}], "label_column": "label", "features": ["a", "b"]},
                "model": {"type": "mlp"},
                "training": training,
            }
        )
        model = make_model(cfg, make_task("binary"), 2, tmp_path, n_train=n_train)
        return model.trainer.batch_size  # type: ignore[attr-defined]

    for method in ("disco", "adversary"):
        assert batch(decorrelate={"variable": "m", "method": method}) == 1024
        assert batch(decorrelate={"variable": "m", "method": method}, batch_size=100) == 100  # given: kept
        # a small sample keeps 16 steps per epoch
        assert batch(4800, decorrelate={"variable": "m", "method": method}) == 256
    assert [decorrelation_batch_size(n) for n in (100, 600, 4800, 16_384, 10**6)] == [32, 32, 256, 1024, 1024]
    assert batch() is None  # planned from the sample size by the trainer
    assert batch(decorrelate={"variable": "m", "method": "planing"}) is None  # weights only
