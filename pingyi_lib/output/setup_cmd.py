"""The commands that set up a round: ``pingyi sample`` (the seeded sample rounds),
``pingyi template`` (the clerks' input workbook), ``pingyi init`` (a new dataset folder with
round.toml) and ``pingyi docs`` (the data contract and the ruleset keys, generated).
``cli.py`` only wires them in.
"""

from __future__ import annotations

import sys

from pingyi_lib.common.errors import OptionError


def add_parsers(sub) -> None:
    """The ``sample``, ``template``, ``init`` and ``docs`` subcommands, added to the parser's subcommands."""
    sp = sub.add_parser("sample", help="write a synthetic sample round (seeded: same bytes every run)")
    sp.add_argument("--year", type=int, required=True, choices=(2011, 2012))
    sp.add_argument("--out", required=True, metavar="DIR")
    sp.add_argument("--ruleset", metavar="FILE", default=None,
                    help="ruleset TOML whose labels the sample uses (default: changzhou-2011)")
    sp.set_defaults(func=cmd_sample)
    sp = sub.add_parser("template", help="write the input workbook for clerks (Chinese headers, drop-down lists)")
    sp.add_argument("--out", required=True, metavar="FILE.xlsx")
    sp.add_argument("--from", dest="source", metavar="DATASET", default=None,
                    help="a dataset folder whose units prefill the units sheet (and whose ruleset is used)")
    sp.add_argument("--ruleset", metavar="FILE", default=None, help="ruleset TOML (default: changzhou-2011)")
    sp.set_defaults(func=cmd_template)
    sp = sub.add_parser("init", help="create a new dataset folder with round.toml and the input template")
    sp.add_argument("dir", metavar="DIR", help="the new folder (must not exist or be empty)")
    sp.add_argument("--city", required=True, help="the city, e.g. 临江市")
    sp.add_argument("--year", required=True, type=int, help="the year of the round, e.g. 2013")
    sp.add_argument("--ruleset", metavar="FILE", default=None, help="ruleset TOML (default: changzhou-2011)")
    sp.set_defaults(func=cmd_init)
    sp = sub.add_parser("docs", help="write docs/data-contract.md and docs/ruleset.md from the schema and the ruleset")
    sp.add_argument("--out", metavar="DIR", default="docs", help="folder to write into (default: docs)")
    sp.set_defaults(func=cmd_docs)


def write_docs(folder) -> list:
    """docs/data-contract.md and docs/ruleset.md, generated from the schema and the default ruleset."""
    from pathlib import Path

    from pingyi_lib.dataset.contract import data_contract_markdown
    from pingyi_lib.scheme.docs import ruleset_markdown
    from pingyi_lib.scheme.ruleset import load_ruleset

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    texts = (("data-contract.md", data_contract_markdown(load_ruleset())), ("ruleset.md", ruleset_markdown()))
    for name, text in texts:
        (folder / name).write_text(text, encoding="utf-8", newline="\n")
        out.append(folder / name)
    return out


def cmd_template(args) -> int:
    from pingyi_lib.output.template import write_template
    from pingyi_lib.scheme.ruleset import load_ruleset

    units, title = None, ""
    if args.source:
        from pingyi_lib.dataset.load import load_dataset

        ds = load_dataset(args.source, ruleset=args.ruleset)
        rs, units, title = ds.ruleset, ds.units, f"{ds.round.title} 数据填报模板"
    else:
        rs = load_ruleset(args.ruleset)
    path = write_template(args.out, rs, units, title)
    print(f"已写入填报模板 {path}" + (f"（评议单位表已填 {len(units)} 个单位）" if units is not None else ""),
          file=sys.stderr)
    return 0


def cmd_init(args) -> int:
    from pingyi_lib.output.template import init_round
    from pingyi_lib.scheme.ruleset import load_ruleset

    paths = init_round(args.dir, args.city, args.year, load_ruleset(args.ruleset))
    print(f"已建立数据目录 {args.dir}：{'、'.join(p.name for p in paths)}。\n"
          f"下一步：在 {paths[1].name} 中填写各表（先填评议单位），然后运行 pingyi validate {args.dir}",
          file=sys.stderr)
    return 0


def cmd_docs(args) -> int:
    for p in write_docs(args.out):
        print(f"已写入 {p}", file=sys.stderr)
    return 0


def cmd_sample(args) -> int:
    from pingyi_lib.dataset.sample import write_sample
    from pingyi_lib.scheme.ruleset import load_ruleset

    try:
        paths = write_sample(args.year, args.out, load_ruleset(args.ruleset))
    except ValueError as exc:  # the ruleset lacks what the sample needs
        raise OptionError(str(exc)) from None
    tables = [p for p in paths if p.suffix == ".csv"]
    print(f"已写入 {args.year} 年样例数据：{len(tables)} 张表和 round.toml，目录 {args.out}", file=sys.stderr)
    return 0
