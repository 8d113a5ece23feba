"""Watching a GAN run: its losses and D's verdicts, fixed-input grids per epoch, an animation.

Infrastructure for notebooks 03, 05 and later GAN notebooks (the models, losses and the run
itself are written in notebook 03, ``course_utils.gan``). Images are in [0, 1], as every
public sampling function of the course returns them (``value_range=`` says otherwise).
"""

from __future__ import annotations

import torch

from .ranges import to_unit_range
from .training import History


def plot_training(history: History, smooth: int = 25, title: str | None = None) -> None:
    """Per-step losses and D's mean verdicts of a GAN run, in two panels, epochs marked.

    Args:
        history: a GAN run's history (``loss_D``, ``loss_G``, ``D_x``, ``D_G_z`` per step).
        smooth: running-mean window over steps.
        title: a title for the figure.
    """
    import matplotlib.pyplot as plt

    from .plotting import plot_curves

    steps = history.step
    missing = {"loss_D", "loss_G", "D_x", "D_G_z"} - set(steps)
    if missing:
        raise KeyError(f"not a GAN history: it has no {', '.join(sorted(missing))} per step "
                       f"(it has {', '.join(steps) or 'nothing'})")
    epochs = max(history.epochs_done, 1)
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8))
    plot_curves({"loss_D": steps["loss_D"], "loss_G": steps["loss_G"]}, xlabel="step", ylabel="loss (nats)",
                smooth=smooth, ax=axes[0], title=f"losses (running mean of {smooth} steps)")
    plot_curves({"D(x)": steps["D_x"], "D(G(z))": steps["D_G_z"]}, xlabel="step", ylabel="mean D output",
                smooth=smooth, ax=axes[1], title="D's verdicts")
    per_epoch = len(steps["D_x"]) / epochs
    for ax in axes:
        for e in range(1, epochs):
            ax.axvline(e * per_epoch, color="grey", lw=0.5, alpha=0.5)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    plt.show()


def progress_strip(grids: torch.Tensor, labels: torch.Tensor | None = None,
                   columns: int = 16) -> torch.Tensor:
    """One row per epoch of the fixed-input samples, as a batch for ``show_images(..., nrow=columns)``.

    Args:
        grids: ``[epochs, n, C, H, W]``, e.g. ``run.fixed_samples()``.
        labels: the label of each fixed input ``[n]`` (a conditional run's ``run.fixed_y``):
            then the strip shows the first input of each label, one column per label.
        columns: without labels, the first ``columns`` fixed inputs.

    Returns:
        ``[epochs * columns, C, H, W]`` (columns = number of labels with ``labels``): row ``e``
        of the grid is epoch ``e + 1``.
    """
    if grids.dim() != 5:
        raise ValueError(f"expected grids [epochs, n, C, H, W], got {tuple(grids.shape)}")
    if labels is not None:
        if labels.shape != grids.shape[1:2]:
            raise ValueError(f"need one label per fixed input ({grids.shape[1]}), got {tuple(labels.shape)}")
        idx = torch.stack([(labels == c).nonzero()[0, 0] for c in labels.unique()])
    else:
        idx = torch.arange(min(columns, grids.shape[1]))
    return grids[:, idx].flatten(0, 1)


def animate_grids(grids: torch.Tensor, nrow: int, value_range: tuple[float, float] = (0.0, 1.0),
                  interval_ms: int = 600, size: float = 3.6, title: str = "epoch"):
    """An animation (HTML for Jupyter) of grids ``[frames, n, C, H, W]``, one frame each.

    Frame ``i`` is titled ``f"{title} {i + 1}"``. Returns an ``IPython.display.HTML`` object;
    display it, or let it be a cell's result.
    """
    import matplotlib.pyplot as plt
    from IPython.display import HTML
    from matplotlib import animation
    from torchvision.utils import make_grid

    if grids.dim() != 5 or grids.shape[2] not in (1, 3):
        raise ValueError(f"expected grids [frames, n, 1 or 3, H, W], got {tuple(grids.shape)}")
    frames = [make_grid(to_unit_range(g.detach().cpu(), value_range), nrow=nrow, pad_value=1).permute(1, 2, 0)
              for g in grids]
    fig, ax = plt.subplots(figsize=(size, size * frames[0].shape[0] / frames[0].shape[1]))
    image = ax.imshow(frames[0].numpy(), vmin=0, vmax=1)
    ax.axis("off")

    def draw(i):
        image.set_data(frames[i].numpy())
        ax.set_title(f"{title} {i + 1}")
        return (image,)

    anim = animation.FuncAnimation(fig, draw, frames=len(frames), interval=interval_ms)
    html = HTML(anim.to_jshtml())
    plt.close(fig)
    return html
