"""Packaging: environment.yml and pyproject.toml agree; the README's commands exist."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# conda-forge names that differ from PyPI's
CONDA_TO_PYPI = {"pytorch": "torch"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_names() -> set[str]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    project = data["project"]
    deps = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        deps += extra
    own = _name(project["name"])
    names = {_name(d) for d in deps} - {own}
    # conda-forge packages Dask's `distributed` extra separately
    return names | ({"distributed"} if any(re.match(r"dask\[.*distributed", d) for d in deps) else set())


def _conda_names() -> set[str]:
    names = set()
    text = (REPO / "environment.yml").read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        m = re.match(r"^\s+-\s+([A-Za-z0-9_.\-]+)", line)
        if m and m.group(1) not in {"pip", "python", "-e"}:
            names.add(CONDA_TO_PYPI.get(_name(m.group(1)), _name(m.group(1))))
    return names


def test_environment_yml_matches_pyproject():
    """Do environment.yml and pyproject.toml name the same packages?"""
    assert _conda_names() == _pyproject_names()


def test_environment_installs_the_project():
    """Does environment.yml install this project itself with `pip install -e .`?"""
    assert re.search(r"^\s+-\s+-e \.\s*$", (REPO / "environment.yml").read_text(), re.M)


def test_readme_opens_with_the_two_commands():
    """Does the README open with `make demo` and `make test`, both Makefile targets?"""
    readme = (REPO / "README.md").read_text()
    first_block = readme.split("```")[1]
    assert "make demo" in first_block and "make test" in first_block
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


def test_ci_runs_make_test():
    """Does .ci/run run exactly `make test`?"""
    lines = [ln for ln in (REPO / ".ci" / "run").read_text().splitlines() if ln and not ln.startswith("#")]
    assert lines[-1].strip() == "make test"
