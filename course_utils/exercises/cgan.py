"""Checkers for the exercises of notebook 05 (conditional GANs)."""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ._check import fail, passed


def check_condition_latent(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """``fn(z, y)``: the conditional generator's input, ``z`` ``[B, 64]`` then one-hot ``y`` ``[B, 10]``."""
    gen = torch.Generator().manual_seed(6)
    z = torch.randn(5, 64, generator=gen)
    y = torch.tensor([3, 0, 9, 3, 7])
    expected = torch.cat([z, F.one_hot(y, 10).float()], dim=1)
    got = fn(z, y)
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        fail(f"The result should have shape {tuple(expected.shape)} (64 + 10 numbers per sample), "
             f"yours is {shape}.",
             "One-hot encode y into 10 numbers with F.one_hot(y, 10), then torch.cat along dim=1.")
    if torch.allclose(got.float(), torch.cat([F.one_hot(y, 10).float(), z], dim=1)):
        fail("The one-hot label comes first.",
             "Put z first and the label after it: torch.cat([z, onehot], dim=1).")
    if not torch.allclose(got.float(), expected):
        fail("The shape is right but the values are not z followed by the one-hot label.",
             "F.one_hot returns integers; convert it with .float() and do not change z.")
    passed("z followed by the one-hot label: the first layer's weights for those 10 inputs are a "
           "label embedding.")


def check_per_digit_accuracy(fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """``fn(cm)``: per-class accuracy from a confusion matrix with rows = asked for, columns = read."""
    cm = torch.tensor([[90, 10, 0], [5, 80, 35], [0, 0, 50]])
    expected = torch.tensor([0.9, 80 / 120, 1.0], dtype=torch.float64)
    got = fn(cm)
    if not isinstance(got, torch.Tensor) or got.shape != (3,):
        fail("Return one share per class (a tensor of length C).", "Use the diagonal of cm, cm.diag().")
    got = got.double()
    if torch.allclose(got, cm.diag().double() / cm.sum(dim=0).double()):
        fail("You divided by the column sums (what was read).",
             "Rows are the digits asked for: divide the diagonal by the row sums, cm.sum(dim=1).")
    if not torch.allclose(got, expected):
        fail(f"For this matrix the answer is {expected.tolist()}, yours is {got.tolist()}.",
             "The share of row d that is on the diagonal: cm[d, d] / cm[d].sum(). Use floating point.")
    passed("per-digit label accuracy = diagonal / row sums.")


def check_projection_logits(fn: Callable[..., torch.Tensor]) -> None:
    """``fn(phi, w, b, E, y)``: logits ``phi @ w + b + sum(E[y] * phi)`` of a projection discriminator."""
    gen = torch.Generator().manual_seed(7)
    phi = torch.randn(6, 12, generator=gen)
    w, b, E = torch.randn(12, generator=gen), 0.3, torch.randn(10, 12, generator=gen)
    y = torch.tensor([0, 4, 4, 9, 1, 2])
    expected = phi @ w + b + (E[y] * phi).sum(dim=1)
    got = fn(phi, w, b, E, y)
    if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        fail(f"Return one logit per sample, shape {tuple(expected.shape)}; yours is {shape}.",
             "Each term is a dot product over the feature axis.")
    if torch.allclose(got, phi @ w + b):
        fail("The label is ignored.",
             "Add the inner product of each sample's class vector E[y] with its features.")
    if torch.allclose(got, phi @ w + b + phi @ E[y].sum(0)) or not torch.allclose(got, expected, atol=1e-5):
        fail("The projection term is not right.",
             "E[y] has one row per sample; multiply it elementwise with phi and sum over the features.")
    passed("the projection discriminator's logit, w.phi + b + e_y.phi.")
