"""Checkpoints that are never half-written, load safely, and fail clearly.

* **Atomic save**: the checkpoint is written to a temporary file in the same
  folder, flushed to disk, and only then moved over the old one with
  ``os.replace`` (atomic on POSIX and Windows), through the course's one door
  for writing files, :func:`course_utils.safe_io.atomic_write`. Interrupting a
  save - Ctrl-C, a crash, a killed kernel, a full disk - leaves the previous
  checkpoint intact, and the next save removes the killed save's temporary file.
* **Checksum**: every checkpoint stores the SHA-256 of its content, and loading
  verifies it (:mod:`course_utils.checkpoint_format` defines the marker, the
  checksum and the layout). Checkpoints without a checksum (made before
  checksums existed) are refused with a message that says to retrain: their
  content cannot be verified.
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

import os
import pickle
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoint_format import CHECKSUM_KEY, FORMAT, CheckpointError, check_layout, checksum
from .safe_io import atomic_write, check_writable, open_regular

__all__ = ["FORMAT", "CHECKSUM_KEY", "CheckpointError", "checksum", "atomic_save",
           "check_checkpoint_writable", "load_checkpoint", "load_state", "save_model", "load_model"]


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
    check_layout(obj, path, fix)
    return obj


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
