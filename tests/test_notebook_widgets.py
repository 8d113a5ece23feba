"""Interactive callbacks in the notebooks return nothing, so that a widget shows only its figure.

``ipywidgets.interact`` (and ``interactive`` built by it) *displays the value its function
returns*: a callback that draws a figure and also returns the image tensor prints hundreds
of lines of ``tensor([[[...`` under the figure at every change of a control (notebook 05's
digit picker did). ``observe``, ``on_click``, ``on_submit`` and ``interactive_output``
discard return values, but a named callback that returns something is the same mistake
waiting for someone to switch to ``interact``, so the rule is the same for all of them.

Two kinds of check:

* static, for every notebook: parse each code cell with ``ast``, find the functions passed
  to those widget functions (or decorated with ``@interact``), and fail when one returns a
  value;
* dynamic, once: run notebook 05's own picker cells (``styles``, ``pick`` and the
  ``interact`` cell, with a small untrained conditional generator in place of the trained
  one) and check that ipywidgets displays nothing for the callback's result.
"""

from __future__ import annotations

import ast
import json
import types
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))

#: widget functions that display what their callback returns
DISPLAYING = {"interact", "interact_manual", "interactive"}
#: widget functions and methods that ignore what their callback returns
DISCARDING = {"interactive_output", "observe", "on_click", "on_submit", "on_trait_change"}


def code_cells(path: Path) -> list[tuple[int, str]]:
    """(index, source) of every code cell, IPython magics and shell lines blanked out."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    out = []
    for i, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        lines = ["" if line.lstrip().startswith(("%", "!")) else line for line in src.splitlines()]
        out.append((i, "\n".join(lines)))
    return out


def _called_name(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def returned_values(fn: ast.FunctionDef | ast.Lambda) -> list[ast.AST]:
    """The ``return <value>`` statements of a function (not of functions nested in it); a lambda's body."""
    if isinstance(fn, ast.Lambda):
        body = fn.body
        return [] if isinstance(body, ast.Constant) and body.value is None else [body]
    found, todo = [], list(fn.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef):
            continue
        if isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            found.append(node)
        todo.extend(ast.iter_child_nodes(node))
    return found


def callback_problems(cells: list[tuple[int, str]], where: str) -> list[str]:
    """One message per widget callback that returns a value."""
    trees = [(i, ast.parse(src)) for i, src in cells]
    defs: dict[str, ast.FunctionDef] = {}
    for _, tree in trees:  # the notebook's functions, last definition wins (as when run top to bottom)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                defs[node.name] = node
    problems = []

    def check(cb: ast.expr, kind: str, cell: int) -> None:
        if isinstance(cb, ast.Lambda):
            if kind in DISCARDING:
                return  # ipywidgets throws a lambda's value away (test_discarded_return_values_print_nothing)
            fn, name = cb, "a lambda"
        elif isinstance(cb, ast.Name) and cb.id in defs:
            fn, name = defs[cb.id], f"`{cb.id}`"
        else:
            if kind in DISPLAYING:
                problems.append(f"{where}, cell {cell}: {kind}() gets {ast.unparse(cb)!r}, which this test "
                                "cannot check; pass a function defined in the notebook")
            return
        for ret in returned_values(fn):
            line = getattr(ret, "lineno", fn.lineno)
            value = ret.value if isinstance(ret, ast.Return) else ret
            problems.append(f"{where}, cell {cell}: {name}, passed to {kind}(), returns a value "
                            f"(`{ast.unparse(value)}`, line {line}); ipywidgets "
                            f"{'displays it under the output' if kind in DISPLAYING else 'ignores it'}. "
                            "Draw the figure and return nothing; put what you want to check in a "
                            "separate function")

    for cell, tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                kind = _called_name(node.func)
                if kind in DISPLAYING | DISCARDING and node.args:
                    check(node.args[0], kind, cell)
            elif isinstance(node, ast.FunctionDef):
                for dec in node.decorator_list:
                    kind = _called_name(dec.func if isinstance(dec, ast.Call) else dec)
                    if kind in DISPLAYING:
                        check(ast.Name(id=node.name), kind, cell)
    return problems


def widget_cells(path: Path) -> int:
    return sum(any(f"{k}(" in src for k in DISPLAYING | DISCARDING) for _, src in code_cells(path))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_widget_callbacks_return_nothing(path):
    problems = callback_problems(code_cells(path), path.name)
    assert not problems, "\n".join(problems)


def test_the_check_finds_callbacks_that_return_values():
    bad = [
        (0, "def pick(digit=3):\n    images = draw(digit)\n    return images[digit]\n"),
        (1, "import ipywidgets as widgets\nwidgets.interact(pick, digit=widgets.Dropdown(options=[1]));"),
        (2, "button.on_click(on_run)\ninteractive(lambda x: x * 2, x=1)\n"),
        (3, "def on_run(_):\n    if ready:\n        return run()\n"),
        (4, "@widgets.interact(x=(0, 5))\ndef show(x):\n    return x\n"),
    ]
    problems = callback_problems(bad, "bad.ipynb")
    assert len(problems) == 4, problems
    assert "`pick`, passed to interact(), returns a value (`images[digit]`" in problems[0]
    good = [(0, "def pick(digit=3):\n    def inner():\n        return 1\n    draw(inner())\n    return\n"),
            (1, "widgets.interact(pick, digit=1)\n"
                "style.observe(lambda c: setattr(b, 'value', 1), names='value')")]
    assert callback_problems(good, "good.ipynb") == []


def test_the_notebooks_have_interactive_cells_to_check():
    counts = {p.name: widget_cells(p) for p in NOTEBOOKS}
    assert counts.get("03_gan.ipynb", 0) >= 1 and counts.get("05_conditional_gan.ipynb", 0) >= 1, counts


def test_discarded_return_values_print_nothing(capsys):
    """What DISCARDING claims: ipywidgets ignores the return values of click and observe callbacks."""
    widgets = pytest.importorskip("ipywidgets")
    import torch

    button, slider = widgets.Button(), widgets.IntSlider()
    button.on_click(lambda _: torch.zeros(3))
    slider.observe(lambda change: torch.zeros(3), names="value")
    button.click()
    slider.value = 3
    assert "tensor" not in capsys.readouterr().out
    shown = widgets.interactive(lambda x: torch.zeros(3), {"auto_display": True}, x=1)
    assert shown.result is not None  # while interact displays what its callback returns


def test_the_digit_picker_of_notebook_05_displays_nothing_but_its_figure(capsys):
    """Run notebook 05's own `styles`, `pick` and interact cells, with a small untrained generator."""
    widgets = pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import torch
    import torch.nn.functional as F

    import course_utils as cu

    cells = code_cells(REPO / "notebooks" / "05_conditional_gan.ipynb")
    picker = [src for _, src in cells if "def styles(" in src or "def pick(" in src]  # one or two cells
    interact_cell = next(src for _, src in cells if "interact(pick" in src)
    functions = [n for src in picker for n in ast.parse(src).body if isinstance(n, ast.FunctionDef)]
    defs = ast.Module(body=functions, type_ignores=[])
    torch.manual_seed(0)
    config = cu.cgan.CganConfig(g_channels=4)
    run = types.SimpleNamespace(G=cu.cgan.ConditionalGenerator(config.latent_dim, 4).eval(), config=config)
    namespace = {"cu": cu, "torch": torch, "plt": plt, "F": F, "run": run}
    exec(compile(defs, "05_conditional_gan.ipynb", "exec"), namespace)
    assert namespace["styles"](5).shape == (10, 1, 28, 28)

    capsys.readouterr()
    exec(compile(interact_cell, "05_conditional_gan.ipynb", "exec"), namespace)  # calls pick once
    shown = widgets.interactive(namespace["pick"], {"auto_display": True}, digit=[3, 7], seed=(0, 99))
    shown.children[0].value = 7  # a change of the control calls pick again
    printed = capsys.readouterr().out
    plt.close("all")
    assert shown.result is None
    assert "tensor(" not in printed, printed[:500]
