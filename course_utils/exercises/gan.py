"""Checkers for the exercises of notebook 03 (GANs).

Each checker compares the learner's answer with a reference written here from the formula
(not with ``course_utils.gan``, which is generated from the notebook's own cells and so
would check the learner's code against itself).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from ._check import fail, passed


def _slerp_reference(z0: torch.Tensor, z1: torch.Tensor, t: float) -> torch.Tensor:
    """Shoemake's formula, in float64, for vectors that are not (anti)parallel."""
    z0, z1 = z0.double(), z1.double()
    omega = torch.arccos((torch.dot(z0, z1) / (z0.norm() * z1.norm())).clamp(-1, 1))
    return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)


def _bce(logits: torch.Tensor, target: float) -> torch.Tensor:
    """Mean binary cross-entropy -[t log s(a) + (1 - t) log(1 - s(a))], written with logsigmoid."""
    return -(target * F.logsigmoid(logits) + (1 - target) * F.logsigmoid(-logits)).mean()


def _tensor_or_fail(got, expected: torch.Tensor, what: str) -> torch.Tensor:
    if not isinstance(got, torch.Tensor):
        fail(f"{what} should return a tensor, yours returned {type(got).__name__}.",
             "Build the result from torch operations on the input tensors.")
    if got.shape != expected.shape:
        fail(f"{what} should return shape {tuple(expected.shape)}, yours has {tuple(got.shape)}.",
             "A loss averaged over the batch is a single number: a tensor of shape ().")
    return got


def check_non_saturating_loss(loss_fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """``loss_fn(fake_logits)``: the non-saturating generator loss -mean(log D(G(z))) from D's logits."""
    gen = torch.Generator().manual_seed(3)
    logits = torch.randn(64, generator=gen) * 3
    expected = -F.logsigmoid(logits).mean()
    got = _tensor_or_fail(loss_fn(logits), expected, "Your loss")
    if torch.allclose(got, F.logsigmoid(-logits).mean(), atol=1e-5) or torch.allclose(
            got, torch.log1p(-torch.sigmoid(logits)).mean(), atol=1e-5):
        fail("That is the saturating loss log(1 - D(G(z))).",
             "The non-saturating loss is -log D(G(z)): G wants D to say 'real', so maximise log D(G(z)).")
    if not torch.allclose(got, expected, atol=1e-5):
        fail(f"For these logits the loss should be {expected.item():.4f}, yours is {got.item():.4f}.",
             "D(G(z)) = sigmoid(logit); take the mean of -log of it over the batch.")
    extreme = torch.tensor([-200.0, 0.0, 200.0])
    value = loss_fn(extreme)
    if not torch.isfinite(value).all():
        fail("For a logit of -200 (D is sure the fake is fake) your loss is not finite.",
             "sigmoid(-200) rounds to 0 and log(0) = -inf. Use F.logsigmoid, or "
             "F.binary_cross_entropy_with_logits with target 1, which never takes log(0).")
    passed("your non-saturating loss matches -mean(log D(G(z))) and stays finite for extreme logits.")


def check_slerp(slerp_fn: Callable[[torch.Tensor, torch.Tensor, float], torch.Tensor]) -> None:
    """``slerp_fn(z0, z1, t)`` for vectors ``z0``, ``z1`` ``[D]`` and a number ``t`` in [0, 1]."""
    gen = torch.Generator().manual_seed(4)
    for _ in range(3):
        z0, z1 = torch.randn(2, 16, generator=gen, dtype=torch.float64)
        for t in (0.0, 0.25, 0.5, 0.9, 1.0):
            expected = _slerp_reference(z0, z1, t)
            got = slerp_fn(z0, z1, t)
            if not isinstance(got, torch.Tensor) or got.shape != expected.shape:
                fail(f"slerp of two vectors of length 16 should be a vector of length 16, yours is "
                     f"{tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__}.",
                     "Combine z0 and z1 with two scalar weights.")
            if torch.allclose(got.double(), (1 - t) * z0 + t * z1, atol=1e-4) and 0 < t < 1:
                fail("That is linear interpolation.",
                     "Weight z0 by sin((1 - t) * omega) / sin(omega) and z1 by sin(t * omega) / sin(omega), "
                     "with cos(omega) = z0 . z1 / (|z0| |z1|).")
            if not torch.allclose(got.double(), expected, atol=1e-4):
                fail(f"At t = {t} your result differs from spherical interpolation.",
                     "omega is the angle between the *directions* of z0 and z1: normalise before the dot "
                     "product, and clamp the cosine to [-1, 1] before arccos.")
    passed("your slerp matches the reference at every t tried.")


def check_conv_transpose_size(size_fn: Callable[..., int]) -> None:
    """``size_fn(n, k, stride, padding)``: output side of ``nn.ConvTranspose2d`` on an ``n x n`` input."""
    cases = [(1, 7, 1, 0), (7, 4, 2, 1), (14, 4, 2, 1), (4, 3, 2, 1), (5, 5, 1, 2), (3, 4, 3, 0),
             (8, 2, 2, 0)]
    for n, k, s, p in cases:
        expected = nn.ConvTranspose2d(1, 1, k, s, p)(torch.zeros(1, 1, n, n)).shape[-1]
        got = size_fn(n, k, stride=s, padding=p)
        if got != expected:
            fail(f"For n={n}, k={k}, stride={s}, padding={p} you return {got!r}; "
                 f"nn.ConvTranspose2d gives {expected}.",
                 "A transposed convolution undoes the size change of a convolution: the n inputs are "
                 "spread s pixels apart, (n - 1) * s + 1, the kernel adds k - 1, and padding removes 2p.")
    passed(f"your formula matches nn.ConvTranspose2d on all {len(cases)} cases, e.g. 7 -> 14 -> 28.")


def check_equilibrium(d_star: float, loss_D_star: float, loss_G_star: float) -> None:
    """D's output and both losses (in nats) when G has learned the data distribution exactly."""
    if not math.isclose(d_star, 0.5, abs_tol=1e-3):
        fail(f"D*(x) = {d_star} is not right.",
             "D*(x) = p_data(x) / (p_data(x) + p_g(x)). What is it when p_g = p_data?")
    if not math.isclose(loss_D_star, 2 * math.log(2), abs_tol=1e-3):
        fail(f"L_D = {loss_D_star} is not right for D = 1/2 everywhere.",
             "L_D = -log D(x) - log(1 - D(G(z))), with natural logarithms.")
    if not math.isclose(loss_G_star, math.log(2), abs_tol=1e-3):
        fail(f"L_G = {loss_G_star} is not right for D = 1/2 everywhere.",
             "The non-saturating generator loss is -log D(G(z)).")
    passed("at the equilibrium D(x) = 1/2, L_D = 2 ln 2 = 1.386 nats and L_G = ln 2 = 0.693 nats. "
           "Compare them with the curves of section 3.")


def check_discriminator_loss(
        loss_fn: Callable[..., torch.Tensor]) -> None:
    """``loss_fn(real_logits, fake_logits, real_target=1.0)``: D's loss, two binary cross-entropies.

    Checks the plain loss (real target 1), one-sided label smoothing (real target 0.9 or 0.8,
    fake target 0), and finiteness for extreme logits.
    """
    gen = torch.Generator().manual_seed(5)
    real, fake = torch.randn(2, 32, generator=gen) * 2
    expected = _bce(real, 1.0) + _bce(fake, 0.0)
    got = _tensor_or_fail(loss_fn(real, fake), expected, "Your loss")
    if torch.allclose(got, _bce(real, 0.0) + _bce(fake, 1.0), atol=1e-5):
        fail("The targets are swapped: that is the loss of a D that calls the real images fake.",
             "Real images get target real_target (1), fakes get target 0.")
    if torch.allclose(got, -expected, atol=1e-5):
        fail("The sign is wrong: that is V(D, G), which D maximises.",
             "D minimises L_D = -V: the sum of the two binary cross-entropies.")
    if not torch.allclose(got, expected, atol=1e-5):
        fail(f"For these logits the loss should be {expected.item():.4f}, yours is {got.item():.4f}.",
             "Add the binary cross-entropy of the real logits against targets 1 and of the fake logits "
             "against targets 0 (F.binary_cross_entropy_with_logits), each averaged over the batch.")
    for t in (0.9, 0.8):
        expected = _bce(real, t) + _bce(fake, 0.0)
        got = _tensor_or_fail(loss_fn(real, fake, real_target=t), expected, "Your loss")
        if torch.allclose(got, _bce(real, t) + _bce(fake, 1 - t), atol=1e-5):
            fail("You smoothed the fake targets too (two-sided smoothing).",
                 "Only the real targets become real_target; fakes keep target 0. Smoothing the fake "
                 "targets rewards D for letting some fakes through and reinforces G's current mistakes "
                 "(Salimans et al., 2016).")
        if not torch.allclose(got, expected, atol=1e-5):
            fail(f"With real_target={t} the loss should be {expected.item():.4f}, yours is {got.item():.4f}.",
                 "Use real_target as the real logits' target: torch.full_like(real_logits, real_target).")
    extreme = torch.tensor([-200.0, 200.0])
    if not torch.isfinite(loss_fn(extreme, extreme)):
        fail("For logits of -200 and 200 your loss is not finite.",
             "sigmoid(-200) rounds to 0 and log(0) = -inf. Compute the cross-entropies from the logits "
             "with F.binary_cross_entropy_with_logits (or F.logsigmoid), which never take log(0).")
    passed("your discriminator loss matches -V(D, G) on the batch, with one-sided label smoothing, and "
           "stays finite for extreme logits.")
