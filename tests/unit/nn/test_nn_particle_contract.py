"""The contract every particle network keeps: shapes, masking, permutations, ONNX, learning."""

import numpy as np
import pytest
import torch

from neyman.nn import EFN, PFN, ParticleModule, ParticleNet, ParticleTransformer

N_FEATURES = 5
N_OUTPUTS = 3

NETWORKS = {
    "pfn": lambda **kw: PFN(N_FEATURES, N_OUTPUTS, phi=(8, 8), f=(8,), **kw),
    "efn": lambda **kw: EFN(N_OUTPUTS, phi=(8, 8), f=(8,), **kw),
    "particlenet": lambda **kw: ParticleNet(N_FEATURES, N_OUTPUTS, k=3, edge_convs=((8, 8), (8, 8)), fc=(8,), **kw),
    "transformer": lambda **kw: ParticleTransformer(
        N_FEATURES,
        N_OUTPUTS,
        embed_dim=8,
        num_heads=2,
        num_layers=2,
        num_class_layers=1,
        ffn_ratio=2,
        pair_embed=(4,),
        particle_embed=(8,),
        **kw,
    ),
    "transformer-nopair": lambda **kw: ParticleTransformer(
        N_FEATURES, N_OUTPUTS, embed_dim=8, num_heads=2, num_layers=1, num_class_layers=1, ffn_ratio=2,
        pair_features=False, particle_embed=(), **kw,
    ),
}  # fmt: skip


def _net(name, particle_batch, **kw):
    """A tiny network with batch-norm running statistics away from their initial values."""
    torch.manual_seed(0)
    net = NETWORKS[name](**kw)
    net.train()
    with torch.no_grad():
        for seed in range(3):
            net(*particle_batch([9, 4, 1, 6], 9, N_FEATURES, seed=100 + seed))
    return net.eval()


@pytest.fixture(params=sorted(NETWORKS))
def name(request):
    return request.param


@pytest.mark.parametrize(("n_jets", "n_constituents"), [(1, 1), (1, 6), (5, 2), (5, 11)])
def test_output_shape_in_both_modes(name, particle_batch, n_jets, n_constituents):
    net = _net(name, particle_batch)
    assert isinstance(net, ParticleModule)
    assert net.INPUT_NAMES == ("features", "points", "vectors", "mask")
    n_real = [max(1, n_constituents - i) for i in range(n_jets)]
    inputs = particle_batch(n_real, n_constituents, N_FEATURES)
    for training in (False, True):
        out = net.train(training)(*inputs)
        assert out.shape == (n_jets, N_OUTPUTS)
        assert torch.isfinite(out).all()


def _pad_and_permute(inputs, extra, seed):
    """Append ``extra`` padded slots, then shuffle every jet's slots independently."""
    generator = torch.Generator().manual_seed(seed)
    padded = [torch.cat([t, torch.zeros((t.shape[0], extra, *t.shape[2:]))], dim=1) for t in inputs]
    n_jets, n = padded[3].shape
    order = torch.stack([torch.randperm(n, generator=generator) for _ in range(n_jets)])
    rows = torch.arange(n_jets).unsqueeze(1)
    return [t[rows, order] for t in padded]


def _garbage_in_padding(inputs, seed):
    generator = torch.Generator().manual_seed(seed)
    features, points, vectors, mask = (t.clone() for t in inputs)
    padded = mask == 0
    for t in (features, points, vectors):
        noise = 1e6 * torch.randn(t.shape, generator=generator)
        t[padded] = noise[padded]
    features[padded, 0] = float("nan")
    vectors[padded, 3] = float("inf")
    points[padded, 1] = -float("inf")
    return features, points, vectors, mask


def test_padding_and_permutation_change_nothing(name, particle_batch):
    net = _net(name, particle_batch)
    # ParticleNet has k=3: the jets of 1, 2 and 3 constituents have fewer than k neighbours
    inputs = particle_batch([8, 1, 2, 3, 5, 8], 8, N_FEATURES, seed=1)
    with torch.no_grad():
        reference = net(*inputs)
        for seed in range(3):
            shuffled = _pad_and_permute(inputs, extra=4 + seed, seed=seed)
            np.testing.assert_allclose(net(*shuffled).numpy(), reference.numpy(), rtol=0, atol=1e-5)
            garbage = _garbage_in_padding(shuffled, seed)
            np.testing.assert_allclose(net(*garbage).numpy(), reference.numpy(), rtol=0, atol=1e-5)


def test_training_mode_is_blind_to_padding_too(name, particle_batch):
    """Batch statistics count real constituents only, so padding does not change training either."""
    net = _net(name, particle_batch, dropout=0.0).train()
    inputs = particle_batch([8, 1, 2, 3, 5, 8], 8, N_FEATURES, seed=1)
    reference = net(*inputs).detach()
    shuffled = _garbage_in_padding(_pad_and_permute(inputs, extra=5, seed=0), seed=0)
    np.testing.assert_allclose(net(*shuffled).detach().numpy(), reference.numpy(), rtol=0, atol=1e-4)


def test_empty_jet_gives_finite_output_and_leaves_others_alone(name, particle_batch):
    net = _net(name, particle_batch)
    inputs = particle_batch([6, 3, 5], 6, N_FEATURES, seed=2)
    with_empty = particle_batch([6, 0, 3, 5], 6, N_FEATURES, seed=2)
    # the same jets, with an all-padded row inserted (in the same place for both batches)
    merged = [torch.cat([t[:1], w[1:2], t[1:]]) for t, w in zip(inputs, with_empty, strict=True)]
    merged = list(_garbage_in_padding(merged, seed=3))
    with torch.no_grad():
        expected = net(*inputs)
        out = net(*merged)
    assert torch.isfinite(out).all()
    np.testing.assert_allclose(out[[0, 2, 3]].numpy(), expected.numpy(), rtol=0, atol=1e-5)


def test_onnx_export_matches_torch_at_other_sizes(name, particle_batch, onnx_session):
    net = _net(name, particle_batch)
    run = onnx_session(net, particle_batch([12, 9], 12, N_FEATURES, seed=4))
    # more jets and fewer constituents than at export (fewer than ParticleNet's k + 1 in the second)
    for n_real, n in (([7, 3, 1, 7, 5], 7), ([2, 1, 0], 2), ([20, 13, 4], 20)):
        inputs = particle_batch(n_real, n, N_FEATURES, seed=5)
        with torch.no_grad():
            expected = net(*inputs).numpy()
        np.testing.assert_allclose(run(*inputs), expected, rtol=1e-5, atol=1e-6)


def test_an_optimisation_step_lowers_the_loss_and_reaches_every_parameter(name, particle_batch):
    torch.manual_seed(1)
    net = NETWORKS[name](dropout=0.0).train()
    inputs = particle_batch([6, 2, 5, 4, 6, 3, 1, 5], 6, N_FEATURES, seed=6)
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)

    def loss():
        return torch.nn.functional.cross_entropy(net(*inputs), labels)

    before = loss()
    optimiser.zero_grad()
    before.backward()
    for parameter_name, parameter in net.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, parameter_name
    optimiser.step()
    assert loss().item() < before.item()


def test_mixed_precision_stays_finite_and_close(name, particle_batch):
    net = _net(name, particle_batch)
    inputs = particle_batch([8, 1, 2, 0], 8, N_FEATURES, seed=7)
    with torch.no_grad():
        reference = net(*inputs)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        evaluated = net(*inputs)
        net.train()
        trained = net(*inputs)
    trained.float().sum().backward()
    assert torch.isfinite(trained).all()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)
    np.testing.assert_allclose(evaluated.detach().float().numpy(), reference.numpy(), atol=0.05)
