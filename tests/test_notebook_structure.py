"""How the notebooks are written (CONTRIBUTING.md, STYLE.md), checked on every notebook's cells.

* **One definition per name.** A function or class that one notebook defines at the top
  level of a code cell is not defined again by another notebook: a later notebook imports
  the promoted copy (``cu.gan.generate``) instead. Two notebooks writing the same helper
  drift apart, and a learner who edits one sees only half the course change. Methods
  attached with ``@add_to_class(C)`` count as ``C.name`` (``Generator.forward`` and
  ``VAE.forward`` are different things). Not counted: the learner's answers in exercise
  cells (a non-exported cell with ``### BEGIN SOLUTION`` markers), which may rewrite a
  variant of something taught; the in-flow exercises inside ``#| export`` cells *are*
  taught definitions and count. The same name defined twice *inside* one notebook is
  refused too: the rest of the notebook would silently use the second one.
  ``ALLOWED_REPEATS`` lists deliberate exceptions, each with its reason (none today).
* **Narration.** Every code cell comes right after a markdown cell that says what it does
  (no exceptions: the Colab cell follows the badge, the set-up cell its section).
* **Ending.** The last two sections are ``## Summary`` and ``## Exercises``.
* **show_source is for infrastructure.** ``cu.show_source(obj)`` prints package code as
  output; it is never used for what a notebook teaches (that is a code cell). Every
  object a notebook passes to it must resolve, with the notebook's own imports, to a
  hand-written module of ``course_utils`` (not a generated one, and not a notebook global).

The checks are plain functions of a notebook's cells, so the tests below also run them on
small made-up notebooks to show that each one can fail.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))

_spec = importlib.util.spec_from_file_location("_export_tool", REPO / "tools" / "export.py")
export = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("_export_tool", export)
_spec.loader.exec_module(export)

#: name -> why two notebooks may both define it (keep this short; prefer importing)
ALLOWED_REPEATS: dict[str, str] = {}

SOLUTION = "### BEGIN SOLUTION"
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


def load_cells(path: Path) -> list[dict]:
    """The notebook's cells, each ``{"type", "source"}`` (source as one string)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [{"type": c["cell_type"],
             "source": "".join(c["source"]) if isinstance(c["source"], list) else c["source"]}
            for c in cells]


def parse_code(source: str) -> ast.Module:
    """A code cell as Python: IPython magics and shell lines are blanked out."""
    lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines()]
    return ast.parse("\n".join(lines))


def _called_name(node: ast.AST) -> str | None:
    """``f`` of a call ``f(...)`` or ``x.f(...)``; None for anything else."""
    if not isinstance(node, ast.Call):
        return None
    return getattr(node.func, "id", getattr(node.func, "attr", None))


def _add_to_class_target(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """``C`` when the function is decorated with ``@add_to_class(C)`` (or ``@cu.add_to_class(m.C)``)."""
    for dec in fn.decorator_list:
        if _called_name(dec) == "add_to_class" and dec.args:
            return ast.unparse(dec.args[0]).split(".")[-1]
    return None


def definitions(cells: list[dict]) -> dict[str, list[int]]:
    """Top-level functions and classes of the code cells -> the indices of the cells defining them.

    ``@add_to_class(C) def f`` is ``C.f``; exercise answers outside ``#| export`` cells are skipped.
    """
    found: dict[str, list[int]] = defaultdict(list)
    for index, cell in enumerate(cells):
        if cell["type"] != "code":
            continue
        exported = export.TAG.match(cell["source"].lstrip().split("\n", 1)[0].strip()) is not None
        if SOLUTION in cell["source"] and not exported:
            continue
        for node in parse_code(cell["source"]).body:
            if isinstance(node, ast.ClassDef):
                found[node.name].append(index)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                target = _add_to_class_target(node)
                found[f"{target}.{node.name}" if target else node.name].append(index)
    return dict(found)


def repeated_definitions(notebooks: dict[str, list[dict]]) -> dict[str, list[str]]:
    """Notebook name -> problems: names it defines twice, or that an earlier notebook defines."""
    problems: dict[str, list[str]] = {name: [] for name in notebooks}
    first: dict[str, str] = {}
    for name in sorted(notebooks):
        for symbol, cells in definitions(notebooks[name]).items():
            if symbol in ALLOWED_REPEATS:
                continue
            if len(cells) > 1:
                problems[name].append(f"{symbol!r} is defined in cells {cells} of this notebook: keep one "
                                      "definition, or give the variant its own name")
            if symbol in first:
                problems[name].append(f"{symbol!r} (cell {cells[0]}) is already defined in {first[symbol]}: "
                                      "import the promoted copy (#| export there) instead of writing it "
                                      "again, or give a different thing a different name")
            else:
                first[symbol] = name
    return problems


def code_without_markdown_before(cells: list[dict]) -> list[int]:
    """Indices of code cells that do not come right after a markdown cell."""
    return [i for i, cell in enumerate(cells)
            if cell["type"] == "code" and (i == 0 or cells[i - 1]["type"] != "markdown")]


def section_headings(cells: list[dict]) -> list[str]:
    """The ``## `` headings of the markdown cells, in order (code fences skipped)."""
    out = []
    for cell in cells:
        if cell["type"] != "markdown":
            continue
        fenced = False
        for line in cell["source"].splitlines():
            if line.lstrip().startswith("```"):
                fenced = not fenced
            elif not fenced and (m := HEADING.match(line)) and len(m[1]) == 2:
                out.append(m[2])
    return out


def show_source_arguments(cells: list[dict]) -> list[tuple[int, str]]:
    """(cell index, argument expression) of every ``show_source(...)`` call in the code cells."""
    out = []
    for index, cell in enumerate(cells):
        if cell["type"] != "code":
            continue
        for node in ast.walk(parse_code(cell["source"])):
            if _called_name(node) == "show_source":
                out.append((index, ast.unparse(node.args[0]) if node.args else ""))
    return out


def import_namespace(cells: list[dict]) -> dict:
    """The names the notebook's top-level import statements bind (they are run, nothing else is)."""
    namespace: dict = {}
    for cell in cells:
        if cell["type"] != "code":
            continue
        for node in parse_code(cell["source"]).body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                statement = ast.Module(body=[node], type_ignores=[])
                exec(compile(statement, "<notebook imports>", "exec"), namespace)
    return namespace


def show_source_problems(cells: list[dict]) -> list[str]:
    """show_source calls whose argument is not hand-written course_utils code."""
    calls = show_source_arguments(cells)
    if not calls:
        return []
    namespace = import_namespace(cells)
    package = (REPO / "course_utils").resolve()
    problems = []
    for index, expr in calls:
        try:
            obj = eval(expr, dict(namespace))  # noqa: S307 - a dotted name from our own notebooks
            path = Path(inspect.getsourcefile(inspect.unwrap(obj))).resolve()
        except Exception as err:  # noqa: BLE001 - any failure to resolve is the finding
            problems.append(f"cell {index}: show_source({expr}) does not resolve to package code with the "
                            f"notebook's imports ({type(err).__name__}: {err}); a notebook's own definitions "
                            "are code cells, not show_source listings")
            continue
        if not path.is_relative_to(package):
            problems.append(f"cell {index}: show_source({expr}) shows {path}, which is not course_utils code")
        elif export.is_generated(path):
            problems.append(f"cell {index}: show_source({expr}) shows generated code "
                            f"({path.relative_to(REPO)}): it is taught in a notebook, so write it there as a "
                            "code cell (or import it); show_source is for hand-written infrastructure")
    return problems


# --- the notebooks ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def all_notebooks() -> dict[str, list[dict]]:
    return {path.name: load_cells(path) for path in NOTEBOOKS}


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 6, NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_notebook_defines_what_another_defines(path, all_notebooks):
    problems = repeated_definitions(all_notebooks)[path.name]
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_code_cell_follows_a_markdown_cell(path, all_notebooks):
    cells = all_notebooks[path.name]
    bad = code_without_markdown_before(cells)
    assert not bad, (f"{path.name}: code cells {bad} come right after another code cell; put a markdown "
                     "cell before each that says what it does (or merge the two cells): "
                     + "; ".join(f"[{i}] {cells[i]['source'].strip().splitlines()[0][:60]!r}" for i in bad))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_notebook_ends_with_summary_and_exercises(path, all_notebooks):
    headings = section_headings(all_notebooks[path.name])
    assert headings[-2:] == ["Summary", "Exercises"], \
        f"{path.name}: the last sections should be '## Summary' and '## Exercises', found {headings[-2:]}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_show_source_only_shows_hand_written_infrastructure(path, all_notebooks):
    problems = show_source_problems(all_notebooks[path.name])
    assert not problems, f"{path.name}:\n  " + "\n  ".join(problems)


# --- each check can fail ------------------------------------------------------------------------

def md(text: str) -> dict:
    return {"type": "markdown", "source": text}


def code(text: str) -> dict:
    return {"type": "code", "source": text}


def test_a_helper_written_in_two_notebooks_is_found_in_the_later_one():
    notebooks = {
        "01_a.ipynb": [md("x"), code("#| export ops\ndef time_ms(fn):\n    return 1.0")],
        "07_b.ipynb": [md("x"), code("def time_ms(fn, repeats=3):\n    return 2.0")],
    }
    problems = repeated_definitions(notebooks)
    assert problems["01_a.ipynb"] == []
    assert len(problems["07_b.ipynb"]) == 1 and "'time_ms'" in problems["07_b.ipynb"][0] \
        and "01_a.ipynb" in problems["07_b.ipynb"][0]


def test_methods_count_per_class_and_exercise_answers_are_not_counted():
    notebooks = {
        "03_a.ipynb": [md("x"), code("class G:\n    pass"), md("x"),
                       code("@add_to_class(G)\ndef forward(self, z):\n    return z")],
        "04_b.ipynb": [md("x"), code("class VAE:\n    pass"), md("x"),
                       code("@add_to_class(VAE)\ndef forward(self, x):\n    return x"), md("x"),
                       code("def G():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION")],
    }
    assert definitions(notebooks["03_a.ipynb"]) == {"G": [1], "G.forward": [3]}
    assert definitions(notebooks["04_b.ipynb"]) == {"VAE": [1], "VAE.forward": [3]}
    assert repeated_definitions(notebooks) == {"03_a.ipynb": [], "04_b.ipynb": []}
    # an in-flow exercise (solution inside an exported cell) is a taught definition and counts
    taught = [md("x"), code("#| export gan\ndef G():\n    ### BEGIN SOLUTION\n    return 1\n"
                            "    ### END SOLUTION")]
    assert repeated_definitions({"03_a.ipynb": notebooks["03_a.ipynb"], "05_c.ipynb": taught})["05_c.ipynb"]


def test_a_name_defined_twice_in_one_notebook_is_found():
    cells = [md("x"), code("def f():\n    pass"), md("x"), code("%time f()\ndef f():\n    return 1")]
    (problem,) = repeated_definitions({"02_a.ipynb": cells})["02_a.ipynb"]
    assert "'f'" in problem and "[1, 3]" in problem


def test_code_after_code_is_found():
    cells = [md("# T"), code("a = 1"), code("b = 2"), md("text"), code("c = 3"), code("d = 4")]
    assert code_without_markdown_before(cells) == [2, 5]
    assert code_without_markdown_before([code("a = 1")]) == [0]


def test_the_ending_sections_are_read_from_the_headings():
    cells = [md("# 01 · Title\n## 1. Part"), code("x = 1"), md("## Summary\n\n* a\n\n## Exercises\n\n**1.**")]
    assert section_headings(cells)[-2:] == ["Summary", "Exercises"]
    missing = [md("# T\n## 1. Part\n## Summary\n```\n## not a heading\n```")]
    assert section_headings(missing)[-2:] == ["1. Part", "Summary"]


def test_show_source_of_taught_or_notebook_code_is_refused():
    cells = [md("x"), code("import course_utils as cu\nfrom course_utils import metrics"),
             md("x"), code("cu.show_source(cu.ops.conv2d_loops)"),            # generated from notebook 01
             md("x"), code("def mine():\n    pass\ncu.show_source(mine)"),    # a notebook global
             md("x"), code("cu.show_source(cu.training.fit)"),                # no longer in the package
             md("x"), code("cu.show_source(metrics.features.extract_features)\n"
                           "cu.show_source(cu.checkpoints.load_checkpoint)")]  # hand-written: fine
    problems = show_source_problems(cells)
    assert len(problems) == 3, problems
    assert "generated code (course_utils/ops.py)" in problems[0]
    assert problems[1].startswith("cell 5: show_source(mine) does not resolve")
    assert problems[2].startswith("cell 7: show_source(cu.training.fit) does not resolve")


# --- the package says which of its modules are taught and which are infrastructure -------------

def test_the_package_docstring_lists_every_module_in_the_right_table():
    """course_utils/__init__.py's two tables: generated modules with their notebook, and the rest."""
    import course_utils

    taught_part, infra_part = course_utils.__doc__.split("**Infrastructure**", 1)
    taught = dict(re.findall(r"^``([\w.]+)``\s+(\d\d)\s", taught_part, re.M))
    infra = set(re.findall(r"^``([\w.]+)``\s", infra_part, re.M))
    package = REPO / "course_utils"
    generated = {}  # module -> the number of the notebook it is generated from
    for path in export.generated_files():
        first = path.read_text(encoding="utf-8").split("\n", 1)[0]   # "... from notebooks/03_gan.ipynb: ..."
        module = ".".join(path.relative_to(package).with_suffix("").parts)
        generated[module] = first.split("notebooks/")[1][:2]
    assert taught == generated, \
        "the 'taught in the notebooks' table of course_utils/__init__.py is out of date"
    hand_written = {p.stem for p in package.glob("*.py") if not p.stem.startswith("_")} - set(generated)
    hand_written |= {p.name for p in package.iterdir() if (p / "__init__.py").exists()}  # metrics, exercises
    assert infra == hand_written, "the 'infrastructure' table of course_utils/__init__.py is out of date"
