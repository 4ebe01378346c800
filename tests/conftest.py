"""Shared fixtures: tiny datasets written as CSV text, so tests read like the files users have."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import nbformat
import pytest
from hypothesis import settings

from pingyi_lib.cli import main
from pingyi_lib.output import runner
from pingyi_lib.output.runner import NOTEBOOK_DIR, JobResult

# a shared 2-core machine (CI runs beside other work): examples are judged by their result,
# never by hypothesis's 200 ms deadline
settings.register_profile("pingyi", deadline=None)
settings.load_profile("pingyi")

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_2011 = ROOT / "data" / "sample" / "2011"
SAMPLE_2012 = ROOT / "data" / "sample" / "2012"

ITEMS = "lawful,fair,open,service,integrity"
HOSTILE = '<img src=x onerror="window.__pwned=1">'
REPORT_UNITS = ["wj", "tn-win"]


@pytest.fixture(autouse=True, scope="session")
def scored_cache(tmp_path_factory) -> Path:
    """The scored stores of every test's report runs go to a folder of this session, never to the
    user's cache folder (``PINGYI_CACHE``, output/scored.py)."""
    folder = tmp_path_factory.mktemp("scored-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("PINGYI_CACHE", str(folder))
        yield folder


def write_dataset(folder: Path, encoding: str = "utf-8", **tables: str) -> Path:
    """Write each keyword as NAME.csv (text dedented) and return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in tables.items():
        (folder / f"{name}.csv").write_bytes(textwrap.dedent(text).lstrip("\n").encode(encoding))
    return folder


def survey_rows(unit: str, answers: list[str], start: int = 1, channel: str = "online") -> str:
    """One questionnaire per entry of ``answers`` (each a comma-joined 5-item answer string)."""
    return "".join(f"{unit}-{start + i},{unit},{channel},{a}\n" for i, a in enumerate(answers))


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """Two districts, a city bureau and a window; values chosen for hand arithmetic."""
    return write_dataset(
        tmp_path / "tiny",
        units="""
            unit_id,name,level,parent_id
            a,甲区安监局,district,
            b,乙区安监局,district,
            c,市安监局,city,
            w,甲区服务窗口,window,a
        """,
        survey="response_id,unit_id,channel," + ITEMS + "\n"
        + survey_rows("a", ["很满意,1,2,3,4", "5,5,,1,1"])
        + survey_rows("b", ["4,4,4,4,4"])
        + survey_rows("c", ["1,1,1,1,1"]),
        onsite="""
            ballot_id,unit_id,member_category,lawful,fair,open,service,integrity
            o1,a,群众代表,1,1,1,1,1
            o2,a,人大代表,2,2,2,2,2
            o3,b,企业代表,3,3,3,3,3
        """,
        cases="""
            case_id,unit_id,source,summary,substantiated,deduction
            c1,a,投诉,超时办结,是,5
            c2,b,暗访,态度生硬,否,3
        """,
    )


@pytest.fixture(scope="session")
def sample_reports(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports") / "2011"
    code = main(["report", str(SAMPLE_2011), "--out", str(out), "--units", *REPORT_UNITS, "--jobs", "2", "--quiet"])
    return out, code


def derive_round(src: Path, dst: Path, year: int, drop_unit: str = "wj", every: int = 3,
                 rename: dict | None = None) -> Path:
    """A round of ``year`` made from ``src``: its dates moved to that year, every ``every``-th
    very satisfied questionnaire of ``drop_unit`` left out (so the scores differ), unit ids
    renamed by ``rename`` in every file."""
    import re

    shutil.copytree(src, dst)
    for f in dst.iterdir():
        text = f.read_text(encoding="utf-8").replace(src.name, str(year))
        if f.name == "survey.csv":
            lines = text.splitlines(keepends=True)
            text = lines[0] + "".join(ln for i, ln in enumerate(lines[1:])
                                      if not (f",{drop_unit}," in ln and "很满意" in ln and i % every == 0))
        for a, b in (rename or {}).items():
            text = re.sub(rf"(?<![\w-]){a}(?![\w-])", b, text)
        f.write_text(text, encoding="utf-8")
    return dst


@pytest.fixture(scope="session")
def history_reports(tmp_path_factory):
    """The 2012 sample's pages with two past rounds (2011, and a 2010 made from it): the look-back,
    历年对比 and 趋势 sections with data."""
    base = tmp_path_factory.mktemp("history")
    r2010 = derive_round(SAMPLE_2011, base / "2010", 2010)
    out = base / "out"
    code = main(["report", str(SAMPLE_2012), "--out", str(out), "--units", "wj", "qsy", "--jobs", "2", "--quiet",
                 "--previous", str(SAMPLE_2011), "--previous", str(r2010)])
    return out, code


@pytest.fixture(scope="session")
def broken_reports(tmp_path_factory):
    """A hostile dataset and a unit notebook that raises for unit 'b'. Besides markup, the data
    holds the control bytes that once stopped a run: \\x08 in an answer, \\x0b in a unit
    name, NUL in a unit id, terminal escapes in a comment."""
    base = tmp_path_factory.mktemp("broken")
    q = HOSTILE.replace('"', '""')  # CSV-quoted
    comment = f"{q} 电话13912345678"
    survey = "response_id,unit_id,channel," + ITEMS + ",comment\n" + "".join(
        f'{u}{i},{u},online,1,2,1,2,1,"{comment}"\n' for u in ("a", "b") for i in range(35)) + (
        'x1,a,online,\x08,1,1,1,1,\nx2,a,online,1,1,1,1,1,"\x1b]0;pwned\x07推诿"\n')
    ds = write_dataset(base / "ds", units=f'unit_id,name,level\na,"{q}",district\nb,"乙区\x0b安监局",district\n'
                       'c\x00,丙区安监局,district\n',
                       survey=survey,
                       cases=f'case_id,unit_id,source,summary,substantiated,deduction\nk1,a,投诉,"{q}",是,2\n')
    nbs = base / "notebooks"
    shutil.copytree(NOTEBOOK_DIR, nbs, ignore=shutil.ignore_patterns("*.py", ".ipynb_checkpoints"))
    nb = nbformat.read(nbs / "unit.ipynb", as_version=4)
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])) + 1
    nb.cells.insert(at, nbformat.v4.new_code_cell('if unit_id == "b":\n    raise RuntimeError("boom: unit b breaks")'))
    nbformat.write(nb, nbs / "unit.ipynb")
    out = base / "out"
    # unit c\x00 is rejected, so its league is incomplete: reported anyway, with the banner
    code = main(["report", str(ds), "--out", str(out), "--notebooks", str(nbs), "--jobs", "2", "--quiet",
                 "--allow-incomplete"])
    return out, code


@pytest.fixture
def quick_notebooks(monkeypatch):
    """Every job 'runs' by writing its page and notebook at once; returns the plans seen."""
    plans = []

    def execute(plan, workers, progress, title=""):
        plans.append(plan)
        for job in plan:
            Path(job.html).write_text(f"<h1>{job.title}</h1>", encoding="utf-8")
            Path(job.executed).write_text("{}", encoding="utf-8")
        return [JobResult(j.kind, j.title, j.unit_id, j.html_rel, True, 0.0) for j in plan]

    monkeypatch.setattr(runner, "_execute", execute)
    return plans
