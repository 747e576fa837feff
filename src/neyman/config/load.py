"""Load a run configuration from YAML with dotted command-line overrides."""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from neyman.config.schema import RunConfig
from neyman.exceptions import ConfigError, NeymanWarning, close_matches, missing_file

__all__ = [
    "apply_overrides",
    "dump_config",
    "load_config",
    "parse_config",
    "refuse_owned_overrides",
    "resolve_config",
    "validate_paths",
]


def _all_field_names(model: type[BaseModel], seen: set[type[BaseModel]] | None = None) -> set[str]:
    seen = seen if seen is not None else set()
    if model in seen:
        return set()
    seen.add(model)
    names = set(model.model_fields)
    for f in model.model_fields.values():
        for sub in _submodels(f.annotation):
            names |= _all_field_names(sub, seen)
    return names


def _submodels(annotation: Any) -> list[type[BaseModel]]:
    out: list[type[BaseModel]] = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    for arg in getattr(annotation, "__args__", ()) or ():
        out.extend(_submodels(arg))
    for meta in getattr(annotation, "__metadata__", ()) or ():
        out.extend(_submodels(meta))
    return out


_KNOWN_KEYS = _all_field_names(RunConfig)
_MODEL_CONFIGS = {
    sub.model_fields["type"].default: sub for sub in _submodels(RunConfig.model_fields["model"].annotation)
}
_MODEL_TYPES = set(_MODEL_CONFIGS)


def _other_models_with(key: str) -> str:
    """``"; model.KEY is an option of cnn, mlp"`` for a model key that other model types take ("" when none does)."""
    owners = sorted(t for t, config in _MODEL_CONFIGS.items() if key in config.model_fields)
    if not owners:
        return ""
    shown = ", ".join(owners[:8]) + (", ..." if len(owners) > 8 else "")
    return f"; model.{key} is an option of {shown}"


def _keys_at(parts: list[str]) -> set[str]:
    """The keys allowed in the section that holds ``parts[-1]`` (all known keys if it cannot be told)."""
    models: list[type[BaseModel]] = [RunConfig]
    for part in parts[:-1]:
        if part.isdigit():
            continue  # a list index
        by_tag = [m for m in models if "type" in m.model_fields and m.model_fields["type"].default == part]
        if by_tag:
            models = by_tag  # a discriminator tag pydantic puts into the location
            continue
        models = [sub for m in models if part in m.model_fields for sub in _submodels(m.model_fields[part].annotation)]
    keys = {k for m in models for k in m.model_fields}
    return keys or _KNOWN_KEYS


def _format_errors(exc: ValidationError, origin: str) -> str:
    lines = [f"invalid configuration{f' in {origin}' if origin else ''}:"]
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"] if not str(p).startswith("function-"))
        # drop discriminator tags such as 'mlp' inserted by pydantic into the location
        parts = [str(p) for p in err["loc"]]
        if len(parts) > 1 and parts[0] == "model" and parts[1] in _MODEL_TYPES:
            loc = ".".join(["model", *parts[2:]])
        kind = err["type"]
        if kind == "extra_forbidden":
            key = str(err["loc"][-1])
            tagged = len(parts) == 3 and parts[0] == "model" and parts[1] in _MODEL_TYPES  # model.<type>.<key>
            elsewhere = _other_models_with(key) if tagged else ""
            kind_of = f" for model type {parts[1]}" if elsewhere else ""
            lines.append(f"  {loc}: unknown key{kind_of}{close_matches(key, _keys_at(parts))}{elsewhere}")
        elif kind == "missing":
            lines.append(f"  {loc}: required key is missing")
        elif kind == "union_tag_invalid":
            lines.append(f"  {loc or 'model'}.type: {err['msg']}")
        else:
            got = err.get("input")
            shown = f" (got {got!r})" if got is not None and not isinstance(got, (dict, list, BaseModel)) else ""
            lines.append(f"  {loc or '(top level)'}: {err['msg']}{shown}{_hint(kind, got, loc)}")
    return "\n".join(lines)


def _hint(kind: str, got: Any, loc: str) -> str:
    """Advice for two common slips: YAML's ``1e3`` is text, and a section given as a word."""
    if isinstance(got, str) and kind.startswith(("int_", "float_")):
        try:
            number = float(got)
        except ValueError:
            return ""
        # PyYAML's numbers need a dot and a signed exponent: 1e3 and 1.0e3 are text, 1.0e+3 a number
        if number.is_integer() and abs(number) < 1e15:
            return f"; YAML reads {got} as text (a number needs a dot and a signed exponent), so write {int(number)}"
        return f"; YAML reads {got} as text (a number needs a dot and a signed exponent), so write {number!r}"
    if isinstance(got, str) and kind in ("model_type", "model_attributes_type", "dict_type"):
        key = "path" if loc.startswith("data.sources") else "type"
        return f"; write it as a mapping: {{{key}: {got}}}"
    return ""


def parse_config(data: Mapping[str, Any], *, origin: str = "") -> RunConfig:
    """Validate a configuration mapping.

    Parameters
    ----------
    data
        The configuration as plain data (e.g. from YAML).
    origin
        Where it came from, quoted in errors.

    Raises
    ------
    ConfigError
        Listing every problem with its dotted key path and, for unknown keys,
        close matches.
    """
    try:
        return RunConfig.model_validate(dict(data))
    except ValidationError as exc:
        raise ConfigError(_format_errors(exc, origin)) from None


def apply_overrides(data: dict[str, Any], overrides: Iterable[str]) -> dict[str, Any]:
    """Apply ``section.key=value`` overrides (values parsed as YAML scalars/lists).

    ``data.sources.0.path=x.root`` indexes lists by position. A search-space entry is
    named by a dotted configuration key of its own, so ``tuning.space.model.dropout=...``
    sets the entry ``model.dropout`` of ``tuning.space`` (the whole entry, e.g.
    ``{float: [0.0, 0.5]}``).
    """
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"override {item!r} is not of the form section.key=value")
        key, raw = item.split("=", 1)
        if not key.strip() or any(not part.strip() for part in key.strip().split(".")):
            raise ConfigError(f"override {item!r} names no key: write section.key=value, e.g. training.epochs=20")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as exc:
            raise ConfigError(f"override {item!r}: cannot parse value {raw!r}: {exc}") from None
        except RecursionError:
            raise ConfigError(f"override {item[:60]!r}...: the value is nested too deeply") from None
        node: Any = data
        parts = key.strip().split(".")
        if parts[:2] == ["tuning", "space"] and len(parts) > 3:
            parts = [*parts[:2], ".".join(parts[2:])]  # the entry's name is itself a dotted key
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if isinstance(node, list):
                try:
                    idx = int(part)
                    node[idx]
                except (ValueError, IndexError):
                    raise ConfigError(f"override {item!r}: {'.'.join(parts[:i])} has no element {part!r}") from None
                if last:
                    node[idx] = value
                else:
                    node = node[idx]
            elif isinstance(node, dict):
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, {})
            else:
                raise ConfigError(f"override {item!r}: {'.'.join(parts[:i])} is not a section")
    return data


def refuse_owned_overrides(
    overrides: Iterable[str],
    owned: Mapping[str, str],
    option: str = "--set",
    *,
    instead: str = "use that instead, or train with neyman train and a configuration of your own",
) -> None:
    """Refuse overrides of keys a command sets itself, which would silently replace what its options say.

    Parameters
    ----------
    overrides
        ``section.key=value`` items.
    owned
        The dotted keys the command sets, each with what sets it (``"--features"``).
    option
        The option the overrides came from, for the message.
    instead
        What to do, for the message.

    Raises
    ------
    ConfigError
        An override names an owned key, a key inside one, or a section holding one
        (``data=...`` replaces ``data.features``).
    """
    for item in overrides:
        key = item.split("=", 1)[0].strip()
        for name, setter in owned.items():
            if key == name or key.startswith(f"{name}.") or name.startswith(f"{key}."):
                raise ConfigError(f"{option} {key}: this command sets {name} itself ({setter}); {instead}")


class _UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.safe_load``'s loader, refusing a key given twice in one mapping.

    YAML would keep the last one silently: a second ``training:`` section would
    replace the first without a word.
    """


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    """The mapping, refusing a key the node itself gives twice (merged keys ``<<:`` may be overridden)."""
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            first = seen.get(key)
        except TypeError:
            continue  # an unhashable key is refused by the mapping constructor itself
        if first is not None:
            where = f"line {line}" if first == line else f"lines {first} and {line}"
            raise yaml.constructor.ConstructorError(
                None, None, f"the key {key!r} is given twice ({where})", key_node.start_mark
            )
        seen[key] = line
    loader.flatten_mapping(node)
    return loader.construct_mapping(node, deep=deep)


_UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _unique_mapping)


MAX_CONFIG_VALUES = 100_000
"""A run configuration holds a few hundred values; YAML aliases of aliases can expand to billions."""


def _unshared(data: dict[str, Any], path: Path) -> dict[str, Any]:
    """A copy in which no two places share an object: each YAML alias becomes its own copy.

    An override then changes one place (``--set data.sources.0.columns.alpha=0.2`` changed
    every source that took ``columns: *c``).  Refused when the copy would exceed
    :data:`MAX_CONFIG_VALUES` values (aliases of aliases: a file of 1 kB became a
    ``config.yaml`` of 20 MB, and longer chains never finished).
    """
    count = 0
    inside: set[int] = set()  # the containers being copied: one met again holds itself

    def copy(value: Any) -> Any:
        nonlocal count
        count += 1
        if count > MAX_CONFIG_VALUES:
            raise ConfigError(
                f"{path} expands to more than {MAX_CONFIG_VALUES:,} values (YAML aliases repeating aliases); a run "
                "configuration holds a few hundred: write the values out"
            )
        if not isinstance(value, (dict, list)):
            return value
        if id(value) in inside:
            raise ConfigError(f"{path} holds a value that contains itself (a YAML alias inside its own anchor)")
        inside.add(id(value))
        try:
            if isinstance(value, dict):
                return {k: copy(v) for k, v in value.items()}
            return [copy(v) for v in value]
        finally:
            inside.discard(id(value))

    return dict(copy(data))


def load_config(path: str | os.PathLike[str], overrides: Iterable[str] = ()) -> RunConfig:
    """Read a YAML run configuration (safe loading; a key given twice is refused) and apply overrides.

    A relative input path in ``data.sources`` is taken from the current folder, as on
    the command line; a path that does not exist there is taken relative to the
    configuration file's folder.  When both exist and are different files, the
    current folder's is read and a warning names the other.
    """
    path = Path(path)
    if os.path.isdir(path):
        raise ConfigError(f"{path} is a folder; give a configuration file (e.g. {path / 'run.yaml'})")
    if not os.path.isfile(path):
        raise ConfigError(f"configuration file {path} does not exist")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    except RecursionError:
        raise ConfigError(f"{path} is nested too deeply to be a run configuration") from None
    except (UnicodeDecodeError, OSError) as exc:
        raise ConfigError(f"cannot read {path} as UTF-8 text: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of sections (data:, model:, ...), not a {type(data).__name__}")
    data = apply_overrides(_unshared(data, path), overrides)
    section = data.get("data")
    sources = section.get("sources") if isinstance(section, dict) else None
    for src in sources if isinstance(sources, list) else []:  # anything else is refused by validation
        if isinstance(src, dict) and isinstance(src.get("path"), str):
            file_part = src["path"]
            if Path(file_part).is_absolute():
                continue
            candidate = path.parent / file_part
            beside = os.path.exists(candidate) or os.path.exists(path.parent / file_part.rsplit(":", 1)[0])
            if not os.path.exists(file_part) and beside:
                src["path"] = str(candidate)
            elif os.path.exists(candidate) and os.path.exists(file_part) and not os.path.samefile(file_part, candidate):
                warnings.warn(
                    f"{path}: data.sources path {file_part!r} exists both here ({Path(file_part).resolve()}) and "
                    f"beside the configuration ({candidate.resolve()}); the one here is read, as on the command "
                    "line: give an absolute path to read the other",
                    NeymanWarning,
                    stacklevel=2,
                )
    overrides = list(overrides)
    given = f" with the options {', '.join(overrides)}" if overrides else ""
    return parse_config(data, origin=f"{path}{given}")


def validate_paths(config: RunConfig) -> None:
    """Check that every input file exists and that ``output_dir`` can hold runs; name the key otherwise."""
    from neyman.io import parse_source

    out = Path(config.output_dir)
    for folder in (out, *out.parents):
        if os.path.exists(folder) and not os.path.isdir(folder):
            raise ConfigError(
                f"output_dir: {config.output_dir} cannot hold runs: {folder} is a file, not a folder; "
                "choose another --output-dir"
            )

    for i, src in enumerate(config.data.sources):
        file_path, _ = parse_source(src.path)
        if os.path.isdir(file_path):
            raise ConfigError(f"data.sources.{i}.path: {file_path} is a folder; give a data file inside it")
        if not os.path.exists(file_path):
            raise ConfigError(f"data.sources.{i}.path: file {file_path}{missing_file(file_path)}")


def dump_config(config: RunConfig) -> str:
    """The fully resolved configuration (defaults filled in) as YAML."""
    return yaml.safe_dump(config.model_dump(mode="json"), sort_keys=False)


def resolve_config(
    config: RunConfig | Mapping[str, Any] | str | os.PathLike[str], overrides: Iterable[str] = ()
) -> RunConfig:
    """A run configuration from a config object, a mapping or a YAML path, with ``overrides`` applied."""
    if isinstance(config, RunConfig):
        if overrides:
            return parse_config(apply_overrides(config.model_dump(mode="json"), overrides))
        return config
    if isinstance(config, Mapping):
        return parse_config(apply_overrides(dict(config), overrides))
    return load_config(config, overrides)
