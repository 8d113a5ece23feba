r"""Human judgement as a measurement: a two-alternative forced-choice (2AFC) test (notebook 06).

Each trial shows a real image and a generated one side by side, in random order, and
the observer says which one is generated. With :math:`k` correct answers out of
:math:`n` trials the observer's accuracy is :math:`\hat p = k / n`. An observer who cannot
tell the two apart is right half the time, so the question is whether :math:`\hat p` is
*significantly* above :math:`\tfrac12`. Under that null hypothesis :math:`k \sim
\mathrm{Binomial}(n, \tfrac12)`, and the one-sided p-value is

.. math::

    P(K \ge k) = \sum_{j=k}^{n} \binom{n}{j} 2^{-n}.

The 95 % Wilson score interval (Wilson 1927) for :math:`p`, with :math:`z = 1.96`, is

.. math::

    \frac{\hat p + \frac{z^2}{2n} \pm z \sqrt{\frac{\hat p (1 - \hat p)}{n} + \frac{z^2}{4 n^2}}}
         {1 + \frac{z^2}{n}}.

A generator "fools" the observers when their pooled accuracy is not above 1/2: the
human "fool rate" of Zhou et al. (2019), *HYPE: A Benchmark for Human eYe Perceptual
Evaluation of Generative Models* (NeurIPS), is :math:`1 - \hat p`. Any function that picks a
side can play the observer (:func:`run_observer`), for instance a trained discriminator:
that is *adversarial evaluation* with the same protocol.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

SIDES = ("left", "right")


@dataclass(frozen=True)
class TwoAfcTrials:
    """A 2AFC session: ``left[i]`` and ``right[i]`` are shown together; ``fake_side[i]`` is the answer.

    Attributes:
        left, right: images ``[n, C, H, W]`` in the pixel range they were given in.
        fake_side: ``[n]`` int64, 0 when the generated image is on the left, 1 when on the right.
    """

    left: torch.Tensor
    right: torch.Tensor
    fake_side: torch.Tensor

    def __len__(self) -> int:
        return len(self.fake_side)


def make_two_afc_trials(real: torch.Tensor, fake: torch.Tensor, n: int, seed: int = 0) -> TwoAfcTrials:
    """Pair ``n`` real with ``n`` generated images, each pair in random order.

    Args:
        real: ``[N, C, H, W]`` real images (at least ``n``), in the same pixel range as ``fake``.
        fake: ``[M, C, H, W]`` generated images (at least ``n``).
        n: the number of trials.
        seed: which images are drawn and on which side the generated one goes.
    """
    if real.shape[1:] != fake.shape[1:]:
        raise ValueError(f"real {tuple(real.shape[1:])} and generated {tuple(fake.shape[1:])} images "
                         "must have the same shape (and pixel range)")
    if not 1 <= n <= min(len(real), len(fake)):
        raise ValueError(f"n must be between 1 and {min(len(real), len(fake))} (the images available), "
                         f"got {n}")
    gen = torch.Generator().manual_seed(seed)
    r = real[torch.randperm(len(real), generator=gen)[:n]]
    f = fake[torch.randperm(len(fake), generator=gen)[:n]]
    fake_side = torch.randint(0, 2, (n,), generator=gen)
    on_left = (fake_side == 0).view(-1, *([1] * (real.dim() - 1)))
    return TwoAfcTrials(left=torch.where(on_left, f, r), right=torch.where(on_left, r, f),
                        fake_side=fake_side)


@dataclass(frozen=True)
class TwoAfcScore:
    """What a 2AFC session says about an observer (see the module docstring).

    Attributes:
        correct, trials: :math:`k` and :math:`n`.
        accuracy: :math:`\\hat p = k / n`; 0.5 when the observer cannot tell real from generated.
        low, high: the 95 % Wilson interval for the observer's true accuracy.
        p_value: one-sided :math:`P(K \\ge k)` for an observer who guesses.
    """

    correct: int
    trials: int
    accuracy: float
    low: float
    high: float
    p_value: float

    @property
    def fool_rate(self) -> float:
        """Share of trials in which the generated image was taken for the real one (HYPE)."""
        return 1.0 - self.accuracy

    def __str__(self) -> str:
        verdict = ("better than guessing" if self.p_value < 0.05
                   else "not distinguishable from guessing")
        return (f"{self.correct}/{self.trials} correct = {100 * self.accuracy:.0f}% "
                f"(95% interval {100 * self.low:.0f}-{100 * self.high:.0f}%), p = {self.p_value:.3g}: "
                f"{verdict}")


def binomial_tail(k: int, n: int) -> float:
    """:math:`P(K \\ge k)` for :math:`K \\sim \\mathrm{Binomial}(n, 1/2)`, exactly."""
    if not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    return sum(math.comb(n, j) for j in range(k, n + 1)) / 2 ** n


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval for a proportion ``k / n`` (95 % for ``z = 1.96``)."""
    if n < 1 or not 0 <= k <= n:
        raise ValueError(f"need n >= 1 and 0 <= k <= n, got k={k}, n={n}")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _side_index(choice: int | str) -> int:
    if isinstance(choice, str) and choice in SIDES:
        return SIDES.index(choice)
    if isinstance(choice, int) and not isinstance(choice, bool) and choice in (0, 1):
        return int(choice)
    raise ValueError("a choice is 'left' / 'right' (or 0 / 1): the side of the generated image, "
                     f"got {choice!r}")


def score_two_afc(choices: Sequence[int | str], trials: TwoAfcTrials | torch.Tensor) -> TwoAfcScore:
    """Score an observer's answers: ``choices[i]`` is the side they took for generated in trial ``i``.

    Args:
        choices: ``"left"`` / ``"right"`` (or 0 / 1), one per trial answered so far (a
            session may be scored before its end).
        trials: the :class:`TwoAfcTrials`, or just their ``fake_side`` ``[n]``.
    """
    truth = trials.fake_side if isinstance(trials, TwoAfcTrials) else trials
    if not 1 <= len(choices) <= len(truth):
        raise ValueError(f"got {len(choices)} answers for {len(truth)} trials; answer at least one")
    picked = torch.tensor([_side_index(c) for c in choices])
    k, n = int((picked == truth[:len(picked)].cpu()).sum()), len(picked)
    low, high = wilson_interval(k, n)
    return TwoAfcScore(correct=k, trials=n, accuracy=k / n, low=low, high=high, p_value=binomial_tail(k, n))


def run_observer(observer: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], trials: TwoAfcTrials
                 ) -> TwoAfcScore:
    """Let a program take the test: ``observer(left, right)`` returns the side (0 or 1) it calls generated."""
    picked = observer(trials.left, trials.right)
    if not isinstance(picked, torch.Tensor) or picked.shape != trials.fake_side.shape:
        raise ValueError("the observer must return one side (0 or 1) per trial, "
                         f"shape {tuple(trials.fake_side.shape)}")
    return score_two_afc(picked.long().tolist(), trials)
