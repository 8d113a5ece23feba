r"""Does a generator copy its training data? Nearest training neighbours (introduced in notebook 03).

For each generated sample :math:`g_i` we find the training image closest to it in
Euclidean (L2) distance, :math:`d(g_i) = \min_j \lVert g_i - x_j \rVert_2`, over pixels or over
features (any ``[N, ...]`` tensors). A generator that memorised its training set
produces samples whose nearest neighbour is almost identical to them; one that
generalises produces samples about as far from the training set as real, unseen test
digits are.

**Memorisation rate** (notebook 06). Real test images :math:`t_j`, never trained on, give
the reference: their distances :math:`d(t_j)` to the training set show how close a *new*
image from the data distribution typically comes to it. With the :math:`q`-quantile
:math:`\tau_q` of those distances (default :math:`q = 0.05`),

.. math::

    \text{memorisation rate} = \frac1N \sum_{i=1}^N \mathbb 1\bigl[d(g_i) < \tau_q\bigr],

the share of samples closer to the training set than 95 % of real test images are.
A generator that draws new images from the data distribution, independently of the
particular training images, has a rate of about :math:`q`; a rate well above :math:`q`
means that samples sit unusually close to training images, i.e. copies.

The pairwise version, in the spirit of Meehan, Chaudhuri & Dasgupta (2020), *A
Non-Parametric Test to Detect Data-Copying in Generative Models* (AISTATS), is
:math:`P\bigl(d(g) < d(t)\bigr)` for a random sample and a random test image (ties count
1/2, the Mann-Whitney statistic divided by :math:`NM`): 0.5 without copying, above 0.5 when
samples are closer to the training set than new real images (copying), below 0.5 when
they are farther away (samples off the data distribution).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .distances import batched_rows, flatten_rows, pairwise_sq_distances


@torch.no_grad()
def nearest_neighbours(
    queries: torch.Tensor, references: torch.Tensor, batch_size: int = 1024
) -> tuple[torch.Tensor, torch.Tensor]:
    """L2 distance to, and index of, the nearest reference for each query.

    Args:
        queries: ``[N, ...]`` images (e.g. generated samples) or features, any pixel range.
        references: ``[M, ...]`` of the same shape and pixel range (e.g. the training set).
        batch_size: queries per distance computation (the result does not depend on it).

    Returns:
        ``distances`` ``[N]`` (float64) and ``indices`` ``[N]`` (int64) into ``references``.
        An exact copy of a reference is at distance exactly 0.
    """
    if queries.shape[1:] != references.shape[1:]:
        raise ValueError(f"queries {tuple(queries.shape[1:])} and references "
                         f"{tuple(references.shape[1:])} must have the same image shape")
    q, refs = flatten_rows(queries, "queries"), flatten_rows(references, "references")
    dists, idxs = [], []
    for rows in batched_rows(len(q), batch_size):
        best, idx = pairwise_sq_distances(q[rows], refs).min(dim=1)
        dists.append(best.sqrt())
        idxs.append(idx)
    return torch.cat(dists), torch.cat(idxs)


def memorisation_rate(
    sample_distances: torch.Tensor, test_distances: torch.Tensor, quantile: float = 0.05
) -> float:
    r"""Share of samples nearer the training set than the ``quantile`` of real test images (module docstring).

    Args:
        sample_distances: ``[N]`` nearest-training-image distance of each generated sample.
        test_distances: ``[M]`` nearest-training-image distance of each real test image
            (images not in the training set), in the same space.
        quantile: :math:`q` in (0, 1); the threshold :math:`\tau_q` is the empirical
            ``quantile`` of ``test_distances`` (linear interpolation, as ``numpy.quantile``).

    Returns:
        :math:`\frac1N\sum_i 1[d(g_i) < \tau_q]`; about ``quantile`` for a generator that does not copy.
    """
    if sample_distances.dim() != 1 or test_distances.dim() != 1 or not len(sample_distances) \
            or not len(test_distances):
        raise ValueError("expected non-empty distance vectors [N] and [M]")
    if not 0 < quantile < 1:
        raise ValueError(f"quantile must be in (0, 1), got {quantile}")
    tau = torch.quantile(test_distances.double(), quantile)
    return (sample_distances.double() < tau).double().mean().item()


def closer_than_test_probability(sample_distances: torch.Tensor, test_distances: torch.Tensor) -> float:
    r""":math:`P(d(g) < d(t)) + \tfrac12 P(d(g) = d(t))` over all sample/test pairs: 0.5 without copying.

    ``sample_distances`` ``[N]`` and ``test_distances`` ``[M]`` as in :func:`memorisation_rate`.
    Computed exactly by sorting, in :math:`O((N+M)\log M)`.
    """
    if sample_distances.dim() != 1 or test_distances.dim() != 1 or not len(sample_distances) \
            or not len(test_distances):
        raise ValueError("expected non-empty distance vectors [N] and [M]")
    t = test_distances.double().sort().values
    g = sample_distances.double()
    above = torch.searchsorted(t, g, right=True)                 # test images with d(t) <= d(g)
    farther = (len(t) - above).double()                            # ... and with d(t) > d(g)
    ties = (above - torch.searchsorted(t, g, right=False)).double()  # d(t) == d(g)
    return ((farther + 0.5 * ties).sum() / (len(g) * len(t))).item()


@dataclass(frozen=True)
class MemorisationResult:
    """What :func:`memorisation_check` found (all distances float64, in the space given).

    Attributes:
        rate: :func:`memorisation_rate` of the samples.
        quantile: the :math:`q` used; ``rate`` is about ``quantile`` without copying.
        threshold: :math:`\\tau_q`, the ``quantile`` of the test images' distances.
        closer_than_test: :func:`closer_than_test_probability` (0.5 without copying).
        sample_distances: ``[N]`` each sample's distance to its nearest training image.
        sample_neighbours: ``[N]`` the index of that training image (to show pairs).
        test_distances: ``[M]`` each test image's distance to its nearest training image.
    """

    rate: float
    quantile: float
    threshold: float
    closer_than_test: float
    sample_distances: torch.Tensor
    sample_neighbours: torch.Tensor
    test_distances: torch.Tensor

    def __str__(self) -> str:
        return (f"memorisation rate {100 * self.rate:.1f}% of samples closer to the training set than "
                f"{100 * (1 - self.quantile):.0f}% of real test images (about {100 * self.quantile:.0f}% "
                f"without copying); P(sample closer than a test image) = {self.closer_than_test:.3f} "
                "(0.5 without copying)")


def memorisation_check(
    samples: torch.Tensor,
    train: torch.Tensor,
    test: torch.Tensor,
    *,
    quantile: float = 0.05,
    batch_size: int = 1024,
) -> MemorisationResult:
    """Nearest training neighbours of ``samples`` and of real ``test`` images, and the memorisation rate.

    Args:
        samples: ``[N, ...]`` generated images (or their features).
        train: ``[M, ...]`` the generator's training images, same shape and range.
        test: ``[K, ...]`` real images *not* in ``train``, same shape and range.
        quantile: see :func:`memorisation_rate`.
        batch_size: queries per distance computation (the result does not depend on it).
    """
    if not samples.shape[1:] == train.shape[1:] == test.shape[1:]:
        raise ValueError(f"samples {tuple(samples.shape[1:])}, train {tuple(train.shape[1:])} and test "
                         f"{tuple(test.shape[1:])} must have the same image shape (and pixel range)")
    d_samples, idx = nearest_neighbours(samples, train, batch_size)
    d_test, _ = nearest_neighbours(test, train, batch_size)
    return MemorisationResult(
        rate=memorisation_rate(d_samples, d_test, quantile),
        quantile=quantile,
        threshold=torch.quantile(d_test, quantile).item(),
        closer_than_test=closer_than_test_probability(d_samples, d_test),
        sample_distances=d_samples,
        sample_neighbours=idx,
        test_distances=d_test,
    )
