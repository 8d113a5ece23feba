r"""Euclidean distances between rows of two sets, batched, in float64 (shared by the k-NN metrics).

:func:`pairwise_distances` uses
:math:`\lVert a - b\rVert^2 = \lVert a\rVert^2 - 2\,a\cdot b + \lVert b\rVert^2`, one matrix product
per batch. In float64 the rounding error of that expansion is about
:math:`10^{-16}\,(\lVert a\rVert^2 + \lVert b\rVert^2)`; squared distances below
:math:`10^{-12}\,(\lVert a\rVert^2 + \max_j \lVert b_j\rVert^2)` are set to exactly 0 so that a copy of
a point is at distance 0 from it (memorisation checks and the k-NN radii of precision/recall
rely on that), not at a rounding error of 1e-7.

:func:`nearest_neighbours` finds, for each query, the closest reference in blocks of rows: the
search behind the memorisation check (notebooks 03 and 06).
"""

from __future__ import annotations

import torch

_SNAP = 1e-12  # relative size below which a squared distance is rounding error


def flatten_rows(x: torch.Tensor, name: str) -> torch.Tensor:
    """``[N, ...]`` -> ``[N, D]`` float64 on the CPU, with a clear error for empty input."""
    if x.dim() < 2 or len(x) == 0:
        raise ValueError(f"{name} must have shape [N, ...] with N >= 1, got {tuple(x.shape)}")
    return x.detach().reshape(len(x), -1).to("cpu", torch.float64)


def feature_pair(real: torch.Tensor, fake: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Check two feature sets ``[N, D]`` and ``[M, D]`` and return them as float64 on the CPU."""
    if real.dim() != 2 or fake.dim() != 2 or real.shape[1] != fake.shape[1]:
        raise ValueError(f"expected features [N, D] and [M, D] with the same D, got "
                         f"{tuple(real.shape)} and {tuple(fake.shape)}; "
                         "use extract_features(...) to get them from images")
    return flatten_rows(real, "real_features"), flatten_rows(fake, "fake_features")


def pairwise_sq_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distances ``[N, M]`` (float64) between the rows of ``a [N, D]`` and ``b [M, D]``."""
    if a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"expected [N, D] and [M, D], got {tuple(a.shape)} and {tuple(b.shape)}")
    a, b = a.double(), b.double()
    a2, b2 = (a * a).sum(dim=1, keepdim=True), (b * b).sum(dim=1)
    d2 = torch.addmm(b2[None], a, b.T, alpha=-2).add_(a2)  # |a|^2 - 2 a.b + |b|^2, in place
    return d2.masked_fill_(d2 <= _SNAP * (a2 + b2.max()), 0.0)  # rounding error -> exactly 0


def pairwise_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Euclidean distances ``[N, M]`` (float64) between the rows of ``a [N, D]`` and ``b [M, D]``."""
    return pairwise_sq_distances(a, b).sqrt_()


def batched_rows(n: int, batch_size: int):
    """``slice`` objects covering ``range(n)`` in steps of ``batch_size``."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    return (slice(s, min(s + batch_size, n)) for s in range(0, n, batch_size))


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
