r"""Fréchet distance between feature distributions: FID (introduced in notebook 06).

Heusel et al. (2017), *GANs Trained by a Two Time-Scale Update Rule Converge to a Local
Nash Equilibrium* (NeurIPS), model the features of real and of generated images as two
Gaussians :math:`\mathcal N(\mu_r, \Sigma_r)` and :math:`\mathcal N(\mu_g, \Sigma_g)` and report
the squared Fréchet (2-Wasserstein) distance between them:

.. math::

    \mathrm{FID} = \lVert \mu_r - \mu_g \rVert_2^2
                 + \operatorname{Tr}\bigl(\Sigma_r + \Sigma_g - 2\,(\Sigma_r \Sigma_g)^{1/2}\bigr).

Layers: features ``[N, D]`` -> :func:`feature_statistics` -> :func:`frechet_distance`;
:func:`fid` does both. Everything is float64.

The matrix square root
    :math:`\Sigma_r\Sigma_g` is not symmetric, so its square root is delicate
    (``scipy.linalg.sqrtm`` may return complex parts, and the reference code adds
    :math:`\varepsilon I` when the product is singular). Only its *trace* is needed, and
    :math:`\Sigma_r\Sigma_g = AB` with :math:`A = \Sigma_r^{1/2}`, :math:`B = \Sigma_r^{1/2}\Sigma_g`
    has the same eigenvalues as :math:`BA = \Sigma_r^{1/2}\Sigma_g\Sigma_r^{1/2}`, which is
    symmetric positive semi-definite. So
    :math:`\operatorname{Tr}(\Sigma_r\Sigma_g)^{1/2}
    = \sum_i \sqrt{\lambda_i(\Sigma_r^{1/2}\Sigma_g\Sigma_r^{1/2})}`,
    computed with two symmetric eigendecompositions (``eigh``), real and stable also
    when a covariance is singular (:func:`trace_sqrt_product`).

Sample size
    FID is biased upwards for finite :math:`N` (Bińkowski et al. 2018; Chong & Forsyth
    2020), roughly by a constant over :math:`N`: two disjoint sets of real digits, in the
    course classifier's features, give FID about 8 at :math:`N = 1000` and 2.4 at
    :math:`N = 4000`. Compare FIDs only at equal :math:`N`, and next to a real-vs-real
    baseline at that :math:`N`. With :math:`N \le D` the covariance
    (rank at most :math:`N-1`) is singular and the estimate is poor; :func:`feature_statistics`
    then warns with :class:`SmallSampleWarning`.

Reference implementations
    Given the same features, :func:`fid` agrees with torchmetrics'
    ``FrechetInceptionDistance(feature=module)`` in float64 to about 1e-15 relative
    (tested to 1e-6). The remaining differences are numerical: torchmetrics accumulates
    :math:`\sum_i f_i f_i^\top - N\mu\mu^\top` (which loses digits when the mean is large
    compared with the spread) and takes the eigenvalues of the non-symmetric product;
    here the covariance is computed from centred features and only symmetric
    eigenproblems are solved.
"""

from __future__ import annotations

import warnings

import torch

from .distances import feature_pair, flatten_rows


class SmallSampleWarning(UserWarning):
    """Fewer samples than feature dimensions: the covariance is singular and FID is strongly biased."""


def feature_statistics(features: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    r"""Mean :math:`\mu` ``[D]`` and covariance :math:`\Sigma` ``[D, D]`` (float64) of features ``[N, D]``.

    :math:`\mu = \frac1N\sum_i f_i` and the unbiased
    :math:`\Sigma = \frac{1}{N-1}\sum_i (f_i-\mu)(f_i-\mu)^\top`, as in the reference
    implementations. Warns with :class:`SmallSampleWarning` when :math:`N \le D`.
    """
    if features.dim() != 2:
        raise ValueError(f"features must be [N, D], got shape {tuple(features.shape)}; "
                         "use extract_features(...) to get them from images")
    f = flatten_rows(features, "features")
    n, d = f.shape
    if n < 2:
        raise ValueError(f"need at least 2 feature vectors for a covariance, got {n}")
    if n <= d:
        warnings.warn(
            f"only N={n} samples for {d}-dimensional features: their covariance has rank at most "
            f"N-1={n - 1} < {d}, so it is singular and FID is strongly biased. "
            f"Use N well above D (10,000 is the usual choice; at least several times {d}).",
            SmallSampleWarning, stacklevel=2)
    mu = f.mean(dim=0)
    centred = f - mu
    sigma = centred.T @ centred / (n - 1)
    return mu, sigma


def _check_square(m: torch.Tensor, name: str) -> torch.Tensor:
    if m.dim() != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"{name} must be a square matrix [D, D], got {tuple(m.shape)}")
    return m.detach().to("cpu", torch.float64)


def sqrtm_psd(matrix: torch.Tensor) -> torch.Tensor:
    r"""Symmetric square root :math:`S` (:math:`S S = M`) of a symmetric positive semi-definite ``[D, D]``.

    :math:`M = V \operatorname{diag}(\lambda) V^\top` (``eigh``),
    :math:`S = V\operatorname{diag}(\sqrt{\max(\lambda, 0)})V^\top`: eigenvalues that rounding
    made slightly negative are set to 0. Raises ``ValueError`` for a matrix that is not
    symmetric or has clearly negative eigenvalues.
    """
    m = _check_square(matrix, "matrix")
    scale = m.abs().max().clamp_min(torch.finfo(torch.float64).tiny)
    if (m - m.T).abs().max() > 1e-9 * scale:
        raise ValueError("sqrtm_psd needs a symmetric matrix (a covariance)")
    lam, v = torch.linalg.eigh((m + m.T) / 2)
    if lam.min() < -1e-8 * lam.abs().max():
        raise ValueError(f"matrix is not positive semi-definite (eigenvalue {lam.min().item():.3g})")
    return (v * lam.clamp_min(0).sqrt()) @ v.T


def trace_sqrt_product(sigma1: torch.Tensor, sigma2: torch.Tensor) -> float:
    r"""The trace of the square root of the product of two covariances ``[D, D]``.

    .. math::
        \operatorname{Tr}\,(\Sigma_1\Sigma_2)^{1/2}
        = \sum_i \sqrt{\lambda_i(\Sigma_1^{1/2}\Sigma_2\Sigma_1^{1/2})}

    See the module docstring for why the symmetric product has the same eigenvalues.
    """
    s1, s2 = _check_square(sigma1, "sigma1"), _check_square(sigma2, "sigma2")
    if s1.shape != s2.shape:
        raise ValueError(f"covariances of different sizes: {tuple(s1.shape)} and {tuple(s2.shape)}")
    root1 = sqrtm_psd(s1)
    middle = root1 @ s2 @ root1
    lam = torch.linalg.eigvalsh((middle + middle.T) / 2)
    return lam.clamp_min(0).sqrt().sum().item()


def frechet_distance(
    mu1: torch.Tensor, sigma1: torch.Tensor, mu2: torch.Tensor, sigma2: torch.Tensor
) -> float:
    r"""Squared Fréchet distance between two Gaussians (FID when they model features).

    .. math::
        d^2 = \lVert\mu_1-\mu_2\rVert^2 + \operatorname{Tr}\Sigma_1 + \operatorname{Tr}\Sigma_2
              - 2\operatorname{Tr}(\Sigma_1\Sigma_2)^{1/2}

    (Fréchet 1957; Dowson & Landau 1982; used as FID by Heusel et al. 2017). Means
    ``[D]``, covariances ``[D, D]``. Rounding can make the exact value 0 come out as
    -1e-13; the result is clipped at 0, the smallest possible distance.
    """
    if mu1.dim() != 1 or mu2.dim() != 1 or mu1.shape != mu2.shape:
        raise ValueError(f"means must be vectors [D] of the same size, got {tuple(mu1.shape)} "
                         f"and {tuple(mu2.shape)}")
    if sigma1.shape != (len(mu1), len(mu1)) or sigma2.shape != (len(mu2), len(mu2)):
        raise ValueError(f"covariances must be [D, D] with D={len(mu1)}, got {tuple(sigma1.shape)} "
                         f"and {tuple(sigma2.shape)}")
    diff = (mu1.double().cpu() - mu2.double().cpu()).square().sum().item()
    s1, s2 = sigma1.double().cpu(), sigma2.double().cpu()
    value = diff + s1.trace().item() + s2.trace().item() - 2 * trace_sqrt_product(s1, s2)
    return max(value, 0.0)


def fid(real_features: torch.Tensor, fake_features: torch.Tensor) -> float:
    r"""FID between two sets of features ``[N, D]`` and ``[M, D]`` (float64): statistics, then the distance.

    Symmetric in its arguments. In the course's default feature space (the MNIST
    classifier's 128-d :meth:`~course_utils.models.MnistClassifier.embed`) it is not
    comparable with published Inception-v3 FIDs. Heusel et al. (2017).
    """
    real_features, fake_features = feature_pair(real_features, fake_features)
    mu1, s1 = feature_statistics(real_features)
    mu2, s2 = feature_statistics(fake_features)
    return frechet_distance(mu1, s1, mu2, s2)
