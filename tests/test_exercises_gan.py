"""The checkers of notebook 03 accept the reference answers and reject typical wrong ones."""

import math

import pytest
import torch
import torch.nn.functional as F

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


def _bce(a, t):
    return F.binary_cross_entropy_with_logits(a, torch.full_like(a, t))


def test_discriminator_loss():
    def reference(r, f, real_target=1.0):
        return _bce(r, real_target) + _bce(f, 0.0)

    ex.check_discriminator_loss(reference)
    ex.check_discriminator_loss(  # written with logsigmoid instead of the library's BCE
        lambda r, f, real_target=1.0: -(real_target * F.logsigmoid(r) + (1 - real_target) * F.logsigmoid(-r)
                                        ).mean() - F.logsigmoid(-f).mean())
    with pytest.raises(NotYet, match="two-sided"):
        ex.check_discriminator_loss(lambda r, f, real_target=1.0: _bce(r, real_target)
                                    + _bce(f, 1 - real_target))
    with pytest.raises(NotYet, match="swapped"):
        ex.check_discriminator_loss(lambda r, f, real_target=1.0: _bce(r, 0.0) + _bce(f, 1.0))
    with pytest.raises(NotYet, match="sign"):
        ex.check_discriminator_loss(lambda r, f, real_target=1.0: -reference(r, f, real_target))
    with pytest.raises(NotYet, match="real_target=0.9"):
        ex.check_discriminator_loss(lambda r, f, real_target=1.0: reference(r, f))  # ignores the target
    with pytest.raises(NotYet, match="finite"):
        ex.check_discriminator_loss(lambda r, f, real_target=1.0: -(
            real_target * torch.log(torch.sigmoid(r)) + (1 - real_target) * torch.log(1 - torch.sigmoid(r))
        ).mean() - torch.log(1 - torch.sigmoid(f)).mean())
    with pytest.raises(NotYet, match="shape"):
        ex.check_discriminator_loss(lambda r, f, real_target=1.0: torch.stack([_bce(r, real_target),
                                                                               _bce(f, 0.0)]))
