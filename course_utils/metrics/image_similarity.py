r"""Structural similarity (SSIM) between two images (introduced in notebook 06 for style transfer).

How much of the content photo's *structure* survives style transfer? Wang, Bovik,
Sheikh & Simoncelli (2004), *Image Quality Assessment: From Error Visibility to
Structural Similarity* (IEEE TIP 13(4)), compare local means :math:`\mu`, variances
:math:`\sigma^2` and the covariance :math:`\sigma_{xy}` of two images, all weighted by a
Gaussian window :math:`w` (:math:`11\times11`, :math:`\sigma = 1.5`, normalised to sum 1):

.. math::

    \mathrm{SSIM}(x, y) = \frac{(2\mu_x\mu_y + C_1)\,(2\sigma_{xy} + C_2)}
                               {(\mu_x^2 + \mu_y^2 + C_1)\,(\sigma_x^2 + \sigma_y^2 + C_2)},
    \qquad C_1 = (K_1 L)^2,\ C_2 = (K_2 L)^2,

with :math:`K_1 = 0.01`, :math:`K_2 = 0.03` and :math:`L` the dynamic range (1 for images in
[0, 1]). The map is computed wherever the window fits inside the image and averaged
(per channel, then over channels: the mean SSIM). 1 means identical; it drops when
edges and textures change, much less when only brightness changes a little.

The same as ``skimage.metrics.structural_similarity(x, y, gaussian_weights=True,
sigma=1.5, use_sample_covariance=False, data_range=1)``; unlike Wang's MATLAB code
it does not downsample images larger than 256 pixels first.

Content loss and style (Gram) distance, the other style-transfer measures, live with
the style-transfer code in ``course_utils.style``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..ranges import to_unit_range


def gaussian_window(sigma: float = 1.5, radius: int | None = None) -> torch.Tensor:
    """1-D Gaussian weights ``[2 * radius + 1]`` (float64) summing to 1.

    ``radius`` defaults to ``int(3.5 * sigma + 0.5)`` (5 for sigma 1.5: Wang et al.'s
    11-tap window, and scikit-image's ``truncate=3.5``).
    """
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    radius = int(3.5 * sigma + 0.5) if radius is None else radius
    t = torch.arange(-radius, radius + 1, dtype=torch.float64)
    w = torch.exp(-0.5 * (t / sigma) ** 2)
    return w / w.sum()


def _blur(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Separable 'valid' Gaussian filtering of ``[B, C, H, W]`` with 1-D weights ``w``."""
    c = x.shape[1]
    x = F.conv2d(x, w.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)   # along W
    return F.conv2d(x, w.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)  # along H


def ssim_map(
    x: torch.Tensor,
    y: torch.Tensor,
    *,
    value_range: tuple[float, float] = (0.0, 1.0),
    sigma: float = 1.5,
    k1: float = 0.01,
    k2: float = 0.03,
) -> torch.Tensor:
    """Local SSIM ``[B, C, H - 2r, W - 2r]`` (float64, r = window radius) of images ``[B, C, H, W]``.

    Args:
        x, y: images of the same shape in ``value_range`` (mapped to [0, 1], so :math:`L = 1`).
        value_range: their pixel range, e.g. ``(-1, 1)``; not VGG-normalised tensors.
        sigma: width of the Gaussian window (1.5 in the paper).
        k1, k2: the stabilising constants (0.01 and 0.03 in the paper).
    """
    if x.shape != y.shape or x.dim() != 4:
        raise ValueError(f"expected two images [B, C, H, W] of the same shape, got {tuple(x.shape)} and "
                         f"{tuple(y.shape)} (use img[None] for a single image)")
    w = gaussian_window(sigma)
    if min(x.shape[-2:]) < len(w):
        raise ValueError(f"images of {tuple(x.shape[-2:])} pixels are smaller than the "
                         f"{len(w)}x{len(w)} SSIM window")
    x = to_unit_range(x.detach().cpu(), value_range).double()
    y = to_unit_range(y.detach().cpu(), value_range).double()
    b = len(x)
    stats = _blur(torch.cat([x, y, x * x, y * y, x * y]), w)                # all local means at once
    mu_x, mu_y, e_xx, e_yy, e_xy = stats.split(b)
    var_x, var_y = e_xx - mu_x**2, e_yy - mu_y**2  # sigma_x^2, sigma_y^2
    cov_xy = e_xy - mu_x * mu_y                    # sigma_xy
    c1, c2 = k1**2, k2**2                                                   # (K L)^2 with L = 1
    return ((2 * mu_x * mu_y + c1) * (2 * cov_xy + c2)) / ((mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2))


def ssim(x: torch.Tensor, y: torch.Tensor, **kwargs) -> torch.Tensor:
    """Mean SSIM ``[B]`` (float64) of each image pair ``[B, C, H, W]``: :func:`ssim_map` averaged.

    Wang et al. (2004); keyword arguments as in :func:`ssim_map`.
    """
    return ssim_map(x, y, **kwargs).mean(dim=(1, 2, 3))


