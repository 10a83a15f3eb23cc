"""The fast table writer against xlsxwriter: the same values, read back by openpyxl and by
python-calamine, must come out the same, with the same formats, filters and conditional formats;
and the consolidation that renders rows in its workers must write what judging everything again
in one process writes."""

import datetime as dt
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
import python_calamine
from conftest import judged_again
from minsheng.pipeline import run_consolidation, run_demo
from minsheng.report import detail
from minsheng.report.summary import Outputs
from minsheng.report.tables import COUNT, NUMBER, PERCENT, POINTS, TEXT, WRAP, Book, Layout, Table


def write_outputs(result, config, folder: Path, fast: bool = True) -> list[Path]:
    """The workbook and CSV of a consolidation already made, every indicator judged again here:
    a second way to the same outputs, to compare with the one consolidation takes."""
    with Outputs(folder, result.period, result.register, fast) as out:
        for summary in judged_again(result, config):
            texts = detail.task_texts(summary.task)
            for a in summary.assessments:
                out.add_values(detail.detail_values(a.indicator.position + 1, summary.task, texts, a))
        out.finish(result)
    return out.targets

PROPERTIES = {"title": "测试", "author": "minsheng", "created": dt.datetime(2020, 7, 10, 9, 0)}
LAYOUT = Layout("表格", ("文字", "换行", "数", "百分比", "百分点", "个数"), (12, 20, 8, 8, 8, 6),
                (TEXT, WRAP, NUMBER, PERCENT, POINTS, COUNT),
                lambda ws, st, first, last: ws.conditional_format(first, 0, last, 0, {
                    "type": "cell", "criteria": "==", "value": '"滞后"', "format": st.lights["red"]}))
ROWS = [
    ["滞后", "第一行\n第二行", Decimal("12"), Decimal("77.8"), Decimal("-3.5"), 0],
    ["  前后有空格  ", "很长的进展情况" * 30, Decimal("0.35"), Decimal("100.0"), Decimal("10.0"), 3],
    ["=HYPERLINK(\"x\")", "<b>&amp;</b>", 1234567, Decimal("303.6"), None, 1],
    ["控制\x07字符", "", 2.5, None, Decimal("0.0"), 2],
    [None, None, None, None, None, None],
    ["", "进展" * 20000, Decimal("1E+3"), Decimal("0.1"), Decimal("-0.1"), 12],
]


def write(path: Path, fast: bool, rows: list = ROWS) -> Path:
    book = Book(PROPERTIES, fast=fast)
    table = book.table(Table(LAYOUT))
    for row in rows:
        table.add(row)
    book.save(path)
    table.close()
    return path


def openpyxl_view(path: Path):
    ws = openpyxl.load_workbook(path)["表格"]
    cells = [[(c.value, c.number_format, c.data_type) for c in row] for row in ws.iter_rows()]
    rules = [(str(r.sqref), [rule.formula for rule in r.rules]) for r in ws.conditional_formatting]
    heights = [ws.row_dimensions[r].height for r in range(1, ws.max_row + 1)]
    return cells, rules, ws.auto_filter.ref, ws.freeze_panes, ws.print_title_rows, heights


def test_fast_rows_read_back_exactly_as_xlsxwriter_writes_them(tmp_path):
    fast, slow = write(tmp_path / "fast.xlsx", True), write(tmp_path / "slow.xlsx", False)
    assert openpyxl_view(fast) == openpyxl_view(slow)
    read = {p: python_calamine.CalamineWorkbook.from_path(str(p)).get_sheet_by_name("表格").to_python()
            for p in (fast, slow)}
    assert read[fast] == read[slow]
    cells, rules, autofilter, freeze, titles, _ = openpyxl_view(fast)
    assert cells[1][3] == (0.778, "0.0%", "n") and cells[1][4] == (-3.5, "+0.0;-0.0;0.0", "n")
    assert cells[3][0] == ('=HYPERLINK("x")', "General", "s")  # text, never a formula
    assert read[fast][4][0] == "控制\x07字符" and cells[2][0][0] == "  前后有空格  "
    assert len(cells[6][1][0]) == 32767 and cells[6][1][0].endswith("…")  # as much as a cell holds
    assert rules == [("A2:A7", [['"滞后"']])] and autofilter == "A1:F7" and freeze == "A2" and titles == "$1:$1"


def test_rows_shorter_than_the_header_end_where_their_values_end(tmp_path):
    """A row with fewer values than columns (or none) is a shorter row, not a broken sheet."""
    rows = [["滞后", "换\n行"], [], ["只有一个"], ROWS[0]]
    fast, slow = write(tmp_path / "fast.xlsx", True, rows), write(tmp_path / "slow.xlsx", False, rows)
    assert openpyxl_view(fast) == openpyxl_view(slow)
    cells = openpyxl_view(fast)[0]
    assert [c[0] for c in cells[1][:2]] == ["滞后", "换\n行"] and cells[3][0][0] == "只有一个"
    assert cells[4][2][0] == 12


def test_the_same_book_twice_is_the_same_bytes(tmp_path):
    assert write(tmp_path / "a.xlsx", True).read_bytes() == write(tmp_path / "b.xlsx", True).read_bytes()


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
def test_libreoffice_opens_the_fast_workbook(tmp_path):
    path = write(tmp_path / "fast.xlsx", True)
    subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(tmp_path / "out"), str(path)],
                   capture_output=True, timeout=180, check=True)
    text = (tmp_path / "out" / "fast.csv").read_text(encoding="utf-8", errors="replace")
    assert "滞后" in text and "77.8%" in text


def sheets(path: Path) -> dict:
    book = openpyxl.load_workbook(path)
    return {ws.title: [[c.value for c in row] for row in ws.iter_rows()] for ws in book.worksheets
            if ws.title != "总览"}  # the overview shows the time of generation


def test_rows_rendered_in_the_workers_are_what_one_process_would_write(tmp_path):
    demo = run_demo(tmp_path / "演示")
    result, (xlsx, csv_path) = demo.consolidated.result, demo.consolidated.outputs
    again = write_outputs(result, demo.config, tmp_path / "again", fast=False)  # judged anew, written by xlsxwriter
    assert again[1].read_bytes() == csv_path.read_bytes()
    assert sheets(again[0]) == sheets(xlsx)
    with zipfile.ZipFile(xlsx) as package:
        assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in package.infolist())


def test_a_rerun_on_the_same_inbox_gives_the_same_tables(tmp_path):
    demo = run_demo(tmp_path / "演示")
    first = sheets(demo.consolidated.outputs[0])
    csv_first = demo.consolidated.outputs[1].read_bytes()
    done = run_consolidation(demo.config)
    assert sheets(done.outputs[0]) == first and done.outputs[1].read_bytes() == csv_first


def test_a_unit_its_worker_could_not_judge_is_judged_here_with_the_same_rows(tmp_path, monkeypatch):
    """If judging fails where a file was read, the main process judges that unit itself: the
    tables, the CSV and the ledger come out as when every worker succeeded."""
    import sqlite3

    from minsheng.assess.judge import Judge

    demo = run_demo(tmp_path / "演示")
    first = sheets(demo.consolidated.outputs[0])
    csv_first = demo.consolidated.outputs[1].read_bytes()
    unlucky = sorted(demo.consolidated.result.collection.chosen)[:2]
    judge = Judge.judge

    def failing(self, sub, sha256):
        if sub.unit in unlucky:
            raise RuntimeError("a fault of the worker, not of the file")
        return judge(self, sub, sha256)

    monkeypatch.setattr(Judge, "judge", failing)  # the workers are forked: they fail too
    done = run_consolidation(demo.config)
    assert all(done.result.collection.chosen[unit].made_slot is None for unit in unlucky)
    assert sheets(done.outputs[0]) == first and done.outputs[1].read_bytes() == csv_first
    with sqlite3.connect(demo.config.ledger) as ledger:
        runs = ledger.execute("SELECT indicators_accepted FROM runs ORDER BY id").fetchall()
    assert runs[-1] == runs[-2] and runs[-1][0] > 0


def test_a_register_with_its_own_columns_gives_the_same_rows_from_the_workers_as_from_xlsxwriter(tmp_path):
    """The register's extra columns (after the judged ones, with commas, formulas, blanks) come out
    of the workers' rows as xlsxwriter and the CSV writer put them, judging everything again."""
    from minsheng.config import load_config
    from minsheng.register.workbook import load_register, write_register
    from minsheng.simulate import synthetic_rows, write_submissions
    from minsheng.workfolder import init_workfolder

    folder = tmp_path / "带备注"
    init_workfolder(folder, today=dt.date(2020, 7, 1))
    rows = synthetic_rows(4, 6)
    for n, row in enumerate(rows):
        row["备注"] = ["", "=1+1", "含,逗号", "普通"][n % 4]
        row["责任人"] = f"张{n}" if n % 3 else ""
    (folder / "任务台账.xlsx").unlink()
    write_register(folder / "任务台账.xlsx", rows, extra_columns=("备注", "责任人"))
    config = load_config(folder / "config.ini")
    write_submissions(load_register(config.register), config, config.inbox())
    done = run_consolidation(config)
    xlsx, csv_path = done.outputs
    again = write_outputs(done.result, config, tmp_path / "again", fast=False)
    assert again[1].read_bytes() == csv_path.read_bytes()
    assert sheets(again[0]) == sheets(xlsx)
    header = csv_path.read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.endswith(",备注,责任人") and "'=1+1" in csv_path.read_text(encoding="utf-8-sig")
