"""The Colab badges, the Colab setup cells and the README table match pyproject.toml."""

import subprocess
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tools"))
from sync_notebooks import SETUP_ID, badge, course, readme_table, sync_notebook  # noqa: E402


def test_badges_setup_cells_and_readme_are_up_to_date():
    result = subprocess.run([sys.executable, str(REPO / "tools" / "sync_notebooks.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr + "\nRun `make badges` to refresh them."


def test_every_notebook_opens_with_its_badge_and_the_setup_cell():
    c = course()
    for entry in c["notebooks"]:
        nb = nbformat.read(REPO / "notebooks" / entry["file"], as_version=4)
        url = f"https://colab.research.google.com/github/{c['repo']}/blob/main/notebooks/{entry['file']}"
        assert url in nb.cells[0].source, entry["file"]
        assert nb.cells[1].get("id") == SETUP_ID and 'if "google.colab" in sys.modules' in nb.cells[1].source
        assert "configure_colab" in nb.cells[1].source
    assert readme_table(c) in (REPO / "README.md").read_text()


def test_a_moved_repository_makes_every_badge_stale(tmp_path):
    c = course()
    path = tmp_path / c["notebooks"][0]["file"]
    path.write_bytes((REPO / "notebooks" / path.name).read_bytes())
    assert not sync_notebook(path, c, write=False)
    moved = {**c, "repo": "someone-else/fork", "url": "https://github.com/someone-else/fork"}
    assert sync_notebook(path, moved, write=False)  # the check fails ...
    assert sync_notebook(path, moved, write=True)   # ... until the badges are rewritten
    assert not sync_notebook(path, moved, write=False)
    nb = nbformat.read(path, as_version=4)
    assert badge("someone-else/fork", path.name) == nb.cells[0].source
    assert "git+https://github.com/someone-else/fork@main" in nb.cells[1].source
    # The body of the notebook is kept, once, after the two header cells.
    original = nbformat.read(REPO / "notebooks" / path.name, as_version=4)
    assert [cell.source for cell in nb.cells[2:]] == [cell.source for cell in original.cells[2:]]
