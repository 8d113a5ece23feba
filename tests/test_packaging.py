"""The project's own files agree with each other."""

import json
import re
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


def test_notebooks_are_committed_without_outputs():
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    assert notebooks, "no notebooks found"
    for nb_path in notebooks:
        nb = json.loads(nb_path.read_text())
        assert nb["nbformat"] == 4
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert cell["outputs"] == [] and cell["execution_count"] is None, nb_path.name


def test_ci_runs_the_readme_test_command():
    ci = (REPO / ".ci" / "run").read_text()
    readme = (REPO / "README.md").read_text()
    assert "make test" in ci and "make test" in readme and "make lab" in readme
