"""The checkers of notebook 09 accept the reference answers, reject typical mistakes, and agree with
the notebook's own code (course_utils.diffusion)."""

import math

import pytest
import torch

from course_utils import diffusion as d
from course_utils.exercises import NotYet
from course_utils.exercises import diffusion as ex


def noisy(x0, t, eps, alpha_bars):
    ab = alpha_bars[t].float().view(-1, 1, 1, 1)
    return ab.sqrt() * x0 + (1 - ab).sqrt() * eps


def ddim(x_t, eps, ab_t, ab_s):
    x0_hat = (x_t - math.sqrt(1 - ab_t) * eps) / math.sqrt(ab_t)
    return math.sqrt(ab_s) * x0_hat + math.sqrt(1 - ab_s) * eps


def variance_weights(x0, t, eps, alpha_bars):
    ab = alpha_bars[t].float().view(-1, 1, 1, 1)
    return ab * x0 + (1 - ab) * eps


def guide(cond, uncond, w):
    return (1 + w) * cond - w * uncond


def snr_crossing():
    return int((d.cosine_schedule(1000).alpha_bars < 0.5).nonzero()[0])


def test_references_pass(capsys):
    ex.check_q_sample(noisy)
    ex.check_ddim_step(ddim)
    ex.check_guidance(guide)
    ex.check_snr_crossing(snr_crossing())
    assert capsys.readouterr().out.count("Correct") == 4


def test_the_notebooks_own_code_passes(capsys):
    """The checkers' references, written from the equations, agree with course_utils.diffusion."""
    ex.check_q_sample(lambda x0, t, eps, alpha_bars: d.q_sample(x0, t, eps, d.cosine_schedule(1000)))
    torch.testing.assert_close(ex._cosine_alpha_bars(), d.cosine_schedule(1000).alpha_bars)

    def step(x_t, eps, ab_t, ab_s):  # the notebook's ddim_step on a two-step schedule with these alpha_bars
        schedule = d.NoiseSchedule(torch.tensor([1 - ab_s, 1 - ab_t / ab_s]) if ab_s < 1 else
                                   torch.tensor([1 - ab_t, 0.5]))
        t, s = (2, 1) if ab_s < 1 else (1, 0)
        return d.ddim_step(x_t, eps, t, s, schedule, clip=False)

    ex.check_ddim_step(step)

    class Stub(torch.nn.Module):
        null_label = 10

        def forward(self, x, t, y):
            return torch.where((y == 10).view(-1, 1, 1, 1), 0.5 * x, x)

    ex.check_guidance(lambda c, u, w: d.predict_eps(Stub(), c, 5, torch.zeros(len(c), dtype=torch.long), w)
                      if torch.allclose(u, 0.5 * c) else guide(c, u, w))
    assert capsys.readouterr().out.count("Correct") == 3


@pytest.mark.parametrize("wrong, match", [
    (lambda x0, t, eps, ab: variance_weights(x0, t, eps, ab), "those are the variances"),
    (lambda x0, t, eps, ab: noisy(x0, t, 2 * eps, ab), "differ"),
    (lambda x0, t, eps, ab: noisy(x0, torch.full_like(t, int(t[0])), eps, ab), "step of the first one"),
    (lambda x0, t, eps, ab: noisy(x0, (t - 1).clamp(min=0), eps, ab), "off by one"),
    (lambda x0, t, eps, ab: noisy(x0, t, eps, ab)[0], "should have shape"),
    (lambda x0, t, eps, ab: noisy(x0, t, eps, ab) + 0.1, "t = 0"),
])
def test_q_sample_mistakes(wrong, match):
    with pytest.raises(NotYet, match=match):
        ex.check_q_sample(wrong)


@pytest.mark.parametrize("wrong, match", [
    (lambda x_t, eps, ab_t, ab_s: (x_t - math.sqrt(1 - ab_t) * eps) / math.sqrt(ab_t), "you return x0_hat"),
    (lambda x_t, eps, ab_t, ab_s: ddim(x_t, eps, ab_t, ab_s).clamp(-1, 1), "differ"),
    (lambda x_t, eps, ab_t, ab_s: ddim(x_t, eps, ab_s, ab_t), "differ"),
    (lambda x_t, eps, ab_t, ab_s: ddim(x_t, eps, ab_t, ab_s).sum(), "shape of x_t"),
])
def test_ddim_step_mistakes(wrong, match):
    with pytest.raises(NotYet, match=match):
        ex.check_ddim_step(wrong)


@pytest.mark.parametrize("wrong, match", [
    (lambda c, u, w: w * c - (w - 1) * u, "other convention"),
    (lambda c, u, w: c + w * (u - c), "With w = 1"),
    (lambda c, u, w: (1 + w) * c - w * u if w < 2 else c, "With w = 3.5"),
    (lambda c, u, w: (1 + w) * c - w * u if w else u, "With w = 0"),
])
def test_guidance_mistakes(wrong, match):
    with pytest.raises(NotYet, match=match):
        ex.check_guidance(wrong)


def test_snr_crossing_mistakes():
    right = snr_crossing()
    with pytest.raises(NotYet, match="last step with SNR >= 1"):
        ex.check_snr_crossing(right - 1)
    with pytest.raises(NotYet, match="middle of the schedule"):
        ex.check_snr_crossing(500)
    with pytest.raises(NotYet, match="another step"):
        ex.check_snr_crossing(right + 7)
    with pytest.raises(NotYet, match="integer"):
        ex.check_snr_crossing("496")
