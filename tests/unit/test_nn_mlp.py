import pytest
import torch

from neyman.exceptions import ConfigError
from neyman.nn import ACTIVATIONS, MLP


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
def test_every_activation_builds_and_runs(activation):
    net = MLP(5, 2, hidden=(8, 4), activation=activation, dropout=0.1, batch_norm=True)
    out = net(torch.randn(16, 5))
    assert out.shape == (16, 2)


@pytest.mark.parametrize("init", ["he", "xavier", "lecun"])
def test_initialisation_sets_expected_variance(init):
    torch.manual_seed(0)
    net = MLP(400, 1, hidden=(400,), init=init)
    w = net.layers[0].weight.detach()
    expected = {"he": 2 / 400, "xavier": 2 / 800, "lecun": 1 / 400}[init]
    assert float(w.var()) == pytest.approx(expected, rel=0.05)
    assert float(net.layers[0].bias.detach().abs().max()) == 0.0


def test_selu_uses_alpha_dropout_and_bad_names_fail():
    net = MLP(3, 1, hidden=(4,), activation="selu", dropout=0.2)
    assert any(isinstance(m, torch.nn.AlphaDropout) for m in net.modules())
    with pytest.raises(ConfigError, match="did you mean 'relu'"):
        MLP(3, 1, activation="rleu")
