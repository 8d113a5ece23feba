"""Checkpoints that are never half-written, load safely, and fail clearly.

* **Atomic save**: the checkpoint is written to a temporary file in the same
  folder, flushed to disk, and only then moved over the old one with
  ``os.replace`` (atomic on POSIX and Windows), through the course's one door
  for writing files, :func:`course_utils.safe_io.atomic_write`. Interrupting a
  save - Ctrl-C, a crash, a killed kernel, a full disk - leaves the previous
  checkpoint intact, and the next save removes the killed save's temporary file.
* **Checksum**: every checkpoint stores the SHA-256 of its content (tensors,
  numbers, strings, containers), and loading verifies it, so a bit flipped on
  disk or in a copy is reported instead of silently changing a weight.
  Checkpoints without a checksum (made before checksums existed) are refused
  with a message that says to retrain: their content cannot be verified.
* **Safe load**: only PyTorch's zip format is read, with
  ``torch.load(weights_only=True)``, which unpickles tensors and plain
  containers, never arbitrary code; then the layout is checked.
* **Clear errors**: a missing, unreadable, corrupt, truncated, damaged, foreign
  or incompatible file raises :class:`CheckpointError` saying what is wrong and
  what to do; so does a checkpoint folder that cannot be written.
* **Full resume state**: models, optimisers, schedulers, epoch and step, the RNG
  states of Python, NumPy and PyTorch, and the training history.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .safe_io import atomic_write, check_writable, open_regular

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


# ---------------------------------------------------------------- saving


def atomic_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` to a temporary file, then ``os.replace`` it over ``path``.

    A course checkpoint (a dict with the ``FORMAT`` marker) gets its checksum added.

    Raises:
        CheckpointError: ``obj`` holds something that would not load safely, or
            ``path`` is a folder or cannot be written (the message says why).
    """
    if isinstance(obj, Mapping) and obj.get("format") == FORMAT:
        try:
            obj = {**{k: v for k, v in obj.items() if k != CHECKSUM_KEY}, CHECKSUM_KEY: checksum(obj)}
        except TypeError as err:
            raise CheckpointError(f"Cannot save {path}: {err}.") from err
    return atomic_write(path, lambda f: torch.save(obj, f), error=CheckpointError, what="checkpoint")


def check_checkpoint_writable(path: str | os.PathLike) -> Path:
    """Raise :class:`CheckpointError` now if ``path`` could not be saved later (folder, permissions)."""
    try:
        return check_writable(path, error=CheckpointError, what="checkpoint")
    except CheckpointError as err:
        raise CheckpointError(
            f"{err} The checkpoint {path} could not be saved after training; nothing was trained. "
            "Set COURSE_CHECKPOINT_DIR to a folder you can write."
        ) from err


# ---------------------------------------------------------------- loading


def _what_file_is_this(head: bytes) -> str | None:
    """What a file that is not a PyTorch zip archive is, from its first bytes (None: no idea)."""
    text = head.lstrip()
    if text.startswith(b"version https://git-lfs"):
        return ("a Git LFS pointer: a small text file that stands for the real checkpoint, which was "
                "never downloaded. Run `git lfs pull` in the repository (or download the real file)")
    if text[:15].lower().startswith((b"<!doctype html", b"<html", b"<?xml", b"<head")):
        return ("a web page (HTML), not a checkpoint: a download saved an error or login page instead "
                "of the file. Download it again")
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05"):
        return ("in PyTorch's legacy (pre-1.6) pickle format, which course_utils never writes: not a "
                "course checkpoint, or a damaged one")
    if head and all(32 <= b < 127 or b in b"\t\r\n" for b in head):
        first = head.decode("ascii").strip().splitlines()[0][:60] if head.strip() else ""
        return f"a text file, not a checkpoint (it begins {first!r})"
    return None


def _unpickling_problem(err: Exception) -> str:
    """torch's weights-only refusal, without its advice to retry with weights_only=False."""
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    detail = next((ln for ln in lines if "GLOBAL" in ln or "Unsupported" in ln), lines[-1] if lines else "")
    return detail[:200]


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load a course checkpoint onto the CPU with ``weights_only=True`` and verify it.

    Raises:
        CheckpointError: missing, unreadable, empty, truncated/corrupt, damaged
            (checksum), unsafe, without checksum, or not a course checkpoint.
    """
    path = Path(path).expanduser()
    fix = f"Delete {path} and run the training cell again to retrain."
    missing = f"No checkpoint at {path}. Train the model first (run its training cell)."
    with open_regular(path, error=CheckpointError, what="checkpoint", missing=missing) as f:
        head = f.read(512)
        if not head:
            raise CheckpointError(f"The checkpoint {path} is empty (0 bytes). {fix}")
        if not head.startswith(b"PK\x03\x04"):
            what = _what_file_is_this(head)
            raise CheckpointError(
                f"{path} is {what}. {fix}" if what else
                f"The checkpoint {path} is corrupt or truncated, or not a checkpoint at all (its first bytes "
                f"are {head[:8]!r}; a PyTorch checkpoint begins with b'PK\\x03\\x04'). {fix}"
            )
        f.seek(0)
        try:
            with warnings.catch_warnings():
                # torch asks to "file an issue" about odd pickle protocols: noise for a damaged file,
                # which is refused below anyway (and the checksum catches what loads)
                warnings.simplefilter("ignore")
                obj = torch.load(f, map_location="cpu", weights_only=True)
        except pickle.UnpicklingError as err:
            detail = _unpickling_problem(err)
            if "GLOBAL" in detail or "global" in detail:
                raise CheckpointError(
                    f"The checkpoint {path} holds objects other than tensors and plain containers "
                    f"({detail}). Unpickling them could run code, so they are not loaded. Checkpoints "
                    f"made with course_utils never hold such objects: this file was made by another "
                    f"program, or changed. Do not load files of unknown origin. {fix}"
                ) from err
            raise CheckpointError(
                f"The checkpoint {path} is corrupt and cannot be read ({detail}). {fix}"
            ) from err
        except Exception as err:  # noqa: BLE001 - a damaged archive fails in many ways deep in torch
            msg = str(err).strip().splitlines()[0][:200] if str(err).strip() else ""
            raise CheckpointError(
                f"The checkpoint {path} is corrupt or truncated and cannot be read "
                f"({type(err).__name__}: {msg}). Perhaps a save was interrupted or the file was "
                f"damaged when copied. {fix}"
            ) from err
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is not a course_utils checkpoint (no '{FORMAT}' marker). "
            f"Was it made by another program? {fix}"
        )
    if not isinstance(obj.get(CHECKSUM_KEY), str):
        raise CheckpointError(f"The checkpoint {path} has no checksum: it was made by an older version of "
                              f"course_utils, so its content cannot be verified. {fix}")
    try:
        ok = checksum(obj) == obj[CHECKSUM_KEY]
    except TypeError:
        ok = False
    if not ok:
        raise CheckpointError(
            f"The checkpoint {path} is damaged: its content does not match its checksum (bytes changed "
            f"on disk or in a copy after it was saved). {fix}"
        )
    _check_layout(obj, path, fix)
    return obj


def _check_layout(obj: dict[str, Any], path: Path, fix: str) -> None:
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


def load_state(module: Any, state: Mapping, what: str, path: Path) -> None:
    """``load_state_dict`` with a clear error when the checkpoint does not fit the object."""
    try:
        module.load_state_dict(state)
    except (RuntimeError, ValueError, KeyError, TypeError, AttributeError, IndexError) as err:
        detail = str(err).strip().splitlines()
        raise CheckpointError(
            f"The checkpoint {path} does not fit {what}: it was saved for a different "
            f"architecture or settings.\n  {' '.join(d.strip() for d in detail[:4])}\n"
            f"Delete {path} to retrain with the current code, or build the model with the "
            "settings it was saved with."
        ) from err


# ---------------------------------------------------------------- models by name


def save_model(model: nn.Module, path: str | os.PathLike, config: Mapping[str, Any] | None = None) -> Path:
    """Save just a model's weights (and the config it was built with), atomically, with a checksum."""
    return atomic_save(
        {"format": FORMAT, "kind": "model", "config": dict(config or {}),
         "models": {"model": model.state_dict()}},
        path,
    )


def load_model(model: nn.Module, path: str | os.PathLike, key: str = "model") -> nn.Module:
    """Load weights saved by :func:`save_model` or by the training loop into ``model``.

    Args:
        model: a freshly built model of the same architecture.
        path: the checkpoint file.
        key: which model of a multi-model checkpoint (e.g. ``"G"`` of a GAN).
    """
    path = Path(path)
    ckpt = load_checkpoint(path)
    models = ckpt.get("models") or {}
    if key not in models:
        raise CheckpointError(
            f"The checkpoint {path} has no model named {key!r} (it has: {', '.join(models) or 'none'})."
        )
    load_state(model, models[key], f"the model {type(model).__name__}", path)
    return model
