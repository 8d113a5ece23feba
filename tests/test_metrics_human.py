"""The 2AFC (real or generated?) test: trials, binomial p-value and Wilson interval against scipy."""

import pytest
import torch
from scipy import stats

from course_utils.metrics import human


def test_binomial_tail_and_wilson_interval_against_scipy():
    for k, n in ((0, 1), (10, 20), (15, 20), (20, 20), (31, 50), (3, 7)):
        assert human.binomial_tail(k, n) == pytest.approx(
            stats.binomtest(k, n, 0.5, alternative="greater").pvalue, rel=1e-12)
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        low, high = human.wilson_interval(k, n, z=stats.norm.ppf(0.975))
        assert (low, high) == pytest.approx((ci.low, ci.high), abs=1e-12)
    with pytest.raises(ValueError, match="k <= n"):
        human.binomial_tail(5, 4)


def test_trials_put_the_generated_image_on_the_recorded_side():
    real = torch.zeros(30, 1, 4, 4)
    fake = torch.ones(25, 1, 4, 4)
    trials = human.make_two_afc_trials(real, fake, n=20, seed=3)
    assert len(trials) == 20 and trials.left.shape == (20, 1, 4, 4)
    left_is_fake = trials.left.flatten(1).mean(1) == 1
    assert torch.equal(left_is_fake, trials.fake_side == 0)
    assert torch.equal(trials.right.flatten(1).mean(1) == 1, trials.fake_side == 1)
    assert 0 < int(trials.fake_side.sum()) < 20  # both sides occur
    again = human.make_two_afc_trials(real, fake, n=20, seed=3)
    assert torch.equal(again.fake_side, trials.fake_side)


def test_scores_of_perfect_guessing_and_partial_sessions():
    trials = human.make_two_afc_trials(torch.zeros(40, 1, 2, 2), torch.ones(40, 1, 2, 2), n=40, seed=0)
    truth = trials.fake_side.tolist()
    perfect = human.score_two_afc([human.SIDES[s] for s in truth], trials)
    assert (perfect.correct, perfect.trials, perfect.accuracy, perfect.fool_rate) == (40, 40, 1.0, 0.0)
    assert perfect.p_value == pytest.approx(2.0 ** -40)
    wrong = human.score_two_afc([1 - s for s in truth], trials.fake_side)
    assert wrong.correct == 0 and wrong.p_value == 1.0
    partial = human.score_two_afc(truth[:5], trials)
    assert partial.trials == 5 and partial.correct == 5
    assert partial.p_value == pytest.approx(1 / 32) and "better than guessing" in str(partial)
    assert "not distinguishable" in str(human.score_two_afc(truth[:4], trials))  # p = 1/16
    # an observer that looks at the mean brightness finds the generated (bright) image every time
    bright = human.run_observer(lambda l, r: (r.mean((1, 2, 3)) > l.mean((1, 2, 3))).long(), trials)
    assert bright.accuracy == 1.0


def test_bad_answers_are_clear_errors():
    trials = human.make_two_afc_trials(torch.zeros(4, 1, 2, 2), torch.ones(4, 1, 2, 2), n=4)
    with pytest.raises(ValueError, match="left"):
        human.score_two_afc(["up"], trials)
    with pytest.raises(ValueError, match="answers"):
        human.score_two_afc(["left"] * 5, trials)
    with pytest.raises(ValueError, match="same shape"):
        human.make_two_afc_trials(torch.zeros(4, 1, 2, 2), torch.ones(4, 1, 3, 3), n=2)
    with pytest.raises(ValueError, match="n must be"):
        human.make_two_afc_trials(torch.zeros(4, 1, 2, 2), torch.ones(4, 1, 2, 2), n=5)
