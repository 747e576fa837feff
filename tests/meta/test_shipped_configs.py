"""Every configuration shipped in src/neyman/configs/ is valid, ships in the wheel and can be written out."""

from pathlib import Path

import pytest

from neyman.config import load_config

ROOT = Path(__file__).parents[2]
CONFIGS = sorted((ROOT / "src" / "neyman" / "configs").glob("*.yaml"))


def test_configs_are_shipped():
    assert len(CONFIGS) >= 3


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_shipped_config_validates(path):
    cfg = load_config(path)
    assert cfg.name and cfg.data.sources


def test_configs_ship_in_the_wheel(tmp_path):
    import subprocess
    import sys
    import zipfile

    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("neyman-*.whl")
    shipped = {n for n in zipfile.ZipFile(wheel).namelist() if n.startswith("neyman/configs/")}
    assert shipped == {f"neyman/configs/{p.name}" for p in CONFIGS}


def test_an_example_is_written_out_and_not_over_a_file(tmp_path):
    from neyman.config import example_names, write_example
    from neyman.exceptions import ConfigError, DataError

    assert set(example_names()) == {p.stem for p in CONFIGS}
    path = write_example("example", tmp_path)
    assert load_config(path).name == load_config(ROOT / "configs" / "example.yaml").name
    with pytest.raises(DataError, match="exists"):
        write_example("example", tmp_path)
    with pytest.raises(ConfigError, match=r"did you mean 'example'"):
        write_example("exampel", tmp_path)
