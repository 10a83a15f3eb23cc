"""The whole cycle on real files: register → templates → departments fill (openpyxl) → consolidate.

Every 完成率, 状态, 标记 and problem entry is checked against values worked out by hand.
"""

import csv
import dataclasses
import datetime as dt
import hashlib
import os
import sqlite3
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from conftest import assessments_again, fill, judged_again
from minsheng.config import load_config
from minsheng.model import Flag, Period, Severity, Status
from minsheng.numbers import format_percent
from minsheng.pipeline import make_templates, run_consolidation, run_demo
from minsheng.record import ledger


def hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def set_date(day):
    def edit(book):
        ws = book["填报"]
        row = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 2).value == "填报日期")
        ws.cell(row, 3).value = day
    return edit


@pytest.fixture
def june(workfolder, config):
    """June: 市教育局 sends twice, 市医保局 files from a sub-folder, 市民政局 sends nothing."""
    sent = {p.name.split("_")[1]: p for p in make_templates(config).paths}
    inbox = config.inbox()

    def edu(book):
        ws = book["填报"]
        ws["P4"] = 900  # 累计拨付资金 of task 7
        ws["L5"] = "=HYPERLINK(\"http://x\",\"看这里\")"  # text a department typed, not a formula to run
        ws["L5"].data_type = "s"
    fill(sent["市教育局"], inbox / "2020-06_市教育局_填报表.xlsx",
         {"7-1": "１２所", "7-2": 3000, "8-1": "开工实施"}, edit=edu)
    fill(sent["市教育局"], inbox / "旧" / "教育局初稿.xlsx", {"7-1": 5, "7-2": 100, "8-1": "前期准备"},
         edit=set_date(dt.date(2020, 7, 1)))
    fill(sent["市医保局"], inbox / "医保" / "医保局.xlsx", {"17-1": 96.4, "22-2": "0.35万元"})
    (inbox / "说明.docx").parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(inbox / "说明.docx", "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    (inbox / "~$2020-06_市教育局_填报表.xlsx").write_bytes(b"lock")
    (inbox / ".隐藏.xlsx").write_bytes(b"hidden")
    return inbox


def test_consolidation_matches_hand_computed_values(june, config):
    before = hashes(june)
    done = run_consolidation(config)
    assert hashes(june) == before  # inputs never change
    result = done.result
    by_id = {a.indicator.id: a for a in assessments_again(result, config)}

    expected = {
        # id: (status, 完成率 shown, flags)
        "7-1": (Status.COMPLETE, Decimal("100.0"), ()),  # “１２所” → 12 of 12
        "7-2": (Status.COMPLETE, Decimal("303.6"), (Flag.DOUBTFUL,)),  # 3000 / 988 = 303.64…% > 300%
        "8-1": (Status.ON_SCHEDULE, Decimal("50.0"), ()),  # 开工实施 = 50%; due 10-31 → 6/10 = 60%: gap exactly 10
        "17-1": (Status.MET, Decimal("101.5"), ()),  # 96.4 / 95 = 101.47…%
        "22-2": (Status.NOT_MET, None, ()),  # 0.35 万元 > 0.3 (上限)
        "22-1": (Status.NOT_SUBMITTED, None, ()),
    }
    for indicator_id, (status, rate, flags) in expected.items():
        a = by_id[indicator_id]
        assert (a.status, a.rate_percent, a.flags) == (status, rate, flags), indicator_id
    assert by_id["8-1"].gap == 10
    assert by_id["7-1"].source == "2020-06_市教育局_填报表.xlsx"
    assert by_id["17-1"].source == str(Path("医保") / "医保局.xlsx")

    problems = [(p.file, p.cell, p.severity) for p in result.problems]
    assert sorted(problems) == sorted([
        ("2020-06_市教育局_填报表.xlsx", "J4", Severity.NOTICE),  # “１２所”
        (str(Path("医保") / "医保局.xlsx"), "J5", Severity.NOTICE),  # “0.35万元”
        (str(Path("旧") / "教育局初稿.xlsx"), "", Severity.NOTICE),  # older duplicate, not used
        ("说明.docx", "", Severity.NOTICE),  # not a spreadsheet: an attachment, most likely
        (".隐藏.xlsx", "", Severity.NOTICE),  # hidden: named, not read
    ])
    duplicate = next(p for p in result.problems if "初稿" in p.file)
    assert "2020-06_市教育局_填报表.xlsx" in duplicate.message

    counts = result.counts
    assert (counts.files_read, counts.files_accepted, counts.files_rejected) == (5, 2, 3)
    assert (counts.indicators_accepted, counts.problems, counts.errors, counts.units_missing) == (5, 5, 0, 1)
    assert [u.name for u in result.missing_units] == ["市民政局"]
    tasks = {t.task.id: t for t in judged_again(result, config)}
    assert tasks["7"].complete and tasks["7"].funds_paid == Decimal(900)
    assert tasks["22"].status is Status.NOT_SUBMITTED
    # 市医保局: 17-1 met (100%) and 22-2 over its cap (0.3 ÷ 0.35 = 85.7%), mean 92.9%, ahead of 市教育局.
    assert [(u.name, u.rank) for u in result.units] == [("市医保局", 1), ("市教育局", 2), ("市民政局", 3)]
    assert format_percent(result.units[0].mean) == "92.9%"


def test_every_indicator_is_accounted_for(tmp_path):
    """On the demo's messy round: each indicator of each submitted file is accepted or in 问题清单,
    and each register indicator is reported, 未填, 数据有误 or 未报送."""
    demo = run_demo(tmp_path / "演示")
    result = demo.consolidated.result
    assert result.counts.errors >= 1 and result.counts.units_missing == 1
    by_file = {}
    for p in result.problems:
        by_file.setdefault(p.file, []).append(p)
    for item in result.received:
        if item.outcome != "采用":
            assert by_file[item.name] and all(not p.indicator for p in by_file[item.name])
            continue
        for ind in (i for i in result.register.indicators if i.lead_unit == item.unit):
            listed = any(p.indicator == ind.id and p.severity is Severity.ERROR for p in by_file.get(item.name, []))
            reported = result.collection.submission(item.unit).values.get(ind.id)
            assert (reported is not None and not reported.error) != listed, (item.name, ind.id)
    reported = 0
    for a in assessments_again(result, demo.config):
        if a.value is not None:
            reported += 1
        else:
            assert a.status in (Status.NOT_FILLED, Status.NOT_SUBMITTED, Status.DATA_ERROR)
    assert reported == result.counts.indicators_accepted


def test_outputs_read_back(june, config):
    done = run_consolidation(config)
    xlsx, csv_path = done.outputs
    assert xlsx.name == "汇总_2020-06.xlsx" and csv_path.name == "指标明细_2020-06.csv"
    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["总览", "指标明细", "单位排名", "滞后任务", "未报送单位", "问题清单", "更正记录"]
    detail = book["指标明细"]
    header = [c.value for c in detail[1]]
    col = {h: i + 1 for i, h in enumerate(header)}
    rows = {detail.cell(r, col["指标编号"]).value: r for r in range(2, detail.max_row + 1)}
    rate = detail.cell(rows["7-2"], col["完成率"])
    assert rate.value == pytest.approx(3.036) and rate.number_format == "0.0%"
    assert detail.cell(rows["8-1"], col["本期累计完成"]).value == "开工实施"
    assert detail.cell(rows["7-2"], col["标记"]).value == "数据存疑"
    assert detail.cell(rows["22-1"], col["状态"]).value == "未报送"
    assert detail.cell(rows["7-1"], col["来源单元格"]).value == "填报!J4"
    assert detail.freeze_panes == "A2" and detail.auto_filter.ref
    assert detail.conditional_formatting
    # Text that looks like a formula stays text in the output.
    with zipfile.ZipFile(xlsx) as z:
        assert "<f>" not in z.read("xl/worksheets/sheet2.xml").decode("utf-8")  # text, never a formula
    assert detail.cell(rows["7-2"], col["进展情况"]).value.startswith("=HYPERLINK")
    assert book["总览"]._charts
    missing = book["未报送单位"]
    assert missing["A2"].value == "市民政局" and missing["B2"].value == 1
    lagging = [c.value for c in book["滞后任务"]["D"]][1:]
    assert lagging == ["22-2"]
    issues = book["问题清单"]
    assert issues.max_row == 6  # header and five problems

    raw = csv_path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    row = next(r for r in table if r["指标编号"] == "7-2")
    assert (row["完成率"], row["状态"], row["标记"]) == ("303.6%", "已完成", "数据存疑")
    assert row["进展情况"].startswith("'=HYPERLINK")


def test_ledger_gives_next_period_its_previous_values_and_changes(june, config, workfolder):
    run_consolidation(config)
    july = load_config(workfolder / "config.ini", period="2020-07")
    sent = {p.name.split("_")[1]: p for p in make_templates(july).paths}
    ws = openpyxl.load_workbook(sent["市教育局"])["填报"]
    previous = {ws.cell(r, 2).value: ws.cell(r, 9).value for r in range(4, 7)}
    assert previous == {"7-1": 12, "7-2": 3000, "8-1": None}
    fill(sent["市教育局"], july.inbox() / "edu.xlsx", {"7-1": 12, "7-2": 2900, "8-1": "基本完成"})
    result = run_consolidation(july).result
    by_id = {a.indicator.id: a for a in assessments_again(result, july)}
    fell = by_id["7-2"]
    assert Flag.DECREASED in fell.flags
    assert fell.previous.period == Period(2020, 6)
    # (2900 − 3000) / 988 = −10.12… points
    assert round(float(fell.change), 2) == -10.12
    assert by_id["8-1"].change == 30  # 开工实施 50% → 基本完成 80%


def test_rerunning_a_period_adds_a_revision_and_keeps_the_audit(june, config):
    run_consolidation(config)
    run_consolidation(config)
    with sqlite3.connect(config.ledger) as db:
        # Each run's values stand beside the earlier run's: nothing is overwritten.
        assert db.execute("SELECT COUNT(*) FROM accepted_values WHERE period='2020-06'").fetchone()[0] == 10
        assert db.execute("SELECT COUNT(*) FROM accepted_values WHERE run_id = 2").fetchone()[0] == 5
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == 2
        actions = [r[0] for r in db.execute("SELECT action FROM audit WHERE action != '任务台账' ORDER BY id")]
        assert actions == ["汇总", "重新汇总"]
        assert db.execute("SELECT COUNT(*) FROM problems WHERE run_id = 2").fetchone()[0] == 5
        assert db.execute("PRAGMA user_version").fetchone()[0] == len(ledger.MIGRATIONS)
        row = db.execute("SELECT source_file, sheet, cell, length(sha256) FROM accepted_values "
                         "WHERE indicator_id='7-1'").fetchone()
        assert row == ("2020-06_市教育局_填报表.xlsx", "填报", "J4", 64)


def test_an_owner_file_left_by_a_crashed_excel_does_not_block(june, config):
    done = run_consolidation(config)
    xlsx = done.outputs[0]
    owner = xlsx.parent / f"~${xlsx.name}"
    owner.write_bytes(b"owner")
    os.utime(owner, (1_500_000_000, 1_500_000_000))  # left before the output was last written
    os.utime(xlsx, (1_600_000_000, 1_600_000_000))
    run_consolidation(config)  # nothing holds the file: it is replaced
    assert xlsx.stat().st_mtime > 1_600_000_000


def test_an_output_whose_owner_file_is_fresh_is_open_in_excel_and_not_written(june, config):
    """Excel (or WPS, which does not lock) has 汇总 open: its ~$ owner file was made after the
    output was written. Nothing is written, and the clerk is told which file to close."""
    from minsheng.errors import OutputLockedError

    done = run_consolidation(config)
    xlsx = done.outputs[0]
    os.utime(xlsx, (1_600_000_000, 1_600_000_000))
    (xlsx.parent / f"~${xlsx.name}").write_bytes(b"\x0c\xe5\xbc\xa0\xe4\xb8\x89")  # made on opening: now
    before = hashes(xlsx.parent)
    with pytest.raises(OutputLockedError, match="正在 Excel 或 WPS 中打开") as info:
        run_consolidation(config)
    assert str(xlsx) in str(info.value) and f"~${xlsx.name}" in str(info.value)
    assert hashes(xlsx.parent) == before


def test_outputs_open_in_excel_are_not_touched(june, config, monkeypatch):
    from minsheng import files
    from minsheng.errors import OutputLockedError

    done = run_consolidation(config)
    xlsx = done.outputs[0]
    before = hashes(xlsx.parent)
    real_open = os.open

    def excel_holds(path, flags, *args, **kwargs):  # what Windows answers while Excel has the file open
        if Path(path) == xlsx and flags & os.O_RDWR:
            raise PermissionError(13, "The process cannot access the file")
        return real_open(path, flags, *args, **kwargs)

    with sqlite3.connect(config.ledger) as db:
        runs = db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    monkeypatch.setattr(files, "LOCKING", True)
    monkeypatch.setattr(os, "open", excel_holds)
    with pytest.raises(OutputLockedError, match="正被其他程序（通常是 Excel 或 WPS）打开"):
        run_consolidation(config)
    assert hashes(xlsx.parent) == before
    with sqlite3.connect(config.ledger) as db:  # a run whose outputs were not written is not recorded
        assert db.execute("SELECT COUNT(*) FROM runs").fetchone()[0] == runs


def test_an_empty_inbox_never_replaces_a_result(june, config):
    done = run_consolidation(config)
    before = hashes(done.outputs[0].parent)
    with sqlite3.connect(config.ledger) as db:
        kept = db.execute("SELECT COUNT(*) FROM accepted_values").fetchone()[0]
    empty = config.inbox()
    for path in sorted(empty.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()
    from minsheng.errors import ConsolidationError

    with pytest.raises(ConsolidationError, match="没有任何文件.*保持不变"):
        run_consolidation(config)
    assert hashes(done.outputs[0].parent) == before
    with sqlite3.connect(config.ledger) as db:
        assert db.execute("SELECT COUNT(*) FROM accepted_values").fetchone()[0] == kept > 0


def test_missing_inbox_is_a_clear_failure(config):
    from minsheng.pipeline import ConsolidationError

    with pytest.raises(ConsolidationError, match="收件文件夹"):
        run_consolidation(dataclasses.replace(config, period=Period(2020, 11)))
