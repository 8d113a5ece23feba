"""The checkers of notebook 04 accept the reference answers and reject typical mistakes with a hint."""

import math

import pytest
import torch
import torch.nn.functional as F

from course_utils import vae as V
from course_utils.exercises import NotYet
from course_utils.exercises import vae as ex


def test_kl_checker():
    ex.check_kl(lambda mu, logvar: 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum(1))
    ex.check_kl(V.gaussian_kl)
    with pytest.raises(NotYet, match="twice"):
        ex.check_kl(lambda mu, logvar: (mu**2 + logvar.exp() - 1 - logvar).sum(1))
    with pytest.raises(NotYet, match="mean over the latent"):
        ex.check_kl(lambda mu, logvar: 0.5 * (mu**2 + logvar.exp() - 1 - logvar).mean(1))
    with pytest.raises(NotYet, match="- 1"):
        ex.check_kl(lambda mu, logvar: 0.5 * (mu**2 + logvar.exp() - logvar).sum(1))
    with pytest.raises(NotYet, match="exp\\(logvar\\)"):
        ex.check_kl(lambda mu, logvar: 0.5 * (mu**2 + (0.5 * logvar).exp() - 1 - logvar).sum(1))
    with pytest.raises(NotYet, match="shape"):
        ex.check_kl(lambda mu, logvar: 0.5 * (mu**2 + logvar.exp() - 1 - logvar).sum())


def test_reparameterize_checker():
    ex.check_reparameterize(lambda mu, logvar: mu + torch.exp(0.5 * logvar) * torch.randn_like(mu))
    ex.check_reparameterize(V.reparameterize)
    with pytest.raises(NotYet, match="gradient"):
        ex.check_reparameterize(lambda mu, logvar: torch.normal(mu.detach(), (0.5 * logvar).exp().detach()))
    with pytest.raises(NotYet, match="spread"):
        ex.check_reparameterize(lambda mu, logvar: mu + torch.exp(logvar) * torch.randn_like(mu))
    with pytest.raises(NotYet, match="mean"):
        ex.check_reparameterize(lambda mu, logvar: torch.exp(0.5 * logvar) * torch.randn_like(mu))


def _bce(logits, x):
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum((1, 2, 3))


def test_negative_elbo_checker():
    ex.check_negative_elbo(lambda logits, x, mu, logvar: _bce(logits, x) + V.gaussian_kl(mu, logvar))
    with pytest.raises(NotYet, match="averaged over the 784 pixels"):
        ex.check_negative_elbo(lambda logits, x, mu, logvar: F.binary_cross_entropy(
            torch.sigmoid(logits), x, reduction="none").mean((1, 2, 3)) + V.gaussian_kl(mu, logvar))
    with pytest.raises(NotYet, match="Add the KL"):
        ex.check_negative_elbo(lambda logits, x, mu, logvar: _bce(logits, x))
    with pytest.raises(NotYet, match="subtract"):
        ex.check_negative_elbo(lambda logits, x, mu, logvar: _bce(logits, x) - V.gaussian_kl(mu, logvar))
    with pytest.raises(NotYet, match="one number for the whole batch"):
        ex.check_negative_elbo(lambda logits, x, mu, logvar: (_bce(logits, x)
                                                              + V.gaussian_kl(mu, logvar)).sum())
    with pytest.raises(NotYet, match="differs"):  # BCE on the logits as if they were probabilities
        ex.check_negative_elbo(lambda logits, x, mu, logvar: _bce(torch.sigmoid(logits), x)
                               + V.gaussian_kl(mu, logvar))


def test_log_mean_exp_checker():
    ex.check_log_mean_exp(lambda a: torch.logsumexp(a, 0) - math.log(a.shape[0]))
    with pytest.raises(NotYet, match="-200"):
        ex.check_log_mean_exp(lambda a: a.exp().mean(0).log())
    with pytest.raises(NotYet, match="Subtract log k"):
        ex.check_log_mean_exp(lambda a: torch.logsumexp(a, 0))
    with pytest.raises(NotYet, match="dim 0"):
        ex.check_log_mean_exp(lambda a: (torch.logsumexp(a, 1) - math.log(a.shape[1]))[:4])
