"""Checkers for the exercises of notebook 08 (pix2pix and CycleGAN: least squares, cycle consistency,
a PatchGAN's receptive field and its number of patches).

The references are written here independently of the notebook's code, so that a checker never
compares an answer with itself: the least-squares loss through ``F.mse_loss``, the cycle loss through
``F.l1_loss`` on small known maps, and the receptive field by back-propagating through real
convolutions.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ._check import fail, passed


def _maps(seed: int, shape=(2, 1, 5, 5)) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def check_lsgan_discriminator_loss(loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """``loss_fn(real_out, fake_out)``: 1/2 mean (D(y) - 1)^2 + 1/2 mean D(G(x))^2 (Mao et al. 2017)."""
    real, fake = _maps(0) + 0.5, _maps(1, (2, 1, 4, 6)) - 0.3      # shapes may differ (other image sizes)
    expected = 0.5 * F.mse_loss(real, torch.ones_like(real)) + 0.5 * F.mse_loss(fake, torch.zeros_like(fake))
    got = loss_fn(real.clone(), fake.clone())
    if not isinstance(got, torch.Tensor) or got.dim() != 0:
        fail(f"The loss should be one number (a 0-dimensional tensor), got "
             f"{getattr(got, 'shape', type(got).__name__)}.", "Average over all outputs with .mean().")
    swapped = 0.5 * F.mse_loss(fake, torch.ones_like(fake)) + 0.5 * F.mse_loss(real, torch.zeros_like(real))
    if torch.allclose(got, swapped, atol=1e-5):
        fail("You swapped the targets: real outputs should go to 1 and fake ones to 0.",
             "D(y) is the output on real paintings: (D(y) - 1)^2; D(G(x)) on fakes: D(G(x))^2.")
    if torch.allclose(got, 2 * expected, atol=1e-5):
        fail("Your loss is twice the expected value.",
             "Each of the two terms is halved (the 1/2 of Mao et al.).")
    bce = (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
           + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    if torch.allclose(got, bce, atol=1e-5):
        fail("That is notebook 03's cross-entropy loss, not the least-squares one.",
             "Square the differences to the targets instead of taking log-sigmoids.")
    if not torch.allclose(got, expected, atol=1e-5):
        fail(f"Your loss is {float(got):.5f}, expected {float(expected):.5f}.",
             "0.5 * ((real_out - 1) ** 2).mean() + 0.5 * (fake_out ** 2).mean().")
    passed("your least-squares discriminator loss matches Mao et al.'s.")


def check_cycle_consistency_loss(loss_fn: Callable) -> None:
    """``loss_fn(G, F, x, y) -> (L_cyc, G(x), F(y))`` with L_cyc = mean |F(G(x)) - x| + mean |G(F(y)) - y|."""
    calls = {"G": 0, "F": 0}

    def G(t):  # a known "photo -> painting" map and an imperfect inverse, so that both terms are non-zero
        calls["G"] += 1
        return torch.tanh(1.5 * t + 0.2)

    def F_(t):
        calls["F"] += 1
        return 0.6 * t - 0.1

    x, y = _maps(2, (2, 3, 4, 4)).clamp(-1, 1), _maps(3, (2, 3, 4, 4)).clamp(-1, 1)
    forward, backward = F.l1_loss(F_(G(x)), x), F.l1_loss(G(F_(y)), y)
    calls.update(G=0, F=0)
    out = loss_fn(G, F_, x.clone(), y.clone())
    n_calls = dict(calls)
    if not isinstance(out, tuple) or len(out) != 3:
        fail("cycle_consistency_loss should return three things: (loss, G(x), F(y)).",
             "The step reuses G(x) and F(y) for the adversarial terms: return loss, fake_y, fake_x.")
    loss, fake_y, fake_x = out
    if not (isinstance(fake_y, torch.Tensor) and torch.allclose(fake_y, G(x))):
        fail("The second value should be G(x), the photos translated to paintings.", "fake_y = G(x11).")
    if not (isinstance(fake_x, torch.Tensor) and torch.allclose(fake_x, F_(y))):
        fail("The third value should be F(y), the paintings translated to photos.", "fake_x = F(y11).")
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        fail("The loss should be one number (a 0-dimensional tensor).",
             "Take .mean() of each absolute error.")
    if torch.allclose(loss, forward, atol=1e-6) or torch.allclose(loss, backward, atol=1e-6):
        fail("Your loss has only one of the two cycles.",
             "Add both: x -> G -> F back to x, and y -> F -> G back to y.")
    squared = F.mse_loss(F_(G(x)), x) + F.mse_loss(G(F_(y)), y)
    if torch.allclose(loss, squared, atol=1e-6):
        fail("You used squared errors; the cycle loss is an L1 loss.", "Use .abs().mean(), not squares.")
    wrong_order = F.l1_loss(G(F_(x)), x) + F.l1_loss(F_(G(y)), y)
    if torch.allclose(loss, wrong_order, atol=1e-6):
        fail("The round trips go the wrong way: a photo x goes through G first, a painting y through F "
             "first.",
             "F(G(x)) for the photos and G(F(y)) for the paintings.")
    if not torch.allclose(loss, forward + backward, atol=1e-6):
        fail(f"Your loss is {float(loss):.5f}, expected {float(forward + backward):.5f}.",
             "mean |F(G(x)) - x| + mean |G(F(y)) - y|.")
    if n_calls["G"] > 2 or n_calls["F"] > 2:
        fail(f"The answer is right but G ran {n_calls['G']} times and F {n_calls['F']} times; each should "
             "run twice (there, and back for the other domain).",
             "Translate once, keep G(x) and F(y), and reuse them.")
    passed("your cycle-consistency loss takes both round trips, with L1 errors.")


def _reference_receptive_field(layers: list[tuple[int, int]], size: int = 200) -> int:
    """Measured: back-propagate from the central output of real convolutions (no padding)."""
    convs = nn.Sequential(*[nn.Conv2d(1, 1, k, stride=s, bias=False) for k, s in layers])
    for conv in convs:
        nn.init.constant_(conv.weight, 1.0)
    x = torch.zeros(1, 1, size, size, requires_grad=True)
    out = convs(x)
    out[0, 0, out.shape[2] // 2, out.shape[3] // 2].backward()
    rows = (x.grad[0, 0].abs().sum(1) > 0).nonzero()
    return int(rows.max() - rows.min() + 1)


def check_receptive_field(receptive_field: Callable[[list[tuple[int, int]]], int]) -> None:
    """``receptive_field(layers)`` for ``layers`` = [(kernel_size, stride), ...], first layer first."""
    cases = [[(3, 1)], [(3, 1), (3, 1)], [(4, 2), (4, 2), (4, 1), (4, 1)],
             [(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)], [(7, 1), (3, 2), (3, 2), (3, 1)]]
    for layers in cases:
        expected = _reference_receptive_field(layers)
        got = receptive_field(list(layers))
        if got == expected:
            continue
        without_strides = 1 + sum((k - 1) for k, _ in layers)
        if got == without_strides and got != expected:
            fail(f"For {layers} you gave {got}, expected {expected}: you added the kernels' reach without "
                 "the strides.", "A layer after a stride-2 layer moves 2 input pixels per step: multiply "
                 "(k - 1) by the product of the earlier strides.")
        fail(f"For {layers} you gave {got}, expected {expected}.",
             "r = 1 + sum_i (k_i - 1) * (product of the strides of the layers before i).")
    passed("your receptive fields match the measured ones (pix2pix's PatchGAN: 70 x 70).")


def check_patch_count(count: int) -> None:
    """The number of logits of PatchDiscriminator(3, (32, 64, 128)) on a 256 x 256 image: 62 x 62."""
    expected = 62 * 62
    if count == expected:
        passed("256 -> 128 -> 64 -> 63 -> 62: 62 x 62 = 3,844 patches, each 34 x 34 pixels, overlapping.")
        return
    if count in (64 * 64, 63 * 63):
        fail(f"{count} is close: count every layer.",
             "Both stride-1 layers with kernel 4 and padding 1 lose a pixel: 64 -> 63 -> 62.")
    if count in (62, 64, 63):
        fail(f"{count} is the side of the map; the question asks for the number of logits.", "Square it.")
    fail(f"{count} is not it.", "Use floor((n + 2p - k) / s) + 1 for each of the four convolutions (k = 4, "
         "p = 1, strides 2, 2, 1, 1), starting from n = 256, and square the result.")
