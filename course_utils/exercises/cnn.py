"""Checkers for the exercises of notebook 01 (CNN basics)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ._check import fail, passed


def check_conv2d(conv2d: Callable[..., torch.Tensor]) -> None:
    """``conv2d(image [C, H, W], weight [F, C, k, k], bias [F] or None)``: convolution by the formula.

    The reference is ``F.conv2d`` (stride 1, no padding) on several shapes, with and without bias.
    """
    gen = torch.Generator().manual_seed(0)
    cases = [(3, 6, 5, 4, 3, True), (1, 5, 5, 2, 3, False), (2, 4, 6, 3, 1, True), (1, 4, 4, 1, 4, True)]
    for c, h, w, f, k, with_bias in cases:
        image, weight = torch.randn(c, h, w, generator=gen), torch.randn(f, c, k, k, generator=gen)
        bias = torch.randn(f, generator=gen) if with_bias else None
        expected = F.conv2d(image[None], weight, bias)[0]
        got = conv2d(image, weight, bias)
        if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
            fail(f"For a {c}x{h}x{w} image and {f} filters of {k}x{k} the output should have shape "
                 f"{tuple(expected.shape)}; yours is "
                 f"{tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__}.",
                 "There are H - k + 1 positions down and W - k + 1 across for each filter.")
        if not torch.allclose(got, expected, atol=1e-4, rtol=1e-4):
            fail(f"For a {c}x{h}x{w} image, {f} filters of {k}x{k}{' and a bias' if with_bias else ''}, "
                 "the values differ from F.conv2d.",
                 "Sum weight[f, c, i, j] * image[c, x + i, y + j] over the channels c and the kernel "
                 "positions i, j (no flip), then add bias[f] if there is one.")
    passed(f"your convolution matches F.conv2d on all {len(cases)} cases.")


def check_output_size(conv_output_size: Callable[..., int]) -> None:
    """``conv_output_size(n, k, padding, stride)``: the output side of a convolution.

    The reference is the shape PyTorch's own ``F.conv2d`` produces.
    """
    cases = [(28, 3, 0, 1), (28, 3, 1, 1), (28, 5, 2, 1), (28, 4, 1, 2), (28, 3, 0, 2), (11, 3, 1, 3),
             (7, 3, 0, 2), (32, 5, 0, 3), (5, 5, 0, 1)]
    for n, k, p, s in cases:
        expected = F.conv2d(torch.zeros(1, 1, n, n), torch.zeros(1, 1, k, k), padding=p, stride=s).shape[-1]
        got = conv_output_size(n, k, padding=p, stride=s)
        if got != expected:
            fail(f"For n={n}, k={k}, padding={p}, stride={s} you return {got!r}; F.conv2d gives {expected}.",
                 "Padding adds p pixels on both sides; the kernel then fits (n + 2p - k) // s + 1 times, "
                 "counting the first position. Use integer division.")
    passed(f"your formula matches F.conv2d on all {len(cases)} cases.")


def check_avg_pool(avg_pool_2x2: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """``avg_pool_2x2(x)`` for ``x`` ``[B, C, H, W]`` with even H, W, without loops."""
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 8, 6, generator=gen)
    expected = F.avg_pool2d(x, 2)
    got = avg_pool_2x2(x)
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        fail(f"The output should have shape {tuple(expected.shape)}, yours is "
             f"{tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__}.",
             "Each 2x2 window becomes one number, so H and W are halved.")
    if not torch.allclose(got, expected, atol=1e-6):
        fail("The shape is right but the values differ from F.avg_pool2d.",
             "Reshape to [B, C, H/2, 2, W/2, 2] and take the mean over the two axes of size 2.")
    passed("your pooling equals F.avg_pool2d.")


def check_conv_parameters(answer: int) -> None:
    """How many trainable parameters does ``nn.Conv2d(3, 16, kernel_size=5)`` have?"""
    expected = sum(p.numel() for p in nn.Conv2d(3, 16, kernel_size=5).parameters())
    if answer != expected:
        fail(f"{answer!r} is not the number of parameters of nn.Conv2d(3, 16, kernel_size=5).",
             "Each of the 16 filters has one 5x5 kernel per input channel, plus one bias.")
    passed(f"{expected} parameters = 16 filters x (3 x 5 x 5 weights + 1 bias).")


def check_horizontal_edge_kernel(kernel: torch.Tensor) -> None:
    """A 3x3 kernel that responds to horizontal edges and not to vertical ones or flat areas."""
    k = torch.as_tensor(kernel, dtype=torch.float32)
    if k.shape != (3, 3):
        fail(f"The kernel should be 3x3, yours has shape {tuple(k.shape)}.", "Write it as a 3x3 tensor.")
    flat = torch.full((1, 1, 9, 9), 0.5)
    horizontal = torch.zeros(1, 1, 9, 9)
    horizontal[..., 5:, :] = 1.0  # dark above, bright below: a horizontal edge
    vertical = horizontal.transpose(-1, -2)
    def response(img):
        return F.conv2d(img, k.view(1, 1, 3, 3)).abs().max().item()
    if response(flat) > 1e-6:
        fail("Your kernel responds to a flat grey image.", "Make its weights sum to zero.")
    if response(horizontal) < 0.5:
        fail("Your kernel hardly responds to a horizontal edge.",
             "Weight the row above the centre against the row below it, e.g. -1 above and +1 below.")
    if response(vertical) > 1e-6:
        fail("Your kernel also responds to vertical edges.",
             "Give every column the same pattern, so that a left-right change cancels out.")
    passed("your kernel finds horizontal edges and ignores vertical ones.")
