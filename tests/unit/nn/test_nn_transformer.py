"""The particle transformer: pairwise features, attention bias, hyper-parameter checks."""

import math

import numpy as np
import pytest
import torch

from neyman.exceptions import ConfigError
from neyman.nn import ParticleTransformer
from neyman.nn.layers import MaskedBatchNorm
from neyman.nn.transformer import MIN_DELTA_R, PRESETS, pair_features


def _four_vector(pt, eta, phi, mass):
    px, py = pt * math.cos(phi), pt * math.sin(phi)
    pz = pt * math.sinh(eta)
    energy = math.sqrt(px**2 + py**2 + pz**2 + mass**2)
    return [px, py, pz, energy]


def test_pair_features_follow_their_definitions():
    a, b = (30.0, 0.4, 3.1, 0.14), (10.0, -0.2, -3.0, 0.0)  # Δφ wraps around ±π
    vectors = torch.tensor([[_four_vector(*a), _four_vector(*b), [0.0, 0.0, 0.0, 0.0]]], dtype=torch.float64)
    got = pair_features(vectors)
    assert got.shape == (1, 3, 3, 4)
    pa, pb = np.array(_four_vector(*a)), np.array(_four_vector(*b))
    rapidity = [0.5 * math.log((p[3] + p[2]) / (p[3] - p[2])) for p in (pa, pb)]
    delta_phi = 3.1 - (-3.0) - 2 * math.pi
    delta_r = math.hypot(rapidity[0] - rapidity[1], delta_phi)
    total = pa + pb
    expected = [
        math.log(delta_r),
        math.log(10.0 * delta_r),
        math.log(10.0 / 40.0),
        math.log(total[3] ** 2 - (total[:3] ** 2).sum()),
    ]
    np.testing.assert_allclose(got[0, 0, 1].numpy(), expected, rtol=1e-9)
    np.testing.assert_allclose(got[0, 1, 0].numpy(), expected, rtol=1e-9)
    # pairs with padding and self-pairs stay finite (ΔR at its floor, the others at the 1e-8 floor of the logarithms)
    assert torch.isfinite(got).all()
    assert got[0, 0, 0, 0] == pytest.approx(math.log(MIN_DELTA_R))
    assert got[0, 0, 2, 2] == pytest.approx(math.log(1e-8))


def test_near_collinear_pairs_of_a_hard_and_a_soft_particle_are_exact_in_float32():
    """m^2 = 2 pT1 pT2 (cosh Δη - cos Δφ) ~ 2e-4 GeV^2 beside E^2 ~ 1e5: the difference E^2 - p^2 of the pair
    was float32 rounding (ln m^2 off by up to 16); the features now agree with their float64 definitions."""
    rng = np.random.default_rng(3)
    pairs = []
    for _ in range(50):
        eta, phi, dr = rng.uniform(-2, 2), rng.uniform(-3, 3), 10 ** rng.uniform(-3.5, -1)
        angle = rng.uniform(0, 2 * math.pi)
        hard = _four_vector(rng.uniform(100, 800), eta, phi, 0.0)
        soft = _four_vector(rng.uniform(0.5, 5), eta + dr * math.cos(angle), phi + dr * math.sin(angle), 0.0)
        pairs.append([hard, soft])
    wide = torch.tensor(pairs, dtype=torch.float64)
    mass2 = (2 * (wide[:, 0, 3] * wide[:, 1, 3] - (wide[:, 0, :3] * wide[:, 1, :3]).sum(-1))).numpy()
    got = pair_features(wide.float()).double()
    np.testing.assert_allclose(got[:, 0, 1, 3].numpy(), np.log(mass2), atol=2e-3)
    np.testing.assert_allclose(got[:, 0, 1].numpy(), pair_features(wide)[:, 0, 1].numpy(), atol=2e-3)


def test_pair_features_are_finite_for_zero_momenta_in_float32():
    got = pair_features(torch.zeros(2, 4, 4))
    assert torch.isfinite(got).all()


def _net(**kw):
    torch.manual_seed(0)
    options = {"embed_dim": 8, "num_heads": 2, "num_layers": 1, "num_class_layers": 1, "ffn_ratio": 2}
    return ParticleTransformer(5, 2, **{**options, "pair_embed": (4,), "particle_embed": (8,), **kw}).eval()


def test_pairwise_bias_reads_vectors_and_only_them(particle_batch):
    features, points, vectors, mask = particle_batch([6, 4], 6, seed=1)
    with torch.no_grad():
        with_pairs, without = _net(), _net(pair_features=False)
        boosted = vectors.clone()
        boosted[..., :3] *= 1.7  # changes every pair's kT and m^2
        assert not torch.allclose(
            with_pairs(features, points, boosted, mask), with_pairs(features, points, vectors, mask)
        )
        assert torch.equal(without(features, points, boosted, mask), without(features, points, vectors, mask))
        # points are never read
        assert torch.equal(with_pairs(features, points + 1, vectors, mask), with_pairs(features, points, vectors, mask))


def test_training_path_on_real_pairs_matches_the_dense_evaluation_path(particle_batch, monkeypatch):
    """Without batch statistics and dropout, training (real pairs only) and evaluation agree."""
    monkeypatch.setattr(MaskedBatchNorm, "forward", lambda self, x, valid=None: x * self.weight + self.bias)
    net = _net(dropout=0.0, pair_embed=(6, 6))
    inputs = particle_batch([7, 2, 4, 1, 0], 7, seed=3)
    np.testing.assert_allclose(net.train()(*inputs).detach().numpy(), net.eval()(*inputs).detach().numpy(), atol=1e-6)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_build(particle_batch, preset):
    net = ParticleTransformer(5, 3, **PRESETS[preset]).eval()
    assert net(*particle_batch([7, 2], 7)).shape == (2, 3)


def test_lite_preset_is_the_requested_size():
    lite = PRESETS["lite"]
    assert (lite["embed_dim"], lite["num_heads"], lite["num_layers"], lite["num_class_layers"]) == (64, 4, 3, 1)
    assert lite["pair_embed"] == (32, 32)


def test_bad_hyper_parameters_are_named():
    with pytest.raises(ConfigError, match=r"embed_dim \(10\) must be divisible by num_heads \(4\)"):
        ParticleTransformer(5, 2, embed_dim=10, num_heads=4)
    with pytest.raises(ConfigError, match="num_class_layers"):
        ParticleTransformer(5, 2, num_class_layers=0)
    with pytest.raises(ConfigError, match="num_layers"):
        ParticleTransformer(5, 2, num_layers=-1)
    with pytest.raises(ConfigError, match="pair_embed"):
        ParticleTransformer(5, 2, pair_embed=())


def test_attention_dropout_defaults_to_dropout_and_is_set_apart(particle_batch):
    """``attention_dropout`` alone randomises the attention weights; the CPU presets switch it off."""
    inputs = particle_batch([6, 3], 6, seed=2)

    def spread(**dropouts):
        torch.manual_seed(0)
        net = _net(**dropouts).train()
        return (net(*inputs) - net(*inputs)).abs().max().item()

    assert spread(dropout=0.0) == 0.0
    assert spread(dropout=0.0, attention_dropout=0.5) > 0.0
    assert spread(dropout=0.5) > 0.0  # attention weights follow ``dropout``
    attention = [m for m in _net(dropout=0.3).modules() if type(m).__name__ == "_Attention"]
    assert attention and all(isinstance(m.dropout, torch.nn.Dropout) and m.dropout.p == 0.3 for m in attention)
    assert PRESETS["tiny"]["attention_dropout"] == PRESETS["lite"]["attention_dropout"] == 0.0
    assert "attention_dropout" not in PRESETS["full"]  # the paper's network keeps 0.1 on its weights
    with pytest.raises(ConfigError, match="dropout"):
        ParticleTransformer(5, 2, attention_dropout=1.0)
