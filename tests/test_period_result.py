"""One judgement: an indicator is judged where its file is read, and the circular is written from
the period's result the record keeps, never from the inbox read and judged again."""

from __future__ import annotations

import json
import sqlite3
import zipfile

import pytest
from conftest import fill
from minsheng.assess import judge, rollup, status
from minsheng.circular import chart, context
from minsheng.errors import ConsolidationError, LedgerError
from minsheng.intake import collect, reader
from minsheng.pipeline import make_circular, make_templates, run_consolidation
from minsheng.record import ledger


@pytest.fixture
def consolidated(workfolder, config, monkeypatch):
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)  # the chart is not what is tested here
    sent = {p.name.split("_")[1]: p for p in make_templates(config).paths}

    def words(book):
        book["填报"]["L4"] = "已建成6所，完成年度任务的80%"  # a share our figures do not bear out
    fill(sent["市教育局"], config.inbox() / "edu.xlsx", {"7-1": 6, "7-2": 100, "8-1": "开工实施"}, edit=words)
    fill(sent["市医保局"], config.inbox() / "yb.xlsx", {"17-1": 96.4, "22-2": 0.2})
    return run_consolidation(config)


def body(path) -> bytes:
    with zipfile.ZipFile(path) as z:
        return z.read("word/document.xml")


def test_the_circular_is_written_from_the_record_without_reading_or_judging_again(consolidated, config,
                                                                                monkeypatch):
    first = body(make_circular(config, result=consolidated.result.period_result).path)

    def forbidden(*args, **kwargs):
        raise AssertionError("read or judged again")

    for module, name in ((status, "assess"), (rollup, "assess"), (judge, "assess"), (reader, "read_file"),
                         (collect, "read_all")):
        monkeypatch.setattr(module, name, forbidden)
    for path in config.inbox().iterdir():
        path.unlink()  # the files are gone: the record still says what they held
    rendered = make_circular(config)
    assert body(rendered.path) == first
    assert any("之后有变化（移走 2 个文件）" in note for note in rendered.notes)
    assert any("市教育局“新建改扩建公办幼儿园”（原文80%" in note for note in rendered.notes)


def test_a_result_read_back_from_the_record_says_the_same(consolidated, config):
    made = consolidated.result.period_result
    kept = ledger.period_result(config.ledger, config.period)
    assert kept is not None and kept.period == made.period
    assert context.build_context(kept, config) == context.build_context(made, config)
    assert [(u.name, u.rank, u.mean) for u in kept.units] == [(u.name, u.rank, u.mean) for u in made.units]
    assert kept.lagging == list(made.lagging) and kept.projects == list(made.projects)


def test_each_run_keeps_its_result_and_the_circular_takes_the_last(consolidated, config):
    run_consolidation(config)
    with sqlite3.connect(config.ledger) as conn:
        assert conn.execute("SELECT COUNT(*) FROM results WHERE period = '2020-06'").fetchone()[0] == 2


def test_a_period_never_consolidated_has_no_circular(consolidated, config, workfolder):
    from minsheng.config import load_config

    july = load_config(workfolder / "config.ini", period="2020-07")
    with pytest.raises(ConsolidationError, match="还没有2020年1-7月（2020-07）的汇总结果.*请先汇总"
                                                 "（minsheng consolidate --period 2020-07"):
        make_circular(july)
    assert not (july.output() / "通报_2020-07.docx").exists()


def test_a_ledger_from_before_results_were_kept_asks_for_a_consolidation(workfolder, config):
    with sqlite3.connect(config.ledger) as conn:  # what an earlier minsheng left: three migrations
        for number, script in enumerate(ledger.MIGRATIONS[:3], start=1):
            conn.executescript(f"BEGIN; {script}; PRAGMA user_version = {number}; COMMIT;")
    with pytest.raises(ConsolidationError, match="请先汇总"):
        make_circular(config)


@pytest.mark.parametrize("damage", [
    ("UPDATE results SET data = ?", "{"), ("UPDATE results SET data = ?", "[]"),
    ("UPDATE results SET data = ?", '{"version": 99}'), ("UPDATE results SET data = ?", '{"version": 1}'),
    ("UPDATE results SET data = ?", "null"), ("UPDATE result_projects SET said = ?", "garbage"),
    # Rows cut short would print an annex without projects, or no lagging section: never read as whole.
    ("DELETE FROM result_projects WHERE rowid = (SELECT MAX(rowid) FROM result_projects) AND ? = ?", ("x", "x")),
    ("DELETE FROM result_lagging WHERE ? = ?", ("x", "x")),
    ("INSERT INTO result_lagging SELECT * FROM result_lagging WHERE ? = ?", ("x", "x")),
])
def test_a_damaged_or_foreign_result_is_named_and_never_misread(consolidated, config, damage):
    sql, value = damage
    with sqlite3.connect(config.ledger) as conn:
        conn.execute(sql, value if isinstance(value, tuple) else (value,))
    with pytest.raises(LedgerError, match="2020年1-6月的汇总结果无法读取.*请重新汇总本期"):
        make_circular(config)
    assert not (config.output() / "通报_2020-06.docx").exists()


def test_the_record_holds_plain_data_not_code(consolidated, config):
    with sqlite3.connect(config.ledger) as conn:
        (data,) = conn.execute("SELECT data FROM results").fetchone()
        items = [json.loads(item) for (item,) in conn.execute("SELECT item FROM result_lagging ORDER BY rowid")]
        projects = conn.execute("SELECT unit, task_id, said FROM result_projects ORDER BY rowid").fetchall()
    assert data.startswith('{"version":1,') and json.loads(data)["period"] == "2020-06"
    lagging = list(consolidated.result.period_result.lagging)
    assert [item[3] for item in items] == [item.indicator_id for item in lagging] == ["7-2"]  # 10.1% of 988
    assert [(unit, task) for unit, task, _ in projects] == [
        ("市教育局", "7"), ("市教育局", "8"), ("市医保局", "17"), ("市医保局", "22"), ("市民政局", "22")]
    said = {(unit, task): json.loads(text) for unit, task, text in projects}
    assert [s[1] for s in said["市教育局", "7"]] == ["新建改扩建公办幼儿园", "资助幼儿"]
    assert said["市教育局", "7"][0][0] == "已建成6所，完成年度任务的80%"  # the department's words, as typed
    assert said["市民政局", "22"] == []  # sent nothing: the annex says so instead
