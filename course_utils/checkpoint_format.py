"""What a course checkpoint is: its format marker, its checksum and its layout.

:mod:`course_utils.checkpoints` saves and loads the files; this module says what is in
them and whether it may be trusted:

* **Marker**: a checkpoint is a dict whose ``"format"`` is :data:`FORMAT`.
* **Checksum**: the SHA-256 of its content (tensors, numbers, strings, containers, in a
  canonical form: type tags, lengths and raw tensor bytes) under :data:`CHECKSUM_KEY`, so
  that a bit flipped on disk or in a copy is reported instead of silently changing a weight.
* **Layout**: models, optimisers and schedulers are dicts of state dicts, models hold only
  tensors, a training run has its epoch, history and random-number states, and
  ``"samples"`` is a tensor (:func:`check_layout`). Anything else is refused with a
  :class:`CheckpointError` that says what is wrong.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

FORMAT = "course_utils.checkpoint/1"
CHECKSUM_KEY = "sha256"


class CheckpointError(RuntimeError):
    """A checkpoint file cannot be used; the message says why and what to do."""


# ---------------------------------------------------------------- checksum


def _feed(h: Any, obj: Any) -> None:
    """Feed ``obj`` to the hash ``h`` in a canonical form: type tags, lengths and raw tensor bytes."""
    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(f"T{t.dtype}{tuple(t.shape)};".encode())
        if t.numel():
            h.update(t.reshape(-1).view(torch.uint8).numpy())
    elif isinstance(obj, Mapping):
        h.update(b"D%d;" % len(obj))
        for k, v in obj.items():
            _feed(h, k)
            _feed(h, v)
    elif isinstance(obj, list | tuple):
        h.update(b"%c%d;" % (b"L" if isinstance(obj, list) else b"U", len(obj)))
        for v in obj:
            _feed(h, v)
    elif isinstance(obj, bool) or obj is None:
        h.update(b"N;" if obj is None else b"b%d;" % obj)
    elif isinstance(obj, int):
        h.update(b"I%d;" % obj)
    elif isinstance(obj, float):
        h.update(b"F" + float.hex(obj).encode() + b";")
    elif isinstance(obj, str):
        raw = obj.encode("utf-8", "surrogatepass")
        h.update(b"S%d;" % len(raw) + raw)
    elif isinstance(obj, bytes | bytearray):
        h.update(b"B%d;" % len(obj) + bytes(obj))
    elif isinstance(obj, torch.dtype | torch.device):
        h.update(f"O{obj};".encode())
    else:
        raise TypeError(f"a {type(obj).__name__} cannot be stored in a checkpoint: only tensors, numbers, "
                        "strings, None and lists, tuples and dicts of them load safely")


def checksum(content: Mapping[str, Any]) -> str:
    """The SHA-256 (hex) of a checkpoint's content, without its own checksum entry."""
    h = hashlib.sha256()
    _feed(h, {k: v for k, v in content.items() if k != CHECKSUM_KEY})
    return h.hexdigest()


# ---------------------------------------------------------------- layout


def check_layout(obj: dict[str, Any], path: Path, fix: str) -> None:
    """Refuse a checkpoint whose entries do not have the types the course's loaders use."""
    problems = []

    def expect(ok: bool, what: str) -> None:
        if not ok:
            problems.append(what)

    def state_dicts(key: str, tensors_only: bool) -> None:
        group = obj.get(key)
        if group is None and key in ("best_models", "optimizers", "schedulers", "models"):
            return
        expect(isinstance(group, Mapping) and all(isinstance(k, str) and isinstance(v, Mapping)
                                                   for k, v in group.items()),
               f"'{key}' must map names to state dicts")
        if tensors_only and not problems:
            expect(all(isinstance(t, torch.Tensor) for sd in group.values() for t in sd.values()),
                   f"the state dicts in '{key}' must hold only tensors")

    expect(isinstance(obj.get("kind", "model"), str), "'kind' must be a string")
    expect(isinstance(obj.get("config", {}), Mapping), "'config' must be a dict")
    state_dicts("models", tensors_only=True)
    state_dicts("best_models", tensors_only=True)
    state_dicts("optimizers", tensors_only=False)
    state_dicts("schedulers", tensors_only=False)
    if obj.get("kind") == "training":
        expect(isinstance(obj.get("epoch"), int) and obj["epoch"] >= 0, "'epoch' must be a whole number")
        history = obj.get("history")
        expect(isinstance(history, Mapping) and isinstance(history.get("epoch"), Mapping)
               and isinstance(history.get("step"), Mapping)
               and all(isinstance(v, list) for part in ("epoch", "step") for v in history[part].values())
               and set(history) <= {"epoch", "step", "best_epoch", "stopped_early"},
               "'history' must be a training history")
        expect(_is_rng_state(obj.get("rng")), "'rng' must hold random-number generator states")
    expect(isinstance(obj.get("samples", torch.empty(0)), torch.Tensor), "'samples' must be a tensor")
    if "rng" in obj and obj.get("kind") != "training":
        expect(_is_rng_state(obj["rng"]), "'rng' must hold random-number generator states")
    if problems:
        raise CheckpointError(
            f"The checkpoint {path} has the course's marker but not the layout course_utils writes: "
            f"{'; '.join(problems)}. It was made by another program or version, or edited. {fix}"
        )


def _is_rng_state(state: Any) -> bool:
    try:
        version, internal, gauss = state["python"]
        numpy = state["numpy"]
        return (isinstance(version, int) and isinstance(internal, list | tuple) and len(internal) == 625
                and all(isinstance(i, int) for i in internal) and (gauss is None or isinstance(gauss, float))
                and isinstance(numpy["key"], torch.Tensor) and numpy["key"].shape == (624,)
                and all(isinstance(numpy[k], int) for k in ("pos", "has_gauss"))
                and isinstance(numpy["gauss"], float)
                and _is_byte_tensor(state["torch"])
                and _is_byte_tensor(state.get("mps", torch.empty(0, dtype=torch.uint8)))
                and isinstance(state.get("cuda", []), list | tuple)
                and all(map(_is_byte_tensor, state.get("cuda", []))))
    except (KeyError, TypeError, ValueError):
        return False


def _is_byte_tensor(t: Any) -> bool:
    return isinstance(t, torch.Tensor) and t.dtype == torch.uint8
