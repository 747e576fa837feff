"""The run configuration: schema (pydantic) and YAML loading with overrides.

Imported only by :mod:`neyman.workflows` and :mod:`neyman.cli`.
"""

from neyman.config.examples import example_names, write_example
from neyman.config.load import (
    apply_overrides,
    dump_config,
    load_config,
    parse_config,
    refuse_owned_overrides,
    resolve_config,
    validate_paths,
)
from neyman.config.schema import (
    DataConfig,
    ModelConfig,
    PreprocessingConfig,
    RunConfig,
    SourceConfig,
    SplitConfig,
    TaskConfig,
    TrainingConfig,
)

__all__ = [
    "DataConfig",
    "ModelConfig",
    "PreprocessingConfig",
    "RunConfig",
    "SourceConfig",
    "SplitConfig",
    "TaskConfig",
    "TrainingConfig",
    "apply_overrides",
    "dump_config",
    "example_names",
    "load_config",
    "parse_config",
    "refuse_owned_overrides",
    "resolve_config",
    "validate_paths",
    "write_example",
]
