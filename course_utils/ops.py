r"""Convolution and max pooling written by hand (introduced in notebook 01).

They implement the seed formulas literally, first with loops, then vectorised,
and are tested against ``F.conv2d`` and ``F.max_pool2d``. They live here, not in
the notebook, so that the unit tests can check them; the notebook shows their
source. For real work use ``torch.nn.functional``: these are for understanding.

Discrete 2-D convolution of a ``C``-channel image :math:`I` with one filter
:math:`W` (``C`` kernels of size ``k x k``) and bias :math:`b`:

.. math:: y(x, y) = \sum_c (W_c * I_c)(x, y) + b
          = \sum_c \sum_{i,j} W_c(i, j)\, I_c(x + i, y + j) + b

(deep-learning "convolution" is a cross-correlation: the kernel is not flipped).

Max pooling over the neighbourhood :math:`N(x, y)` of a window:

.. math:: P(x, y) = \max_{(i, j) \in N(x, y)} I(i, j)
"""

from __future__ import annotations

import torch


def conv2d_loops(image: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None) -> torch.Tensor:
    """Convolution by the formula, one output pixel at a time (stride 1, no padding).

    Args:
        image: ``[C, H, W]``.
        weight: ``[F, C, k, k]``: ``F`` filters.
        bias: ``[F]`` or None.

    Returns:
        ``[F, H - k + 1, W - k + 1]``.
    """
    C, H, W = image.shape
    F_, C2, k, k2 = weight.shape
    if C2 != C or k != k2:
        raise ValueError(f"weight {tuple(weight.shape)} does not fit an image with {C} channels")
    out = torch.zeros(F_, H - k + 1, W - k + 1, dtype=image.dtype)
    for f in range(F_):
        for x in range(H - k + 1):
            for y in range(W - k + 1):
                total = 0.0
                for c in range(C):
                    for i in range(k):
                        for j in range(k):
                            total += weight[f, c, i, j] * image[c, x + i, y + j]
                out[f, x, y] = total + (bias[f] if bias is not None else 0.0)
    return out


def conv2d_vectorized(
    images: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None = None
) -> torch.Tensor:
    """The same convolution for a batch, as one matrix product (the "im2col" trick).

    ``unfold`` cuts every ``k x k`` patch of every channel into a column; the
    sum over ``c, i, j`` in the formula is then a matrix product of the flattened
    filters with the columns.

    Args:
        images: ``[B, C, H, W]``.
        weight: ``[F, C, k, k]``.
        bias: ``[F]`` or None.

    Returns:
        ``[B, F, H - k + 1, W - k + 1]``.
    """
    B, C, H, W = images.shape
    F_, _, k, _ = weight.shape
    patches = torch.nn.functional.unfold(images, kernel_size=k)     # [B, C*k*k, L], L = output pixels
    out = weight.reshape(F_, C * k * k) @ patches                   # [B, F, L]
    if bias is not None:
        out = out + bias.view(1, F_, 1)
    return out.reshape(B, F_, H - k + 1, W - k + 1)


def max_pool2d_loops(image: torch.Tensor, k: int = 2) -> torch.Tensor:
    """Max pooling by the formula: the largest value in each ``k x k`` window, stride ``k``.

    Args:
        image: ``[C, H, W]``; a trailing row or column that does not fill a window is dropped.

    Returns:
        ``[C, H // k, W // k]``.
    """
    C, H, W = image.shape
    out = torch.empty(C, H // k, W // k, dtype=image.dtype)
    for c in range(C):
        for x in range(H // k):
            for y in range(W // k):
                out[c, x, y] = image[c, x * k:(x + 1) * k, y * k:(y + 1) * k].max()
    return out


def max_pool2d_vectorized(images: torch.Tensor, k: int = 2) -> torch.Tensor:
    """Max pooling for a batch ``[B, C, H, W]`` with a reshape: windows become two extra axes."""
    B, C, H, W = images.shape
    x = images[:, :, : H // k * k, : W // k * k]
    return x.reshape(B, C, H // k, k, W // k, k).amax(dim=(3, 5))
