"""The checkers of notebook 03 accept the reference answers and reject typical wrong ones."""

import math

import pytest
import torch
import torch.nn.functional as F

from course_utils import gan
from course_utils.exercises import NotYet
from course_utils.exercises import gan as ex


def test_non_saturating_loss():
    ex.check_non_saturating_loss(lambda a: F.binary_cross_entropy_with_logits(a, torch.ones_like(a)))
    ex.check_non_saturating_loss(lambda a: -F.logsigmoid(a).mean())
    with pytest.raises(NotYet, match="saturating"):
        ex.check_non_saturating_loss(lambda a: torch.log(1 - torch.sigmoid(a)).mean())
    with pytest.raises(NotYet, match="finite"):
        ex.check_non_saturating_loss(lambda a: -torch.log(torch.sigmoid(a)).mean())
    with pytest.raises(NotYet, match="shape"):
        ex.check_non_saturating_loss(lambda a: -F.logsigmoid(a))


def test_slerp():
    def reference(z0, z1, t):
        omega = torch.arccos(torch.dot(z0 / z0.norm(), z1 / z1.norm()).clamp(-1, 1))
        return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)

    ex.check_slerp(reference)
    with pytest.raises(NotYet, match="linear"):
        ex.check_slerp(lambda z0, z1, t: (1 - t) * z0 + t * z1)
    with pytest.raises(NotYet, match="normalise"):
        ex.check_slerp(lambda z0, z1, t: reference(z0 * 1.0, z1, t * 0.9))


def test_conv_transpose_size():
    ex.check_conv_transpose_size(lambda n, k, stride=1, padding=0: (n - 1) * stride - 2 * padding + k)
    with pytest.raises(NotYet, match="nn.ConvTranspose2d gives"):
        ex.check_conv_transpose_size(lambda n, k, stride=1, padding=0: n * stride)


def test_equilibrium():
    ex.check_equilibrium(0.5, 2 * math.log(2), math.log(2))
    with pytest.raises(NotYet, match="D\\*"):
        ex.check_equilibrium(1.0, 2 * math.log(2), math.log(2))
    with pytest.raises(NotYet, match="natural"):
        ex.check_equilibrium(0.5, 2 * math.log10(2), math.log(2))
    with pytest.raises(NotYet, match="non-saturating"):
        ex.check_equilibrium(0.5, 2 * math.log(2), -math.log(2))


def test_smoothed_discriminator_loss():
    ex.check_smoothed_discriminator_loss(lambda r, f, s: gan.discriminator_loss(r, f, real_target=1 - s))
    with pytest.raises(NotYet, match="two-sided"):
        ex.check_smoothed_discriminator_loss(
            lambda r, f, s: F.binary_cross_entropy_with_logits(r, torch.full_like(r, 1 - s))
            + F.binary_cross_entropy_with_logits(f, torch.full_like(f, s)))
    with pytest.raises(NotYet, match="should be"):
        ex.check_smoothed_discriminator_loss(lambda r, f, s: gan.discriminator_loss(r, f))
