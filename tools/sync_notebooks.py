"""Write or refresh the "Open in Colab" badges and the Colab setup cell of every notebook,
and the notebook table of the README, from pyproject.toml (the one place that names the
repository and lists the notebooks).

    python tools/sync_notebooks.py          # rewrite what is out of date
    python tools/sync_notebooks.py --check  # only report; exit status 1 if anything is out of date
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
BADGE_ID, SETUP_ID = "colab-badge", "colab-setup"
BADGE_SVG = "https://colab.research.google.com/assets/colab-badge.svg"
README_START, README_END = "<!-- notebooks:start -->", "<!-- notebooks:end -->"


def course() -> dict:
    """Repository location and table of contents from pyproject.toml."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    url = project["project"]["urls"]["Repository"].rstrip("/")
    prefix = "https://github.com/"
    if not url.startswith(prefix) or url[len(prefix):].count("/") != 1:
        raise SystemExit(f"[project.urls] Repository must look like {prefix}OWNER/REPO, got {url}")
    return {"repo": url[len(prefix):], "url": url, **project["tool"]["course"]}


def colab_url(repo: str, file: str) -> str:
    return f"https://colab.research.google.com/github/{repo}/blob/main/notebooks/{file}"


def badge(repo: str, file: str) -> str:
    return f"[![Open In Colab]({BADGE_SVG})]({colab_url(repo, file)})"


def setup_source(url: str) -> str:
    return "\n".join([
        "# Google Colab only: install the course, then choose where data and trained models go.",
        "# Colab's torch and torchvision already satisfy the course, so pip keeps them.",
        "# Locally (JupyterLab, VS Code) this cell does nothing.",
        "import sys",
        "",
        'if "google.colab" in sys.modules:',
        f'    %pip install --quiet "image-generation-course @ git+{url}@main"',
        "    from course_utils.colab import configure_colab",
        "",
        "    configure_colab(checkpoints_on_drive=True)  # False: keep trained models in this session only",
    ])


def header_cells(c: dict, file: str) -> list:
    badge_cell = nbformat.v4.new_markdown_cell(badge(c["repo"], file), id=BADGE_ID)
    setup_cell = nbformat.v4.new_code_cell(setup_source(c["url"]), id=SETUP_ID)
    return [badge_cell, setup_cell]


def sync_notebook(path: Path, c: dict, write: bool) -> bool:
    """Make the first two cells the badge and the setup cell. Returns True if it was out of date."""
    nb = nbformat.read(path, as_version=4)
    body = [cell for cell in nb.cells if cell.get("id") not in (BADGE_ID, SETUP_ID)]
    wanted = header_cells(c, path.name)
    current = nb.cells[:2]
    same = len(current) == 2 and all(
        a.get("id") == b["id"] and a.cell_type == b.cell_type and a.source == b.source
        for a, b in zip(current, wanted, strict=True))
    if same:
        return False
    if write:
        nb.cells = wanted + body
        nbformat.validate(nb)
        nbformat.write(nb, path)
    return True


def readme_table(c: dict) -> str:
    rows = ["| # | notebook | what you do | Colab |", "|---|---|---|---|"]
    for nb in c["notebooks"]:
        number = nb["file"][:2]
        rows.append(f"| {number} | [{nb['title']}](notebooks/{nb['file']}) | {nb['summary']} | "
                    f"{badge(c['repo'], nb['file'])} |")
    return "\n".join(rows)


def sync_readme(c: dict, write: bool) -> bool:
    path = REPO / "README.md"
    text = path.read_text()
    if README_START not in text or README_END not in text:
        raise SystemExit(f"README.md needs the markers {README_START} and {README_END}")
    head, rest = text.split(README_START, 1)
    _, tail = rest.split(README_END, 1)
    new = f"{head}{README_START}\n{readme_table(c)}\n{README_END}{tail}"
    if new == text:
        return False
    if write:
        path.write_text(new)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report only; exit 1 if out of date")
    args = parser.parse_args(argv)
    c = course()
    stale = []
    for nb in c["notebooks"]:
        path = REPO / "notebooks" / nb["file"]
        if not path.exists():
            raise SystemExit(f"pyproject.toml lists notebooks/{nb['file']}, which does not exist")
        if sync_notebook(path, c, write=not args.check):
            stale.append(str(path.relative_to(REPO)))
    listed = {nb["file"] for nb in c["notebooks"]}
    unlisted = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb") if p.name not in listed)
    if unlisted:
        raise SystemExit(f"notebooks missing from [tool.course] in pyproject.toml: {', '.join(unlisted)}")
    if sync_readme(c, write=not args.check):
        stale.append("README.md")
    if args.check:
        if stale:
            print("Out of date (run `make badges`):", ", ".join(stale))
            return 1
        print("Colab badges, setup cells and README table are up to date.")
    else:
        print("Updated:", ", ".join(stale) if stale else "nothing (all up to date)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
