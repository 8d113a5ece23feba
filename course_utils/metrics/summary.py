"""All feature-space scores of one generator at once: a row of notebook 06's comparison table.

Glue, not a formula: it calls FID, KID and precision/recall as notebook 06 teaches them
(the generated modules :mod:`~course_utils.metrics.frechet`, :mod:`~course_utils.metrics.mmd`
and :mod:`~course_utils.metrics.manifold`), for notebooks that want the whole row in one call.
"""

from __future__ import annotations

import torch

from .frechet import fid
from .manifold import precision_recall
from .mmd import kid


def distribution_metrics(
    real_features: torch.Tensor,
    fake_features: torch.Tensor,
    *,
    k: int = 3,
    kid_subsets: int = 100,
    kid_subset_size: int | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """FID, KID (mean and std), precision and recall of ``fake_features`` against ``real_features``.

    Args:
        real_features: ``[N, D]`` from :func:`~course_utils.metrics.features.extract_features`.
        fake_features: ``[M, D]``, in the same feature space.
        k: neighbours for precision/recall (:func:`~course_utils.metrics.manifold.precision_recall`).
        kid_subsets, kid_subset_size, seed: see :func:`~course_utils.metrics.mmd.kid`.

    Returns:
        ``{"fid", "kid", "kid_std", "precision", "recall", "n_real", "n_fake"}``. FID and KID
        depend on the sample sizes (FID strongly): compare rows computed at equal sizes.
    """
    k_est = kid(real_features, fake_features, subsets=kid_subsets, subset_size=kid_subset_size, seed=seed)
    pr = precision_recall(real_features, fake_features, k=k)
    return {"fid": fid(real_features, fake_features), "kid": k_est.mean, "kid_std": k_est.std,
            "precision": pr.precision, "recall": pr.recall,
            "n_real": len(real_features), "n_fake": len(fake_features)}
