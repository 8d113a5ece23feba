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
  classifier reads as the label they were generated for; per class, and as a confusion
  matrix (rows: the label asked for, columns: the digit the classifier sees).

The Inception-style score built on the same probabilities is taught in notebook 06
(``course_utils.metrics.isc``, generated from it).
"""

from __future__ import annotations

import torch
from torch import nn

from ..classifier import confusion_matrix
from .features import extract_features


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
            :class:`~course_utils.models.MnistClassifier` does) and returns logits. It runs
            in eval mode and is handed back in the mode it was in.
        images: ``[N, 1, 28, 28]`` in ``value_range``.
        value_range: the pixel range of ``images``; GAN samples are in ``(-1, 1)``. Images
            outside it raise ``ValueError`` (see :func:`~course_utils.metrics.features.to_unit_range`).
        batch_size: images per forward pass (the result does not depend on it).
        device: where to run; defaults to the classifier's device.
    """
    # the logits are the "features" here: same batching, eval mode, devices and range checks
    forward = classifier.forward if isinstance(classifier, nn.Module) else classifier
    logits = extract_features(forward, images, value_range=value_range, batch_size=batch_size, device=device)
    return logits.softmax(dim=1).float()


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


def check_probabilities(probs: torch.Tensor) -> torch.Tensor:
    if probs.dim() != 2 or len(probs) == 0:
        raise ValueError(f"expected class probabilities [N, C], got shape {tuple(probs.shape)}")
    p = probs.detach().to("cpu", torch.float64)
    if (p < 0).any() or ((p.sum(dim=1) - 1).abs() > 1e-3).any():
        raise ValueError("expected class probabilities (non-negative rows summing to 1); "
                         "for logits use logits.softmax(dim=1), or class_probabilities(...)")
    return p


def per_class_accuracy(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Label accuracy of each class ``[C]`` (float64; NaN for a class with no samples).

    Entry ``c`` is the share of samples generated for label ``c`` that the classifier
    reads as ``c``: a conditional generator can be good at some digits and bad at others.
    """
    cm = label_confusion(probs, labels).double()
    return cm.diagonal() / cm.sum(dim=1)


def label_confusion(probs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Counts ``[C, C]``: row = the label a sample was generated for, column = the class the classifier sees.

    Show it with :func:`course_utils.plotting.plot_confusion_matrix`.
    """
    p = check_probabilities(probs)
    if labels.shape != p.shape[:1]:
        raise ValueError(f"need one label per sample: {tuple(labels.shape)} vs {tuple(p.shape)}")
    if len(labels) and not 0 <= labels.min() <= labels.max() < p.shape[1]:
        raise ValueError(f"labels must be class indices in 0..{p.shape[1] - 1}")
    return confusion_matrix(p.argmax(dim=1), labels.cpu(), p.shape[1])
