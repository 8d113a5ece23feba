"""KID: the kernel and unbiased MMD² against loops, unbiasedness, reproducibility, torchmetrics parity."""

import itertools

import pytest
import torch
from _metrics_helpers import FixedConvFeatures

from course_utils.metrics import mmd
from course_utils.metrics.features import extract_features


def _randn(n, d, seed, shift=0.0):
    return torch.randn(n, d, generator=torch.Generator().manual_seed(seed), dtype=torch.float64) + shift


def test_polynomial_kernel_and_unbiased_mmd_against_loops():
    x, y = _randn(7, 5, 0), _randn(9, 5, 1, shift=0.5)
    k = mmd.polynomial_kernel(x, y)
    for i, j in itertools.product(range(7), range(9)):
        assert k[i, j].item() == pytest.approx((x[i] @ y[j] / 5 + 1).item() ** 3, rel=1e-12)

    def kern(a, b):
        return (float(a @ b) / 5 + 1) ** 3

    m, n = len(x), len(y)
    xx = sum(kern(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
    yy = sum(kern(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
    xy = sum(kern(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
    assert mmd.mmd2_unbiased(x, y) == pytest.approx(xx + yy - 2 * xy, rel=1e-10)


def test_kid_is_unbiased_and_the_biased_estimate_is_not():
    # 400 independent pairs of sets, both from N(0, I_8), 30 samples each. The unbiased
    # estimate must average to 0: we require |mean| < 4 standard errors (a true-zero mean
    # fails this with probability 6e-5). The biased V-statistic, which keeps the i = j
    # terms, must fail the same check: that shows the test can see a bias of this size.
    unbiased, biased = [], []
    for r in range(400):
        x, y = _randn(30, 8, 2 * r), _randn(30, 8, 2 * r + 1)
        unbiased.append(mmd.kid(x, y, subsets=1, subset_size=30, seed=r).mean)
        kxx, kyy, kxy = (mmd.polynomial_kernel(a, b) for a, b in ((x, x), (y, y), (x, y)))
        biased.append((kxx.mean() + kyy.mean() - 2 * kxy.mean()).item())
    for values, is_unbiased in ((unbiased, True), (biased, False)):
        v = torch.tensor(values)
        standard_error = v.std() / len(v) ** 0.5
        assert (v.mean().abs() < 4 * standard_error) == is_unbiased


def test_kid_is_reproducible_and_sees_a_difference():
    x, y, z = _randn(300, 8, 0), _randn(300, 8, 1), _randn(300, 8, 2, shift=0.3)
    a = mmd.kid(x, z, subsets=10, subset_size=100, seed=1)
    assert torch.equal(a.values, mmd.kid(x, z, subsets=10, subset_size=100, seed=1).values)
    assert torch.equal(a.values, mmd.kid(x, z, subsets=10, subset_size=100,
                                         seed=torch.Generator().manual_seed(1)).values)
    assert not torch.equal(a.values, mmd.kid(x, z, subsets=10, subset_size=100, seed=2).values)
    same = mmd.kid(x, y, subsets=10, subset_size=100)
    assert a.values.min() > same.values.max()  # every subset tells the shifted set apart
    mean, std = a  # unpacks like a pair
    assert (mean, std) == (a.mean, a.std) and std == pytest.approx(a.values.std(correction=0).item())
    assert "±" in str(a)
    # default subset size: half the smaller set (up to 1000), so that the subsets differ
    small = mmd.kid(x[:50], z, subsets=3)
    assert small.values.shape == (3,) and small.std > 0
    assert torch.equal(small.values, mmd.kid(x[:50], z, subsets=3, subset_size=25).values)
    with pytest.raises(ValueError, match="subset_size"):
        mmd.kid(x, z, subset_size=301)
    with pytest.raises(ValueError, match="same D"):
        mmd.kid(x, z[:, :4])


def test_kid_agrees_with_torchmetrics_given_the_same_feature_module():
    from torchmetrics.image.kid import KernelInceptionDistance

    net = FixedConvFeatures().eval()
    g = torch.Generator().manual_seed(0)
    real = torch.rand(200, 1, 28, 28, generator=g)
    fake = torch.rand(150, 1, 28, 28, generator=g) ** 2
    fr, ff = extract_features(net, real), extract_features(net, fake)
    with pytest.warns(UserWarning, match="save all extracted features"):
        metric = KernelInceptionDistance(feature=net, subsets=25, subset_size=60)
    metric.update(real, real=True)
    metric.update(fake, real=False)
    # torchmetrics draws its subsets with torch's global generator; seeding it the same
    # way gives the same subsets as our seed argument.
    with torch.random.fork_rng():
        torch.manual_seed(3)
        ref_mean, ref_std = metric.compute()
    ours = mmd.kid(fr, ff, subsets=25, subset_size=60, seed=3)
    assert ours.mean > 0.01
    assert ours.mean == pytest.approx(ref_mean.item(), rel=1e-9)
    assert ours.std == pytest.approx(ref_std.item(), rel=1e-9)
    # one subset holding all of both sets: no randomness at all
    with pytest.warns(UserWarning, match="save all extracted features"):
        metric = KernelInceptionDistance(feature=net, subsets=1, subset_size=150)
    metric.update(real[:150], real=True)
    metric.update(fake, real=False)
    assert mmd.kid(fr[:150], ff, subsets=1, subset_size=150).mean == pytest.approx(
        metric.compute()[0].item(), rel=1e-9)
