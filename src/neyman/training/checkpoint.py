"""Checkpoints without pickle: tensors in safetensors, structure in JSON.

A training state (model weights, optimiser and scheduler state, random-number
generator states, counters) is a nested structure of dicts, lists, numbers and
tensors.  :func:`save_state` stores every tensor in a safetensors file and the
structure, with references to the tensors, as JSON in the file's metadata, so
loading never executes code from the file.  The metadata also holds a SHA-256 of
the structure and of every tensor (name, dtype, shape, bytes), so a checkpoint
modified or damaged since it was written is refused instead of resumed from.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import torch

from neyman.atomic import atomic_path
from neyman.exceptions import ModelError
from neyman.optional import require

__all__ = ["load_state", "save_state"]

_STATE = "neyman_state"
_DIGEST = "neyman_sha256"
_TENSOR = "__tensor__"
_DICT = "__dict__"
_TUPLE = "__tuple__"


def _encode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, torch.Tensor):
        key = f"t{len(tensors)}"
        tensors[key] = value.detach().to("cpu").contiguous()
        return {_TENSOR: key}
    if isinstance(value, dict):
        return {_DICT: [[_encode(k, tensors), _encode(v, tensors)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(v, tensors) for v in value]}
    if isinstance(value, list):
        return [_encode(v, tensors) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise ModelError(f"cannot store a value of type {type(value).__name__} in a checkpoint")


def _decode(value: Any, tensors: dict[str, torch.Tensor]) -> Any:
    if isinstance(value, dict):
        if _TENSOR in value:
            return tensors[value[_TENSOR]]
        if _DICT in value:
            return {_decode(k, tensors): _decode(v, tensors) for k, v in value[_DICT]}
        if _TUPLE in value:
            return tuple(_decode(v, tensors) for v in value[_TUPLE])
        raise ModelError("malformed checkpoint structure")
    if isinstance(value, list):
        return [_decode(v, tensors) for v in value]
    return value


def _digest(skeleton: str, tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 of a checkpoint's structure and of each tensor's name, dtype, shape and bytes."""
    digest = hashlib.sha256(skeleton.encode())
    for key in sorted(tensors):
        t = tensors[key].detach().to("cpu").contiguous()
        digest.update(f"\0{key}\0{t.dtype}\0{tuple(t.shape)}\0".encode())
        # bytes through uint8: NumPy has no bfloat16, and a view keeps the exact bits of every dtype
        digest.update(t.reshape(-1).view(torch.uint8).numpy().data)
    return digest.hexdigest()


def save_state(path: str | os.PathLike[str], state: dict[str, Any]) -> Path:
    """Atomically write a nested training state to a safetensors file.

    Parameters
    ----------
    path
        Destination (``.safetensors``).
    state
        Nested dicts/lists/tuples of tensors, numbers, strings, booleans and None.
    """
    st = require("safetensors.torch", purpose="write checkpoints")
    tensors: dict[str, torch.Tensor] = {}
    skeleton = json.dumps(_encode(state, tensors))
    with atomic_path(path) as tmp:
        st.save_file(tensors, str(tmp), metadata={_STATE: skeleton, _DIGEST: _digest(skeleton, tensors)})
    return Path(path)


def load_state(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a state written by :func:`save_state`.

    Raises
    ------
    ModelError
        If the file is missing, truncated, not a neyman checkpoint, or modified or
        damaged since it was written (its recorded SHA-256 no longer matches;
        checkpoints written before the SHA-256 was recorded are not checked).
    """
    st = require("safetensors.torch", purpose="read checkpoints")
    safe_open = require("safetensors").safe_open
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"checkpoint {path} does not exist")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
        tensors = st.load_file(str(path))
        skeleton = json.loads(meta[_STATE])
    except Exception as exc:  # safetensors raises its own SafetensorError besides OSError/KeyError
        raise ModelError(f"checkpoint {path} is damaged or not a neyman checkpoint: {exc}") from exc
    if _DIGEST in meta and meta[_DIGEST] != _digest(meta[_STATE], tensors):
        raise ModelError(
            f"checkpoint {path} was modified or damaged since it was written (its SHA-256 no longer matches); "
            "restore the file, or start the run again instead of resuming it (neyman train CONFIG --force)"
        )
    state = _decode(skeleton, tensors)
    if not isinstance(state, dict):
        raise ModelError(f"checkpoint {path} does not hold a training state")
    return state
