"""The checkers of notebook 04 accept the reference answers and reject typical mistakes with a hint."""

import math
import sys
from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn.functional as F

from course_utils import vae as V
from course_utils.exercises import NotYet
from course_utils.exercises import vae as ex

REPO = Path(__file__).resolve().parent.parent


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


def _notebook_04_cells():
    sys.path.insert(0, str(REPO / "tools"))
    from make_student import student_notebook

    nb = nbformat.read(REPO / "notebooks" / "04_vae.ipynb", as_version=4)
    student, _ = student_notebook(nb, "04_vae.ipynb")
    return [c.source for c in nb.cells if c.cell_type == "code"], \
        [c.source for c in student.cells if c.cell_type == "code"]


@pytest.mark.parametrize("name, check", [("gaussian_kl", "check_kl"),
                                         ("reparameterize", "check_reparameterize")])
def test_the_taught_cell_is_the_exercise_and_its_checker_follows_it(name, check):
    """make student blanks the taught (exported) cell itself; the next cells run the checker on it."""
    instructor, student = _notebook_04_cells()
    at = next(i for i, s in enumerate(instructor) if s.startswith(f"#| export vae\ndef {name}("))
    assert "### BEGIN SOLUTION" in instructor[at]
    assert "raise NotImplementedError" in student[at] and "### BEGIN SOLUTION" not in student[at]
    assert f"cu.exercises.vae.{check}({name})" in instructor[at + 1]
    namespace = {"torch": torch, "check_mu_logvar": V.check_mu_logvar}
    exec(student[at].split("\n", 1)[1], namespace)  # the learner's starting point: a TODO that raises
    with pytest.raises(NotImplementedError):
        getattr(ex, check)(namespace[name])
    getattr(ex, check)(getattr(V, name))  # the exported solution passes the same checker
