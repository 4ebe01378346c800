"""Synthetic sample rounds of the Changzhou scheme (SPEC §2), for demos and tests.

    >>> paths = write_sample(2011, "data/sample/2011")   # one CSV per table

Everything is made up: no real person, questionnaire or case. The generator is
seeded by the year (one numpy ``default_rng`` per table) and writes fixed formats in
a fixed order, so a re-run is byte-identical. Answer levels, item ids, channels,
panel categories, case sources, statuses, steps and dates come from the ruleset;
the scenario of each year (which unit has which deliberate anomaly) is ``SCENARIOS``.
"""

from __future__ import annotations

import csv
import hashlib
import os
import zlib
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np

from pingyi_lib.dataset.round import ROUND_FILE, Duty, round_toml
from pingyi_lib.scheme.ruleset import Ruleset, load_ruleset

SAMPLE_YEARS = (2011, 2012)
SAMPLE_CITY = "常州市"
SAMPLE_TITLE = "常州市安监系统{year}年民主评议政风行风"
SAMPLE_REPORT_DATE = "09-20"  # the sample rounds are read as of the end of their rectification step
# who answers for each dimension in the round of the seed's year (seed §三, 2011); the leaders
# and offices of another year are not known, so its sample round names no one (未指定)
SAMPLE_DUTY_YEAR = 2011
SAMPLE_DUTIES = {
    "lawful": Duty(("李士庆",), ("政策法规处",), ("机关各处室", "监察支队")),
    "fair": Duty(("李士庆",), ("政策法规处",), ("机关各处室", "监察支队")),
    "open": Duty(("叶国宁", "李士庆", "张向阳"), ("局办公室", "政策法规处", "信息中心"), ("机关各处室", "监察支队")),
    "service": Duty(("周南平", "叶容"), ("行政服务处", "局办公室"), ("机关各处室", "监察支队")),
    "integrity": Duty(("叶容", "叶国宁", "蒋庆梅", "张向阳"), ("局办公室", "监察室"), ("机关各处室", "监察支队")),
}

# ---- units (seed §二) ------------------------------------------------------------------
CITY = ("czsaj", "常州市安全生产监督管理局")
DISTRICTS = (("ly", "溧阳市"), ("jt", "金坛市"), ("wj", "武进区"), ("xb", "新北区"),
             ("tn", "天宁区"), ("zl", "钟楼区"), ("qsy", "戚墅堰区"))
STATIONS = (("wj-hutang", "武进区湖塘镇安监站", "wj"),
            ("xb-chunjiang", "新北区春江镇安监所", "xb"),
            ("jt-xuebu", "金坛市薛埠镇安监站", "jt"))
NEW_WINDOW_2012 = ("wj-gxq-win", "武进国家高新区行政服务中心安监窗口", "wj")
DROPPED_2012 = "jt-xuebu"

# ---- the deliberate features of each round (see data/sample/README.md) -------------------
SCENARIOS = {
    2011: dict(
        quality={"czsaj": .89, "ly": .91, "jt": .87, "wj": .79, "xb": .93, "tn": .88,
                 "zl": .855, "qsy": .785},
        small=("xb-chunjiang", "qsy-win"),   # fewer than 30 questionnaires
        panel_short="zl", case_over_cap="wj", unsubstantiated_deduction="jt",
        case_windows=("czsaj-win", "wj-win", "zl-win"),
        bonuses=(("xb", "主动接受媒体监督，参与电视问政节目", 2.0),
                 ("xb", "积极参加政风热线，现场答复群众来电", 1.5),
                 ("ly", "积极参加政风热线", 1.0), ("czsaj", "公开评议活动组织有力", 0.5),
                 ("ly-win", "窗口服务获市级“群众满意窗口”称号", 1.0)),
        violations=(("ly", "拉票", "群众来信反映该局在问卷发放期间向服务对象打招呼、要求填写"
                     "“很满意”，经市纠风办核查证据不足，不予认定", False),),
        burst=None,
        late=(("jt", "动员部署", 2), ("qsy", "自查自纠", 6), ("zl", "整改", 9)),
        missing=("qsy", "整改")),
    2012: dict(
        quality={"czsaj": .90, "ly": .915, "jt": .79, "wj": .85, "xb": .925, "tn": .88,
                 "zl": .87, "qsy": .785},
        small=("xb-chunjiang", "wj-gxq-win"),
        panel_short="ly", case_over_cap="qsy", unsubstantiated_deduction="tn",
        case_windows=("tn-win", "jt-win", "wj-gxq-win"),
        bonuses=(("wj", "主动接受媒体监督，整改情况在《常州日报》公开", 1.5),
                 ("wj", "积极参加政风热线", 1.0), ("wj", "公开评议活动组织有力", 1.0),
                 ("xb", "积极参加政风热线", 1.0), ("czsaj", "主动接受媒体监督", 0.5)),
        violations=(("tn-win", "刷票", "网上评议专栏{day}晚间约一小时内集中出现{n}份"
                     "“很满意”问卷，仅来自{k}个终端，经市纠风办核查认定为组织刷票", True),),
        burst=dict(unit="tn-win", day="08-21", start="20:07:00", minutes=55),
        late=(("ly", "自查自纠", 1), ("wj", "动员部署", 4), ("qsy", "整改", 7)),
        missing=("jt", "自查自纠")),
}

# ---- vocabularies the ruleset does not hold (seed §五(四)) ------------------------------
RESPONDENTS = {  # category: weight for districts and the city bureau, for windows/stations
    "党代表": (3, 0), "人大代表": (5, 1), "政协委员": (5, 1), "行风监督员": (4, 1),
    "党风联络员": (2, 0), "特邀监察员": (2, 0), "行业主管部门领导": (6, 1),
    "村(居)委会代表": (8, 3), "个体工商户": (12, 20), "企业代表": (30, 40),
    "新闻单位": (3, 0), "群众": (20, 33)}
CHANNEL_MIX = {"city": {"online": .55, "third_party": .40, "phone": .05},
               "district": {"paper": .45, "third_party": .35, "online": .15, "phone": .05},
               "window": {"paper": .70, "online": .22, "phone": .08}}
ABSTAIN = {"lawful": .03, "fair": .04, "open": .09, "service": .015, "integrity": .06,
           "overall": .01}
ITEM_SHIFT = {"open": -.5, "integrity": .2, "service": -.1}  # in the answer model's units
BLANK = .02

MATTERS = ("安全生产许可证延期", "危险化学品经营许可证", "烟花爆竹零售许可证", "特种作业操作证复审",
           "建设项目安全设施“三同时”审查", "职业卫生档案备案", "安全评价报告备案",
           "非药品类易制毒化学品备案")
PLACES = ("行政服务中心窗口", "局里业务科室", "来厂检查的执法人员", "镇上安监站")
DOCS = ("营业执照复印件", "法人授权委托书", "安全管理人员资格证", "厂房租赁合同", "应急预案备案表")
COMPLAINTS = (
    "{place}态度生硬，动不动就说要停产整顿，粗暴执法。",
    "个别检查人员吃拿卡要,检查完还暗示企业安排吃饭。",
    "办理{matter}时科室之间推诿扯皮，跑了{k}趟还没办成。",
    "材料明明齐全，窗口还一再要求补充，刁难群众。",
    "{matter}的办事程序和收费依据没有公示，不知道该找谁办。",
    "同样的隐患，别的企业罚{a}元，我们被罚{b}元，自由裁量太随意,希望统一标准。",
    "来厂里检查的人没有出示执法证，问了也不给看，属于无证执法。",
    "{place}服务态度差，问个问题爱理不理。",
    "一次性告知不到位，第一次没说要{doc}，白跑一趟。",
    "{matter}办事效率低，等了{k}个工作日还没有结果。",
    '窗口承诺"{k}个工作日办结"，实际拖了半个多月，限时办结不落实。',
    "乱罚款现象还有，开了罚单也不讲依据。",
    "网上公开的信息更新不及时，{matter}的办理结果查不到。",
    "检查走过场，只看台账不看现场，形式主义。",
)
PRAISE = (
    "窗口工作人员服务热情，{matter}当天就办好了。",
    "办事高效，一次性告知很清楚，没有多跑路。",
    "执法人员亮证执法，指出隐患很专业,对企业帮助很大。",
    "今年作风明显转变，下企业指导多了，乱罚款少了。",
    "政务公开做得好，网上能查到{matter}的办理进度。",
    "服务态度好，用语文明，希望继续保持。",
)
SUGGESTIONS = (
    "建议{matter}实行网上申报，减少企业跑腿。",
    "建议在窗口公示办事流程、时限和收费标准。",
    '建议检查标准统一,避免"一刀切"。',
    "小企业安全投入有困难，希望多指导、少罚款。",
    "希望多组织安全生产培训，讲讲新出台的规定。",
)
OPENERS = ("", "", "", "我们是小企业，", "作为企业安全员，", "上个月去办事，", "说句实话，", "总的来说，")
CLOSERS = {COMPLAINTS: ("", "", "希望整改。", "希望引起重视！", "请领导关注一下。"),
           PRAISE: ("", "", "点赞！", "谢谢！"), SUGGESTIONS: ("", "", "谢谢。")}
PII = ("联系电话{mobile}，欢迎回访。", "有事可打我办公室电话{landline}。",
       "本人身份证号{idno}，可以实名核实。", "详细材料已发到{email}，请回复。",
       "我的货车{plate}在检查中被扣，至今没有书面说法。")
CASES = {  # source: summaries
    "政风热线": ("政风热线听众反映{matter}办理超过承诺时限", "政风热线听众反映执法人员检查时态度粗暴",
             "政风热线听众反映咨询电话长期无人接听"),
    "投诉": ("企业投诉执法人员现场检查时未出示执法证件", "个体工商户投诉以材料不全为由多次退件，未一次性告知",
           "企业投诉检查人员要求购买指定的安全标志和培训资料"),
    "暗访": ("暗访发现工作时间窗口无人值守，群众等候超过30分钟", "暗访发现办事指南和收费标准未在大厅公示",
           "暗访发现工作人员上班时间玩手机、接待群众态度冷淡"),
    "媒体": ("《常州日报》报道企业反映{matter}多次补正材料", "电视问政节目反映对同类隐患处罚幅度差异较大",
           "网络媒体报道执法人员检查后“只罚款不指导”"),
    "其他": ("纪检监察转办件反映检查中接受企业宴请", "群众来信反映{matter}办理中推诿扯皮",
           "人大代表建议转办件反映小微企业检查频次过多、重复检查"),
}
RECTIFY = (  # problem, measure, responsible office (处室 named in seed §三/§四)
    ("执法人员未亮证执法", "开展执法证件专项清理，检查时一律先亮证、后检查", "监察支队"),
    ("自由裁量随意，同类隐患处罚幅度差异大", "修订行政处罚自由裁量基准，重大处罚集体讨论", "政策法规处"),
    ("办事程序和收费依据公示不全", "在窗口和门户网站公示办事指南、流程、时限和依据", "局办公室"),
    ("一次性告知不到位，群众多次往返", "制作一次性告知单，落实首问负责和AB角制度", "行政服务处"),
    ("限时办结不落实，许可办理超期", "建立办件超期预警，每月通报办结情况", "行政服务处"),
    ("个别人员服务态度差、用语不文明", "开展文明用语培训，窗口实行服务评价器评价", "行政服务处"),
    ("检查中吃拿卡要、接受宴请苗头", "重申廉洁纪律，实行检查回访和廉政承诺", "监察室"),
    ("科室之间推诿扯皮", "明确内部职责分工，实行联办件牵头科室负责制", "局办公室"),
    ("网上公开信息更新不及时", "落实信息公开专人负责，每周更新办理结果", "信息中心"),
    ("检查走过场、重台账轻现场", "完善执法检查规范，推行现场检查记录全过程留痕", "监察支队"),
)


def _rng(year: int, table: str) -> np.random.Generator:
    return np.random.default_rng([year, zlib.crc32(table.encode())])


def _day(year: int, mmdd: str) -> date:
    return date(year, int(mmdd[:2]), int(mmdd[3:]))


def _pts(x: float) -> str:
    return f"{x:.1f}"


# ---- units -------------------------------------------------------------------------------
def _units(year: int) -> list[dict]:
    rows = [dict(unit_id=CITY[0], name=CITY[1], level="city", parent_id="")]
    rows += [dict(unit_id=u, name=f"{n}安监局", level="district", parent_id="") for u, n in DISTRICTS]
    rows.append(dict(unit_id=f"{CITY[0]}-win", name="常州市行政服务中心安监窗口",
                     level="window", parent_id=CITY[0]))
    rows += [dict(unit_id=f"{u}-win", name=f"{n}行政服务中心安监窗口", level="window", parent_id=u)
             for u, n in DISTRICTS]
    if year >= 2012:
        u, n, p = NEW_WINDOW_2012
        rows.append(dict(unit_id=u, name=n, level="window", parent_id=p))
    rows += [dict(unit_id=u, name=n, level="station", parent_id=p) for u, n, p in STATIONS
             if not (year >= 2012 and u == DROPPED_2012)]
    return rows


# ---- answers -----------------------------------------------------------------------------
def _beta(target: float, scores: np.ndarray) -> float:
    """The slope of p(level) ∝ exp(beta·score) whose expected score is `target`."""
    lo, hi = -20.0, 40.0
    for _ in range(60):
        mid = (lo + hi) / 2
        w = np.exp(mid * scores)
        lo, hi = (mid, hi) if (w @ scores) / w.sum() < target else (lo, mid)
    return (lo + hi) / 2


def _answers(rng, n: int, target: float, rs: Ruleset, abstain, blank: float):
    """Labels per item (item -> array) and each respondent's mean score; `abstain` scales
    ABSTAIN (a number or one per respondent)."""
    scored = [lv for lv in rs.levels if lv.score is not None]
    scores = np.array([lv.score for lv in scored])
    labels = np.array([lv.label for lv in scored])
    abstain_label = next(lv.label for lv in rs.levels if lv.score is None)
    beta = _beta(target, scores) + rng.normal(0, 0.9, n)  # a respondent's own mood
    out, got = {}, []
    for it in rs.items:
        b = beta + ITEM_SHIFT.get(it, 0.0) + rng.normal(0, 0.6, n)
        w = np.exp(b[:, None] * scores[None, :])
        cum = (w / w.sum(1, keepdims=True)).cumsum(1)
        k = (rng.random(n)[:, None] > cum[:, :-1]).sum(1)
        ans = labels[k].astype(object)
        s = scores[k].astype(float)
        gone = rng.random(n) < ABSTAIN.get(it, .02) * abstain
        ans[gone], s[gone] = abstain_label, np.nan
        gone = rng.random(n) < blank
        ans[gone], s[gone] = "", np.nan
        out[it] = ans
        got.append(s)
    got = np.array(got)
    seen = (~np.isnan(got)).sum(0)
    return out, np.where(seen > 0, np.nansum(got, 0) / np.maximum(seen, 1), 0.7)


# ---- comments ----------------------------------------------------------------------------
def _fill(rng, template: str) -> str:
    a = int(rng.integers(2, 10)) * 1000
    return template.format(place=rng.choice(PLACES), matter=rng.choice(MATTERS),
                           doc=rng.choice(DOCS), k=int(rng.integers(3, 8)), a=a, b=a * 3)


def _comment(rng, mean: float) -> str:
    """A comment or '' for a respondent whose answers average `mean`."""
    if mean < 0.55:
        pool, p = COMPLAINTS, .45
    elif mean < 0.85:
        pool, p = (COMPLAINTS if rng.random() < .5 else SUGGESTIONS), .18
    else:
        pool, p = (PRAISE if rng.random() < .7 else SUGGESTIONS), .17
    if rng.random() >= p:
        return ""
    return str(rng.choice(OPENERS)) + _fill(rng, rng.choice(pool)) + str(rng.choice(CLOSERS[pool]))


def _id_number(rng) -> str:
    body = (str(rng.choice(["320402", "320404", "320411", "320481", "320482"]))
            + (date(1960, 1, 1) + timedelta(days=int(rng.integers(0, 11000)))).strftime("%Y%m%d")
            + f"{int(rng.integers(0, 1000)):03d}")
    w = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return body + "10X98765432"[sum(int(c) * x for c, x in zip(body, w, strict=True)) % 11]


def _pii(rng, kind: int) -> str:
    digits = lambda k: "".join(str(d) for d in rng.integers(0, 10, k))
    return PII[kind].format(
        mobile=f"1{rng.choice(['39', '38', '51', '58', '89'])}{digits(8)}",
        landline=f"0519-8{digits(7)}", idno=_id_number(rng),
        email=f"{rng.choice(['zhangwei', 'wangfang', 'liqiang', 'chenjing', 'zhoumin'])}"
              f"{digits(2)}@{rng.choice(['163.com', 'qq.com', 'sina.com'])}",
        plate=f"苏D{digits(5)}")


# ---- survey ------------------------------------------------------------------------------
def _survey(year: int, rs: Ruleset, units: list[dict], sc: dict) -> list[dict]:
    rng = _rng(year, "survey")
    start, end = _day(year, rs.timeline["survey_start"]), _day(year, rs.timeline["survey_end"])
    ndays = (end - start).days
    cats = list(RESPONDENTS)
    rows_by_unit = []
    for u in units:
        uid, lvl = u["unit_id"], u["level"]
        if lvl == "district":
            n = int(rng.integers(200, 801))
        elif lvl == "city":
            n = int(rng.integers(300, 601))
        else:
            n = int(rng.integers(20, 30) if uid in sc["small"] else rng.integers(40, 151))
        q = sc["quality"].get(uid, float(rng.uniform(.80, .95)))
        mix = CHANNEL_MIX["window" if lvl in ("window", "station") else lvl]
        ch = rng.choice(list(mix), size=n, p=list(mix.values()))
        w = np.array([RESPONDENTS[c][lvl in ("window", "station")] for c in cats], float)
        who = rng.choice(cats, size=n, p=w / w.sum())
        abstain = np.where(np.isin(who, ["群众", "个体工商户"]), 2.0, 1.0)
        ans, mean = _answers(rng, n, q, rs, abstain, BLANK)
        days = rng.integers(0, ndays + 1, n)
        secs = np.where(ch == "online", rng.integers(7 * 3600, 23 * 3600, n),
                        rng.integers(8 * 3600 + 1800, 17 * 3600 + 1800, n))
        rows = []
        for i in range(n):
            at = datetime.combine(start, datetime.min.time()) + timedelta(
                days=int(days[i]), seconds=int(secs[i]))
            fp = (hashlib.sha256(f"device-{year}-{uid}-{i:05d}".encode()).hexdigest()[:16]
                  if ch[i] == "online" else "")
            rows.append(dict(unit_id=uid, respondent_category=str(who[i]), channel=str(ch[i]),
                             submitted_at=at, fingerprint=fp,
                             **{it: ans[it][i] for it in rs.items},
                             comment=_comment(rng, float(mean[i]))))
        burst = sc["burst"]
        if burst and burst["unit"] == uid:
            rows += _burst(year, rng, rs, uid, burst)
        rows.sort(key=lambda r: r["submitted_at"])
        rows_by_unit.append(rows)
    rows = [r for unit_rows in rows_by_unit for r in unit_rows]
    commented = [i for i, r in enumerate(rows) if r["comment"]]
    for j, i in enumerate(sorted(rng.choice(commented, size=8, replace=False))):
        rows[i]["comment"] += _pii(rng, j % len(PII))
    for k, r in enumerate(rows, 1):
        r["response_id"] = f"S{year}-{k:06d}"
        r["submitted_at"] = r["submitted_at"].strftime("%Y-%m-%d %H:%M:%S")
    return rows


def _burst(year: int, rng, rs: Ruleset, uid: str, burst: dict) -> list[dict]:
    """An organised 刷票: many top answers from few devices within an hour."""
    top = max((lv for lv in rs.levels if lv.score is not None), key=lambda lv: lv.score).label
    n, k = int(rng.integers(60, 121)), int(rng.integers(3, 6))
    t0 = datetime.combine(_day(year, burst["day"]), datetime.strptime(burst["start"], "%H:%M:%S").time())
    devs = [hashlib.sha256(f"burst-{year}-{uid}-{j}".encode()).hexdigest()[:16] for j in range(k)]
    offs = np.sort(rng.integers(0, burst["minutes"] * 60, n))
    burst.update(n=n, k=k)  # for the violation summary
    return [dict(unit_id=uid, respondent_category=str(rng.choice(["群众", "企业代表"])),
                 channel="online", submitted_at=t0 + timedelta(seconds=int(s)),
                 fingerprint=devs[int(rng.integers(0, k))], **{it: top for it in rs.items},
                 comment="") for s in offs]


# ---- on-site panels ----------------------------------------------------------------------
def _onsite(year: int, rs: Ruleset, units: list[dict], sc: dict) -> list[dict]:
    rng = _rng(year, "onsite")
    public = list(rs.public_categories)
    others = [c for c in rs.panel_categories if c not in public]
    rows = []
    for u in (u for u in units if u["level"] == "district"):
        n = int(rng.integers(25, 41))
        half = -(-n * rs.panel_min_share // 1)  # ceil: the least compliant count
        k = int(half - rng.integers(2, 6) if u["unit_id"] == sc["panel_short"]
                else half + rng.integers(0, 6))
        cats = list(rng.choice(public, size=k)) + list(rng.choice(others, size=n - k))
        cats = [str(c) for c in rng.permutation(cats)]
        q = min(.97, sc["quality"][u["unit_id"]] + .02)
        ans, _ = _answers(rng, n, q, rs, 0.3, BLANK / 2)
        rows += [dict(unit_id=u["unit_id"], member_category=cats[i],
                      **{it: ans[it][i] for it in rs.items}) for i in range(n)]
    for k, r in enumerate(rows, 1):
        r["ballot_id"] = f"O{year}-{k:04d}"
    return rows


# ---- cases, bonuses, violations -----------------------------------------------------------
def _cases(year: int, rs: Ruleset, units: list[dict], sc: dict) -> list[dict]:
    rng = _rng(year, "cases")
    ids = [u["unit_id"] for u in units if u["level"] == "district" or u["unit_id"] in sc["case_windows"]]
    rows = []
    for uid in ids:
        over = uid == sc["case_over_cap"]
        n = 4 if over else int(rng.integers(1, 3 if uid.endswith("-win") else 5))
        for j in range(n):
            source = str(rng.choice(rs.case_sources))
            what = _fill(rng, rng.choice(CASES[source]))
            true = bool(rng.random() < .8) or over
            if uid == sc["unsubstantiated_deduction"] and j == 0:
                true = False  # the anomaly: a deduction on a case that was not substantiated
                d = float(rng.integers(2, 7)) / 2
            elif over:
                d = float(rng.integers(11, 17)) / 2  # 5.5-8, four of them > 20
            else:
                d = float(rng.integers(1, 9)) / 2 if true else 0.0
            rows.append(dict(unit_id=uid, source=source,
                             summary=what + ("，经查属实" if true else "，经调查不属实"),
                             substantiated="是" if true else "否", deduction=_pts(d)))
    for k, r in enumerate(rows, 1):
        r["case_id"] = f"C{year}-{k:03d}"
    return rows


def _bonuses(sc: dict) -> list[dict]:
    return [dict(unit_id=u, reason=r, points=_pts(p)) for u, r, p in sc["bonuses"]]


def _violations(sc: dict) -> list[dict]:
    b = sc["burst"] or {}
    day = f"{int(b['day'][:2])}月{int(b['day'][3:])}日" if b else ""
    return [dict(unit_id=u, kind=kind, summary=s.format(day=day, n=b.get("n"), k=b.get("k")),
                 confirmed="是" if ok else "否") for u, kind, s, ok in sc["violations"]]


# ---- rectifications and milestones ----------------------------------------------------------
def _rectifications(year: int, rs: Ruleset, units: list[dict]) -> list[dict]:
    rng = _rng(year, "rectifications")
    done, doing, todo = "已完成", "整改中", "未开始"
    assert {done, doing, todo} <= set(rs.rectification_status)
    prev = _rectifications(year - 1, rs, _units(year - 1)) if year - 1 in SAMPLE_YEARS else []
    rows = []
    for u in (u for u in units if u["level"] in ("city", "district")):
        picks = [RECTIFY[i] for i in rng.choice(len(RECTIFY), int(rng.integers(2, 6)), replace=False)]
        old = [r for r in prev if r["unit_id"] == u["unit_id"] and r["status"] != done][:1]
        picks += [(f"回头看({r['item_id']}): {r['problem']}",
                   f"对照{year - 1}年整改台账复查，{r['measure']}，建立长效机制", r["owner"])
                  for r in old]
        for problem, measure, owner in picks:
            deadline = date(year, 7, 25) + timedelta(days=int(rng.integers(0, 60)))
            status = str(rng.choice([done, doing, todo], p=[.6, .3, .1]))
            finished = ""
            if status == done:
                late = rng.random() < .25
                finished = max(date(year, 7, 20), deadline + timedelta(
                    days=int(rng.integers(1, 11)) if late else -int(rng.integers(0, 21)))).isoformat()
            rows.append(dict(unit_id=u["unit_id"], problem=problem, measure=measure,
                             owner=owner, deadline=deadline.isoformat(),
                             status=status, completed_on=finished))
    for k, r in enumerate(rows, 1):
        r["item_id"] = f"R{year}-{k:03d}"
    return rows


def _milestones(year: int, rs: Ruleset, units: list[dict], sc: dict) -> list[dict]:
    rng = _rng(year, "milestones")
    late = {(u, s): d for u, s, d in sc["late"]}
    rows = []
    for u in (u["unit_id"] for u in units if u["level"] == "district"):
        for step in rs.milestone_steps:
            on = _day(year, rs.timeline[step]) + timedelta(
                days=late.get((u, step), -int(rng.integers(0, 5))))
            if (u, step) != sc["missing"]:
                rows.append(dict(unit_id=u, step=step, submitted_on=on.isoformat()))
    return rows


# ---- writing -------------------------------------------------------------------------------
def _write(path: Path, columns: list[str], rows: list[dict]) -> Path:
    try:
        with path.open("w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(columns)
            w.writerows([r[c] for c in columns] for r in rows)
    except OSError as exc:  # a full disk names the file it was writing
        exc.filename = exc.filename or str(path)
        raise
    return path


def _repo_round(year: int) -> Path:
    """Where the committed sample round sits in a checkout of the project."""
    return Path(__file__).resolve().parents[2] / "data" / "sample" / str(year)


def cache_dir() -> Path:
    """Where generated sample rounds are kept when the package runs outside the project:
    $PINGYI_CACHE, else $XDG_CACHE_HOME/pingyi, else ~/.cache/pingyi."""
    env = os.environ.get("PINGYI_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "pingyi"


def bundled_round(year: int = 2011) -> Path:
    """The folder of a sample round, found through the package, not a relative path: the
    project's ``data/sample/<year>`` when the package runs from a checkout, else a copy
    generated once into :func:`cache_dir` (the generator is seeded: the same bytes)."""
    repo = _repo_round(year)
    if (repo / "units.csv").is_file() and (repo / ROUND_FILE).is_file():
        return repo
    return cached_round(year, cache_dir())


def cached_round(year: int, cache: Path) -> Path:
    """The sample round of ``year`` under ``cache``, generated there (atomically) if missing."""
    import shutil
    import tempfile

    target = Path(cache) / "sample" / str(year)
    if (target / ROUND_FILE).is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{year}-", dir=target.parent))
    try:
        write_sample(year, tmp)
        try:
            tmp.rename(target)
        except OSError:  # another process got there first
            if not (target / ROUND_FILE).is_file():
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def write_sample(year: int, out: str | Path, ruleset: Ruleset | None = None) -> list[Path]:
    """Write the synthetic round of `year` (one of SAMPLE_YEARS) as CSV files and its
    round.toml (city, year, title, report date) into `out`."""
    if year not in SCENARIOS:
        raise ValueError(f"没有 {year} 年的样例数据；可选：{'、'.join(map(str, SAMPLE_YEARS))}")
    rs = ruleset if ruleset is not None else load_ruleset()
    sc = {**SCENARIOS[year], "burst": dict(SCENARIOS[year]["burst"] or {}) or None}
    unknown = {c for mix in CHANNEL_MIX.values() for c in mix} - set(rs.channels)
    if unknown:
        raise ValueError(f"评议规则中没有样例数据用到的渠道 {', '.join(sorted(unknown))}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    units = _units(year)
    items = list(rs.items)
    survey = _survey(year, rs, units, sc)  # first: the burst it injects is named in violations
    tables = {
        "units": (["unit_id", "name", "level", "parent_id"], units),
        "survey": (["response_id", "unit_id", "respondent_category", "channel", "submitted_at",
                    "fingerprint", *items, "comment"], survey),
        "onsite": (["ballot_id", "unit_id", "member_category", *items], _onsite(year, rs, units, sc)),
        "cases": (["case_id", "unit_id", "source", "summary", "substantiated", "deduction"],
                  _cases(year, rs, units, sc)),
        "bonuses": (["unit_id", "reason", "points"], _bonuses(sc)),
        "violations": (["unit_id", "kind", "summary", "confirmed"], _violations(sc)),
        "rectifications": (["item_id", "unit_id", "problem", "measure", "owner", "deadline",
                            "status", "completed_on"], _rectifications(year, rs, units)),
        "milestones": (["unit_id", "step", "submitted_on"], _milestones(year, rs, units, sc)),
    }
    paths = [_write(out / f"{name}.csv", cols, rows) for name, (cols, rows) in tables.items()]
    duties = SAMPLE_DUTIES if year == SAMPLE_DUTY_YEAR else {}
    dims = {c: rs.item_labels[c] for c in rs.scored_items} if duties else None
    (out / ROUND_FILE).write_text(round_toml(SAMPLE_CITY, year, _day(year, SAMPLE_REPORT_DATE),
                                             SAMPLE_TITLE.format(year=year), dims, duties),
                                  encoding="utf-8", newline="\n")
    return sorted([*paths, out / ROUND_FILE])
