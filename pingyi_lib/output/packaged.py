"""What a run reads from the package itself: the report notebooks and the page templates.

Both are package data, found through :mod:`importlib.resources`, so an installed pingyi
(a wheel, ``pip install .``, conda) reports from any folder. The notebooks live at the top
of the project (``notebooks/``, where an analyst opens them) and ship in the wheel as
``pingyi_lib/notebooks`` (pyproject.toml maps the folder into the package); an editable
install from a checkout reads the project's ``notebooks/`` folder itself.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

REPORT_NOTEBOOKS = ("city.ipynb", "unit.ipynb")  # what `pingyi report` runs
NOTEBOOKS = (*REPORT_NOTEBOOKS, "explore.ipynb")  # what `pingyi lab` copies for the analyst


def _package() -> Path:
    return Path(str(resources.files("pingyi_lib")))


def notebook_dir() -> Path:
    """The folder of the bundled notebooks: inside the installed package, else (a checkout)
    the project's ``notebooks/``."""
    inside = _package() / "notebooks"
    if (inside / REPORT_NOTEBOOKS[0]).is_file():
        return inside
    return _package().parent / "notebooks"


def template_dir() -> Path:
    """The page templates (index.html.j2 and the nbconvert template ``pingyi``)."""
    return Path(str(resources.files("pingyi_lib.output") / "templates"))
