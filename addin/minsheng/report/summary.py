"""The consolidated outputs (formats §5): ``汇总_P.xlsx`` and ``指标明细_P.csv``.

``Outputs`` is a consolidation sink: each indicator's 指标明细 row arrives already rendered (the
workbook's XML and the CSV's line, made from the same final values, see ``detail``); the CSV is
written as rows come and the workbook's table is laid out at the end (see ``tables``). Both files
are written to temporary files first and put in place together, so a failure (or a target open in
Excel) leaves the previous outputs as they were.
"""

from __future__ import annotations

import contextlib
from fractions import Fraction
from pathlib import Path

from xlsxwriter.utility import xl_rowcol_to_cell

from .. import files
from ..assess.judge import Rows
from ..assess.period import Consolidation
from ..files import atomic_path
from ..model import Period, Status
from ..numbers import format_percent, percent
from ..register.cache import Register
from . import detail, sheets
from .sheets import COUNT_ORDER, status_lights
from .tables import COUNT, NUMBER, PERCENT, TEXT, Book, Styles, Table

CHART_COLOURS = {Status.COMPLETE: "#548235", Status.MET: "#A9D08E", Status.ON_SCHEDULE: "#C6E0B4",
                 Status.NOT_STARTED: "#FFD966", Status.LAGGING: "#F4B183", Status.SEVERELY_LAGGING: "#C00000",
                 Status.UNFINISHED: "#7B0C0C", Status.NOT_MET: "#FF7C80", Status.DATA_ERROR: "#FF0000",
                 Status.NOT_FILLED: "#BFBFBF", Status.NOT_SUBMITTED: "#7F7F7F"}


def output_names(period: Period) -> tuple[str, str]:
    """``汇总_2020-06.xlsx`` and ``指标明细_2020-06.csv``."""
    return f"汇总_{period}.xlsx", f"指标明细_{period}.csv"


class Outputs:
    """A consolidation sink writing ``汇总_P.xlsx`` and ``指标明细_P.csv`` into ``folder``.

    Use as a context manager: both files are put in place when the block ends without an error
    (after ``finish``), and neither when it ends with one.
    """

    def __init__(self, folder: Path, period: Period, register: Register, fast: bool = True):
        self.targets = [folder / name for name in output_names(period)]
        self.register = register
        self.fast = fast
        self._stack = contextlib.ExitStack()
        self.detail = Table(detail.layout(register.extra_columns, _detail_lights))
        self._lines = detail.CsvLines(len(detail.header(register.extra_columns)))

    def __enter__(self) -> Outputs:
        for target in self.targets:
            files.refuse_if_open(target)
        try:
            self._xlsx = self._stack.enter_context(atomic_path(self.targets[0]))
            csv_path = self._stack.enter_context(atomic_path(self.targets[1]))
            self._csv = self._stack.enter_context(open(csv_path, "wb"))
            # UTF-8 with a byte-order mark: Excel on Chinese Windows then opens it without mojibake.
            self._csv.write(b"\xef\xbb\xbf" + detail.csv_header(self.register.extra_columns).encode("utf-8"))
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        try:
            self._stack.__exit__(*exc)
        finally:
            self.detail.close()

    def add(self, rows: Rows) -> None:
        """Rows in register order, rendered where they were judged."""
        self.detail.add_rendered(rows.xml, rows.count)
        self._csv.write(rows.csv)

    def add_values(self, values: list) -> None:
        """One row as values (the way for ``fast=False``, which renders with xlsxwriter)."""
        self.detail.add(values)
        self._csv.write(self._lines.line(values).encode("utf-8", "replace"))

    def finish(self, result: Consolidation) -> None:
        """Write the workbook; the CSV is complete. Files are put in place when the block ends."""
        self._csv.close()
        book = Book({"title": f"{result.period.label}民生工程进展情况汇总", "author": "minsheng",
                     "created": result.generated_at}, fast=self.fast)
        overview = book.sheet("总览")
        book.table(self.detail)
        tables = [sheets.ranking(result), sheets.lagging(result, self.fast), sheets.missing(result),
                  sheets.problems(result), sheets.corrections(result)]
        if result.register.cancelled:
            tables.append(sheets.cancelled(result))
        for table in tables:
            book.table(table)
        _overview_sheet(book.book, overview, book.styles, result)
        overview.activate()
        try:
            book.save(self._xlsx)
        finally:
            for table in tables:
                table.close()


# ---------------------------------------------------------------------------------------------
# 指标明细's print setup and 总览.

def _detail_lights(ws, st: Styles, first: int, last: int) -> None:
    # 27 columns: on A3 landscape two pages wide at about full size (one page wide would be ~35 %,
    # unreadable); 序号 is printed on every page so the halves of a row can be matched.
    ws.set_paper(8)
    ws.fit_to_pages(2, 0)
    ws.repeat_columns(0)
    ws.print_across()
    status_lights(ws, st, detail.STATUS_COLUMN, first, last)


def _percent_cell(ws, row: int, col: int, value, st: Styles) -> None:
    if value is None:
        ws.write_blank(row, col, None, st.of(TEXT))
    else:
        ws.write_number(row, col, float(percent(value).scaleb(-2)), st.of(PERCENT))


def _overview_sheet(book, ws, st: Styles, result: Consolidation) -> None:
    prog, counts = result.programme, result.counts
    ws.set_column(0, 0, 22)
    ws.set_column(1, 1, 12)
    ws.set_column(2, 2, 10)
    ws.hide_gridlines(2)
    ws.write_string(0, 0, f"{result.period.label}民生工程进展情况汇总", st.title)
    ws.write_string(1, 0, f"时序进度 {format_percent(result.period.schedule)}  ·  生成时间 "
                          f"{result.generated_at:%Y-%m-%d %H:%M}  ·  {prog.sentence}", st.subtitle)
    row = 3
    ws.write_string(row, 0, "总体情况", st.section)
    funds_rate = prog.funds_rate
    facts = [("任务总数（项）", prog.tasks, "number"), ("已完成全年目标（项）", prog.tasks_complete, "number"),
             ("序时推进（项）", prog.tasks_on_schedule, "number"),
             (f"{prog.behind}（项）", prog.tasks_lagging, "number"),
             *([("尚未达到年度目标水平（项）", prog.tasks_below_level, "number")] if prog.tasks_below_level else []),
             ("指标总数（个）", prog.indicators, "number"),
             ("应报单位（个）", prog.units, "number"), ("未报送单位（个）", prog.units_missing, "number")]
    if prog.funds_planned:
        facts += [("年度计划资金(万元)", prog.funds_planned, "number"),
                  ("累计拨付资金(万元)", prog.funds_paid, "number"), ("资金拨付率", funds_rate, "percent")]
    for label, value, kind in facts:
        row += 1
        ws.write_string(row, 0, label, st.of(TEXT))
        if kind == "percent":
            _percent_cell(ws, row, 1, value, st)
        else:
            ws.write_number(row, 1, float(value), st.of(NUMBER))

    row += 2
    ws.write_string(row, 0, "指标状态分布", st.section)
    row += 1
    for c, title in enumerate(("状态", "指标数", "占比")):
        ws.write_string(row, c, title, st.head)
    for status in COUNT_ORDER:
        row += 1
        n = prog.counts[status]
        ws.write_string(row, 0, status.value, st.of(TEXT))
        ws.write_number(row, 1, n, st.of(NUMBER))
        _percent_cell(ws, row, 2, Fraction(n, prog.indicators) if prog.indicators else None, st)
    status_lights(ws, st, 0, row - len(COUNT_ORDER) + 1, row)

    row += 2
    ws.write_string(row, 0, "本次汇总台账", st.section)
    ledger = [("读取文件（个）", counts.files_read), ("采用文件（个）", counts.files_accepted),
              ("拒收或重复未采用（个）", counts.files_rejected), ("采用数值（个）", counts.indicators_accepted),
              ("问题清单（条）", counts.problems), ("其中错误（条）", counts.errors),
              ("未报送单位（个）", counts.units_missing)]
    for label, value in ledger:
        row += 1
        ws.write_string(row, 0, label, st.of(TEXT))
        ws.write_number(row, 1, value, st.of(NUMBER))
    for note in result.notes:  # e.g. a damaged history ledger that was set aside
        row += 1
        ws.write_string(row, 0, f"注意：{note}", st.subtitle)

    _unit_chart(book, ws, st, result, first_col=4)
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 1)


CHART_UNITS = 60  # more bars than this make an unreadable chart: 单位排名 lists every unit anyway


def _unit_chart(book, ws, st: Styles, result: Consolidation, first_col: int) -> None:
    """各单位指标状态分布: a table and a native stacked bar chart over it."""
    top = 3
    ws.write_string(top, first_col, "各单位指标状态分布", st.section)
    if len(result.units) > CHART_UNITS:
        ws.write_string(top + 1, first_col, f"共 {len(result.units)} 个单位，图表从略；各单位的状态分布见“单位排名”表",
                        st.subtitle)
        return
    order = {unit: i for i, unit in enumerate(result.register.units)}
    units = sorted(result.units, key=lambda u: order[u.name])
    statuses = [s for s in COUNT_ORDER if any(u.counts[s] for u in units)]
    head = top + 1
    ws.set_column(first_col, first_col, 18)
    ws.set_column(first_col + 1, first_col + len(statuses), 7)
    ws.write_string(head, first_col, "牵头单位", st.head)
    for c, status in enumerate(statuses, start=first_col + 1):
        ws.write_string(head, c, status.value, st.head)
    for r, unit in enumerate(units, start=head + 1):
        ws.write_string(r, first_col, unit.name, st.of(TEXT))
        for c, status in enumerate(statuses, start=first_col + 1):
            ws.write_number(r, c, unit.counts[status], st.of(COUNT))
    last = head + len(units)
    if not units or not statuses:
        return
    chart = book.add_chart({"type": "bar", "subtype": "stacked"})
    for c, status in enumerate(statuses, start=first_col + 1):
        chart.add_series({
            "name": ["总览", head, c],
            "categories": ["总览", head + 1, first_col, last, first_col],
            "values": ["总览", head + 1, c, last, c],
            "fill": {"color": CHART_COLOURS[status]}, "gap": 60})
    chart.set_title({"name": "各单位指标状态分布", "name_font": {"size": 12, "name": "宋体"}})
    chart.set_y_axis({"reverse": True, "num_font": {"name": "宋体", "size": 9}})
    chart.set_x_axis({"name": "指标数", "num_font": {"size": 9}, "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom", "font": {"name": "宋体", "size": 9}})
    chart.set_size({"width": 640, "height": max(320, 22 * len(units) + 120)})
    ws.insert_chart(xl_rowcol_to_cell(top, first_col + len(statuses) + 2), chart)
