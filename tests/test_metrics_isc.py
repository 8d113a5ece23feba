"""The Inception(-style) Score taught in notebook 06 (metrics.isc), against scipy and torchmetrics."""

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.metrics import isc


def _one_hot_cycling(n, c):
    return torch.nn.functional.one_hot(torch.arange(n) % c, c).double()


def test_inception_score_of_uniform_one_hot_predictions_is_the_number_of_classes():
    probs = _one_hot_cycling(1000, 10)
    assert isc.inception_score(probs, splits=1).mean == pytest.approx(10.0, rel=1e-12)
    unshuffled = isc.inception_score(probs, splits=10, seed=None)  # each split has every class 10 times
    assert unshuffled.values.tolist() == pytest.approx([10.0] * 10, rel=1e-12) and unshuffled.std < 1e-12
    # one class only, or no opinion at all: the minimum, 1
    assert isc.inception_score(torch.eye(10)[[3] * 50], splits=5).mean == pytest.approx(1.0)
    assert isc.inception_score(torch.full((50, 10), 0.1), splits=5).mean == pytest.approx(1.0)
    # samples generated class by class: without shuffling each split holds one class (IS 1)
    by_class = torch.eye(10).repeat_interleave(100, dim=0)
    assert isc.inception_score(by_class, splits=10, seed=None).mean == pytest.approx(1.0)
    assert isc.inception_score(by_class, splits=10).mean > 9.0


def test_inception_score_against_scipy_and_torchmetrics():
    import scipy.stats
    from torchmetrics.image.inception import InceptionScore

    g = torch.Generator().manual_seed(1)
    logits = torch.randn(300, 10, generator=g, dtype=torch.float64) * 3
    probs = logits.softmax(1)
    ours = isc.inception_score(probs, splits=3, seed=None)
    for part, value in zip(probs.numpy().reshape(3, 100, 10), ours.values, strict=True):
        marginal = part.mean(0)
        kl = [scipy.stats.entropy(p, marginal) for p in part]  # KL(p(y|x) || p(y)) in nats
        assert value.item() == pytest.approx(float(np.exp(np.mean(kl))), rel=1e-10)

    class Logits(nn.Module):  # torchmetrics applies the softmax to what its module returns
        def forward(self, x):
            return x

    with pytest.warns(UserWarning, match="save all extracted features"):
        metric = InceptionScore(feature=Logits(), splits=3)
    metric.update(logits)
    with torch.random.fork_rng():
        torch.manual_seed(7)  # torchmetrics shuffles with the global generator
        ref_mean, ref_std = metric.compute()
    ours = isc.inception_score(probs, splits=3, seed=7)
    assert ours.mean == pytest.approx(ref_mean.item(), rel=1e-10)
    # torchmetrics reports the sample std (ddof=1); ours is the original code's np.std (ddof=0)
    assert ours.std * (3 / 2) ** 0.5 == pytest.approx(ref_std.item(), rel=1e-10)


def test_inception_score_refuses_logits_and_bad_splits():
    with pytest.raises(ValueError, match="probabilities"):
        isc.inception_score(torch.randn(20, 10))
    with pytest.raises(ValueError, match="splits"):
        isc.inception_score(torch.full((5, 10), 0.1), splits=6)
