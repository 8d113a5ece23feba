"""Per-epoch snapshots of a run: models and a grid of samples, next to the run's checkpoint.

The training loop's checkpoint (``<name>.pt``) holds the *last* epoch, for train-or-load
and resume. A generative model is also worth watching *over* training, so the GAN runs of
notebooks 03 and 05 keep, after every epoch, a small snapshot file with the generator's
weights and its samples from the run's fixed inputs::

    <checkpoint folder>/dcgan.pt                  the run (last epoch, optimisers, history)
    <checkpoint folder>/dcgan_epochs/epoch_001.pt G and its fixed-noise samples after epoch 1
    <checkpoint folder>/dcgan_epochs/epoch_002.pt ...

Every snapshot stores the run's config, and :func:`load` refuses a snapshot written by a
run with another config, as the training loop refuses such a checkpoint. Samples are
stored as bytes (0..255, a quarter of the size of float32) and read back in [0, 1].
This module knows nothing about GANs: it is bookkeeping for any run that keeps
per-epoch models and image grids.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoints import FORMAT, CheckpointError, atomic_save, load_checkpoint


def folder(checkpoint: str | Path) -> Path:
    """Where a run keeps its snapshots: ``<name>_epochs/`` next to ``<name>.pt``."""
    checkpoint = Path(checkpoint)
    return checkpoint.with_name(f"{checkpoint.stem}_epochs")


def path(checkpoint: str | Path, epoch: int) -> Path:
    """The snapshot file of ``epoch`` (1, 2, ...): ``<name>_epochs/epoch_003.pt``."""
    if epoch < 1:
        raise ValueError(f"snapshots are numbered from epoch 1, got {epoch}")
    return folder(checkpoint) / f"epoch_{epoch:03d}.pt"


def clear_stale(checkpoint: str | Path) -> list[Path]:
    """Delete the snapshots of a run whose checkpoint is gone (deleted to retrain); return them.

    A run that starts from scratch calls this first, so that a shorter new run never
    reads the later epochs of an older one. Nothing is deleted while the checkpoint exists.
    """
    checkpoint = Path(checkpoint)
    if checkpoint.exists() or not folder(checkpoint).is_dir():
        return []
    stale = sorted(folder(checkpoint).glob("epoch_*.pt"))
    for old in stale:
        old.unlink()
    return stale


def to_bytes(x01: torch.Tensor) -> torch.Tensor:
    """Images in [0, 1] -> uint8 0..255 (clamped, rounded), on the CPU."""
    return (x01.detach().float().cpu().clamp(0, 1) * 255).round().to(torch.uint8)


def from_bytes(images: torch.Tensor) -> torch.Tensor:
    """uint8 0..255 -> float32 images in [0, 1]."""
    if images.dtype != torch.uint8:
        raise ValueError(f"expected uint8 images, got {images.dtype}")
    return images.float() / 255


def save(checkpoint: str | Path, epoch: int, config: Mapping[str, Any], models: Mapping[str, nn.Module],
         samples01: torch.Tensor) -> Path:
    """Write the snapshot of ``epoch``: the models' weights and ``samples01`` ``[N, C, H, W]`` in [0, 1].

    Args:
        checkpoint: the run's checkpoint file (the snapshot goes to :func:`path`).
        epoch: the epoch just completed (1, 2, ...).
        config: the run's config as a dict; :func:`load` compares it.
        models: the models to keep, by name, e.g. ``{"G": G}``.
        samples01: the samples from the run's fixed inputs, in [0, 1].
    """
    target = path(checkpoint, epoch)
    return atomic_save({"format": FORMAT, "kind": "model", "config": dict(config), "epoch": epoch,
                        "models": {name: m.state_dict() for name, m in models.items()},
                        "samples": to_bytes(samples01)}, target)


def paths(checkpoint: str | Path, epochs: int) -> list[Path]:
    """The snapshot files of epochs 1..``epochs``, epoch 1 first; raises if any is missing."""
    found = [path(checkpoint, e) for e in range(1, epochs + 1)]
    missing = [p.name for p in found if not p.is_file()]
    if missing:
        raise CheckpointError(f"snapshots {', '.join(missing)} of {Path(checkpoint).name} are missing from "
                              f"{folder(checkpoint)}. Delete {checkpoint} to retrain.")
    return found


def load(checkpoint: str | Path, epoch: int, config: Mapping[str, Any]) -> dict[str, Any]:
    """The snapshot of ``epoch``, with ``"models"`` (state dicts) and ``"samples"`` (in [0, 1]).

    Raises :class:`~course_utils.checkpoints.CheckpointError` when the file is missing or was
    written by a run with another config.
    """
    file = path(checkpoint, epoch)
    if not file.is_file():
        paths(checkpoint, epoch)  # raises, naming every missing snapshot up to this epoch
    snap = load_checkpoint(file)
    if snap.get("config") != dict(config):
        raise CheckpointError(f"{file} was saved by a run with another config. Delete {folder(checkpoint)} "
                              f"and {checkpoint} to retrain.")
    return {**snap, "samples": from_bytes(snap["samples"])}


def load_samples(checkpoint: str | Path, epochs: int, config: Mapping[str, Any]) -> torch.Tensor:
    """The samples of every epoch, stacked: ``[epochs, N, C, H, W]`` in [0, 1]."""
    paths(checkpoint, epochs)
    return torch.stack([load(checkpoint, e, config)["samples"] for e in range(1, epochs + 1)])
