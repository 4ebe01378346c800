"""What a report folder publishes: personal values only masked, in every file and in every
member of every zip (xlsx, docx); no pickle; the scored bundle outside the folder (issue 30)."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

import pytest

from pingyi_lib.cli import main
from pingyi_lib.common.masking import mask_fingerprint, mask_personal_data
from tests.conftest import SAMPLE_2011, SAMPLE_2012

ID_NUMBER = "32040219800101123X"
ID_NUMBER_2 = "320402198512300018"
MOBILE = "13912345678"
MOBILE_2 = "18861234567"
EMAIL = "zhang.san@example.com"
PLATE = "苏D12345"
LANDLINE = "0519-86661234"
DEVICE = "f1e2d3c4b5a69788"  # one device filling unit wj's questionnaire three times
PHONE_DEVICE = "13700001111"  # a "fingerprint" that is a raw phone number
BAD_TIME = "15012345678"  # typed into 提交时间: the row is rejected, its value shown


def _append(path: Path, rows: list[list[str]]) -> None:
    with open(path, "a", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """The 2011 sample with personal values seeded where a clerk or a respondent puts them,
    reported for unit wj (and the city)."""
    base = tmp_path_factory.mktemp("published")
    ds = base / "2011"
    shutil.copytree(SAMPLE_2011, ds)
    answers = ["很满意"] * 6
    day = "2011-08-02 10:0"
    _append(ds / "survey.csv", [
        ["S-P1", "wj", "群众", "online", f"{day}0:00", DEVICE, *answers, f"电话{MOBILE}，身份证{ID_NUMBER}"],
        ["S-P2", "wj", "群众", "online", f"{day}3:00", DEVICE, *answers, f"邮箱{EMAIL}，车牌{PLATE}，推诿扯皮"],
        ["S-P3", "wj", "群众", "online", "2011-08-02 10:05:00", DEVICE, *answers, f"座机{LANDLINE}，态度冷淡"],
        ["S-P4", "wj", "企业代表", "online", "2011-08-03 09:00:00", PHONE_DEVICE, *answers, "服务热情"],
        ["S-P5", "wj", "企业代表", "online", "2011-08-03 09:01:00", PHONE_DEVICE, *answers, "服务热情"],
        ["S-P6", "wj", "群众", "online", BAD_TIME, "", *answers, "窗口办事效率高"],
    ])
    _append(ds / "cases.csv", [["C-P1", "wj", "投诉", f"群众{ID_NUMBER_2}投诉窗口推诿，电话{MOBILE_2}", "是", "1.0"]])
    _append(ds / "violations.csv", [["wj", "拉票", f"向服务对象{MOBILE_2}打招呼要求填写很满意", "是"]])
    _append(ds / "rectifications.csv", [["R2011-P1", "wj", f"群众{MOBILE}反映窗口推诿", f"回访{MOBILE}",
                                         "办公室", "2011-09-10", "已完成", "2011-09-01"]])
    out = base / "out"
    code = main(["report", str(ds), "--out", str(out), "--units", "wj", "--jobs", "2", "--quiet"])
    assert code == 0
    with open(SAMPLE_2011 / "survey.csv", encoding="utf-8") as f:
        devices = {r["fingerprint"] for r in csv.DictReader(f) if r["fingerprint"]}
    raw = {ID_NUMBER, ID_NUMBER_2, MOBILE, MOBILE_2, EMAIL, PLATE, LANDLINE, DEVICE, PHONE_DEVICE, BAD_TIME} | devices
    return out, raw


def published_texts(out: Path):
    """(name, text) of every file under ``out`` and of every member of every zip in it."""
    for p in sorted(out.rglob("*")):
        if not p.is_file():
            continue
        data = p.read_bytes()
        rel = str(p.relative_to(out))
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                for m in z.namelist():
                    yield f"{rel}!{m}", z.read(m).decode("utf-8", "replace")
        else:
            yield rel, data.decode("utf-8", "replace")


def test_no_published_file_holds_a_raw_personal_value(seeded):
    out, raw = seeded
    forms = {}
    for v in raw:  # as written, and as JSON or HTML may escape it
        for f in (v, json.dumps(v)[1:-1], v.encode("unicode_escape").decode()):
            forms[f] = v
    pattern = re.compile("|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)))
    names, leaks = [], []
    for name, text in published_texts(out):
        names.append(name)
        leaks += [f"{name}: {forms[m.group()]}" for m in pattern.finditer(text)]
    assert not leaks, f"{len(leaks)} raw personal values published: {sorted(set(leaks))[:20]}"
    # the scan reached what it must: pages, notebooks, logs and the workbook's and notice's parts
    assert {"city.html", "units/wj.html", "notebooks/units/wj.ipynb", "report.log"} <= set(names)
    assert any(n.startswith("评议结果.xlsx!xl/worksheets/") for n in names)
    assert any(n.startswith("评议结果通报.docx!word/document.xml") for n in names)


def test_no_published_file_names_the_server_folders(seeded):
    out, _ = seeded
    folders = {str(out.parent), str(out.parent.resolve()), str(Path(__file__).resolve().parents[1]), sys.prefix}
    found = [f"{name}: {f}" for name, text in published_texts(out) for f in folders
             if f in text or json.dumps(f)[1:-1] in text]
    assert not found, found[:10]  # the data folder, the checkout (notebooks, ruleset), the Python, the output
    log = (out / "report.log").read_text(encoding="utf-8")
    assert "数据集 2011，" in log and "wrote out/index.html" in log  # named, not located
    nb = json.loads((out / "notebooks/units/wj.ipynb").read_text(encoding="utf-8"))
    assert nb["metadata"]["papermill"]["parameters"]["dataset"] == "2011"
    assert nb["metadata"]["papermill"]["output_path"] == "wj.ipynb"
    injected = next("".join(c["source"]) for c in nb["cells"] if "injected-parameters" in c["metadata"].get("tags", []))
    assert 'dataset = "2011"  # 只写名称' in injected  # a rerun in JupyterLab is told to give the full path


def test_the_masked_values_are_there_for_a_reader(seeded):
    out, _ = seeded
    page = (out / "units" / "wj.html").read_text(encoding="utf-8")
    assert mask_fingerprint(DEVICE) in page  # the repeated device, masked, beside its questionnaires
    texts = dict(published_texts(out))
    sheets = " ".join(t for n, t in texts.items() if n.startswith("评议结果.xlsx!xl/"))
    assert mask_fingerprint(DEVICE) in sheets  # 问卷异常: the repeated device, masked
    assert mask_personal_data(BAD_TIME) in sheets  # 数据质量: the rejected row is listed, its value masked


def test_the_folder_holds_no_pickle_and_no_scored_bundle(seeded, scored_cache):
    out, _ = seeded
    files = [p for p in out.rglob("*") if p.is_file()]
    assert not [p for p in files if p.suffix in (".pickle", ".pkl", ".arrow", ".npy", ".parquet")]
    assert not [p for p in files if p.read_bytes()[:2] in (b"\x80\x04", b"\x80\x05")]  # pickle protocol 4/5
    nb = json.loads((out / "notebooks" / "units" / "wj.ipynb").read_text(encoding="utf-8"))
    assert nb["metadata"]["papermill"]["parameters"]["scored"] == ""  # a rerun reads the round from its folder
    assert str(scored_cache) not in json.dumps(nb, ensure_ascii=False)
    assert any((scored_cache / "scored").iterdir())  # where the bundle went


def test_masks_keep_a_little_to_tell_values_apart():
    assert mask_fingerprint("7a47875e7bde2bb4") == "7a47****"
    assert mask_fingerprint("13700001111") == "13****"
    assert mask_fingerprint("abc") == "****"
    assert mask_fingerprint("") == "" and mask_fingerprint(None) == "" and mask_fingerprint(float("nan")) == ""
    assert MOBILE not in mask_personal_data(f"电话{MOBILE}")


def test_a_look_back_round_of_the_same_or_a_later_year_is_refused_before_any_work(tmp_path, capsys):
    same_year = tmp_path / "2011b"
    shutil.copytree(SAMPLE_2011, same_year)
    with open(same_year / "bonuses.csv", "a", encoding="utf-8") as f:
        f.write("wj,又一项加分,0.5\n")  # not the same bytes: the same-content check does not catch it
    for previous, year in ((SAMPLE_2012, "2012"), (same_year, "2011")):
        out = tmp_path / f"out-{year}"
        assert main(["report", str(SAMPLE_2011), "--previous", str(previous), "--out", str(out), "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "--previous 应是更早一年的评议数据" in err and f"是 {year} 年" in err
        assert not out.exists()


def test_workbook_and_notice_are_the_same_bytes_on_a_rerun(tmp_path):
    import time

    import pingyi_lib as py
    from pingyi_lib.output.runner import write_round_notice
    from pingyi_lib.output.workbook import write_results_workbook

    res = py.score(py.load_dataset(SAMPLE_2011))
    day = res.dataset.round.report_day().day
    made = []
    for i in range(2):
        if i:
            time.sleep(2.1)  # a zip member's time has two-second steps
        wb = write_results_workbook(res, tmp_path / f"{i}.xlsx")
        notice = write_round_notice(res, tmp_path / f"{i}.docx")
        made.append((wb.read_bytes(), notice.read_bytes()))
    assert made[0] == made[1]
    for name in ("0.xlsx", "0.docx"):
        with zipfile.ZipFile(tmp_path / name) as z:
            core = z.read("docProps/core.xml").decode()
            assert {i.date_time[:3] for i in z.infolist()} == {(day.year, day.month, day.day)}
        assert core.count(f"{day.isoformat()}T00:00:00Z") == 2  # created and modified: the report day
