r"""What a classifier says about generated digits (notebooks 03, 05 and 06): infrastructure.

Layered like every metric of the course: first the classifier's class probabilities
:math:`p(y \mid x)` for each image (:func:`class_probabilities`, batched, in eval mode, on
the classifier's device), then statistics of those probabilities.

* The **confidence**, the **class histogram** and its **entropy** are taught in notebook 03
  and generated from it (:mod:`course_utils.metrics.confidence`); they are re-exported here,
  so ``mc.mean_confidence`` etc. keep working.
* **Label accuracy**: for a conditional generator (notebook 05), the share of samples that
  the classifier reads as the label they were generated for; per class, and as a confusion
  matrix (rows: the label asked for, columns: the digit the classifier sees). Per-class
  accuracy is also the reference answer of notebook 05's exercise 1.

The Inception-style score built on the same probabilities is taught in notebook 06
(``course_utils.metrics.isc``, generated from it).
"""

from __future__ import annotations

import torch
from torch import nn

from ..classifier import confusion_matrix
from .confidence import class_histogram, entropy, mean_confidence  # taught in notebook 03
from .features import extract_features

__all__ = ["class_probabilities", "mean_confidence", "class_histogram", "entropy", "label_accuracy",
           "per_class_accuracy", "label_confusion", "check_probabilities"]


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
            :class:`~course_utils.classifier.MnistClassifier` does) and returns logits. It runs
            in eval mode and is handed back in the mode it was in.
        images: ``[N, 1, 28, 28]`` in ``value_range``.
        value_range: the pixel range of ``images`` (the course's samples are in [0, 1]).
            Images outside it raise ``ValueError`` (see :func:`~course_utils.ranges.to_unit_range`).
        batch_size: images per forward pass (the result does not depend on it).
        device: where to run; defaults to the classifier's device.
    """
    # the logits are the "features" here: same batching, eval mode, devices and range checks
    forward = classifier.forward if isinstance(classifier, nn.Module) else classifier
    logits = extract_features(forward, images, value_range=value_range, batch_size=batch_size, device=device)
    return logits.softmax(dim=1).float()


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
