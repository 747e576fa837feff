"""Hostile but realistic command lines: each costs one ``error:`` line, exit code 2, and no file.

Every case runs ``neyman`` in-process (``typer.testing.CliRunner``) in its own folder, which holds a
copy of the shared inputs (good data files in every format, trained runs, an ONNX export) plus
whatever the case damages or adds.  Each case asserts that

* the exit code is 2 and nothing raised past the command's error handling;
* the output holds exactly one line starting with ``error:``, on stderr, and the error names the
  culprit (the file, the column, the option or the value: a regex per case, searched in the
  ``error:`` line and the indented lines right below it, where a configuration error lists its
  keys), and there is no traceback;
* no file or folder under the case's folder was added, removed or changed (sha256 and mtime),
  except the paths a case allows to appear or change (normally none: see docs/reliability.md; a
  resumed run may record its failure in its own status.json).

A case that documents a known gap may be marked with ``xfail=`` (strict) and what happens now;
none is today.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import shutil
import traceback
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import Result
from typer.testing import CliRunner

N_EVENTS = 400
FEATURES = ["f0", "f1", "f2", "f3"]
FEATURE_LIST = ",".join(FEATURES)
QUICK_MLP = "--model mlp --set training.epochs=1 --set model.hidden=[8] --set training.progress=false"

# the quick command lines the cases start from (every one of them succeeds on the good inputs)
TRAIN = f"train --data good.csv --label-column label --model fisher --features {FEATURE_LIST} --name fresh"
TRAIN_CFG = "train good.yaml --name fresh"
HUNT = "hunt dijet.parquet --mass mjj --features f0,f1 --method cwola --toys 0"


# -- data helpers ---------------------------------------------------------------------------------


def good_frame(n: int = N_EVENTS, seed: int = 0) -> pd.DataFrame:
    """Four features, a 0/1 label, a positive weight, a regression target and an event number."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 2, n)
    x = rng.normal(size=(n, len(FEATURES))) + 0.8 * label[:, None]
    frame = pd.DataFrame({name: x[:, j] for j, name in enumerate(FEATURES)})
    frame["label"] = label
    frame["weight"] = rng.uniform(0.5, 1.5, n)
    frame["target"] = 2.0 * x[:, 0] + 0.1 * rng.normal(size=n)
    frame["event_id"] = np.arange(n)
    return frame


def write_frame(frame: pd.DataFrame, path: Path) -> Path:
    """``frame`` as CSV, Parquet, ROOT (tree ``events``) or HDF5, by the extension of ``path``."""
    from neyman import io
    from neyman.table import Table

    if path.suffix == ".csv":
        frame.to_csv(path, index=False)
    elif path.suffix == ".parquet":
        frame.to_parquet(path)
    else:
        io.write(Table.from_pandas(frame), path, tree="events")
    return path


def frame_file(name: str, change: Callable[[pd.DataFrame], pd.DataFrame]) -> Callable[[Path], None]:
    """Setup: write the good events, changed by ``change``, to ``name`` (format from the extension)."""

    def setup(folder: Path) -> None:
        write_frame(change(good_frame()), folder / name)

    return setup


def beside_old_provenance(name: str, record: dict[str, object], columns: dict[str, float]) -> Callable[[Path], None]:
    """Setup: the user's own file written over a neyman output, whose provenance stayed beside it."""

    def setup(folder: Path) -> None:
        write_frame(good_frame().assign(**columns), folder / name)
        written = {"bytes": 123, "sha256": "0" * 64}  # the file neyman wrote then, replaced since
        (folder / f"{name}.provenance.json").write_text(json.dumps({**record, "file": written}))

    return setup


def text_file(name: str, text: str) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)

    return setup


def bytes_file(name: str, data: bytes) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    return setup


def folder_with(name: str, *files: str) -> Callable[[Path], None]:
    """Setup: a folder ``name`` holding the (small text) ``files``."""

    def setup(folder: Path) -> None:
        (folder / name).mkdir(parents=True, exist_ok=True)
        for file in files:
            (folder / name / file).write_text(f"{file}: not neyman's\n")

    return setup


def truncated(source: str, name: str, fraction: float = 0.5) -> Callable[[Path], None]:
    """Setup: the first ``fraction`` of the bytes of ``source`` (a good file) as ``name``."""

    def setup(folder: Path) -> None:
        data = (folder / source).read_bytes()
        (folder / name).write_bytes(data[: int(len(data) * fraction)])

    return setup


def flipped(source: str, name: str) -> Callable[[Path], None]:
    """Setup: ``source`` with every byte of its middle third inverted, as ``name``."""

    def setup(folder: Path) -> None:
        data = bytearray((folder / source).read_bytes())
        third = len(data) // 3
        for i in range(third, 2 * third):
            data[i] ^= 0xFF
        (folder / name).write_bytes(bytes(data))

    return setup


def flip_in_place(path: str) -> Callable[[Path], None]:
    """Setup: invert one byte in the middle of ``path`` (silent disk or copy damage)."""

    def setup(folder: Path) -> None:
        data = bytearray((folder / path).read_bytes())
        data[len(data) // 2] ^= 0xFF
        (folder / path).write_bytes(bytes(data))

    return setup


def json_edit(path: str, change: Callable[[dict], object]) -> Callable[[Path], None]:
    """Setup: replace the JSON document at ``path`` by ``change(document)``."""

    def setup(folder: Path) -> None:
        document = json.loads((folder / path).read_text())
        (folder / path).write_text(json.dumps(change(document)))

    return setup


def without(key: str) -> Callable[[dict], dict]:
    return lambda document: {k: v for k, v in document.items() if k != key}


def status(run: str, state: str) -> Callable[[Path], None]:
    return text_file(f"runs/{run}/status.json", json.dumps({"state": state, "time": "2026-01-01T00:00:00"}))


def removed(path: str) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        target = folder / path
        shutil.rmtree(target) if target.is_dir() else target.unlink()

    return setup


def interrupted(run: str) -> Callable[[Path], None]:
    """Setup: ``runs/RUN`` as a training killed after its last checkpoint (status failed, no model yet)."""

    def setup(folder: Path) -> None:
        status(run, "failed")(folder)
        shutil.rmtree(folder / "runs" / run / "model")
        (folder / "runs" / run / "metrics.json").unlink()

    return setup


def both(*setups: Callable[[Path], None]) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        for step in setups:
            step(folder)

    return setup


def with_cell(column: str, row: int, value: object) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def change(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.astype({column: object}) if isinstance(value, str) else frame
        frame.loc[row, column] = value
        return frame

    return change


def with_mass(frame: pd.DataFrame) -> pd.DataFrame:
    """The good events with a resonance variable ``mjj``: 133 events in each of 2700-3200-3700-4200."""
    frame["mjj"] = np.linspace(2700.0, 4199.0, len(frame))
    return frame


def below_the_signal_region(frame: pd.DataFrame) -> pd.DataFrame:
    """The events of ``with_mass`` below 3200: a reference without events in [3200, 3700)."""
    frame = with_mass(frame)
    return frame[frame["mjj"] < 3200.0].drop(columns="label")


def nested_yaml(depth: int) -> str:
    return "model:\n  hidden: " + "[" * depth + "8" + "]" * depth + "\n"


GOOD_YAML = (
    "data:\n  sources:\n    - path: good.csv\n  label_column: label\n  features: [f0, f1, f2, f3]\n"
    "model:\n  type: mlp\n  hidden: [8]\ntraining:\n  epochs: 1\n  progress: false\n"
)
TUNE_SPACE = "tuning:\n  trials: 1\n  space:\n    training.optimizer.lr: {float: [1.0e-4, 1.0e-2], log: true}\n"


# -- the cases ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    argv: str  # shell words; {tmp} is the case folder
    culprit: str  # regex the error (its error: line and indented detail lines) must match
    setup: Callable[[Path], None] | None = None
    allowed: tuple[str, ...] = ()  # globs (relative to the case folder) of paths that may appear or change


def case(
    name: str,
    argv: str,
    culprit: str,
    setup: Callable[[Path], None] | None = None,
    *,
    allowed: tuple[str, ...] = (),
    xfail: str | None = None,
) -> object:
    marks = [pytest.mark.xfail(strict=True, reason=xfail)] if xfail else []
    return pytest.param(Case(argv, culprit, setup, allowed), id=name, marks=marks)


CASES = [
    # ---- data files -----------------------------------------------------------------------------
    case("train-missing-file-close-match", "train --data god.csv --label-column label", r"god\.csv.*good\.csv"),
    case("train-missing-signal-root", "train --signal sig.root:events --background good.root:events", r"sig\.root"),
    case(
        "train-directory-as-data",
        "train --data events.csv --label-column label",
        r"events\.csv",
        folder_with("events.csv", "a.txt"),
    ),
    case("train-empty-file", "train --data empty.csv --label-column label", r"empty\.csv", text_file("empty.csv", "")),
    case(
        "train-header-only-csv",
        "train --data head.csv --label-column label",
        r"head\.csv",
        text_file("head.csv", "f0,f1,f2,f3,label,weight\n"),
    ),
    case(
        "train-string-cell-with-features",
        f"train --data cell.csv --label-column label --features {FEATURE_LIST}",
        r"'f2'.*0\.3 GeV",
        frame_file("cell.csv", with_cell("f2", 17, "0.3 GeV")),
    ),
    case(
        "train-string-cell-all-columns",
        "train --data cell.csv --label-column label",
        r"'f2'.*0\.3 GeV",
        frame_file("cell.csv", with_cell("f2", 17, "0.3 GeV")),
    ),
    case(
        "train-na-cell-is-missing",
        "train --data na.csv --label-column label",
        r"na\.csv.*'f2'",
        frame_file("na.csv", with_cell("f2", 17, "n/a")),
    ),
    case(
        "train-string-cell-parquet",
        "train --data cell.parquet --label-column label --model fisher",
        r"f1",
        frame_file("cell.parquet", lambda f: f.assign(f1=f["f1"].map("{:.3f}".format).where(f.index != 3, "high"))),
    ),
    case(
        "train-ragged-csv",
        "train --data ragged.csv --label-column label",
        r"ragged\.csv",
        text_file("ragged.csv", "f0,f1,label\n1,2,0\n3,4,1,7,8\n5,6,0\n"),
    ),
    case(
        "train-csv-duplicate-header",
        "train --data dup.csv --label-column label",
        r"f1",
        text_file("dup.csv", "f0,f1,f1,label\n" + "1,2,3,0\n4,5,6,1\n" * 50),
    ),
    case(
        "train-non-utf8-csv",
        "train --data latin.csv --label-column label",
        r"latin\.csv",
        bytes_file("latin.csv", b"f0,f1,label\n1,2,0\n" + "\u00e9t\u00e9".encode("latin-1") + b",3,1\n"),
    ),
    case(
        "train-binary-named-csv",
        "train --data image.csv --label-column label",
        r"image\.csv",
        bytes_file("image.csv", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8),
    ),
    case(
        "train-truncated-parquet",
        "train --data cut.parquet --label-column label",
        r"cut\.parquet",
        truncated("good.parquet", "cut.parquet"),
    ),
    case(
        "train-parquet-label-missing",
        "train --data nolabel.parquet --label-column label",
        r"'label'.*nolabel\.parquet",
        frame_file("nolabel.parquet", lambda f: f.drop(columns="label")),
    ),
    case(
        "train-truncated-root",
        "train --data cut.root:events --label-column label",
        r"cut\.root",
        truncated("good.root", "cut.root"),
    ),
    case(
        "train-flipped-root",
        f"train --data flip.root:events --label-column label --features {FEATURE_LIST} --model fisher",
        r"flip\.root",
        flipped("good.root", "flip.root"),
    ),
    case(
        "train-root-missing-tree-close-match", "train --data good.root:evnets --label-column label", r"evnets.*events"
    ),
    case(
        "train-text-named-root",
        "train --signal notes.root:events --background good.root:events",
        r"notes\.root",
        text_file("notes.root", "just some notes\n"),
    ),
    case(
        "train-truncated-hdf5", "train --data cut.h5 --label-column label", r"cut\.h5", truncated("good.h5", "cut.h5")
    ),
    case(
        "train-flipped-hdf5",
        f"train --data flip.h5 --label-column label --features {FEATURE_LIST} --model fisher",
        r"flip\.h5",
        flipped("good.h5", "flip.h5"),
    ),
    case(
        "train-spark-parquet-directory",
        "train --data spark.parquet --label-column label",
        r"spark\.parquet",
        both(
            folder_with("spark.parquet", "_SUCCESS"),
            lambda d: good_frame().to_parquet(d / "spark.parquet" / "part-00000.parquet"),
        ),
    ),
    case(
        "train-csv-semicolons",
        "train --data semi.csv --label-column label",
        r"semi\.csv",
        lambda d: good_frame().to_csv(d / "semi.csv", sep=";", index=False),
    ),
    case(
        "train-gz-not-gzipped",
        "train --data plain.csv.gz --label-column label",
        r"plain\.csv\.gz",
        lambda d: good_frame().to_csv(d / "plain.csv.gz", index=False, compression=None),
    ),
    case(
        "train-same-file-signal-and-background",
        "train --signal good.root:events --background good.root:events --model fisher --features f0,f1",
        r"good\.root",
    ),
    case(
        "train-unknown-extension",
        "train --data good.xlsx --label-column label",
        r"good\.xlsx",
        bytes_file("good.xlsx", b"PK\x03\x04 not really a workbook"),
    ),
    case("train-unknown-format-option", "train --data good.csv --label-column label --format excel", r"excel"),
    case(
        "train-format-csv-on-parquet",
        "train --data good.parquet --label-column label --format csv",
        r"good\.parquet is a Parquet file \(its first bytes say so\), not csv as its format was given",
    ),
    case(
        "train-parquet-named-csv",  # its binary header was shown as a CSV line
        "train --data renamed.csv --label-column label",
        r"renamed\.csv is a Parquet file .* rename it \(e\.g\. to renamed\.parquet\)",
        lambda d: shutil.copy(d / "good.parquet", d / "renamed.csv"),
    ),
    case(
        "train-npy-wrong-shape",
        "train --data cube.npy --label-column f0",
        r"cube\.npy",
        lambda d: np.save(d / "cube.npy", np.zeros((10, 3, 2))),
    ),
    case(
        "train-npy-pickled-objects",
        "train --data objects.npy --label-column f0",
        r"objects\.npy",
        lambda d: np.save(d / "objects.npy", np.array([{"a": 1}, None], dtype=object), allow_pickle=True),
    ),
    case(
        "train-nan-feature",
        f"train --data nan.csv --label-column label --features {FEATURE_LIST}",
        r"f1",
        frame_file("nan.csv", with_cell("f1", 5, np.nan)),
    ),
    case(
        "train-inf-feature-parquet",
        f"train --data inf.parquet --label-column label --features {FEATURE_LIST}",
        r"f3",
        frame_file("inf.parquet", with_cell("f3", 9, np.inf)),
    ),
    case(
        "train-three-labels-binary",
        "train --data three.csv --label-column label --task binary",
        r"'label'.*\b2\b",
        frame_file("three.csv", with_cell("label", 0, 2)),
    ),
    case(
        "train-non-integer-labels",
        "train --data half.csv --label-column label",
        r"'label' holds 1 non-integer label \(e\.g\. 0\.5; the first in row 5\).*--target label",
        frame_file("half.csv", lambda f: f.astype({"label": float}).pipe(with_cell("label", 4, 0.5))),
    ),
    case(
        "train-almost-integer-labels",  # shown in full: rounded, 0.9999999 read as 1
        "train --data almost.csv --label-column label",
        r"'label' holds 1 non-integer label \(e\.g\. 0\.9999999; the first in row 3\)",
        frame_file("almost.csv", lambda f: f.astype({"label": float}).pipe(with_cell("label", 2, 0.9999999))),
    ),
    case(
        "train-three-text-labels-binary",
        "train --data three-names.csv --label-column label",
        r"'label' holds labels 'qcd', 'top', 'wz'.*--task multiclass",
        frame_file("three-names.csv", lambda f: f.assign(label=np.array(["qcd", "top", "wz"])[np.arange(len(f)) % 3])),
    ),
    case(
        "train-selection-dotted-name",
        "train --data dotted.csv --label-column label --selection 'jet.pt > 0'",
        r"attribute access is not allowed in 'jet\.pt'.*backticks: `jet\.pt`",
        frame_file("dotted.csv", lambda f: f.rename(columns={FEATURES[0]: "jet.pt"})),
    ),
    case(
        "train-quoted-wildcard",
        "train --data 'goo*.csv' --label-column label",
        r"goo\*\.csv does not exist \(here it would match good\.csv\): neyman does not expand wildcards",
    ),
    case(
        "reweight-automatic-feature-with-nan",
        "reweight --source nan.csv --target good.csv --model logistic",
        r"nan\.csv: column 'f1' \(a feature\) holds nan in row 4",
        frame_file("nan.csv", with_cell(FEATURES[1], 3, np.nan)),
    ),
    case(
        "train-string-labels",
        "train --data names.csv --label-column label",
        r"'label'.*\b(sig|bkg)\b",
        frame_file("names.csv", lambda f: f.assign(label=np.where(f["label"] == 1, "sig", "bkg"))),
    ),
    case(
        "train-nan-label",
        "train --data nanlabel.parquet --label-column label",
        r"'label'.*\b(nan|NaN)\b",
        frame_file("nanlabel.parquet", with_cell("label", 7, np.nan)),
    ),
    case(
        "train-nan-weight",
        "train --data w.csv --label-column label --weight weight --model fisher",
        r"'weight'.*w\.csv",
        frame_file("w.csv", with_cell("weight", 11, np.nan)),
    ),
    case(
        "train-inf-weight",
        "train --data w.parquet --label-column label --weight weight --model fisher",
        r"'weight'.*w\.parquet",
        frame_file("w.parquet", with_cell("weight", 11, np.inf)),
    ),
    case(
        "train-all-weights-negative",
        "train --data neg.csv --label-column label --weight weight --model fisher",
        r"total weight.*-\d",
        frame_file("neg.csv", lambda f: f.assign(weight=-f["weight"])),
    ),
    case(
        "train-weight-column-missing",
        "train --data good.csv --label-column label --weight wieght --model fisher",
        r"wieght.*weight",
    ),
    case(
        "train-weight-string-column",
        "train --data ws.csv --label-column label --weight weight --model fisher",
        r"'weight'.*1\.0pb",
        frame_file("ws.csv", with_cell("weight", 2, "1.0pb")),
    ),
    case(
        "train-feature-missing-close-match",
        "train --data good.csv --label-column label --features f0,f1,ff2",
        r"ff2.*f2",
    ),
    case(
        "train-feature-duplicate",
        "train --data good.csv --label-column label --features f0,f1,f1",
        r"f1",
    ),
    case(
        "train-uncertainty-of-one-pass",  # every event's score_std was exactly 0
        "train --data good.csv --label-column label --set model.uncertainty=bayesian --set model.passes=1",
        r"passes: 1 forward pass gives bayesian no spread",
    ),
    case(
        "train-multiclass-nan-label",  # the class count was taken from the labels' maximum: a traceback
        "train --data nanlabel.parquet --label-column label --task multiclass",
        r"column 'label' holds 1 missing or infinite labels \(the first in row 8: nan\)",
        frame_file("nanlabel.parquet", with_cell("label", 7, np.nan)),
    ),
    case(
        "train-label-as-feature",
        "train --data good.csv --label-column label --model fisher --features f0,f1,label",
        r"label",
    ),
    case(
        "train-target-as-feature",
        "train --data good.csv --target target --model lightgbm --features f0,target",
        r"target",
    ),
    case("train-label-column-missing", "train --data good.csv --label-column lable", r"lable.*label"),
    case("train-more-folds-than-events", f"{TRAIN} --set split.kfold=5000", r"split\.kfold = 5000 .*choose fewer"),
    case("train-features-empty", "train --data good.csv --label-column label --features ''", r"empty column"),
    case("train-features-empty-item", "train --data good.csv --label-column label --features f0,,f1", r"empty column"),
    case(
        "train-label-column-with-signal-background",
        "train --signal good.csv --background good.csv --label-column label",
        r"--label-column label goes with --data",
    ),
    case("train-target-missing", "train --data good.csv --target tagret", r"tagret.*target"),
    case(
        "train-density-constant-condition",
        "train --data c.csv --task density --features f0,f1,f3 --set model.condition=[f3]",
        r"the condition 'f3' holds one value in the training events.*remove it from model\.condition",
        frame_file("c.csv", lambda frame: frame.assign(f3=7.0)),
    ),
    case(
        "train-autoencoder-three-events",  # 'cannot fit Residualize on zero events'
        "train --data three.csv --task autoencoder --features f0,f1",
        r"too few events to split: the training part .* holds none of the 3 events",
        frame_file("three.csv", lambda frame: frame.head(3)),
    ),
    case(
        "train-density-two-events",  # 'features are linearly dependent'
        "train --data two.csv --task density --features f0,f1",
        r"2 events for a density of 2 features",
        frame_file("two.csv", lambda frame: frame.head(2)),
    ),
    case(
        "train-device-unknown",
        f"train --data good.csv --label-column label --model mlp --features {FEATURE_LIST} "
        "--set training.device=banana",
        r"training\.device: unknown device 'banana'",
    ),
    # an option and a --set of its key: one of the two was dropped without a word
    case("train-name-and-set-name", f"{TRAIN} --name t6 --set name=foo", r"--set name: this command sets name itself"),
    case(
        "train-features-and-set-features",
        "train --data good.csv --label-column label --features f0,f1 --set data.features=[f0]",
        r"--set data\.features: this command sets data\.features itself \(--features\)",
    ),
    case(
        "train-nan-target",
        "train --data t.csv --target target --features f0,f1",
        r"target",
        frame_file("t.csv", with_cell("target", 3, np.nan)),
    ),
    case(
        "train-planing-on-a-constant-variable",
        "train --data c.csv --label-column label --features f0,f1 --set training.decorrelate.variable=f3 "
        "--set training.decorrelate.method=planing",
        r"c\.csv: training\.decorrelate\.variable 'f3' holds the one value 7 in every background event",
        frame_file("c.csv", lambda frame: frame.assign(f3=7.0)),
    ),
    case(
        "train-flow-conditioned-on-every-feature",
        "train --data good.csv --task density --features f0,f1 --set 'model.condition=[f0,f1]'",
        r"model\.condition names every feature \(f0, f1\)",
    ),
    case(
        "train-autoencoder-without-background",
        "train --data sig.csv --label-column label --task autoencoder --features f0,f1",
        r"sig\.csv: no background event \(label 0\) to learn from, every event is labelled 'signal'",
        frame_file("sig.csv", lambda frame: frame.assign(label=1)),
    ),
    case(
        "train-duplicate-column-selected",
        "train --data dup.csv --label-column label --features f0,f1",
        r"dup\.csv has duplicate column names \['f0'\]",
        frame_file("dup.csv", lambda frame: frame.rename(columns={"f2": "f0"})),
    ),
    case(
        "train-constant-target",
        "train --data t.csv --target target --features f0,f1",
        r"target column 'target' holds the one value 5 in every event of t\.csv",
        frame_file("t.csv", lambda frame: frame.assign(target=5.0)),
    ),
    case("train-selection-syntax", f"{TRAIN} --selection 'f0 >'", r"f0 >"),
    case("train-selection-unknown-column", f"{TRAIN} --selection 'pt > 20'", r"\bpt\b"),
    case("train-selection-import", f"{TRAIN} --selection \"__import__('os').system('touch pwned')\"", r"__import__"),
    case("train-selection-401-digits", f"{TRAIN} --selection 'f0 < {'9' * 401}'", r"401 digits"),
    case("train-selection-attribute", f"{TRAIN} --selection 'f0.__class__ > 0'", r"__class__"),
    case("train-selection-keeps-nothing", f"{TRAIN} --selection 'f0 > 1e9'", r"data\.selection|f0 > 1e9"),
    case("train-selection-not-boolean", f"{TRAIN} --selection 'f0 + 1'", r"f0 \+ 1"),
    case(
        "train-two-events",
        "train --data two.csv --label-column label --model fisher",
        r"too few events.*background 1, signal 1",
        frame_file("two.csv", lambda f: f.groupby("label").head(1)),
    ),
    case(
        "train-one-class",
        "train --data one.csv --label-column label --model fisher",
        r"class 'background'",
        frame_file("one.csv", lambda f: f[f["label"] == 1]),
    ),
    case("train-signal-without-background", "train --signal good.root:events", r"--background"),
    case("train-data-without-label", "train --data good.csv", r"--label-column"),
    case(
        "train-data-and-config",
        "train good.yaml --data good.csv --label-column label",
        r"--data",
        text_file("good.yaml", GOOD_YAML),
    ),
    case(
        "train-bracket-file-name",
        "train --data 'ttbar[nominal].csv' --label-column label",
        r"ttbar\[nominal\]\.csv",
    ),
    case(
        "train-markup-in-feature",
        "train --data good.csv --label-column label --features 'f0,pt[/GeV]'",
        r"pt\[/GeV\]",
    ),
    case("train-task-regression-with-label", "train --data good.csv --label-column label --task regression", r"target"),
    # ---- usage errors found by the option parser ----------------------------------------------------
    case(
        "usage-unknown-option",
        "train --data good.csv --label-column label --epochs 3",
        r"--epochs",
    ),
    case(
        "usage-word-for-an-integer",
        "export runs/nn --fold two",
        r"--fold",
    ),
    case(
        "usage-missing-output",
        "predict runs/bin --input good.csv",
        r"--output",
    ),
    # ---- configurations -------------------------------------------------------------------------
    case("config-missing-file", "train run.yml", r"run\.yml"),
    case(
        "config-is-a-directory",
        "train configs",
        r"configs.*(directory|folder)",
        folder_with("configs", "a.yaml"),
    ),
    case("config-nested-5000-deep", "train deep.yaml", r"deep\.yaml", text_file("deep.yaml", nested_yaml(5000))),
    case("config-binary-file", "train blob.yaml", r"blob\.yaml", bytes_file("blob.yaml", bytes(range(256)) * 4)),
    case(
        "config-python-object-yaml",
        "train evil.yaml",
        r"evil\.yaml|python/object",
        text_file("evil.yaml", GOOD_YAML + "name: !!python/object/apply:os.system ['touch pwned']\n"),
    ),
    case(
        "config-yaml-syntax-error",
        "train tabs.yaml",
        r"tabs\.yaml",
        text_file("tabs.yaml", "data:\n\tsources: [good.csv]\n"),
    ),
    case("config-top-level-list", "train list.yaml", r"list\.yaml", text_file("list.yaml", "- data\n- model\n")),
    case("config-empty-file", "train empty.yaml", r"empty\.yaml|data\.sources", text_file("empty.yaml", "")),
    case(
        "config-duplicate-section",
        "train dup.yaml",
        r"training",
        text_file("dup.yaml", GOOD_YAML + "training:\n  epochs: 1\n  batch_size: 64\n"),
    ),
    case(
        "config-unknown-key-in-file",
        "train typo.yaml",
        r"trainig.*training",
        text_file("typo.yaml", GOOD_YAML + "trainig:\n  epochs: 3\n"),
    ),
    case("config-unknown-key-close-match", f"{TRAIN_CFG} --set model.hiden=[3]", r"hiden.*hidden"),
    case("config-wrong-type-epochs", f"{TRAIN_CFG} --set training.epochs=many", r"epochs"),
    case("config-wrong-type-hidden", f"{TRAIN_CFG} --set model.hidden=wide", r"hidden"),
    case("config-hidden-zero", f"{TRAIN_CFG} --set model.hidden=[0]", r"hidden"),
    case("config-hidden-negative", f"{TRAIN_CFG} --set model.hidden=[8,-4]", r"hidden"),
    case("config-lr-inf", f"{TRAIN_CFG} --set training.optimizer.lr=.inf", r"\blr\b"),
    case("config-lr-nan", f"{TRAIN_CFG} --set training.optimizer.lr=.nan", r"\blr\b"),
    case("config-negative-epochs", f"{TRAIN_CFG} --set training.epochs=-3", r"epochs"),
    case("config-batch-size-zero", f"{TRAIN_CFG} --set training.batch_size=0", r"batch_size"),
    case("config-set-empty-key", f"{TRAIN_CFG} --set =3", r"=3"),
    case("config-set-no-equals", f"{TRAIN_CFG} --set nodot", r"nodot"),
    case("config-set-unknown-section", f"{TRAIN_CFG} --set a.b.c=1", r"\n\s+a: unknown key"),
    case("config-set-unclosed-list", f"{TRAIN_CFG} --set model.hidden=[8", r"model\.hidden"),
    case("config-split-not-summing", f"{TRAIN_CFG} --set split.train=0.7", r"split"),
    case("config-kfold-one", f"{TRAIN_CFG} --set split.kfold=1", r"kfold"),
    case(
        "config-seed-huge",
        f"{TRAIN_CFG} --set seed={'9' * 30}",
        r"seed",
    ),
    case(
        "config-unknown-model-close-match", "train --data good.csv --label-column label --model fishr", r"fishr.*fisher"
    ),
    case("config-unknown-model-in-set", f"{TRAIN_CFG} --set model.type=bdt", r"bdt"),
    case(
        "config-unknown-task-close-match", "train --data good.csv --label-column label --task binray", r"binray.*binary"
    ),
    case("config-classifier-for-regression", "train --data good.csv --target target --model fisher", r"fisher"),
    case(
        "config-sources-missing-file",
        "train nodata.yaml",
        r"gone\.csv",
        text_file("nodata.yaml", GOOD_YAML.replace("good.csv", "gone.csv")),
    ),
    case("config-with-quick-option", "train good.yaml --model fisher", r"--model"),
    case("config-early-stop-negative", f"{TRAIN_CFG} --set training.early_stopping.patience=-1", r"patience"),
    case("config-optimizer-unknown", f"{TRAIN_CFG} --set training.optimizer.name=adamm", r"adamm"),
    case("config-example-unknown", "train --example top-taging", r"top-taging"),
    # ---- run names and output folders -----------------------------------------------------------
    case("name-dotdot", "train good.yaml --name ..", r"'\.\.'"),
    case("name-parent-escape", "train good.yaml --name ../x", r"\.\./x"),
    case("name-absolute", "train good.yaml --name {tmp}/abs", r"/abs"),
    case("name-nested", "train good.yaml --name a/b", r"a/b"),
    case("name-dot", "train good.yaml --name .", r"'\.'"),
    case(  # 245 bytes were a legal folder that --force could never replace (its staging name was too long)
        "name-too-long-to-be-replaced",
        f"train good.yaml --name {'z' * 245}",
        r"\(245 characters\) is too long: .* staged as \.NAME\.new-PID beside it, so at most 240",
    ),
    case(
        "name-trailing-space",
        "train good.yaml --name 'run '",
        r"'run '",
    ),
    case(
        "name-too-long",
        "train good.yaml --name " + "x" * 300,
        r"x{40}",
    ),
    case(
        "name-in-config-escapes",
        "train escape.yaml",
        r"\.\./\.\./escape",
        text_file("escape.yaml", GOOD_YAML + "name: ../../escape\n"),
    ),
    case("force-onto-notes-folder", f"{TRAIN} --name notes --force", r"notes", folder_with("runs/notes", "notes.txt")),
    case("existing-run-without-force", TRAIN.replace("--name fresh", "--name bin"), r"runs/bin.*--force"),
    case(
        "output-dir-is-a-file",
        f"{TRAIN} --output-dir out.txt",
        r"out\.txt",
        text_file("out.txt", "results\n"),
    ),
    case(
        "output-dir-below-a-file",
        f"{TRAIN} --output-dir good.csv/runs",
        r"good\.csv",
    ),
    case(
        "book-existing-run",
        "train --data good.csv --label-column label --model fisher,logistic --name bin",
        r"bin-fisher",
        folder_with("runs/bin-fisher", "notes.txt"),
    ),
    case(
        "book-unknown-model",
        "train --data good.csv --label-column label --model fisher,xgbost --name b",
        r"xgbost.*xgboost",
    ),
    # ---- resume ---------------------------------------------------------------------------------
    case(
        "existing-failed-run-without-force",
        TRAIN.replace("--name fresh", "--name nn"),
        r"runs/nn.*--resume",
        status("nn", "failed"),
    ),
    case(
        "resume-damaged-checkpoint",
        "train --resume runs/nn",
        r"last\.safetensors",
        both(interrupted("nn"), flip_in_place("runs/nn/checkpoints/last.safetensors")),
        allowed=("runs/nn/status.json",),
    ),
    case(
        "resume-change-features",
        "train --resume runs/nn --set data.features=[f0,f1]",
        r"data\.features",
        interrupted("nn"),
    ),
    case("resume-complete-run", "train --resume runs/nn", r"runs/nn.*complete"),
    case("resume-missing-dir", "train --resume runs/nope", r"cannot resume: run directory runs/nope does not exist"),
    case("resume-with-name", "train --resume runs/nn --name other", r"--name"),
    case("resume-with-config", "train good.yaml --resume runs/nn", r"config"),
    case("resume-not-a-run", "train --resume stuff", r"stuff", folder_with("stuff", "a.txt")),
    case("resume-change-model", "train --resume runs/nn --set model.hidden=[7]", r"model\.hidden", interrupted("nn")),
    case(
        "resume-interrupted-run-bad-epochs",
        "train --resume runs/nn --set training.epochs=many",
        r"epochs",
        interrupted("nn"),
    ),
    # ---- runs as inputs -------------------------------------------------------------------------
    # ---- reweight ----------------------------------------------------------------------------------
    case(
        "reweight-different-columns",
        "reweight --source good.csv --target extra.csv --model logistic",
        r"good\.csv.*extra\.csv.*different columns.*spare.*--features",
        frame_file("extra.csv", lambda f: f.assign(spare=1.0)),
    ),
    case(
        "reweight-model-that-is-no-classifier-of-columns",
        f"reweight --source good.csv --target good.parquet --features {FEATURE_LIST} --model boosted",
        r"--model 'boosted'.*choose mlp, xgboost, lightgbm, fisher, logistic or gbreweighter",
    ),
    case(
        "reweight-set-of-a-key-an-option-sets",
        f"reweight --source good.csv --target good.parquet --features {FEATURE_LIST} --set data.features=[x00]",
        r"--set data\.features: this command sets data\.features itself \(--features\)",
    ),
    case(
        "reweight-weight-column-of-zeros",
        f"reweight --source zero.csv --target good.csv --weight weight --features {FEATURE_LIST} --model logistic",
        r"zero\.csv.*'weight' is all zero",
        frame_file("zero.csv", lambda f: f.assign(weight=0.0)),
    ),
    case(
        "reweight-target-fewer-than-folds",
        f"reweight --source good.csv --target tiny.csv --features {FEATURE_LIST} --model logistic --kfold 5",
        r"tiny\.csv holds 3 events; 5-fold reweighting needs at least 50",
        frame_file("tiny.csv", lambda f: f.head(3)),
    ),
    case(
        "reweight-check-column-missing",
        f"reweight --source good.csv --target good.parquet --features {FEATURE_LIST} --check m_jj --model logistic",
        r"no column 'm_jj' \(given in --check\)",
    ),
    case(
        "reweight-positive-without-weight",
        "reweight --positive good.csv --model xgboost",
        r"--positive needs --weight",
    ),
    case(
        "reweight-run-with-options-it-fixes",
        "reweight --run runs/bin --fit good.csv --reference good.parquet --replicas 3 --features f0",
        r"--run fits with a trained run, which fixes --features, --replicas: give it with --fit and --reference only",
    ),
    case(
        "reweight-positive-file-without-events",
        f"reweight --positive empty.parquet --weight weight --features {FEATURE_LIST}",
        r"empty\.parquet holds 0 events; 5-fold regression of its weights needs at least 50",
        frame_file("empty.parquet", lambda f: f.head(0)),
    ),
    case(
        "reweight-positive-and-source",
        "reweight --positive good.csv --source good.csv --weight weight",
        r"either --source and --target .* or --positive alone",
    ),
    case(
        "reweight-positive-weights-sum-negative",
        f"reweight --positive neg.csv --weight weight --features {FEATURE_LIST} --model xgboost",
        r"neg\.csv.*'weight' sums to -",
        frame_file("neg.csv", lambda f: f.assign(weight=-1.0)),
    ),
    case(
        "reweight-parameter-without-nominal",
        "reweight --source good.csv --target good.parquet --parameter alphaS=0.1",
        r"--parameter needs --source .* and --nominal-value",
    ),
    case(
        "reweight-parameter-malformed",
        "reweight --source good.csv --target good.parquet --parameter alphaS --nominal-value 0.1",
        r"--parameter takes NAME=V1,V2",
    ),
    case(
        "reweight-two-targets-without-parameter",
        "reweight --source good.csv --target good.parquet --target good.csv",
        r"2 --target files need --parameter",
    ),
    case(
        "reweight-fit-with-a-plain-run",
        "reweight --run runs/bin --fit good.csv --reference good.csv",
        r"runs/bin is not a parametrised reweighting run",
    ),
    case("reweight-fit-without-reference", "reweight --run runs/bin --fit good.csv", r"--reference NOMINAL"),
    case(
        "reweight-fit-without-parameter",
        "reweight --source good.csv --target good.parquet --fit good.csv --reference good.csv",
        r"--fit and --reference go with --parameter",
    ),
    case(
        "reweight-replicas-without-parameter",
        "reweight --source good.csv --target good.parquet --replicas 3",
        r"--replicas goes with --parameter",
    ),
    case(
        "reweight-parameter-value-nan",
        "reweight --source good.csv --target good.parquet --target good.csv --target good.csv "
        "--parameter alphaS=nan,0.1,0.2 --nominal-value 0.1",
        r"nan is no value a sample was generated at",
    ),
    case(
        "reweight-clip-quantile-zero",
        f"reweight --source good.csv --target good.parquet --features {FEATURE_LIST} --clip-quantile 0",
        r"--clip-quantile 0\.0",
    ),
    case(
        "reweight-positive-floor-negative",
        f"reweight --positive good.csv --weight weight --features {FEATURE_LIST} --floor -1",
        r"--floor -1\.0",
    ),
    case("predict-missing-run", "predict runs/bni --input good.csv --output s.parquet", r"runs/bni"),
    case(
        "predict-run-is-a-file",
        "predict good.csv --input good.csv --output s.parquet",
        r"good\.csv.*(is a file|not a (run )?(directory|folder))",
    ),
    case(
        "predict-not-a-run",
        "predict stuff --input good.csv --output s.parquet",
        r"stuff",
        folder_with("stuff", "a.txt"),
    ),
    case(
        "predict-metadata-no-task",
        "predict runs/bin --input good.csv --output s.parquet",
        r"metadata\.json.*task",
        json_edit("runs/bin/model/metadata.json", without("task")),
    ),
    case(
        "predict-metadata-list",
        "predict runs/bin --input good.csv --output s.parquet",
        r"metadata\.json",
        text_file("runs/bin/model/metadata.json", "[]"),
    ),
    case(
        "predict-metadata-broken",
        "predict runs/bin --input good.csv --output s.parquet",
        r"metadata\.json",
        text_file("runs/bin/model/metadata.json", '{"task": "binary",'),
    ),
    case(
        "predict-metadata-features-string",
        "predict runs/bin --input good.csv --output s.parquet",
        r"metadata\.json.*features",
        json_edit("runs/bin/model/metadata.json", lambda m: {**m, "features": "f0"}),
    ),
    case(
        "predict-metadata-feature-ranges-unordered",
        "predict runs/bin --input good.csv --output s.parquet",
        r"metadata\.json.*feature_ranges\['f0'\].*three ordered numbers",
        json_edit("runs/bin/model/metadata.json", lambda m: {**m, "feature_ranges": {"f0": [2.0, 1.0, 0.0]}}),
    ),
    case(
        "predict-preprocessing-broken",
        "predict runs/nn --input good.csv --output s.parquet",
        r"preprocessing\.json",
        text_file("runs/nn/preprocessing.json", "{"),
    ),
    case(
        "predict-preprocessing-list",
        "predict runs/nn --input good.csv --output s.parquet",
        r"preprocessing\.json",
        text_file("runs/nn/preprocessing.json", "[1, 2]"),
    ),
    case(
        "predict-weights-flipped",
        "predict runs/nn --input good.csv --output s.parquet",
        r"weights\.safetensors",
        flip_in_place("runs/nn/model/weights.safetensors"),
    ),
    case(
        "predict-weights-missing",
        "predict runs/nn --input good.csv --output s.parquet",
        r"weights\.safetensors",
        removed("runs/nn/model/weights.safetensors"),
    ),
    case(
        "predict-model-json-broken",
        "predict runs/bin --input good.csv --output s.parquet",
        r"model\.json",
        text_file("runs/bin/model/model.json", "{'not': json"),
    ),
    case(
        "predict-running-run",
        "predict runs/bin --input good.csv --output s.parquet",
        r"running",
        status("bin", "running"),
    ),
    case(
        "report-tuning-study",
        "report runs/study",
        r"runs/study is a tuning study: its trials are the runs runs/study/trial-NNNN/.*tuning\.html",
        both(text_file("runs/study/trials.csv", "trial,state\n0,COMPLETE\n"), status("study/trial-0000", "complete")),
    ),
    case(
        "predict-run-killed-before-its-model",
        "predict runs/nn --input good.csv --output s.parquet",
        r"runs/nn is not a finished neyman run \(model/metadata\.json is missing; status: failed\); finish it with "
        r"neyman train --resume runs/nn",
        interrupted("nn"),
    ),
    case(
        "predict-failed-run",
        "predict runs/bin --input good.csv --output s.parquet",
        r"failed",
        status("bin", "failed"),
    ),
    case(
        "predict-kfold-fold-missing",
        "predict runs/kf --input good.csv --output s.parquet",
        r"fold_1",
        removed("runs/kf/model/fold_1"),
    ),
    case(
        "predict-onnx-damaged",
        "predict runs/nn/model.onnx --input good.csv --output s.parquet",
        r"model\.onnx",
        truncated("runs/nn/model.onnx", "runs/nn/model.onnx", 0.3),
    ),
    case("predict-onnx-missing", "predict runs/bin/model.onnx --input good.csv --output s.parquet", r"model\.onnx"),
    case(
        "predict-onnx-is-text",
        "predict fake.onnx --input good.csv --output s.parquet",
        r"fake\.onnx",
        text_file("fake.onnx", "not a model\n"),
    ),
    case("evaluate-missing-run", "evaluate runs/bni", r"runs/bni"),
    case("evaluate-bootstrap-beyond-any-use", "evaluate runs/bin --bootstrap 100000000", r"between 2 and 100,000"),
    case("evaluate-variation-without-name", "evaluate runs/bin --variation good.csv", r"--variation takes NAME=FILE"),
    case(
        "evaluate-efficiencies-without-variation",
        "evaluate runs/bin --efficiencies 0,1.5",
        r"--efficiencies gives the cuts of --variation NAME=FILE and does nothing without it",
    ),
    case("evaluate-variation-missing-file", "evaluate runs/bin --variation up=absent.csv", r"absent\.csv"),
    case(
        "evaluate-variation-files-per-source",
        "evaluate runs/bin --variation up=good.parquet,good.parquet",
        r"trained on 1 source\(s\); give as many --variation up= files",
    ),
    case(
        "evaluate-variation-of-the-training-file",
        "evaluate runs/bin --variation up=good.csv",
        r"--variation up=good\.csv is a file the run trained on",
    ),
    case(
        "evaluate-variation-efficiency",
        "evaluate runs/bin --variation up=good.csv --efficiencies 0.5,2",
        r"efficiency 2\.0 is not between 0 and 1",
    ),
    case(
        "evaluate-variation-name-of-markup",
        "evaluate runs/bin --variation [/]=good.csv",
        r"--variation name '\[/\]': use letters",
    ),
    case(
        "evaluate-variation-without-efficiencies",
        "evaluate runs/bin --variation up=good.csv --efficiencies ,",
        r"--efficiencies names no working point",
    ),
    case(
        "evaluate-run-is-a-file",
        "evaluate good.csv",
        r"good\.csv.*(is a file|not a (run )?(directory|folder))",
    ),
    case("evaluate-not-a-run", "evaluate stuff", r"stuff", folder_with("stuff", "a.txt")),
    case(
        "evaluate-metadata-no-task",
        "evaluate runs/bin",
        r"metadata\.json.*task",
        json_edit("runs/bin/model/metadata.json", without("task")),
    ),
    case(
        "evaluate-metadata-list",
        "evaluate runs/bin",
        r"metadata\.json",
        text_file("runs/bin/model/metadata.json", "[]"),
    ),
    case(
        "evaluate-metadata-broken",
        "evaluate runs/bin",
        r"metadata\.json",
        text_file("runs/bin/model/metadata.json", "{"),
    ),
    case(
        "evaluate-metrics-broken",
        "evaluate runs/bin",
        r"metrics\.json",
        text_file("runs/bin/metrics.json", '{"test": {"auc": 0.8'),
    ),
    case("evaluate-metrics-list", "evaluate runs/bin", r"metrics\.json", text_file("runs/bin/metrics.json", "[0.8]")),
    case(
        "evaluate-predictions-damaged",
        "evaluate runs/bin",
        r"predictions\.parquet",
        truncated("runs/bin/predictions.parquet", "runs/bin/predictions.parquet"),
    ),
    case(
        "evaluate-predictions-missing",
        "evaluate runs/bin",
        r"predictions\.parquet",
        removed("runs/bin/predictions.parquet"),
    ),
    case(
        "evaluate-weights-flipped",
        "evaluate runs/nn",
        r"weights\.safetensors",
        flip_in_place("runs/nn/model/weights.safetensors"),
    ),
    case(
        "evaluate-preprocessing-damaged",
        "evaluate runs/nn",
        r"preprocessing\.json",
        text_file("runs/nn/preprocessing.json", '{"folds": 3}'),
    ),
    case(
        "evaluate-failed-run",
        "evaluate runs/bin",
        r"failed",
        status("bin", "failed"),
    ),
    case("sample-classifier-run", "sample runs/bin -n 10 -o s.parquet", r"runs/bin.*no distribution to draw from"),
    case("sample-missing-run", "sample runs/nope -n 10 -o s.parquet", r"runs/nope"),
    case("sample-negative-seed", "sample runs/flow -n 10 -o s.parquet --seed -1", r"--seed must be an integer in \[0"),
    case("sample-over-a-data-file", "sample runs/bin -n 10 -o good.csv --force", r"good\.csv.*not a sample"),
    case("sample-into-a-folder", "sample runs/bin -n 10 -o runs", r"runs is a folder"),
    case("sample-condition-not-a-number", "sample runs/bin -n 10 -o s.parquet --condition pt=high", r"'high'"),
    case("sample-negative-events", "sample runs/bin -n -5 -o s.parquet", r"--events"),
    case(
        "sample-condition-without-a-value",
        "sample runs/cond -n 10 -o s.parquet --condition f0",
        r"--condition f0: no such file; give a value for each condition column \(--condition f0=VALUE\)",
    ),
    case(
        "sample-output-below-a-file",
        "sample runs/cond -n 10 -o good.csv/s.parquet --condition f0=1",
        r"good\.csv is a file, not a folder",
    ),
    case(
        "generate-pthat-above-the-jet-window",
        "generate top_vs_qcd --events 10 --out t.parquet --set pythia.PhaseSpace:pTHatMin=2000",
        r"pTHatMin = 2000 GeV lies above the process's jet window \(550-650 GeV\)",
    ),
    case(
        "generate-force-over-a-file-neyman-did-not-write",
        "generate w_vs_qcd --events 10 --out theirs.parquet --force",
        r"theirs\.parquet exists and is not a sample neyman generated.*another --out",
        frame_file("theirs.parquet", lambda f: f),
    ),
    case(
        "generate-force-over-a-users-file-beside-an-old-provenance",
        "generate w_vs_qcd --events 10 --out mine.parquet --force",
        r"mine\.parquet exists and is not a sample neyman generated, as it wrote it \(changed since neyman wrote it\)",
        beside_old_provenance(
            "mine.parquet", {"process": "w_vs_qcd", "classes": [], "pythia_version": "8", "neyman_version": "0"}, {}
        ),
    ),
    case(
        "predict-output-name-too-long-for-its-provenance",  # a legal name, its .provenance.json not: an OSError
        f"predict runs/bin --input good.csv --output {'y' * 245}.parquet",
        r"neyman writes its provenance beside it as y+\.parquet\.provenance\.json, which the file system refuses",
    ),
    case(
        "predict-force-over-a-users-file-beside-an-old-provenance",
        "predict runs/bin --input good.csv --output mine.parquet --force",
        r"mine\.parquet holds score but is not a file neyman predict wrote.*\(changed since neyman wrote it\)",
        beside_old_provenance("mine.parquet", {"command": "neyman predict"}, {"score": 0.5}),
    ),
    case(
        "sample-force-over-a-users-file-beside-an-old-provenance",
        "sample runs/flow -n 10 -o mine.parquet --force",
        r"mine\.parquet is not a sample neyman drew, as it wrote it \(changed since neyman wrote it",
        beside_old_provenance("mine.parquet", {"command": "neyman sample"}, {}),
    ),
    case(
        "sample-beside-a-users-provenance-file",  # the user's notes were overwritten by the sample's provenance
        "sample runs/flow -n 10 -o drawn.parquet",
        r"drawn\.parquet\.provenance\.json exists and was not written by neyman sample",
        text_file("drawn.parquet.provenance.json", "important notes"),
    ),
    case(
        "sample-force-over-a-prediction",  # said 'no provenance of it'
        "sample runs/flow -n 10 -o scored.parquet --force",
        r"scored\.parquet is not a sample neyman drew, as it wrote it \(its provenance says neyman predict wrote it\)",
        beside_old_provenance("scored.parquet", {"command": "neyman predict"}, {}),
    ),
    case(
        "export-force-over-an-onnx-file-neyman-did-not-write",
        "export runs/bin --out theirs.onnx --force",
        r"theirs\.onnx exists and is not a \.onnx file neyman wrote.*another --out",
        text_file("theirs.onnx", "a colleague's model"),
    ),
    case(
        "export-output-below-a-file",
        "export runs/nn --out good.csv/m.onnx",
        r"good\.csv is a file, not a folder",
    ),
    case(
        "evaluate-test-labels-of-other-names",
        "evaluate runs/bin --test-data named.csv",
        r"'higgs'.*trained with the classes \['background', 'signal'\] \(class 1, 'signal', is the signal\)",
        frame_file("named.csv", lambda f: f.assign(label=np.where(f["label"] == 1, "higgs", "ttbar"))),
    ),
    case(
        "predict-comma-separated-txt",
        "predict runs/bin --input c.txt --output s.parquet",
        r"c\.txt: its header 'f0,f1,f2,f3' is one column holding commas.*rename it to c\.csv",
        text_file("c.txt", "f0,f1,f2,f3\n1,2,3,4\n5,6,7,8\n"),
    ),
    case(
        "evaluate-test-data-missing", "evaluate runs/bin --test-data nope.csv", r"--test-data nope\.csv.*does not exist"
    ),
    case("sample-condition-nan", "sample runs/cond -n 10 -o s.parquet --condition f0=nan", r"--condition f0=nan"),
    case(
        "sample-condition-beyond-float32",
        "sample runs/cond -n 10 -o s.parquet --condition f0=1e300",
        r"--condition f0=1e\+300: give the condition a finite value the density's float32 arithmetic holds",
    ),
    case(
        "sample-condition-given-twice",
        "sample runs/cond -n 10 -o s.parquet --condition f0=1 --condition f0=2",
        r"'f0' twice",
    ),
    case(
        "sample-condition-file-without-rows",
        "sample runs/cond -o s.parquet --condition c.csv",
        r"c\.csv holds no events",
        text_file("c.csv", "f0\n"),
    ),
    case(
        "sample-events-beyond-the-disk",
        "sample runs/cond -n 100000000000000000000 -o s.parquet --condition f0=1",
        r"--events 100000000000000000000: .* GB free",
    ),
    case("export-missing-run", "export runs/bni", r"runs/bni"),
    case(
        "export-run-is-a-file",
        "export good.csv",
        r"good\.csv.*(is a file|not a (run )?(directory|folder))",
    ),
    case("export-not-a-run", "export stuff", r"stuff", folder_with("stuff", "a.txt")),
    case(
        "export-metadata-no-task",
        "export runs/nn --out m.onnx",
        r"metadata\.json.*task",
        json_edit("runs/nn/model/metadata.json", without("task")),
    ),
    case(
        "export-metadata-list",
        "export runs/nn --out m.onnx",
        r"metadata\.json",
        text_file("runs/nn/model/metadata.json", "[]"),
    ),
    case(
        "export-metadata-broken",
        "export runs/nn --out m.onnx",
        r"metadata\.json",
        text_file("runs/nn/model/metadata.json", "nul"),
    ),
    case(
        "export-weights-flipped",
        "export runs/nn --out m.onnx",
        r"weights\.safetensors",
        flip_in_place("runs/nn/model/weights.safetensors"),
    ),
    case(
        "export-preprocessing-damaged",
        "export runs/nn --out m.onnx",
        r"preprocessing\.json",
        text_file("runs/nn/preprocessing.json", ""),
    ),
    case(
        "export-failed-run",
        "export runs/nn --out m.onnx",
        r"failed",
        status("nn", "failed"),
    ),
    case("report-missing-run", "report runs/bni", r"runs/bni"),
    case(
        "report-run-is-a-file",
        "report good.csv",
        r"good\.csv.*(is a file|not a (run )?(directory|folder))",
    ),
    case("report-not-a-run", "report stuff", r"stuff", folder_with("stuff", "a.txt")),
    case(
        "report-metadata-no-task",
        "report runs/bin",
        r"metadata\.json.*task",
        json_edit("runs/bin/model/metadata.json", without("task")),
    ),
    case("report-metadata-list", "report runs/bin", r"metadata\.json", text_file("runs/bin/model/metadata.json", "[]")),
    case("report-metrics-broken", "report runs/bin", r"metrics\.json", text_file("runs/bin/metrics.json", "{")),
    case("report-config-broken", "report runs/bin", r"config\.yaml", text_file("runs/bin/config.yaml", "model: [\n")),
    case(
        "report-running-run",
        "report runs/bin",
        r"running",
        status("bin", "running"),
    ),
    case(
        "report-weights-flipped",
        "report runs/nn",
        r"weights\.safetensors",
        flip_in_place("runs/nn/model/weights.safetensors"),
    ),
    case("compare-missing-run", "compare runs/bin runs/bni --out cmp", r"runs/bni"),
    case("compare-not-a-run", "compare runs/bin stuff --out cmp", r"stuff", folder_with("stuff", "a.txt")),
    case(
        "compare-metrics-broken",
        "compare runs/bin runs/nn --out cmp",
        r"metrics\.json",
        text_file("runs/nn/metrics.json", "{"),
    ),
    case("compare-binary-with-regression", "compare runs/bin runs/reg --out cmp", r"runs/reg|regression"),
    # ---- outputs --------------------------------------------------------------------------------
    case(
        "predict-output-exists",
        "predict runs/bin --input good.csv --output scored.parquet",
        r"scored\.parquet.*--force",
        bytes_file("scored.parquet", b"precious"),
    ),
    case(
        "predict-output-is-a-directory",
        "predict runs/bin --input good.csv --output outdir",
        r"outdir",
        folder_with("outdir", "a.txt"),
    ),
    case(
        "predict-output-is-the-input", "predict runs/bin --input good.parquet --output good.parquet", r"good\.parquet"
    ),
    case(
        "predict-output-is-the-input-force",
        "predict runs/bin --input good.parquet --output good.parquet --force",
        r"good\.parquet",
    ),
    case(
        "predict-output-in-run-model",
        "predict runs/bin --input good.csv --output runs/bin/model/s.parquet",
        r"runs/bin",
    ),
    case(
        "predict-output-over-run-predictions",
        "predict runs/bin --input good.csv --output runs/bin/predictions.parquet --force",
        r"predictions\.parquet",
    ),
    case(
        "predict-output-unknown-extension",
        "predict runs/bin --input good.csv --output scored.xlsx",
        r"scored\.xlsx|\.xlsx",
    ),
    case(
        "predict-output-below-a-file",
        "predict runs/bin --input good.csv --output good.csv/s.parquet",
        r"good\.csv is a file, not a folder",
    ),
    case("predict-input-missing", "predict runs/bin --input god.csv --output s.parquet", r"god\.csv.*good\.csv"),
    case(
        "predict-input-missing-feature",
        "predict runs/bin --input nof2.parquet --output s.parquet",
        r"f2",
        frame_file("nof2.parquet", lambda f: f.drop(columns="f2")),
    ),
    case(
        "predict-input-string-cell",
        "predict runs/bin --input cell.csv --output s.parquet",
        r"'f2'.*high",
        frame_file("cell.csv", with_cell("f2", 17, "high")),
    ),
    case(
        "predict-input-nan-late-chunk",
        "predict runs/bin --input late.parquet --output s.parquet --step-size 100",
        r"f1",
        frame_file("late.parquet", with_cell("f1", 350, np.nan)),
    ),
    case(
        "predict-input-string-late-chunk",
        "predict runs/bin --input late.csv --output s.parquet --step-size 100",
        r"f3",
        frame_file("late.csv", with_cell("f3", 350, "#DIV/0!")),
    ),
    case(
        "predict-input-truncated-root",
        "predict runs/bin --input cut.root:events --output s.parquet",
        r"cut\.root",
        truncated("good.root", "cut.root"),
    ),
    case("predict-input-wrong-tree", "predict runs/bin --input good.root --tree evnts --output s.parquet", r"evnts"),
    case(
        "predict-input-is-a-directory",
        "predict runs/bin --input stuff --output s.parquet",
        r"stuff",
        folder_with("stuff", "a.csv"),
    ),
    case(
        "predict-onnx-input-missing-feature",
        "predict runs/nn/model.onnx --input nof2.parquet --output s.parquet",
        r"f2",
        frame_file("nof2.parquet", lambda f: f.drop(columns="f2")),
    ),
    case(
        "predict-input-empty",
        "predict runs/bin --input empty.csv --output s.parquet",
        r"empty\.csv",
        text_file("empty.csv", ""),
    ),
    case(
        "predict-input-header-only",
        "predict runs/bin --input head.csv --output s.parquet",
        r"head\.csv holds no events",
        text_file("head.csv", "f0,f1,f2,f3,label\n"),
    ),
    case(
        "predict-passthrough-column-mixed",
        "predict runs/bin --input notes.csv --output s.parquet",
        r"'target'.*see logbook",
        frame_file("notes.csv", with_cell("target", 200, "see logbook")),
    ),
    case("predict-step-size-zero", "predict runs/bin --input good.csv --output s.parquet --step-size 0", r"step"),
    case("predict-step-size-negative", "predict runs/bin --input good.csv --output s.parquet --step-size -10", r"step"),
    case(
        "predict-score-column-exists",
        "predict runs/bin --input scored.parquet --output s.parquet",
        r"score",
        frame_file("scored.parquet", lambda f: f.assign(score=0.5)),
    ),
    case(
        "predict-prefix-clashes-with-feature",
        "predict runs/bin --input named.parquet --output s.parquet --prefix f",
        r"fscore",
        frame_file("named.parquet", lambda f: f.assign(fscore=1.0)),
    ),
    case(
        "export-out-existing-non-onnx-force",
        "export runs/nn --out notes.txt --force",
        r"notes\.txt",
        text_file("notes.txt", "do not overwrite\n"),
    ),
    case("export-out-not-onnx", "export runs/nn --out model.txt", r"--out model\.txt.*ends in \.onnx.*model\.onnx"),
    case(
        "export-out-existing-onnx-no-force",
        "export runs/nn --out m.onnx",
        r"m\.onnx.*--force",
        bytes_file("m.onnx", b"an older export"),
    ),
    case(
        "export-out-run-weights",
        "export runs/nn --out runs/nn/model/weights.safetensors --force",
        r"weights\.safetensors|runs/nn",
    ),
    case("export-out-into-model-folder", "export runs/nn --out runs/nn/model/x.onnx", r"runs/nn"),
    case("export-out-over-metrics", "export runs/nn --out runs/nn/metrics.json --force", r"metrics\.json"),
    case("export-out-is-a-directory", "export runs/nn --out outdir", r"outdir", folder_with("outdir", "a.txt")),
    case("export-out-in-other-run", "export runs/nn --out runs/bin/model/nn.onnx", r"runs/bin"),
    case("export-default-out-exists", "export runs/nn", r"model\.onnx.*--force"),
    case("export-fold-on-plain-run", "export runs/nn --fold 5 --out m.onnx", r"fold"),
    case("export-fold-out-of-range", "export runs/kf --fold 5 --out m.onnx", r"fold.*5|5.*fold"),
    case("export-fold-negative", "export runs/kf --fold -1 --out m.onnx", r"fold"),
    case("export-opset-too-low", "export runs/nn --opset 3 --out m.onnx", r"opset"),
    case("export-opset-too-high", "export runs/nn --opset 999 --out m.onnx", r"opset"),
    case(
        "export-opset-beyond-torch",  # onnx knows it, torch's exporter does not
        "export runs/nn --opset 25 --out m.onnx",
        r"opset 25: torch \S+ exports networks with opsets up to \d+; give --opset \d+ or lower",
    ),
    case("export-unknown-format", "export runs/nn --format tflite --out m.onnx", r"tflite"),
    case("compare-out-is-a-run", "compare runs/bin runs/nn --out runs/kf", r"runs/kf"),
    case(
        "compare-out-is-a-file",
        "compare runs/bin runs/nn --out notes.txt",
        r"notes\.txt",
        text_file("notes.txt", "mine\n"),
    ),
    case(
        "compare-out-other-files", "compare runs/bin runs/nn --out stuff", r"stuff", folder_with("stuff", "thesis.tex")
    ),
    case(
        "compare-out-earlier-comparison",
        "compare runs/bin runs/nn --out cmp",
        r"cmp.*--force",
        both(
            folder_with("cmp", "roc_comparison.png"),
            text_file("cmp/comparison.json", '{"rows": [], "reference": "runs/bin"}'),
        ),
    ),
    # ---- evaluate options -----------------------------------------------------------------------
    case("evaluate-by-on-binary", "evaluate runs/bin --by f0", r"--by"),
    case("evaluate-by-unknown-on-regression", "evaluate runs/reg --by UNKNOWN", r"UNKNOWN"),
    case("evaluate-yields-three-numbers", "evaluate runs/bin --yields 1,2,3", r"--yields.*1,2,3"),
    case("evaluate-yields-words", "evaluate runs/bin --yields ten,thousand", r"--yields.*ten"),
    case("evaluate-yields-negative", "evaluate runs/bin --yields -5,100", r"--yields"),
    case("evaluate-yields-nan", "evaluate runs/bin --yields nan,100", r"\bnan\b"),
    case("evaluate-yields-inf", "evaluate runs/bin --yields 10,inf", r"\binf\b"),
    case("evaluate-yields-on-regression", "evaluate runs/reg --yields 10,100", r"--yields"),
    case("evaluate-sigma-b-without-yields", "evaluate runs/bin --sigma-b 0.1", r"--sigma-b"),
    case("evaluate-sigma-b-negative", "evaluate runs/bin --yields 10,100 --sigma-b -0.1", r"sigma.b.*-0\.1"),
    case(
        "evaluate-working-point-2",
        "evaluate runs/bin --working-point 2",
        r"--working-point|working point",
    ),
    case(
        "evaluate-working-point-nan",
        "evaluate runs/bin --working-point nan",
        r"(working.point|threshold).*\b(nan|NaN)\b",
    ),
    case("evaluate-working-point-on-regression", "evaluate runs/reg --working-point 0.5", r"--working-point"),
    case("evaluate-discriminant-on-binary", "evaluate runs/bin --discriminant signal", r"--discriminant"),
    case("evaluate-bootstrap-negative", "evaluate runs/bin --bootstrap -5", r"--bootstrap|bootstrap"),
    case(
        "evaluate-test-data-missing-columns",
        "evaluate runs/bin --test-data nof3.parquet",
        r"f3",
        frame_file("nof3.parquet", lambda f: f.drop(columns="f3")),
    ),
    case(
        "evaluate-test-data-missing-label",
        "evaluate runs/bin --test-data nolabel.parquet",
        r"'label'.*nolabel\.parquet",
        frame_file("nolabel.parquet", lambda f: f.drop(columns="label")),
    ),
    case("evaluate-test-data-missing-file", "evaluate runs/bin --test-data god.csv", r"god\.csv"),
    case(
        "evaluate-test-data-with-a-nan-feature",  # named no file, and advised data.fill_value to a trained run
        "evaluate runs/bin --test-data holes.parquet",
        r"non-finite values in holes\.parquet .*trained without data\.fill_value, so it cannot score them: remove",
        lambda d: write_frame(
            good_frame(seed=9).assign(f1=lambda f: np.where(np.arange(len(f)) == 7, np.nan, f["f1"])),
            d / "holes.parquet",
        ),
    ),
    case(
        "train-event-id-of-a-fraction",  # the message showed np.float64(1.5)
        "train --data frac.parquet --label-column label --model fisher --set data.event_id=event_id --features f0,f1",
        r"event-id column 'event_id' holds 1\.5 at entry 3 \(counted from 0\)",
        frame_file("frac.parquet", lambda f: f.assign(event_id=np.where(np.arange(len(f)) == 3, 1.5, f["event_id"]))),
    ),
    case(
        "evaluate-test-data-too-many",
        "evaluate runs/bin --test-data good.csv --test-data good.parquet",
        r"--test-data|source",
    ),
    case(
        "evaluate-test-data-nan",
        "evaluate runs/bin --test-data nan.parquet",
        r"f0",
        lambda folder: write_frame(with_cell("f0", 0, np.nan)(good_frame(seed=5)), folder / "nan.parquet"),
    ),
    case(
        "evaluate-test-data-copy-of-training",
        "evaluate runs/bin --test-data copy.parquet",
        r"of the \d+ test events in copy\.parquet are also in the training input good\.csv",
        frame_file("copy.parquet", lambda frame: frame.sample(frac=1.0, random_state=1)),
    ),
    # ---- tune -----------------------------------------------------------------------------------
    case("tune-without-tuning-section", "tune good.yaml", r"tuning"),
    case("tune-empty-space", "tune t.yaml", r"space", text_file("t.yaml", GOOD_YAML + "tuning:\n  space: {}\n")),
    case(
        "tune-unknown-space-key",
        "tune t.yaml",
        r"hiden",
        text_file("t.yaml", GOOD_YAML + TUNE_SPACE + "    model.hiden: {int: [4, 8]}\n"),
    ),
    case(
        "tune-objective-typo",
        "tune t.yaml",
        r"val\.aucc",
        text_file("t.yaml", GOOD_YAML + TUNE_SPACE + "  objective: val.aucc\n"),
    ),
    case(
        "tune-reversed-range",
        "tune t.yaml",
        r"lr|1\.0e-02|0\.01",
        text_file("t.yaml", GOOD_YAML + TUNE_SPACE.replace("[1.0e-4, 1.0e-2]", "[1.0e-2, 1.0e-4]")),
    ),
    case(
        "tune-log-range-from-zero",
        "tune t.yaml",
        r"lr|log",
        text_file("t.yaml", GOOD_YAML + TUNE_SPACE.replace("1.0e-4", "0.0")),
    ),
    case(
        "tune-empty-categorical",
        "tune t.yaml",
        r"batch_size|categorical",
        text_file("t.yaml", GOOD_YAML + TUNE_SPACE + "    training.batch_size: {categorical: []}\n"),
    ),
    case(
        "tune-unknown-sampler",
        "tune t.yaml",
        r"tpee",
        text_file("t.yaml", GOOD_YAML + TUNE_SPACE + "  sampler: tpee\n"),
    ),
    case("tune-trials-zero", "tune t.yaml --trials 0", r"trials", text_file("t.yaml", GOOD_YAML + TUNE_SPACE)),
    case("tune-workers-zero", "tune t.yaml --workers 0", r"workers", text_file("t.yaml", GOOD_YAML + TUNE_SPACE)),
    case("tune-missing-config", "tune tune.yml", r"tune\.yml"),
    case(
        "tune-bad-storage",
        "tune t.yaml --storage mysql-ish://db",
        r"mysql-ish",
        text_file("t.yaml", GOOD_YAML + TUNE_SPACE),
    ),
    # ---- hunt -----------------------------------------------------------------------------------
    case(
        "hunt-signal-region-outside-the-mass-range",
        f"{HUNT} --signal-region 8000,9000",
        r"signal region \[8000, 9000\).*outside.*mjj",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-sidebands-with-too-few-events",
        f"{HUNT} --signal-region 3200,3700 --sidebands 3150,3750",
        r"sideband.*fewer than 100",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-negative-seed",
        f"{HUNT} --signal-region 3200,3700 --seed -1",
        r"--seed must be an integer in \[0, 2\^63\), got -1",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-cathode-feature-with-a-point-mass",  # refused when a window's flow began training, the hunt begun
        "hunt dijet.parquet --mass mjj --features f0,f1 --method cathode --toys 0 --signal-region 3200,3700",
        r"window \[3200, 3700\): --method cathode models the features with a flow, and feature 'f1' holds the "
        r"value 0\.0 in \d+ of \d+ events.*leave that feature out of --features",
        frame_file(
            "dijet.parquet", lambda frame: with_mass(frame).assign(f1=lambda f: f["f1"].where(f.index % 3 > 0, 0.0))
        ),
    ),
    case(
        "hunt-feature-is-the-mass",
        f"{HUNT} --signal-region 3200,3700 --features f0,mjj",
        r"'mjj'.*also a feature",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-label-passed-as-a-feature",
        f"{HUNT} --signal-region 3200,3700 --features f0,label",
        r"'label'.*truth label",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-idealized-without-reference",
        f"{HUNT} --signal-region 3200,3700 --method idealized",
        r"--reference",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-missing-feature-column",
        f"{HUNT} --signal-region 3200,3700 --features f0,f9",
        r"dijet\.parquet.*'f9'",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-window-not-two-numbers",
        f"{HUNT} --signal-region 3300",
        r"--signal-region '3300'",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-neither-region-nor-scan",
        HUNT,
        r"--signal-region.*--scan",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-nan-in-the-mass",
        f"{HUNT} --signal-region 3200,3700",
        r"'mjj'.*data row 6 \(counted from 1\)",
        frame_file("dijet.parquet", lambda f: with_cell("mjj", 5, np.nan)(with_mass(f))),
    ),
    case(
        "hunt-feature-beyond-float32",
        f"{HUNT} --signal-region 3200,3700",
        r"dijet\.parquet: column 'f1' holds 1e\+300 in data row 8 \(counted from 1\), beyond the ±3\.4e\+38",
        frame_file("dijet.parquet", lambda f: with_cell("f1", 7, 1e300)(with_mass(f))),
    ),
    case(
        "hunt-supervised-without-labels",
        f"{HUNT} --signal-region 3200,3700 --method supervised",
        r"supervised.*'label'",
        frame_file("dijet.parquet", lambda f: with_mass(f).drop(columns=["label"])),
    ),
    case(
        "hunt-label-not-zero-or-one",
        f"{HUNT} --signal-region 3200,3700",
        r"'label' holds 2.0 in data row 8 \(counted from 1\)",
        frame_file("dijet.parquet", lambda f: with_cell("label", 7, 2)(with_mass(f))),
    ),
    case(
        "hunt-model-that-is-no-classifier",
        f"{HUNT} --signal-region 3200,3700 --model flow",
        r"--model 'flow' is no classifier",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-one-fold",
        f"{HUNT} --signal-region 3200,3700 --kfold 1",
        r"--kfold 1",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-negative-bin-width",
        f"{HUNT} --signal-region 3200,3700 --bin-width -5",
        r"--bin-width -5",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-unknown-method",
        f"{HUNT} --signal-region 3200,3700 --method cathod",
        r"'cathod'",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-sqrt-s-inside-the-mass-range",
        f"{HUNT} --signal-region 3200,3700 --sqrt-s 4000",
        r"sqrt\(s\) = 4000",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-force-over-a-foreign-folder",
        f"{HUNT} --signal-region 3200,3700 --output-dir . --name notes --force",
        r"notes.*not a neyman run",
        both(frame_file("dijet.parquet", with_mass), folder_with("notes", "a.txt")),
    ),
    case(
        "hunt-force-over-the-run-holding-its-data",
        f"{HUNT.replace('dijet.parquet', 'runs/bin/dijet.parquet', 1)} --signal-region 3200,3700 --output-dir runs "
        "--name bin --force",
        r"runs/bin/dijet\.parquet lies inside the run runs/bin, which --force would replace, deleting the file",
        frame_file("runs/bin/dijet.parquet", with_mass),
    ),
    case(
        "train-force-over-the-run-holding-its-data",
        f"train --data runs/bin/mine.csv --label-column label --model fisher --features {FEATURE_LIST} --name bin "
        "--force",
        r"runs/bin/mine\.csv lies inside the run runs/bin, which --force would replace, deleting the file.*mv ",
        frame_file("runs/bin/mine.csv", lambda f: f),
    ),
    case(
        "hunt-fit-range-below-zero-mass",
        f"{HUNT} --signal-region 500,1000",
        r"the fit range \[0, 1500\) of 'mjj' reaches 0: the dijet function .* needs a positive mass",
        frame_file("dijet.parquet", lambda f: with_mass(f).assign(mjj=lambda g: g["mjj"] - 2700.0)),
    ),
    case(
        "hunt-bin-width-far-too-narrow",
        f"{HUNT} --signal-region 3200,3700 --bin-width 0.01",
        r"--bin-width 0\.01 cuts the fit range .* into [\d,]+ bins, more than 2,000",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-reference-without-idealized",
        f"{HUNT} --signal-region 3200,3700 --reference dijet.parquet",
        r"--reference is the background template of --method idealized; --method cwola does not use it",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-reference-is-the-data",
        f"{HUNT} --signal-region 3200,3700 --method idealized --reference ./dijet.parquet",
        r"--reference \./dijet\.parquet is the data file itself",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-set-of-a-key-an-option-sets",
        f"{HUNT} --signal-region 3200,3700 --set data.features=[f0]",
        r"--set data\.features: this command sets data\.features itself \(--features\)",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-flow-set-of-the-condition",
        f"{HUNT} --signal-region 3200,3700 --method cathode --flow-set model.condition=[f1]",
        r"--flow-set model\.condition: this command sets model\.condition itself \(--mass\)",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-reference-missing-column",
        f"{HUNT} --signal-region 3200,3700 --method idealized --reference good.csv",
        r"--reference good\.csv.*'mjj'",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-label-of-text",
        f"{HUNT} --signal-region 3200,3700",
        r"dijet\.parquet: column 'label' holds text \(e\.g\. '(sig|bkg)'\)",
        frame_file("dijet.parquet", lambda f: with_mass(f).assign(label=np.where(f["label"] == 1, "sig", "bkg"))),
    ),
    case(
        "hunt-scan-of-a-mass-of-one-value",
        f"{HUNT} --scan 200",
        r"'mjj' holds 3000 in every event",
        frame_file("dijet.parquet", lambda f: f.assign(mjj=3000.0)),
    ),
    case(
        "hunt-negative-mass-placeholder",
        f"{HUNT} --signal-region 3200,3700",
        r"'mjj' holds -999 in data row 3 \(counted from 1\), and 2 events are negative",
        frame_file(
            "dijet.parquet", lambda f: with_mass(f).assign(mjj=lambda g: g["mjj"].where(~g.index.isin([2, 9]), -999.0))
        ),
    ),
    case(
        "hunt-no-efficiencies",
        f"{HUNT} --signal-region 3200,3700 --efficiencies ,",
        r"--efficiencies ',' names an empty entry",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-repeated-efficiencies",
        f"{HUNT} --signal-region 3200,3700 --efficiencies 0.1,0.1",
        r"--efficiencies \[0\.1, 0\.1\] repeats a share",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-features-with-an-empty-name",
        "hunt dijet.parquet --mass mjj --features f0,,f1 --method cwola --toys 0 --signal-region 3200,3700",
        r"--features 'f0,,f1' names an empty entry",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-reference-with-signal",  # the template's signal was learnt as background: the excess hidden
        f"{HUNT} --signal-region 3200,3700 --method idealized --reference ref.parquet",
        r"--reference ref\.parquet: column 'label' marks \d+ of its 400 events as signal",
        both(frame_file("dijet.parquet", with_mass), frame_file("ref.parquet", with_mass)),
    ),
    case(
        "hunt-reference-empty-in-the-signal-region",
        f"{HUNT} --signal-region 3200,3700 --method idealized --reference ref.parquet",
        r"--reference ref\.parquet holds 0 events in the signal region \[3200, 3700\)",
        both(frame_file("dijet.parquet", with_mass), frame_file("ref.parquet", below_the_signal_region)),
    ),
    case(
        "hunt-supervised-without-signal-in-the-region",
        f"{HUNT} --signal-region 3200,3700 --method supervised",
        r"signal region \[3200, 3700\) holds 0 signal \(label 1\) events",
        frame_file("dijet.parquet", lambda f: with_mass(f).assign(label=np.where(f.index < 133, f["label"], 0))),
    ),
    case(
        "hunt-more-folds-than-signal-region-events",
        f"{HUNT} --signal-region 3200,3700 --kfold 200",
        r"holds 133 events of the data, fewer than the 200 folds \(--kfold\)",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-bin-width-leaves-the-sidebands-no-bins",
        f"{HUNT} --signal-region 3200,3700 --bin-width 500",
        r"--bin-width 500 leaves 2 bins .* too few to fit",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-set-unknown-key",
        f"{HUNT} --signal-region 3200,3700 --set model.nmae=3",
        r"(?s)--set model\.nmae=3.*model\.nmae: unknown key",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-flow-set-without-a-flow",
        f"{HUNT} --signal-region 3200,3700 --flow-set training.epochs=3",
        r"--flow-set .* --method cwola has none",
        frame_file("dijet.parquet", with_mass),
    ),
    case(
        "hunt-set-without-a-classifier",
        f"{HUNT} --signal-region 3200,3700 --method anode --set model.num_leaves=8",
        r"--set sets the classifiers; --method anode has none",
        frame_file("dijet.parquet", with_mass),
    ),
    # ---- generate -------------------------------------------------------------------------------
    case(
        "generate-unknown-process-close-match",
        "generate top_vs_qdc --events 10 --out g.parquet",
        r"top_vs_qdc.*top_vs_qcd",
    ),
    case("generate-events-zero", "generate top_vs_qcd --events 0 --out g.parquet", r"--events|events"),
    case("generate-events-negative", "generate top_vs_qcd --events -5 --out g.parquet", r"--events|events|-5"),
    case(
        "generate-output-exists",
        "generate top_vs_qcd --events 10 --out g.parquet",
        r"g\.parquet.*--force",
        bytes_file("g.parquet", b"mine"),
    ),
    case(
        "generate-output-is-a-directory",
        "generate top_vs_qcd --events 10 --out outdir",
        r"outdir",
        folder_with("outdir", "a.txt"),
    ),
    case(
        "generate-output-is-a-parquet-folder",
        "generate top_vs_qcd --events 10 --out old.parquet --force",
        r"old\.parquet",
        folder_with("old.parquet", "part-00000.parquet"),
    ),
    case("generate-output-unknown-extension", "generate top_vs_qcd --events 10 --out g.xlsx", r"g\.xlsx|\.xlsx"),
    case(
        "generate-output-over-run-file",
        "generate top_vs_qcd --events 2 --out runs/bin/predictions.parquet --force",
        r"runs/bin",
    ),
    case(
        "generate-bad-pythia-setting",
        "generate top_vs_qcd --events 10 --out g.parquet --set pythia.Foo:bar=1",
        r"Foo:bar",
    ),
    case(
        "generate-pythia-value-out-of-range",
        "generate top_vs_qcd --events 10 --out g.parquet --set pythia.TimeShower:alphaSvalue=5",
        r"TimeShower:alphaSvalue takes a number in \[0\.06, 0\.25\] \(default 0\.1365\), not '5'",
    ),
    case(
        "generate-pythia-flag-word-read-as-off",
        "generate top_vs_qcd --events 10 --out g.parquet --set pythia.HadronLevel:all=maybe",
        r"HadronLevel:all takes on or off, not 'maybe'",
    ),
    case(
        "generate-bad-set-section",
        "generate top_vs_qcd --events 10 --out g.parquet --set pythai.Beams:eCM=13000",
        r"pythai",
    ),
    case("generate-bad-detector-key", "generate top_vs_qcd --events 10 --out g.parquet --set detector.nme=x", r"nme"),
    case(
        "generate-mpi-through-set",  # once silently overridden by the --mpi default applied after it
        "generate quark_vs_gluon --events 10 --out g.parquet --set pythia.PartonLevel:MPI=on",
        r"--set 'pythia\.PartonLevel:MPI=on': multi-parton interactions are switched by --mpi on\|off",
    ),
    case(
        "generate-seed-through-set",  # recorded in the provenance, and overridden by the chunks' own seeds
        "generate top_vs_qcd --events 10 --out g.parquet --set pythia.Random:seed=123",
        r"--set 'pythia\.Random:seed=123': the random seed is --seed",
    ),
    case(
        "generate-without-hadronisation",  # bare partons through the detector: plausible-looking jets
        "generate top_vs_qcd --events 10 --out g.parquet --set pythia.HadronLevel:Hadronize=off",
        r"HadronLevel:Hadronize=off': without hadronisation the detector would see bare quarks and gluons",
    ),
    case(
        "generate-pileup-at-particle-level",  # the top mass came out 12% high after the area subtraction
        "generate top_vs_qcd --events 10 --out g.parquet --pileup 20 --detector none",
        r"--pileup with --detector none: particle-level jets never contain pile-up",
    ),
    case(
        "generate-pythia-fails-to-initialise",  # left an empty chunk folder behind
        "generate top_vs_qcd --events 10 --out g.parquet --set pythia.Beams:eCM=100",
        r"Pythia failed to initialise the 'top' class of 'top_vs_qcd'",
    ),
    case(
        "generate-chunk-folder-name-taken-by-a-file",  # was 'cannot write to .: [Errno 17] File exists'
        "generate top_vs_qcd --events 10 --out g.parquet",
        r"\.g\.parquet\.chunks is a file, where neyman keeps the finished chunks",
        text_file(".g.parquet.chunks", "my notes"),
    ),
    case(
        "generate-provenance-name-taken-by-a-user-file",
        "generate top_vs_qcd --events 10 --out g.parquet",
        r"g\.parquet\.provenance\.json exists and was not written by neyman generate",
        text_file("g.parquet.provenance.json", "my notes"),
    ),
    case(
        "generate-signal-fraction-above-one",
        "generate dijet_resonance --events 10 --out g.parquet --set process.signal_fraction=1.5",
        r"signal_fraction",
    ),
    case(
        "generate-signal-fraction-option-above-one",
        "generate dijet_resonance --events 10 --out g.parquet --signal-fraction 1.5",
        r"signal_fraction must be in \[0, 1\], got 1.5",
    ),
    case(
        "generate-signal-fraction-given-twice",
        "generate dijet_resonance --events 10 --out g.parquet --signal-fraction 0.1 --set process.signal_fraction=0.2",
        r"--signal-fraction",
    ),
    case(
        "generate-signal-fraction-of-a-three-class-process",
        "generate higgs_top_qcd --events 10 --out g.parquet --signal-fraction 0.1",
        r"two-class process",
    ),
    case(
        "generate-chunk-events-zero",
        "generate top_vs_qcd --events 10 --out g.parquet --set process.chunk_events=0",
        r"chunk_events",
    ),
    case("generate-unknown-detector", "generate top_vs_qcd --events 10 --out g.parquet --detector cms", r"cms"),
    case("generate-workers-zero", "generate top_vs_qcd --events 10 --out g.parquet --workers 0", r"--workers|workers"),
    case(
        "generate-workers-and-scheduler",
        "generate top_vs_qcd --events 10 --out g.parquet --workers 2 --scheduler tcp://x:1",
        r"--workers|--scheduler",
    ),
    case("generate-mpi-maybe", "generate top_vs_qcd --events 10 --out g.parquet --mpi maybe", r"--mpi.*maybe"),
    case("generate-without-out", "generate top_vs_qcd --events 10", r"--out"),
    case("generate-pileup-negative", "generate top_vs_qcd --events 10 --out g.parquet --pileup -5", r"--pileup"),
    case("generate-pileup-nan", "generate top_vs_qcd --events 10 --out g.parquet --pileup nan", r"--pileup"),
    case("generate-seed-negative", "generate top_vs_qcd --events 10 --out g.parquet --seed -1", r"--seed"),
    case(
        "generate-detector-cell-size-zero",
        "generate top_vs_qcd --events 10 --out g.parquet --set detector.cell_size=0",
        r"detector\.cell_size",
    ),
    case(
        "generate-detector-efficiency-above-one",
        "generate top_vs_qcd --events 10 --out g.parquet --set detector.track_efficiency=1.5",
        r"detector\.track_efficiency is an efficiency",
    ),
    case("generate-npz-of-events", "generate susy_vs_ww --events 10 --out g.npz", r"g\.npz.*constituents"),
    # ---- demo -----------------------------------------------------------------------------------
    case("demo-events-zero", "demo --events 0 --out d --no-progress", r"--events|events"),
    case("demo-events-negative", "demo --events -10 --out d --no-progress", r"--events|events"),
    case(
        "demo-out-is-a-file",
        "demo --events 100 --out notes.txt --no-progress",
        r"notes\.txt",
        text_file("notes.txt", "mine\n"),
    ),
    case("demo-out-below-a-file", "demo --events 100 --out good.csv/demo --no-progress", r"good\.csv"),
    case("demo-workers-zero", "demo --events 100 --out d --workers 0 --no-progress", r"--workers|workers"),
    case("demo-out-is-a-run", "demo --events 100 --out runs/bin --no-progress", r"runs/bin"),
    case("demo-out-inside-a-run", "demo --events 100 --out runs/bin/demo --no-progress", r"runs/bin"),
    case(
        "demo-out-holds-other-files",
        "demo --events 100 --out mine --no-progress",
        r"mine.*notes\.txt",
        folder_with("mine", "notes.txt"),
    ),
]


# -- the shared inputs ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def app():
    from neyman.cli.main import _register, app

    if not app.registered_commands:  # main() registers the verbs when the command line starts
        _register()
    return app


def invoke(app, argv: list[str]) -> Result:
    """Run ``neyman ARGV`` in-process; a library's warning is recorded (as on the command line it is printed)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(app, argv, env={"COLUMNS": "200", "NO_COLOR": "1"})
    result.warnings = [f"{w.category.__name__}: {w.message} ({w.filename}:{w.lineno})" for w in caught]
    return result


@pytest.fixture(scope="session")
def shared(app, tmp_path_factory) -> Path:
    """Good data in every format, five trained runs (binary, mlp, regression, k-fold, a density conditional on
    f0) and an ONNX export."""
    folder = tmp_path_factory.mktemp("shared")
    frame = good_frame()
    for name in ("good.csv", "good.parquet", "good.root", "good.h5"):
        write_frame(frame, folder / name)
    (folder / "good.yaml").write_text(GOOD_YAML)
    commands = [
        f"train --data good.csv --label-column label --model fisher --features {FEATURE_LIST} --name bin",
        f"train --data good.csv --label-column label {QUICK_MLP} --features {FEATURE_LIST} --name nn",
        f"train --data good.csv --target target {QUICK_MLP} --features {FEATURE_LIST} --name reg",
        f"train --data good.csv --label-column label --model fisher --features {FEATURE_LIST} --name kf "
        "--set split.kfold=3",
        "export runs/nn",
        "train --data good.csv --features f0,f1,f2 --task density --set model.condition=[f0] "
        "--set training.epochs=1 --set training.progress=false --name cond",
    ]
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        for command in commands:
            result = invoke(app, shlex.split(command))
            assert result.exit_code == 0, f"{command}\n{result.output}"
    finally:
        os.chdir(cwd)
    return folder


# -- checks ---------------------------------------------------------------------------------------


def snapshot(folder: Path) -> dict[str, object]:
    """Every path under ``folder``: a folder, or a file's sha256 and mtime."""
    state: dict[str, object] = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs:
            path = Path(root, name)
            state[path.relative_to(folder).as_posix()] = "link" if path.is_symlink() else "dir"
        for name in files:
            path = Path(root, name)
            info = path.lstat()
            digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "special"
            state[path.relative_to(folder).as_posix()] = (digest, info.st_mtime_ns)
    return state


def changes(before: dict[str, object], after: dict[str, object], allowed: tuple[str, ...]) -> list[str]:
    """What changed under the folder, less the ``allowed`` paths that appeared or changed."""

    def free(path: str) -> bool:
        return any(fnmatch(path, pattern) for pattern in allowed)

    found = [f"removed {p}" for p in sorted(before.keys() - after.keys())]
    found += [f"changed {p}" for p in sorted(before.keys() & after.keys()) if before[p] != after[p] and not free(p)]
    found += [f"added {p}" for p in sorted(after.keys() - before.keys()) if not free(p)]
    return found


def error_message(output: str) -> str | None:
    """The one error of ``output``: its ``error:`` line and the indented lines that detail it.

    A configuration error lists each culprit on an indented line of its own below the ``error:``
    line; that is still one error.  ``None`` unless exactly one line starts with ``error:``.
    """
    lines = output.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("error:")]
    if len(starts) != 1:
        return None
    block = [lines[starts[0]]]
    for line in lines[starts[0] + 1 :]:
        if not line.startswith((" ", "\t")) or not line.strip():
            break
        block.append(line)
    return "\n".join(block)


@pytest.fixture
def case_folder(shared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    folder = tmp_path / "work"
    shutil.copytree(shared, folder, symlinks=True)
    monkeypatch.chdir(folder)
    yield folder


@pytest.mark.parametrize("hostile", CASES)
def test_hostile_input_costs_one_error_line_and_no_file(app, case_folder: Path, hostile: Case) -> None:
    if hostile.setup is not None:
        hostile.setup(case_folder)
    argv = [word.replace("{tmp}", str(case_folder)) for word in shlex.split(hostile.argv)]
    before = snapshot(case_folder.parent)  # the parent too: a run name must not escape the folder
    result = invoke(app, argv)
    after = snapshot(case_folder.parent)
    shown = f"neyman {shlex.join(argv)}\nexit {result.exit_code}\n{result.output}"
    shown += "".join(f"python warning: {w}\n" for w in result.warnings)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        shown += "".join(traceback.format_exception(result.exception))
    problems = []
    if result.exit_code != 2:
        problems.append(f"exit code {result.exit_code}, not 2")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        problems.append(f"raised {type(result.exception).__name__}: {result.exception}")
    if "Traceback" in result.output:
        problems.append("a traceback in the output")
    message = error_message(result.output)
    if message is None:
        problems.append(f"{sum(line.startswith('error:') for line in result.output.splitlines())} error: lines, not 1")
    else:
        if not any(line.startswith("error:") for line in result.stderr.splitlines()):
            problems.append("the error line is not on stderr")
        if not re.search(hostile.culprit, message):
            problems.append(f"the error does not match {hostile.culprit!r}")
    problems += changes(before, after, tuple(f"work/{pattern}" for pattern in hostile.allowed))
    assert not problems, "\n".join(problems) + "\n" + shown


def test_the_table_is_large_and_covers_every_verb(app) -> None:
    listing = invoke(app, ["--help"]).output
    commands = listing[listing.index("Commands") :]
    verbs = set(re.findall(r"^│ (\w+) ", commands, flags=re.MULTILINE))
    assert {"train", "predict", "evaluate", "report", "compare", "export", "tune", "generate", "demo"} <= verbs
    covered = {shlex.split(param.values[0].argv)[0] for param in CASES}
    assert verbs <= covered, f"no hostile case for {sorted(verbs - covered)}"
    assert len(CASES) >= 150
    assert len({param.id for param in CASES}) == len(CASES)
