"""Pixel ranges, named and converted in one place.

The course uses two ranges and says in every name which one a tensor is in:

* ``x01``: pixels in [0, 1]. What ``load_image`` returns, what the classifier, the VAEs
  and the metrics take, and what every public sampling function returns.
* ``x11``: pixels in [-1, 1]. What a GAN generator ending in ``tanh`` produces and what
  its discriminator sees.

Convert with the named pair :func:`normalize_to_neg_one_to_one` and
:func:`unnormalize_to_zero_to_one` (the names of lucidrains' diffusion code), never with an
inline ``(x + 1) / 2``. :func:`to_unit_range` maps any declared range to [0, 1] and refuses
images that are not in it, so that a wrong range gives an error instead of a silently
wrong picture or score.
"""

from __future__ import annotations

import torch


def normalize_to_neg_one_to_one(x01: torch.Tensor) -> torch.Tensor:
    """[0, 1] -> [-1, 1]: ``2 x - 1``."""
    return x01 * 2 - 1


def unnormalize_to_zero_to_one(x11: torch.Tensor) -> torch.Tensor:
    """[-1, 1] -> [0, 1]: ``(x + 1) / 2``."""
    return (x11 + 1) * 0.5


def to_unit_range(
    images: torch.Tensor, value_range: tuple[float, float], tolerance: float = 0.01
) -> torch.Tensor:
    """Map ``images`` from ``value_range`` to [0, 1], refusing images that are not in that range.

    Overshoots of up to ``tolerance`` times the width of the range (from resizing, or the
    last optimisation step) are clipped; anything further out raises ``ValueError``,
    because it almost always means a wrong ``value_range`` (``[-1, 1]`` GAN samples
    declared as ``(0, 1)``, or 0..255 bytes), which would otherwise give a silently wrong
    picture or score. Returns float32 (float64 stays float64), same shape, same device.

    Args:
        images: any shape.
        value_range: ``(low, high)``: the range the pixels are in.
        tolerance: accepted overshoot, as a fraction of ``high - low``.
    """
    lo, hi = (float(v) for v in value_range)
    if not hi > lo:
        raise ValueError(f"value_range must be (low, high) with low < high, got {value_range}")
    x = images if images.dtype == torch.float64 else images.float()
    if x.numel() == 0:
        return x
    if x.isnan().any():
        raise ValueError("images contain NaN values")
    xmin, xmax = x.min().item(), x.max().item()
    slack = tolerance * (hi - lo)
    if xmin < lo - slack or xmax > hi + slack:
        raise ValueError(
            f"images have pixel values in [{xmin:.3g}, {xmax:.3g}], outside value_range=({lo:g}, {hi:g}). "
            "Pass the range your images are in (value_range=(-1, 1) for tanh GAN samples, "
            "(0, 255) for bytes), or clamp them first if small overshoots are expected."
        )
    return ((x - lo) / (hi - lo)).clamp(0.0, 1.0)
