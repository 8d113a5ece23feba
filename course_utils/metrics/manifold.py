r"""Precision and recall of a generator, from k-nearest-neighbour balls (introduced in notebook 06).

One number such as FID mixes two different failures: samples that do not look real
(low *precision*, fidelity) and real variety that the generator never produces (low
*recall*, diversity, e.g. mode collapse). Kynkäänniemi, Karras, Laine, Lehtinen & Aila
(2019), *Improved Precision and Recall Metric for Assessing Generative Models*
(NeurIPS), separate them by estimating each distribution's support in feature space:

* The **manifold** of a set :math:`\Phi` is the union of balls around its points, each
  with radius the distance to its :math:`k`-th nearest neighbour in :math:`\Phi` (itself
  excluded): :math:`r_k(\phi) = \lVert \phi - \mathrm{NN}_k(\phi, \Phi)\rVert`.
* A point :math:`x` is **in** that manifold if it lies in at least one ball:
  :math:`f(x, \Phi) = 1 \iff \exists\, \phi\in\Phi:\ \lVert x-\phi\rVert \le r_k(\phi)`.
* :math:`\mathrm{precision} = \frac{1}{|\Phi_g|}\sum_{\phi_g} f(\phi_g, \Phi_r)`: the share of generated
  samples inside the real manifold.
  :math:`\mathrm{recall} = \frac{1}{|\Phi_r|}\sum_{\phi_r} f(\phi_r, \Phi_g)`: the share of real samples
  inside the generated manifold.

The paper uses :math:`k = 3` and 50,000 Inception/VGG features per set; with fewer
samples the balls are larger, so compare only at equal :math:`N` and :math:`k`. Every point
lies in its own ball, so a set against itself scores (1, 1).

Layers: features -> :func:`knn_radii` -> :func:`manifold_membership` -> :func:`precision_recall`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .distances import batched_rows, feature_pair, flatten_rows, pairwise_sq_distances


@dataclass(frozen=True)
class PrecisionRecall:
    """Precision and recall (each in [0, 1]) after Kynkäänniemi et al. (2019), with their ``k``."""

    precision: float
    recall: float
    k: int

    def __iter__(self):  # allows ``precision, recall = precision_recall(real, fake)``
        return iter((self.precision, self.recall))

    def __str__(self) -> str:
        return f"precision {self.precision:.3f}, recall {self.recall:.3f} (k={self.k})"


def knn_radii(features: torch.Tensor, k: int = 3, batch_size: int = 1000) -> torch.Tensor:
    r"""Distance ``[N]`` (float64) from each row of ``features`` ``[N, D]`` to its ``k``-th nearest other row.

    :math:`r_k(\phi_i)`: the :math:`(k+1)`-th smallest of :math:`\lVert\phi_i-\phi_j\rVert` over all
    :math:`j` (the smallest is :math:`\phi_i` itself, at distance 0), as in the reference
    code. ``batch_size`` rows at a time; the result does not depend on it.
    """
    f = flatten_rows(features, "features")
    if not 1 <= k < len(f):
        raise ValueError(f"k must be between 1 and N-1={len(f) - 1}, got {k}")
    radii2 = torch.empty(len(f), dtype=torch.float64)
    for rows in batched_rows(len(f), batch_size):  # the k+1 smallest squared distances of each row
        radii2[rows] = pairwise_sq_distances(f[rows], f).topk(k + 1, dim=1, largest=False).values[:, -1]
    return radii2.sqrt()


def manifold_membership(
    queries: torch.Tensor, support: torch.Tensor, radii: torch.Tensor, batch_size: int = 1000
) -> torch.Tensor:
    r""":math:`f(q, \Phi)` for each query: is it within :math:`r_k(\phi)` of some support point :math:`\phi`?

    Args:
        queries: ``[N, D]``.
        support: ``[M, D]``, the set whose manifold is tested.
        radii: ``[M]``, the support's :func:`knn_radii`.
        batch_size: queries at a time (the result does not depend on it).

    Returns:
        bool ``[N]``.
    """
    q, s = flatten_rows(queries, "queries"), flatten_rows(support, "support")
    if q.shape[1] != s.shape[1] or radii.shape != (len(s),):
        raise ValueError(f"expected queries [N, D], support [M, D] and radii [M], got {tuple(q.shape)}, "
                         f"{tuple(s.shape)} and {tuple(radii.shape)}")
    r2 = radii.to("cpu", torch.float64).square()[None]
    inside = torch.empty(len(q), dtype=torch.bool)
    for rows in batched_rows(len(q), batch_size):  # squared distances against squared radii
        inside[rows] = (pairwise_sq_distances(q[rows], s) <= r2).any(dim=1)
    return inside


def precision_recall(
    real_features: torch.Tensor, fake_features: torch.Tensor, *, k: int = 3, batch_size: int = 1000
) -> PrecisionRecall:
    """Improved precision and recall (Kynkäänniemi et al. 2019): fake ``[M, D]`` vs real ``[N, D]`` features.

    Precision: share of fake samples in the real manifold. Recall: share of real samples
    in the fake manifold. See the module docstring for the definitions. Cost: about
    :math:`(N + M)^2 D` operations, in blocks of ``batch_size`` rows (memory
    ``batch_size * max(N, M) * 8`` bytes).
    """
    real, fake = feature_pair(real_features, fake_features)
    real_radii = knn_radii(real, k, batch_size)
    fake_radii = knn_radii(fake, k, batch_size)
    precision = manifold_membership(fake, real, real_radii, batch_size).double().mean().item()
    recall = manifold_membership(real, fake, fake_radii, batch_size).double().mean().item()
    return PrecisionRecall(precision, recall, k)
