"""A plain, readable training loop with progress bars, checkpoints, resume and early stopping.

The loop does not know what a model is trained for: you give it a ``step``
function that takes one batch, does the forward pass, the backward pass and the
optimiser step, and returns the numbers to log. The steps are taught in the notebooks
(the classifier's in 01, the GANs' in 03 and 05, the VAEs' in 04, ...); this loop, the
same for all of them, is infrastructure.

Train or load
    With ``checkpoint=path`` the loop saves everything after every epoch. If you
    run the cell again it *loads* a finished run instead of training, and
    *resumes* an unfinished one (interrupted by Ctrl-C, a closed laptop, a
    Colab disconnect) from its last completed epoch, with the same random
    numbers, so the result is as if it had never stopped.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .checkpoints import (
    FORMAT,
    CheckpointError,
    atomic_save,
    check_checkpoint_writable,
    load_checkpoint,
    load_state,
)
from .progress import progress
from .rng import rng_state, set_rng_state


@dataclass
class History:
    """What a training run logged.

    Attributes:
        epoch: per-epoch values: the mean of each step value over the epoch
            (``"loss"``, ``"acc"``, ...), whatever ``end_of_epoch`` returned
            (``"val_loss"``, ...), ``"epoch"`` (1, 2, ...) and ``"time_s"``.
        step: every value ``step`` returned, one entry per batch.
        best_epoch: with early stopping, the epoch whose weights were kept.
        stopped_early: True if early stopping ended the run.
    """

    epoch: dict[str, list[float]] = field(default_factory=dict)
    step: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int | None = None
    stopped_early: bool = False

    @property
    def epochs_done(self) -> int:
        return len(self.epoch.get("epoch", []))

    def last(self, key: str) -> float:
        """The last per-epoch value of ``key``."""
        return self.epoch[key][-1]


@dataclass(frozen=True)
class EarlyStopping:
    """Stop when ``monitor`` has not improved for ``patience`` epochs, and keep the best weights.

    Args:
        monitor: a per-epoch value returned by ``end_of_epoch``, e.g. ``"val_loss"``.
        patience: epochs without improvement before stopping.
        mode: ``"min"`` if smaller is better (losses), ``"max"`` for accuracies.
    """

    monitor: str = "val_loss"
    patience: int = 3
    mode: str = "min"

    def improved(self, value: float, best: float) -> bool:
        return value < best if self.mode == "min" else value > best


def _state_dicts(objs: Mapping[str, Any] | None) -> dict[str, Any]:
    return {name: obj.state_dict() for name, obj in (objs or {}).items()}


def _config_differences(saved: Mapping[str, Any], given: Mapping[str, Any]) -> list[str]:
    keys = sorted(set(saved) | set(given))
    return [f"{k}: saved {saved.get(k, '(absent)')!r}, now {given.get(k, '(absent)')!r}"
            for k in keys if saved.get(k) != given.get(k)]


def _restore(path: Path, modules, optimizers, schedulers, config) -> tuple[int, History, dict | None]:
    ckpt = load_checkpoint(path)
    if ckpt.get("kind") != "training":
        raise CheckpointError(f"{path} holds only model weights, not a training run; it cannot be resumed.")
    diffs = _config_differences(ckpt.get("config", {}), dict(config or {}))
    if diffs:
        raise CheckpointError(
            f"The checkpoint {path} was trained with other settings:\n  " + "\n  ".join(diffs)
            + f"\nDelete {path} to retrain with the new settings, or save under another name."
        )
    for group, objs in (("models", modules), ("optimizers", optimizers), ("schedulers", schedulers)):
        saved = ckpt.get(group, {})
        for name, obj in (objs or {}).items():
            if name not in saved:
                raise CheckpointError(f"The checkpoint {path} has no {group[:-1]} named {name!r}.")
            load_state(obj, saved[name], f"{group[:-1]} {name!r}", path)
    set_rng_state(ckpt["rng"])
    return int(ckpt["epoch"]), History(**ckpt["history"]), ckpt.get("best_models")


def train(
    step: Callable[[Any], Mapping[str, float]],
    loader: Iterable,
    *,
    epochs: int,
    modules: Mapping[str, nn.Module],
    optimizers: Mapping[str, torch.optim.Optimizer],
    schedulers: Mapping[str, Any] | None = None,
    end_of_epoch: Callable[[int], Mapping[str, float]] | None = None,
    checkpoint: str | Path | None = None,
    config: Mapping[str, Any] | None = None,
    early_stopping: EarlyStopping | None = None,
    desc: str = "train",
    progress_bar: bool = True,
) -> History:
    """Train for ``epochs`` epochs, or load / resume from ``checkpoint``.

    Args:
        step: ``step(batch) -> {"loss": float, ...}``; does one optimisation step.
        loader: yields the batches of one epoch (a ``DataLoader``).
        epochs: total number of epochs (a resumed run continues up to this).
        modules: the models, by name; set to ``train()`` mode at each epoch start
            and saved in the checkpoint.
        optimizers: the optimisers, by name (saved for resume).
        schedulers: learning-rate schedulers, by name (saved for resume; step
            them inside ``step`` or ``end_of_epoch``).
        end_of_epoch: ``end_of_epoch(epoch) -> {"val_loss": float, ...}``, called
            after each epoch (epoch counts from 1): validation, sample grids, ...
        checkpoint: file to save to after every epoch, and to load or resume from.
        config: the hyperparameters that define the run (no epochs). A
            checkpoint made with a different config is refused, not reused.
        early_stopping: optional :class:`EarlyStopping`; the best weights are kept.
        desc: label for the progress bar.
        progress_bar: show progress bars.

    Returns:
        The :class:`History` of the whole run (including epochs before a resume).
    """
    path = Path(checkpoint) if checkpoint is not None else None
    history, start, best_state = History(), 0, None
    if path is not None and path.exists():
        start, history, best_state = _restore(path, modules, optimizers, schedulers, config)
        if start >= epochs or history.stopped_early:
            spent = sum(history.epoch.get("time_s", []))
            print(f"Loaded {path.name}: already trained for {start} epochs ({spent:.0f} s). "
                  f"Delete {path} to train again.")
            return history
        print(f"Resuming {path.name} from epoch {start} of {epochs}.")
    if path is not None:
        check_checkpoint_writable(path)  # fail now, not after the first epoch's work
    global_step = len(next(iter(history.step.values()), []))

    steps_per_epoch = len(loader) if hasattr(loader, "__len__") else None  # type: ignore[arg-type]
    bar = progress(desc=desc, total=steps_per_epoch and steps_per_epoch * epochs,
                   initial=(steps_per_epoch or 0) * start, enabled=progress_bar)
    try:
        for epoch in range(start, epochs):
            bar.set_description(f"{desc} epoch {epoch + 1}/{epochs}", refresh=False)
            for m in modules.values():
                m.train()
            sums: dict[str, float] = {}
            n_steps, t0 = 0, time.perf_counter()
            for batch in loader:
                logs = step(batch)
                n_steps += 1
                global_step += 1
                for k, v in logs.items():
                    v = float(v)
                    history.step.setdefault(k, []).append(v)
                    sums[k] = sums.get(k, 0.0) + v
                bar.update(1)
                bar.set_postfix({k: f"{s / n_steps:.4g}" for k, s in sums.items()}, refresh=False)
            epoch_logs = {k: s / max(n_steps, 1) for k, s in sums.items()}
            if end_of_epoch is not None:
                epoch_logs.update({k: float(v) for k, v in end_of_epoch(epoch + 1).items()})
            epoch_logs["epoch"] = epoch + 1
            epoch_logs["time_s"] = time.perf_counter() - t0
            for k, v in epoch_logs.items():
                history.epoch.setdefault(k, []).append(v)
            bar.set_postfix({k: f"{v:.4g}" for k, v in epoch_logs.items() if k not in ("epoch", "time_s")})

            if early_stopping is not None:
                best_state = _early_stopping_update(early_stopping, history, modules, best_state)
            if path is not None:
                _save(path, epoch + 1, global_step, epochs, history, modules, optimizers,
                      schedulers, config, best_state)
            if history.stopped_early:
                print(f"Early stopping after epoch {epoch + 1}: {early_stopping.monitor} has not "
                      f"improved since epoch {history.best_epoch}, whose weights are kept.")
                break
    except KeyboardInterrupt:
        if path is not None:
            print(f"\nInterrupted. {path.name} holds the last completed epoch; "
                  "run the cell again to resume from there.")
        raise
    finally:
        bar.close()
    if early_stopping is not None and best_state is not None and not history.stopped_early:
        _load_best(modules, best_state)  # keep the best weights also when the run ends normally
        if path is not None:
            _save(path, history.epochs_done, global_step, epochs, history, modules, optimizers,
                  schedulers, config, best_state)
    return history


def _early_stopping_update(es: EarlyStopping, history: History, modules, best_state):
    if es.monitor not in history.epoch:
        raise KeyError(f"early stopping monitors {es.monitor!r}, but end_of_epoch does not return it "
                       f"(it returned: {', '.join(history.epoch)})")
    values = history.epoch[es.monitor]
    epoch = history.epochs_done
    if history.best_epoch is None or es.improved(values[-1], values[history.best_epoch - 1]):
        history.best_epoch = epoch
        return {name: copy.deepcopy(m.state_dict()) for name, m in modules.items()}
    if epoch - history.best_epoch >= es.patience:
        history.stopped_early = True
        _load_best(modules, best_state)
    return best_state


def _load_best(modules, best_state) -> None:
    for name, m in modules.items():
        m.load_state_dict(best_state[name])


def _save(path, epoch, global_step, epochs, history, modules, optimizers, schedulers, config, best_state):
    atomic_save(
        {
            "format": FORMAT,
            "kind": "training",
            "config": dict(config or {}),
            "epoch": epoch,
            "epochs_planned": epochs,
            "step": global_step,
            "history": asdict(history),
            "models": _state_dicts(modules),
            "optimizers": _state_dicts(optimizers),
            "schedulers": _state_dicts(schedulers),
            "rng": rng_state(),
            "best_models": best_state,
        },
        path,
    )


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
