"""Every markdown cell's math renders on the course site as it does in JupyterLab.

The site (``book/conf.py``) renders markdown with MyST's ``dollarmath``. Its pairing of
dollars differs from JupyterLab's in corner cases: a ``$$ ... $$`` display inside a
paragraph once paired its dollars with the next inline ``$...$`` and the page printed raw
LaTeX (notebook 06's FID cell). The browser test of the built site catches that only after
every notebook has run; this test parses each cell with the site's own MyST settings in a
fraction of a second and names the cell.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))

mdit = pytest.importorskip("myst_parser.parsers.mdit", reason="the site extra (myst-parser) is not installed")


def site_myst_settings() -> dict:
    """The ``myst_*`` settings of book/conf.py (literal assignments only), without importing it."""
    tree = ast.parse((REPO / "book" / "conf.py").read_text(encoding="utf-8"))
    settings = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name.startswith("myst_"):
                settings[name.removeprefix("myst_")] = ast.literal_eval(node.value)
    return settings


def render(markdown: str, settings: dict) -> str:
    from markdown_it.renderer import RendererHTML
    from myst_parser.config.main import MdParserConfig

    config = MdParserConfig(enable_extensions=set(settings.get("enable_extensions", [])),
                            dmath_double_inline=settings.get("dmath_double_inline", False))
    return mdit.create_md_parser(config, RendererHTML).render(markdown)


MATH_OR_CODE = re.compile(r'<(span|div) class="math[^"]*">.*?</\1>|<code>.*?</code>|<pre>.*?</pre>', re.S)


def stray_dollars(markdown: str, settings: dict) -> list[str]:
    """Bits of text around each ``$`` left outside math and code after rendering."""
    text = MATH_OR_CODE.sub("", render(markdown, settings))
    return [text[max(0, m.start() - 40):m.start() + 40] for m in re.finditer(r"\$", text)]


def markdown_cells(path: Path) -> list[tuple[str, str]]:
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [(c.get("id", f"#{i}"), "".join(c["source"]))
            for i, c in enumerate(cells) if c["cell_type"] == "markdown"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_math_renders_on_the_site(path):
    settings = site_myst_settings()
    problems = [f"cell {cell_id}: ...{bit!r}..." for cell_id, source in markdown_cells(path)
                for bit in stray_dollars(source, settings)]
    assert not problems, (f"{path.name}: math that the site would print as raw LaTeX (a '$' left in the "
                          "text); check the pairing of $ and $$ in:\n  " + "\n  ".join(problems))


DISPLAY_IN_PARAGRAPH = ("the mean and the covariance,\n$$\\Sigma = \\frac{1}{N-1} S .$$\n"
                        "A $D \\times D$ covariance from $N \\le D$ samples is singular.")


def test_display_math_inside_a_paragraph_renders_with_the_site_settings():
    assert site_myst_settings().get("dmath_double_inline") is True
    assert stray_dollars(DISPLAY_IN_PARAGRAPH, site_myst_settings()) == []


def test_the_check_finds_raw_latex():
    """Without the site's setting, the cell that broke notebook 06's page is caught."""
    settings = {**site_myst_settings(), "dmath_double_inline": False}
    assert stray_dollars(DISPLAY_IN_PARAGRAPH, settings)
    assert stray_dollars("an unpaired $x + 1 in the text", site_myst_settings())
