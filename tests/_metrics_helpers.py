"""Shared pieces of the metric tests: a small fixed feature network and random covariances."""

from __future__ import annotations

import torch
from torch import nn


class FixedConvFeatures(nn.Module):
    """An untrained but seeded conv net: images [B, 1, 28, 28] in [0, 1] -> float64 features [B, 16].

    ``num_features`` tells torchmetrics the feature size without a dummy forward pass.
    Its output is float64 so that torchmetrics computes in float64 too.
    """

    num_features = 16

    def __init__(self, seed: int = 0):
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.body = nn.Sequential(
                nn.Conv2d(1, 8, 5, stride=2), nn.ReLU(),    # 28x28 -> 12x12
                nn.Conv2d(8, 16, 5, stride=2), nn.ReLU(),   # -> 4x4
                nn.AdaptiveAvgPool2d(1), nn.Flatten(),      # -> [B, 16]
            )

    def forward(self, x01: torch.Tensor) -> torch.Tensor:
        return self.body(x01.float()).double() * 10  # scaled so that FIDs are of order 1


def random_covariance(d: int, seed: int, rank: int | None = None) -> torch.Tensor:
    """A random symmetric positive (semi-)definite [d, d] float64 matrix, of the given rank."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(d, rank or d, generator=g, dtype=torch.float64)
    return a @ a.T / (rank or d)
