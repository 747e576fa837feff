"""Particle and Energy Flow Networks: what the Deep Sets construction guarantees."""

import numpy as np
import pytest
import torch

from neyman.exceptions import ConfigError
from neyman.nn import EFN, PFN
from neyman.nn.deepsets import EFN_PRESETS, PFN_PRESETS


def _efn():
    torch.manual_seed(0)
    return EFN(2, phi=(16, 16), f=(16,)).eval()


def _insert(inputs, position, features, points, vectors):
    """The jets with one more real constituent at ``position``."""
    new = (features, points, vectors, torch.ones(inputs[3].shape[0]))
    return [
        torch.cat([t[:, :position], n.unsqueeze(1), t[:, position:]], dim=1) for t, n in zip(inputs, new, strict=True)
    ]


@pytest.mark.parametrize("position", [0, 3, 6])
def test_efn_is_infrared_safe(particle_batch, position):
    net = _efn()
    inputs = particle_batch([6, 4, 2], 6, seed=1)
    soft_points = torch.tensor([[0.4, -0.7], [-0.2, 0.1], [0.05, 0.3]])
    soft = _insert(inputs, position, torch.randn(3, 5), soft_points, torch.zeros(3, 4))
    with torch.no_grad():
        np.testing.assert_allclose(net(*soft).numpy(), net(*inputs).numpy(), rtol=0, atol=1e-6)


def test_efn_is_collinear_safe(particle_batch):
    net = _efn()
    inputs = particle_batch([6, 4, 2], 6, seed=2)
    features, points, vectors, mask = inputs
    # split constituent 1 of every jet into two halves flying in the same direction
    halves = [features, points, vectors.clone(), mask]
    halves[2][:, 1] /= 2
    split = _insert(halves, 2, features[:, 1], points[:, 1], halves[2][:, 1])
    with torch.no_grad():
        np.testing.assert_allclose(net(*split).numpy(), net(*inputs).numpy(), rtol=0, atol=1e-5)


def test_efn_reads_energy_fractions_and_angles_only(particle_batch):
    net = _efn()
    features, points, vectors, mask = particle_batch([6, 4, 2], 6, seed=3)
    with torch.no_grad():
        reference = net(features, points, vectors, mask)
        # scaling every momentum leaves the fractions z_i alone; features are not read
        same = net(torch.randn_like(features), points, 7.5 * vectors, mask)
        moved = net(features, points + 0.1, vectors, mask)
    np.testing.assert_allclose(same.numpy(), reference.numpy(), rtol=1e-5, atol=1e-6)
    assert not torch.allclose(moved, reference)


def test_pfn_is_not_collinear_safe(particle_batch):
    """The contrast that makes the EFN test meaningful: a sum over Φ(features) counts particles."""
    torch.manual_seed(0)
    net = PFN(5, 2, phi=(16, 16), f=(16,)).eval()
    inputs = particle_batch([6, 4, 2], 6, seed=2)
    split = _insert(inputs, 2, inputs[0][:, 1], inputs[1][:, 1], inputs[2][:, 1] / 2)
    with torch.no_grad():
        assert not torch.allclose(net(*split), net(*inputs), atol=1e-4)


@pytest.mark.parametrize("preset", sorted(PFN_PRESETS))
def test_presets_build(particle_batch, preset):
    inputs = particle_batch([5, 3], 5, n_features=7)
    assert PFN(7, 2, **PFN_PRESETS[preset]).eval()(*inputs).shape == (2, 2)
    assert EFN(2, **EFN_PRESETS[preset]).eval()(*inputs).shape == (2, 2)


def test_bad_hyper_parameters_are_named():
    with pytest.raises(ConfigError, match="phi needs at least one"):
        PFN(5, 2, phi=())
    with pytest.raises(ConfigError, match="did you mean 'relu'"):
        EFN(2, activation="rellu")
    with pytest.raises(ConfigError, match="dropout"):
        PFN(5, 2, dropout=1.0)
    with pytest.raises(ConfigError, match="n_features"):
        PFN(0, 2)
    with pytest.raises(ConfigError, match="positive integer widths"):
        EFN(2, f=(10, 0))
