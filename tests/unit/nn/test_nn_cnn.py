"""The jet-image CNN: shapes, presets, export with a dynamic batch, learning."""

import warnings

import numpy as np
import pytest
import torch

from neyman.exceptions import ConfigError
from neyman.nn import JetCNN
from neyman.nn.cnn import PRESETS


def _net(**kw):
    torch.manual_seed(0)
    options = {"channels": (4, 4), "kernel_size": 3, "dense": (8,)}
    return JetCNN(2, 9, 3, **{**options, **kw})


@pytest.mark.parametrize("n_jets", [1, 5])
@pytest.mark.parametrize("kernel_size", [3, 4, (5, 2)])
def test_output_shape(n_jets, kernel_size):
    net = _net(kernel_size=kernel_size)
    for training in (True, False):
        assert net.train(training)(torch.rand(n_jets, 2, 9, 9)).shape == (n_jets, 3)


def test_even_kernels_pad_like_torch_same_padding():
    net = _net(kernel_size=4, batch_norm=False)
    image = torch.rand(2, 2, 9, 9)
    conv = net.features[0]
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*even kernel lengths.*")
        expected = torch.nn.functional.conv2d(image, conv.weight, conv.bias, padding="same")
    torch.testing.assert_close(net.features[1](conv(image)), expected)


def test_rectangular_images_and_no_dense_layer():
    net = JetCNN(1, (9, 14), 2, channels=(3,), dense=())
    assert net(torch.rand(2, 1, 9, 14)).shape == (2, 2)


@pytest.mark.parametrize("preset", sorted(PRESETS))
def test_presets_take_the_default_33_pixel_image(preset):
    net = JetCNN(1, 33, 2, **PRESETS[preset]).eval()
    assert net(*net.example_inputs(3)).shape == (3, 2)


@pytest.mark.parametrize("kernel_size", [3, (4, 2)])
def test_onnx_export_matches_torch_at_another_batch_size(onnx_session, kernel_size):
    net = _net(batch_norm=True, dropout=0.2, kernel_size=kernel_size).train()
    with torch.no_grad():
        net(torch.rand(8, 2, 9, 9))  # batch-norm running statistics away from their start
    net.eval()
    run = onnx_session(net, net.example_inputs(2))
    image = torch.rand(7, 2, 9, 9)
    with torch.no_grad():
        expected = net(image).numpy()
    np.testing.assert_allclose(run(image), expected, rtol=1e-5, atol=1e-6)


def test_an_optimisation_step_lowers_the_loss_and_reaches_every_parameter():
    net = _net(batch_norm=True).train()
    images = torch.rand(8, 2, 9, 9, generator=torch.Generator().manual_seed(1))
    labels = torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    optimiser = torch.optim.Adam(net.parameters(), lr=1e-3)
    before = torch.nn.functional.cross_entropy(net(images), labels)
    optimiser.zero_grad()
    before.backward()
    for name, parameter in net.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
    optimiser.step()
    assert torch.nn.functional.cross_entropy(net(images), labels).item() < before.item()


def test_bad_hyper_parameters_are_named():
    with pytest.raises(ConfigError, match="kernel_size has 2 entries for 3"):
        JetCNN(1, 33, 2, channels=(4, 4, 4), kernel_size=(3, 3))
    with pytest.raises(ConfigError, match="channels needs at least one"):
        JetCNN(1, 33, 2, channels=())
    with pytest.raises(ConfigError, match="image_size"):
        JetCNN(1, 0, 2)
    with pytest.raises(ConfigError, match="dropout"):
        JetCNN(1, 33, 2, dropout=-0.1)
