"""docs/ruleset.md, generated: every key of the ruleset, its default, its meaning and the
seed clause it comes from (``pingyi docs`` writes it; a test fails when it drifts).

``KEY_DOCS`` is the one description of the keys: a pattern (``*`` stands for one part of
a dotted key, ``[]`` for each table of an array) → (meaning in Chinese, source). Every key
of the default ruleset matches one pattern, and every pattern matches a key.
"""

from __future__ import annotations

import fnmatch
import json
import tomllib
from collections.abc import Iterator
from pathlib import Path

from pingyi_lib.scheme.ruleset import DEFAULT_RULESET, MAX_RULESET_BYTES, default_ruleset_path

LOCAL = "本地默认（方案未规定）"
KEY_DOCS: dict[str, tuple[str, str]] = {
    "name": ("规则集名称（英文编号）", "—"),
    "title": ("本规则集所依据的方案名称（不是某一轮评议的标题：轮次的标题来自数据目录的 round.toml）", "方案标题"),
    "year": ("方案发布年度（轮次的年度来自 round.toml 或数据中的日期）", "方案标题"),
    "decimals": ("公布的得分保留的小数位数（四舍五入），排名和规则用公布值", LOCAL),
    "levels[].code": ("答案代码，按等次顺序为 1、2、3…", "方案 五(四)"),
    "levels[].label": ("答案等次的文字", "方案 五(四)"),
    "levels[].score": ("该等次的分值；省略表示弃权（不了解）", "方案 五(四)"),
    "levels[].satisfied": ("该等次是否计入满意率", "方案 五(四)"),
    "items.scored": ("计分的评议内容（条目编号）", "方案 三"),
    "items.all": ("问卷和现场评议表上的全部条目（含只报告、不计分的总体评价）", "方案 三"),
    "items.weights.*": ("该计分条目在指数中的权重", f"方案 三；等权为{LOCAL}"),
    "items.labels.*": ("该条目的中文名称（也是数据文件中的中文表头）", "方案 三"),
    "weights.onsite": ("现场评议指数在综合得分中的权重", "方案 五(六)"),
    "weights.survey": ("问卷调查指数在综合得分中的权重", "方案 五(六)"),
    "weights.cases": ("实例调查在综合得分中的权重（= 扣分上限 / 100）", "方案 五(六)"),
    "cases.cap": ("实例调查满分，即扣分上限：得分 = 上限 − 扣分合计，不低于 0", "方案 五(六)"),
    "cases.substantiated_only": ("true：只有认定属实的案例扣分；false：所有案例都扣分", "方案 五(六)"),
    "bonus.cap": ("酌情加分的上限", f"方案 五(六)；上限为{LOCAL}"),
    "rules.talk_threshold": ("排名靠后且群众满意度低于此值的单位被约谈", "方案 六(二)"),
    "rules.bottom_max": ("“排名靠后”指排名组的最后几名", LOCAL),
    "rules.bottom_max_share": ("“排名靠后”的单位不超过排名组的这一比例", LOCAL),
    "rules.violation_kinds": ("违反评议纪律的类别（认定后直接列为最差单位）", "方案 六(三)"),
    "panel.public_categories": ("现场评议中计入“群众代表和企业代表”比例的代表类别", "方案 五(三)"),
    "panel.min_share": ("群众代表和企业代表占现场评议票数的最低比例", "方案 五(三)"),
    "panel.categories": ("现场评议代表类别（数据中“代表类别”允许的值）", "方案 五(三)"),
    "minimum.survey": ("有效问卷少于此数时，问卷调查指数照算但标注“样本不足”", LOCAL),
    "minimum.onsite": ("有效现场评议票少于此数时，现场评议指数照算但标注“样本不足”", LOCAL),
    "levels_of_units.*": ("单位层级的中文名称（数据中“层级”可写编号或此名称）", "方案 二"),
    "rank_groups.*": ("该层级的单位在哪个排名组排名；未列出的层级（市局）只计分、不排名", "方案 五、六"),
    "rank_groups.labels.*": ("排名组的中文名称", "方案 五、六"),
    "vocab.channel.*": ("问卷渠道的中文名称（数据中“渠道”可写编号或此名称）", "方案 五(四)"),
    "vocab.case_sources": ("实例调查案例来源（数据中“来源”允许的值）", "方案 五(五)"),
    "vocab.rectification_status": ("整改事项状态（数据中“状态”允许的值）", "方案 五(七)"),
    "vocab.rectification_done": ("表示整改完成的状态（须是上一项之一）", "方案 五(七)"),
    "vocab.milestone_steps": ("各辖市(区)须报送材料的工作环节（数据中“环节”允许的值）", "方案 五(一)(二)(七)"),
    "vocab.respondent_categories": ("问卷调查对象类别：模板中的下拉选项（其他值也接受）", "方案 五(四)"),
    "vocab.yes": ("表示“是”的写法（不区分大小写）", "—"),
    "vocab.no": ("表示“否”的写法（不区分大小写）", "—"),
    "flags.*.label": ("评议结果运用的名称", "方案 六"),
    "flags.*.consequence": ("评议结果运用的具体后果（报告中照录）", "方案 六"),
    "flags.*.clause": ("依据条款，报告和通报中写在每条结果运用旁（“本地规定”：方案未规定）", "方案 五、六"),
    "flags.*.kind": ("consequence：评议结果运用（对单位的后果）；data_quality：数据质量提示，不属于结果运用；"
                     "省略为 consequence", LOCAL),
    "consequences.repeat_bottom.years": ("连续几轮（含本轮）在本组排名靠后的单位适用下列结果运用，理由中列出各年；"
                                         "0 为不启用（本规则集：方案未规定，不启用），启用时不小于 2；"
                                         "需要往年数据（pingyi report --previous 或 --history）", LOCAL),
    "consequences.repeat_bottom.label": ("连续排名靠后这一结果运用的名称", LOCAL),
    "consequences.repeat_bottom.consequence": ("连续排名靠后的具体后果（报告、汇总表和通报中照录）", LOCAL),
    "consequences.repeat_bottom.clause": ("依据条款（“本地规定”：方案未规定）", LOCAL),
    "labels.activity": ("round.toml 未给标题时，标题 = 城市 + 年度 + 此名称", LOCAL),
    "labels.components.*": ("综合得分各组成部分的中文名称（表头、图例）", "方案 五(六)"),
    "labels.columns.*": ("单位表各列的中文表头（页面、汇总表、命令行共用）", "—"),
    "labels.units.*": ("该列数值的单位，写在表头、得分卡和通报中（如 综合得分（分））", LOCAL),
    "labels.glossary.*": ("页面末尾“名词解释”和得分卡悬停说明中该项的解释；{onsite_pct} 等占位符取本规则集的数值",
                          "方案 五(四)、五(六)；文字为" + LOCAL),
    "notice.recipient": ("评议结果通报（评议结果通报.docx）的主送机关", "方案 五(六)"),
    "notice.sender": ("评议结果通报的落款单位", LOCAL),
    "notice.basis": ("评议结果通报开头所依据的文件（各条款均指此文件）", "方案标题"),
    "timeline.*": ("该工作环节的报送截止日（月-日；年度取本轮的年度）", "方案 五"),
    "timeline.survey_start": ("问卷调查开始日（月-日；样例数据使用）", "方案 五(四)"),
    "timeline.survey_end": ("问卷调查截止日（月-日；样例数据使用）", "方案 五(四)"),
    "timeline.timeline_levels": ("须按时报送工作环节材料的单位层级", "方案 五"),
    "problems.top": ("每个单位列出的群众反映主要问题数", LOCAL),
    "problems.quotes": ("每个问题引用的群众原话条数", LOCAL),
    "problems.quote_chars": ("优先引用的原话长度范围 [最短, 最长]（字）", LOCAL),
    "problems.workbook_top": ("汇总表“群众反映主要问题”一栏写入的问题数", "方案 五(六)"),
    "problems.negation_before": ("关键词前出现这些词时不算反映该问题（如“没有推诿”）", LOCAL),
    "problems.negation_after": ("关键词后出现这些词时不算反映该问题（如“乱罚款少了”）", LOCAL),
    "problems.gap": ("关键词中一个“*”最多代表的字数", LOCAL),
    "problems.similarity": ("意见与某主题例句的相似度（0-1）达到此值时归入该主题", LOCAL),
    "problems.shared_pairs": ("……且须与例句共有至少这么多对相邻的字（不只是一个词）", LOCAL),
    "problems.min_chars": ("少于此字数（不计标点）的意见视为没有内容", LOCAL),
    "problems.negation_fillers": ("否定词与关键词之间可以出现而不影响否定的虚词（没有遇到刁难）", LOCAL),
    "problems.suggestion_cues": ("出现在否定词前时表示希望杜绝、仍算反映该问题的词（希望杜绝乱罚款）", LOCAL),
    "problems.contrast_cues": ("转折词：表扬只读最后一个转折之后的部分", LOCAL),
    "problems.non_substantive": ("整条（或每一分句）都是这些话的意见视为没有内容", LOCAL),
    "problems.domain_words": ("几乎每条意见都会用的词：计算相似度和归纳未归类意见时不计", LOCAL),
    "problems.synonyms": ("关键词中可以互相替换的同义词组", LOCAL),
    "problems.praise.cues": ("表示表扬、感谢的词（表扬与问题分开统计）", f"方案 三(四)；词表为{LOCAL}"),
    "problems.praise.examples": ("表扬的例句（按相似度识别表扬）", LOCAL),
    "problems.unmatched.similarity": ("未归类意见相似度达到此值时归为一组", LOCAL),
    "problems.unmatched.top": ("全市报告中列出的未归类意见组数", LOCAL),
    "problems.unmatched.examples": ("每组列出的意见条数", LOCAL),
    "problems.themes[].examples": ("该主题的例句（与之相似的意见归入该主题）", LOCAL),
    "integrity.*.label": ("问卷异常（疑似刷票）原因的名称", f"方案 六(三)；检测方法为{LOCAL}"),
    "integrity.*.exclude": ("true：有此原因的问卷自动剔除、不计入得分（留在被拒绝的行中）；false：只标记待复核",
                            LOCAL),
    "integrity.*.weight": ("此原因在可疑程度评分中的权重（0-1）", LOCAL),
    "integrity.fingerprint_repeat.limit": ("同一终端对同一单位可提交的问卷数；超出的被标记", LOCAL),
    "integrity.burst.window_minutes": ("判断集中提交时，以每份问卷为中心的时间窗（分钟）", LOCAL),
    "integrity.burst.p": ("时间窗内份数的泊松尾概率低于此值即为集中提交", LOCAL),
    "integrity.burst.min_responses": ("……且时间窗内至少有这么多份问卷", LOCAL),
    "integrity.burst.day_hours": ("单位日常提交分布在一天中的小时数", LOCAL),
    "integrity.burst.channels": ("按提交时间判断集中提交的渠道", LOCAL),
    "integrity.burst.surge_p": ("集中提交时段的答案与本单位其他问卷无明显差异、提交间隔也像随机到达（两项检验的 p 值"
                                "都不低于此值）时，视为真实的集中参与（如媒体刊登链接），不标记；没有此键时不作此判断",
                                f"{LOCAL}；见 docs/integrity.md"),
    "integrity.period.false_alarm": ("可疑时段：一轮中任一单位、任一时段被误报的概率上限（按全轮候选时段数校正）；"
                                     "没有 [integrity.period] 时不检查可疑时段", f"{LOCAL}；见 docs/integrity.md"),
    "integrity.period.max_days": ("候选可疑时段最多包含的连续天数", LOCAL),
    "integrity.period.min_responses": ("……且时段内、时段外各至少有这么多份问卷", LOCAL),
    "integrity.period.channels": ("判断可疑时段的渠道（自动填写工具能到达的渠道）", LOCAL),
    "integrity.period.day_starts": ("一天从几点开始（一个夜晚不被拆成两天）", LOCAL),
    "integrity.period.quiet_hours": ("正常问卷很少的小时（0-23）：时段内在这些小时提交的比例明显偏高是证据之一", LOCAL),
    "integrity.period.evidence_p": ("单项证据的 p 值低于此值时，在说明中列出，并据此标记时段内符合该异常的问卷", LOCAL),
    "integrity.identical_run.min_length": ("连续这么多份答案和意见完全相同的问卷", LOCAL),
    "integrity.identical_run.p": ("……且按该内容出现的频率，其偶然出现的概率低于此值", LOCAL),
    "integrity.implausible_volume.population_share": ("问卷数最多为单位服务对象数（评议单位表 population）的这一比例",
                                                      LOCAL),
    "integrity.implausible_volume.quota_ratio": ("问卷数最多为单位问卷配额（评议单位表 quota）的这一倍数", LOCAL),
    "integrity.ip_repeat.limit": ("同一 IP 地址对同一单位的问卷超过这么多份后，才可能被标记"
                                  "（IP 不是终端：许多人共用一个地址）；没有 [integrity.ip_repeat] 时不检查", LOCAL),
    "integrity.ip_repeat.p": ("……且按该地址对各单位的问卷数，这么多份集中于本单位的泊松尾概率低于此值", LOCAL),
    "integrity.too_fast.min_seconds": ("答题用时（答题秒数）少于这么多秒的问卷被标记；"
                                       "没有 [integrity.too_fast] 时不检查", LOCAL),
    "progress.rate_days": ("问卷收集进度（pingyi progress）：按单位近这么多天的有效问卷数估计到达速度"
                           "（7 天包括周末）；没有 [progress] 时不能使用该命令", f"{LOCAL}；见 docs/progress.md"),
    "progress.level": ("预计达到日的区间所含的概率（如 0.9 即 90% 区间）", LOCAL),
    "progress.at_risk": ("按期达到最低有效问卷数的把握低于此值的单位列为“有风险”", LOCAL),
    "integrity.review.exclude": ("问卷复核表中表示“剔除”的写法", LOCAL),
    "integrity.review.keep": ("问卷复核表中表示“保留”的写法", LOCAL),
    "problems.themes[].name": ("问题主题的名称", f"方案 三、五(六)；主题词典为{LOCAL}"),
    "problems.themes[].dimension": ("主题所属的评议内容（条目编号）", "方案 三"),
    "problems.themes[].keywords": ("意见或案例摘要中出现即归入该主题的关键词", LOCAL),
    "stats.level": ("每个区间的置信水平（如 0.95 即 95% 区间）", f"{LOCAL}；见 docs/statistics.md"),
    "stats.replicates": ("每轮评议的自助法（bootstrap）重抽样次数", LOCAL),
    "stats.seed": ("随机数种子：同样的数据、同样的种子，得到同样的区间", LOCAL),
    "stats.exact_max_patterns": ("单位的不同答题组合不超过此数时按多项分布精确重抽样", LOCAL),
    "stats.normal_min_answers": ("……超过时，且每个条目至少有这么多计分答案，改用多项分布的正态近似", LOCAL),
    "stats.robust": ("评议结果运用在重抽样中触发的比例达到此值为“稳健”", LOCAL),
    "stats.likely": ("……达到此值为“较可能”，低于此值为“可能是抽样波动”", LOCAL),
    "stats.funnel_levels": ("漏斗图的控制限（置信水平）", f"{LOCAL}（Spiegelhalter 2005）"),
    "stats.labels.*": ("稳健性的说法（robust / likely / noise）", LOCAL),
    "respondent_mix.targets.*": ("市局、辖市区局调查对象中该类别的目标比例（各类之和为 1；只用于加权敏感性分析，"
                                 "不改变正式得分）", f"方案 五(四)“按照一定比例”；比例为{LOCAL}"),
    "respondent_mix.by_level.*.*": ("该层级单位（window 服务窗口、station 基层站所）调查对象中该类别的目标比例",
                                    f"方案 五(四)；比例为{LOCAL}"),
}


def flat_keys(raw: dict, prefix: str = "") -> Iterator[tuple[str, object]]:
    """Dotted keys of a parsed TOML with their values; each table of an array of tables is
    ``key[]`` (its values are not listed)."""
    for k, v in raw.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            yield from flat_keys(v, key + ".")
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            seen: list[str] = []
            for x in v:
                seen += [kk for kk in x if kk not in seen]
            for kk in seen:
                yield f"{key}[].{kk}", None
        else:
            yield key, v


def pattern_of(key: str) -> str | None:
    """The KEY_DOCS pattern describing ``key`` (the most specific one), or None."""
    hits = [p for p in KEY_DOCS if p == key or (p.count(".") == key.count(".") and fnmatch.fnmatchcase(key, p))]
    return min(hits, key=lambda p: p.count("*")) if hits else None


def _value(v: object) -> str:
    if v is None:
        return "（每项一个，见规则文件）"
    text = json.dumps(v, ensure_ascii=False) if not isinstance(v, str) else f'"{v}"'
    return text.replace("|", "\\|")


def ruleset_markdown(path: str | Path | None = None) -> str:
    """docs/ruleset.md for the ruleset at ``path`` (default: the bundled one)."""
    p = Path(path) if path else default_ruleset_path()
    raw = tomllib.loads(p.read_text(encoding="utf-8"))
    lines = [
        "# 评议规则（ruleset）", "",
        "<!-- generated by `pingyi docs`; do not edit by hand (tests/test_docs.py) -->", "",
        f"评议规则是一个 TOML 文件，默认为 `pingyi_lib/scheme/rulesets/{DEFAULT_RULESET}.toml`：方案中的每个分值、"
        "权重、阈值、名称都在其中，代码不写死任何数字。换一个城市或年度的方案，复制该文件、改动不同之处，"
        "用 `--ruleset FILE` 指定，或放在数据目录中命名为 `ruleset.toml`。",
        "", "A ruleset is a TOML file holding every number and label of the scheme. Copy the default, change what "
        "differs, and pass `--ruleset FILE` or drop it into the dataset folder as `ruleset.toml`.", "",
        "“来源”一栏指 常安监党〔2011〕11号 的条款；“本地默认”是方案未规定、由本规则集确定、评议办可以修改的取值。"
        "一轮评议的城市、年度和标题不在规则里，而在数据目录的 `round.toml` 中（见 [数据约定](data-contract.md)）。", "",
        "规则文件按严格的方式读取：值的类型必须一致（`false` 不能写成 `\"false\"`），数字必须在允许的范围内，"
        "互斥的两个列表（如“是”与“否”）不能有相同的值；下表以外的键一律拒绝，并提示最接近的键"
        "（如 `talk_treshold` → 是否想写 'rules.talk_threshold'？）。文件可以带 BOM，"
        f"最大 {MAX_RULESET_BYTES // 2**20} MB。出错时给出一行中文说明，退出码 2。", "",
        "The ruleset is read strictly: exact types, bounded numbers, and any key not listed below is refused "
        "with the closest known key suggested.", "",
        "| 键 key | 默认值 default | 含义 | 来源 from |", "|---|---|---|---|",
    ]
    for key, v in flat_keys(raw):
        pat = pattern_of(key)
        meaning, source = KEY_DOCS[pat] if pat else ("（未说明）", "")
        lines.append(f"| `{key}` | {_value(v)} | {meaning} | {source} |")
    return "\n".join(lines) + "\n"
