"""Checkers for the exercises of notebook 04 (variational autoencoders)."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch.distributions import Normal, kl_divergence

from ._check import fail, passed


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _as_tensor(value, what: str, shape: tuple[int, ...]) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        fail(f"{what} should return a tensor, yours returned {type(value).__name__}.",
             "Use torch operations (torch.exp, .sum(dim=...)) so that the result stays a tensor.")
    if tuple(value.shape) != shape:
        fail(f"{what} should return shape {shape}, yours has shape {tuple(value.shape)}.",
             "Sum over the latent (or pixel) dimensions only, keeping one number per image.")
    return value


def check_kl(gaussian_kl: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """``gaussian_kl(mu, logvar)`` ``[B, D] -> [B]``: ``KL(N(mu, diag e^logvar) || N(0, I))``.

    The taught cell of notebook 04, section 3. The reference is ``torch.distributions.kl_divergence``.
    """
    g = _gen()
    mu, logvar = torch.randn(6, 4, generator=g) * 1.5, torch.randn(6, 4, generator=g)
    expected = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(dim=1)
    got = _as_tensor(gaussian_kl(mu, logvar), "gaussian_kl", (6,))
    if torch.allclose(got, expected, rtol=1e-4, atol=1e-4):
        passed("your KL term matches torch.distributions.kl_divergence.")
        return
    if torch.allclose(got, 2 * expected, rtol=1e-4, atol=1e-4):
        fail("Your KL is twice the right value.", "The formula has a factor 1/2 in front of the sum.")
    if torch.allclose(got, -expected, rtol=1e-4, atol=1e-4):
        fail("Your KL has the wrong sign: a KL divergence is never negative.",
             "KL = 1/2 * sum(mu^2 + sigma^2 - 1 - log sigma^2).")
    if torch.allclose(got, expected / 4, rtol=1e-4, atol=1e-4):
        fail("Your KL is the mean over the latent dimensions, not the sum.",
             "Each latent dimension adds its own KL: sum over the last dimension, .sum(dim=-1).")
    zero = gaussian_kl(torch.zeros(2, 3), torch.zeros(2, 3))
    if not torch.allclose(torch.as_tensor(zero, dtype=torch.float32), torch.zeros(2), atol=1e-6):
        fail("For mu = 0 and logvar = 0, q is the prior itself and the KL must be 0; yours is not.",
             "Don't forget the '- 1' in the formula.")
    fail("Your KL differs from torch.distributions.kl_divergence.",
         "logvar is log sigma^2, so sigma^2 = exp(logvar), not exp(logvar / 2) or logvar itself.")


def check_reparameterize(reparameterize: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> None:
    """``reparameterize(mu, logvar)``: a differentiable sample of ``N(mu, diag e^logvar)``.

    The taught cell of notebook 04, section 3.
    """
    mu = torch.tensor([[2.0, -1.0]]).repeat(20_000, 1).requires_grad_()
    logvar = torch.tensor([[math.log(9.0), math.log(0.25)]]).repeat(20_000, 1).requires_grad_()
    with torch.random.fork_rng():  # the same noise on every run, and the caller's RNG untouched
        torch.manual_seed(0)
        z = _as_tensor(reparameterize(mu, logvar), "reparameterize", (20_000, 2))
    if not z.requires_grad:
        fail("No gradient can flow through your sample to mu and logvar.",
             "Draw eps = torch.randn_like(mu) (no gradient needed) and return mu + sigma * eps; "
             "don't call .sample() or .detach().")
    if not torch.allclose(z.std(0), torch.tensor([3.0, 0.5]), atol=0.1):
        fail(f"The spread of your samples is {z.std(0).tolist()}, it should be sigma = [3, 0.5].",
             "logvar = log sigma^2, so sigma = exp(logvar / 2).")
    if not torch.allclose(z.mean(0), torch.tensor([2.0, -1.0]), atol=0.1):
        fail(f"The mean of your samples is {z.mean(0).tolist()}, it should be mu = [2, -1].",
             "z = mu + sigma * eps with eps of mean 0.")
    z.sum().backward()
    if mu.grad is None or logvar.grad is None or not torch.allclose(mu.grad, torch.ones_like(mu)):
        fail("The gradient of z with respect to mu should be 1.", "Return mu + sigma * eps.")
    passed("your samples have the right mean and spread, and gradients flow through them.")


def check_negative_elbo(negative_elbo: Callable[..., torch.Tensor]) -> None:
    """``negative_elbo(logits, x01, mu, logvar)`` ``-> [B]``: ``-log p(x|z) + KL``, in nats per image."""
    g = _gen(1)
    logits = torch.randn(5, 1, 28, 28, generator=g) * 2
    x01 = torch.rand(5, 1, 28, 28, generator=g)
    mu, logvar = torch.randn(5, 8, generator=g), torch.randn(5, 8, generator=g) * 0.5
    recon = F.binary_cross_entropy_with_logits(logits, x01, reduction="none").sum(dim=(1, 2, 3))
    kl = kl_divergence(Normal(mu, torch.exp(0.5 * logvar)), Normal(0.0, 1.0)).sum(dim=1)
    got = negative_elbo(logits, x01, mu, logvar)
    if isinstance(got, torch.Tensor) and got.dim() == 0:
        fail("You return one number for the whole batch; the checker wants one -ELBO per image, shape [B].",
             "Sum over pixels and latent dimensions, but not over the batch.")
    got = _as_tensor(got, "your -ELBO function", (5,))
    if torch.allclose(got, recon + kl, rtol=1e-4, atol=1e-3):
        passed("your -ELBO per image matches the reference.")
        return
    if torch.allclose(got, recon / 784 + kl, rtol=1e-4, atol=1e-3):
        fail("Your reconstruction term is averaged over the 784 pixels instead of summed.",
             "F.binary_cross_entropy averages by default; that shrinks the reconstruction term 784 times "
             "against the KL (the most common VAE bug: it gives blurry digits). Sum over the pixels.")
    if torch.allclose(got, recon, rtol=1e-4, atol=1e-3):
        fail("Your -ELBO is only the reconstruction term.", "Add the KL term.")
    if torch.allclose(got, recon - kl, rtol=1e-4, atol=1e-3):
        fail("You subtract the KL.", "-ELBO = -log p(x|z) + KL: the KL is a cost.")
    fail("Your -ELBO differs from the reference.",
         "Pass the logits to F.binary_cross_entropy_with_logits (or apply sigmoid first and use "
         "F.binary_cross_entropy), with reduction='none', and sum over (1, 2, 3).")


def check_log_mean_exp(log_mean_exp: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """``log_mean_exp(log_w)`` ``[k, B] -> [B]``: ``log((1/k) sum_i exp(log_w_i))``, without overflow."""
    g = _gen(2)
    log_w = torch.randn(50, 4, generator=g) * 3
    expected = torch.logsumexp(log_w, dim=0) - math.log(50)
    got = _as_tensor(log_mean_exp(log_w), "log_mean_exp", (4,))
    if not torch.allclose(got, expected, rtol=1e-4, atol=1e-4):
        if torch.allclose(got, expected + math.log(50), rtol=1e-4, atol=1e-4):
            fail("You compute log sum exp, not log mean exp.", "Subtract log k.")
        fail("Your result differs from log((1/k) sum exp(log_w)) over the first dimension.",
             "Reduce over dim 0, the k samples; one result per image remains.")
    # log-weights of real digits are -100 nats and below: their exp underflows to 0 in float32
    big = log_w - 200.0
    got_big = log_mean_exp(big)
    if not torch.isfinite(got_big).all() or not torch.allclose(got_big, expected - 200.0, atol=1e-3):
        fail("Your function gives -inf or wrong values for log-weights around -200 nats (real digits have "
             "log-weights of -100 and below): exp(-200) is 0 in float32.",
             "Subtract the maximum first: log mean exp(a) = m + log mean exp(a - m) with m = max(a), "
             "or use torch.logsumexp.")
    passed("your log-mean-exp is right and does not underflow.")
