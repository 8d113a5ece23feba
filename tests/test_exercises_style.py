"""The checkers of notebook 02 accept the reference answers and reject wrong ones with a hint."""

import sys
from pathlib import Path

import nbformat
import pytest
import torch

from course_utils import style as S
from course_utils.exercises import NotYet, style

REPO = Path(__file__).resolve().parent.parent


def _gram(f):
    b, c, h, w = f.shape
    x = f.reshape(b, c, h * w)
    return x @ x.transpose(1, 2) / (h * w)


def test_gram_matrix():
    style.check_gram_matrix(_gram)
    with pytest.raises(NotYet, match="did not divide"):
        style.check_gram_matrix(lambda f: _gram(f) * f.shape[2] * f.shape[3])
    with pytest.raises(NotYet, match=r"C \* H \* W"):
        style.check_gram_matrix(lambda f: _gram(f) / f.shape[1])
    with pytest.raises(NotYet, match="one row per position"):
        style.check_gram_matrix(lambda f: f.flatten(2).transpose(1, 2) @ f.flatten(2))
    with pytest.raises(NotYet, match="whole batch"):
        style.check_gram_matrix(lambda f: _gram(f).sum(0))
    with pytest.raises(NotYet, match="values differ"):
        style.check_gram_matrix(lambda f: _gram(f) + 1)


def test_style_layer_loss():
    style.check_style_layer_loss(lambda g, a: ((g - a) ** 2).mean() / 4)
    with pytest.raises(NotYet, match="1/4"):
        style.check_style_layer_loss(lambda g, a: ((g - a) ** 2).mean())
    with pytest.raises(NotYet, match="summed"):
        style.check_style_layer_loss(lambda g, a: ((g - a) ** 2).sum())
    with pytest.raises(NotYet, match="reference gives"):
        style.check_style_layer_loss(lambda g, a: (g - a).abs().mean() / 4)
    with pytest.raises(NotYet, match="one number"):
        style.check_style_layer_loss(lambda g, a: (g - a) ** 2 / 4)


def test_total_variation():
    def tv(x):
        dy = (x[..., 1:, :] - x[..., :-1, :]).abs().sum()
        dx = (x[..., 1:] - x[..., :-1]).abs().sum()
        return (dx + dy) / x.numel()

    style.check_total_variation(tv)
    with pytest.raises(NotYet, match="one direction"):
        style.check_total_variation(lambda x: (x[..., 1:] - x[..., :-1]).abs().sum() / x.numel())
    with pytest.raises(NotYet, match="did not divide"):
        style.check_total_variation(lambda x: tv(x) * x.numel())
    with pytest.raises(NotYet, match="flat image"):
        style.check_total_variation(lambda x: x.abs().mean())
    with pytest.raises(NotYet, match="reference gives"):
        style.check_total_variation(lambda x: tv(x) ** 2)


def test_sizes_at_relu3_1():
    style.check_sizes_at_relu3_1(256 * 128 * 128, 256 * 256)
    with pytest.raises(NotYet, match="poolings"):
        style.check_sizes_at_relu3_1(256 * 512 * 512, 256 * 256)
    with pytest.raises(NotYet, match="whatever the image size"):
        style.check_sizes_at_relu3_1(256 * 128 * 128, 128 * 128 * 256 * 256)


def _notebook_02_code_cells():
    sys.path.insert(0, str(REPO / "tools"))
    from make_student import student_notebook

    nb = nbformat.read(REPO / "notebooks" / "02_style_transfer.ipynb", as_version=4)
    student, _ = student_notebook(nb, "02_style_transfer.ipynb")
    return ([c.source for c in nb.cells if c.cell_type == "code"],
            [c.source for c in student.cells if c.cell_type == "code"])


@pytest.mark.parametrize("name, check", [("gram_matrix", "check_gram_matrix"),
                                         ("gram_loss", "check_style_layer_loss")])
def test_the_taught_cell_is_the_exercise_and_its_checker_follows_it(name, check):
    """make student blanks the taught (exported) cell itself; the next code cell runs the checker on it."""
    instructor, student = _notebook_02_code_cells()
    at = next(i for i, src in enumerate(instructor) if src.startswith(f"#| export style\ndef {name}("))
    assert "### BEGIN SOLUTION" in instructor[at]
    assert "raise NotImplementedError" in student[at] and "### BEGIN SOLUTION" not in student[at]
    assert instructor[at + 1].strip() == f"cu.exercises.style.{check}({name})"
    namespace = {"torch": torch}
    exec(student[at].split("\n", 1)[1], namespace)  # the learner's starting point: a TODO that raises
    with pytest.raises(NotImplementedError):
        getattr(style, check)(namespace[name])
    getattr(style, check)(getattr(S, name))  # the exported solution passes the same checker
