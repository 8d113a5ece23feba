"""Checkpoints that are never half-written, load safely, and fail clearly.

* **Atomic save**: the checkpoint is written to a temporary file in the same
  folder, flushed to disk, and only then moved over the old one with
  ``os.replace`` (atomic on POSIX and Windows). Interrupting a save - Ctrl-C, a
  crash, a full disk - leaves the previous checkpoint intact.
* **Safe load**: ``torch.load(weights_only=True)`` only unpickles tensors and
  plain containers, never arbitrary code.
* **Clear errors**: a missing, corrupt, truncated, foreign or incompatible file
  raises :class:`CheckpointError` saying what is wrong and what to do.
* **Full resume state**: models, optimisers, schedulers, epoch and step, the RNG
  states of Python, NumPy and PyTorch, and the training history.
"""

from __future__ import annotations

import os
import pickle
import struct
import tempfile
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

FORMAT = "course_utils.checkpoint/1"


class CheckpointError(RuntimeError):
    """A checkpoint file cannot be used; the message says why and what to do."""


def atomic_save(obj: Any, path: str | os.PathLike) -> Path:
    """``torch.save`` to a temporary file, then ``os.replace`` it over ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(obj, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Load a course checkpoint onto the CPU with ``weights_only=True``.

    Raises:
        CheckpointError: missing, empty, truncated/corrupt, unsafe or not a
            course checkpoint.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"No checkpoint at {path}. Train the model first (run its training cell).")
    fix = f"Delete {path} and run the training cell again to retrain."
    if path.stat().st_size == 0:
        raise CheckpointError(f"The checkpoint {path} is empty (0 bytes). {fix}")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(
            f"The checkpoint {path} holds objects that cannot be loaded safely with "
            f"weights_only=True ({str(err).splitlines()[0]}). Only load checkpoints you made "
            f"with course_utils. {fix}"
        ) from err
    except (RuntimeError, EOFError, zipfile.BadZipFile, OSError, ValueError, KeyError, IndexError,
            TypeError, AttributeError, struct.error) as err:
        # Random bytes read as a legacy (non-zip) pickle can fail in any of these ways.
        raise CheckpointError(
            f"The checkpoint {path} is corrupt or truncated and cannot be read "
            f"({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}). "
            f"Perhaps a save was interrupted or the file was damaged when copied. {fix}"
        ) from err
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise CheckpointError(
            f"{path} is not a course_utils checkpoint (no '{FORMAT}' marker). "
            f"Was it made by another program? {fix}"
        )
    return obj


def load_state(module: Any, state: Mapping, what: str, path: Path) -> None:
    """``load_state_dict`` with a clear error when the checkpoint does not fit the object."""
    try:
        module.load_state_dict(state)
    except (RuntimeError, ValueError, KeyError) as err:
        detail = str(err).strip().splitlines()
        raise CheckpointError(
            f"The checkpoint {path} does not fit {what}: it was saved for a different "
            f"architecture or settings.\n  {' '.join(d.strip() for d in detail[:4])}\n"
            f"Delete {path} to retrain with the current code, or build the model with the "
            "settings it was saved with."
        ) from err


# ---------------------------------------------------------------- models by name


def save_model(model: nn.Module, path: str | os.PathLike, config: Mapping[str, Any] | None = None) -> Path:
    """Save just a model's weights (and the config it was built with), atomically."""
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
    models = ckpt.get("models", {})
    if key not in models:
        raise CheckpointError(
            f"The checkpoint {path} has no model named {key!r} (it has: {', '.join(models) or 'none'})."
        )
    load_state(model, models[key], f"the model {type(model).__name__}", path)
    return model
