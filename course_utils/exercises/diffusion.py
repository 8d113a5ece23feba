"""Checkers for the exercises of notebook 09 (diffusion models).

The references are written here from the equations, independently of the notebook's
code (``course_utils.diffusion``), so that a checker does not pass a wrong answer just
because the notebook's version has the same mistake; the tests check both against each
other.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ._check import fail, passed


def _cosine_alpha_bars(T: int = 1000, s: float = 0.008, max_beta: float = 0.999) -> torch.Tensor:
    """alpha_bar_0..T of the cosine schedule (Nichol & Dhariwal 2021), float64 [T + 1]."""
    t = torch.arange(T + 1, dtype=torch.float64)
    f = torch.cos((t / T + s) / (1 + s) * math.pi / 2) ** 2
    betas = (1 - (f[1:] / f[0]) / (f[:-1] / f[0])).clamp(max=max_beta)
    return torch.cat([torch.ones(1, dtype=torch.float64), torch.cumprod(1 - betas, dim=0)])


def _describe(x: object) -> str:
    return f"shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__


def check_q_sample(fn: Callable[..., torch.Tensor]) -> None:
    """``fn(x0 [B, 1, 28, 28], t [B], eps [B, 1, 28, 28], alpha_bars [T + 1])``: x_t from q(x_t | x_0)."""
    gen = torch.Generator().manual_seed(0)
    alpha_bars = _cosine_alpha_bars()
    x0 = torch.rand(6, 1, 28, 28, generator=gen) * 2 - 1
    eps = torch.randn(6, 1, 28, 28, generator=gen)
    t = torch.tensor([0, 1, 100, 500, 900, 1000])
    ab = alpha_bars[t].float().view(-1, 1, 1, 1)
    want = ab.sqrt() * x0 + (1 - ab).sqrt() * eps
    got = fn(x0, t, eps, alpha_bars)
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        fail(f"For a batch of 6 digits the result should have shape {tuple(want.shape)}; "
             f"yours has {_describe(got)}.",
             "Pick one alpha_bar per image, alpha_bars[t], and reshape it to [B, 1, 1, 1] so that it "
             "broadcasts over the pixels.")
    got = got.float()
    if torch.allclose(got, want, atol=1e-5):
        passed("x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) eps, each image at its own step.")
        return
    swapped = ab * x0 + (1 - ab) * eps
    if torch.allclose(got, swapped, atol=1e-5):
        fail("You weight x0 and eps by alpha_bar and 1 - alpha_bar; those are the variances.",
             "The weights are the standard deviations: sqrt(alpha_bar_t) and sqrt(1 - alpha_bar_t).")
    same_t = alpha_bars[t[0]].float()
    if torch.allclose(got, same_t.sqrt() * x0 + (1 - same_t).sqrt() * eps, atol=1e-5):
        fail("Every image got the step of the first one.", "Index alpha_bars with the whole tensor t.")
    shifted = alpha_bars[(t - 1).clamp(min=0)].float().view(-1, 1, 1, 1)
    if torch.allclose(got, shifted.sqrt() * x0 + (1 - shifted).sqrt() * eps, atol=1e-5):
        fail("Your steps are off by one.", "alpha_bars[0] is step 0 (the clean image): use alpha_bars[t].")
    if not torch.allclose(got[:1], x0[:1], atol=1e-5):
        fail("At t = 0 the result should be x0 itself (alpha_bar_0 = 1).",
             "x_t = sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) eps; check which alpha_bar you use.")
    fail("The values differ from sqrt(alpha_bar_t) x0 + sqrt(1 - alpha_bar_t) eps.",
         "Use alpha_bars[t] reshaped to [B, 1, 1, 1]; both weights are square roots.")


def check_ddim_step(fn: Callable[..., torch.Tensor]) -> None:
    """``fn(x_t, eps, ab_t, ab_s)``: the deterministic DDIM step (eta = 0, no clipping) from t to s."""
    gen = torch.Generator().manual_seed(1)
    x_t = torch.randn(4, 1, 28, 28, generator=gen)
    eps = torch.randn(4, 1, 28, 28, generator=gen)
    for ab_t, ab_s in [(0.3, 0.6), (0.01, 0.2), (0.9, 0.99), (0.5, 1.0)]:
        x0_hat = (x_t - math.sqrt(1 - ab_t) * eps) / math.sqrt(ab_t)
        want = math.sqrt(ab_s) * x0_hat + math.sqrt(1 - ab_s) * eps
        got = fn(x_t, eps, ab_t, ab_s)
        if not isinstance(got, torch.Tensor) or got.shape != want.shape:
            fail(f"The result should have the shape of x_t, {tuple(x_t.shape)}; yours has {_describe(got)}.",
                 "x_s = sqrt(ab_s) x0_hat + sqrt(1 - ab_s) eps has the shape of x_t.")
        if torch.allclose(got, want, atol=1e-4, rtol=1e-4):
            continue
        if torch.allclose(got, x0_hat, atol=1e-4):
            fail(f"For ab_t = {ab_t}, ab_s = {ab_s} you return x0_hat, the clean estimate.",
                 "Put it back at the noise level of step s: sqrt(ab_s) x0_hat + sqrt(1 - ab_s) eps.")
        if ab_s == 1.0:
            fail("For a last step to s = 0 (ab_s = 1) the result should be x0_hat.",
                 "With ab_s = 1 the noise term sqrt(1 - ab_s) eps vanishes.")
        fail(f"For ab_t = {ab_t}, ab_s = {ab_s} the values differ from the DDIM step.",
             "x0_hat = (x_t - sqrt(1 - ab_t) eps) / sqrt(ab_t); "
             "x_s = sqrt(ab_s) x0_hat + sqrt(1 - ab_s) eps.")
    passed("a deterministic DDIM step: estimate x0, then put it at the next noise level with the same eps.")


def check_guidance(fn: Callable[..., torch.Tensor]) -> None:
    """``fn(eps_cond, eps_uncond, w)``: the classifier-free guidance combination."""
    gen = torch.Generator().manual_seed(2)
    cond, uncond = torch.randn(3, 1, 4, 4, generator=gen), torch.randn(3, 1, 4, 4, generator=gen)
    for w in (1.0, 3.5, 0.0):
        want = (1 + w) * cond - w * uncond
        got = fn(cond, uncond, w)
        if isinstance(got, torch.Tensor) and torch.allclose(got, want, atol=1e-5):
            continue
        other_convention = w * cond - (w - 1) * uncond
        if w and isinstance(got, torch.Tensor) and torch.allclose(got, other_convention, atol=1e-5):
            fail(f"With w = {w} you return w eps_cond - (w - 1) eps_uncond: the other convention of w.",
                 "This course uses Ho & Salimans' w: (1 + w) eps_cond - w eps_uncond, so w = 0 is the plain "
                 "conditional model.")
        if w == 0.0:
            fail("With w = 0 the result should be eps_cond: no guidance, the conditional model.",
                 "(1 + w) eps_cond - w eps_uncond.")
        fail(f"With w = {w} the result differs from (1 + w) eps_cond - w eps_uncond.",
             "Start from eps_cond and move further away from eps_uncond: "
             "eps_cond + w (eps_cond - eps_uncond).")
    passed("guidance extrapolates from the unconditional prediction past the conditional one.")


def check_snr_crossing(answer: int) -> None:
    """The first step t at which the cosine schedule's SNR = alpha_bar / (1 - alpha_bar) falls below 1."""
    alpha_bars = _cosine_alpha_bars()
    snr = alpha_bars / (1 - alpha_bars)
    want = int((snr < 1).nonzero()[0])
    if not isinstance(answer, int | torch.Tensor):
        fail(f"Give the step as an integer, not {type(answer).__name__}.", "int(...) of the first index.")
    answer = int(answer)
    if answer == want:
        passed(f"SNR(t) < 1 from t = {want} on: there, alpha_bar_t < 1/2 and the noise has more variance "
               "than the digit.")
        return
    if answer == want - 1:
        fail(f"Step {answer} is the last step with SNR >= 1.",
             "The question asks for the first step below 1.")
    if answer == 500 != want:
        fail(f"{answer} is the middle of the schedule, not where the SNR crosses 1.",
             "Compute alpha_bars / (1 - alpha_bars) and find the first t where it is below 1.")
    fail(f"The SNR of the cosine schedule first falls below 1 at another step than {answer}.",
         "SNR < 1 means alpha_bar_t < 1/2: find the first index t of alpha_bars with alpha_bars[t] < 0.5.")
