"""environment.yml (conda users) and pyproject.toml name the same dependencies."""

from __future__ import annotations

import re
import tomllib

from .conftest import ROOT


def _name(spec: str) -> str:
    return re.split(r"[<>=!~ \[]", spec.strip(), maxsplit=1)[0].lower().replace("_", "-")


def test_environment_yml_matches_pyproject():
    pp = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    wanted = {_name(s): s for s in pp["dependencies"] + pp["optional-dependencies"]["dev"]}
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    lines = text.split("dependencies:", 1)[1].splitlines()
    got = {}
    for line in lines:
        m = re.match(r"\s*-\s+([A-Za-z0-9_.\-]+.*)$", line)
        if m and _name(m.group(1)) != "python":  # the interpreter, not python-docx
            got[_name(m.group(1))] = m.group(1).replace(" ", "")
    assert set(got) == set(wanted), f"only in environment.yml: {set(got) - set(wanted)}; " \
                                    f"only in pyproject: {set(wanted) - set(got)}"
    for name, spec in wanted.items():
        assert got[name] == spec.replace(" ", ""), f"{name}: {got[name]} vs {spec}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in readme and "make test" in ci
    assert "make reports" in readme


def test_pyproject_lists_every_package_and_ships_the_notebooks():
    """The packages are listed by hand (the notebooks folder is mapped into the package): a new
    subpackage missing from the list would be missing from the wheel."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "pingyi_lib").rglob("__init__.py")}
    assert set(tool["packages"]) == found | {"pingyi_lib.notebooks"}
    assert tool["package-dir"] == {"pingyi_lib.notebooks": "notebooks"}
    assert "*.ipynb" in tool["package-data"]["pingyi_lib.notebooks"]


def test_the_bundled_notebooks_are_found_through_the_package():
    from pingyi_lib.output.packaged import NOTEBOOKS, notebook_dir, template_dir

    for name in NOTEBOOKS:
        assert (notebook_dir() / name).is_file()
    assert (template_dir() / "index.html.j2").is_file()
