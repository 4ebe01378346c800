"""Who answers for each dimension (seed §三): round.toml's leaders and offices, the units
clearly below their group, the ledger's owners checked, and the 责任分解 of pages, notice and
workbook. Expectations are worked out by hand from the sample's files."""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from types import SimpleNamespace

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import pingyi_lib as py
from pingyi_lib.common.errors import DatasetError
from pingyi_lib.dataset.round import Duty, round_toml
from pingyi_lib.dataset.sample import bundled_round
from pingyi_lib.followup import duties
from pingyi_lib.followup.ledger import data_problems, ledger
from pingyi_lib.output.template import init_round
from pingyi_lib.output.workbook import write_results_workbook
from pingyi_lib.scheme.ruleset import load_ruleset
from pingyi_lib.sections import duties as words
from pingyi_lib.sections.followup import FollowUp
from pingyi_lib.sections.notice import notice_blocks

from .test_round import folder

SEED_NAMES = ("李士庆", "叶国宁", "张向阳", "周南平", "叶容", "蒋庆梅")


@pytest.fixture(scope="module")
def r2011():
    res = py.score(py.load_dataset(bundled_round(2011)), intervals=True)
    return res, FollowUp(res)


def test_the_2011_sample_round_names_whom_seed_three_names():
    info = py.load_dataset(bundled_round(2011)).round
    assert info.duty("service") == Duty(("周南平", "叶容"), ("行政服务处", "局办公室"), ("机关各处室", "监察支队"))
    assert info.duty("integrity").leaders == ("叶容", "叶国宁", "蒋庆梅", "张向阳")
    assert info.duty("open").lead_offices == ("局办公室", "政策法规处", "信息中心")
    assert info.offices == ("政策法规处", "机关各处室", "监察支队", "局办公室", "信息中心", "行政服务处", "监察室")


def test_a_dimension_may_be_named_by_its_label_and_names_may_be_one_text(tmp_path):
    text = ('city = "临江市"\nyear = 2013\n[responsibility."政务服务"]\nleaders = "王一、李二"\n'
            'lead_offices = ["行政审批科"]\n')
    info = py.load_dataset(folder(tmp_path, text)).round
    assert info.duty("service") == Duty(("王一", "李二"), ("行政审批科",), ())
    assert info.duty("lawful") == Duty() and not info.duty("lawful").named


@pytest.mark.parametrize("text, words_", [
    ('[responsibility.speed]\nleaders = ["王一"]\n', "responsibility.speed 不是评议规则中的评议内容"),
    ('[responsibility.service]\nleader = ["王一"]\n', "responsibility.service.leader 不是认识的项目"),
    ('[responsibility.service]\nleaders = [1, 2]\n', "responsibility.service.leaders 应为名称列表"),
    ('[responsibility.service]\nleaders = ["王一"]\n[responsibility."政务服务"]\nleaders = ["李二"]\n', "写了两次"),
])
def test_a_wrong_responsibility_table_is_refused_in_words(tmp_path, text, words_):
    with pytest.raises(DatasetError, match=words_.replace("(", r"\(")):
        py.load_dataset(folder(tmp_path, 'city = "临江市"\nyear = 2013\n' + text))


def test_init_writes_the_keys_empty_with_what_goes_there(tmp_path):
    rs = load_ruleset()
    init_round(tmp_path / "r", "临江市", 2013, rs)
    text = (tmp_path / "r" / "round.toml").read_text(encoding="utf-8")
    assert "[responsibility.service]  # 政务服务" in text and "lead_offices = []  # 牵头处室" in text
    assert "实施意见三" in text and not any(n in text for n in SEED_NAMES)
    given = round_toml("临江市", 2013, dimensions={"service": "政务服务"}, duties={"service": Duty(('王"一',))})
    assert 'leaders = ["王\\"一"]' in given  # a quote in a name stays TOML


def test_city_index_is_the_pooled_index_with_a_normal_interval():
    rs = load_ruleset()
    # three answers of the top level (score 100) and one of 60 on 依法履职, by hand:
    # index 90, s² = (3·10² + 30²)/3 = 400, se = √(400/4) = 10, 95%: 90 ± 1.959964·10
    top = next(lv for lv in rs.levels if lv.score == 1.0)
    low = next(lv for lv in rs.levels if lv.score == 0.6)
    idx = pd.MultiIndex.from_tuples([("a", "lawful"), ("b", "lawful")], names=["unit_id", "item"])
    counts = pd.DataFrame(0, index=idx, columns=[0, *(lv.code for lv in rs.levels)])
    counts.loc[("a", "lawful"), top.code] = 2
    counts.loc[("b", "lawful"), [top.code, low.code]] = [1, 1]
    out = duties.city_index(SimpleNamespace(ruleset=rs, counts={"survey": counts})).set_index("item")
    assert out.loc["lawful", "n"] == 4 and out.loc["lawful", "index"] == 90.0
    assert (out.loc["lawful", "lo"], out.loc["lawful", "hi"]) == (70.40, 109.60)
    assert np.isnan(out.loc["fair", "index"])


def test_weak_means_the_whole_interval_below_the_group_mean(r2011):
    res, _ = r2011
    weak = duties.weak_units(res)
    means = duties.group_means(res)
    t = res.intervals[res.intervals["measure"] == "item_index"].merge(
        res.units[["unit_id", "rank_group"]], on="unit_id").merge(means, on=["rank_group", "component", "item"])
    below = t[t["hi"] < t["group_mean"]]
    assert set(zip(weak["unit_id"], weak["item"], weak["component"])) == \
        set(zip(below["unit_id"], below["item"], below["component"])) and len(weak)
    point_only = t[(t["estimate"] < t["group_mean"]) & (t["hi"] >= t["group_mean"])]
    assert len(point_only)  # below the mean by its point only: not weak
    assert not weak["unit_id"].isin(res.units.loc[res.units["rank"].isna(), "unit_id"]).any()


def _by_hand_overdue(path, day: dt.date):
    """Per owner: items, and items not done by ``day`` (not 已完成, or completed after the day)
    whose deadline passed before it (the CSV read by hand)."""
    owned, late = {}, {}
    with open(path, encoding="utf-8") as f:
        for r in csv.DictReader(f):
            owned[r["owner"]] = owned.get(r["owner"], 0) + 1
            done = r["status"] == "已完成" and dt.date.fromisoformat(r["completed_on"]) <= day
            if not done and dt.date.fromisoformat(r["deadline"]) < day:
                late[r["owner"]] = late.get(r["owner"], 0) + 1
    return owned, late


def test_offices_count_their_items_and_overdue_items_as_the_ledger_file_says(r2011):
    res, fu = r2011
    owned, late = _by_hand_overdue(bundled_round(2011) / "rectifications.csv", dt.date(2011, 9, 20))
    t = words.office_table(res, fu).set_index("处室")
    for office, n in owned.items():
        assert t.loc[office, "台账中负责事项（项）"] == n
        assert t.loc[office, "台账中逾期（项）"] == late.get(office, 0)
    assert t.loc["行政服务处", "牵头评议内容"] == "政务服务" and t.loc["监察支队", "牵头评议内容"] == "—"
    # R2011-005, -007, -022, -023, -030: 政务服务 items (服务态度差, 推诿扯皮) overdue on 2011-09-20
    assert t.loc["行政服务处", "未完成整改事项（项）"] == 5 and t.loc["行政服务处", "其中逾期（项）"] == 5
    items = words.office_items(res, fu)
    assert set(items.loc[items["评议内容"] == "政务服务", "事项编号"]) == \
        {"R2011-005", "R2011-007", "R2011-022", "R2011-023", "R2011-030"}
    assert items["截至报告日"].iloc[0].startswith("逾期")  # overdue first


def test_a_ledger_item_takes_its_dimensions_from_its_themes(r2011):
    _, fu = r2011
    led = fu.ledger.set_index("item_id")
    assert led.loc["R2011-027", "themes"] == "执法不亮证、无证执法" and led.loc["R2011-027", "dimensions"] == "lawful"
    assert led.loc["R2011-001", "dimensions"] == "integrity"  # 吃拿卡要


def test_ledger_owners_are_checked_against_the_round_offices(tmp_path):
    d = tmp_path / "2011"
    shutil.copytree(bundled_round(2011), d)
    path = d / "rectifications.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",监察室,", ",办公室,")  # R2011-001 (file row 2)
    lines[2] = lines[2].replace(",局办公室,", ",政策法规科,")  # R2011-002 (row 3)
    lines[3] = lines[3].replace(",信息中心,", ",后勤保障处,")  # R2011-003 (row 4)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    ds = py.load_dataset(d)
    found = data_problems(ds)
    found = found[found["reason_code"].str.startswith("owner")].set_index("item")
    code, reason = found["reason_code"], found["reason"]
    assert code["R2011-001"] == "owner_near" and "是否为“局办公室”" in reason["R2011-001"]
    assert code["R2011-002"] == "owner_near" and "是否为“政策法规处”" in reason["R2011-002"]
    assert found.loc["R2011-003", "reason_code"] == "owner_unknown" and "后勤保障处" in found.loc["R2011-003", "reason"]
    assert list(found.loc[["R2011-001", "R2011-002", "R2011-003"], "row"]) == [2, 3, 4]
    assert set(found["file"]) == {str(path)} or set(found["file"]) == {"rectifications.csv"}
    assert len(ledger(ds)) == len(lines) - 1  # nothing dropped


def test_a_round_without_names_says_so_and_shows_no_other_round_names():
    res = py.score(py.load_dataset(bundled_round(2012)), intervals=True)
    fu = FollowUp(res)
    t = words.dimension_table(res, fu)
    assert set(t["牵头处室"]) == {"未指定"} and set(t["责任领导"]) == {"未指定"}
    text = " ".join(str(v) for _, v in notice_blocks(res, fu, "t"))
    assert "牵头处室未指定" in text and not any(n in text for n in SEED_NAMES)
    assert "round.toml 未写" in words.duties_note(res)
    assert not data_problems(res.dataset)["reason_code"].str.startswith("owner").any()  # nothing to check against


def test_unit_page_names_the_lead_office_beside_each_weak_dimension(r2011):
    res, _ = r2011
    t = words.unit_dimensions(res, "wj").set_index("评议内容")
    assert t.loc["政务服务", "市局牵头处室"] == "行政服务处、局办公室"
    assert "问卷调查" in t.loc["政务服务", "明显低于组平均"]
    weak = duties.weak_units(res)
    strong = [res.ruleset.item_labels[i] for i in res.ruleset.scored_items
              if not ((weak["unit_id"] == "zl") & (weak["item"] == i)).any()]
    z = words.unit_dimensions(res, "zl").set_index("评议内容")
    assert all(z.loc[s, "市局牵头处室"] == "" for s in strong)
    assert "政务服务（市局牵头处室：行政服务处、局办公室）" in words.weak_sentence(res, "wj")


def test_notice_and_workbook_carry_the_responsibility(r2011, tmp_path):
    res, fu = r2011
    paras = [v for k, v in notice_blocks(res, fu, "t") if k == "para"]
    service = next(p for p in paras if p.startswith("4. 政务服务"))
    assert "由行政服务处、局办公室牵头（责任领导：周南平、叶容）" in service and "武进区安监局" in service
    wb = openpyxl.load_workbook(write_results_workbook(res, tmp_path / "w.xlsx", follow=fu), read_only=True)
    rows = [r for r in wb["责任分解"].iter_rows(values_only=True)]
    assert rows[0][:2] == ("评议内容", "全市问卷调查指数")
    row = next(r for r in rows if r[0] == "政务服务")
    assert "行政服务处、局办公室" in row and "周南平、叶容" in row
    assert any(r[0] == "处室" for r in rows) and any(r[0] == "事项编号" for r in rows)
    about = " ".join(str(v) for r in wb["说明"].iter_rows(values_only=True) for v in r if v is not None)
    assert str(bundled_round(2011).parent) not in about and "/" not in about  # the round, not the server's folders
    assert "常州市安监系统2011年民主评议政风行风" in about


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 40), min_size=5, max_size=5), st.lists(st.integers(0, 40), min_size=5, max_size=5))
@example([0, 1, 6, 14, 0], [21, 8, 8, 38, 0])  # a half: 38.125 is published as 38.13
def test_city_index_pools_every_unit_and_its_interval_holds_it(a, b):
    rs = load_ruleset()
    codes = [lv.code for lv in rs.levels]
    idx = pd.MultiIndex.from_tuples([("a", "lawful"), ("b", "lawful")], names=["unit_id", "item"])
    counts = pd.DataFrame([[0, *a], [0, *b]], index=idx, columns=[0, *codes])
    out = duties.city_index(SimpleNamespace(ruleset=rs, counts={"survey": counts})).set_index("item").loc["lawful"]
    scored = [(lv.score, x + y) for lv, x, y in zip(rs.levels, a, b) if lv.score is not None]
    n = sum(k for _, k in scored)
    assert out["n"] == n
    if n == 0:
        assert np.isnan(out["index"])
        return
    # by the formula of SPEC §4, on the pooled answers, exactly, then half up (四舍五入) as published:
    # Python's round gives 38.12 for 38.125 (a = [0, 1, 6, 14, 0], b = [21, 8, 8, 38, 0])
    mean = Fraction(100) * sum(Fraction(str(s)) * k for s, k in scored) / n
    published = (Decimal(mean.numerator) / Decimal(mean.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    assert out["index"] == pytest.approx(float(published), abs=1e-9)
    if n > 1:
        assert out["lo"] <= out["index"] + 1e-9 and out["index"] <= out["hi"] + 1e-9
