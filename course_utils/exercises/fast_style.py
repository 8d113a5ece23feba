"""Checkers for the exercises of notebook 07 (fast style transfer: instance norm, AdaIN, CIN blends).

The references are written here independently of the notebook's code (``torch.var_mean``,
``F.instance_norm``), so that a checker never compares an answer with itself.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from ._check import fail, passed


def _features(seed: int, shape=(2, 5, 6, 7), scale: float = 3.0, shift: float = 1.0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(*shape, generator=gen) * scale + shift


def _stats(x: torch.Tensor, eps: float = 1e-5) -> tuple[torch.Tensor, torch.Tensor]:
    var, mean = torch.var_mean(x, dim=(2, 3), keepdim=True, correction=0)
    return mean, (var + eps).sqrt()


def check_instance_norm(instance_norm: Callable[..., torch.Tensor]) -> None:
    """``instance_norm(x, eps)`` for ``x`` [B, C, H, W]: each channel of each image standardised."""
    x = _features(0)
    expected = F.instance_norm(x, eps=1e-5)
    got = instance_norm(x.clone(), 1e-5)
    if not isinstance(got, torch.Tensor) or got.shape != x.shape:
        fail(f"instance_norm should return a tensor of the input's shape {tuple(x.shape)}, got "
             f"{getattr(got, 'shape', type(got).__name__)}.",
             "Normalise, do not reduce: return x minus a mean, divided by a standard deviation.")
    batch_norm = (x - x.mean(dim=(0, 2, 3), keepdim=True)) / (x.var(dim=(0, 2, 3), keepdim=True,
                                                                    correction=0) + 1e-5).sqrt()
    if torch.allclose(got, batch_norm, atol=1e-4):
        fail("You averaged over the batch too: that is batch normalisation.",
             "Instance norm takes the mean and variance of each image on its own: dims (2, 3) only.")
    layer_norm = (x - x.mean(dim=(1, 2, 3), keepdim=True)) / (x.var(dim=(1, 2, 3), keepdim=True,
                                                                    correction=0) + 1e-5).sqrt()
    if torch.allclose(got, layer_norm, atol=1e-4):
        fail("You averaged over the channels too: that is layer normalisation.",
             "Keep one mean and one variance per channel: reduce over dims (2, 3) only.")
    unbiased = (x - x.mean(dim=(2, 3), keepdim=True)) / (x.var(dim=(2, 3), keepdim=True) + 1e-5).sqrt()
    if torch.allclose(got, unbiased, atol=1e-5) and not torch.allclose(got, expected, atol=1e-5):
        fail("You used the unbiased variance (divided by H W - 1).",
             "Normalisation layers divide by H W: torch.var(..., correction=0) or torch.var_mean.")
    if not torch.allclose(got, expected, atol=1e-4):
        fail("The shape is right but the values differ from F.instance_norm.",
             "Subtract the mean of each channel of each image, divide by sqrt(variance + eps).")
    passed("your instance_norm equals F.instance_norm.")


def check_adain(adain: Callable[..., torch.Tensor]) -> None:
    """``adain(x, y)``: x's features with y's per-channel mean and standard deviation (Huang & Belongie)."""
    x, y = _features(1), _features(2, shape=(2, 5, 4, 9), scale=0.5, shift=-2.0)
    mu_x, sigma_x = _stats(x)
    mu_y, sigma_y = _stats(y)
    expected = sigma_y * (x - mu_x) / sigma_x + mu_y
    got = adain(x.clone(), y.clone())
    if isinstance(got, torch.Tensor) and got.shape == y.shape:
        fail("Your output has the shape of the style features: you swapped content and style.",
             "adain(x, y) normalises the content features x, then gives them the style's mu and sigma.")
    if not isinstance(got, torch.Tensor) or got.shape != x.shape:
        fail(f"AdaIN should return a tensor shaped like the content features {tuple(x.shape)}, got "
             f"{getattr(got, 'shape', type(got).__name__)}.",
             "The style features only give statistics; the output has the content's positions.")
    if torch.allclose(got, (x - mu_x) / sigma_x, atol=1e-4):
        fail("Your output is normalised but has no style statistics.", "Multiply by sigma(y) and add mu(y).")
    whole = y.std() * (x - x.mean()) / x.std() + y.mean()
    if torch.allclose(got, whole, atol=1e-3):
        fail("You used one mean and one standard deviation for the whole tensor.",
             "AdaIN works per image and per channel: reduce over dims (2, 3) with keepdim=True.")
    if not torch.allclose(got, expected, rtol=1e-3, atol=1e-3):
        mu_g, sigma_g = _stats(got)
        if torch.allclose(mu_g, mu_y, atol=1e-3) and not torch.allclose(sigma_g, sigma_y, rtol=1e-2):
            fail("The means are right but not the standard deviations.",
                 "Divide by sigma(x) (a standard deviation, not a variance) and multiply by sigma(y).")
        fail("The values differ from sigma(y) (x - mu(x)) / sigma(x) + mu(y).",
             "Take mu and sigma of each channel of each image over its positions (dims 2 and 3).")
    passed("your AdaIN gives the content features the style's channel statistics.")


def check_blend_weights(blend_weights: Callable[[float, int, int, int], torch.Tensor]) -> None:
    """``blend_weights(t, num_styles, a, b)``: weight 1 - t on style a, t on style b, 0 elsewhere."""
    for t, n, a, b in [(0.25, 3, 0, 1), (0.5, 4, 3, 1), (1.0, 3, 2, 0), (0.3, 2, 1, 1)]:
        expected = torch.zeros(n)
        expected[a] += 1 - t
        expected[b] += t
        got = torch.as_tensor(blend_weights(t, n, a, b), dtype=torch.float32)
        if got.shape != (n,):
            fail(f"For {n} styles the vector should have {n} entries, yours has shape {tuple(got.shape)}.",
                 "One weight per painting: torch.zeros(num_styles).")
        if not torch.allclose(got, expected, atol=1e-6):
            hint = ("When a == b the two weights add up to 1 on that painting (use +=, not =)."
                    if a == b else "Weight 1 - t on painting a and t on painting b.")
            fail(f"blend_weights({t}, {n}, {a}, {b}) gave {got.tolist()}, expected {expected.tolist()}.",
                 hint)
    passed("your style vectors blend the paintings as in section 4.")


def check_side_multiple(multiple: int) -> None:
    """The side multiple for three stride-2 downsamplings and three x2 upsamplings."""
    if multiple == 8:
        passed("three halvings need sides divisible by 2**3 = 8 to come back to the same size.")
        return
    if multiple == 6:
        fail("Each stride-2 layer halves the size: the factors multiply, they do not add.", "2 * 2 * 2.")
    fail(f"{multiple} is not it.", "Each stride-2 convolution halves the size; after k of them the size is "
         "divided by 2**k, which must be a whole number for the upsamplings to restore it exactly.")
