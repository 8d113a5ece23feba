"""The project's own files agree with each other."""

import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

REPO = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"pytorch": "torch"}  # conda-forge name -> PyPI name


def _split(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


def test_environment_yml_names_the_same_dependencies_as_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pyproject = dict(_split(r) for r in project["dependencies"])
    for extra in ("lab", "dev"):
        # packages behind an environment marker (tomli on old Pythons) have no conda counterpart
        pyproject.update(_split(r) for r in project["optional-dependencies"][extra] if ";" not in r)

    env = yaml.safe_load((REPO / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge", "nodefaults"]
    conda, pip = {}, {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip.update(_split(r) for r in dep["pip"] if not r.startswith("-e"))
        else:
            name, bound = _split(dep)
            if name not in ("python", "pip"):
                conda[CONDA_NAMES.get(name, name)] = bound
    assert "-e ." in next(d for d in env["dependencies"] if isinstance(d, dict))["pip"]
    assert {**conda, **pip} == pyproject


def test_lower_bounds_admit_google_colab():
    """Colab (2026): Python 3.13, torch 2.11, torchvision 0.26, ipywidgets 7 must satisfy the ranges."""
    from packaging.specifiers import SpecifierSet

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    deps = dict(_split(r) for r in project["dependencies"])
    assert "3.13" in SpecifierSet(project["requires-python"])
    for name, version in {"torch": "2.11.0", "torchvision": "0.26.0", "ipywidgets": "7.7.1"}.items():
        assert version in SpecifierSet(deps[name]), (name, deps[name])
    assert "2.5.1" not in SpecifierSet(deps["torch"])  # 2.6 made weights_only loading the default


def _git(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True)


def _committed_notebooks() -> dict[str, str]:
    """Every tracked notebook as committed (HEAD) and as staged (the index): {"HEAD:path": text}.

    This is what the repository holds, not the working copy: a learner who runs the notebooks in
    JupyterLab has outputs in the working copy, and the nbstripout filter keeps them out of git.
    """
    if _git("rev-parse", "--is-inside-work-tree").returncode != 0:
        raise AssertionError("not a git checkout: this test checks what is committed")
    files = _git("ls-files", "--", "*.ipynb").stdout.split()
    assert files, "no notebooks are tracked"
    blobs = {}
    for f in files:
        for rev in ("HEAD:", ":"):  # committed, and staged for the next commit
            shown = _git("show", f"{rev}{f}")
            if shown.returncode == 0:  # a notebook added but not committed has no HEAD version
                blobs[f"{rev}{f}"] = shown.stdout
    return blobs


def test_notebooks_are_committed_without_outputs():
    for name, text in _committed_notebooks().items():
        nb = json.loads(text)
        assert nb["nbformat"] == 4, name
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, (
                    f"{name} has outputs: run `make lab` or `make test` once (it installs the nbstripout "
                    "git filter), then `git add` the notebook again")


def test_committed_notebooks_pass_the_git_filter_unchanged(tmp_path):
    """The filter that `make` installs would change nothing in the committed notebooks (no outputs,
    no execution counts, no widget state or signatures), and strips a notebook that has outputs."""
    import nbformat

    committed = {n: t for n, t in _committed_notebooks().items() if n.startswith("HEAD:")}
    paths = []
    for i, (_, text) in enumerate(sorted(committed.items())):
        paths.append(tmp_path / f"{i}.ipynb")
        paths[-1].write_text(text)
    executed = nbformat.reads(next(iter(committed.values())), as_version=4)
    code = next(c for c in executed.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", text="an output\n")]
    code.execution_count = 1

    make = subprocess.run(["make", "-n", "-s", "git-filter", "VENV=/v"], cwd=REPO, capture_output=True,
                          text=True)
    clean = re.search(r"filter\.nbstripout\.clean '\"/v/bin/python\" -m nbstripout ([^']*)'", make.stdout)
    assert clean and "--keep-id" in clean.group(1), make.stdout  # the Colab cells are found by their ids
    nbstripout = [sys.executable, "-m", "nbstripout", *clean.group(1).split(), "--verify"]  # the filter
    unchanged = subprocess.run([*nbstripout, *map(str, paths)], capture_output=True, text=True)
    names = dict(zip(map(str, paths), sorted(committed), strict=True))
    changed = [names.get(word, word) for word in unchanged.stdout.split() if word in names]
    assert unchanged.returncode == 0, f"the filter would change these committed notebooks: {changed}"
    from nbstripout import strip_output

    stripped = strip_output(executed, keep_output=False, keep_count=False, keep_id=True)
    assert all(c.outputs == [] and c.execution_count is None for c in stripped.cells if c.cell_type == "code")


def test_gitattributes_send_notebooks_through_nbstripout():
    attributes = (REPO / ".gitattributes").read_text().splitlines()
    assert "*.ipynb filter=nbstripout" in attributes and "*.ipynb diff=ipynb" in attributes
    assert _git("check-attr", "filter", "--", "notebooks/01_cnn_basics.ipynb").stdout.strip().endswith(
        "filter: nbstripout")


def _dry_run(target: str, **variables: str) -> str:
    """The commands `make <target>` would run on a fresh clone (a .venv that does not exist yet)."""
    args = [f"{k}={v}" for k, v in {"VENV": "/fresh/venv", **variables}.items()]
    return subprocess.run(["make", "-n", target, *args], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout


def _extras(commands: str) -> set[str]:
    found = re.findall(r'pip install .*-e "\.\[([a-z,]+)\]"', commands)
    assert found, commands
    return set(found[0].split(","))


def test_make_lab_and_make_test_share_one_environment():
    """`make test` then `make lab` (and the other order) on a fresh clone: both work in one .venv."""
    lab, test = _dry_run("lab"), _dry_run("test")
    assert "lab" in _extras(test) and _extras(lab) <= _extras(test)
    # after `make test`, `make lab` finds its install done and only starts JupyterLab
    assert re.search(r"touch .*/fresh/venv/\.installed-lab", test), test
    for commands in (lab, test):
        assert "filter.nbstripout.clean" in commands  # both install the git filter


def test_make_lab_passes_allow_root_as_root_and_extra_arguments():
    as_root = _dry_run("lab", USER_ID="0", JUPYTER_ARGS="--no-browser --port=8899")
    assert re.search(r"bin/jupyter lab --allow-root\s+--no-browser --port=8899 notebooks/", as_root), as_root
    as_user = _dry_run("lab", USER_ID="1000")
    assert "bin/jupyter lab" in as_user and "--allow-root" not in as_user


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    readme = (REPO / "README.md").read_text()
    assert "make test" in ci and "make test" in readme and "make lab" in readme


def _readme_sections(*titles: str) -> str:
    readme = (REPO / "README.md").read_text()
    parts = re.split(r"^## ", readme, flags=re.M)
    found = {p.split("\n", 1)[0].strip(): p for p in parts[1:]}
    assert all(t in found for t in titles), list(found)
    return "\n".join(found[t] for t in titles)


def test_readme_set_up_and_settings_state_what_the_notebooks_do():
    """The README's set-up, settings and contributors sections give no figures that rot (a test
    count, a version that a fresh install may not get), and the cells they describe are there."""
    text = _readme_sections("Set up and run", "Settings", "For contributors")
    text = " ".join(text.split())
    assert not re.search(r"\b\d[\d,]* (unit )?tests\b", text), "a test count: pytest prints it"
    colab_pins = re.search(r"^COLAB_PINS \?= (.*)$", (REPO / "Makefile").read_text(), re.M).group(1)
    for version in re.findall(r"\btorch (\d+\.\d+\.\d+)", text):
        assert f"torch=={version}" in colab_pins, f"torch {version}: `python -m course_utils --check` says"
    assert "the Colab cell" in text and "then the set-up cell, which prints the settings" in text
    course = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["course"]
    for entry in course["notebooks"]:
        nb = json.loads((REPO / "notebooks" / entry["file"]).read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert code[0].get("id") == "colab-setup", entry["file"]
        assert "cu.print_environment(settings, device)" in "".join(code[1]["source"]), (
            f"{entry['file']}: the second code cell does not print the settings, as the README says")
