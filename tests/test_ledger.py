import sqlite3
from decimal import Decimal

import pytest
from minsheng.model import Period
from minsheng.record import ledger


def test_new_ledger_gets_every_migration(tmp_path):
    conn = ledger.connect(tmp_path / "history.sqlite")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(ledger.MIGRATIONS)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"runs", "files", "accepted_values", "problems", "audit", "results", "result_lagging",
                      "result_projects", "registers", "period_registers"}
    conn.close()


def test_an_old_ledger_is_brought_up_to_date_without_losing_data(tmp_path):
    path = tmp_path / "history.sqlite"
    with sqlite3.connect(path) as db:
        db.executescript(ledger.MIGRATIONS[0] + "; PRAGMA user_version = 1;")
        db.execute("INSERT INTO runs VALUES (1, '2020-05', 'now', 'f', 1, 0, 1, 0, 0)")
        db.execute("INSERT INTO accepted_values VALUES ('2020-05', '7-1', '市教育局', '4.5', '', '序时推进',"
                   " 'a.xlsx', '填报', 'J4', 'x', 1)")
    conn = ledger.connect(path)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(problems)")]
    assert "indicator_id" in columns
    conn.close()
    previous = ledger.previous_values(path, Period(2020, 6))
    assert previous["7-1"].value == Decimal("4.5") and previous["7-1"].period == Period(2020, 5)
    assert ledger.previous_values(path, Period(2020, 5)) == {}


def test_a_ledger_from_a_newer_version_is_refused(tmp_path):
    path = tmp_path / "history.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version = 99")
    with pytest.raises(ledger.LedgerError, match="升级 minsheng"):
        ledger.connect(path)


def test_no_ledger_means_no_previous_values(tmp_path):
    assert ledger.previous_values(tmp_path / "none.sqlite", Period(2020, 6)) == {}
    assert not (tmp_path / "none.sqlite").exists()
