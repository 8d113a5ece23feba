"""The course's MNIST classifier (introduced in notebook 01).

It is defined here rather than in the notebook because notebooks 03-06 load it
by name to judge generated digits (:func:`course_utils.zoo.mnist_classifier`).
"""

from __future__ import annotations

import torch
from torch import nn

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # pixel mean and std of the MNIST training set, in [0, 1]


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """3x3 convolution (same size), batch norm, ReLU."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),  # BN adds the bias
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class MnistClassifier(nn.Module):
    """A small CNN for 28x28 digits: two conv blocks with max pooling, then two linear layers.

    Introduced in notebook 01. Input: images ``[B, 1, 28, 28]`` with pixels in
    [0, 1] (the model standardises them itself). Output: logits ``[B, 10]``.
    :meth:`embed` gives the 128-dimensional penultimate features used as the
    feature space of the evaluation metrics in notebook 06.
    """

    def __init__(self, channels: tuple[int, int] = (32, 64), hidden: int = 128, dropout: float = 0.25):
        super().__init__()
        c1, c2 = channels
        self.register_buffer("mean", torch.tensor(MNIST_MEAN))
        self.register_buffer("std", torch.tensor(MNIST_STD))
        self.features = nn.Sequential(
            conv_block(1, c1),                     # [B, 1, 28, 28] -> [B, c1, 28, 28]
            nn.MaxPool2d(2),                       # -> [B, c1, 14, 14]
            conv_block(c1, c2),                    # -> [B, c2, 14, 14]
            nn.MaxPool2d(2),                       # -> [B, c2, 7, 7]
            nn.Flatten(),                          # -> [B, c2 * 49]
            nn.Dropout(dropout),
            nn.Linear(c2 * 7 * 7, hidden),         # -> [B, hidden]
            nn.ReLU(inplace=True),
        )
        self.head = nn.Sequential(nn.Dropout(dropout), nn.Linear(hidden, 10))  # -> [B, 10]

    def embed(self, x01: torch.Tensor) -> torch.Tensor:
        """Penultimate features ``[B, hidden]`` of images ``x01`` in [0, 1]."""
        if x01.dim() != 4 or tuple(x01.shape[1:]) != (1, 28, 28):
            raise ValueError(f"MnistClassifier expects images [B, 1, 28, 28], got {tuple(x01.shape)}")
        return self.features((x01 - self.mean) / self.std)

    def forward(self, x01: torch.Tensor) -> torch.Tensor:
        """Logits ``[B, 10]`` of images ``x01`` ``[B, 1, 28, 28]`` in [0, 1]."""
        return self.head(self.embed(x01))


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
