from __future__ import annotations

import json

import pytest

from neyman.exceptions import ConfigError
from neyman.generation.processes import ANALYSES, PROCESSES, get_process


def test_catalogue_has_the_seven_processes_complete_and_serialisable() -> None:
    assert set(PROCESSES) == {
        "top_vs_qcd", "w_vs_qcd", "quark_vs_gluon", "higgs_top_qcd", "susy_vs_ww", "dijet_resonance",
        "jet_calibration",
    }  # fmt: skip
    for process in PROCESSES.values():
        assert process.reference and process.recipe and process.description
        assert process.analysis in ANALYSES
        labels = [s.label for s in process.samples]
        assert len(set(labels)) == len(labels)
        assert sum(s.share for s in process.samples) == pytest.approx(1.0)
        if len(labels) > 1:
            assert process.settings(labels[0]) != process.settings(labels[1])
        json.dumps(process.as_dict())
    top = get_process("top_vs_qcd")
    assert (top.jets.pt_min, top.jets.pt_max, top.jets.radius, top.jets.max_constituents) == (550, 650, 0.8, 200)
    assert not any("MPI" in s for s in top.settings(1))  # MPI is a run option (off by default)


def test_rows_are_split_by_share_and_sum_to_the_request() -> None:
    assert get_process("top_vs_qcd").rows_per_class(20001) in ({1: 10001, 0: 10000}, {1: 10000, 0: 10001})
    three = get_process("higgs_top_qcd").rows_per_class(100)
    assert sum(three.values()) == 100 and max(three.values()) - min(three.values()) <= 1
    assert get_process("dijet_resonance").rows_per_class(1000) == {1: 100, 0: 900}


def test_unknown_process_suggests_close_name() -> None:
    with pytest.raises(ConfigError, match="top_vs_qcd"):
        get_process("top_vs_qdc")


def test_unknown_label_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no class with label 5"):
        get_process("top_vs_qcd").sample(5)
