r"""What a classifier says about generated digits (introduced in notebook 03).

Layered like every metric of the course: first the classifier's class
probabilities :math:`p(y \mid x)` for each image (:func:`class_probabilities`),
then statistics of those probabilities (:func:`mean_confidence`,
:func:`class_histogram`, :func:`entropy`, :func:`label_accuracy`).

* **Confidence**: :math:`\frac{1}{N}\sum_i \max_y p(y \mid x_i)`. Near 1 when every
  sample looks clearly like *some* digit; near 0.1 for noise that looks like none.
* **Class histogram**: the share of samples assigned to each class. A generator
  that has *collapsed* onto a few digits shows up as a peaked histogram, i.e. a
  low entropy :math:`H = -\sum_y q_y \log q_y`, at most :math:`\log 10 \approx 2.303`
  nats for ten equally frequent digits.
* **Label accuracy**: for a conditional generator, the share of samples that the
  classifier reads as the label they were generated for.
"""

from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def class_probabilities(
    classifier: nn.Module,
    images: torch.Tensor,
    value_range: tuple[float, float] = (0.0, 1.0),
    batch_size: int = 500,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Softmax class probabilities ``[N, C]`` (on the CPU) of a classifier over ``images``.

    Args:
        classifier: takes images ``[B, 1, 28, 28]`` in [0, 1] (as
            :class:`~course_utils.models.MnistClassifier` does) and returns logits.
        images: ``[N, 1, 28, 28]`` in ``value_range``.
        value_range: the pixel range of ``images``; GAN samples are in ``(-1, 1)``.
        batch_size: images per forward pass (the result does not depend on it).
        device: where to run; defaults to the classifier's device.
    """
    if images.dim() != 4:
        raise ValueError(f"expected images [N, C, H, W], got shape {tuple(images.shape)}")
    lo, hi = value_range
    if device is None:
        device = next(classifier.parameters()).device
    was_training = classifier.training
    classifier.eval()
    out = []
    for start in range(0, len(images), batch_size):
        x = images[start:start + batch_size].to(device, torch.float32)
        x01 = ((x - lo) / (hi - lo)).clamp(0, 1)
        out.append(classifier(x01).float().softmax(dim=1).cpu())
    classifier.train(was_training)
    return torch.cat(out)


def mean_confidence(probs: torch.Tensor) -> float:
    """Mean over samples of the largest class probability, for probabilities ``[N, C]``."""
    return probs.max(dim=1).values.mean().item()


def class_histogram(probs: torch.Tensor) -> torch.Tensor:
    """Share of samples whose most likely class is each class: ``[C]``, summing to 1."""
    c = probs.shape[1]
    return torch.bincount(probs.argmax(dim=1), minlength=c).double() / len(probs)


def entropy(distribution: torch.Tensor) -> float:
    """Entropy in nats, :math:`-\\sum_k q_k \\log q_k` (with 0 log 0 = 0), of a distribution ``[C]``."""
    q = distribution.double()
    if (q < 0).any() or abs(q.sum().item() - 1) > 1e-6:
        raise ValueError("entropy expects a probability distribution: non-negative, summing to 1")
    nz = q[q > 0]
    return -(nz * nz.log()).sum().item()


def label_accuracy(probs: torch.Tensor, labels: torch.Tensor) -> float:
    """Share of samples whose most likely class equals the label they were generated for."""
    if labels.shape != probs.shape[:1]:
        raise ValueError(f"need one label per sample: {tuple(labels.shape)} vs {tuple(probs.shape)}")
    return (probs.argmax(dim=1) == labels.to(probs.device)).double().mean().item()
