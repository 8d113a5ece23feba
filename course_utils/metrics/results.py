"""Small result types shared by the metrics: an estimate with its spread over subsets."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class MeanStd:
    """A score computed on several subsets (splits) of the data: their mean and standard deviation.

    Attributes:
        mean: the mean of ``values``: the reported score.
        std: the standard deviation of ``values`` (population formula, ``ddof=0``, as in the
            reference implementations of IS and KID). It is the spread of one subset's score,
            not the standard error of ``mean`` (that is ``std / sqrt(len(values))``).
        values: the score of each subset, float64 ``[S]``.
    """

    mean: float
    std: float
    values: torch.Tensor

    @classmethod
    def of(cls, values: torch.Tensor) -> MeanStd:
        """Summarise per-subset ``values`` ``[S]``."""
        v = values.detach().double().cpu()
        return cls(mean=v.mean().item(), std=v.std(correction=0).item(), values=v)

    def __iter__(self):  # allows ``mean, std = kid(...)``
        return iter((self.mean, self.std))

    def __str__(self) -> str:
        return f"{self.mean:.4g} ± {self.std:.2g}"
