"""``minsheng extract``: plan text → draft register. Scored against hand-written gold files, read
back from the workbook it writes, carried through ``templates``, and fed hostile files."""

import importlib.util
import os
import sys
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from docx import Document
from minsheng.cli import EXIT_FAILED, EXIT_OK, main
from minsheng.errors import RegisterError
from minsheng.model import IndicatorType
from minsheng.register.extract import CHECK, SOURCE, extract, write_draft
from minsheng.register.plan import parse_plan
from minsheng.register.targets import propose
from minsheng.register.workbook import load_register

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data" / "extract"
PLAN_004 = DATA / "plan_004.txt"


def scorer():
    spec = importlib.util.spec_from_file_location("score_extract", ROOT / "scripts" / "score_extract.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its data classes look themselves up there
    spec.loader.exec_module(module)
    return module


GOLD = sorted(DATA.glob("gold_*.json"))


@pytest.mark.parametrize("gold", GOLD, ids=[g.stem for g in GOLD])
def test_precision_and_recall_of_target_pairs_on_hand_written_gold(gold):
    score = scorer().score(gold, DATA / gold.name.replace("gold_", "plan_").replace(".json", ".txt"))
    print(f"{score.name}: recall {score.recall:.3f} ({score.matched}/{score.required}), "
          f"precision {score.precision:.3f} ({score.matched}/{score.proposed}); "
          f"missed {score.missed}; excess {score.excess}")
    assert score.recall >= 0.95 and score.precision >= 0.90


@pytest.mark.parametrize("text, expected", [
    ("新建改扩建公办幼儿园12所,资助幼儿988人次", [("12", "所", "累计"), ("988", "人次", "累计")]),
    ("新建学校十二所,培训一千五百人", [("12", "所", "累计"), ("1500", "人", "累计")]),
    ("职业院校输送毕业生1.2万人,改造12.5万平方米", [("1.2", "万人", "累计"), ("12.5", "万平方米", "累计")]),
    ("参保率达到95%以上", [("95", "%", "比率")]),
    ("个人自付费用不超过0.3万元、0.5万元和1万元", [("0.3", "万元", "上限"), ("0.5", "万元", "上限"),
                                          ("1", "万元", "上限")]),
    ("筛查覆盖率不低于90%", [("90", "%", "比率")]),
    ("空气优良天数比例控制在5%以内", [("5", "%", "上限")]),
    ("新增就业岗位1624个以上,培训不少于300人次", [("1624", "个", "累计"), ("300", "人次", "累计")]),
    # Not targets.
    ("2020年底前完成,6月30日前上报", []),
    ("启动实施第四期学前教育行动计划", []),
    ("关爱12类重点人群,落实“六项机制”和“两不愁三保障”", []),
    ("按照皖政〔2017〕58号和《2020年1000人培训方案》要求", []),
    ("培育一批年网销额超1000万元的农村电商企业", []),
    ("落实三项制度,打造两个平台", []),
])
def test_targets_are_read_as_plans_write_them(text, expected):
    got = [(str(p.target), p.unit, p.type.value) for p in propose(text)]
    assert got == expected


@pytest.mark.parametrize("text, reason", [
    ("改造老旧小区36个,其中城区20个", "其中"),
    ("给予每人每月60元护理补贴", "标准"),
    ("每个县区建设2-3个残疾人综合服务平台", "范围"),
    ("免费婚前健康检查约28000人", "约数"),
    ("救助保障标准再提高10%", "增减幅度"),
])
def test_what_a_person_must_judge_is_proposed_and_marked(text, reason):
    proposals = propose(text)
    assert proposals and reason in proposals[-1].check


def test_phrases_are_the_plans_own_words_and_tasks_without_numbers_get_a_milestone():
    text = PLAN_004.read_text(encoding="utf-8")
    draft = extract(PLAN_004)
    assert len(draft.tasks) == 50
    for row in draft.rows:
        if row["指标类型"] == IndicatorType.MILESTONE.value:
            assert row[SOURCE] == "" and row["计量单位"] == "阶段"
        else:
            assert row[SOURCE] and row[SOURCE] in text
            assert isinstance(row["年度目标值"], Decimal) and row["年度目标值"] > 0
    # Task 5 states no number; task 4 is led by two units, each gets its milestone.
    assert [r["牵头单位"] for r in draft.rows if r["任务编号"] == "4"] == ["市人社局", "市农业农村局"]
    assert [r["指标类型"] for r in draft.rows if r["任务编号"] == "5"] == ["里程碑"]


def test_draft_opens_tinted_and_becomes_a_register_once_every_marked_row_is_confirmed(tmp_path):
    out = write_draft(extract(PLAN_004), tmp_path / "任务台账.xlsx")
    book = openpyxl.load_workbook(out)
    sheet = book["任务台账"]
    header = [c.value for c in sheet[1]]
    check = header.index(CHECK)
    flagged = [row for row in sheet.iter_rows(min_row=2) if row[check].value]
    assert flagged and all(row[check].fill.fgColor.rgb.endswith("FCE4D6") for row in flagged)
    assert all(c.fill.fgColor.rgb in (None, "00000000") for row in sheet.iter_rows(min_row=2)
               if not row[check].value for c in row[:3])
    with pytest.raises(RegisterError) as info:
        load_register(out)
    assert [p.cell[0] for p in info.value.problems] == [openpyxl.utils.get_column_letter(check + 1)] * len(flagged)
    for row in flagged:  # the clerk looks at each and clears the mark
        row[check].value = None
    book.save(out)
    register = load_register(out)
    assert len(register.tasks) == 50 and SOURCE in register.extra_columns


def test_extract_templates_cycle_on_the_confirmed_draft(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["init", "县里"]) == EXIT_OK
    # It replaces the empty register init made: --force says so.
    assert main(["extract", str(PLAN_004), "--out", "县里/任务台账.xlsx", "--force"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "找到 50 项任务" in out and "需核对" in out
    book = openpyxl.load_workbook("县里/任务台账.xlsx")
    sheet = book["任务台账"]
    check = [c.value for c in sheet[1]].index(CHECK)
    for row in sheet.iter_rows(min_row=2):
        row[check].value = None
    book.save("县里/任务台账.xlsx")
    monkeypatch.chdir(tmp_path / "县里")
    assert main(["templates"]) == EXIT_OK
    assert len(list(Path("下发").rglob("*_填报表.xlsx"))) >= 19


def test_a_docx_plan_reads_like_its_text(tmp_path):
    doc = Document()
    for line in PLAN_004.read_text(encoding="utf-8").splitlines():
        doc.add_paragraph(line)
    doc.save(str(tmp_path / "要点.docx"))
    from_docx = [(r["指标编号"], r["年度目标值"], r["计量单位"]) for r in extract(tmp_path / "要点.docx").rows]
    assert from_docx == [(r["指标编号"], r["年度目标值"], r["计量单位"]) for r in extract(PLAN_004).rows]


def test_a_gbk_text_file_from_notepad_is_read(tmp_path):
    plan = tmp_path / "要点.txt"
    plan.write_bytes(PLAN_004.read_text(encoding="utf-8").encode("gb18030"))
    assert len(extract(plan).tasks) == 50


def test_other_layouts_numbers_restarting_under_headings_and_units_on_their_own_line():
    text = ("一、教育\n（一）学前教育\n1、新建幼儿园。新建幼儿园3所。\n责任单位：县教育局、县财政局\n"
            "二、卫生\n1、家庭医生签约。签约率达到60%以上。\n责任单位：县卫健委\n")
    tasks = parse_plan(text)
    assert [(t.number, t.title, t.lead, t.partners) for t in tasks] == [
        ("1", "新建幼儿园", ["县教育局"], ["县财政局"]), ("2", "家庭医生签约", ["县卫健委"], [])]
    assert tasks[1].category == "二、卫生"


def _bad_inputs(tmp_path: Path) -> dict[str, Path]:
    files = {"empty": tmp_path / "空.txt", "scan": tmp_path / "扫描件.docx", "pdf": tmp_path / "要点.pdf",
             "huge": tmp_path / "巨大.txt", "binary": tmp_path / "乱码.txt", "english": tmp_path / "english.txt",
             "folder": tmp_path / "文件夹", "zip": tmp_path / "坏.docx", "missing": tmp_path / "没有.txt"}
    files["empty"].write_bytes(b"")
    files["scan"].write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3 scanned image")
    files["pdf"].write_bytes(b"%PDF-1.7 text")
    with open(files["huge"], "wb") as handle:  # sparse: 50 MB on paper, nothing on disk
        handle.truncate(50 * 1024 * 1024)
    files["binary"].write_bytes(bytes(range(256)) * 4)
    files["english"].write_text("1. Build 12 schools.\n", encoding="utf-8")
    files["folder"].mkdir()
    files["zip"].write_bytes(b"PK\x03\x04 not really a zip")
    return files


@pytest.mark.parametrize("case", ["empty", "scan", "pdf", "huge", "binary", "english", "folder", "zip", "missing"])
def test_bad_input_is_one_chinese_line_and_nothing_is_written(tmp_path, capsys, case):
    plan = _bad_inputs(tmp_path)[case]
    out = tmp_path / "草稿.xlsx"
    assert main(["extract", str(plan), "--out", str(out)]) == EXIT_FAILED
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("错误：") and str(plan.name) in lines[0], captured.err
    assert "Traceback" not in captured.err and not captured.out
    assert not out.exists() and not [p for p in os.listdir(tmp_path) if p.startswith(".~")]


@pytest.mark.skipif(sys.platform == "win32", reason="permission bits")
def test_an_existing_draft_is_replaced_whole(tmp_path):
    out = tmp_path / "草稿.xlsx"
    out.write_bytes(b"old")
    write_draft(extract(PLAN_004), out)
    assert openpyxl.load_workbook(out)["任务台账"].max_row > 90


def test_a_wildcard_typed_in_cmd_exe_names_one_plan(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "2021年要点.txt").write_text(PLAN_004.read_text(encoding="utf-8"), encoding="utf-8")
    assert main(["extract", "*要点.txt", "--out", "草稿.xlsx"]) == EXIT_OK
    assert "找到 50 项任务" in capsys.readouterr().out
    (tmp_path / "2022年要点.txt").write_text("x", encoding="utf-8")
    assert main(["extract", "*要点.txt"]) == 2
    assert "对应 2 个文件" in capsys.readouterr().err


def test_the_plan_and_an_existing_register_are_never_overwritten(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    plan = tmp_path / "要点.txt"
    plan.write_text(PLAN_004.read_text(encoding="utf-8"), encoding="utf-8")
    register = tmp_path / "任务台账.xlsx"
    register.write_bytes(b"a confirmed register")
    for out, force in ((plan, False), (plan, True), (register, False)):
        assert main(["extract", str(plan), "--out", str(out)] + (["--force"] if force else [])) == 2
        err = capsys.readouterr().err
        assert "未覆盖" in err or "须是 .xlsx" in err
    assert plan.read_text(encoding="utf-8") == PLAN_004.read_text(encoding="utf-8")
    assert register.read_bytes() == b"a confirmed register"
    assert main(["extract", str(plan), "--out", "草稿.csv"]) == 2
    assert main(["extract", str(plan), "--out", str(register), "--force"]) == EXIT_OK
    assert openpyxl.load_workbook(register)["任务台账"].max_row > 90


@pytest.mark.parametrize("phrase, expected", [
    ("培训农村劳动力1,200人", [("1200", "人", "")]),
    ("新建学校两所，建设两百个充电桩", [("2", "所", ""), ("200", "个", "")]),
    ("培训5000余人，帮扶3万余户", [("5000", "人", "约数"), ("3", "万户", "约数")]),
    ("每座补助2万元", [("2", "万元", "标准")]),
    ("发放补贴3.5万元/户", [("3.5", "万元", "标准")]),
])
def test_numbers_a_new_user_wrote(phrase, expected):
    got = [(str(p.target), p.unit, p.check) for p in propose(phrase)]
    assert [(v, u) for v, u, _ in got] == [(v, u) for v, u, _ in expected]
    assert all(want in check for (_, _, check), (_, _, want) in zip(got, expected))


def test_a_big5_file_read_as_gbk_is_refused_not_turned_into_a_garbled_draft(tmp_path, capsys):
    plan = tmp_path / "繁體.txt"
    plan.write_bytes(PLAN_004.read_text(encoding="utf-8").encode("big5", errors="ignore"))
    assert main(["extract", str(plan), "--out", str(tmp_path / "d.xlsx")]) == EXIT_FAILED
    assert "编码无法识别" in capsys.readouterr().err and not (tmp_path / "d.xlsx").exists()


def test_a_docx_that_unpacks_to_a_huge_size_is_refused_before_it_is_read(tmp_path, capsys):
    import zipfile

    bomb = tmp_path / "炸弹.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"<" + b" " * (120 * 1024 * 1024))
    assert main(["extract", str(bomb), "--out", str(tmp_path / "d.xlsx")]) == EXIT_FAILED
    assert "解压后有" in capsys.readouterr().err
