"""An interactive explorer for JupyterLab (notebooks/explore.ipynb): pick a round folder, a
unit and a dimension, and the tables and charts below update.

    from pingyi_lib.output.explore import Explorer
    Explorer()            # the bundled 2011 sample; type another round folder in the box

Everything shown is a report section (``sections``) made into HTML by ``output.page``, so
text from the data is escaped here as on every page. :meth:`Explorer.view` returns what is
shown, which is what tests check.
"""

from __future__ import annotations

from pathlib import Path

from pingyi_lib.common.errors import PingyiError
from pingyi_lib.dataset import excel
from pingyi_lib.dataset.load import load_dataset
from pingyi_lib.dataset.sample import SAMPLE_YEARS, bundled_round
from pingyi_lib.output import page
from pingyi_lib.scoring.results import Results, score
from pingyi_lib.sections import charts, headline, scores


def looks_like_round(folder: Path) -> bool:
    """A folder holding a units table (CSV or Parquet, English or Chinese name) or a workbook."""
    return folder.is_dir() and any(p.stem in ("units", "评议单位") or p.suffix.lower() in excel.SUFFIXES
                                   for p in folder.iterdir()
                                   if p.is_file() and not p.name.startswith((".", "~$")))


def known_rounds(root: str | Path | None = None) -> list[str]:
    """Round folders to offer: the bundled samples, then the folders one or two levels under
    ``root`` (default: the working directory) that look like a round."""
    found = [str(bundled_round(y)) for y in SAMPLE_YEARS]
    base = Path(root) if root else Path.cwd()
    if base.is_dir():
        for p in sorted([*base.glob("*"), *base.glob("*/*")]):
            if not any(part.startswith(".") for part in p.relative_to(base).parts) and looks_like_round(p):
                if str(p.resolve()) not in found:
                    found.append(str(p.resolve()))
    return found[:50]


class Explorer:
    """Three pickers (round folder, unit, dimension) above the tables and charts they choose."""

    def __init__(self, dataset: str | Path | None = None, ruleset: str | Path | None = None,
                 root: str | Path | None = None):
        import ipywidgets as widgets

        self.ruleset = ruleset or None
        self.res: Results | None = None
        self.error = ""
        start = str(dataset or bundled_round(2011))
        self.round = widgets.Combobox(options=known_rounds(root), value=start, description="评议轮次",
                                      placeholder="数据目录", ensure_option=False, continuous_update=False,
                                      layout=widgets.Layout(width="70%"))
        self.unit = widgets.Dropdown(description="单位", layout=widgets.Layout(width="45%"))  # long names show whole
        self.dimension = widgets.Dropdown(description="评议内容")
        self.out = widgets.Output()
        self.widget = widgets.VBox([self.round, widgets.HBox([self.unit, self.dimension]), self.out])
        self._loading = False
        self.load(start)
        self.round.observe(lambda change: self.load(change["new"]), "value")
        self.unit.observe(lambda change: self.refresh(), "value")
        self.dimension.observe(lambda change: self.refresh(), "value")

    def load(self, folder: str) -> None:
        """Read and score a round folder; fill the unit and dimension pickers."""
        self._loading = True
        try:
            self.res = score(load_dataset(folder, ruleset=self.ruleset))
            self.error = ""
        except PingyiError as exc:  # a wrong folder: say so where the tables would be
            self.res, self.error = None, str(exc)
        if self.res is not None:
            u = self.res.units
            self.unit.options = [(f"{n}（{i}）", i) for i, n in zip(u["unit_id"], u["name"])]
            self.unit.value = self.unit.options[0][1] if len(u) else None
            rs = self.res.ruleset
            self.dimension.options = [(rs.item_labels[i], i) for i in rs.scored_items]
            self.dimension.value = rs.scored_items[0]
        self._loading = False
        self.refresh()

    def view(self) -> list:
        """What is shown for the current choice: headings, tables and figures."""
        if self.res is None:
            return [page.para("无法读取这个目录：{error}", error=self.error)]
        res, uid, item = self.res, self.unit.value, self.dimension.value
        if uid is None:
            return [page.para("{text}", text="这一轮没有评议单位。")]
        rs = res.ruleset
        u = res.unit(uid)
        label = rs.item_labels[item]
        group = u["rank_group"] if isinstance(u["rank_group"], str) else None
        across = scores.dimension_across_units(res, item, group)
        dims = scores.dimensions(res, uid)
        return [
            page.heading(f"{res.dataset.round.title}：{u['name']}", 2),
            page.banner(res.incomplete),
            page.headline(headline.unit_headline(res, uid), "评议结果和评议结果运用"),
            page.headline(headline.unit_notes(res, uid), "数据质量提示（不属于评议结果运用）", kind="note"),
            page.card(scores.score_card(res, uid, scores.PARTS_COLUMNS), scores.card_titles(res)),
            page.heading("各评议内容与组平均", 3),
            charts.dimensions_bar(dims, u["name"]),
            page.table(dims.drop(columns="item")),
            page.heading(f"{label}：{rs.rank_group_labels.get(group, '全部单位') if group else '全部单位'}各单位", 3),
            charts.breakdown_bar(across, rs.column_labels["name"], rs.talk_threshold, f"{label}：问卷调查指数",
                                 count="有效问卷（份）"),
            page.table(across),
            page.heading(f"{label}：本单位答案分布", 3),
            page.table(_one_item(scores.answer_distribution(res, uid, "survey"), item), empty="无问卷。"),
            page.heading("本单位被拒绝的行", 3),
            page.table(scores.rejected_rows(res, uid), empty="本单位没有被拒绝的行。"),
        ]

    def refresh(self) -> None:
        """Replace what the output area shows. The outputs are set as a widget value (no
        output capture), which also works when a notebook runs headless under papermill."""
        if self._loading:
            return
        from IPython import get_ipython

        if get_ipython() is None:  # plain Python (tests): nothing to draw into
            return
        self.out.outputs = ()
        for part in self.view():
            if hasattr(part, "to_plotly_json"):  # a figure would display itself into the running cell (its
                # _ipython_display_), above the pickers and not again on a new pick: its bundle goes in the widget
                self.out.outputs += ({"output_type": "display_data", "metadata": {},
                                      "data": part._repr_mimebundle_(None, None)},)
            else:
                self.out.append_display_data(part)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(page.Html(f"<style>{page.PAGE_CSS}</style>"))  # the tiles and tables styled as on the pages
        display(self.widget)


def _one_item(dist, item: str):
    return dist[dist["item"] == item].drop(columns="item") if len(dist) else dist
