"""The office's machine, simulated on Linux: a GBK console, cmd.exe that passes ``*.xlsx`` as it is,
Ctrl-C, ``| more`` closing early, a clerk's first ``init``, and the README as the only manual."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import openpyxl
import pytest
from conftest import fill
from minsheng import cli
from minsheng.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main
from minsheng.model import Period

ROOT = Path(__file__).resolve().parent.parent


def minsheng(*argv: str, cwd: Path, encoding: str = "gbk", **kwargs) -> subprocess.CompletedProcess:
    """The command as a scheduled task or a Chinese console runs it: stdio in ``encoding``."""
    env = dict(os.environ, PYTHONIOENCODING=encoding, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "minsheng", *argv], cwd=cwd, env=env, capture_output=True,
                          timeout=300, **kwargs)


def decoded(done: subprocess.CompletedProcess) -> tuple[str, str]:
    """stdout and stderr, which must be valid GBK (strict: a console would show garbage otherwise)."""
    return done.stdout.decode("gbk"), done.stderr.decode("gbk")


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("gbk") / "演示"
    done = minsheng("demo", str(folder), cwd=folder.parent)
    out, err = decoded(done)
    assert done.returncode == EXIT_OK, err
    assert "汇总完成" in out and "通报已生成" in out
    assert "Traceback" not in err and "程序内部出错" not in err
    return folder


def test_the_everyday_flow_runs_on_a_gbk_console(demo):
    inbox = demo / "收集" / "2020-06"
    # A department's file name with a character GBK lacks: shown as ?, never a crash.
    shutil.copy(next(inbox.glob("*市教育局*.xlsx")), inbox / "市教育局✘副本😀.xlsx")
    outputs = {}
    for argv in (["templates"], ["validate", "收集/2020-06/*.xlsx"], ["consolidate"], ["circular"], ["run"]):
        done = minsheng(*argv, cwd=demo)
        out, err = decoded(done)
        assert done.returncode == EXIT_OK, (argv, err)
        assert "Traceback" not in err and "程序内部出错" not in err, argv
        outputs[argv[0]] = out
    assert "市教育局?副本?.xlsx：市教育局" in outputs["validate"]
    assert "汇总完成" in outputs["consolidate"] and "通报已生成" in outputs["run"]


def test_a_redirect_to_a_file_in_the_ansi_code_page_keeps_the_chinese(demo, tmp_path):
    log = tmp_path / "log.txt"
    with open(log, "wb") as handle:
        done = subprocess.run([sys.executable, "-m", "minsheng", "validate", "收集/2020-06/*.xlsx"], cwd=demo,
                              env=dict(os.environ, PYTHONIOENCODING="gbk"), stdout=handle, stderr=subprocess.PIPE,
                              timeout=300)
    assert done.returncode == EXIT_OK and not done.stderr
    assert "共检查" in log.read_bytes().decode("gbk")


def test_validate_expands_wildcards_and_folders_itself(demo, capsys, monkeypatch):
    monkeypatch.chdir(demo)
    inbox = Path("收集") / "2020-06"
    names = sorted(p.name for p in inbox.glob("*.xlsx"))
    (inbox / f"~${names[0]}").write_bytes(b"\x0aowner")  # Excel's owner file while someone has it open
    try:
        for argument in ("收集/2020-06/*.xlsx", "收集/2020-06", str(demo / "收集" / "2020-06" / "*.xlsx")):
            assert main(["validate", argument]) == EXIT_OK
            out = capsys.readouterr().out
            assert f"共检查 {len(names)} 个文件" in out, argument
            assert "~$" not in out
        # The same file through two arguments is checked once.
        assert main(["validate", str(inbox / names[0]), "收集/2020-06/*.xlsx"]) == EXIT_OK
        assert f"共检查 {len(names)} 个文件" in capsys.readouterr().out
    finally:
        (inbox / f"~${names[0]}").unlink()


def test_brackets_in_a_typed_wildcard_are_plain_characters(demo, capsys, monkeypatch):
    monkeypatch.chdir(demo)
    inbox = demo / "收集" / "2020-06"
    form = next(inbox.glob("*.xlsx"))
    copies = [demo / "报表[第二批]1.xlsx", demo / "报表二1.xlsx"]  # what [第二批] would match as a class
    try:
        for copy in copies:
            shutil.copy(form, copy)
        assert main(["validate", "报表[第二批]*.xlsx"]) == EXIT_OK
        out = capsys.readouterr().out
        assert "共检查 1 个文件" in out and "报表[第二批]1.xlsx" in out
    finally:
        for copy in copies:
            copy.unlink()


@pytest.mark.parametrize("argument", ["收集/2020-06/*.xls", "没有这个文件.xlsx", "收集/2021-*/*.xlsx"])
def test_an_argument_that_matches_nothing_is_a_usage_error(demo, capsys, monkeypatch, argument):
    monkeypatch.chdir(demo)
    assert main(["validate", argument]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert f"“{argument}” 没有对应的文件或文件夹" in err and "minsheng validate -h" in err


def test_a_wrong_period_is_a_usage_error_and_full_width_forms_are_read(demo, capsys, monkeypatch):
    monkeypatch.chdir(demo)
    for period in ("2020-13", "六月", "2020"):
        with pytest.raises(SystemExit) as info:
            main(["consolidate", "--period", period])
        assert info.value.code == EXIT_USAGE
        assert "参数 --period：统计期" in capsys.readouterr().err
    for typed in ("２０２０－０６", "2020年6月", "2020.06", " 2020-6 ", "2020年1-6月", "2020年1－6月"):
        assert Period.parse(typed) == Period(2020, 6), typed
    assert main(["templates", "--period", "２０２０－０６"]) == EXIT_OK
    assert "2020年1-6月" in capsys.readouterr().out


def test_ctrl_c_is_one_line_whatever_the_command_was_doing(demo, capsys, monkeypatch):
    import minsheng.pipeline

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(minsheng.pipeline, "run_consolidation", interrupted)
    monkeypatch.chdir(demo)
    assert main(["consolidate"]) == EXIT_FAILED
    err = capsys.readouterr().err
    assert err == f"{cli.ABORTED}\n"


def _wait_until_minsheng_holds_ctrl_c(process: subprocess.Popen) -> bytes:
    """Read the child's stderr until an import after ``minsheng.entry`` is done (``-X importtime``
    says so): ``entry.run`` holds Ctrl-C before it imports anything. Before, a SIGINT meets Python's own start-up (``site``),
    whose traceback no program can word. Returns what was read."""
    seen, entry = b"", False
    for line in process.stderr:
        seen += line
        if entry:  # an import inside ``entry.run``: its handler is in place
            break
        entry = b"minsheng.entry" in line
    return seen


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_in_a_real_run_leaves_complete_outputs_or_the_old_ones(demo):
    output = demo / "汇总" / "2020-06"
    before = {p.name: p.read_bytes() for p in output.iterdir()}
    env = dict(os.environ, PYTHONIOENCODING="gbk")
    for delay in (0.0, 0.6, 1.5):  # while importing, while reading, while writing
        process = subprocess.Popen([sys.executable, "-X", "importtime", "-m", "minsheng", "run"], cwd=demo,
                                   env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        started = _wait_until_minsheng_holds_ctrl_c(process)
        time.sleep(delay)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
        text = b"\n".join(line for line in (started + err).splitlines()
                          if not line.startswith(b"import time:")).decode("gbk")
        assert "Traceback" not in text, (delay, text)
        if process.returncode != EXIT_OK:  # it may have finished first
            assert process.returncode in (EXIT_FAILED, -signal.SIGINT), (delay, text)
            assert not text or "已中止" in text
    after = {p.name for p in output.iterdir()}
    assert after == set(before)  # no temporary file left behind
    for name in after:
        assert (output / name).stat().st_size > 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX pipes")
def test_a_reader_that_goes_away_is_not_an_error(demo):
    read, write = os.pipe()
    os.close(read)  # ``| more`` closed before the first line
    try:
        done = subprocess.run([sys.executable, "-m", "minsheng", "validate", "收集/2020-06"], cwd=demo,
                              env=dict(os.environ, PYTHONIOENCODING="gbk"), stdout=write, stderr=subprocess.PIPE,
                              timeout=300)
    finally:
        os.close(write)
    assert done.returncode == EXIT_OK and done.stderr == b""


def test_init_names_no_other_city_and_warns_until_the_issuer_is_set(tmp_path, capsys, monkeypatch):
    folder = tmp_path / "民生办"
    assert main(["init", str(folder)]) == EXIT_OK
    text = (folder / "config.ini").read_text(encoding="utf-8")
    assert "马鞍山" not in text and "issuer = （请填写发文单位）" in text
    today = dt.date.today()
    assert f"current = {Period(today.year, today.month).previous()}" in text
    capsys.readouterr()
    # The register the clerk types into: ids stay text, deadlines are dates, targets numbers only.
    ws = openpyxl.load_workbook(folder / "任务台账.xlsx")["任务台账"]
    header = {cell.value: cell.column_letter for cell in ws[1]}
    assert ws.column_dimensions[header["指标编号"]].number_format == "@"
    assert ws.column_dimensions[header["任务编号"]].number_format == "@"
    assert ws.column_dimensions[header["完成时限"]].number_format == "yyyy-mm-dd"
    ranges = {str(v.sqref).split(":")[0][0]: v.type for v in ws.data_validations.dataValidation}
    assert ranges[header["年度目标值"]] == "decimal" and ranges[header["完成时限"]] == "date"

    shutil.copy(ROOT / "workbooks" / "任务台账.xlsx", folder / "任务台账.xlsx")
    monkeypatch.chdir(folder)
    assert main(["templates", "--period", "2020-06"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "issuer（发文单位）还是“（请填写发文单位）”" in out
    assert (folder / "收集" / "2020-06").is_dir()  # ready for the returned files
    assert f"各单位报回的填报表请放到：{folder / '收集' / '2020-06'}" in out
    (folder / "config.ini").write_text(text.replace("（请填写发文单位）", "某某县民生办"), encoding="gbk")
    assert main(["templates", "--period", "2020-06"]) == EXIT_OK
    assert "issuer" not in capsys.readouterr().out


def test_the_demo_folder_keeps_the_samples_own_city_and_period(demo):
    text = (demo / "config.ini").read_text(encoding="utf-8")
    assert "issuer = 马鞍山市民生工作领导小组办公室" in text and "current = 2020-06" in text


def test_a_form_whose_sheet_name_got_a_trailing_space_is_read(demo, capsys, monkeypatch):
    template = demo / "下发" / "2020-06" / "2020-06_市教育局_填报表.xlsx"
    path = fill(template, demo.parent / "空格.xlsx", {"7-1": 6})
    book = openpyxl.load_workbook(path)
    book["填报"].title = "填报 "
    book.save(path)
    monkeypatch.chdir(demo)
    assert main(["validate", str(path)]) == EXIT_OK
    out = capsys.readouterr().out
    assert "市教育局" in out and "没有“填报”工作表" not in out


# ---------------------------------------------------------------------------------------------
# Help and the README, read the way sqlite-utils checks its own documentation.

def commands() -> dict[str, list[str]]:
    """Each command and its options, from the parser itself."""
    parser = cli._parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return {name: [o for a in p._actions for o in a.option_strings if o.startswith("--") and o != "--help"]
            for name, p in sub.choices.items()}


def test_every_command_and_option_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, options in commands().items():
        assert re.search(rf"minsheng {name}\b", readme), name
        for option in options:
            assert re.search(rf"minsheng {name}\b[^\n]*{re.escape(option)}", readme) or (
                option in ("--config", "--period") and option in readme), (name, option)


@pytest.mark.parametrize("name", sorted(commands()))
def test_help_has_one_heading_each_and_chinese_colons(name, capsys):
    with pytest.raises(SystemExit):
        main([name, "--help"])
    out = capsys.readouterr().out
    assert out.startswith("用法：minsheng " + name)
    headings = re.findall(r"(?m)^(\S.*)：$", out)
    assert len(headings) == len(set(headings)) and "选项" in headings
    assert not re.search(r"(?m)^\S.*:$", out)  # no ASCII colon ends a heading


def test_top_level_help_shows_one_example_a_line(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    examples = out.split("示例：")[1].strip().splitlines()
    assert all(line.strip().startswith("minsheng ") and line.count("minsheng ") == 1 for line in examples)


def test_ctrl_c_while_python_is_still_loading_is_held_for_one_line(monkeypatch, capsys):
    from minsheng import entry

    monkeypatch.setattr(entry, "_held", [signal.SIGINT])
    assert entry.run() == EXIT_FAILED
    assert capsys.readouterr().err == f"{cli.ABORTED}\n"
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
