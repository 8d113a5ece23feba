"""Student notebooks: solutions replaced by a TODO that raises, outputs cleared, still valid notebooks."""

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
from make_student import MarkerError, strip_solutions, student_notebook  # noqa: E402

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def test_strip_solutions_keeps_indentation_and_uses_the_hint():
    source = "\n".join([
        "def f(x):",
        "    ### BEGIN SOLUTION",
        "    ### HINT: square it",
        "    return x * x",
        "    ### END SOLUTION",
        "",
        "check(f)",
    ])
    out, n = strip_solutions(source)
    assert n == 1
    assert out.splitlines() == ["def f(x):", "    # TODO: square it",
                                "    raise NotImplementedError('Exercise: square it')", "", "check(f)"]
    namespace = {"check": lambda f: f(2)}
    with pytest.raises(NotImplementedError, match="square it"):
        exec(out, namespace)


@pytest.mark.parametrize("source", [
    "### BEGIN SOLUTION\nx = 1",
    "x = 1\n### END SOLUTION",
    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION",
])
def test_unbalanced_markers_are_errors(source):
    with pytest.raises(MarkerError):
        strip_solutions(source)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_student_version_of_each_notebook(path):
    instructor = nbformat.read(path, as_version=4)
    markers = sum(c.source.count("### BEGIN SOLUTION") for c in instructor.cells if c.cell_type == "code")
    assert markers >= 2, f"{path.name} should have checkable exercises with marked solutions"
    student, n = student_notebook(instructor, path.name)
    nbformat.validate(student)
    assert n == markers
    code = "\n".join(c.source for c in student.cells if c.cell_type == "code")
    assert "SOLUTION" not in code and code.count("raise NotImplementedError") >= n
    assert all(c.outputs == [] for c in student.cells if c.cell_type == "code")
    # the instructor notebook itself is unchanged
    assert nbformat.read(path, as_version=4) == instructor


def test_make_student_writes_valid_notebooks(tmp_path):
    subprocess.run([sys.executable, str(REPO / "tools" / "make_student.py"), "--out", str(tmp_path)],
                   check=True, capture_output=True)
    written = sorted((tmp_path / "notebooks").glob("*.ipynb"))
    assert [p.name for p in written] == [p.name for p in NOTEBOOKS]
    for p in written:
        nbformat.validate(nbformat.read(p, as_version=4))
        assert json.loads(p.read_text())["metadata"]["course"]["version"] == "student"
