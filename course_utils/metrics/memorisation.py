r"""Does a generator copy its training data? Nearest neighbours in pixel space (introduced in notebook 03).

For each generated sample :math:`g_i` we find the training image closest to it in
Euclidean (L2) distance over pixels, :math:`\min_j \lVert g_i - x_j \rVert_2`. A
generator that memorised its training set produces samples whose nearest
neighbour is almost identical to them; one that generalises produces samples
about as far from the training set as real, unseen test digits are.
"""

from __future__ import annotations

import torch


@torch.no_grad()
def nearest_neighbours(
    queries: torch.Tensor, references: torch.Tensor, batch_size: int = 1024
) -> tuple[torch.Tensor, torch.Tensor]:
    """L2 distance to, and index of, the nearest reference for each query.

    Args:
        queries: ``[N, ...]`` images (e.g. generated samples), any pixel range.
        references: ``[M, ...]`` images of the same shape and pixel range (e.g. the
            training set).
        batch_size: queries per distance computation (the result does not depend on it).

    Returns:
        ``distances`` ``[N]`` (float64) and ``indices`` ``[N]`` (int64) into ``references``.
    """
    if queries.shape[1:] != references.shape[1:]:
        raise ValueError(f"queries {tuple(queries.shape[1:])} and references "
                         f"{tuple(references.shape[1:])} must have the same image shape")
    refs = references.reshape(len(references), -1).double()
    ref_sq = (refs * refs).sum(dim=1)
    dists, idxs = [], []
    for start in range(0, len(queries), batch_size):
        q = queries[start:start + batch_size].reshape(-1, refs.shape[1]).double()
        # ||q - r||^2 = ||q||^2 - 2 q.r + ||r||^2, in float64 so that cancellation stays harmless
        d2 = (q * q).sum(dim=1, keepdim=True) - 2 * q @ refs.T + ref_sq[None]
        best, idx = d2.min(dim=1)
        dists.append(best.clamp_min(0).sqrt())
        idxs.append(idx)
    return torch.cat(dists), torch.cat(idxs)
