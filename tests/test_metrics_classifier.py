"""Classifier-based measures of generated digits, against direct computations."""

import math

import pytest
import torch
from torch import nn

from course_utils.metrics import classifier as mc


class Fixed(nn.Module):
    """A 'classifier' whose logits are the mean pixel value times a fixed matrix (for exact references)."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.linspace(-2, 2, 10))

    def forward(self, x01):
        return x01.mean(dim=(1, 2, 3))[:, None] * self.w[None] * 5


def test_class_probabilities_match_softmax_and_do_not_depend_on_batch_size():
    m = Fixed()
    x = torch.rand(37, 1, 28, 28)
    ref = m(x).softmax(1)
    for bs in (1, 5, 100):
        torch.testing.assert_close(mc.class_probabilities(m, x, batch_size=bs), ref.detach())
    # [-1, 1] images are mapped to [0, 1] first
    torch.testing.assert_close(mc.class_probabilities(m, x * 2 - 1, value_range=(-1, 1)), ref.detach())
    # ... and [-1, 1] images declared as [0, 1] are refused, not silently clipped
    with pytest.raises(ValueError, match=r"outside value_range=\(0, 1\)"):
        mc.class_probabilities(m, x * 2 - 1)


def test_statistics():
    probs = torch.tensor([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.1, 0.1, 0.8]])
    assert mc.mean_confidence(probs) == pytest.approx((0.9 + 0.7 + 0.6 + 0.8) / 4)
    expected = torch.tensor([0.5, 0.25, 0.25], dtype=torch.float64)
    torch.testing.assert_close(mc.class_histogram(probs), expected)
    assert mc.entropy(torch.full((10,), 0.1)) == pytest.approx(math.log(10))
    assert mc.entropy(torch.tensor([1.0, 0.0, 0.0])) == 0
    h = -(0.5 * math.log(0.5) + 0.5 * math.log(0.25))
    assert mc.entropy(torch.tensor([0.5, 0.25, 0.25])) == pytest.approx(h)
    assert mc.label_accuracy(probs, torch.tensor([0, 1, 1, 2])) == 0.75
    with pytest.raises(ValueError, match="distribution"):
        mc.entropy(torch.tensor([0.5, 0.6]))
    with pytest.raises(ValueError, match="one label per sample"):
        mc.label_accuracy(probs, torch.tensor([0, 1]))


# ------------------------------------------------------------ per-class accuracy, confusion, IS


def test_per_class_accuracy_and_confusion_against_loops():
    g = torch.Generator().manual_seed(0)
    probs = torch.rand(60, 4, generator=g).softmax(1)
    labels = torch.randint(0, 4, (60,), generator=g)
    pred = probs.argmax(1)
    cm = mc.label_confusion(probs, labels)
    for a in range(4):
        for b in range(4):
            assert cm[a, b] == ((labels == a) & (pred == b)).sum()
    acc = mc.per_class_accuracy(probs, labels)
    for c in range(4):
        assert acc[c].item() == pytest.approx((pred[labels == c] == c).double().mean().item())
    # a class that was never asked for has no accuracy (NaN), not 0
    assert mc.per_class_accuracy(probs[labels != 2], labels[labels != 2])[2].isnan()
    with pytest.raises(ValueError, match="class indices"):
        mc.label_confusion(probs, labels + 4)
