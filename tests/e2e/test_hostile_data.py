"""Data files that physicists really bring: one ``error:`` line and no file, or the right result.

The hostile command lines of :mod:`test_hostile_cli` are mostly bad options; these are odd but
common *files*: written with another separator or a decimal comma, with pandas' row index, with
labels coded as booleans or 1/2, jagged branches among flat ones, the HDF5 table format of pandas,
identifiers stored as text.  A file neyman cannot use costs one ``error:`` line naming the culprit,
exit code 2 and no file (the harness of :mod:`test_hostile_cli`); a file it can use must give the
same model and scores as the plain file, never a silently different one.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_hostile_cli import (  # the sibling module: pytest puts this folder on sys.path
    FEATURE_LIST,
    N_EVENTS,
    Case,
    app,  # noqa: F401 - a fixture
    case,
    case_folder,  # noqa: F401 - a fixture
    frame_file,
    good_frame,
    invoke,
    shared,  # noqa: F401 - a fixture
)
from test_hostile_cli import (
    test_hostile_input_costs_one_error_line_and_no_file as check_hostile,  # not collected again here
)

FISHER = "--model fisher"
FAILED_RUN = ("runs/fisher-binary", "runs/fisher-binary/*")  # a training that fails keeps its run, marked failed


def decimal_commas(name: str) -> Callable[[Path], None]:
    """Setup: the good events as a comma-separated file whose numbers have decimal commas (quoted)."""

    def setup(folder: Path) -> None:
        good_frame().to_csv(folder / name, index=False, decimal=",", quoting=1)

    return setup


def jagged_root(name: str) -> Callable[[Path], None]:
    """Setup: the good events with a jagged branch ``jet_pt`` (0 to 4 values per event) in tree ``events``."""

    def setup(folder: Path) -> None:
        import awkward as ak
        import uproot

        frame = good_frame()
        counts = np.random.default_rng(1).integers(0, 5, len(frame))
        branches: dict[str, object] = {c: frame[c].to_numpy() for c in frame.columns}
        branches["jet_pt"] = ak.unflatten(np.random.default_rng(2).normal(size=int(counts.sum())), counts)
        with uproot.recreate(folder / name) as out:
            out["events"] = branches

    return setup


def one_column_jagged(name: str, column: str) -> Callable[[Path], None]:
    """Setup: the good events in tree ``events`` of ``name``, with ``column`` a list of one value per event."""

    def setup(folder: Path) -> None:
        import awkward as ak
        import uproot

        frame = good_frame()
        branches: dict[str, object] = {c: frame[c].to_numpy() for c in frame.columns}
        branches[column] = ak.unflatten(frame[column].to_numpy(), np.ones(len(frame), dtype=np.int64))
        with uproot.recreate(folder / name) as out:
            out["events"] = branches

    return setup


def _variable_length_hdf5(path: Path) -> None:
    """The good events as HDF5 datasets, with ``trk``: a variable-length dataset of 1 to 3 values per event."""
    import h5py

    frame = good_frame()
    with h5py.File(path, "w") as out:
        for column in frame.columns:
            out[column] = frame[column].to_numpy()
        tracks = out.create_dataset("trk", (len(frame),), dtype=h5py.vlen_dtype(np.float64))
        for i in range(len(frame)):
            tracks[i] = np.arange(i % 3 + 1, dtype=np.float64)


def linked(name: str, target: str) -> Callable[[Path], None]:
    """Setup: a symbolic link ``name`` to ``target`` (which need not exist)."""

    def setup(folder: Path) -> None:
        (folder / name).symlink_to(target)

    return setup


def fifo(name: str) -> Callable[[Path], None]:
    """Setup: a named pipe ``name``, which no one writes."""

    def setup(folder: Path) -> None:
        os.mkfifo(folder / name)

    return setup


def feature_matrix(name: str) -> Callable[[Path], None]:
    """Setup: an ``.npz`` of one feature matrix ``X`` (events × 4) and the labels ``y``, as array libraries save it."""

    def setup(folder: Path) -> None:
        frame = good_frame()
        np.savez(folder / name, X=frame[["f0", "f1", "f2", "f3"]].to_numpy(), y=frame["label"].to_numpy())

    return setup


DATA_CASES = [
    case(
        "train-npz-feature-matrix",
        f"train --data xy.npz --label-column y {FISHER}",
        r"xy\.npz has no column of one number per event.*'X' of shape \(n, 4\).*one array or column per feature",
        feature_matrix("xy.npz"),
    ),
    case(
        "train-csv-decimal-commas",
        f"train --data comma.csv --label-column label {FISHER}",
        r"comma\.csv.*'f0'.*decimal comma",
        decimal_commas("comma.csv"),
    ),
    case(
        "train-csv-decimal-commas-with-features",
        f"train --data comma.csv --label-column label {FISHER} --features {FEATURE_LIST}",
        r"'f0'.*decimal comma",
        decimal_commas("comma.csv"),
    ),
    case(
        "predict-csv-decimal-commas",
        "predict runs/bin --input comma.csv --output s.parquet",
        r"'f0'.*decimal comma",
        decimal_commas("comma.csv"),
    ),
    case(
        "train-no-numeric-column",
        f"train --data words.csv --label-column label {FISHER}",
        r"words\.csv.*no numeric column.*'name'",
        frame_file("words.csv", lambda f: f[["label"]].assign(name=np.where(f["label"] == 1, "top", "qcd"))),
    ),
    case(
        "train-csv-semicolons-and-decimal-commas",
        "train --data semi.csv --label-column label",
        r"semi\.csv.*semicolon",
        lambda d: good_frame().to_csv(d / "semi.csv", sep=";", decimal=",", index=False),
    ),
    case(
        "train-csv-semicolon-header",
        "train --data semi.csv --label-column label",
        r"semi\.csv.*semicolon",
        lambda d: good_frame().to_csv(d / "semi.csv", sep=";", index=False),
    ),
    case(
        "predict-csv-tab-separated",
        "predict runs/bin --input tabs.csv --output s.parquet",
        r"tabs\.csv.*tab-separated",
        lambda d: good_frame().to_csv(d / "tabs.csv", sep="\t", index=False),
    ),
    case(
        "train-labels-one-and-two",
        f"train --data twelve.csv --label-column label {FISHER}",
        r"'label'.*\b1 and 2\b.*0 and 1",
        frame_file("twelve.csv", lambda f: f.assign(label=f["label"] + 1)),
    ),
    case(
        "train-csv-comment-lines",
        f"train --data notes.csv --label-column label {FISHER}",
        r"notes\.csv.*first line '# made by gen\.py'.*is a comment.*grep -v",
        lambda d: (d / "notes.csv").write_text("# made by gen.py\n" + good_frame().to_csv(index=False)),
    ),
    case(
        "train-csv-comment-line-in-the-middle",
        f"train --data mid.csv --label-column label {FISHER}",
        r"mid\.csv: line 12 holds 1 field where the header has \d+ \('# second batch'\); it is a comment.*grep -v",
        lambda d: (d / "mid.csv").write_text(
            "\n".join([*good_frame().to_csv(index=False).splitlines()[:11], "# second batch"])
            + "\n"
            + "\n".join(good_frame().to_csv(index=False).splitlines()[11:])
            + "\n"
        ),
    ),
    case(
        "train-csv-row-with-an-extra-field",
        f"train --data extra.csv --label-column label {FISHER}",
        r"extra\.csv: line 2 holds \d+ fields where the header has \d+.*quoted",
        lambda d: (d / "extra.csv").write_text(
            good_frame().to_csv(index=False).replace("\n", ",7\n", 2).replace(",7\n", "\n", 1)
        ),
    ),
    case(
        "train-txt-savetxt-header",
        f"train --data saved.txt --label-column label {FISHER}",
        r"saved\.txt.*'# f0 .*numpy\.savetxt.*comments=''",
        lambda d: np.savetxt(d / "saved.txt", good_frame().to_numpy(), header=" ".join(good_frame().columns)),
    ),
    case(
        "train-csv-without-header",  # the UCI files' layout, read as a plain CSV
        f"train --data nohead.csv --label-column label {FISHER}",
        r"nohead\.csv: its first line '.*' holds \d+ numbers, not column names: the file has no header row.*1i x0,x1",
        lambda d: good_frame().to_csv(d / "nohead.csv", index=False, header=False, float_format="%.6e"),
    ),
    case(
        "train-labels-s-and-b",  # the ATLAS Higgs challenge's Label column
        f"train --data sb.csv --label-column label {FISHER}",
        r"sb\.csv.*'label'.*'b', 's'.*class 1 is the signal.*--set 'data\.classes=\[b,s\]'",
        frame_file("sb.csv", lambda f: f.assign(label=np.where(f["label"] == 1, "s", "b"))),
    ),
    case(
        "train-labels-minus-one-plus-one",
        f"train --data pm.parquet --label-column label {FISHER}",
        r"'label'.*-1 and 1\b.*0 and 1",
        frame_file("pm.parquet", lambda f: f.assign(label=2 * f["label"] - 1)),
    ),
    case(
        "train-weights-all-zero",
        f"train --data zero.csv --label-column label --weight weight {FISHER}",
        r"total weight.*\b0\b.*'weight' of zero\.csv",
        frame_file("zero.csv", lambda f: f.assign(weight=0.0)),
    ),
    case(
        "train-signal-weights-negative",
        f"train --data neg.parquet --label-column label --weight weight {FISHER}",
        r"'weight' of neg\.parquet",
        frame_file("neg.parquet", lambda f: f.assign(weight=np.where(f["label"] == 1, -3.0, 1.0) * f["weight"])),
    ),
    case(
        "predict-output-without-extension",
        "predict runs/bin --input good.parquet --output p",
        r"^(?!.*train's).*output p\b.*extension.*p\.parquet",
    ),
    case(
        "generate-output-without-extension",
        "generate w_vs_qcd --events 10 --out events",
        r"^(?!.*train's).*output events\b.*extension.*events\.parquet",
    ),
    case("evaluate-bootstrap-zero", "evaluate runs/bin --bootstrap 0", r"--bootstrap.*between 2 and .*got 0"),
    case("compare-same-run-twice", "compare runs/bin runs/bin --out cmp", r"runs/bin.*twice"),
    case(
        "compare-same-run-by-another-path",
        "compare runs/bin {tmp}/runs/bin runs/kf --out cmp",
        r"runs/bin.*twice.*as runs/bin",
    ),
    case(
        "train-only-scores-of-an-earlier-run",
        f"train --data scored.parquet --label-column label {FISHER}",
        r"scored\.parquet.*no numeric column.*'score'.*neyman's output",
        frame_file("scored.parquet", lambda f: f[["label"]].assign(score=f["f0"], name="top")),
    ),
    case(
        "train-fisher-duplicated-feature",
        f"train --data dup.parquet --label-column label {FISHER}",
        r"singular.*'f1', 'f1_again' are linearly dependent.*model\.shrinkage",
        frame_file("dup.parquet", lambda f: f.assign(f1_again=2.0 * f["f1"] + 5.0)),
        allowed=FAILED_RUN,
    ),
    case(
        "train-fisher-feature-constant-within-classes",
        f"train --data copy.parquet --label-column label {FISHER}",
        r"singular.*'label_copy' is constant within each class",
        frame_file("copy.parquet", lambda f: f.assign(label_copy=f["label"].astype(float))),
        allowed=FAILED_RUN,
    ),
    case(
        "train-jagged-feature-root",
        f"train --data jag.root:events --label-column label {FISHER} --features f0,jet_pt",
        r"jag\.root.*'jet_pt'.*one number per event",
        jagged_root("jag.root"),
    ),
    case(
        "train-jagged-label-root",
        f"train --data lab.root:events --label-column label {FISHER} --features {FEATURE_LIST}",
        r"lab\.root.*label column 'label' holds a list of values .*one value per event",
        one_column_jagged("lab.root", "label"),
    ),
    case(
        "train-jagged-event-id-root",
        f"train --data lab.root:events --label-column label {FISHER} --features {FEATURE_LIST} "
        "--set data.event_id=weight --set split.kfold=3",
        r"lab\.root.*event-id column 'weight' holds a list of values",
        one_column_jagged("lab.root", "weight"),
    ),
    case(
        "train-jagged-target-root",
        "train --data lab.root:events --target f3 --model xgboost --features f0,f1,f2",
        r"lab\.root.*target column 'f3' holds a list of values",
        one_column_jagged("lab.root", "f3"),
    ),
    case(
        "predict-jagged-feature-root",
        "predict runs/bin --input f0.root:events --output s.parquet",
        r"'f0'.*f0\.root.*not a flat numeric column",
        one_column_jagged("f0.root", "f0"),
    ),
    case(
        "train-weights-whose-sum-overflows",
        f"train --data big.parquet --label-column label --weight weight {FISHER}",
        r"sum to more than float64 holds.*1e\+308.*divide them by a constant.*'weight' of big\.parquet",
        frame_file("big.parquet", lambda f: f.assign(weight=1e308)),
    ),
    case(
        "train-target-beyond-float32",
        "train --data huge.parquet --target target --model xgboost --features f0,f1,f2",
        r"huge\.parquet.*target column 'target' holds \d+ values beyond ±3\.4e\+38.*rescale",
        frame_file("huge.parquet", lambda f: f.assign(target=f["f0"] * 1e300)),
    ),
    case(
        "train-one-file-as-both-classes-by-two-spellings",
        f"train --signal good.parquet --background ./good.parquet {FISHER}",
        r"good\.parquet and \./good\.parquet are one file, read as classes 'signal' and 'background'",
    ),
    case(
        "train-one-file-as-both-classes-through-a-link",
        f"train --signal good.parquet --background alias.parquet {FISHER}",
        r"good\.parquet and alias\.parquet are one file",
        linked("alias.parquet", "good.parquet"),
    ),
    case(
        "train-text-labels-with-a-missing-one",
        f"train --data nolab.parquet --label-column label {FISHER}",
        r"nolab\.parquet: column 'label' holds 1 missing labels \(the first in row 6\)",
        frame_file(
            "nolab.parquet",
            lambda f: f.assign(label=[None if i == 5 else "sb"[v] for i, v in enumerate(f["label"])]),
        ),
    ),
    case(
        "train-csv-in-utf16",
        f"train --data u16.csv --label-column label {FISHER}",
        r"u16\.csv.*NUL bytes: it is written in UTF-16.*save it as UTF-8",
        lambda d: (d / "u16.csv").write_bytes(good_frame().to_csv(index=False).encode("utf-16")),
    ),
    case(
        "train-hdf5-variable-length-dataset-as-feature",
        f"train --data vl.h5 --label-column label {FISHER} --features f0,trk",
        r"'trk' in vl\.h5 holds a list of values per event \(row 1: 1 values\)",
        lambda d: _variable_length_hdf5(d / "vl.h5"),
    ),
    case(
        "train-data-from-a-pipe",
        f"train --data pipe.csv --label-column label {FISHER}",
        r"pipe\.csv is not a regular file",
        fifo("pipe.csv"),
    ),
    case(
        "predict-input-that-is-a-loop-of-links",
        "predict runs/bin --input loop1.csv --output s.parquet",
        r"loop1\.csv is a link in a loop of links",
        lambda d: (linked("loop1.csv", "loop2.csv")(d), linked("loop2.csv", "loop1.csv")(d)),
    ),
    case(
        "train-data-through-a-dangling-link",
        f"train --data gone.csv --label-column label {FISHER}",
        r"gone\.csv is a link to moved\.csv, which does not exist",
        linked("gone.csv", "moved.csv"),
    ),
]


@pytest.mark.parametrize("hostile", DATA_CASES)
def test_hostile_data_costs_one_error_line_and_no_file(app, case_folder: Path, hostile: Case) -> None:  # noqa: F811
    check_hostile(app, case_folder, hostile)


# -- files that must give the same result as the plain one -----------------------------------------


def train(app, folder: Path, data: str, name: str, *extra: str) -> dict:  # noqa: F811
    """Train the quick Fisher discriminant on ``data`` (all numeric columns, weighted by ``weight``); its metadata
    and test AUC."""
    argv = ["train", "--data", data, "--label-column", "label", "--weight", "weight", "--model", "fisher"]
    argv += ["--name", name, *extra]
    result = invoke(app, argv)
    assert result.exit_code == 0, f"{shlex.join(argv)}\n{result.output}"
    metadata = json.loads((folder / "runs" / name / "model" / "metadata.json").read_text())
    auc = json.loads((folder / "runs" / name / "metrics.json").read_text())["test"]["auc"]
    return {"features": metadata["features"], "auc": auc}


def written_with_pandas_index(folder: Path) -> list[str]:
    """The good events, sorted by label (signal last), written by pandas with its row index (the default)."""
    frame = good_frame().sample(frac=1.0, random_state=3).sort_values("label")
    frame.to_csv(folder / "indexed.csv")  # a first column without a name
    frame.to_parquet(folder / "indexed.parquet")  # a column '__index_level_0__'
    frame.to_hdf(folder / "indexed.h5", key="events", format="table")  # a field 'index'
    return ["indexed.csv", "indexed.parquet", "indexed.h5"]


def test_the_row_index_pandas_writes_is_never_a_feature(app, case_folder: Path) -> None:  # noqa: F811
    """Before, the index was a feature (from the CSV's unnamed column, ``__index_level_0__``): a shuffled,
    then sorted frame gave the classifier the event's original position."""
    for i, name in enumerate(written_with_pandas_index(case_folder)):
        got = train(app, case_folder, name, f"indexed{i}")
        assert got["features"] == ["f0", "f1", "f2", "f3"], name


@pytest.mark.parametrize("fmt", ["table", "table-data-columns"])
def test_hdf5_of_pandas_table_format_is_read(app, case_folder: Path, fmt: str) -> None:  # noqa: F811
    """``to_hdf(format="table")`` was 'holds no table' (or, as FILE:events/table, its index became a feature)."""
    frame = good_frame().assign(tagged=lambda f: f["f0"] > 0, name=lambda f: np.where(f["label"] == 1, "t", "q"))
    data_columns = True if fmt == "table-data-columns" else None
    frame.to_hdf(case_folder / "tab.h5", key="events", format="table", data_columns=data_columns)
    plain = train(app, case_folder, "good.h5", "plain")
    for i, source in enumerate(["tab.h5", "tab.h5:events", "tab.h5:events/table"]):
        assert train(app, case_folder, source, f"tab{i}") == plain, source
    from neyman import io

    table = io.read(case_folder / "tab.h5", entry_start=7, entry_stop=311)
    assert "index" not in table.column_names
    for column in ["f0", "label", "event_id", "tagged"]:
        np.testing.assert_array_equal(table[column], frame[column].to_numpy()[7:311], err_msg=column)
    assert [v.decode() if isinstance(v, bytes) else v for v in table["name"][:3]] == list(frame["name"][7:10])


@pytest.mark.parametrize("name", ["flags.parquet", "flags.csv"])
def test_boolean_labels_train_the_model_of_0_and_1(app, case_folder: Path, name: str) -> None:  # noqa: F811
    """Booleans (True: signal) were "labels np.str_('False'), np.str_('True') that are not in data.classes"."""
    frame = good_frame().assign(label=lambda f: f["label"].astype(bool))
    frame.to_csv(case_folder / name, index=False) if name.endswith(".csv") else frame.to_parquet(case_folder / name)
    assert train(app, case_folder, name, "flags") == train(app, case_folder, "good.parquet", "plain")


def test_predict_copies_identifiers_stored_as_text_exactly(app, case_folder: Path) -> None:  # noqa: F811
    """Event numbers beyond 2**53 stored as strings were turned into float64: all 400 became one value."""
    frame = good_frame().assign(event=[str(2**62 + i) for i in range(400)])
    frame.to_parquet(case_folder / "ids.parquet")
    result = invoke(app, ["predict", "runs/bin", "--input", "ids.parquet", "--output", "scored.parquet"])
    assert result.exit_code == 0, result.output
    scored = pd.read_parquet(case_folder / "scored.parquet")
    assert scored["event"].tolist() == frame["event"].tolist()
    plain = invoke(app, ["predict", "runs/bin", "--input", "good.parquet", "--output", "plain.parquet"])
    assert plain.exit_code == 0, plain.output
    np.testing.assert_array_equal(scored["score"], pd.read_parquet(case_folder / "plain.parquet")["score"])


# -- columns the automatic choice of features leaves out -------------------------------------------


def warning_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("warning:")]


def train_output(app, folder: Path, data: str, name: str, *extra: str) -> tuple[list[str], list[str]]:  # noqa: F811
    """Train the quick Fisher discriminant on ``data`` (weighted by ``weight``); its features and the ``warning:``
    lines it printed."""
    argv = ["train", "--data", data, "--label-column", "label", "--weight", "weight", "--model", "fisher"]
    argv += ["--name", name, *extra]
    result = invoke(app, argv)
    assert result.exit_code == 0, f"{shlex.join(argv)}\n{result.output}"
    metadata = json.loads((folder / "runs" / name / "model" / "metadata.json").read_text())
    return metadata["features"], warning_lines(result.output)


def test_automatic_features_name_the_columns_they_leave_out(app, case_folder: Path) -> None:  # noqa: F811
    """Boolean and text columns were left out of the features silently; now one warning line names them."""
    frame = good_frame().assign(has_btag=lambda f: f["f0"] > 0.5, flavour=lambda f: np.where(f["f1"] > 0, "b", "c"))
    frame.to_parquet(case_folder / "flags.parquet")
    features, warned = train_output(app, case_folder, "flags.parquet", "flags")
    assert features == ["f0", "f1", "f2", "f3"]
    assert len(warned) == 1, warned
    assert re.search(r"flags\.parquet.*left out.*'has_btag' \(true/false\).*'flavour' \(text\).*--features", warned[0])
    # listed explicitly, a boolean column is a 0/1 feature
    features, warned = train_output(app, case_folder, "flags.parquet", "btag", "--features", "f0,has_btag")
    assert features == ["f0", "has_btag"] and warned == []
    # nothing left out: no warning (the reserved columns weight, target, event_id are not features)
    assert train_output(app, case_folder, "good.parquet", "plain") == (["f0", "f1", "f2", "f3"], [])


def test_scores_of_an_earlier_predict_are_never_automatic_features(app, case_folder: Path) -> None:  # noqa: F811
    """A file scored by ``neyman predict`` and trained on again gave the new model the old one's score (a leak)."""
    scored = invoke(app, ["predict", "runs/bin", "--input", "good.parquet", "--output", "scored.parquet"])
    assert scored.exit_code == 0, scored.output
    frame = pd.read_parquet(case_folder / "scored.parquet").assign(score_std=0.1, score_top=0.5)
    frame.to_parquet(case_folder / "scored.parquet")
    features, warned = train_output(app, case_folder, "scored.parquet", "again")
    assert features == ["f0", "f1", "f2", "f3"]
    assert len(warned) == 1 and re.search(r"'score', 'score_std', 'score_top' \(neyman's output", warned[0]), warned
    features, warned = train_output(app, case_folder, "scored.parquet", "chosen", "--features", "f0,score")
    assert features == ["f0", "score"] and warned == []  # asked for, a score is a feature


def test_a_named_pandas_index_is_never_an_automatic_feature(app, case_folder: Path) -> None:  # noqa: F811
    """``df.set_index("evt").to_parquet(...)`` stores ``evt`` as an ordinary column, which became a feature."""
    frame = good_frame().assign(evt=np.random.default_rng(5).permutation(N_EVENTS) + 10_000).set_index("evt")
    frame.sort_values("label").to_parquet(case_folder / "indexed.parquet")
    features, warned = train_output(app, case_folder, "indexed.parquet", "indexed")
    assert features == ["f0", "f1", "f2", "f3"]
    assert len(warned) == 1 and re.search(r"'evt' \(the index pandas wrote", warned[0]), warned


def test_evaluate_does_not_repeat_the_warning_of_the_training(app, case_folder: Path) -> None:  # noqa: F811
    """Evaluating reads the run's own features instead of choosing them from the file again."""
    good_frame().assign(flavour="b").to_parquet(case_folder / "text.parquet")
    _, warned = train_output(app, case_folder, "text.parquet", "text")
    assert len(warned) == 1 and "'flavour' (text)" in warned[0]
    result = invoke(app, ["evaluate", "runs/text", "--bootstrap", "10"])
    assert result.exit_code == 0, result.output
    assert warning_lines(result.output) == []


def test_the_exact_ratio_of_a_synthetic_file_is_never_an_automatic_feature(app, case_folder: Path) -> None:  # noqa: F811
    """``neyman.testing``'s files carry ``true_log_lr``, the answer itself: as a feature it gave a perfect tagger."""
    frame = good_frame()
    frame.assign(true_log_lr=1.6 * frame["label"] - 0.8).to_parquet(case_folder / "synthetic.parquet")
    features, warned = train_output(app, case_folder, "synthetic.parquet", "synthetic")
    assert features == ["f0", "f1", "f2", "f3"] and warned == []


def test_a_column_without_a_header_name_is_named_when_left_out(app, case_folder: Path) -> None:  # noqa: F811
    """``a,,label``: the unnamed middle column was dropped from the features with no word; pandas' row index
    (the unnamed first column counting the rows) stays left out quietly."""
    frame = good_frame()[["f0", "f1", "label", "weight"]]
    lines = frame.to_csv(index=False).splitlines()
    (case_folder / "blank.csv").write_text("\n".join(["f0,,label,weight", *lines[1:]]) + "\n")
    features, warned = train_output(app, case_folder, "blank.csv", "blank")
    assert features == ["f0"]
    assert len(warned) == 1 and re.search(r"blank\.csv: left out.*'' \(no name in the header: name it", warned[0])
    frame.to_csv(case_folder / "indexed.csv")  # pandas' default: the row index first, with no name
    assert train_output(app, case_folder, "indexed.csv", "indexed") == (["f0", "f1"], [])


def test_a_feature_rounded_in_one_class_file_only_is_warned_about(app, case_folder: Path) -> None:  # noqa: F811
    """Background written with ``f0`` rounded (another tool, another unit) trained with no word: the classifier
    separates the files' formats."""
    frame = good_frame()
    frame[frame["label"] == 1].drop(columns="label").to_parquet(case_folder / "sig.parquet")
    frame[frame["label"] == 0].drop(columns="label").assign(f0=lambda f: np.round(10 * f["f0"])).to_parquet(
        case_folder / "bkg.parquet"
    )
    argv = ["train", "--signal", "sig.parquet", "--background", "bkg.parquet", "--model", "fisher"]
    argv += ["--features", FEATURE_LIST, "--weight", "weight", "--name", "rounded"]
    result = invoke(app, argv)
    assert result.exit_code == 0, result.output
    warned = warning_lines(result.output)
    assert len(warned) == 1 and re.search(
        r"'f0' holds only whole numbers in bkg\.parquet \(class 'background'\) but fractions in sig\.parquet", warned[0]
    ), warned
    frame[frame["label"] == 0].drop(columns="label").to_parquet(case_folder / "bkg.parquet")  # written alike
    argv[-1] = "alike"
    result = invoke(app, argv)
    assert result.exit_code == 0 and warning_lines(result.output) == [], result.output
