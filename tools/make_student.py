"""Write the student versions of the notebooks: solutions replaced by a TODO, outputs cleared.

In the instructor notebooks every exercise solution sits between two marker lines:

    ### BEGIN SOLUTION
    ...the solution...
    ### END SOLUTION

Each such block becomes ``raise NotImplementedError("...")`` at the same indentation,
with the hint given by an optional ``### HINT: ...`` line right after BEGIN SOLUTION.
The exercise's checker cell stays, so a student who fills in the TODO sees at once
whether the answer is right.

    python tools/make_student.py [--out build/student]
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
BEGIN = re.compile(r"^(?P<indent>\s*)### BEGIN SOLUTION\s*$")
END = re.compile(r"^\s*### END SOLUTION\s*$")
HINT = re.compile(r"^\s*### HINT:\s*(?P<hint>.+?)\s*$")
DEFAULT_HINT = "write your solution here, then run the cell to check it"


class MarkerError(ValueError):
    """Unbalanced or nested solution markers."""


def strip_solutions(source: str, where: str = "cell") -> tuple[str, int]:
    """Replace each solution block of a cell's source; return the new source and the block count."""
    out, blocks, inside, hint, indent = [], 0, False, DEFAULT_HINT, ""
    for number, line in enumerate(source.splitlines(), 1):
        if m := BEGIN.match(line):
            if inside:
                raise MarkerError(f"{where}, line {number}: BEGIN SOLUTION inside another solution")
            inside, indent, hint = True, m["indent"], DEFAULT_HINT
            continue
        if END.match(line):
            if not inside:
                raise MarkerError(f"{where}, line {number}: END SOLUTION without BEGIN SOLUTION")
            out.append(f"{indent}# TODO: {hint}")
            out.append(f"{indent}raise NotImplementedError({('Exercise: ' + hint)!r})")
            inside, blocks = False, blocks + 1
            continue
        if inside:
            if m := HINT.match(line):
                hint = m["hint"]
            continue
        out.append(line)
    if inside:
        raise MarkerError(f"{where}: BEGIN SOLUTION is never closed by END SOLUTION")
    return "\n".join(out), blocks


def student_notebook(nb: nbformat.NotebookNode, name: str) -> tuple[nbformat.NotebookNode, int]:
    """A copy of ``nb`` without solutions and outputs, and the number of solution blocks removed."""
    nb = nbformat.from_dict(nb)
    total = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.source, n = strip_solutions(cell.source, f"{name}, cell {i}")
            total += n
            cell.outputs, cell.execution_count = [], None
        elif "### BEGIN SOLUTION" in cell.source:
            raise MarkerError(f"{name}, cell {i}: solution markers belong in code cells")
    nb.metadata["course"] = {"version": "student"}
    return nb, total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write student versions of the notebooks.")
    parser.add_argument("--out", type=Path, default=REPO / "build" / "student")
    args = parser.parse_args(argv)
    out = args.out / "notebooks"
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        nb, n = student_notebook(nbformat.read(path, as_version=4), path.name)
        nbformat.validate(nb)
        nbformat.write(nb, out / path.name)
        print(f"{path.name}: {n} exercise solution(s) replaced -> {out / path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
