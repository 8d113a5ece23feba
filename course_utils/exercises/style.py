"""Checkers for the exercises of notebook 02 (neural style transfer)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from .. import style as S
from .. import vgg_weights as V
from ._check import fail, passed


def _features(seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(2, 5, 6, 7, generator=gen).relu()  # [B, C, H, W], non-negative like ReLU output


def check_gram_matrix(gram_matrix: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """``gram_matrix(F)`` for ``F`` ``[B, C, H, W]``: ``[B, C, C]``, normalised by ``H * W``."""
    f = _features()
    b, c, h, w = f.shape
    expected = S.gram_matrix(f)
    got = gram_matrix(f.clone())
    if not isinstance(got, torch.Tensor):
        fail(f"gram_matrix returned a {type(got).__name__}, not a tensor.",
             "Return a torch tensor [B, C, C].")
    if got.shape == (b, h * w, h * w):
        fail(f"Your matrix is {h * w}x{h * w}: one row per position, not per channel.",
             "Reshape F to [B, C, H*W] and multiply F by its transpose, F @ F^T (not F^T @ F).")
    if got.shape == (c, c):
        fail("Your function returns one matrix for the whole batch.",
             "Keep the batch axis: reshape to [B, C, H*W] and use torch.bmm or the @ operator.")
    if got.shape != expected.shape:
        fail(f"The result should have shape {tuple(expected.shape)} for features {tuple(f.shape)}, "
             f"yours is {tuple(got.shape)}.", "One C x C matrix per image in the batch.")
    for factor, what in [(h * w, "you did not divide by the number of positions M = H * W"),
                         (1 / c, "you divided by C * H * W; the normalised Gram matrix divides by H * W")]:
        if torch.allclose(got, expected * factor, rtol=1e-4, atol=1e-5):
            fail(f"The values are off by a constant factor: {what}.",
                 "G_hat = F F^T / M, where M = H * W is the number of positions.")
    if not torch.allclose(got, expected, rtol=1e-4, atol=1e-5):
        fail("The shape is right but the values differ from the reference.",
             "Entry (i, j) is the mean over all positions of channel i times channel j.")
    passed("your Gram matrix equals course_utils.style.gram_matrix.")


def check_style_layer_loss(style_layer_loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """``style_layer_loss(G, A)``: Gatys et al.'s ``E_l`` for normalised Gram matrices ``[B, N, N]``."""
    g = S.gram_matrix(_features(1))
    a = S.gram_matrix(_features(2))
    expected = S.gram_loss(g, a)
    got = style_layer_loss(g.clone(), a.clone())
    got = torch.as_tensor(got, dtype=expected.dtype)
    if got.numel() != 1:
        fail(f"The loss should be one number, yours has shape {tuple(got.shape)}.",
             "Reduce with .mean() or .sum().")
    n = g.shape[-1]
    b = g.shape[0]
    for value, problem in [(4 * expected, "You forgot the factor 1/4."),
                           (expected * 4 * n * n * b, "You summed where the formula divides by 4 N^2."),
                           (expected * n * n * b, "You summed over the entries instead of averaging."),
                           (expected * 2, "Off by a factor of 2: check the square and the 1/4.")]:
        if torch.isclose(got, value, rtol=1e-4):
            fail(problem, "E_l = 1 / (4 N^2) * sum_ij (G_ij - A_ij)^2: a quarter of the mean squared "
                          "difference.")
    if not torch.isclose(got, expected, rtol=1e-4):
        fail(f"Your loss is {got.item():.6g}, the reference gives {expected.item():.6g}.",
             "E_l = 1 / (4 N^2) * sum_ij (G_ij - A_ij)^2 (averaged over the batch).")
    passed("your E_l equals Gatys et al.'s style term.")


def check_total_variation(tv_l1: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """``tv_l1(x)`` for ``x`` ``[B, C, H, W]``: the mean absolute difference between neighbours (power 1)."""
    gen = torch.Generator().manual_seed(3)
    x = torch.rand(2, 3, 5, 6, generator=gen)
    expected = S.total_variation(x, power=1.0)
    got = torch.as_tensor(tv_l1(x.clone()), dtype=x.dtype)
    if got.numel() != 1:
        fail(f"The result should be one number, yours has shape {tuple(got.shape)}.", "Sum the differences.")
    flat = tv_l1(torch.full((1, 3, 4, 4), 0.5))
    if abs(float(flat)) > 1e-6:
        fail("A flat image should have zero total variation.",
             "Use differences of neighbours, x[1:] - x[:-1].")
    if torch.isclose(got, expected * x[0].numel() * x.shape[0], rtol=1e-4):
        fail("You summed the differences but did not divide by the number of values B * C * H * W.",
             "Divide the sum by x.numel().")
    only_one = (x[:, :, 1:] - x[:, :, :-1]).abs().sum() / x.numel()
    if torch.isclose(got, only_one, rtol=1e-4) or torch.isclose(
            got, (x[..., 1:] - x[..., :-1]).abs().sum() / x.numel(), rtol=1e-4):
        fail("You only counted differences in one direction.",
             "Add the vertical and the horizontal differences.")
    if not torch.isclose(got, expected, rtol=1e-4):
        fail(f"Your value is {got.item():.6g}, the reference gives {expected.item():.6g}.",
             "TV = (sum |x[i+1, j] - x[i, j]| + sum |x[i, j+1] - x[i, j]|) / x.numel().")
    passed("your total variation equals course_utils.style.total_variation(x, power=1).")


def check_sizes_at_relu3_1(feature_values: int, gram_values: int) -> None:
    """For a 512 x 512 image: how many numbers are in ``relu3_1``'s feature maps, and in their Gram matrix?"""
    channels = V.CONVS["conv3_1"][1]
    side = 512 // 2 ** V.pools_before("relu3_1")
    if feature_values != channels * side * side:
        fail(f"{feature_values!r} is not the number of values in relu3_1's feature maps.",
             f"relu3_1 comes after {V.pools_before('relu3_1')} 2x2 poolings and has {channels} channels.")
    if gram_values != channels * channels:
        fail(f"{gram_values!r} is not the number of entries of relu3_1's Gram matrix.",
             "The Gram matrix has one row and one column per channel, whatever the image size.")
    passed(f"{feature_values:,} feature values ({channels} x {side} x {side}) but only {gram_values:,} "
           f"Gram entries ({channels} x {channels}), the same for any image size.")
