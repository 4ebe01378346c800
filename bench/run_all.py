"""Every benchmark, each figure beside its floor, into bench/RESULTS.md.

    .venv/bin/python bench/run_all.py                 # 1M rows, start-up, report pages (~10 min)
    .venv/bin/python bench/run_all.py --big           # and 10M rows (Parquet and CSV; ~25 min more)
    .venv/bin/python bench/run_all.py --batch         # and the 2011 report batch at --jobs 1 and 2

Each command runs as a whole process, A and floor in turn (A B A B …), ``--runs`` times
after one warm-up, timed by ``farm-bench`` (the team's timer; without it on PATH, by this
script with wait4); the medians of wall time and of peak resident memory are reported with
the ratio A/floor taken pair by pair. The floor of
scoring is ``bench/floor.py``, a bare DuckDB script doing the same work, measured in the
same run. Only this script's section of RESULTS.md is rewritten (between its markers);
sections other people add stay.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
PINGYI = [PY, "-m", "pingyi_lib"]
START, END = "<!-- run_all:start -->", "<!-- run_all:end -->"
sys.path.insert(0, str(ROOT / "bench"))


def run(cmd: list[str], env: dict | None = None) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one whole process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT,
                         env={**os.environ, **(env or {})})
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if status != 0 and os.waitstatus_to_exitcode(status) not in (0, 1):
        raise RuntimeError(f"{cmd} exited {os.waitstatus_to_exitcode(status)}")
    return wall, ru.ru_maxrss / 1024


def pair(a: list[str], b: list[str] | None, runs: int, env_a: dict | None = None, warm: bool = True) -> dict:
    """Medians of A (and B, and A/B pair by pair) over ``runs`` runs after a warm-up."""
    if b and shutil.which("farm-bench"):
        return farm_bench(a, b, runs, env_a, warm)
    if warm:
        run(a, env_a)
        if b:
            run(b)
    wa, ma, wb, mb, ratio = [], [], [], [], []
    for _ in range(runs):
        w, m = run(a, env_a)
        wa.append(w)
        ma.append(m)
        if b:
            w2, m2 = run(b)
            wb.append(w2)
            mb.append(m2)
            ratio.append(w / w2)
    med = statistics.median
    out = {"a": med(wa), "a_min": min(wa), "a_max": max(wa), "a_mem": med(ma)}
    if b:
        out.update(b=med(wb), b_mem=med(mb), ratio=med(ratio))
    return out


def farm_bench(a: list[str], b: list[str], runs: int, env_a: dict | None, warm: bool) -> dict:
    """``pair`` measured by farm-bench (A B A B …; ``env_a`` is set for both: the floor ignores it)."""
    cmd = ["farm-bench", "-n", str(runs), "--warmup", "1" if warm else "0", "--timeout", "3600",
           "--vs", shlex.join(b), "--", *a]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env={**os.environ, **(env_a or {})},
                         check=True).stdout
    figure = re.compile(r"^(A|B|A/B) (\w+)(?: s| MiB)?\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*$")
    row = {f"{m[1]} {m[2]}": [float(m[3]), float(m[4]), float(m[5])]
           for m in map(figure.match, out.splitlines()) if m}
    if "A wall" not in row or "A/B wall" not in row:
        raise RuntimeError(f"farm-bench printed no timing:\n{out}")
    (a_min, a_med, a_max), (_, b_med, _) = row["A wall"], row["B wall"]
    return {"a": a_med, "a_min": a_min, "a_max": a_max, "a_mem": row["A peak"][1] * 1.048576,
            "b": b_med, "b_mem": row["B peak"][1] * 1.048576, "ratio": row["A/B wall"][1]}


PHASES = """
import json, resource, sys, time
t0 = time.perf_counter()
import pingyi_lib as py
from pingyi_lib.integrity import policy
from pingyi_lib.scoring import results
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
out = {"import": [time.perf_counter() - t0, peak()]}
t = time.perf_counter(); ds = py.load_dataset(sys.argv[1]); out["load"] = [time.perf_counter() - t, peak()]
t = time.perf_counter(); found = policy.check(ds); out["integrity"] = [time.perf_counter() - t, peak()]
t = time.perf_counter(); results._score(found.apply(ds), ds.ruleset); out["score"] = [time.perf_counter() - t, peak()]
print(json.dumps(out))
"""


def phases(folder: Path) -> dict:
    """Seconds and peak memory (MB, so far) of each step of ``pingyi score``, in one fresh process."""
    out = subprocess.run([PY, "-c", PHASES, str(folder)], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(next(line for line in reversed(out.stdout.splitlines()) if line.startswith("{")))


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    mem = next((int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    import duckdb
    import pandas
    import pyarrow

    return (f"{cpu}, {os.cpu_count()} cores, {mem / 2**20:.0f} GiB; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, DuckDB {duckdb.__version__}, pyarrow {pyarrow.__version__}, "
            f"pandas {pandas.__version__}; load average at start {os.getloadavg()[0]:.1f} "
            "(the machine is shared: compare ratios, not seconds)")


def rounds(data: Path, sizes: list[int]) -> dict:
    import generate

    made = {}
    for n in sizes:
        for fmt in ("parquet", "csv"):
            folder = data / f"{fmt}-{n}"
            if not (folder / f"survey.{fmt}").exists():
                print(f"generating {folder}", file=sys.stderr)
                generate.write_round(folder, n, fmt)
            made[(n, fmt)] = folder
    return made


def page_costs(runs: int) -> dict:
    """Seconds of one unit page (execute + export, with the batch's scored bundle) against an
    empty notebook executed and exported the same way, in this process, alternating."""
    import nbformat

    from pingyi_lib.output import runner, scored

    tmp = Path(tempfile.mkdtemp(prefix="pingyi-bench-pages-"))
    empty = tmp / "empty.ipynb"
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]})]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, empty)
    dataset = str(ROOT / "data" / "sample" / "2011")
    bundle = scored.compute(dataset, report_date="2011-09-20")
    cache = scored.write(bundle, "bench", scored.inputs_of(dataset, "", "", "2011-09-20"), root=tmp)
    unit = runner.Job("unit", "unit", str(runner.NOTEBOOK_DIR / "unit.ipynb"), str(tmp / "u.ipynb"),
                      str(tmp / "u.html"), "u.html",
                      {"dataset": dataset, "unit_id": "wj", "ruleset": "", "plotlyjs": "../assets/plotly.min.js",
                       "previous": "", "report_date": "2011-09-20", "scored": str(cache)}, "")
    bare = runner.Job("unit", "empty", str(empty), str(tmp / "e.ipynb"), str(tmp / "e.html"), "e.html", {"x": 2}, "")
    runner.run_job(unit)
    runner.run_job(bare)
    u, e, r = [], [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        ok = runner.run_job(unit).ok
        t1 = time.perf_counter()
        runner.run_job(bare)
        t2 = time.perf_counter()
        assert ok
        u.append(t1 - t0)
        e.append(t2 - t1)
        r.append((t1 - t0) / (t2 - t1))
    med = statistics.median
    return {"a": med(u), "b": med(e), "ratio": med(r)}


def fmt_row(what: str, r: dict, floor: str) -> str:
    return (f"| {what} | {r['a']:.2f} s ({r['a_min']:.2f}–{r['a_max']:.2f}) | {r['a_mem']:,.0f} MB | "
            f"{floor} | {r['b']:.2f} s | {r['b_mem']:,.0f} MB | **{r['ratio']:.2f}×** |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--big", action="store_true", help="also 10M rows")
    ap.add_argument("--batch", action="store_true", help="also the 2011 batch at --jobs 1 and 2")
    ap.add_argument("--data", default=str(Path(tempfile.gettempdir()) / "pingyi-bench"),
                    help="where the synthetic rounds are generated (kept for reruns)")
    a = ap.parse_args()
    lines = [START, "## Speed and scale (`bench/run_all.py`)", "",
             f"Run {dt.date.today().isoformat()} on: {machine()}.", "",
             f"Medians of {a.runs} runs after a warm-up, each a whole process; the ratio is taken pair by pair "
             "(A, floor, A, floor, …). Rounds from `bench/generate.py`: 200 units, six items, about 1.5% bad "
             "rows of every kind and 0.5% repeated ids.", "",
             "### Reading, validating, counting and scoring a round", "",
             "`pingyi score DATASET --format csv` (start-up, reading, validation with the full quarantine, "
             "counting, scoring, ranking, output) against the floor `bench/floor.py` (a bare DuckDB script "
             "that reads the file, finds the rejected rows with their row numbers and reasons, the duplicate "
             "ids among valid rows, counts unit × item × level and prints the indices).", "",
             "| round | pingyi (min–max) | peak memory | floor | floor time | floor memory | ratio |",
             "|---|---:|---:|---|---:|---:|---:|"]
    sizes = [1_000_000] + ([10_000_000] if a.big else [])
    made = rounds(Path(a.data), sizes)
    results = {}
    for (n, fmt), folder in made.items():
        print(f"score {n:,} {fmt}", file=sys.stderr)
        # the generated rounds plant a rejected units row: the league is incomplete by design
        r = pair([*PINGYI, "score", str(folder), "--format", "csv", "--allow-incomplete"],
                 [PY, str(ROOT / "bench" / "floor.py"), str(folder)], a.runs, warm=n < 10_000_000)
        results[(n, fmt)] = r
        lines.append(fmt_row(f"{n:,} questionnaires, {fmt}", r, "floor.py"))
    steps = {key: phases(folder) for key, folder in made.items() if key[1] == "parquet"}
    for fmt in ("parquet", "csv"):
        print(f"pandas path 1M {fmt}", file=sys.stderr)
        r = pair([*PINGYI, "score", str(made[(1_000_000, fmt)]), "--format", "csv", "--allow-incomplete"],
                 [PY, str(ROOT / "bench" / "floor.py"), str(made[(1_000_000, fmt)])], max(1, a.runs - 2),
                 env_a={"PINGYI_ENGINE": "pandas"})
        lines.append(fmt_row(f"1,000,000, {fmt}, the pandas path (`PINGYI_ENGINE=pandas`, before)", r, "floor.py"))
    print("validate 1M parquet", file=sys.stderr)
    r = pair([*PINGYI, "validate", str(made[(1_000_000, "parquet")]), "--format", "json"],
             [PY, str(ROOT / "bench" / "floor.py"), str(made[(1_000_000, "parquet")])], a.runs)
    lines.append(fmt_row("1,000,000, parquet: `pingyi validate --format json` (prints all 15k rejected rows)",
                         r, "floor.py"))

    lines += ["", "Where the time goes (`pingyi score`'s steps in one process; peak memory so far). The integrity "
              "check (刷票 detection, issue 16) is work the floor does not do:", "",
              "| round | import | load, validate, count | integrity check | scoring | peak memory |",
              "|---|---:|---:|---:|---:|---:|"]
    for (n, fmt), st in steps.items():
        lines.append(f"| {n:,}, {fmt} | " + " | ".join(f"{st[k][0]:.2f} s" for k in ("import", "load", "integrity",
                                                                                    "score"))
                     + f" | {max(v[1] for v in st.values()):,.0f} MB |")
    lines += ["", "### Start-up", "", "| command | time | peak memory | floor | floor time | ratio |",
              "|---|---:|---:|---|---:|---:|"]
    for what, cmd in (("`pingyi --help`", [*PINGYI, "--help"]),
                      ("`pingyi validate data/sample/2011`", [*PINGYI, "validate", "data/sample/2011"])):
        r = pair(cmd, [PY, "-c", "import pandas"], a.runs + 2)
        lines.append(f"| {what} | {r['a']:.2f} s | {r['a_mem']:,.0f} MB | `python -c 'import pandas'` | "
                     f"{r['b']:.2f} s | **{r['ratio']:.2f}×** |")
    lines += ["", "Neither imports plotly, papermill, nbconvert or jieba (`tests/test_scale.py` checks).", ""]

    print("report pages", file=sys.stderr)
    pc = page_costs(a.runs)
    lines += ["### Reports", "",
              "One page executed with papermill and exported with nbconvert (`output.runner.run_job`), with the "
              "batch's scored bundle (`output/scored.py`), against an empty notebook run the same way.", "",
              "| page | time | floor | floor time | ratio |", "|---|---:|---|---:|---:|",
              f"| unit page (2011 sample, `wj`) | {pc['a']:.2f} s | empty notebook | {pc['b']:.2f} s | "
              f"**{pc['ratio']:.2f}×** |", "",
              f"200 unit pages: estimated from the per-page cost, {200 * pc['a'] / 60:.1f} min at --jobs 1 and "
              f"{200 * pc['a'] / 60 / 2:.1f} min at --jobs 2 on two free cores (not run: the machine is shared).", ""]
    if a.batch:
        out = Path(tempfile.mkdtemp(prefix="pingyi-bench-batch-"))
        r1 = pair([*PINGYI, "report", "data/sample/2011", "--out", str(out / "j1"), "--jobs", "1", "--quiet",
                   "--report-date", "2011-09-20"],
                  [*PINGYI, "report", "data/sample/2011", "--out", str(out / "j2"), "--jobs", "2", "--quiet",
                   "--report-date", "2011-09-20"], max(1, a.runs - 1))
        lines += ["| 2011 batch (20 pages) | time |", "|---|---:|",
                  f"| --jobs 1 | {r1['a']:.1f} s |", f"| --jobs 2 | {r1['b']:.1f} s |",
                  f"| speed-up | **{r1['ratio']:.2f}×** (pair by pair) |", ""]
    lines.append(END)
    write_section("\n".join(lines))


def write_section(section: str) -> None:
    path = ROOT / "bench" / "RESULTS.md"
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + section + rest.split(END, 1)[1]
    else:
        first, _, rest = text.partition("\n## ")
        text = first.rstrip("\n") + "\n\n" + section + "\n\n" + ("## " + rest if rest else "")
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
