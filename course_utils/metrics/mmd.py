r"""Kernel distance between feature distributions: KID (introduced in notebook 06).

Bińkowski, Sutherland, Arbel & Gretton (2018), *Demystifying MMD GANs* (ICLR), propose
the Kernel Inception Distance: the squared maximum mean discrepancy (Gretton et al.
2012) between real features :math:`x_1..x_m` and generated features :math:`y_1..y_n`, with the
cubic polynomial kernel

.. math::

    k(x, y) = \Bigl(\frac{x^\top y}{d} + 1\Bigr)^3,

estimated without bias (the sums leave out :math:`i = j`):

.. math::

    \widehat{\mathrm{MMD}}^2_u = \frac{1}{m(m-1)}\sum_{i\ne j} k(x_i, x_j)
        + \frac{1}{n(n-1)}\sum_{i\ne j} k(y_i, y_j) - \frac{2}{mn}\sum_{i,j} k(x_i, y_j).

Unlike FID, its expectation does not depend on the sample size, and it is 0 on
average when both sets come from the same distribution (so single estimates can be
slightly negative). KID is computed on ``subsets`` random subsets of ``subset_size``
samples and reported as mean ± standard deviation over them.

Layers: features -> :func:`polynomial_kernel` -> :func:`mmd2_unbiased` -> :func:`kid`.

As in torchmetrics' ``KernelInceptionDistance`` and torch-fidelity, each subset pair
draws ``subset_size`` real and then ``subset_size`` generated features without
replacement, and the spread is the population standard deviation; with the same seed
(torchmetrics: ``torch.manual_seed`` before ``compute``) the results agree to rounding.
"""

from __future__ import annotations

import torch

from .distances import feature_pair
from .results import MeanStd


def polynomial_kernel(
    x: torch.Tensor, y: torch.Tensor, degree: int = 3, gamma: float | None = None, coef: float = 1.0
) -> torch.Tensor:
    r"""The polynomial kernel matrix ``[M, N]`` of ``x [M, D]`` and ``y [N, D]``.

    :math:`K_{ij} = (\gamma\, x_i^\top y_j + c)^{p}`. The defaults give KID's kernel:
    :math:`p = 3`, :math:`\gamma = 1/D`, :math:`c = 1`.
    """
    if x.dim() != 2 or y.dim() != 2 or x.shape[1] != y.shape[1]:
        raise ValueError(f"expected [M, D] and [N, D], got {tuple(x.shape)} and {tuple(y.shape)}")
    gamma = 1.0 / x.shape[1] if gamma is None else gamma
    return (gamma * (x.double() @ y.double().T) + coef) ** degree


def mmd2_unbiased(x: torch.Tensor, y: torch.Tensor, degree: int = 3, gamma: float | None = None,
                  coef: float = 1.0) -> float:
    r"""Unbiased :math:`\widehat{\mathrm{MMD}}^2_u` (module docstring) of ``x [M, D]`` and ``y [N, D]``.

    Needs :math:`M, N \ge 2`. Gretton et al. (2012), Lemma 6.
    """
    if len(x) < 2 or len(y) < 2:
        raise ValueError(f"the unbiased MMD needs at least 2 samples per set, got {len(x)} and {len(y)}")
    m, n = len(x), len(y)
    kxx = polynomial_kernel(x, x, degree, gamma, coef)
    kyy = polynomial_kernel(y, y, degree, gamma, coef)
    kxy = polynomial_kernel(x, y, degree, gamma, coef)
    xx = (kxx.sum() - kxx.diagonal().sum()) / (m * (m - 1))
    yy = (kyy.sum() - kyy.diagonal().sum()) / (n * (n - 1))
    return (xx + yy - 2 * kxy.mean()).item()


def kid(
    real_features: torch.Tensor,
    fake_features: torch.Tensor,
    *,
    subsets: int = 100,
    subset_size: int | None = None,
    seed: int | torch.Generator = 0,
    degree: int = 3,
    gamma: float | None = None,
    coef: float = 1.0,
) -> MeanStd:
    r"""KID: :func:`mmd2_unbiased` with the cubic kernel over random subsets, as mean ± std.

    Args:
        real_features: ``[N, D]``.
        fake_features: ``[M, D]``.
        subsets: how many random subset pairs to average over (100 in the references).
        subset_size: samples per subset, drawn without replacement from each set;
            default ``min(1000, min(N, M) // 2)``: 1000 as in the references from
            2,000 samples on, and otherwise half the smaller set, so that the subsets
            differ and their spread means something (subsets holding all samples would
            all give the same value, with std 0).
        seed: an ``int`` or a ``torch.Generator`` for the subsets, so that the result is
            reproducible. With ``seed=s`` the subsets are those of torchmetrics'
            ``KernelInceptionDistance`` after ``torch.manual_seed(s)``.
        degree, gamma, coef: the polynomial kernel (:func:`polynomial_kernel`).

    Returns:
        :class:`~course_utils.metrics.results.MeanStd` over the subsets (``std`` with
        ``ddof=0``, as torchmetrics and torch-fidelity report it).
    """
    real, fake = feature_pair(real_features, fake_features)
    n_real, n_fake = len(real), len(fake)
    size = max(2, min(1000, min(n_real, n_fake) // 2)) if subset_size is None else subset_size
    if not 2 <= size <= min(n_real, n_fake):
        raise ValueError(f"subset_size must be between 2 and the size of the smaller set "
                         f"({min(n_real, n_fake)}), got {size}")
    if subsets < 1:
        raise ValueError(f"subsets must be at least 1, got {subsets}")
    gen = seed if isinstance(seed, torch.Generator) else torch.Generator().manual_seed(int(seed))
    values = torch.empty(subsets, dtype=torch.float64)
    for s in range(subsets):
        r = real[torch.randperm(n_real, generator=gen)[:size]]
        f = fake[torch.randperm(n_fake, generator=gen)[:size]]
        values[s] = mmd2_unbiased(r, f, degree, gamma, coef)
    return MeanStd.of(values)
