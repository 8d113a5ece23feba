"""The metrics on real MNIST digits: real vs real scores better than real vs blurred or noisy digits.

Real vs real is two halves of the data folder's test split (1,000 digits each). The
distorted sets are the second half blurred (Gaussian, sigma 1 pixel) or with Gaussian
noise (std 0.3, clipped). Two feature spaces:

* ``trained``: a small CNN trained here for one epoch (about a second on one core) on
  4,000 digits of the *train* split, so the test digits are unseen: like the course
  classifier's ``embed``, its features know what digits look like. It is a fair test
  because nothing about the distortions went into training it.
* ``random``: the same CNN untrained, with fixed random weights. Random convolutions
  respond to edges and texture, so they must also see blur and noise; this shows the
  ordering does not come from what a classifier learned.
"""

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.transforms.v2.functional import gaussian_blur

import course_utils as cu
from course_utils import metrics as M


def _small_cnn() -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(1, 16, 5, stride=2, padding=2), nn.ReLU(),    # 28x28 -> 14x14
        nn.Conv2d(16, 32, 5, stride=2, padding=2), nn.ReLU(),   # -> 7x7
        nn.Flatten(), nn.Linear(32 * 7 * 7, 64), nn.ReLU(),     # -> 64 features
        nn.Linear(64, 10),                                      # -> logits
    )


@pytest.fixture(scope="module")
def digits(session_settings):
    settings = session_settings
    train_x, train_y = cu.mnist_tensors(settings, train=True, limit=4000)
    test_x, _ = cu.mnist_tensors(settings, train=False)
    # a random split: consecutive MNIST digits often share a writer, so the first and the
    # second half of the file are *not* two samples of one distribution
    order = torch.randperm(len(test_x), generator=torch.Generator().manual_seed(0))
    return train_x, train_y, test_x[order[:1000]], test_x[order[1000:2000]]


@pytest.fixture(scope="module")
def networks(digits):
    train_x, train_y = digits[0], digits[1]
    with torch.random.fork_rng():
        torch.manual_seed(0)
        random_net, trained = _small_cnn(), _small_cnn()
        optimizer = torch.optim.Adam(trained.parameters(), lr=3e-3)
        for start in range(0, len(train_x), 64):
            loss = F.cross_entropy(trained(train_x[start:start + 64]), train_y[start:start + 64])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    return {"trained": trained.eval(), "random": random_net.eval()}


def _distorted(x, kind):
    if kind == "blurred":
        return gaussian_blur(x, kernel_size=[7, 7], sigma=[1.0, 1.0])
    g = torch.Generator().manual_seed(0)
    return (x + 0.3 * torch.randn(x.shape, generator=g)).clamp(0, 1)


@pytest.mark.parametrize("space", ["trained", "random"])
def test_real_vs_real_beats_real_vs_distorted(digits, networks, space):
    _, _, half_a, half_b = digits
    features = nn.Sequential(*list(networks[space])[:-1])  # the 64-d penultimate layer
    fa, fb = M.extract_features(features, half_a), M.extract_features(features, half_b)
    baseline = M.distribution_metrics(fa, fb, kid_subsets=20, kid_subset_size=500)
    kid_baseline = M.kid(fa, fb, subsets=20, subset_size=500, seed=0)
    for kind in ("blurred", "noisy"):
        fd = M.extract_features(features, _distorted(half_b, kind))
        worse = M.distribution_metrics(fa, fd, kid_subsets=20, kid_subset_size=500)
        print(f"\n{space} features, real vs {kind}: ", {k: f"{v:.4g}" for k, v in worse.items()},
              "\nreal vs real:", {k: f"{v:.4g}" for k, v in baseline.items()})
        assert worse["fid"] > 3 * baseline["fid"]
        # KID, subset by subset: the same seed draws the same real subsets (and the same
        # indices into half B and into its distorted copy), so the comparison is paired
        kid_worse = M.kid(fa, fd, subsets=20, subset_size=500, seed=0)
        assert (kid_worse.values > kid_baseline.values).all()
        assert worse["precision"] < baseline["precision"] - 0.1 or worse["recall"] < baseline["recall"] - 0.1
    assert abs(baseline["kid"]) < 3 * baseline["kid_std"]  # two samples of one distribution: KID ~ 0
    assert baseline["precision"] > 0.75 and baseline["recall"] > 0.75


def test_inception_style_score_of_real_digits(digits, networks):
    _, _, half_a, _ = digits
    classifier = networks["trained"]
    real = M.inception_score(M.class_probabilities(classifier, half_a), splits=10)
    noisy = M.inception_score(M.class_probabilities(classifier, _distorted(half_a, "noisy")), splits=10)
    print("IS real", real, "noisy", noisy)
    assert real.mean > 5 and real.values.min() > noisy.values.max()  # (10 is the maximum)


def test_memorisation_check_on_real_digits(digits):
    train_x, _, half_a, half_b = digits
    copies = M.memorisation_check(train_x[:200], train_x, half_a)
    new = M.memorisation_check(half_b, train_x, half_a)
    print(copies, new, sep="\n")
    assert copies.rate == 1.0 and copies.sample_distances.eq(0).all()
    # unseen real digits are "new samples": about 5 % (binomial standard error 0.7 %)
    assert abs(new.rate - 0.05) < 0.03 and abs(new.closer_than_test - 0.5) < 0.05
