import pytest

from neyman.config import apply_overrides, dump_config, load_config, parse_config
from neyman.exceptions import ConfigError

BASE = {"data": {"sources": [{"path": "sig.root:events", "label": "signal"}]}}


def test_defaults_and_discriminated_model_sections():
    cfg = parse_config({**BASE, "model": {"type": "lightgbm", "num_leaves": 15}})
    assert cfg.model.type == "lightgbm" and cfg.model.num_leaves == 15
    assert cfg.task.type == "binary" and cfg.training.optimizer.name == "adam"
    assert "num_leaves: 15" in dump_config(cfg)


def test_decorrelation_bins_default_per_method_and_a_given_number_wins():
    def bins(**deco: object) -> int:
        cfg = parse_config({**BASE, "training": {"decorrelate": {"variable": "mass", **deco}}})
        assert cfg.training.decorrelate is not None
        return cfg.training.decorrelate.resolved_bins()

    assert bins(method="adversary") == 10 and bins(method="planing") == 20 and bins(method="disco") == 20
    assert bins(method="adversary", bins=25) == 25 and bins(method="planing", bins=8) == 8
    with pytest.raises(ConfigError, match="bins"):
        bins(method="adversary", bins=1)


def test_a_truth_value_is_no_number():
    """YAML's ``epochs: true`` would be 1 in pydantic's lax mode: refused, while true/false fields take it."""
    for section, key in (("training", "epochs"), ("split", "kfold"), ("training", "grad_clip")):
        with pytest.raises(
            ConfigError, match=rf"{section}: .*{key}: expected a value of its kind, not the truth value true"
        ):
            parse_config({**BASE, section: {key: True}})
    with pytest.raises(ConfigError, match=r"seed: .*not the truth value false"):
        parse_config({**BASE, "seed": False})
    with pytest.raises(ConfigError, match=r"model: .*n_estimators: .*not the truth value true"):
        parse_config({**BASE, "model": {"type": "xgboost", "n_estimators": True}})
    cfg = parse_config({**BASE, "data": {**BASE["data"], "streaming": True}, "training": {"progress": False}})
    assert cfg.data.streaming is True and cfg.training.progress is False


def test_unknown_keys_wrong_types_and_model_names_are_reported_with_paths():
    with pytest.raises(ConfigError) as err:
        parse_config(
            {
                **BASE,
                "model": {"type": "mlp", "hiden": [3]},
                "training": {"epochs": "many"},
                "splt": {},
            }
        )
    msg = str(err.value)
    assert "model.hiden: unknown key (did you mean 'hidden'?)" in msg
    assert "training.epochs" in msg and "'many'" in msg
    assert "splt: unknown key (did you mean 'split'?)" in msg
    with pytest.raises(ConfigError, match=r"model.type.*'mpl'.*'mlp'"):
        parse_config({**BASE, "model": {"type": "mpl"}})
    # a key of other model types says whose it is
    with pytest.raises(
        ConfigError, match=r"model\.uncertainty: unknown key for model type xgboost; .*is an option of .*mlp"
    ):
        parse_config({**BASE, "model": {"type": "xgboost", "uncertainty": "ensemble"}})
    with pytest.raises(ConfigError, match=r"add up to 1"):
        parse_config({**BASE, "split": {"train": 0.5, "val": 0.2, "test": 0.2}})
    with pytest.raises(ConfigError, match=r"needs data.target"):
        parse_config({**BASE, "task": {"type": "gaussian"}})
    with pytest.raises(ConfigError, match=r"needs a neural model \(mlp, or a constituent network\), not 'xgboost'"):
        parse_config(
            {
                **BASE,
                "task": {"type": "gaussian"},
                "data": {**BASE["data"], "target": "y"},
                "model": {"type": "xgboost"},
            }
        )


def test_overrides_parse_yaml_values_and_index_lists():
    data = {"data": {"sources": [{"path": "a.root"}]}}
    apply_overrides(data, ["model.hidden=[64, 32]", "training.optimizer.lr=3e-4", "data.sources.0.scale=0.5"])
    cfg = parse_config({**data, "model": {"type": "mlp", **data.get("model", {})}})
    assert cfg.model.hidden == [64, 32]
    assert cfg.training.optimizer.lr == pytest.approx(3e-4)
    assert cfg.data.sources[0].scale == 0.5
    with pytest.raises(ConfigError, match=r"no element"):
        apply_overrides(data, ["data.sources.3.path=x"])
    with pytest.raises(ConfigError, match=r"section.key=value"):
        apply_overrides(data, ["epochs"])
    for nameless in ("=3", " =3", "training.=3", "training..epochs=3", ".epochs=3"):
        with pytest.raises(ConfigError, match=r"names no key: write section.key=value"):
            apply_overrides(data, [nameless])
    # a search-space entry's name is a dotted key of its own
    tuned = {"tuning": {"space": {"model.dropout": {"float": [0.0, 0.5]}}}}
    apply_overrides(
        tuned, ["tuning.space.model.dropout={float: [0.1, 0.3]}", "tuning.space.training.epochs={int: [1, 3]}"]
    )
    assert tuned["tuning"]["space"] == {"model.dropout": {"float": [0.1, 0.3]}, "training.epochs": {"int": [1, 3]}}


def test_yaml_is_loaded_safely_and_paths_resolve_relative_to_the_file(tmp_path):
    (tmp_path / "sig.parquet").write_bytes(b"")
    (tmp_path / "run.yaml").write_text("data:\n  sources:\n    - path: sig.parquet\n      label: 1\n")
    cfg = load_config(tmp_path / "run.yaml")
    assert cfg.data.sources[0].path == str(tmp_path / "sig.parquet")
    (tmp_path / "evil.yaml").write_text("!!python/object/apply:os.system ['echo hacked']\n")
    with pytest.raises(ConfigError, match=r"not valid YAML"):
        load_config(tmp_path / "evil.yaml")
    with pytest.raises(ConfigError, match=r"does not exist"):
        load_config(tmp_path / "missing.yaml")


def test_a_source_path_found_both_here_and_beside_the_configuration_reads_here_and_says_so(tmp_path, monkeypatch):
    from neyman.exceptions import NeymanWarning

    (tmp_path / "sub").mkdir()
    (tmp_path / "sig.parquet").write_bytes(b"here")
    (tmp_path / "sub" / "sig.parquet").write_bytes(b"beside")
    (tmp_path / "sub" / "run.yaml").write_text("data:\n  sources:\n    - path: sig.parquet\n      label: 1\n")
    monkeypatch.chdir(tmp_path)
    with pytest.warns(NeymanWarning, match=r"'sig\.parquet' exists both here .* and beside the configuration"):
        cfg = load_config("sub/run.yaml")
    assert cfg.data.sources[0].path == "sig.parquet"


@pytest.mark.parametrize(
    "section,needle",
    [
        ({"task": {"type": "clasification"}}, "task.type"),
        ({"training": {"optimizer": {"name": "adamm"}}}, "training.optimizer.name"),
        ({"training": {"schedule": {"name": "cosin"}}}, "training.schedule.name"),
        ({"model": {"type": "mlp", "activation": "relux"}}, "model.activation"),
    ],
)
def test_unknown_names_are_reported_with_their_key(section, needle):
    with pytest.raises(ConfigError, match=needle):
        parse_config({**BASE, **section})


def test_a_deeply_nested_or_binary_yaml_file_is_a_config_error(tmp_path):
    from neyman.config import load_config
    from neyman.exceptions import ConfigError

    deep = tmp_path / "deep.yaml"
    deep.write_text("a: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match=r"nested too deeply"):
        load_config(deep)
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match=r"binary\.yaml"):
        load_config(binary)


@pytest.mark.parametrize(
    "section,message",
    [
        ({"model": {"type": "mlp", "hidden": [0]}}, r"model\.hidden\.0: Input should be greater than 0"),
        ({"model": {"type": "pfn", "phi": [64, 0]}}, r"model\.phi\.1: Input should be greater than 0"),
        (
            {"training": {"optimizer": {"lr": float("inf")}}},
            r"training\.optimizer\.lr: Input should be a finite number",
        ),
        (
            {"training": {"optimizer": {"lr": float("nan")}}},
            r"training\.optimizer\.lr: Input should be a finite number",
        ),
    ],
)
def test_sizes_are_positive_and_rates_finite(section, message):
    from neyman.config import parse_config
    from neyman.exceptions import ConfigError

    data = {"data": {"sources": [{"path": "a.root"}]}, **section}
    if section.get("model", {}).get("type") == "pfn":
        data["data"]["representation"] = "particles"
    with pytest.raises(ConfigError, match=message):
        parse_config(data)


def test_an_error_of_a_whole_section_does_not_print_the_section():
    tuning = {"space": {"model.dropout": {"float": [0.0, 0.5]}}, "enqueue": [{"model.nosuch": 0.1}]}
    with pytest.raises(ConfigError) as err:
        parse_config({**BASE, "tuning": tuning})
    msg = str(err.value)
    assert "enqueue.0 names 'model.nosuch'" in msg and "TuningConfig(" not in msg


def test_a_parity_split_with_kfold_is_refused_rather_than_ignored():
    """k-fold assigns folds by event_id mod k and never read split.method: the pair was silently half-applied."""
    from neyman.config import parse_config
    from neyman.exceptions import ConfigError

    data = {"data": {"sources": [{"path": "a.root"}]}}
    with pytest.raises(ConfigError, match=r"split\.method: parity .* remove split\.method or split\.kfold"):
        parse_config({**data, "split": {"method": "parity", "kfold": 3}})
    assert parse_config({**data, "split": {"kfold": 3}}).split.kfold == 3


def test_a_password_in_the_tracking_uri_is_refused_without_being_shown():
    """It would be saved in every run's config.yaml and uploaded to the store."""
    from neyman.config import parse_config

    base = {"data": {"sources": [{"path": "events.parquet"}], "label_column": "label"}}
    with pytest.raises(
        ConfigError, match=r"postgresql://alice:\*\*\*@db:5432/mlflow holds a password.*PGPASSWORD"
    ) as err:
        parse_config({**base, "tracking": {"uri": "postgresql://alice:s3cret@db:5432/mlflow"}})
    assert "s3cret" not in str(err.value)
    assert parse_config({**base, "tracking": {"uri": "postgresql://alice@db:5432/mlflow"}}).tracking.uri


@pytest.mark.parametrize(
    ("method", "extra", "refused"),
    [("none", {"strength": 50}, "strength"), ("planing", {"strength": 3}, "strength"), ("disco", {"bins": 5}, "bins")],
)
def test_decorrelation_settings_the_method_ignores_are_refused(method, extra, refused):
    base = {"data": {"sources": [{"path": "events.parquet"}], "label_column": "label"}}
    deco = {"variable": "mass", "method": method, **extra}
    with pytest.raises(ConfigError, match=rf"training.decorrelate: .*{refused}.*method '{method}'"):
        parse_config({**base, "training": {"decorrelate": deco}})
    assert parse_config(
        {**base, "training": {"decorrelate": {"variable": "mass", "method": "adversary", "strength": 3, "bins": 5}}}
    )


def test_yaml_aliases_merge_keys_and_keys_twice_on_one_line(tmp_path):
    """An override changed every place an alias named; a key twice on one line passed; ``<<:`` was refused."""
    base = "data: {sources: [{path: a.parquet, columns: &c {alpha: 0.1}}, {path: b.parquet, columns: *c}]}\n"
    (tmp_path / "alias.yaml").write_text(base)
    cfg = load_config(tmp_path / "alias.yaml", ["data.sources.0.columns.alpha=0.2"])
    assert [s.columns for s in cfg.data.sources] == [{"alpha": 0.2}, {"alpha": 0.1}]
    (tmp_path / "same-line.yaml").write_text(base + "training: {epochs: 1, epochs: 2}\n")
    with pytest.raises(ConfigError, match=r"the key 'epochs' is given twice \(line 2\)"):
        load_config(tmp_path / "same-line.yaml")
    (tmp_path / "merge.yaml").write_text(
        base + "model: &m {type: mlp, dropout: 0.1}\ntraining:\n  <<: {epochs: 1, batch_size: 64}\n  epochs: 3\n"
    )
    cfg = load_config(tmp_path / "merge.yaml")
    assert (cfg.training.epochs, cfg.training.batch_size) == (3, 64)  # a merged key may be given again
    # aliases of aliases: under 1 kB, billions of values once expanded
    chain = ["l0: &l0 [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]"]
    chain += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 7)]
    bomb = "tuning:\n  enqueue:\n" + "".join(f"    - {{training.optimizer.lr: {c.split(': ', 1)[1]}}}\n" for c in chain)
    (tmp_path / "bomb.yaml").write_text(base + bomb)
    with pytest.raises(ConfigError, match=r"expands to more than 100,000 values"):
        load_config(tmp_path / "bomb.yaml")
    (tmp_path / "itself.yaml").write_text(base + "tuning: {enqueue: &e [*e]}\n")  # a RecursionError traceback
    with pytest.raises(ConfigError, match=r"holds a value that contains itself"):
        load_config(tmp_path / "itself.yaml")


def test_yaml_slips_get_advice(tmp_path):
    """YAML reads 1e3 as text; a section given as one word (sources: [f.parquet], model: mlp) is a mapping."""
    (tmp_path / "e3.yaml").write_text("data: {sources: [{path: d.parquet}]}\ntraining: {epochs: 1e3}\n")
    with pytest.raises(ConfigError, match=r"training\.epochs: .*got '1e3'\); YAML reads 1e3 as text .* write 1000"):
        load_config(tmp_path / "e3.yaml")
    (tmp_path / "short.yaml").write_text("data: {sources: [d.parquet]}\nmodel: mlp\n")
    with pytest.raises(ConfigError) as err:
        load_config(tmp_path / "short.yaml")
    assert "write it as a mapping: {path: d.parquet}" in str(err.value)
    assert "write it as a mapping: {type: mlp}" in str(err.value)


@pytest.mark.parametrize(
    ("features", "message"),
    [
        ([], r"names no particle feature; list some, or leave it out"),
        (["deta", "deta"], r"lists 'deta' more than once"),
    ],
)
def test_particle_features_are_named_and_named_once(features, message):
    """An empty list trained on the default features while config.yaml recorded []."""
    base = {"data": {"sources": [{"path": "jets.parquet"}], "label_column": "label", "representation": "particles"}}
    base["data"]["particles"] = {"features": features}
    with pytest.raises(ConfigError, match=rf"data\.particles\.features: .*{message}"):
        parse_config(base)
