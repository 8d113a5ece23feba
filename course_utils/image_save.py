"""Saving an image tensor safely: the right range, or a clear refusal, and never half a file.

:func:`save_image` checks the tensor (shape, finite values, values inside the declared
``value_range``, integer tensors declared as bytes) before converting it, and writes the
file atomically through :mod:`course_utils.safe_io`: a save that is interrupted leaves
the previous file intact. Its counterpart for reading is :func:`course_utils.images.load_image`.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
from PIL import Image

from .ranges import to_unit_range
from .safe_io import atomic_write, refuse_folder


class ImageSaveError(OSError):
    """An image could not be written (a folder, no permission, disk full, ...); the message says why."""


def save_image(
    image: torch.Tensor,
    path: str | os.PathLike,
    value_range: tuple[float, float] = (0.0, 1.0),
) -> Path:
    """Save an image tensor atomically (a half-written file never replaces a good one).

    Args:
        image: ``[3, H, W]``, ``[1, 3, H, W]``, ``[1, H, W]`` or ``[H, W]``, values
            in ``value_range`` (overshoots of up to 1 % of the range are clipped;
            anything further out is refused, as a wrong ``value_range`` would
            otherwise save a silently wrong picture).
        path: destination; the format follows the suffix (``.png``, ``.jpg``, ...).
        value_range: the pixel range of ``image``: ``(0, 1)``, ``(-1, 1)`` for tanh
            outputs, ``(0, 255)`` for bytes (a ``uint8`` tensor needs it).

    Raises:
        ValueError: if the tensor has the wrong shape, no pixels, NaN or inf, values
            outside ``value_range``, or is a ``uint8`` tensor declared as (0, 1).
        ImageSaveError: if ``path`` is a folder or cannot be written.
    """
    if not isinstance(image, torch.Tensor):
        raise TypeError(f"save_image expects a torch.Tensor, got {type(image).__name__}")
    t = image.detach().to("cpu")
    if t.dim() == 4 and t.shape[0] == 1:
        t = t[0]
    if t.dim() == 2:
        t = t.unsqueeze(0)
    if t.dim() != 3 or t.shape[0] not in (1, 3):
        raise ValueError(f"save_image expects [3, H, W] or [1, H, W], got shape {tuple(image.shape)}")
    if t.shape[1] == 0 or t.shape[2] == 0:
        raise ValueError(f"the image has no pixels (shape {tuple(image.shape)}); nothing to save")
    if t.is_complex():
        raise ValueError("the image is a complex tensor; save its real part or its magnitude (.abs())")
    if not (t.dtype.is_floating_point or t.dtype == torch.bool) and tuple(value_range) == (0.0, 1.0):
        raise ValueError(
            f"the image is a {t.dtype} tensor, whose pixels are usually 0..255, but value_range=(0, 1). "
            "Pass value_range=(0, 255), or convert it with image.float() / 255."
        )
    if t.dtype.is_floating_point and not torch.isfinite(t).all():
        raise ValueError("the image contains NaN or infinite values; refusing to save a broken picture")
    t = to_unit_range(t.double(), value_range)
    arr = t.mul(255).round().byte().permute(1, 2, 0).numpy()
    pil = Image.fromarray(arr[..., 0] if arr.shape[2] == 1 else arr)
    path = Path(path).expanduser()
    refuse_folder(path, error=ImageSaveError, what="image")
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot tell the image format from the suffix of {path}; use .png or .jpg")
    return atomic_write(path, lambda f: pil.save(f, format=fmt), error=ImageSaveError, what="image")
