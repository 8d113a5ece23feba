"""The checkers of notebook 08 accept the reference answers and reject wrong ones with a hint; the two
exercises in the flow of the notebook are the taught (exported) cells themselves."""

import sys
from pathlib import Path

import nbformat
import pytest
import torch
import torch.nn.functional as F

from course_utils import translation as T
from course_utils.exercises import NotYet, translation

REPO = Path(__file__).resolve().parent.parent


def _lsgan(real, fake):
    return 0.5 * F.mse_loss(real, torch.ones_like(real)) + 0.5 * F.mse_loss(fake, torch.zeros_like(fake))


def test_lsgan_checker():
    translation.check_lsgan_discriminator_loss(_lsgan)
    translation.check_lsgan_discriminator_loss(T.lsgan_discriminator_loss)
    with pytest.raises(NotYet, match="swapped"):
        translation.check_lsgan_discriminator_loss(lambda r, f: _lsgan(f, r))
    with pytest.raises(NotYet, match="twice"):
        translation.check_lsgan_discriminator_loss(lambda r, f: 2 * _lsgan(r, f))
    with pytest.raises(NotYet, match="cross-entropy"):
        translation.check_lsgan_discriminator_loss(
            lambda r, f: F.binary_cross_entropy_with_logits(r, torch.ones_like(r))
            + F.binary_cross_entropy_with_logits(f, torch.zeros_like(f)))
    with pytest.raises(NotYet, match="one number"):
        translation.check_lsgan_discriminator_loss(lambda r, f: (r - 1) ** 2)
    with pytest.raises(NotYet, match="expected"):
        translation.check_lsgan_discriminator_loss(
            lambda r, f: 0.5 * (r - 1).abs().mean() + 0.5 * f.abs().mean())


def _cycle(G, F_, x, y):
    fake_y, fake_x = G(x), F_(y)
    return (F_(fake_y) - x).abs().mean() + (G(fake_x) - y).abs().mean(), fake_y, fake_x


def test_cycle_checker():
    translation.check_cycle_consistency_loss(_cycle)
    translation.check_cycle_consistency_loss(T.cycle_consistency_loss)
    with pytest.raises(NotYet, match="three things"):
        translation.check_cycle_consistency_loss(lambda G, F_, x, y: _cycle(G, F_, x, y)[0])
    with pytest.raises(NotYet, match="only one of the two"):
        translation.check_cycle_consistency_loss(
            lambda G, F_, x, y: ((F_(G(x)) - x).abs().mean(), G(x), F_(y)))
    with pytest.raises(NotYet, match="squared"):
        translation.check_cycle_consistency_loss(
            lambda G, F_, x, y: (F.mse_loss(F_(G(x)), x) + F.mse_loss(G(F_(y)), y), G(x), F_(y)))
    with pytest.raises(NotYet, match="wrong way"):
        translation.check_cycle_consistency_loss(
            lambda G, F_, x, y: (F.l1_loss(G(F_(x)), x) + F.l1_loss(F_(G(y)), y), G(x), F_(y)))
    with pytest.raises(NotYet, match="G\\(x\\)"):
        translation.check_cycle_consistency_loss(lambda G, F_, x, y: (_cycle(G, F_, x, y)[0], F_(y), G(x)))
    with pytest.raises(NotYet, match="ran"):  # right, but translating everything twice
        translation.check_cycle_consistency_loss(
            lambda G, F_, x, y: (_cycle(G, F_, x, y)[0], G(x), F_(y)))


def _receptive_field(layers):
    r, jump = 1, 1
    for k, s in layers:
        r += (k - 1) * jump
        jump *= s
    return r


def test_receptive_field_checker():
    translation.check_receptive_field(_receptive_field)
    with pytest.raises(NotYet, match="without the strides"):
        translation.check_receptive_field(lambda layers: 1 + sum(k - 1 for k, _ in layers))
    with pytest.raises(NotYet, match="expected"):
        translation.check_receptive_field(lambda layers: sum(k for k, _ in layers))


def test_patch_count_checker():
    translation.check_patch_count(62 * 62)
    with pytest.raises(NotYet, match="count every layer"):
        translation.check_patch_count(64 * 64)
    with pytest.raises(NotYet, match="Square it"):
        translation.check_patch_count(62)
    with pytest.raises(NotYet, match="not it"):
        translation.check_patch_count(900)


def _notebook_08_cells():
    sys.path.insert(0, str(REPO / "tools"))
    from make_student import student_notebook

    nb = nbformat.read(REPO / "notebooks" / "08_image_translation.ipynb", as_version=4)
    student, _ = student_notebook(nb, "08_image_translation.ipynb")
    return [c.source for c in nb.cells if c.cell_type == "code"], \
        [c.source for c in student.cells if c.cell_type == "code"]


@pytest.mark.parametrize(("name", "check"), [("lsgan_discriminator_loss", "check_lsgan_discriminator_loss"),
                                             ("cycle_consistency_loss", "check_cycle_consistency_loss")])
def test_the_taught_cell_is_the_exercise_and_its_checker_follows_it(name, check):
    """make student blanks the taught (exported) cell itself; the next cell runs the checker on it first."""
    instructor, student = _notebook_08_cells()
    at = next(i for i, s in enumerate(instructor) if s.startswith(f"#| export translation\ndef {name}("))
    assert "### BEGIN SOLUTION" in instructor[at]
    assert "raise NotImplementedError" in student[at] and "### BEGIN SOLUTION" not in student[at]
    assert instructor[at + 1].startswith(f"cu.exercises.translation.{check}({name})")
    namespace = {"torch": torch, "nn": torch.nn, "Sequence": list}
    exec(student[at].split("\n", 1)[1], namespace)  # the learner's starting point: a TODO that raises
    with pytest.raises(NotImplementedError):
        getattr(translation, check)(namespace[name])
    getattr(translation, check)(getattr(T, name))  # the exported solution passes the same checker
