"""The conditional jet-image generator: its representation, its draws, and what it learns on toy images."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from neyman.exceptions import ConfigError, DataError  # noqa: E402
from neyman.models import Arrays, build_model  # noqa: E402
from neyman.nn import ImageAutoregressive, ImageFlowMatching  # noqa: E402
from neyman.nn.autoregressive import LOG_SCALE_RANGE  # noqa: E402
from neyman.representations import IMAGE_OBSERVABLES, ImageSpec, image_observables  # noqa: E402
from neyman.tasks import make_task  # noqa: E402
from neyman.training import Trainer  # noqa: E402

SIZE = 8
SPEC = ImageSpec(size=SIZE, extent=0.8, normalise=False)


def _toy_images(n: int, seed: int) -> np.ndarray:
    """Jets of 2-9 particles spread by σ = 0.4·√(100/T) around the centre: harder jets are narrower."""
    rng = np.random.default_rng(seed)
    total = np.exp(rng.uniform(np.log(50.0), np.log(400.0), n))
    images = np.zeros((n, 1, SIZE, SIZE))
    sigma = 0.4 * np.sqrt(100.0 / total)
    for k in range(n):
        m = rng.integers(2, 10)
        eta, phi = rng.normal(0.0, sigma[k], (2, m))
        share = rng.dirichlet(np.full(m, 0.7)) * total[k]
        i = np.clip(((eta + 0.8) / 1.6 * SIZE).astype(int), 0, SIZE - 1)
        j = np.clip(((phi + 0.8) / 1.6 * SIZE).astype(int), 0, SIZE - 1)
        np.add.at(images[k, 0], (i, j), share)
    return images


KINDS = {
    "autoregressive": {"kind": "autoregressive", "width": 256, "blocks": 1},
    "flow_matching": {"kind": "flow_matching", "width": 64, "blocks": 2, "steps": 16},
}


def _model(steps: int = 10, kind: str = "autoregressive"):
    return build_model(
        "image_generator",
        make_task("generator"),
        1,
        params=KINDS[kind],
        image_size=SIZE,
        trainer=Trainer(epochs=None, steps=steps, batch_size=256, seed=0, progress=False, patience=0),
    )


def _arrays(images: np.ndarray) -> Arrays:
    n = len(images)
    return Arrays(x=images.astype(np.float32), y=np.zeros(n, dtype=np.int64), w=np.ones(n))


NETWORKS = {
    "autoregressive": lambda: ImageAutoregressive(1, SIZE, width=32, blocks=1),
    "flow_matching": lambda: ImageFlowMatching(1, SIZE, width=32, blocks=1, steps=4),
}


@pytest.mark.parametrize("kind", list(NETWORKS))
def test_draws_keep_the_requested_totals_are_sparse_and_reproducible(kind: str):
    net = NETWORKS[kind]().eval()
    total = torch.tensor([10.0, 500.0, 3000.0])
    a = net.sample(total, generator=torch.Generator().manual_seed(1))
    b = net.sample(total, generator=torch.Generator().manual_seed(1))
    c = net.sample(total, generator=torch.Generator().manual_seed(2))
    assert a.shape == (3, 1, SIZE, SIZE) and bool((a >= 0).all())
    torch.testing.assert_close(a.sum(dim=(1, 2, 3)), total)
    assert torch.equal(a, b) and not torch.equal(a, c)
    lit = (a > 0).flatten(1).sum(dim=1)
    assert bool((lit >= 1).all()) and bool((lit <= SIZE * SIZE).all())


@pytest.mark.parametrize("kind", list(NETWORKS))
def test_evaluation_score_does_not_depend_on_the_batch(kind: str):
    net = NETWORKS[kind]().eval()
    images = torch.as_tensor(_toy_images(20, 0), dtype=torch.float32)
    together = net(images)[:, 0]
    alone = torch.cat([net(images[k : k + 1])[:, 0] for k in range(len(images))])
    torch.testing.assert_close(together, alone)
    torch.testing.assert_close(net(images), net(images))  # no randomness in evaluation


def test_each_pixel_of_the_autoregressive_model_sees_only_the_pixels_before_it():
    net = ImageAutoregressive(1, 3, width=24, blocks=2, components=2, dropout=0.0).eval()
    for parameter in net.parameters():  # no weight left at zero: a missing dependence is the mask's doing
        torch.nn.init.normal_(parameter, std=0.3)
    x = torch.randn(1 + 3 * 9)  # the condition, then (lit, v, q) of the 9 pixels in order
    jacobian = torch.autograd.functional.jacobian(lambda z: net.outputs(z[None])[0], x)
    depends = (jacobian.abs() > 0).any(dim=1)  # (pixel, input)
    assert bool(depends[:, 0].all())  # every pixel depends on the total
    for k in range(9):
        on = depends[k, 1:].reshape(9, 3).any(dim=1)
        assert bool(on[:k].all()) and not bool(on[k:].any()), k


@torch.no_grad()
def test_the_likelihood_sums_to_one_over_the_lit_patterns_and_values_of_two_pixels():
    torch.manual_seed(3)
    net = ImageAutoregressive(2, 1, width=8, blocks=1, components=2, dropout=0.0).eval()
    for parameter in net.parameters():  # mixture widths well above the integration grid's step
        torch.nn.init.normal_(parameter, std=0.3)
    net.log_q.copy_(torch.tensor([-2.0, 0.3]))  # the second pixel's ln q: v from -inf to 0 covers q up to 1 only
    total = 100.0
    # the core (pixel 0) alone: a probability; the second pixel's value given the core is a density
    p_core = float(torch.exp(-net(torch.tensor([[total, 0.0]]).reshape(1, 2, 1, 1))))
    v = torch.linspace(-12.0, 12.0, 24_001)
    q = torch.exp(v * net.log_q[1] + net.log_q[0])
    images = torch.stack([total * (1 - q), total * q], dim=1).reshape(-1, 2, 1, 1)
    inside = q < 1  # physical images; beyond q = 1 the density's tail is counted from v (what drawing clamps)
    density = torch.exp(-net(images[inside])[:, 0].double())
    p_both = float(torch.trapezoid(density, v[inside].double()))
    tails, alone, empty = _other_patterns(net, total, float(v[0]), float(v[inside][-1]))
    assert p_core + p_both + tails + alone + empty == pytest.approx(1.0, abs=1e-4)


def _other_patterns(net: ImageAutoregressive, total: float, low: float, high: float) -> tuple[float, float, float]:
    """P(both lit, v outside [low, high]), the tails of the integral (above ``high`` drawing clamps q to 1);
    P(second alone), whose value drawing scales to the whole jet; P(neither lit), for which drawing lights
    the core."""
    c = (torch.log(torch.tensor(total)) - net.condition[0]) / net.condition[1]

    def outputs(core_lit: float) -> torch.Tensor:
        x = torch.cat([c[None], torch.tensor([core_lit, 0.0, 0.0, 0.0, 0.0, 0.0])])[None]
        return net.outputs(x)[0]

    core = torch.sigmoid(outputs(1.0)[0, 0])
    second, second_alone = outputs(1.0)[1], outputs(0.0)[1]
    k = net.components
    log_scale = second[1 + 2 * k :].clamp(*LOG_SCALE_RANGE)  # as the network bounds its widths
    weights, mean, scale = torch.softmax(second[1 : 1 + k], 0), second[1 + k : 1 + 2 * k], log_scale.exp()
    normal = torch.distributions.Normal(mean, scale)
    tail = (weights * (1 - normal.cdf(torch.tensor(high)) + normal.cdf(torch.tensor(low)))).sum()
    both = float(core * torch.sigmoid(second[0]) * tail)
    return both, float((1 - core) * torch.sigmoid(second_alone[0])), float((1 - core) * torch.sigmoid(-second_alone[0]))


# about a minute per kind on two cores: both run with --run-slow; every test run trains and draws the
# generator through the workflow (tests/integration/test_jet_taggers.py) and its unit tests below
@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_generator_learns_how_the_jet_width_mass_and_occupancy_follow_the_total(kind: str):
    torch.manual_seed(0)
    model = _model(steps=2500, kind=kind)
    model.fit(_arrays(_toy_images(6000, 1)))
    width = IMAGE_OBSERVABLES.index("width")
    lit = IMAGE_OBSERVABLES.index("lit_pixels")
    lead, mass = IMAGE_OBSERVABLES.index("leading_fraction"), IMAGE_OBSERVABLES.index("mass")
    for total in (60.0, 350.0):
        real = _toy_images(20000, 2)
        near = np.abs(np.log(real.sum(axis=(1, 2, 3)) / total)) < 0.1
        truth = image_observables(real[near], SPEC)
        drawn = model.sample(2000, context=np.full((2000, 1), total), seed=5).reshape(-1, 1, SIZE, SIZE)
        got = image_observables(drawn, SPEC)
        np.testing.assert_allclose(drawn.sum(axis=(1, 2, 3)), total, rtol=1e-5)
        assert got[:, width].mean() == pytest.approx(truth[:, width].mean(), rel=0.15), total
        assert got[:, lit].mean() == pytest.approx(truth[:, lit].mean(), rel=0.15), total
        # the sharing of the intensity between the hardest pixels, hence the jet mass
        assert got[:, lead].mean() == pytest.approx(truth[:, lead].mean(), rel=0.1), total
        assert got[:, mass].mean() == pytest.approx(truth[:, mass].mean(), rel=0.25), total
    narrow = image_observables(model.sample(2000, context=np.full((2000, 1), 350.0), seed=6), SPEC)[:, width]
    wide = image_observables(model.sample(2000, context=np.full((2000, 1), 60.0), seed=6), SPEC)[:, width]
    assert narrow.mean() < 0.8 * wide.mean()  # harder jets are narrower, as in the training images


def test_a_generator_saved_before_kinds_existed_loads_as_flow_matching(tmp_path):
    import json

    from neyman.models import Model

    model = _model(steps=5, kind="flow_matching")
    model.fit(_arrays(_toy_images(300, 4)))
    model.save(tmp_path)
    meta = json.loads((tmp_path / "model.json").read_text())
    for key in ("kind", "components", "dropout"):  # the fields a flow-matching generator did not have
        del meta["params"][key]
    (tmp_path / "model.json").write_text(json.dumps(meta))
    loaded = Model.load(tmp_path)
    assert isinstance(loaded.network, ImageFlowMatching)
    images = torch.as_tensor(_toy_images(20, 5), dtype=torch.float32)
    torch.testing.assert_close(loaded.network.eval()(images), model.network.eval()(images))


def test_generator_refuses_normalised_or_empty_images_and_bad_totals():
    images = _toy_images(50, 3)
    normalised = images / images.sum(axis=(1, 2, 3), keepdims=True)
    with pytest.raises(ConfigError, match="normalise: false"):
        _model().fit(_arrays(normalised))
    empty = images.copy()
    empty[4] = 0.0
    with pytest.raises(DataError, match="1 training images hold no intensity"):
        _model().fit(_arrays(empty))
    model = _model()
    with pytest.raises(DataError, match="give pt"):
        model.sample(3)
    with pytest.raises(DataError, match="positive and finite"):
        model.sample(2, context=np.array([[100.0], [-5.0]]))


@pytest.mark.parametrize(
    "params,named",
    [({"kind": "autoregressive", "steps": 8}, "steps: 8"), ({"kind": "flow_matching", "components": 8}, "components")],
)
def test_a_setting_of_the_other_generator_kind_is_refused(params, named):
    with pytest.raises(ConfigError, match=named):
        build_model("image_generator", make_task("generator"), 1, params=params, image_size=SIZE)


def test_image_observables_of_two_pixels_give_their_invariant_mass():
    image = np.zeros((1, 1, SIZE, SIZE))
    image[0, 0, 3, 2] = 300.0
    image[0, 0, 3, 5] = 100.0
    obs = dict(zip(IMAGE_OBSERVABLES, image_observables(image, SPEC)[0], strict=True))
    centre = -0.8 + (np.arange(SIZE) + 0.5) * 0.2
    dphi = centre[5] - centre[2]
    assert obs["mass"] == pytest.approx(np.sqrt(2 * 300.0 * 100.0 * (1 - np.cos(dphi))), rel=1e-9)
    assert obs["lit_pixels"] == 2
    assert obs["leading_fraction"] == pytest.approx(0.75)
    assert obs["second_fraction"] == pytest.approx(0.25)
