"""Precision and recall (Kynkäänniemi et al. 2019) against a brute-force reference, and their meaning."""

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cdist

from course_utils.metrics import manifold


def _randn(n, d, seed, shift=0.0, scale=1.0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g, dtype=torch.float64) * scale + shift


def _reference(real, fake, k):
    """The definitions of the paper, written directly with scipy's distances."""
    r, f = real.numpy(), fake.numpy()
    radius_r = np.sort(cdist(r, r), axis=1)[:, k]  # column 0 is the point itself
    radius_f = np.sort(cdist(f, f), axis=1)[:, k]
    precision = np.mean([(cdist(x[None], r)[0] <= radius_r).any() for x in f])
    recall = np.mean([(cdist(x[None], f)[0] <= radius_f).any() for x in r])
    return precision, recall


@pytest.mark.parametrize("k", [1, 3, 5])
def test_precision_recall_match_a_direct_implementation(k):
    real, fake = _randn(120, 6, 0), _randn(90, 6, 1, shift=0.5, scale=0.8)
    p, r = manifold.precision_recall(real, fake, k=k)
    ref_p, ref_r = _reference(real, fake, k)
    assert (p, r) == (pytest.approx(ref_p, abs=1e-12), pytest.approx(ref_r, abs=1e-12))
    assert 0.2 < p < 1 and 0.2 < r < 1  # a case where both are informative
    radii = manifold.knn_radii(real, k)
    torch.testing.assert_close(radii, torch.from_numpy(np.sort(cdist(real.numpy(), real.numpy()), 1)[:, k]))
    for batch_size in (1, 7):  # the result does not depend on the block size
        torch.testing.assert_close(manifold.knn_radii(real, k, batch_size=batch_size), radii,
                                   rtol=1e-12, atol=0)  # matrix products differ in the last bit
        assert tuple(manifold.precision_recall(real, fake, k=k, batch_size=batch_size)) == (p, r)


def test_a_set_against_itself_scores_one_one_even_with_duplicates():
    x = _randn(200, 10, 2)
    x = torch.cat([x, x[:20]])  # exact copies make some k-NN radii zero
    result = manifold.precision_recall(x, x)
    assert (result.precision, result.recall) == (1.0, 1.0)
    assert str(result) == "precision 1.000, recall 1.000 (k=3)"


def test_precision_measures_fidelity_and_recall_diversity():
    real = _randn(1000, 8, 3)
    # a "truncated" generator: only the most typical real points -> perfect precision, poor recall
    typical = real[real.norm(dim=1) < real.norm(dim=1).median()]
    p, r = manifold.precision_recall(real, typical)
    assert p == 1.0 and r < 0.8
    # a generator whose samples drift away from the data: both fall as the shift grows
    scores = [manifold.precision_recall(real, _randn(1000, 8, 4, shift=s)) for s in (0.0, 0.5, 1.0)]
    assert scores[0].precision > scores[1].precision > scores[2].precision
    assert scores[0].recall > scores[1].recall > scores[2].recall
    # two samples of one distribution: high, but below 1 (the k-NN balls miss some points)
    assert scores[0].precision > 0.85 and scores[0].recall > 0.85


def test_bad_arguments_are_clear_errors():
    x = _randn(5, 3, 0)
    with pytest.raises(ValueError, match="k must be between 1 and N-1=4"):
        manifold.knn_radii(x, k=5)
    with pytest.raises(ValueError, match="same D"):
        manifold.precision_recall(x, _randn(5, 4, 0))
    with pytest.raises(ValueError, match="radii"):
        manifold.manifold_membership(x, x, torch.ones(3))
