"""Hostile and odd files are refused before a reader sees them; formats are told by content."""

import io
import shutil
import subprocess
import zipfile

import openpyxl
import pytest
from conftest import fill, read_submission
from minsheng.intake.collect import collect_inbox, find_files
from minsheng.model import Severity
from minsheng.pipeline import make_templates
from minsheng.register.workbook import load_register
from minsheng.untrusted import guard
from minsheng.untrusted.guard import inspect


def xlsx_bytes(cell: str) -> bytes:
    book = openpyxl.Workbook()
    book.active[cell] = 1
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_sheet_reaching_the_last_address_is_refused_without_reading_it():
    # python-calamine would try to allocate the whole 1,048,576 × 16,384 range and abort the process.
    verdict = inspect(xlsx_bytes("XFD1048576"))
    assert verdict.kind == "xlsx" and verdict.refusal == ""
    refusal = guard.sheet_refusal(verdict, "Sheet")
    assert "工作表“Sheet”的范围异常" in refusal and "1048576 行" in refusal
    assert guard.sheet_refusal(verdict, "另一个工作表") == ""  # only the sheets that are read count


def test_normal_workbook_passes():
    assert inspect(xlsx_bytes("P40")) == guard.Verdict("xlsx")


def test_zip_bomb_member_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (5 * 1024 * 1024))
    assert "压缩比异常" in inspect(out.getvalue()).refusal


def test_unpacked_size_cap(monkeypatch):
    monkeypatch.setattr(guard, "MAX_UNPACKED_BYTES", 1000)
    assert "解压后过大" in inspect(xlsx_bytes("A1")).refusal


def test_file_size_cap(monkeypatch):
    monkeypatch.setattr(guard, "MAX_FILE_BYTES", 100)
    assert "文件过大" in inspect(xlsx_bytes("A1")).refusal


def test_password_protected_workbook_has_its_own_message():
    encrypted = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500 + "EncryptedPackage".encode("utf-16-le")
    assert "打开密码" in inspect(encrypted).refusal


@pytest.mark.parametrize("data, words", [
    (b"%PDF-1.7 ...", "不是 Excel/WPS 表格文件"),
    (b"PK\x03\x04broken", "已损坏"),
])
def test_other_files_are_named_not_read(data, words):
    assert words in inspect(data).refusal


def test_word_document_is_not_a_spreadsheet():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("word/document.xml", "<w:document/>")
    assert "不是电子表格" in inspect(out.getvalue()).refusal


def test_format_is_told_by_content_not_extension(config, tmp_path):
    register = load_register(config.register)
    template = next(p for p in make_templates(config).paths if "市医保局" in p.name)
    filled = fill(template, tmp_path / "a.xlsx", {"17-1": 96, "22-2": 0.2})
    for name in ("医保局.xls", "医保局.et", "医保局"):
        misnamed = tmp_path / name
        shutil.copy(filled, misnamed)
        sub, problems = read_submission(misnamed, register, config.period, config.stages)
        assert sub is not None and sub.unit == "市医保局", name
        assert str(sub.values["17-1"].value) == "96"


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice is not installed")
@pytest.mark.parametrize("target", ["xls", "ods"])
def test_xls_and_ods_saved_by_another_program_are_read(config, tmp_path, target):
    register = load_register(config.register)
    template = next(p for p in make_templates(config).paths if "市医保局" in p.name)
    filled = fill(template, tmp_path / "in" / "医保局.xlsx", {"17-1": 96.4, "22-2": 0.2})
    subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", target, "--outdir", str(tmp_path / "out"), str(filled)],
                   capture_output=True, timeout=180, check=True)
    converted = tmp_path / "out" / f"医保局.{target}"
    sub, problems = read_submission(converted, register, config.period, config.stages)
    assert sub is not None and sub.unit == "市医保局"
    assert str(sub.values["17-1"].value) == "96.4" and str(sub.values["22-2"].value) == "0.2"


def test_inbox_walk_skips_lock_hidden_and_system_files(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("x.xlsx", "~$x.xlsx", ".x.xlsx", "Thumbs.db", "a/y.xlsx", "a/b/z.xls", ".git/k.xlsx"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    found = [p.relative_to(tmp_path).as_posix() for p in find_files(tmp_path)]
    assert found == ["x.xlsx", "a/y.xlsx", "a/b/z.xls"]


def test_a_workbook_sized_tilde_file_is_named_not_read(config):
    """Excel's ~$ temporary copy of a real form must not stand beside it as a second submission."""
    template = next(p for p in make_templates(config).paths if "市医保局" in p.name)
    inbox = config.inbox()
    fill(template, inbox / "医保.xlsx", {"17-1": 96, "22-2": 0.2})
    fill(template, inbox / "~$医保.xlsx", {"17-1": 10, "22-2": 0.9})
    collection = collect_inbox(inbox, load_register(config.register), config.period, config.stages)
    assert str(collection.submissions["市医保局"].values["17-1"].value) == "96"
    [problem] = [p for p in collection.problems if p.file == "~$医保.xlsx"]
    assert problem.severity is Severity.NOTICE and "去掉文件名开头的“~$”" in problem.message


def test_one_bad_file_never_stops_the_run(config):
    register = load_register(config.register)
    template = next(p for p in make_templates(config).paths if "市医保局" in p.name)
    inbox = config.inbox()
    fill(template, inbox / "ok.xlsx", {"17-1": 96, "22-2": 0.2})
    (inbox / "bomb.xlsx").write_bytes(xlsx_bytes("XFD1048576"))
    (inbox / "garbage.xlsx").write_bytes(b"\x00\x01garbage")
    collection = collect_inbox(inbox, register, config.period, config.stages)
    assert list(collection.submissions) == ["市医保局"]
    assert {p.file for p in collection.problems} == {"bomb.xlsx", "garbage.xlsx"}
    assert {r.name: r.outcome for r in collection.received} == {
        "bomb.xlsx": "拒收", "garbage.xlsx": "拒收", "ok.xlsx": "采用"}
