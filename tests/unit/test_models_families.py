"""Model families are declared once; the registry, the schema, the CLI and the export derive from it."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import neyman.models
from neyman.config.schema import NEURAL_MODELS, PARTICLE_MODELS, RunConfig
from neyman.exceptions import ConfigError
from neyman.models import MODEL_FAMILIES, Arrays, Model, build_model, model_class
from neyman.models.families import FAMILIES, LightGBMConfig, XGBoostConfig, families_reading
from neyman.models.neural import NeuralModel
from neyman.models.trees import XGBoostModel
from neyman.tasks import TASKS, make_task

MODELS_DIR = Path(neyman.models.__file__).parent


@pytest.mark.parametrize("name", MODEL_FAMILIES)
def test_every_declared_class_imports_and_agrees_with_its_declaration(name: str) -> None:
    family = FAMILIES[name]
    klass = model_class(name)
    assert klass.__name__ == family.model.rpartition(":")[2]
    assert klass.family == name and klass.declaration is family
    assert klass.params_class is family.params and family.params().type == name
    assert klass.representation == family.representation
    assert klass.is_neural == family.neural == issubclass(klass, NeuralModel)
    assert klass.export_kind == family.export


def test_every_export_kind_has_an_exporter() -> None:
    from neyman.export.onnx import TABULAR_EXPORTERS

    for family in FAMILIES.values():
        if family.representation == "tabular":
            assert family.export in TABULAR_EXPORTERS, family.name
        else:  # constituent-based runs are exported whole by neyman.export.jets
            assert family.export == "jet_network" and family.neural, family.name


def test_schema_registry_and_cli_derive_from_the_declarations() -> None:
    from neyman.cli.train import MODELS_HELP

    assert tuple(FAMILIES) == MODEL_FAMILIES
    assert tuple(f.name for f in FAMILIES.values() if f.neural) == NEURAL_MODELS
    assert families_reading("particles") == PARTICLE_MODELS
    union = RunConfig.model_fields["model"].annotation
    assert set(union.__args__) == {f.params for f in FAMILIES.values()}
    assert all(name in MODELS_HELP for name in MODEL_FAMILIES)


def test_configuration_and_neyman_import_no_torch() -> None:
    code = "import sys, neyman, neyman.config, neyman.models.families; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_models_branch_on_what_a_task_declares_not_on_its_name() -> None:
    pattern = re.compile(r"task\.name ==|task\.name in|is_classification")
    offending = [
        f"{path.name}:{n}"
        for path in sorted(MODELS_DIR.glob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert offending == []


def test_hyper_parameters_are_typed_validated_and_default_once() -> None:
    task = make_task("binary")
    assert XGBoostModel(task, 2).params == XGBoostConfig()
    model = XGBoostModel(task, 2, params=XGBoostConfig(max_depth=3), seed=4)
    assert model.params.max_depth == 3 and model.params.n_estimators == XGBoostConfig().n_estimators
    # the keyword form of older callers is validated into the same class; keywords override params
    assert XGBoostModel(task, 2, params={"max_depth": 3}, max_depth=5).params.max_depth == 5
    with pytest.raises(ConfigError, match=r"xgboost hyper-parameters: max_dept: unknown.*did you mean 'max_depth'"):
        build_model("xgboost", task, 2, params={"max_dept": 3})
    with pytest.raises(ConfigError, match=r"max_depth"):
        build_model("xgboost", task, 2, params={"max_depth": 0})
    with pytest.raises(ConfigError, match=r"type"):
        build_model("xgboost", task, 2, params=LightGBMConfig())
    with pytest.raises(ConfigError, match=r"did you mean 'xgboost'"):
        build_model("xgbost", task, 2)


def test_a_run_configuration_section_builds_its_model() -> None:
    cfg = RunConfig.model_validate(
        {"data": {"sources": [{"path": "x.parquet"}]}, "model": {"type": "lightgbm", "num_leaves": 7}}
    )
    model = build_model(cfg.model.type, make_task("binary"), 3, params=cfg.model, seed=2)
    assert model.family == "lightgbm" and model.params == cfg.model and model.params is not cfg.model


def test_build_model_gives_trainer_and_image_size_only_to_families_that_take_them() -> None:
    from neyman.training import Trainer

    trainer = Trainer(epochs=1, progress=False)
    task = make_task("binary")
    assert build_model("mlp", task, 3, params={"hidden": [4]}, trainer=trainer, image_size=9).trainer is trainer
    cnn = build_model("cnn", task, 1, params={"channels": [2], "dense": [4]}, trainer=trainer, image_size=9)
    assert cnn.trainer is trainer and cnn.image_size == 9
    assert build_model("fisher", task, 3, trainer=trainer, image_size=9).family == "fisher"
    with pytest.raises(ConfigError, match="image_size"):
        build_model("cnn", task, 1)


def _toy(n: int = 600, seed: int = 0) -> Arrays:
    gen = np.random.default_rng(seed)
    x = gen.normal(size=(n, 3)).astype(np.float32)
    y = (x[:, 0] + 0.5 * gen.normal(size=n) > 0).astype(np.int64)
    return Arrays(x, y, np.ones(n))


@pytest.mark.parametrize("family", ["xgboost", "lightgbm"])
def test_learned_state_lives_in_attributes_and_under_state(family: str, tmp_path: Path) -> None:
    train, val = _toy(seed=1), _toy(300, seed=2)
    params = {"n_estimators": 200, "learning_rate": 0.5, "early_stopping_rounds": 3}
    model = build_model(family, make_task("binary"), 3, params=params).fit(train, val)
    assert model.best_iteration_ is not None and model.best_iteration_ < 199
    assert "best_iteration" not in model.params.model_dump()
    model.save(tmp_path)
    meta = json.loads((tmp_path / "model.json").read_text())
    assert set(meta) == {"family", "task", "n_classes", "n_features", "seed", "params", "state", "files", "checksums"}
    assert meta["params"] == {k: v for k, v in model.params.model_dump().items() if k != "type"}
    # a classifier's trees predict the label itself: no target standardisation
    assert meta["state"] == {"best_iteration_": model.best_iteration_, "target_mean_": 0.0, "target_std_": 1.0}
    loaded = Model.load(tmp_path)
    assert loaded.best_iteration_ == model.best_iteration_ and loaded.params == model.params
    np.testing.assert_allclose(loaded.predict(val.x), model.predict(val.x), rtol=1e-6)


def test_neural_target_scale_is_state_and_rescales_predictions(tmp_path: Path) -> None:
    from neyman.training import Trainer

    gen = np.random.default_rng(3)
    x = gen.normal(size=(400, 2)).astype(np.float32)
    y = 50.0 + 10.0 * x[:, 0]
    trainer = Trainer(epochs=2, batch_size=64, progress=False)
    model = build_model("mlp", make_task("regression"), 2, params={"hidden": [8]}, trainer=trainer)
    model.fit(Arrays(x, y, np.ones(len(y))))
    assert model.target_mean_ == pytest.approx(np.mean(y)) and model.target_std_ == pytest.approx(np.std(y))
    model.save(tmp_path)
    state = json.loads((tmp_path / "model.json").read_text())["state"]
    assert state == {"target_mean_": model.target_mean_, "target_std_": model.target_std_, "interval_scale_": 1.0}
    np.testing.assert_allclose(Model.load(tmp_path).predict(x), model.predict(x), rtol=1e-6)


def test_model_json_written_before_state_existed_still_loads(tmp_path: Path) -> None:
    from neyman.training import Trainer

    x = np.random.default_rng(4).random((40, 1, 6, 6)).astype(np.float32)
    y = np.arange(40) % 2
    trainer = Trainer(epochs=1, batch_size=16, progress=False)
    params = {"channels": [2], "dense": [4]}
    model = build_model("cnn", make_task("binary"), 1, params=params, trainer=trainer, image_size=6)
    model.fit(Arrays(x, y, np.ones(40)))
    model.save(tmp_path)
    meta = json.loads((tmp_path / "model.json").read_text())
    assert meta["state"] == {"image_size": 6, "target_mean_": 0.0, "target_std_": 1.0, "interval_scale_": 1.0}
    # the old layout: input arguments and learned scalars among the params, no state
    meta["params"].update(image_size=6, target_mean=0.0, target_std=1.0)
    del meta["state"]
    (tmp_path / "model.json").write_text(json.dumps(meta))
    loaded = Model.load(tmp_path)
    assert loaded.image_size == 6 and loaded.params == model.params
    np.testing.assert_allclose(loaded.predict(x), model.predict(x), rtol=1e-6)


@pytest.mark.parametrize("name", sorted(TASKS))
def test_tree_objectives_follow_the_output_head(name: str) -> None:
    from neyman.models.trees import LIGHTGBM_OBJECTIVES, XGBOOST_OBJECTIVES

    task = make_task(name, n_classes=3)
    for family, objectives in (("xgboost", XGBOOST_OBJECTIVES), ("lightgbm", LIGHTGBM_OBJECTIVES)):
        if task.objective == "supervised" and task.output_head in objectives:
            assert build_model(family, task, 2).family == family
        else:
            with pytest.raises(ConfigError, match=rf"{family} cannot learn the {name!r} task"):
                build_model(family, task, 2)
