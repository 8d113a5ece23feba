"""Pictures: image grids, training curves, confusion matrices.

Every function takes the pixel range of its images as an argument
(``value_range=(0, 1)`` or ``(-1, 1)``) instead of guessing it. The ``show_*``
and ``plot_*`` functions draw and show a figure and return nothing, so that a
notebook never displays the same figure twice; ``plt.gcf()`` right after the
call still gives the figure, e.g. to save it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.ticker import MaxNLocator

from .ranges import to_unit_range


def _to_unit(images: torch.Tensor, value_range: tuple[float, float]) -> torch.Tensor:
    return to_unit_range(images.detach().cpu(), value_range)


def _as_batch(images: torch.Tensor | Sequence[torch.Tensor]) -> list[torch.Tensor]:
    if isinstance(images, torch.Tensor):
        if images.dim() == 2:
            return [images.unsqueeze(0)]
        if images.dim() == 3:
            return [images]
        if images.dim() == 4:
            return list(images)
        raise ValueError(f"expected an image [C, H, W] or a batch [B, C, H, W], got {tuple(images.shape)}")
    return [im if im.dim() == 3 else im.unsqueeze(0) for im in images]


def show_images(
    images: torch.Tensor | Sequence[torch.Tensor],
    value_range: tuple[float, float] = (0.0, 1.0),
    nrow: int = 8,
    titles: Sequence[str] | None = None,
    title: str | None = None,
    scale: float = 1.0,
    padding: int = 2,
) -> None:
    """Show images as one grid (``torchvision.utils.make_grid``), or as titled panels.

    Args:
        images: a batch ``[B, C, H, W]`` (C = 1 or 3), one image ``[C, H, W]``,
            or a list of images of possibly different sizes.
        value_range: the pixel range of ``images``: ``(0, 1)`` or ``(-1, 1)``.
        nrow: images per row.
        titles: one title per image; the images are then drawn as separate panels.
        title: a title for the whole figure.
        scale: enlarge or shrink the figure.
        padding: pixels between grid cells.
    """
    from torchvision.utils import make_grid

    batch = [_to_unit(im, value_range) for im in _as_batch(images)]
    same_size = len({tuple(im.shape) for im in batch}) == 1
    if titles is None and same_size:
        grid = make_grid(torch.stack(batch), nrow=nrow, padding=padding, pad_value=1.0)
        h, w = grid.shape[1:]
        # about 60 pixels per inch, but at least 0.6 inch per image and at most 15 inches
        width = min(15.0, max(w / 60, 0.6 * min(nrow, len(batch)), 2.0))
        fig, ax = plt.subplots(figsize=(scale * width, scale * max(1.0, width * h / w)))
        ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
        ax.axis("off")
    else:
        if titles is not None and len(titles) != len(batch):
            raise ValueError(f"got {len(titles)} titles for {len(batch)} images")
        cols = min(nrow, len(batch))
        rows = math.ceil(len(batch) / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(scale * 2.6 * cols, scale * 2.6 * rows), squeeze=False)
        for i, ax in enumerate(axes.flat):
            ax.axis("off")
            if i < len(batch):
                im = batch[i]
                ax.imshow(im.permute(1, 2, 0).numpy() if im.shape[0] == 3 else im[0].numpy(),
                          cmap=None if im.shape[0] == 3 else "gray", vmin=0, vmax=1, interpolation="nearest")
                if titles is not None:
                    ax.set_title(titles[i], fontsize=10)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    plt.show()


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    xlabel: str = "epoch",
    ylabel: str = "",
    title: str | None = None,
    x: Sequence[float] | None = None,
    logy: bool = False,
    smooth: int = 1,
    ax: plt.Axes | None = None,
) -> None:
    """Plot named curves on one axes (loss or metric against epochs or steps).

    Args:
        curves: ``{"train": [...], "validation": [...]}``.
        x: shared x values (default 1, 2, ...).
        smooth: running-mean window, for noisy per-step curves.
        ax: draw into this axes of an existing figure (which the caller shows)
            instead of a new figure.
    """
    own_figure = ax is None
    if own_figure:
        _, ax = plt.subplots(figsize=(5.5, 3.5))
    for name, ys in curves.items():
        ys = np.asarray(ys, dtype=float)
        if smooth > 1 and len(ys) >= smooth:
            ys = np.convolve(ys, np.ones(smooth) / smooth, mode="valid")
        xs = np.asarray(x, dtype=float)[: len(ys)] if x is not None else np.arange(1, len(ys) + 1)
        ax.plot(xs, ys, label=name, marker="o" if len(ys) <= 30 else None, markersize=3)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if logy:
        ax.set_yscale("log")
    if title:
        ax.set_title(title)
    if len(curves) > 1:
        ax.legend()
    ax.grid(alpha=0.3)
    if own_figure:
        plt.show()


def plot_history(history, groups: Sequence[Sequence[str]] = (("loss", "val_loss"), ("acc", "val_acc")),
                 title: str | None = None) -> None:
    """Per-epoch curves of a :class:`~course_utils.training.History`, one panel per group of keys."""
    groups = [[k for k in g if k in history.epoch] for g in groups]
    groups = [g for g in groups if g]
    if not groups:
        raise ValueError(f"none of the keys are in the history; it has {', '.join(history.epoch)}")
    fig, axes = plt.subplots(1, len(groups), figsize=(5.5 * len(groups), 3.5), squeeze=False)
    for ax, keys in zip(axes.flat, groups, strict=True):
        plot_curves({k: history.epoch[k] for k in keys}, x=history.epoch["epoch"], ylabel=keys[0], ax=ax)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    plt.show()


def plot_confusion_matrix(cm: torch.Tensor, class_names: Sequence[str] | None = None,
                          title: str | None = None, normalize: bool = False,
                          xlabel: str = "predicted", ylabel: str = "actual") -> None:
    """Draw a confusion matrix with its counts (or row shares with ``normalize=True``) in the cells."""
    m = cm.double()
    if normalize:
        m = m / m.sum(dim=1, keepdim=True).clamp_min(1)
    n = m.shape[0]
    names = list(class_names) if class_names is not None else [str(i) for i in range(n)]
    fig, ax = plt.subplots(figsize=(0.55 * n + 2, 0.55 * n + 1.5))
    ax.imshow(m.numpy(), cmap="Blues")
    ax.set_xticks(range(n), names)
    ax.set_yticks(range(n), names)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    top = m.max().item()
    for i in range(n):
        for j in range(n):
            v = m[i, j].item()
            text = f"{v:.2f}" if normalize else f"{int(v)}"
            ax.text(j, i, text, ha="center", va="center", fontsize=8,
                    color="white" if v > 0.6 * top else "black")
    if title:
        ax.set_title(title)
    fig.tight_layout()
    plt.show()


def show_source(obj) -> None:
    """Show the source code of a hand-written ``course_utils`` function or class, highlighted in Jupyter.

    For infrastructure a learner may want to peek at (a checkpoint format, an image
    resizer). What a notebook teaches is written in that notebook's cells instead, so an
    object of a generated module (``make export``) is refused: read or edit its cell.
    """
    import inspect

    source_file = inspect.getsourcefile(inspect.unwrap(obj))
    first_line = ""
    if source_file:
        with open(source_file, encoding="utf-8") as f:
            first_line = f.readline()
    if first_line.startswith("# Generated by `make export` from "):
        notebook = first_line.removeprefix("# Generated by `make export` from ").split(":")[0]
        raise ValueError(f"{getattr(obj, '__qualname__', obj)} is taught in {notebook}: read (or edit) its "
                         "code cell there; show_source is for the package's hand-written infrastructure")
    code = inspect.getsource(obj)
    try:
        from IPython import get_ipython
        from IPython.display import Code, display

        if get_ipython() is not None:
            display(Code(code, language="python"))
            return
    except ImportError:
        pass
    print(code)
