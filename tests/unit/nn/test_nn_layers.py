"""Shared pieces: masked batch norm, input helpers, FLOP counting."""

import numpy as np
import pytest
import torch

from neyman.exceptions import ConfigError, ModelError
from neyman.nn import EFN, MLP, PFN, JetCNN, MaskedBatchNorm, ParticleNet, ParticleTransformer, flops_per_jet
from neyman.nn.cnn import PRESETS as CNN_PRESETS
from neyman.nn.deepsets import EFN_PRESETS, PFN_PRESETS
from neyman.nn.layers import example_particle_inputs, keep_inputs
from neyman.nn.particlenet import PRESETS as PARTICLENET_PRESETS
from neyman.nn.transformer import PRESETS as TRANSFORMER_PRESETS


def test_masked_batch_norm_is_batch_norm_of_the_valid_entries():
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(4, 6, 3, generator=generator) * 3 + 1
    valid = torch.rand(4, 6, generator=generator) > 0.4
    x[~valid] = 1e3  # padding far off: it must not move the statistics
    masked, reference = MaskedBatchNorm(3), torch.nn.BatchNorm1d(3)
    valid_rows = x[valid]
    np.testing.assert_allclose(
        masked(x, valid)[valid].detach().numpy(), reference(valid_rows).detach().numpy(), atol=1e-5
    )
    np.testing.assert_allclose(masked.running_mean.numpy(), reference.running_mean.numpy(), rtol=1e-5)
    np.testing.assert_allclose(masked.running_var.numpy(), reference.running_var.numpy(), rtol=1e-5)
    masked.eval()
    reference.eval()
    np.testing.assert_allclose(
        masked(x, valid)[valid].detach().numpy(), reference(valid_rows).detach().numpy(), atol=1e-5
    )


def test_example_inputs_are_zero_at_padding():
    features, points, vectors, mask = example_particle_inputs(3, 5, 2, n_real=[5, 2, 0])
    assert mask.sum(dim=1).tolist() == [5, 2, 0]
    for t in (features, points, vectors):
        assert not t[mask == 0].any()
    pt = torch.hypot(vectors[..., 0], vectors[..., 1])
    assert (pt[mask > 0] > 0).all()
    with pytest.raises(ConfigError, match="n_real has 2 entries for 3 jets"):
        example_particle_inputs(3, 5, 2, n_real=[1, 2])


def test_keep_inputs_changes_no_value():
    out = torch.randn(4, 2)
    assert torch.equal(keep_inputs(out, torch.zeros(4, 7, 3), torch.zeros(4)), out)


def _flops(family, preset):
    if family == "cnn":
        return flops_per_jet(JetCNN(1, 33, 2, **CNN_PRESETS[preset]), n_jets=1)
    builders = {
        "pfn": lambda p: PFN(15, 2, **PFN_PRESETS[p]),
        "efn": lambda p: EFN(2, **EFN_PRESETS[p]),
        "particlenet": lambda p: ParticleNet(15, 2, **PARTICLENET_PRESETS[p]),
        "transformer": lambda p: ParticleTransformer(15, 2, **TRANSFORMER_PRESETS[p]),
    }
    return flops_per_jet(builders[family](preset), 100, n_jets=1)


@pytest.mark.parametrize("family", ["cnn", "pfn", "efn", "particlenet", "transformer"])
def test_full_presets_cost_more_than_lite_ones(family):
    lite, full = _flops(family, "lite"), _flops(family, "full")
    assert 0 < lite < full
    if family in ("cnn", "pfn", "efn"):
        assert lite <= 5e6


def test_flops_grow_with_constituents_and_restore_the_mode():
    net = PFN(4, 1, phi=(8, 8), f=(8,)).train()
    small, large = flops_per_jet(net, 10), flops_per_jet(net, 20)
    assert large == pytest.approx(2 * small, rel=0.05)
    assert net.training
    # Φ: 2 FLOPs per multiply-accumulate, per constituent
    assert small >= 2 * 10 * (4 * 8 + 8 * 8)


def test_flops_of_other_modules_are_refused():
    with pytest.raises(ModelError, match="MLP"):
        flops_per_jet(MLP(3, 1))


def test_masked_batch_norm_with_fewer_than_two_valid_entries_uses_running_statistics():
    norm = MaskedBatchNorm(2)
    norm.running_mean.fill_(1.0)
    x = torch.randn(3, 4, 2)
    valid = torch.zeros(3, 4, dtype=torch.bool)
    valid[1, 2] = True
    out = norm(x, valid)
    np.testing.assert_allclose(out[1, 2].detach().numpy(), ((x[1, 2] - 1.0) / (1 + 1e-5) ** 0.5).numpy(), atol=1e-6)
    assert torch.equal(norm.running_mean, torch.ones(2))
    assert norm(torch.randn(0, 2)).shape == (0, 2)
