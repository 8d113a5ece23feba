"""Checkers for the exercises of notebook 06 (evaluating generative models)."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import torch

from ._check import fail, passed


def _inception_score_one_split(p: torch.Tensor) -> float:
    """The reference answer, written here so that the checker does not depend on the learner's cell."""
    kl = (torch.xlogy(p, p) - torch.xlogy(p, p.mean(dim=0, keepdim=True))).sum(dim=1)
    return kl.mean().exp().item()


def _binomial_tail(k: int, n: int) -> float:
    return sum(math.comb(n, j) for j in range(k, n + 1)) / 2 ** n


def _frechet_1d(mu1: float, s1: float, mu2: float, s2: float) -> float:
    return (mu1 - mu2) ** 2 + s1 ** 2 + s2 ** 2 - 2 * s1 * s2


def check_frechet_1d(fn: Callable[[float, float, float, float], float]) -> None:
    """``fn(mu1, sigma1, mu2, sigma2)``: the Fréchet distance of two 1-D Gaussians (sigmas are std devs)."""
    cases = [(0.0, 1.0, 0.0, 1.0), (1.0, 1.0, -2.0, 1.0), (0.5, 2.0, 0.5, 0.5), (3.0, 0.2, 1.0, 1.5)]
    for mu1, s1, mu2, s2 in cases:
        try:
            got = float(fn(mu1, s1, mu2, s2))
        except TypeError as err:
            fail(f"Calling your function with four numbers failed: {err}.",
                 "It takes mu1, sigma1, mu2, sigma2 and returns one number.")
        want = _frechet_1d(mu1, s1, mu2, s2)
        if math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9):
            continue
        if math.isclose(got, (mu1 - mu2) ** 2, abs_tol=1e-9):
            fail(f"For N({mu1}, {s1}^2) and N({mu2}, {s2}^2) you only count the means ({got:g}).",
                 "The spreads matter too: add Tr(S1 + S2 - 2 (S1 S2)^(1/2)), which in 1-D is (s1 - s2)^2.")
        if math.isclose(got, (mu1 - mu2) ** 2 + (s1 ** 2 - s2 ** 2) ** 2, abs_tol=1e-9) or math.isclose(
                got, _frechet_1d(mu1, s1 ** 2, mu2, s2 ** 2), abs_tol=1e-9):
            fail("The arguments are standard deviations, not variances.",
                 "In 1-D, Sigma = sigma^2 and (Sigma1 Sigma2)^(1/2) = sigma1 sigma2.")
        fail(f"For N({mu1}, {s1}^2) and N({mu2}, {s2}^2) the distance is {want:g}, yours is {got:g}.",
             "d^2 = (mu1 - mu2)^2 + sigma1^2 + sigma2^2 - 2 sigma1 sigma2, "
             "which is (mu1 - mu2)^2 + (sigma1 - sigma2)^2.")
    passed("in 1-D the Fréchet distance is (mu1 - mu2)^2 + (sigma1 - sigma2)^2: FID is this, for "
           "means and covariance matrices in feature space.")


def check_inception_score(fn: Callable[[torch.Tensor], float]) -> None:
    """``fn(probs)``: the Inception Score of class probabilities ``[N, C]``, as one split."""
    gen = torch.Generator().manual_seed(11)
    probs = torch.softmax(3 * torch.randn(40, 10, generator=gen, dtype=torch.float64), dim=1)
    one_hot = torch.eye(10, dtype=torch.float64).repeat(3, 1)
    collapsed = torch.eye(10, dtype=torch.float64)[[3] * 20]
    for name, p in (("random predictions", probs), ("confident predictions, every class", one_hot),
                    ("every sample the same class", collapsed)):
        want = _inception_score_one_split(p)
        got = float(fn(p))
        if math.isclose(got, want, rel_tol=1e-6):
            continue
        if math.isclose(got, math.log(want), rel_tol=1e-6, abs_tol=1e-9):
            fail(f"For {name} you return {got:.4g}, the log of the score.",
                 "The score is exp of the mean KL divergence.")
        fail(f"For {name} the score is {want:.4g}, yours is {got:.4g}.",
             "p(y) is the mean of the rows; KL(p(y|x) || p(y)) = sum_y p(y|x) (log p(y|x) - log p(y)); "
             "average it over the samples, then exp. torch.xlogy handles 0 log 0.")
    passed("IS = exp E_x KL(p(y|x) || p(y)): 10 for confident predictions spread over 10 classes, 1 for a "
           "generator that makes one class only.")


def check_two_afc_p_value(fn: Callable[[int, int], float]) -> None:
    """``fn(k, n)``: the one-sided p-value of ``k`` correct answers out of ``n`` for a guessing observer."""
    for k, n in ((10, 20), (15, 20), (20, 20), (0, 5), (31, 50)):
        want = _binomial_tail(k, n)
        got = float(fn(k, n))
        if math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12):
            continue
        if k < n and math.isclose(got, _binomial_tail(k + 1, n), rel_tol=1e-9):
            fail(f"For k={k}, n={n} you computed P(K > k), which leaves out K = k.",
                 "The p-value is P(K >= k): sum from j = k, not k + 1.")
        if math.isclose(got, math.comb(n, k) / 2 ** n, rel_tol=1e-9):
            fail(f"For k={k}, n={n} you computed P(K = k) only.",
                 "Sum the probabilities of k or more correct answers: j = k, ..., n.")
        fail(f"For k={k}, n={n} the p-value is {want:.4g}, yours is {got:.4g}.",
             "P(K >= k) = sum_{j=k}^{n} C(n, j) / 2^n (math.comb gives C(n, j)).")
    passed("P(K >= k) under Binomial(n, 1/2): 15 of 20 right gives p = 0.021, 31 of 50 gives p = 0.059.")


MODE_COLLAPSE_ANSWER = {"precision": "high", "recall": "low", "inception_score": "low"}


def check_mode_collapse(answer: Mapping[str, str]) -> None:
    """``answer``: for a generator that draws only perfect 1s, is each metric ``"high"`` or ``"low"``?"""
    if not isinstance(answer, Mapping) or set(answer) != set(MODE_COLLAPSE_ANSWER):
        fail("Give a dict with exactly the keys 'precision', 'recall' and 'inception_score'.",
             "For example {'precision': 'high', 'recall': 'high', 'inception_score': 'high'}.")
    for key, want in MODE_COLLAPSE_ANSWER.items():
        value = str(answer[key]).strip().lower()
        if value not in ("high", "low"):
            fail(f"answer[{key!r}] should be 'high' or 'low', not {answer[key]!r}.", "Pick one of the two.")
        if value != want:
            hints = {"precision": "Precision asks: do the samples lie where real digits lie? "
                                  "A perfect 1 does.",
                     "recall": "Recall asks: are all real digits near some sample? "
                               "A 7 or a 0 is far from every 1.",
                     "inception_score": "With only one class, p(y) equals p(y|x) for every sample: KL = 0, "
                                        "so IS = exp(0)."}
            fail(f"{key} is not {value} here.", hints[key])
    passed("perfect 1s only: high precision, low recall, IS of 1. Precision and recall separate "
           "quality from coverage, which a single FID number mixes.")
