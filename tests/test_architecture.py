"""The house: every module imports only its own stage or earlier ones (ARCHITECTURE.md)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pingyi_lib"
# the stages, earliest first; a module may import its own stage and the ones before it
STAGES = ["common", "scheme", "dataset", "integrity", "scoring", "stats", "text", "followup", "sections",
          "output", "cli"]
SAME_LEVEL = {"text": {"followup"}, "followup": {"text"}}  # one stage in ARCHITECTURE.md


def stage_of(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "pingyi_lib" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in STAGES else None


def imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.append(node.module)
        elif isinstance(node, ast.Import):
            out += [a.name for a in node.names]
    return out


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__main__.py" and p.parent != PACKAGE
                 or p.name == "cli.py")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_later_stage(path):
    own = "cli" if path.name == "cli.py" and path.parent == PACKAGE else path.relative_to(PACKAGE).parts[0]
    check(path, own)


def check(path: Path, own: str) -> None:
    for mod in imports(path):
        other = stage_of(mod)
        if other is None or other == own or other in SAME_LEVEL.get(own, ()):
            continue
        assert STAGES.index(other) < STAGES.index(own), f"{path.name} imports {mod} (a later stage)"


def test_the_checker_catches_a_backward_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("import pandas\nfrom pingyi_lib.output.page import table\n")
    with pytest.raises(AssertionError, match="later stage"):
        check(bad, "scoring")
    check(bad, "cli")  # the command line may import every stage
