"""The checkers of notebook 06 accept the reference answers and reject typical mistakes."""

import math

import pytest
import torch

from course_utils.exercises import NotYet, evaluation


def frechet_1d(mu1, s1, mu2, s2):
    return (mu1 - mu2) ** 2 + s1 ** 2 + s2 ** 2 - 2 * s1 * s2


def inception_score_one_split(probs):
    marginal = probs.mean(dim=0, keepdim=True)
    kl = (torch.xlogy(probs, probs) - torch.xlogy(probs, marginal)).sum(dim=1)
    return kl.mean().exp().item()


def p_value(k, n):
    return sum(math.comb(n, j) for j in range(k, n + 1)) / 2 ** n


def test_references_pass(capsys):
    evaluation.check_frechet_1d(frechet_1d)
    evaluation.check_inception_score(inception_score_one_split)
    evaluation.check_two_afc_p_value(p_value)
    evaluation.check_mode_collapse({"precision": "high", "recall": "low", "inception_score": "low"})
    assert capsys.readouterr().out.count("Correct") == 4


@pytest.mark.parametrize("wrong, match", [
    (lambda m1, s1, m2, s2: (m1 - m2) ** 2, "only count the means"),
    (lambda m1, s1, m2, s2: frechet_1d(m1, s1 ** 2, m2, s2 ** 2), "standard deviations"),
    (lambda m1, s1, m2, s2: abs(m1 - m2) + abs(s1 - s2), "the distance is"),
])
def test_frechet_mistakes(wrong, match):
    with pytest.raises(NotYet, match=match):
        evaluation.check_frechet_1d(wrong)


@pytest.mark.parametrize("wrong, match", [
    (lambda p: math.log(inception_score_one_split(p)), "log of the score"),
    (lambda p: (-torch.xlogy(p, p).sum(1)).mean().exp().item(), "the score is"),  # exp of the entropy
])
def test_inception_score_mistakes(wrong, match):
    with pytest.raises(NotYet, match=match):
        evaluation.check_inception_score(wrong)


@pytest.mark.parametrize("wrong, match", [
    (lambda k, n: p_value(k + 1, n) if k < n else 0.0, "leaves out K = k"),
    (lambda k, n: math.comb(n, k) / 2 ** n, "P\\(K = k\\) only"),
    (lambda k, n: min(1.0, 2 * p_value(k, n)), "the p-value is"),  # two-sided
])
def test_p_value_mistakes(wrong, match):
    with pytest.raises(NotYet, match=match):
        evaluation.check_two_afc_p_value(wrong)


@pytest.mark.parametrize("answer, match", [
    ({"precision": "high", "recall": "high", "inception_score": "low"}, "recall is not high"),
    ({"precision": "low", "recall": "low", "inception_score": "low"}, "precision is not low"),
    ({"precision": "high", "recall": "low", "inception_score": "high"}, "inception_score is not high"),
    ({"precision": "high", "recall": "low"}, "exactly the keys"),
    ({"precision": "good", "recall": "low", "inception_score": "low"}, "'high' or 'low'"),
])
def test_mode_collapse_mistakes(answer, match):
    with pytest.raises(NotYet, match=match):
        evaluation.check_mode_collapse(answer)
