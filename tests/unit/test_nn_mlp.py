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


def test_the_mlp_familys_auto_initialisation_is_pytorchs_unless_decorrelated():
    from neyman.models import build_model
    from neyman.models.families import MLPConfig
    from neyman.tasks import make_task
    from neyman.training.decorrelation import Decorrelation

    assert MLPConfig().resolved_init(decorrelated=False) == "default"
    assert MLPConfig().resolved_init(decorrelated=True) == "he"
    assert MLPConfig(init="lecun").resolved_init(decorrelated=True) == "lecun"
    torch.manual_seed(0)
    plain = build_model("mlp", make_task("binary"), 400, params={"hidden": [400]})
    deco = build_model(
        "mlp", make_task("binary"), 400, params={"hidden": [400]}, decorrelation=Decorrelation("disco", 1)
    )
    # PyTorch's U(±1/√fan_in) has variance 1/(3 fan_in); He's N(0, 2/fan_in)
    assert float(plain.network.layers[0].weight.detach().var()) == pytest.approx(1 / 1200, rel=0.05)
    assert float(deco.network.layers[0].weight.detach().var()) == pytest.approx(2 / 400, rel=0.05)


def test_the_mlp_familys_auto_activation_is_gelu_but_for_a_decorrelated_training():
    from neyman.models import build_model
    from neyman.models.families import MLPConfig, ratio_model
    from neyman.tasks import make_task
    from neyman.training.decorrelation import Decorrelation

    def activations(model) -> set[type]:
        return {type(m) for m in model.network.modules() if type(m) in ACTIVATIONS.values()}

    assert MLPConfig().resolved_activation(decorrelated=False) == "gelu"
    assert MLPConfig().resolved_activation(decorrelated=True) == "relu"
    assert MLPConfig(activation="tanh").resolved_activation(decorrelated=True) == "tanh"
    for uncertainty in ("mc_dropout", "bayesian"):
        assert MLPConfig(uncertainty=uncertainty).resolved_activation(decorrelated=False) == "gelu"
    plain = build_model("mlp", make_task("binary"), 4, params={"hidden": [8]})
    deco = build_model("mlp", make_task("binary"), 4, params={"hidden": [8]}, decorrelation=Decorrelation("disco", 1))
    bayes = build_model("mlp", make_task("binary"), 4, params={"hidden": [8], "uncertainty": "bayesian"})
    assert activations(plain) == activations(bayes) == {torch.nn.GELU}
    assert activations(deco) == {torch.nn.ReLU}
    # the reweighters' MLP keeps the ReLU their closure benchmarks were measured with
    assert ratio_model("mlp") == {"type": "mlp", "activation": "relu"}
    assert ratio_model("xgboost") == {
        "type": "xgboost",
        "learning_rate": 0.1,
        "subsample": 1.0,
        "colsample_bytree": 1.0,
        "n_estimators": 500,
    }
