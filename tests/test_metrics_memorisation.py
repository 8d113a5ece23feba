"""Nearest training neighbours and the memorisation rate, against loops and numpy."""

import numpy as np
import pytest
import torch

from course_utils.metrics import memorisation as mm
from course_utils.metrics.memorisation import nearest_neighbours


def test_nearest_neighbours_against_a_loop():
    gen = torch.Generator().manual_seed(0)
    refs = torch.rand(50, 1, 6, 6, generator=gen)
    queries = torch.cat([refs[[3, 17]] + 1e-3, torch.rand(7, 1, 6, 6, generator=gen)])
    d, i = nearest_neighbours(queries, refs, batch_size=4)
    for k, q in enumerate(queries):
        all_d = ((refs - q) ** 2).flatten(1).sum(1).double().sqrt()
        assert i[k] == all_d.argmin()
        torch.testing.assert_close(d[k], all_d.min(), rtol=1e-5, atol=1e-6)
    assert i[:2].tolist() == [3, 17]
    d_all, i_all = nearest_neighbours(queries, refs, batch_size=1000)
    assert torch.equal(i_all, i) and torch.allclose(d_all, d)


def test_shape_mismatch_is_a_clear_error():
    with pytest.raises(ValueError, match="same image shape"):
        nearest_neighbours(torch.rand(2, 1, 28, 28), torch.rand(3, 1, 14, 14))


# ------------------------------------------------------------ memorisation rate (notebook 06)

def test_memorisation_rate_and_pairwise_probability_against_direct_computations():
    g = torch.Generator().manual_seed(1)
    d_samples = torch.rand(200, generator=g, dtype=torch.float64)
    d_test = torch.rand(90, generator=g, dtype=torch.float64)
    d_samples[:5] = d_test[:5]  # some ties
    tau = np.quantile(d_test.numpy(), 0.1)
    assert mm.memorisation_rate(d_samples, d_test, 0.1) == pytest.approx(np.mean(d_samples.numpy() < tau))
    pairs = [(1.0 if s < t else 0.5 if s == t else 0.0) for s in d_samples.tolist() for t in d_test.tolist()]
    assert mm.closer_than_test_probability(d_samples, d_test) == pytest.approx(np.mean(pairs), rel=1e-12)
    with pytest.raises(ValueError, match="quantile"):
        mm.memorisation_rate(d_samples, d_test, 1.0)


def test_memorisation_check_tells_copies_from_new_samples():
    g = torch.Generator().manual_seed(2)
    train = torch.randn(2000, 10, generator=g)
    test = torch.randn(1000, 10, generator=g)
    new = torch.randn(1000, 10, generator=g)  # a "generator" that samples the true distribution
    copies = train[:300] + 0.01 * torch.randn(300, 10, generator=g)  # one that copies
    ok = mm.memorisation_check(new, train, test)
    bad = mm.memorisation_check(copies, train, test)
    # new samples: about q = 5 % (binomial standard error 0.7 % for 1000 samples, plus the
    # uncertainty of the 5 % quantile of 1000 test distances: 3 points is > 3 standard errors)
    assert abs(ok.rate - 0.05) < 0.03 and abs(ok.closer_than_test - 0.5) < 0.05
    assert bad.rate == 1.0 and bad.closer_than_test > 0.99
    assert torch.equal(bad.sample_neighbours, torch.arange(300))
    assert "memorisation rate 100.0%" in str(bad)
    exact = mm.memorisation_check(train[:10], train, test)  # exact copies are at distance exactly 0
    assert exact.sample_distances.eq(0).all()
    with pytest.raises(ValueError, match="same image shape"):
        mm.memorisation_check(new, train, test[:, :5])
