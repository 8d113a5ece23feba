r"""Step 1 of every distribution metric: map images to feature vectors (introduced in notebook 06).

FID, KID and precision/recall compare two *sets of feature vectors*, not pixels. Which
features is a choice that decides what the metric sees. The course's default is the
128-dimensional penultimate layer of its MNIST classifier,
:meth:`~course_utils.models.MnistClassifier.embed`: it has learned what distinguishes
digits, and (unlike Inception-v3, trained on ImageNet photos) it runs offline in a
second. Any ``nn.Module`` or function from images to vectors works the same way.

Numbers computed in different feature spaces are not comparable: a "FID" in the
classifier's feature space is not the FID of papers, which use Inception-v3 (see
:mod:`course_utils.metrics.inception`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import torch
from torch import nn

from ..ranges import to_unit_range

FeatureExtractor = nn.Module | Callable[[torch.Tensor], torch.Tensor]


def _owning_module(extractor: FeatureExtractor) -> nn.Module | None:
    if isinstance(extractor, nn.Module):
        return extractor
    owner = getattr(extractor, "__self__", None)  # a bound method such as classifier.embed
    return owner if isinstance(owner, nn.Module) else None


def _module_device(module: nn.Module | None) -> torch.device:
    if module is not None:
        for t in (*module.parameters(), *module.buffers()):
            return t.device
    return torch.device("cpu")


@torch.no_grad()
def extract_features(
    extractor: FeatureExtractor,
    images: torch.Tensor,
    *,
    value_range: tuple[float, float] = (0.0, 1.0),
    batch_size: int = 500,
    device: torch.device | str | None = None,
) -> torch.Tensor:
    """Feature vectors ``[N, D]`` (float64, on the CPU) of ``images``, computed in batches.

    Args:
        extractor: maps a batch of images ``[B, C, H, W]`` in [0, 1] to features ``[B, D]``
            (trailing dimensions are flattened). A model with an ``embed`` method, such as
            the course's :class:`~course_utils.models.MnistClassifier`, is used through
            ``embed``: its 128-d penultimate features, the course's default feature
            space. Any other ``nn.Module`` or function is called directly. A module is put
            in eval mode for the extraction (dropout off, batch-norm running statistics)
            and given back in the mode it was in.
        images: ``[N, C, H, W]`` in ``value_range``; they are mapped to [0, 1] first.
        value_range: the pixel range of ``images``: ``(-1, 1)`` for GAN samples from a tanh.
        batch_size: images per forward pass. The result does not depend on it (up to
            float32 rounding inside the network).
        device: where to run the network; defaults to the device of the module's
            parameters (CPU for a plain function).

    Returns:
        float64 ``[N, D]`` on the CPU, ready for :mod:`~course_utils.metrics.frechet`,
        :mod:`~course_utils.metrics.mmd` and :mod:`~course_utils.metrics.manifold`.
    """
    if not isinstance(images, torch.Tensor) or images.dim() != 4 or len(images) == 0:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"expected a non-empty batch of images [N, C, H, W], got {shape}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    # an ``embed`` *method* (not, say, an nn.Embedding layer called embed) gives the features
    fn = extractor.embed if inspect.isfunction(getattr(type(extractor), "embed", None)) else extractor
    module = _owning_module(extractor)
    device = torch.device(device) if device is not None else _module_device(module)
    was_training = module.training if module is not None else False
    if module is not None:
        module.eval()
    try:
        out = []
        for start in range(0, len(images), batch_size):
            x01 = to_unit_range(images[start:start + batch_size], value_range)
            f = fn(x01.to(device))
            if not isinstance(f, torch.Tensor) or f.dim() < 2 or len(f) != len(x01):
                got = tuple(f.shape) if isinstance(f, torch.Tensor) else type(f).__name__
                raise ValueError(f"the feature extractor must return a tensor [B, D] for B={len(x01)} "
                                 f"images, it returned {got}")
            out.append(f.reshape(len(f), -1).to("cpu", torch.float64))
    finally:
        if module is not None:
            module.train(was_training)
    features = torch.cat(out)
    if not torch.isfinite(features).all():
        raise ValueError("the feature extractor returned NaN or infinite values")
    return features
