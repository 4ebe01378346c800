"""pingyi as installed software: a wheel built from the project's tracked files, installed in a
new virtual environment outside the checkout, run from a folder that is not the checkout.

The wheel is built as a user would (``pip wheel .``, setuptools in pip's own build
environment) and installed with ``--no-deps``; its dependencies are lent by the test's own
environment through a ``.pth`` line and its ``share/jupyter`` (nbconvert's base templates,
the kernel spec), so the test needs no download of pandas or JupyterLab. Nothing of the
checkout is on the new environment's path: pingyi_lib, its notebooks and templates come from
the wheel alone (checked).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.slow


def _tracked_copy(dest: Path) -> Path:
    """The project as a clean checkout has it, with what is not committed yet: no build/, no
    egg-info, no .venv (ignored), so a stale build folder cannot put deleted modules in the wheel."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout
    for rel in filter(None, listed.decode("utf-8").split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> dict:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs a git checkout to list the project's files")
    base = tmp_path_factory.mktemp("installed")
    src = _tracked_copy(base / "src")
    dist = base / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(dist), str(src)],
                   check=True, capture_output=True, cwd=base)
    wheel = next(dist.glob("pingyi-*.whl"))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True)
    purelib = Path(subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                  capture_output=True, text=True, check=True).stdout.strip())
    (purelib / "lent-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    (venv / "share").symlink_to(Path(sys.prefix) / "share", target_is_directory=True)
    run = base / "elsewhere"
    run.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return {"wheel": wheel, "venv": venv, "py": py, "bin": venv / "bin" / "pingyi", "cwd": run, "env": env,
            "purelib": purelib}


def _run(inst: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(inst["bin"]), *args], cwd=inst["cwd"], env=inst["env"], capture_output=True,
                          text=True, timeout=600)


def test_the_wheel_holds_the_notebooks_templates_and_rulesets(installed):
    names = set(zipfile.ZipFile(installed["wheel"]).namelist())
    for name in ("city.ipynb", "unit.ipynb", "explore.ipynb"):
        assert f"pingyi_lib/notebooks/{name}" in names
    assert "pingyi_lib/output/templates/index.html.j2" in names
    assert "pingyi_lib/output/templates/nbconvert/pingyi/index.html.j2" in names
    assert any(n.startswith("pingyi_lib/scheme/rulesets/") and n.endswith(".toml") for n in names)
    assert "pingyi_lib/text/stopwords-zh.txt" in names
    tracked = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "pingyi_lib"],
                             cwd=ROOT, capture_output=True, text=True).stdout
    modules = {p for p in tracked.split() if p.endswith(".py") and (ROOT / p).is_file()}
    assert modules <= names, f"modules missing from the wheel: {sorted(modules - names)}"
    shipped = {n for n in names if n.startswith("pingyi_lib/") and n.endswith(".py")
               and not n.startswith("pingyi_lib/notebooks/")}
    assert shipped <= modules, f"the wheel ships modules the project does not have: {sorted(shipped - modules)}"


def test_an_installed_pingyi_reports_from_any_folder_with_nothing_on_stderr(installed):
    where = subprocess.run([str(installed["py"]), "-c", "import pingyi_lib.output.runner as r; "
                            "print(r.__file__); print(r.NOTEBOOK_DIR); print(r.TEMPLATE_DIR)"],
                           cwd=installed["cwd"], env=installed["env"], capture_output=True, text=True, check=True)
    for line in where.stdout.split():
        assert Path(line).is_relative_to(installed["purelib"]), line  # nothing read from the checkout
    got = _run(installed, "sample", "--year", "2011", "--out", "s11")
    assert got.returncode == 0, got.stderr
    got = _run(installed, "report", "s11", "--out", "r", "--units", "wj", "--quiet")
    assert got.returncode == 0, got.stderr
    assert got.stderr == "" and got.stdout == ""
    out = installed["cwd"] / "r"
    assert "武进区安监局" in (out / "units" / "wj.html").read_text(encoding="utf-8")
    log = (out / "report.log").read_text(encoding="utf-8")
    assert "ok     武进区安监局评议结果" in log
    assert "Kernel is running over TCP" in log  # the kernels' start-up warning: in the log, once
    assert log.count("Kernel is running over TCP") == 1
    assert not (out / "notebooks" / "kernels.log").exists()


def test_an_installed_pingyi_fails_in_one_line_even_when_quiet(installed):
    got = _run(installed, "report", "no-such-round", "--out", "r2", "--quiet")
    assert got.returncode == 2 and got.stderr.count("\n") == 1 and got.stderr.startswith("错误：")


@pytest.mark.parametrize("command", [
    ("template", "--out", "填报模板.xlsx"),
    ("init", "new-round", "--city", "临江市", "--year", "2013"),
    ("docs", "--out", "docs-here"),
])
def test_an_installed_pingyi_runs_the_setup_commands_from_any_folder(installed, command):
    got = _run(installed, *command)
    assert got.returncode == 0, got.stderr
    target = installed["cwd"] / (command[2] if command[0] != "init" else command[1])
    assert target.exists()
    if command[0] == "docs":
        assert (target / "ruleset.md").read_text(encoding="utf-8") == \
               (ROOT / "docs" / "ruleset.md").read_text(encoding="utf-8")
