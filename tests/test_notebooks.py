"""The notebooks: committed without outputs, paired with their .py, one parameters cell,
and their defaults run top to bottom on the bundled 2011 sample (as in JupyterLab)."""

from __future__ import annotations

import sys

import nbformat
import pytest

from pingyi_lib.output.jobs import KERNEL
from pingyi_lib.output.runner import NOTEBOOK_DIR

NOTEBOOKS = ["unit", "city", "explore"]


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_without_outputs_and_with_one_parameters_cell(name):
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code), f"{name}.ipynb has outputs"
    assert sum("parameters" in c.metadata.get("tags", []) for c in nb.cells) == 1
    assert nb.metadata["kernelspec"]["name"] == KERNEL


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_paired_py_file_matches_the_notebook(name):
    import jupytext

    py_nb = jupytext.read(NOTEBOOK_DIR / f"{name}.py")
    nb = nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)
    assert [c.source for c in py_nb.cells] == [c.source for c in nb.cells], \
        f"run `jupytext --sync notebooks/{name}.py` and commit both"


def test_kernel_runs_this_interpreter():
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(KERNEL)
    assert spec.argv[0] in (sys.executable, "python"), spec.argv
    if spec.argv[0] == "python":  # ipykernel's own spec: jupyter_client substitutes sys.executable
        from jupyter_client.manager import KernelManager

        km = KernelManager(kernel_name=KERNEL)
        assert km.format_kernel_cmd()[0] == sys.executable


@pytest.mark.slow
@pytest.mark.parametrize("name", NOTEBOOKS)
def test_defaults_run_top_to_bottom_when_copied_out_of_the_repo(name, tmp_path):
    import shutil

    import papermill as pm

    elsewhere = tmp_path / "copied"
    elsewhere.mkdir()
    shutil.copy(NOTEBOOK_DIR / f"{name}.ipynb", elsewhere)
    out = tmp_path / f"{name}.ipynb"
    pm.execute_notebook(str(elsewhere / f"{name}.ipynb"), str(out), kernel_name=KERNEL, progress_bar=False,
                        cwd=str(elsewhere))
    nb = nbformat.read(out, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert sum(bool(c.outputs) for c in nb.cells if c.cell_type == "code") >= 5


def test_jupyterlab_lists_each_notebook_once():
    """Through jupytext's contents manager (what JupyterLab uses), the .ipynb files are
    notebooks and their paired .py files plain files (notebooks/jupytext.toml)."""
    import asyncio

    from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
    from jupytext.async_contentsmanager import build_async_jupytext_contents_manager_class

    manager = build_async_jupytext_contents_manager_class(AsyncLargeFileManager)(root_dir=str(NOTEBOOK_DIR.parent))
    listing = asyncio.run(manager.get(NOTEBOOK_DIR.name, content=True))["content"]
    kinds = {e["name"]: e["type"] for e in listing}
    assert sorted(n for n, t in kinds.items() if t == "notebook") == sorted(f"{n}.ipynb" for n in NOTEBOOKS)
    assert all(kinds[f"{n}.py"] == "file" for n in NOTEBOOKS)


def test_bundled_round_is_generated_into_a_cache_outside_the_repo(tmp_path):
    import hashlib

    from pingyi_lib.dataset.sample import bundled_round, cached_round

    from .conftest import SAMPLE_2011

    assert bundled_round(2011) == SAMPLE_2011  # in a checkout: the committed round
    got = cached_round(2011, tmp_path / "cache")
    assert got == tmp_path / "cache" / "sample" / "2011"
    for f in SAMPLE_2011.iterdir():
        assert hashlib.sha256((got / f.name).read_bytes()).digest() == hashlib.sha256(f.read_bytes()).digest()
    assert cached_round(2011, tmp_path / "cache") == got  # the second call reads the cache


def test_explorer_updates_when_unit_or_dimension_changes(capsys):
    from pingyi_lib.output.explore import Explorer

    ex = Explorer()
    assert ex.unit.options and [v for _, v in ex.dimension.options][:2] == ["lawful", "fair"]
    ex.unit.value, ex.dimension.value = "wj", "open"
    shown = " ".join(str(x) for x in ex.view() if not hasattr(x, "to_html"))
    assert "武进区安监局" in shown and "政务公开：辖市(区)安监局各单位" in shown
    ex.unit.value = "tn-win"
    assert "政务服务窗口和基层站所" in " ".join(str(x) for x in ex.view() if not hasattr(x, "to_html"))
    ex.round.value = str(NOTEBOOK_DIR / "nonexistent")
    assert "无法读取这个目录" in str(ex.view()[0])
    capsys.readouterr()
