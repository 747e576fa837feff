"""ParticleNet's pieces: neighbour search, batched gather, the EdgeConv edge function."""

import numpy as np
import pytest
import torch

from neyman.exceptions import ConfigError
from neyman.nn import ParticleNet
from neyman.nn.layers import MaskedBatchNorm
from neyman.nn.particlenet import PRESETS, EdgeConv, nearest_neighbours


def test_nearest_neighbours_match_brute_force_and_skip_padding_and_self():
    generator = torch.Generator().manual_seed(0)
    coordinates = torch.randn(3, 9, 2, generator=generator)
    valid = torch.arange(9).unsqueeze(0) < torch.tensor([[9], [6], [3]])
    coordinates[~valid] = 0.0  # padding at the origin, among the real points
    found = nearest_neighbours(coordinates, valid, k=4)
    assert found.shape == (3, 9, 4)
    for b in range(3):
        real = torch.nonzero(valid[b]).flatten().tolist()
        for i in real:
            others = [j for j in real if j != i]
            distance = {j: float(((coordinates[b, i] - coordinates[b, j]) ** 2).sum()) for j in others}
            expected = sorted(others, key=distance.get)[:4]
            got = found[b, i].tolist()
            assert set(expected) <= set(got)
            # with fewer than k + 1 real constituents the rest are padding or the point itself
            assert all(j in expected or not valid[b, j] or j == i for j in got)


def test_fewer_constituents_than_k_returns_them_all():
    coordinates = torch.randn(2, 3, 2)
    found = nearest_neighbours(coordinates, torch.ones(2, 3, dtype=torch.bool), k=16)
    assert found.shape == (2, 3, 3)
    assert sorted(found[0, 0].tolist()) == [0, 1, 2]


def test_edge_function_is_the_concatenated_edge_features():
    """The factorised first layer equals W (x_i, x_j - x_i) on explicit edge features."""
    torch.manual_seed(0)
    block = EdgeConv(4, (6,), k=3).eval()
    x = torch.randn(2, 7, 4)
    coordinates = torch.randn(2, 7, 2)
    valid = torch.ones(2, 7, dtype=torch.bool)
    neighbours = nearest_neighbours(coordinates, valid, 3)
    centre = x.unsqueeze(2).expand(-1, -1, 3, -1)
    neighbour = torch.stack([x[b][neighbours[b]] for b in range(2)])
    edges = torch.cat([centre, neighbour - centre], dim=-1)
    h = torch.relu(block.norms[0](block.edge(edges)))
    shortcut = block.shortcut_norm(block.shortcut(x), valid)
    expected = torch.relu(h.mean(dim=2) + shortcut)
    with torch.no_grad():
        np.testing.assert_allclose(block(coordinates, x, valid).numpy(), expected.detach().numpy(), atol=1e-6)


def test_training_path_on_real_edges_matches_the_dense_evaluation_path(particle_batch, monkeypatch):
    """Without batch statistics, training (real edges gathered) and evaluation (all edges) agree."""
    monkeypatch.setattr(MaskedBatchNorm, "forward", lambda self, x, valid=None: x * self.weight + self.bias)
    torch.manual_seed(0)
    net = ParticleNet(5, 2, k=3, edge_convs=((6, 6), (6,)), fc=(4,), dropout=0.0)
    inputs = particle_batch([7, 2, 4, 1, 0], 7, seed=3)
    np.testing.assert_allclose(net.train()(*inputs).detach().numpy(), net.eval()(*inputs).detach().numpy(), atol=1e-6)


def test_first_block_uses_points_later_blocks_features(particle_batch):
    torch.manual_seed(0)
    net = ParticleNet(5, 2, k=2, edge_convs=((8,),), fc=()).eval()
    features, points, vectors, mask = particle_batch([6, 6], 6, seed=1)
    with torch.no_grad():
        reference = net(features, points, vectors, mask)
        # a translation keeps every neighbour; vectors are not read
        assert torch.allclose(net(features, points + 3.0, 2 * vectors, mask), reference, atol=1e-5)
        assert not torch.allclose(net(features, points * torch.tensor([1.0, -5.0]), vectors, mask), reference)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_build(particle_batch, preset):
    net = ParticleNet(5, 2, **PRESETS[preset]).eval()
    assert net(*particle_batch([20, 3], 20)).shape == (2, 2)


def test_lite_preset_is_the_papers():
    assert PRESETS["lite"] == {"k": 7, "edge_convs": ((32, 32, 32), (64, 64, 64)), "fc": (128,), "dropout": 0.1}


def test_bad_hyper_parameters_are_named():
    with pytest.raises(ConfigError, match="k must be a positive integer"):
        ParticleNet(5, 2, k=0)
    with pytest.raises(ConfigError, match="at least one EdgeConv"):
        ParticleNet(5, 2, edge_convs=())
    with pytest.raises(ConfigError, match="edge_convs needs at least one layer width"):
        ParticleNet(5, 2, edge_convs=((8,), ()))
