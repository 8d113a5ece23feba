"""The checkers of notebook 05 accept the reference answers and reject typical wrong ones."""

import pytest
import torch
import torch.nn.functional as F

from course_utils import cgan, gan
from course_utils.exercises import NotYet
from course_utils.exercises import cgan as ex


def test_condition_latent():
    ex.check_condition_latent(lambda z, y: torch.cat([z, F.one_hot(y, 10).float()], dim=1))
    ex.check_condition_latent(cgan.condition_latent)  # the taught (promoted) version passes
    with pytest.raises(NotYet, match="comes first"):
        ex.check_condition_latent(lambda z, y: torch.cat([F.one_hot(y, 10).float(), z], dim=1))
    with pytest.raises(NotYet, match="shape"):
        ex.check_condition_latent(lambda z, y: torch.cat([z, y[:, None].float()], dim=1))


def test_per_digit_accuracy():
    ex.check_per_digit_accuracy(lambda cm: cm.diag() / cm.sum(dim=1))
    with pytest.raises(NotYet, match="column sums"):
        ex.check_per_digit_accuracy(lambda cm: cm.diag() / cm.sum(dim=0))
    with pytest.raises(NotYet, match="one share per class"):
        ex.check_per_digit_accuracy(lambda cm: cm.diag().sum() / cm.sum())


def test_projection_logits():
    ex.check_projection_logits(lambda phi, w, b, E, y: phi @ w + b + (E[y] * phi).sum(dim=1))
    with pytest.raises(NotYet, match="ignored"):
        ex.check_projection_logits(lambda phi, w, b, E, y: phi @ w + b)
    with pytest.raises(NotYet, match="projection term"):
        ex.check_projection_logits(lambda phi, w, b, E, y: phi @ w + b + (E[y] * phi).sum(dim=1).flip(0))


def test_projection_reference_matches_the_course_discriminator():
    D = cgan.ConditionalDiscriminator(channels=4, num_classes=10).eval()
    D.apply(gan.init_weights)
    x, y = torch.rand(5, 1, 28, 28), torch.tensor([1, 2, 3, 4, 5])
    phi = D.features(x)
    ref = phi @ D.head.weight[0] + D.head.bias[0] + (D.embed.weight[y] * phi).sum(1)
    torch.testing.assert_close(D(x, y), ref)
