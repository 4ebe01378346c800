"""The notebooks: committed without outputs, paired with their .py, one parameters cell,
and their defaults run top to bottom on the bundled 2011 sample (as in JupyterLab)."""

from __future__ import annotations

import sys

import nbformat
import pytest

from pingyi_lib.output.runner import KERNEL, NOTEBOOK_DIR

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
def test_defaults_run_top_to_bottom(name, tmp_path):
    import papermill as pm

    out = tmp_path / f"{name}.ipynb"
    pm.execute_notebook(str(NOTEBOOK_DIR / f"{name}.ipynb"), str(out), kernel_name=KERNEL, progress_bar=False,
                        cwd=str(NOTEBOOK_DIR))
    nb = nbformat.read(out, as_version=4)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    assert sum(bool(c.outputs) for c in nb.cells if c.cell_type == "code") >= 5
