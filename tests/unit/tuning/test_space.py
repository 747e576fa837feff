"""Search spaces: the tuning: section of the schema and sampling through real Optuna trials."""

import math
import re

import optuna
import pytest
import yaml

from neyman.config import dump_config, parse_config
from neyman.config.tuning import check_search_space
from neyman.exceptions import ConfigError
from neyman.tuning import CategoricalParam, FloatParam, IntParam, LayersParam, SearchSpace, space_from_dict

BASE = {"data": {"sources": [{"path": "jets.parquet"}]}}
SPACE = {
    "training.optimizer.lr": {"float": [1.0e-4, 1.0e-2], "log": True},
    "model.dropout": {"float": [0.0, 0.5], "step": 0.1},
    "training.batch_size": {"categorical": [256, 512, 1024]},
    "model.activation": {"categorical": ["relu", "gelu"]},
    "model.hidden": {"layers": {"n": [1, 3], "width": {"int": [16, 128], "log": True}}},
}


def _cfg(space=None, **tuning):
    return parse_config({**BASE, "tuning": {"space": space or SPACE, **tuning}})


def _space(cfg):
    return space_from_dict(cfg.tuning.model_dump(mode="json")["space"])


def test_compact_entries_are_read_into_explicit_ones_that_round_trip():
    cfg = _cfg()
    space = cfg.tuning.space
    assert space["training.optimizer.lr"].type == "float" and space["training.optimizer.lr"].log
    assert space["model.hidden"].type == "layers" and space["model.hidden"].width.high == 128
    text = dump_config(cfg)
    assert "type: layers" in text and "low: 0.0001" in text
    assert parse_config(yaml.safe_load(text)) == cfg


@pytest.mark.parametrize(
    ("entry", "needle"),
    [
        ({"float": [1.0, 0.0]}, "low must not exceed high"),
        ({"int": [0, 10], "log": True}, "needs low > 0"),
        ({"float": [0.1, 1.0], "log": True, "step": 0.1}, "cannot be combined"),
        ({"float": [0.0, 0.5], "step": 0.7}, "step 0.7 is wider than the range [0.0, 0.5]"),
        ({"floot": [0, 1]}, "a search-space entry is one of"),
        ({"float": [0, 1], "int": [0, 1]}, "a search-space entry is one of"),
        ({"categorical": []}, "at least 1 item"),
        ({"categorical": ["relu", "relu"]}, "listed twice"),
        ({"float": [0.5]}, "takes [low, high]"),
        ({"layers": {"n": [0, 2], "width": {"int": [8, 16]}}}, "1 <= min <= max"),
        ({"layers": {"n": [1, 2], "width": {"categorical": ["wide"]}}}, "must be integers"),
    ],
)
def test_malformed_entries_are_config_errors_naming_the_key(entry, needle):
    with pytest.raises(ConfigError) as err:
        _cfg({"model.dropout": entry})
    assert "tuning.space.model.dropout" in str(err.value) and needle in str(err.value)


def test_objective_direction_follows_the_metric_unless_given():
    assert _cfg().tuning.direction == "maximize"  # val.auc
    assert _cfg(objective="test.loss").tuning.direction == "minimize"
    assert _cfg(objective="folds_summary.loss.mean").tuning.direction == "minimize"
    assert _cfg(objective="val.rejection_at_eff_0.3").tuning.direction == "maximize"
    assert _cfg(objective="val.loss", direction="maximize").tuning.direction == "maximize"
    # a signed bias or a pull width is best inside its range: maximised by default it once drifted to an end
    for objective in ("val.bias", "val.pull_width", "folds_summary.coverage_68.mean"):
        with pytest.raises(ConfigError, match=rf"objective '{re.escape(objective)}' is best at a value inside"):
            _cfg(objective=objective)
    assert _cfg(objective="val.bias", direction="minimize").tuning.direction == "minimize"


def test_tracking_shorthand_and_pruner_shorthand():
    cfg = parse_config({**BASE, "tracking": "mlflow", "tuning": {"space": SPACE, "pruner": "hyperband"}})
    assert cfg.tracking.backend == "mlflow" and cfg.tracking.uri is None and cfg.tracking.experiment == "neyman"
    assert cfg.tuning.pruner.name == "hyperband"
    with pytest.raises(ConfigError, match=r"tracking.backend"):
        parse_config({**BASE, "tracking": "wandb"})


def test_search_space_keys_must_exist_in_the_schema():
    resolved = parse_config(BASE).model_dump(mode="json")
    check_search_space(resolved, {"training.optimizer.lr": None, "model.hidden": None})
    with pytest.raises(ConfigError) as err:
        check_search_space(resolved, {"training.optimiser.lr": None})
    assert "'training.optimiser.lr' is not a configuration key" in str(err.value)
    assert "did you mean 'training.optimizer.lr'" in str(err.value)
    with pytest.raises(ConfigError, match=r"for model type 'mlp'.*did you mean 'model.hidden'"):
        check_search_space(resolved, {"model.hiden": None})
    with pytest.raises(ConfigError, match="model type 'mlp'"):
        check_search_space(resolved, {"model.num_leaves": None})  # a LightGBM key, not an MLP one
    with pytest.raises(ConfigError, match=r"names a section; name one of its keys.*lr"):
        check_search_space(resolved, {"training.optimizer": None})
    with pytest.raises(ConfigError, match="cannot be searched"):
        check_search_space(resolved, {"model.type": None})
    with pytest.raises(ConfigError, match="cannot be searched"):
        check_search_space(resolved, {"data.features": None})


def test_layers_form_only_for_list_valued_keys():
    cfg = _cfg({"model.activation": {"layers": {"n": [1, 2], "width": {"int": [8, 16]}}}})
    with pytest.raises(ConfigError, match="'layers' is for list-valued keys"):
        check_search_space(cfg.model_dump(mode="json"), dict(cfg.tuning.space))
    # the default widths are planned from the sample (None): a layers search replaces them
    cfg = _cfg({"model.hidden": {"layers": {"n": [1, 2], "width": {"int": [8, 16]}}}})
    data = cfg.model_dump(mode="json")
    data["model"]["hidden"] = None
    check_search_space(data, dict(cfg.tuning.space))


def test_sampling_through_optuna_gives_configuration_values_in_range():
    space = _space(_cfg())
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=1))
    seen_depths = set()
    for _ in range(20):
        trial = study.ask()
        values = space.suggest(trial)
        assert 1e-4 <= values["training.optimizer.lr"] <= 1e-2
        dropout = values["model.dropout"]
        assert 0.0 <= dropout <= 0.5 and math.isclose(dropout * 10, round(dropout * 10), abs_tol=1e-9)
        assert values["training.batch_size"] in (256, 512, 1024)
        hidden = values["model.hidden"]
        assert isinstance(hidden, list) and 1 <= len(hidden) <= 3 and len(set(hidden)) == 1 and 16 <= hidden[0] <= 128
        seen_depths.add(len(hidden))
        # the Optuna parameters map back to the same values (what best.yaml is written from)
        assert space.values(trial.params) == values
        assert set(trial.params) == {
            "training.optimizer.lr",
            "model.dropout",
            "training.batch_size",
            "model.activation",
            "model.hidden.n",
            "model.hidden.width",
        }
        study.tell(trial, 0.0)
    assert seen_depths == {1, 2, 3}


def test_list_choices_are_offered_as_labels_and_mapped_back_without_eval():
    p = CategoricalParam("model.hidden", ([64, 64], [32], [128, 64, 32]))
    assert p.labels == ["[64, 64]", "[32]", "[128, 64, 32]"]
    space = SearchSpace([p])
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    got = []
    for _ in range(12):
        trial = study.ask()
        got.append(tuple(space.suggest(trial)["model.hidden"]))
        assert isinstance(trial.params["model.hidden"], str)
        study.tell(trial, 0.0)
    assert set(got) == {(64, 64), (32,), (128, 64, 32)}
    # a label that is not one of the choices is refused, not parsed
    with pytest.raises(ConfigError, match="not one of the choices"):
        space.values({"model.hidden": "[1, 2]"})
    with pytest.raises(ConfigError, match="not distinct"):
        CategoricalParam("x", ("[1]", [1]))


def test_enqueue_values_are_checked_against_the_space():
    space = SearchSpace(
        [
            FloatParam("lr", 1e-4, 1e-2, log=True),
            IntParam("n", 2, 10, step=2),
            LayersParam("hidden", 1, 3, IntParam("width", 8, 64)),
        ]
    )
    assert space.to_trial({"lr": 1e-3, "n": 4, "hidden": [32, 32]}) == {
        "lr": 1e-3,
        "n": 4,
        "hidden.n": 2,
        "hidden.width": 32,
    }
    with pytest.raises(ConfigError, match=r"lr: 0.5 is not a number in \[0.0001, 0.01\]"):
        space.to_trial({"lr": 0.5})
    with pytest.raises(ConfigError, match="not on the grid"):
        space.to_trial({"n": 5})
    with pytest.raises(ConfigError, match="n equal widths"):
        space.to_trial({"hidden": [32, 16]})
    with pytest.raises(ConfigError, match="not in the search space"):
        space.to_trial({"dropout": 0.1})


def test_grid_needs_discrete_values():
    space = SearchSpace(
        [
            FloatParam("dropout", 0.0, 0.3, step=0.1),
            CategoricalParam("act", ("relu", "gelu")),
            LayersParam("hidden", 1, 2, CategoricalParam("width", (16, 32))),
        ]
    )
    assert space.grid() == {
        "dropout": [0.0, 0.1, 0.2, 0.3],
        "act": ["relu", "gelu"],
        "hidden.n": [1, 2],
        "hidden.width": [16, 32],
    }
    assert space.grid_size() == 32
    with pytest.raises(ConfigError, match="grid sampler needs discrete values: give lr a step"):
        SearchSpace([FloatParam("lr", 1e-4, 1e-2, log=True)]).grid()


def test_shipped_tuning_configs_name_real_keys():
    from pathlib import Path

    from neyman.config import load_config

    configs = sorted((Path(__file__).parents[3] / "configs").glob("*.yaml"))
    tuned = [load_config(p) for p in configs]
    tuned = [c for c in tuned if c.tuning is not None]
    assert tuned
    for cfg in tuned:
        check_search_space(cfg.model_dump(mode="json"), dict(cfg.tuning.space))
        space = _space(cfg)
        for entry in cfg.tuning.enqueue:
            space.to_trial(entry)


def test_a_space_from_its_plain_data_form():
    space = _space(_cfg())
    assert space.params == [
        FloatParam("training.optimizer.lr", 1e-4, 1e-2, log=True),
        FloatParam("model.dropout", 0.0, 0.5, step=0.1),
        CategoricalParam("training.batch_size", (256, 512, 1024)),
        CategoricalParam("model.activation", ("relu", "gelu")),
        LayersParam("model.hidden", 1, 3, IntParam("width", 16, 128, log=True)),
    ]
    layers = space_from_dict({"h": {"type": "layers", "n": [1, 2], "width": {"type": "categorical", "choices": [8]}}})
    assert layers.params == [LayersParam("h", 1, 2, CategoricalParam("width", (8,)))]
    with pytest.raises(ConfigError, match="unsupported entry"):
        space_from_dict({"x": {"type": "normal"}})


def test_values_are_applied_to_a_deep_copy_and_checked_at_the_edges():
    from neyman.tuning import apply_values, check_values

    base = {"model": {"hidden": [8], "dropout": 0.0}, "seed": 1}
    out = apply_values(base, {"model.hidden": [16, 16], "seed": 2})
    assert out == {"model": {"hidden": [16, 16], "dropout": 0.0}, "seed": 2} and base["model"]["hidden"] == [8]

    def validate(cfg):
        if cfg["model"]["dropout"] >= 1.0:
            raise ConfigError("dropout: Input should be less than 1")

    space = SearchSpace([FloatParam("model.dropout", 0.0, 0.5)])
    check_values(base, space, [{"model.dropout": 0.2}], validate)
    wide = SearchSpace([FloatParam("model.dropout", 0.0, 1.0)])
    with pytest.raises(ConfigError, match=r"(?s)model.dropout: the value 1.0 \(an edge of its range\).*less than 1"):
        check_values(base, wide, [], validate)
    choices = SearchSpace([CategoricalParam("model.dropout", (0.1, 1.5))])
    with pytest.raises(
        ConfigError, match=r"model.dropout: the value 1.5 \(one of its choices\) is not valid here; remove it"
    ):
        check_values(base, choices, [], validate)
    with pytest.raises(ConfigError, match=r"tuning.enqueue.0: model.dropout: 0.9 is not a number in \[0.0, 0.5\]"):
        check_values(base, space, [{"model.dropout": 0.9}], validate)
    assert space.sampled({}) == {} and space.sampled({"model.dropout": 0.1}) == {"model.dropout": 0.1}


def test_a_real_range_on_a_whole_number_setting_is_refused_before_the_study():
    """Its edges (32.0, 256.0) are whole numbers; every trial would have sampled a fraction and failed."""
    from neyman.config import parse_config
    from neyman.tuning import check_values

    base = {"data": {"sources": [{"path": "events.parquet"}], "label_column": "label"}, "training": {"optimizer": {}}}
    space = SearchSpace([FloatParam("training.batch_size", 32.0, 256.0)])
    with pytest.raises(
        ConfigError,
        match=r"(?s)training.batch_size: the value 32.00000000000001 \(a value inside its range\).*int: \[low, high\]",
    ):
        check_values(base, space, [], parse_config)
    check_values(base, SearchSpace([FloatParam("training.optimizer.lr", 1e-4, 1e-2, log=True)]), [], parse_config)
