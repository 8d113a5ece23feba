"""Variational autoencoders (introduced in notebook 04): the ELBO in nats, the IWAE bound, two models.

Notation of Kingma & Welling, "Auto-Encoding Variational Bayes" (ICLR 2014):

* prior ``p(z) = N(0, I)``, with ``z`` of ``latent_dim`` numbers;
* encoder ``q_phi(z|x) = N(mu, diag(sigma^2))``; the networks output ``mu`` and
  ``logvar = log sigma^2`` (a log keeps ``sigma`` positive without constraints);
* decoder ``p_theta(x|z)``: one Bernoulli per pixel whose probability is
  ``sigmoid(logits)`` (or, for comparison, a Gaussian around that mean).

The evidence lower bound (ELBO) of one image is

    ELBO(x) = E_q[log p(x|z)] - KL(q(z|x) || p(z))  <=  log p(x).

**Nats per image.** Every log-likelihood, KL and bound here is per image: summed
over the 784 pixels (and the latent dimensions), in natural-log units (nats), then
averaged over images. Pixels are the continuous grey values in [0, 1] and the
Bernoulli log-likelihood is minus the binary cross-entropy, exactly as in
pytorch/examples' ``vae/main.py``, so the numbers compare with its 105.6 nats.
(For continuous pixels this "Bernoulli likelihood" is a convention, not a
normalised density; numbers on binarised MNIST are *not* comparable.)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .progress import progress
from .training import EarlyStopping, History, train

LOG_2PI = math.log(2 * math.pi)
LIKELIHOODS = ("bernoulli", "gaussian")


def _check_pair(mu: torch.Tensor, logvar: torch.Tensor) -> None:
    if mu.shape != logvar.shape or mu.dim() < 1:
        raise ValueError(f"mu and logvar must have the same shape [..., latent_dim], got {tuple(mu.shape)} "
                         f"and {tuple(logvar.shape)}")


def check_images01(x01: torch.Tensor) -> None:
    """Refuse images that are not ``[B, 1, 28, 28]`` in [0, 1]: a clear error instead of a silly loss."""
    if x01.dim() != 4 or tuple(x01.shape[1:]) != (1, 28, 28):
        raise ValueError(f"expected MNIST images [B, 1, 28, 28], got {tuple(x01.shape)}")
    lo, hi = x01.min().item(), x01.max().item()
    if lo < 0 or hi > 1:
        raise ValueError(f"pixels must be in [0, 1] for a Bernoulli likelihood, got [{lo:.3g}, {hi:.3g}]. "
                         "Load MNIST with value_range=(0, 1) (not normalised, not in [-1, 1]).")


# ---------------------------------------------------------------- the maths


def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``KL(N(mu, diag exp(logvar)) || N(0, I))`` in closed form, in nats.

    ``KL = 1/2 * sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)`` (Kingma & Welling 2014, appendix B).

    Args:
        mu, logvar: ``[..., latent_dim]``.

    Returns:
        ``[...]``: the KL of each row, summed over the latent dimensions.
    """
    _check_pair(mu, logvar)
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar).sum(dim=-1)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, eps: torch.Tensor | None = None) -> torch.Tensor:
    """A sample ``z = mu + sigma * eps`` of ``N(mu, diag sigma^2)``, with ``eps ~ N(0, I)``.

    The randomness sits in ``eps``, outside the network, so gradients flow to
    ``mu`` and ``logvar`` (the reparameterisation trick).

    Args:
        mu, logvar: ``[..., latent_dim]``.
        eps: optional standard-normal noise of the same shape (drawn if omitted).
    """
    _check_pair(mu, logvar)
    if eps is None:
        eps = torch.randn_like(mu)
    elif eps.shape != mu.shape:
        raise ValueError(f"eps must have the shape of mu {tuple(mu.shape)}, got {tuple(eps.shape)}")
    sigma = torch.exp(0.5 * logvar)
    return mu + sigma * eps


def gaussian_log_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """``log N(z; mu, diag exp(logvar))`` summed over the last dimension, in nats.

    ``log N = -1/2 * sum_j ((z_j - mu_j)^2 / sigma_j^2 + log sigma_j^2 + log 2 pi)``.
    Shapes broadcast; the result has the broadcast shape without the last axis.
    """
    return -0.5 * ((z - mu).pow(2) * torch.exp(-logvar) + logvar + LOG_2PI).sum(dim=-1)


def bernoulli_log_likelihood(logits: torch.Tensor, x01: torch.Tensor) -> torch.Tensor:
    """``log p(x|z) = sum_i [x_i log p_i + (1 - x_i) log(1 - p_i)]`` with ``p = sigmoid(logits)``, in nats.

    This is minus the binary cross-entropy summed over the pixels, computed from
    the logits for numerical stability.

    Args:
        logits: decoder outputs ``[B, ...]``.
        x01: images of the same shape, pixels in [0, 1].

    Returns:
        ``[B]``, one log-likelihood per image.
    """
    if logits.shape != x01.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and images {tuple(x01.shape)} "
                         "must have the same shape")
    return -F.binary_cross_entropy_with_logits(logits, x01, reduction="none").flatten(1).sum(dim=1)


def gaussian_log_likelihood(mean: torch.Tensor, x: torch.Tensor, sigma: float) -> torch.Tensor:
    """``log N(x; mean, sigma^2 I)`` summed over the pixels, in nats:

    ``-||x - mean||^2 / (2 sigma^2) - D log(sigma sqrt(2 pi))`` with ``D`` pixels per image.

    Returns:
        ``[B]``, one log-density per image.
    """
    if mean.shape != x.shape:
        raise ValueError(f"mean {tuple(mean.shape)} and images {tuple(x.shape)} must have the same shape")
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    sq = (x - mean).pow(2).flatten(1).sum(dim=1)
    d = x[0].numel()
    return -sq / (2 * sigma**2) - d * (math.log(sigma) + 0.5 * LOG_2PI)


# ---------------------------------------------------------------- the models


class VAE(nn.Module):
    """What the two VAEs share: encode, decode, the likelihood and sampling.

    Subclasses define ``self.encoder`` (images ``[B, 1, 28, 28]`` in [0, 1] ->
    ``[B, 2 * latent_dim]``: ``mu`` and ``logvar`` side by side) and
    ``self.decoder`` (``[B, latent_dim]`` -> logits ``[B, 1, 28, 28]``).

    Args:
        latent_dim: number of latent variables.
        likelihood: ``"bernoulli"`` (the course's choice) or ``"gaussian"``, a
            Gaussian with fixed ``sigma`` around the mean image ``sigmoid(logits)``.
        sigma: the Gaussian decoder's standard deviation, in pixel units of [0, 1].
    """

    def __init__(self, latent_dim: int, likelihood: str = "bernoulli", sigma: float = 1.0):
        super().__init__()
        if likelihood not in LIKELIHOODS:
            raise ValueError(f"likelihood must be one of {LIKELIHOODS}, got {likelihood!r}")
        if latent_dim < 1:
            raise ValueError(f"latent_dim must be at least 1, got {latent_dim}")
        self.latent_dim, self.likelihood, self.sigma = latent_dim, likelihood, float(sigma)

    def encode(self, x01: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``mu, logvar`` ``[B, latent_dim]`` of ``q(z|x)`` for images ``x01`` ``[B, 1, 28, 28]``."""
        if x01.dim() != 4 or tuple(x01.shape[1:]) != (1, 28, 28):
            raise ValueError(f"{type(self).__name__} expects images [B, 1, 28, 28], got {tuple(x01.shape)}")
        mu, logvar = self.encoder(x01).chunk(2, dim=1)
        return mu, logvar

    def decode_logits(self, z: torch.Tensor) -> torch.Tensor:
        """Decoder logits ``[B, 1, 28, 28]`` for latents ``z`` ``[B, latent_dim]``."""
        if z.dim() != 2 or z.shape[1] != self.latent_dim:
            raise ValueError(f"expected latents [B, {self.latent_dim}], got {tuple(z.shape)}")
        return self.decoder(z)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The mean image ``sigmoid(logits)`` ``[B, 1, 28, 28]`` in [0, 1] (what we show as "the" digit)."""
        return torch.sigmoid(self.decode_logits(z))

    def log_likelihood(self, x01: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """``log p(x|z)`` ``[B]`` in nats, summed over the pixels."""
        logits = self.decode_logits(z)
        if self.likelihood == "bernoulli":
            return bernoulli_log_likelihood(logits, x01)
        return gaussian_log_likelihood(torch.sigmoid(logits), x01, self.sigma)

    def forward(self, x01: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Encode, sample ``z`` and decode: returns ``logits, mu, logvar``."""
        mu, logvar = self.encode(x01)
        return self.decode_logits(reparameterize(mu, logvar)), mu, logvar

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` digits from the prior: ``z ~ N(0, I)``, decoded to mean images ``[n, 1, 28, 28]`` in [0, 1].

        ``generator`` is a CPU ``torch.Generator`` (the same digits on every device).
        """
        z = torch.randn(n, self.latent_dim, generator=generator)
        return self.decode(z.to(next(self.parameters()).device))


class MlpVAE(VAE):
    """The classic fully connected VAE: 784-400-``latent_dim``, as in pytorch/examples' ``vae/main.py``."""

    def __init__(self, latent_dim: int = 20, hidden: int = 400, likelihood: str = "bernoulli",
                 sigma: float = 1.0):
        super().__init__(latent_dim, likelihood, sigma)
        self.encoder = nn.Sequential(
            nn.Flatten(),                              # [B, 1, 28, 28] -> [B, 784]
            nn.Linear(784, hidden), nn.ReLU(),         # -> [B, hidden]
            nn.Linear(hidden, 2 * latent_dim),         # -> [B, 2 * latent]: mu and logvar
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.ReLU(),  # [B, latent] -> [B, hidden]
            nn.Linear(hidden, 784),                    # -> [B, 784] logits
            nn.Unflatten(1, (1, 28, 28)),              # -> [B, 1, 28, 28]
        )


class ConvVAE(VAE):
    """A small convolutional VAE for 28x28 digits: strided convolutions down, transposed convolutions up.

    ELU activations (Clevert et al. 2016) rather than ReLU: with ReLU this VAE
    sits on a plateau with almost no KL for its first few hundred steps.
    """

    def __init__(self, latent_dim: int = 32, channels: tuple[int, int] = (32, 64), hidden: int = 256,
                 likelihood: str = "bernoulli", sigma: float = 1.0):
        super().__init__(latent_dim, likelihood, sigma)
        c1, c2 = channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 4, stride=2, padding=1), nn.ELU(),    # [B, 1, 28, 28] -> [B, c1, 14, 14]
            nn.Conv2d(c1, c2, 4, stride=2, padding=1), nn.ELU(),   # -> [B, c2, 7, 7]
            nn.Flatten(),                                          # -> [B, c2 * 49]
            nn.Linear(c2 * 49, hidden), nn.ELU(),                  # -> [B, hidden]
            nn.Linear(hidden, 2 * latent_dim),                     # -> [B, 2 * latent]: mu and logvar
        )
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, hidden), nn.ELU(),               # [B, latent] -> [B, hidden]
            nn.Linear(hidden, c2 * 49), nn.ELU(),                  # -> [B, c2 * 49]
            nn.Unflatten(1, (c2, 7, 7)),                           # -> [B, c2, 7, 7]
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.ELU(),  # -> [B, c1, 14, 14]
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),     # -> [B, 1, 28, 28] logits
        )


# ---------------------------------------------------------------- the ELBO and the IWAE bound


def elbo_terms(model: VAE, x01: torch.Tensor, eps: torch.Tensor | None = None
               ) -> tuple[torch.Tensor, torch.Tensor]:
    """The two terms of the negative ELBO of each image, in nats, with one sample ``z ~ q(z|x)``.

    ``-ELBO(x) = recon + kl`` with ``recon = -log p(x|z)``, ``z = mu + sigma * eps``
    (a one-sample, unbiased estimate of ``-E_q[log p(x|z)]``) and ``kl`` the
    closed-form ``KL(q(z|x) || p(z))``.

    Args:
        model: a :class:`VAE`.
        x01: images ``[B, 1, 28, 28]`` in [0, 1].
        eps: optional noise ``[B, latent_dim]`` (drawn from the global RNG if omitted).

    Returns:
        ``recon [B]`` and ``kl [B]``.
    """
    mu, logvar = model.encode(x01)
    z = reparameterize(mu, logvar, eps)
    recon = -model.log_likelihood(x01, z)
    kl = gaussian_kl(mu, logvar)
    return recon, kl


def negative_elbo(model: VAE, x01: torch.Tensor, eps: torch.Tensor | None = None) -> torch.Tensor:
    """``-ELBO(x) = -log p(x|z) + KL(q(z|x) || p(z))`` of each image ``[B]``, in nats.

    See :func:`elbo_terms`.
    """
    recon, kl = elbo_terms(model, x01, eps)
    return recon + kl


def iwae_log_likelihood(model: VAE, x01: torch.Tensor, k: int, generator: torch.Generator | None = None,
                        max_decodes: int = 4096) -> torch.Tensor:
    """The importance-weighted lower bound on ``log p(x)`` with ``k`` samples, per image, in nats.

    Burda, Grosse & Salakhutdinov, "Importance Weighted Autoencoders" (ICLR 2016):

    ``L_k(x) = log (1/k) sum_i w_i``, ``w_i = p(x|z_i) p(z_i) / q(z_i|x)``, ``z_i ~ q(z|x)``.

    ``E[L_1]`` is the ELBO, ``E[L_k]`` grows with ``k`` and tends to ``log p(x)``.
    The sum is computed as a ``logsumexp`` of the log-weights (the weights
    themselves under- or overflow).

    Args:
        model: a :class:`VAE` (anything with ``encode`` and ``log_likelihood``).
        x01: images ``[B, 1, 28, 28]`` in [0, 1].
        k: number of importance samples per image (k = 1 gives a one-sample ELBO).
        generator: CPU generator for the samples (reproducible on every device).
        max_decodes: decode at most this many latents at once (memory).

    Returns:
        ``[B]``: ``L_k`` of each image. ``-L_k`` is an upper bound on the negative log-likelihood.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1 importance sample, got {k}")
    mu, logvar = model.encode(x01)                      # [B, D]
    B, D = mu.shape
    chunk = max(1, max_decodes // B)
    log_w = []
    for start in range(0, k, chunk):
        m = min(chunk, k - start)
        eps = torch.randn(m, B, D, generator=generator).to(mu.device)
        z = mu + torch.exp(0.5 * logvar) * eps          # [m, B, D]: m samples of q(z|x) per image
        log_pz = gaussian_log_density(z, torch.zeros_like(mu), torch.zeros_like(logvar))  # [m, B]
        log_qz = gaussian_log_density(z, mu, logvar)    # [m, B]
        x_rep = x01.expand(m, *x01.shape).reshape(m * B, *x01.shape[1:])
        log_px = model.log_likelihood(x_rep, z.reshape(m * B, D)).view(m, B)
        log_w.append(log_px + log_pz - log_qz)
    return torch.logsumexp(torch.cat(log_w), dim=0) - math.log(k)


# ---------------------------------------------------------------- evaluation and training


@torch.no_grad()
def evaluate_elbo(model: VAE, x01: torch.Tensor, device: torch.device, batch_size: int = 1000,
                  seed: int = 0) -> dict[str, float]:
    """Mean ``-ELBO``, reconstruction term and KL over a set of images, in nats per image.

    One ``z`` per image, drawn from a generator seeded with ``seed``, so that the
    same model always gets the same number and epochs are compared on the same noise.

    Args:
        x01: images ``[N, 1, 28, 28]`` in [0, 1] (on any device).

    Returns:
        ``{"nelbo": ..., "recon": ..., "kl": ...}`` averaged over the N images.
    """
    check_images01(x01)
    was_training = model.training
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    sums = torch.zeros(2, dtype=torch.float64)
    for start in range(0, len(x01), batch_size):
        x = x01[start:start + batch_size].to(device)
        eps = torch.randn(len(x), model.latent_dim, generator=gen).to(device)
        recon, kl = elbo_terms(model, x, eps)
        sums += torch.stack([recon.sum(), kl.sum()]).cpu().double()  # MPS has no float64
    model.train(was_training)
    recon, kl = (sums / len(x01)).tolist()
    return {"nelbo": recon + kl, "recon": recon, "kl": kl}


@torch.no_grad()
def evaluate_iwae(model: VAE, x01: torch.Tensor, device: torch.device, k: int = 100, batch_size: int = 100,
                  seed: int = 0, progress_bar: bool = True) -> torch.Tensor:
    """:func:`iwae_log_likelihood` of every image of ``x01`` ``[N, 1, 28, 28]``: ``[N]`` in nats, on the CPU.

    Its mean is a lower bound on the average log-likelihood; minus its mean is the
    number to report as "negative log-likelihood, nats per image".
    """
    check_images01(x01)
    was_training = model.training
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    out = [iwae_log_likelihood(model, x01[s:s + batch_size].to(device), k, gen).cpu()
           for s in progress(range(0, len(x01), batch_size), desc=f"IWAE k={k}", enabled=progress_bar)]
    model.train(was_training)
    return torch.cat(out)


def fit_vae(
    model: VAE,
    train_loader: Iterable,
    optimizer: torch.optim.Optimizer,
    *,
    epochs: int,
    device: torch.device,
    beta: float = 1.0,
    eval_sets: Mapping[str, torch.Tensor] | None = None,
    scheduler: Any | None = None,
    checkpoint: str | Path | None = None,
    config: Mapping[str, Any] | None = None,
    early_stopping: EarlyStopping | None = None,
    progress_bar: bool = True,
) -> History:
    """Train a VAE by minimising ``recon + beta * kl`` per image, averaged over each batch.

    ``beta = 1`` minimises the negative ELBO; other values give a beta-VAE
    (Higgins et al., ICLR 2017). The loop is :func:`~course_utils.training.train`:
    progress bars, train-or-load, resume and early stopping come from there.

    Logged per step (and averaged per epoch): ``loss`` (what is minimised),
    ``nelbo``, ``recon`` and ``kl``, in nats per image. After each epoch, for
    every ``name -> images`` in ``eval_sets`` (e.g. ``{"train": ..., "test": ...}``),
    :func:`evaluate_elbo` adds ``<name>_nelbo``, ``<name>_recon`` and ``<name>_kl``.

    Args:
        train_loader: yields ``(images, labels)`` batches, images in [0, 1].
        eval_sets: image tensors ``[N, 1, 28, 28]`` to evaluate after each epoch.
        scheduler: an optional learning-rate scheduler, stepped after every batch.
        checkpoint, config, early_stopping: see :func:`~course_utils.training.train`.
    """
    eval_sets = dict(eval_sets or {})
    for images in eval_sets.values():
        check_images01(images)
    checked = False

    def step(batch):
        nonlocal checked
        x = batch[0].to(device)
        if not checked:
            check_images01(x)
            checked = True
        recon, kl = elbo_terms(model, x)
        loss = (recon + beta * kl).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        logs = torch.stack([loss, (recon + kl).mean(), recon.mean(), kl.mean()]).tolist()
        return dict(zip(("loss", "nelbo", "recon", "kl"), logs, strict=True))

    def end_of_epoch(epoch):
        return {f"{name}_{key}": value for name, images in eval_sets.items()
                for key, value in evaluate_elbo(model, images, device).items()}

    return train(step, train_loader, epochs=epochs, modules={"model": model},
                 optimizers={"optimizer": optimizer},
                 schedulers={"scheduler": scheduler} if scheduler is not None else None,
                 end_of_epoch=end_of_epoch, checkpoint=checkpoint, config=config,
                 early_stopping=early_stopping, desc="VAE", progress_bar=progress_bar)
