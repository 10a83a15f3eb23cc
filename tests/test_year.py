"""A year in one working folder, through the public commands, as an office lives it (formats §6.1):
twelve monthly periods; a correction of March in May; the register edited in July (a transfer, a
rename, a cancellation) and a late July file after it; a target adjusted from September; the
year's turn. Nothing may leave the ledger, no published figure may change unless the office says
so, and re-running the year reproduces every period's 指标明细 byte for byte."""

from __future__ import annotations

import csv
import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from conftest import HEADERS, ROWS, fill, write_lock, write_register_xlsx
from minsheng.cli import main
from minsheng.workfolder import init_workfolder

STAGES = ["前期准备", "前期准备", "开工实施", "开工实施", "开工实施", "开工实施", "基本完成", "基本完成",
          "基本完成", "基本完成", "基本完成", "基本完成"]
# Task 3 (市人社局) is cancelled in July.
ROWS_3 = [["3", "一、促进就业", "实施就业促进工程", "开展职业技能培训100人次", "市人社局", "",
           "3-1", "职业技能培训", "人次", "累计", 100, None, None]]
CHANGE_HEADERS = [*HEADERS, "调整后目标值", "调整起始期", "原指标编号", "状态"]


def values(month: int, ids: set[str]) -> dict[str, object]:
    every = {"7-1": month, "7-9": month, "7-2": 80 * month, "8-1": STAGES[month - 1], "17-1": 96,
             "22-1": STAGES[month - 1], "22-2": 0.2, "3-1": 8 * month}
    return {i: v for i, v in every.items() if i in ids}


class Office:
    def __init__(self, folder: Path, capsys):
        self.folder, self.capsys = folder, capsys
        self.config = folder / "config.ini"

    def run(self, *argv: str, code: int = 0) -> str:
        self.capsys.readouterr()
        assert main([*argv, "--config", str(self.config)]) == code, self.capsys.readouterr()
        out = self.capsys.readouterr()
        return out.out + out.err

    def templates(self, period: str, *options: str) -> dict[str, Path]:
        self.run("templates", "--period", period, *options)
        return {p.name.split("_")[1]: p for p in (self.folder / "下发" / period).glob("*.xlsx")}

    def send(self, period: str, unit: str, sent: dict[str, Path], month: int, **changed) -> Path:
        ids = _ids(sent[unit])
        filled = {**values(month, ids), **changed}
        return fill(sent[unit], self.folder / "收集" / period / f"{unit}.xlsx", filled)

    def detail(self, period: str) -> dict[str, dict[str, str]]:
        with open(self.folder / "汇总" / period / f"指标明细_{period}.csv", encoding="utf-8-sig", newline="") as f:
            return {row["指标编号"]: row for row in csv.DictReader(f)}

    def csv_bytes(self, period: str) -> bytes:
        return (self.folder / "汇总" / period / f"指标明细_{period}.csv").read_bytes()

    def ledger_rows(self) -> set[tuple]:
        with sqlite3.connect(self.folder / "history.sqlite") as db:
            return set(db.execute("SELECT run_id, period, indicator_id, value, stage FROM accepted_values"))


def _ids(template: Path) -> set[str]:
    ws = openpyxl.load_workbook(template, read_only=True)["填报"]
    return {str(row[1]) for row in ws.iter_rows(values_only=True) if row[1] and "-" in str(row[1])}


def edit_register(path: Path, change) -> None:
    rows = [[*row, None, None, None, None] for row in ROWS + ROWS_3]
    change(rows)
    write_register_xlsx(path, rows, CHANGE_HEADERS)


@pytest.fixture
def office(tmp_path, capsys) -> Office:
    folder = tmp_path / "民生办"
    init_workfolder(folder, today=dt.date(2020, 2, 3))
    write_register_xlsx(folder / "任务台账.xlsx", ROWS + ROWS_3)
    return Office(folder, capsys)


def col(name: str) -> int:
    return CHANGE_HEADERS.index(name)


def test_a_year_in_one_working_folder(office):
    published: dict[str, dict[str, str]] = {}  # each period's 完成率 as first published
    kept: set[tuple] = set()

    def consolidate(period: str, *options: str) -> str:
        nonlocal kept
        out = office.run("consolidate", "--period", period, *options)
        rows = office.ledger_rows()
        assert kept <= rows  # no value ever leaves the ledger
        kept = rows
        return out

    for month in range(1, 8):
        period = f"2020-{month:02d}"
        sent = office.templates(period)
        for unit in sent:
            office.send(period, unit, sent, month)
        if month == 6:
            # A colleague is consolidating the same folder: the second run is told, and waits.
            colleague = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            try:
                write_lock(office.folder, colleague.pid, user="李四")
                out = office.run("consolidate", "--period", period, code=1)
                assert "李四" in out and "汇总" in out and len(out.strip().splitlines()) == 1
            finally:
                colleague.kill()
                colleague.wait()
            assert "已由本次运行接管" in consolidate(period)  # its process is gone: the lock is stale
        else:
            consolidate(period)
        published[period] = {i: row["完成率"] for i, row in office.detail(period).items()}
        if month == 5:
            # 市教育局 corrects March in May: 7-2 was 240, is 480.
            march = {p.name.split("_")[1]: p for p in (office.folder / "下发" / "2020-03").glob("*.xlsx")}
            office.send("2020-03", "市教育局", march, 3, **{"7-2": 480})
            out = consolidate("2020-03")
            assert "有 1 个数值变化" in out and "2020-04、2020-05 的上期数据以本期为准，已过期" in out
            book = openpyxl.load_workbook(office.folder / "汇总" / "2020-03" / "汇总_2020-03.xlsx", read_only=True)
            rows = list(book["更正记录"].iter_rows(values_only=True))
            assert rows[0][:4] == ("指标编号", "单位", "原值", "新值") and len(rows) == 2
            assert rows[1][:4] == ("7-2", "市教育局", "240", "480")
            out = consolidate("2020-03")
            # The same files again: nothing new changed, but April and May are still out of date.
            assert "有 0 个数值变化" in out and "2020-04、2020-05 的上期数据以本期为准，已过期" in out
            out = consolidate("2020-03", "--rerun-later")
            assert "依次重新汇总：2020-04、2020-05" in out
            assert office.detail("2020-04")["7-2"]["上期累计"] == "480"
            assert "已过期" not in consolidate("2020-03")  # they are up to date now
            office.send("2020-03", "市教育局", march, 3, **{"7-2": 500})
            out = consolidate("2020-03", "--rerun-later")
            assert "依次重新汇总：2020-04、2020-05" in out
            # April's 上期 follows the correction: 500 of 988 in March.
            assert office.detail("2020-04")["7-2"]["上期累计"] == "500"
            published["2020-03"]["7-2"] = office.detail("2020-03")["7-2"]["完成率"]

    july = office.csv_bytes("2020-07")
    # In July the office edits the register: 22-2 moves to 市民政局, 7-1 becomes 7-9, task 3 is
    # cancelled, and 7-2's target is raised to 1200 from September.
    def july_edit(rows):
        rows[5][col("牵头单位")] = "市民政局"
        rows[0][col("指标编号")], rows[0][col("原指标编号")] = "7-9", "7-1"
        rows[6][col("状态")] = "已撤销"
        rows[1][col("调整后目标值")], rows[1][col("调整起始期")] = 1200, "2020-09"

    edit_register(office.folder / "任务台账.xlsx", july_edit)
    # A late July file (a second copy from 市人社局, filled later) arrives; July is re-run.
    july_sent = {p.name.split("_")[1]: p for p in (office.folder / "下发" / "2020-07").glob("*.xlsx")}
    office.send("2020-07", "市人社局", july_sent, 7, **{"3-1": 60})
    out = consolidate("2020-07")
    assert "任务台账在2020年1-7月的任务台账" in out and "未用于2020年1-7月" in out
    assert "牵头单位由市医保局改为市民政局" in out and "改号为 7-9" in out and "撤销指标 3-1" in out
    assert "指标 7-2 的目标自 2020-09 起由 988 调整为 1200" in out
    detail = office.detail("2020-07")
    assert set(detail) == {"7-1", "7-2", "8-1", "17-1", "22-1", "22-2", "3-1"}  # July's own register
    assert detail["3-1"]["本期累计完成"] == "60" and detail["7-1"]["状态"] != "未填"
    published["2020-07"]["3-1"] = detail["3-1"]["完成率"]  # the late file corrects July
    book = openpyxl.load_workbook(office.folder / "汇总" / "2020-07" / "汇总_2020-07.xlsx", read_only=True)
    problems = [row[6] for row in book["问题清单"].iter_rows(min_row=2, values_only=True)]
    assert not any("删除" in (p or "") or "年度目标值" in (p or "") for p in problems), problems

    for month in range(8, 13):
        period = f"2020-{month:02d}"
        sent = office.templates(period)
        assert "市人社局" not in sent  # its only task is cancelled
        for unit in sent:
            office.send(period, unit, sent, month)
        consolidate(period)
        published[period] = {i: row["完成率"] for i, row in office.detail(period).items()}
        detail = office.detail(period)
        if month == 8:
            # History follows the indicator: 22-2 (now 市民政局's) and 7-9 (was 7-1) keep 上期.
            assert detail["22-2"]["上期累计"] == "0.2" and detail["22-2"]["牵头单位"] == "市民政局"
            assert detail["7-9"]["上期累计"] == "7" and detail["7-9"]["环比（个百分点）"] != ""
            assert detail["7-2"]["年度目标值"] == "988" and detail["7-2"]["完成率"] == "64.8%"
            book = openpyxl.load_workbook(office.folder / "汇总" / period / f"汇总_{period}.xlsx", read_only=True)
            assert [r[2] for r in book["已撤销指标"].iter_rows(min_row=2, values_only=True)] == ["3-1"]
        if month == 9:
            assert detail["7-2"]["年度目标值"] == "1200" and detail["7-2"]["完成率"] == "60.0%"
    # Re-running August after September's target adjustment keeps its published 64.8 %.
    consolidate("2020-08")
    assert office.detail("2020-08")["7-2"]["完成率"] == "64.8%"
    # At the year's end, short of the target is 未完成, never 序时推进: 7-2 has 960 of 1200.
    assert office.detail("2020-12")["7-2"]["状态"] == "未完成"

    # The year's turn: a period outside the register's year is refused, in one line.
    for options in ((), ("--adopt-register",)):
        out = office.run("templates", "--period", "2021-01", *options, code=1)
        assert "不在任务台账的年度内" in out and len(out.strip().splitlines()) == 1

    # Every period of the year again, in order, after the last register edit: each 指标明细 is
    # what it was, byte for byte, and every published 完成率 stands.
    before = {f"2020-{m:02d}": office.csv_bytes(f"2020-{m:02d}") for m in range(1, 13)}
    for month in range(1, 13):
        consolidate(f"2020-{month:02d}")
    for period, data in before.items():
        assert office.csv_bytes(period) == data, period
        assert {i: row["完成率"] for i, row in office.detail(period).items()} == published[period], period
    assert office.csv_bytes("2020-07") != july  # the late file is in July's record

    # Adopting the current register for July is the office's decision, and says what it changes.
    out = consolidate("2020-07", "--adopt-register")
    assert "本期改按当前任务台账" in out and "本期数字有变化的指标 2 个" in out
    assert "22-2 0.2→未填（改由市民政局牵头，市医保局所报数值不再采用）" in out and "3-1 60.0%→已撤销" in out
    book = openpyxl.load_workbook(office.folder / "汇总" / "2020-07" / "汇总_2020-07.xlsx", read_only=True)
    said = {row[0]: row for row in book["更正记录"].iter_rows(min_row=2, values_only=True)}
    assert set(said) == {"22-2", "3-1"}  # 7-1 → 7-9 carries its value: no change
    assert said["3-1"][5] == "改按当前任务台账：已撤销"
    adopted = office.detail("2020-07")
    assert "3-1" not in adopted and "7-1" not in adopted
    # July's forms say 7-1; it is 7-9 now, and its value follows it. 22-2 is 市民政局's now, and
    # 市医保局's July form still holds it: the office moved it, nobody is blamed for that.
    assert adopted["7-9"]["本期累计完成"] == "7" and adopted["7-9"]["状态"] != "未填"


def test_init_in_december_or_january_picks_the_registers_year(tmp_path, capsys):
    from minsheng.config import load_config

    for today, current in ((dt.date(2019, 12, 10), "2020-01"), (dt.date(2021, 1, 5), "2020-12"),
                           (dt.date(2020, 7, 1), "2020-06")):
        folder = tmp_path / str(today)
        write_register_xlsx(folder / "任务台账.xlsx")  # its 完成时限 say 2020
        init_workfolder(folder, today=today)
        assert str(load_config(folder / "config.ini").period) == current


def test_a_unit_silent_last_month_is_compared_with_the_last_month_it_reported(office):
    for month in (4, 5, 6):
        period = f"2020-{month:02d}"
        sent = office.templates(period)
        for unit in sent:
            if not (month == 5 and unit == "市教育局"):
                office.send(period, unit, sent, month)
        office.run("consolidate", "--period", period)
    june = office.detail("2020-06")
    assert june["7-2"]["上期累计"] == "320" and "上期为2020-04" in june["7-2"]["标记"]
    assert june["17-1"]["标记"] == ""  # 市医保局 reported in May


def test_templates_again_for_a_consolidated_period_use_its_own_register(office):
    sent = office.templates("2020-06")
    for unit in sent:
        office.send("2020-06", unit, sent, 6)
    office.run("consolidate", "--period", "2020-06")
    office.run("circular", "--period", "2020-06")
    edit_register(office.folder / "任务台账.xlsx", lambda rows: rows[6].__setitem__(col("状态"), "已撤销"))
    out = office.run("templates", "--period", "2020-06")
    assert "撤销指标 3-1" in out and "本期仍按原来的任务台账处理" in out
    assert "市人社局" in {p.name.split("_")[1] for p in (office.folder / "下发" / "2020-06").glob("*.xlsx")}
    # The office decides June goes by the new register: the run says what that changes.
    out = office.run("consolidate", "--period", "2020-06", "--adopt-register")
    assert "本期改按当前任务台账" in out and "3-1" not in office.detail("2020-06")
    assert "通报_2020-06.docx 是按更正之前的数据写的，已过期" in out
    book = openpyxl.load_workbook(office.folder / "汇总" / "2020-06" / "汇总_2020-06.xlsx", read_only=True)
    problems = {row[1]: row for row in book["问题清单"].iter_rows(min_row=2, values_only=True)}
    # 市人社局 did nothing wrong: the office cancelled its task.
    assert problems["市人社局.xlsx"][5] == "提示" and "已在任务台账中撤销" in problems["市人社局.xlsx"][6]
    assert [row[0] for row in book["未报送单位"].iter_rows(min_row=2, values_only=True)] == []
    # A period not yet consolidated takes the edited register when its templates are made again.
    office.templates("2020-07")
    edit_register(office.folder / "任务台账.xlsx", lambda rows: rows[0].__setitem__(col("年度目标值"), 14))
    out = office.run("templates", "--period", "2020-07")
    assert "本期尚未汇总，重新生成的填报表采用当前任务台账" in out and "7-1 的目标值由 12 改为 14" in out


def test_a_ledger_of_the_previous_version_keeps_every_value_and_run(office):
    sent = office.templates("2020-06")
    for unit in sent:
        office.send("2020-06", unit, sent, 6)
    office.run("consolidate", "--period", "2020-06")
    path = office.folder / "history.sqlite"
    with sqlite3.connect(path) as db:  # back to version 4: one snapshot per period, no registers
        rows = db.execute("SELECT period, indicator_id, unit, value, stage, status, source_file, sheet, cell,"
                          " sha256, run_id FROM accepted_values ORDER BY indicator_id").fetchall()
        db.executescript("""
            CREATE TABLE runs_4 (
                id INTEGER PRIMARY KEY, period TEXT NOT NULL, at TEXT NOT NULL, fingerprint TEXT NOT NULL,
                files_read INTEGER NOT NULL, files_rejected INTEGER NOT NULL,
                indicators_accepted INTEGER NOT NULL, problems INTEGER NOT NULL, units_missing INTEGER NOT NULL);
            INSERT INTO runs_4 SELECT id, period, at, fingerprint, files_read, files_rejected, indicators_accepted,
                problems, units_missing FROM runs;
            PRAGMA foreign_keys = OFF; DROP TABLE runs; ALTER TABLE runs_4 RENAME TO runs;
            DROP TABLE accepted_values; DROP TABLE registers; DROP TABLE period_registers;
            DROP INDEX files_by_run; DROP INDEX problems_by_run;
            CREATE TABLE accepted_values (
                period TEXT NOT NULL, indicator_id TEXT NOT NULL, unit TEXT NOT NULL,
                value TEXT, stage TEXT, status TEXT NOT NULL, source_file TEXT, sheet TEXT, cell TEXT,
                sha256 TEXT, run_id INTEGER NOT NULL REFERENCES runs(id), PRIMARY KEY (period, indicator_id));
            CREATE INDEX accepted_by_unit ON accepted_values (period, unit);
            PRAGMA user_version = 4;""")
        db.executemany("INSERT INTO accepted_values VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        runs = [row[:9] for row in db.execute("SELECT * FROM runs")]
    sent = office.templates("2020-07")
    for unit in sent:
        office.send("2020-07", unit, sent, 7)
    office.run("consolidate", "--period", "2020-07")
    assert office.detail("2020-07")["7-2"]["上期累计"] == "480"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 5
        kept = db.execute("SELECT period, indicator_id, unit, value, stage, status, source_file, sheet, cell,"
                          " sha256, run_id FROM accepted_values WHERE period = '2020-06' ORDER BY indicator_id")
        assert kept.fetchall() == rows
        assert [row[:9] for row in db.execute("SELECT * FROM runs WHERE period = '2020-06'")] == runs


def test_adopting_the_current_register_lists_every_figure_it_changes(office):
    sent = office.templates("2020-08")
    for unit in sent:
        office.send("2020-08", unit, sent, 8)
    office.run("consolidate", "--period", "2020-08")
    edit_register(office.folder / "任务台账.xlsx", lambda rows: rows[1].__setitem__(col("年度目标值"), 1000))
    out = office.run("consolidate", "--period", "2020-08")
    assert "7-2 的目标值由 988 改为 1000" in out and office.detail("2020-08")["7-2"]["完成率"] == "64.8%"
    out = office.run("consolidate", "--period", "2020-08", "--adopt-register")
    assert "本期数字有变化的指标 1 个：7-2 64.8%→64.0%" in out
    assert office.detail("2020-08")["7-2"]["完成率"] == "64.0%"
    # From now on August is read with the register it adopted: no change to report.
    out = office.run("consolidate", "--period", "2020-08")
    assert "任务台账在" not in out and office.detail("2020-08")["7-2"]["完成率"] == "64.0%"


@pytest.mark.skipif(sys.platform == "win32", reason="kill -9")
@pytest.mark.parametrize("after", [0.3, 0.8, 1.5])
def test_a_run_killed_outright_leaves_the_record_whole_and_the_next_run_goes_on(office, after):
    sent = office.templates("2020-06")
    for unit in sent:
        office.send("2020-06", unit, sent, 6)
    office.run("consolidate", "--period", "2020-06")
    office.send("2020-06", "市教育局", sent, 6, **{"7-2": 490})
    with sqlite3.connect(office.folder / "history.sqlite") as db:
        before = db.execute("SELECT COUNT(*), MAX(id) FROM runs").fetchone()
    run = subprocess.Popen([sys.executable, "-m", "minsheng", "consolidate", "--period", "2020-06", "--config",
                            str(office.config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           start_new_session=True)
    time.sleep(after)
    children = _children(run.pid)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in children if _alive(pid)]  # its workers went with it
    with sqlite3.connect(office.folder / "history.sqlite") as db:
        count, last = db.execute("SELECT COUNT(*), MAX(id) FROM runs").fetchone()
        # Either the run was recorded whole, or not at all.
        assert (count, last) == before or (count == before[0] + 1 and db.execute(
            "SELECT COUNT(*) FROM accepted_values WHERE run_id = ?", (last,)).fetchone()[0] == 7)
    left = (office.folder / ".minsheng.lock").exists()
    out = office.run("consolidate", "--period", "2020-06")
    assert ("已由本次运行接管" in out) == left  # a lock left behind is taken over, and said so
    assert office.detail("2020-06")["7-2"]["本期累计完成"] == "490"
    assert not (office.folder / ".minsheng.lock").exists()
    assert not [p for p in (office.folder / "汇总" / "2020-06").iterdir() if p.name.startswith(".~tmp")]


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_a_slip_in_todays_register_does_not_hold_up_an_old_period(office):
    sent = office.templates("2020-06")
    for unit in sent:
        office.send("2020-06", unit, sent, 6)
    office.run("consolidate", "--period", "2020-06")
    edit_register(office.folder / "任务台账.xlsx", lambda rows: rows[6].__setitem__(col("状态"), "撤消"))
    out = office.run("consolidate", "--period", "2020-06")
    assert "当前任务台账有误" in out and "状态“撤消”无法识别" in out and "按历史数据库中记录的本期任务台账处理" in out
    out = office.run("templates", "--period", "2020-07", code=1)  # a new period needs today's register
    assert "状态“撤消”无法识别" in out


def test_validate_says_how_to_check_another_periods_forms(office):
    sent = office.templates("2020-06")
    filled = office.send("2020-06", "市教育局", sent, 6)
    out = office.run("validate", "--period", "2020-07", str(filled))
    assert "这是统计期 2020-06 的报表" in out and "请加 --period 2020-06" in out
