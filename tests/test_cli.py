import os
import subprocess
import sys

import pytest
from conftest import HEADERS, ROWS, fill, write_register_xlsx
from minsheng.cli import EXIT_FAILED, EXIT_OK, EXIT_USAGE, main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_init_makes_a_working_folder_and_never_overwrites(tmp_path, capsys):
    folder = tmp_path / "民生办"
    code, out, _ = run(capsys, "init", str(folder))
    assert code == EXIT_OK
    assert {p.name for p in folder.iterdir()} == {"config.ini", "任务台账.xlsx", "下发", "收集", "汇总", "templates"}
    (folder / "config.ini").write_text("; 我改过的配置\n", encoding="utf-8")
    code, out, _ = run(capsys, "init", str(folder))
    assert code == EXIT_OK and "已存在，未改动 config.ini" in out
    assert (folder / "config.ini").read_text(encoding="utf-8") == "; 我改过的配置\n"


def test_templates_in_a_working_folder(workfolder, capsys, monkeypatch):
    monkeypatch.chdir(workfolder)
    code, out, _ = run(capsys, "templates")
    assert code == EXIT_OK
    assert "4 项任务，6 个指标，3 个牵头单位" in out
    assert len(list((workfolder / "下发" / "2020-06").glob("*.xlsx"))) == 3
    code, _, _ = run(capsys, "templates", "--period", "2020-09")
    assert code == EXIT_OK
    assert len(list((workfolder / "下发" / "2020-09").glob("*.xlsx"))) == 3


def test_config_option_works_from_anywhere(workfolder, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, _, _ = run(capsys, "templates", "--config", str(workfolder / "config.ini"))
    assert code == EXIT_OK
    assert (workfolder / "下发" / "2020-06" / "2020-06_市教育局_填报表.xlsx").is_file()


def test_no_config_is_one_chinese_line_and_exit_1(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "templates")
    assert code == EXIT_FAILED
    assert err.count("\n") == 1 and err.startswith("错误：") and "config.ini" in err


def test_empty_register_of_a_new_folder_is_explained(tmp_path, capsys, monkeypatch):
    main(["init", str(tmp_path)])
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capsys, "templates")
    assert code == EXIT_FAILED and "没有任何指标行" in err


def test_register_problems_are_all_listed(workfolder, capsys, monkeypatch):
    rows = [list(r) for r in ROWS]
    rows[0][HEADERS.index("年度目标值")] = "很多"
    rows[1][HEADERS.index("指标类型")] = "其他"
    write_register_xlsx(workfolder / "任务台账.xlsx", rows)
    monkeypatch.chdir(workfolder)
    code, _, err = run(capsys, "templates")
    assert code == EXIT_FAILED
    assert "任务台账!K2" in err and "任务台账!J3" in err


def test_validate_reports_and_exits_0(workfolder, capsys, monkeypatch):
    monkeypatch.chdir(workfolder)
    main(["templates"])
    capsys.readouterr()
    template = workfolder / "下发" / "2020-06" / "2020-06_市教育局_填报表.xlsx"
    bad = fill(template, workfolder / "收集" / "2020-06" / "教育局.xlsx", {"7-1": "十二所", "7-2": 5, "8-1": "前期准备"})
    good = fill(template, workfolder / "收集" / "2020-06" / "教育局2.xlsx", {"7-1": 5, "7-2": 5, "8-1": "前期准备"})
    code, out, _ = run(capsys, "validate", str(bad), str(good))
    assert code == EXIT_OK
    assert "[错误] 教育局.xlsx：市教育局，1 个错误" in out
    assert "教育局.xlsx 填报!J4：“十二所”不是数字" in out
    assert "[通过] 教育局2.xlsx" in out
    assert "共检查 2 个文件：1 个无问题，1 个有错误" in out


def test_usage_errors_exit_2_in_chinese(capsys):
    with pytest.raises(SystemExit) as info:
        main(["frobnicate"])
    assert info.value.code == EXIT_USAGE
    assert "无效的选择" in capsys.readouterr().err
    with pytest.raises(SystemExit) as info:
        main(["validate"])
    assert info.value.code == EXIT_USAGE and "缺少参数" in capsys.readouterr().err


def test_help_is_chinese(capsys):
    with pytest.raises(SystemExit) as info:
        main(["templates", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert "按任务台账为每个牵头单位生成填报模板" in out and "统计期" in out


def test_demo_runs_the_whole_cycle_on_the_bundled_sample(tmp_path, capsys):
    folder = tmp_path / "演示"
    code, out, _ = run(capsys, "demo", str(folder))
    assert code == EXIT_OK
    assert "50 项任务，97 个指标，21 个牵头单位" in out
    assert len(list((folder / "下发" / "2020-06").glob("*_填报表.xlsx"))) == 21
    assert "读取文件 21 个：采用 20 个" in out and "未报送单位 1 个" in out
    assert "指标状态：已完成" in out
    assert (folder / "汇总" / "2020-06" / "汇总_2020-06.xlsx").is_file()
    assert (folder / "汇总" / "2020-06" / "通报_2020-06.docx").is_file() and "通报已生成" in out
    # Running it again refreshes the same folder.
    code, again, _ = run(capsys, "demo", str(folder))
    assert code == EXIT_OK and "读取文件 21 个" in again


def one_returned_workbook(workfolder, capsys, monkeypatch) -> None:
    """Templates made, and 市教育局's filled one dropped into the inbox."""
    monkeypatch.chdir(workfolder)
    main(["templates"])
    template = workfolder / "下发" / "2020-06" / "2020-06_市教育局_填报表.xlsx"
    fill(template, workfolder / "收集" / "2020-06" / "教育局.xlsx", {"7-1": 12, "7-2": 5, "8-1": "前期准备"})
    capsys.readouterr()


def test_consolidate_command(workfolder, capsys, monkeypatch):
    one_returned_workbook(workfolder, capsys, monkeypatch)
    code, out, _ = run(capsys, "consolidate")
    assert code == EXIT_OK
    assert "读取文件 1 个：采用 1 个" in out
    assert "未报送单位 2 个：市医保局、市民政局" in out
    assert "汇总_2020-06.xlsx" in out
    code, _, err = run(capsys, "consolidate", "--period", "2020-08")
    assert code == EXIT_FAILED and "收件文件夹" in err


def test_installed_command_runs_as_a_module():
    result = subprocess.run([sys.executable, "-m", "minsheng", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("minsheng ")


def test_circular_and_run_commands(workfolder, capsys, monkeypatch):
    one_returned_workbook(workfolder, capsys, monkeypatch)
    # The circular says what a consolidation judged: before the first, there is nothing to say.
    code, out, err = run(capsys, "circular")
    assert code == 1 and "还没有2020年1-6月（2020-06）的汇总结果" in err and "minsheng consolidate" in err
    assert not (workfolder / "汇总" / "2020-06" / "通报_2020-06.docx").exists()
    code, out, _ = run(capsys, "run")
    assert code == EXIT_OK and "汇总完成" in out and "通报已生成" in out
    code, out, _ = run(capsys, "circular")
    assert code == EXIT_OK and "通报_2020-06.docx" in out and "之后有变化" not in out
    # A file that changed after the consolidation: the circular still says what was judged, and says so.
    returned = next((workfolder / "收集" / "2020-06").glob("*.xlsx"))
    os.utime(returned, (returned.stat().st_atime, returned.stat().st_mtime + 60))
    code, out, _ = run(capsys, "circular")
    assert code == EXIT_OK and "之后有变化（改动 1 个文件）" in out and "请先重新汇总" in out
    code, out, _ = run(capsys, "circular", "--check-template")
    assert code == EXIT_OK and "未发现问题" in out


def test_check_template_reports_a_broken_template_and_exits_1(workfolder, capsys, monkeypatch):
    from docx import Document

    own = workfolder / "templates" / "通报模板.docx"
    doc = Document(str(own))
    doc.add_paragraph("{{ 不存在的变量 }}")
    doc.save(str(own))
    monkeypatch.chdir(workfolder)
    code, out, _ = run(capsys, "circular", "--check-template")
    assert code == EXIT_FAILED and "不存在的变量" in out


def test_consolidate_loads_no_word_jinja_or_chart_machinery(workfolder, config):
    """Imports only for what a command does: a consolidation never renders a circular."""
    from minsheng.pipeline import make_templates

    sent = {p.name.split("_")[1]: p for p in make_templates(config).paths}
    fill(sent["市教育局"], config.inbox() / "edu.xlsx", {"7-1": 6, "7-2": 494, "8-1": "开工实施"})
    code = ("import sys\nfrom minsheng.cli import main\n"
            f"code = main(['consolidate', '--config', {str(config.path)!r}])\n"
            "print(code, sorted({m.split('.')[0] for m in sys.modules} & {'docx', 'docxtpl', 'jinja2', 'matplotlib'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, encoding="utf-8")
    assert done.stdout.strip().splitlines()[-1] == "0 []", done.stdout + done.stderr
