"""The circular rendered from consolidated data and read back with python-docx."""

import dataclasses
import io
import re
import shutil
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import fill
from docx import Document
from docx.oxml.ns import qn
from minsheng.circular import chart, check, context
from minsheng.circular import document as circular
from minsheng.circular import template as docx_template
from minsheng.errors import TemplateError
from minsheng.numbers import chinese_date, chinese_number, format_amount
from minsheng.pipeline import make_circular, make_templates, run_consolidation

ROOT = Path(__file__).resolve().parents[1]
VERBATIM = "投资<5亿元 & R&D,“三保”到位"


@pytest.fixture
def consolidated(workfolder, config):
    sent = {p.name.split("_")[1]: p for p in make_templates(config).paths}
    inbox = config.inbox()

    def words(book):
        book["填报"]["L4"] = VERBATIM
    fill(sent["市教育局"], inbox / "edu.xlsx", {"7-1": 6, "7-2": 500, "8-1": "开工实施"}, edit=words)
    fill(sent["市医保局"], inbox / "yb.xlsx", {"17-1": 96.4, "22-2": 0.2})
    return run_consolidation(config).result


def cell_text(tc) -> str:
    """A cell's own text (python-docx reports a merged-down cell's text for the whole merge)."""
    return "".join(t.text or "" for t in tc.iter(qn("w:t")))


def text_of(doc) -> str:
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts += [cell.text for cell in row.cells]
    return "\n".join(parts)


def annex_rows(doc):
    """The annex's data rows, page by page: (序号 cell, 实施单位 cell, 项目名称, 进展情况)."""
    return [[(cell_text(r._tr.tc_lst[0]), cell_text(r._tr.tc_lst[1]), r.cells[2].text, r.cells[4].text)
             for r in table.rows[1:]] for table in doc.tables]


def test_rendered_circular_reads_back(consolidated, config, monkeypatch):
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)  # chart tested separately
    config = dataclasses.replace(config, issuer="马鞍山市民生工作领导小组办公室")
    rendered = make_circular(config, result=consolidated.period_result)
    assert rendered.path == config.output() / "通报_2020-06.docx"
    assert not any("issuer" in note for note in rendered.notes)
    doc = Document(str(rendered.path))
    text = text_of(doc)

    title = doc.paragraphs[0]
    assert title.text == "2020年1-6月份民生工程项目进展情况" and title.style.name == "公文标题"
    assert doc.paragraphs[1].text.startswith("马鞍山市民生工作领导小组办公室对2020年1-6月全市民生工程项目")
    assert doc.paragraphs[1].text.endswith("通报如下：")
    assert "{{" not in text and "{%" not in text
    prog = consolidated.programme
    assert f"全市{prog.tasks}项民生工程任务中" in text
    assert "截至汇总时，市民政局尚未报送进展情况，请尽快补报。" in text

    (page,) = annex_rows(doc)  # five rows: one page
    table = doc.tables[0]
    assert [c.text for c in table.rows[0].cells] == ["序号", "实施单位", "项目名称", "年度目标任务", "进展情况"]
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    assert [(unit, name) for _, unit, name, _ in page] == [
        ("市教育局", "推进学前教育促进工程"), ("", "加强义务教育经费保障"), ("市医保局", "实施城乡居民基本医疗保险制度"),
        ("", "实施困难人员救助暨困难职工帮扶"), ("市民政局", "实施困难人员救助暨困难职工帮扶")]
    body = table.rows[1:]
    merges = [[tc.tcPr.find(qn("w:vMerge")).get(qn("w:val")) for tc in r._tr.tc_lst[:2]] for r in body]
    assert merges == [["restart"] * 2, ["continue"] * 2, ["restart"] * 2, ["continue"] * 2, ["restart"] * 2]
    grid = [int(c.get(qn("w:w"))) for c in table._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert sum(grid) == pytest.approx(225 * 56.69, rel=0.01)  # the landscape text width
    # 7-1: 6 of 12 = 50.0%; 7-2: 500/988 = 50.6%: the department wrote neither, so both are computed.
    progress = page[0][3]
    assert progress.startswith(VERBATIM) and "新建改扩建公办幼儿园6所，完成任务50.0%" in progress
    assert "资助幼儿500人次，完成任务50.6%" in progress
    assert page[4][3] == "未报送。"


def test_layout_follows_gb_t_9704(consolidated, config, monkeypatch):
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    doc = Document(str(make_circular(config, result=consolidated.period_result).path))
    first, annex = doc.sections
    mm = [round(x.mm, 1) for x in (first.page_width, first.page_height, first.top_margin,
                                   first.bottom_margin, first.left_margin, first.right_margin)]
    assert mm == [210, 297, 37, 35, 28, 26]  # A4; 版心 156 × 225 mm
    assert annex.page_width > annex.page_height  # landscape 附件
    assert first._sectPr.find(qn("w:docGrid")) is None
    body = doc.styles["正文"]
    assert body.font.size.pt == 16 and body.paragraph_format.line_spacing.pt == pytest.approx(28.95)
    assert body.element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    assert doc.styles["公文标题"].element.rPr.rFonts.get(qn("w:eastAsia")) == "方正小标宋简体"
    assert doc.styles["公文标题"].font.size.pt == 22
    for name in ("一级标题", "二级标题", "表头", "表格文字", "页码", "落款", "成文日期"):
        assert doc.styles[name].element.rPr.rFonts.get(qn("w:eastAsia")), name
    assert doc.settings.odd_and_even_pages_header_footer
    odd, even = first.footer.paragraphs[0], first.even_page_footer.paragraphs[0]
    assert odd.text.startswith("— ") and odd.text.endswith(" —") and "PAGE" in odd._p.xml
    assert (odd.alignment, even.alignment) == (2, 0)  # right on odd pages, left on even pages
    with zipfile.ZipFile(config.output() / "通报_2020-06.docx") as z:
        fonts = z.read("word/fontTable.xml").decode("utf-8")
    assert 'w:name="仿宋_GB2312"' in fonts and 'w:val="仿宋"' in fonts  # fallback for Word


def test_chart_is_drawn_when_a_chinese_font_exists(consolidated, config):
    if chart.find_cjk_font() is None:
        pytest.skip("no CJK font installed")
    rendered = make_circular(config, result=consolidated.period_result)
    assert not any("字体" in note for note in rendered.notes)
    doc = Document(str(rendered.path))
    assert len(doc.inline_shapes) == 1


def test_a_font_installed_after_matplotlib_cached_its_list_is_found(monkeypatch):
    from matplotlib import font_manager

    if not any("CJK" in font_manager.get_font(path).family_name or "AR PL" in font_manager.get_font(path).family_name
               for path in font_manager.findSystemFonts()):
        pytest.skip("no CJK font file on this machine")
    monkeypatch.setattr(font_manager.fontManager, "ttflist", [])  # the stale cache: no Chinese font in it
    found = chart.find_cjk_font()
    assert found and Path(found).is_file()


def test_an_old_template_is_named_in_a_note(consolidated, config, workfolder, monkeypatch):
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    own = workfolder / "templates" / "通报模板.docx"
    doc = Document(str(own))
    doc.add_paragraph("{{ tasks_complete }}项已完成")  # a variable an earlier version had
    doc.save(str(own))
    rendered = make_circular(config, result=consolidated.period_result)
    assert any("tasks_complete" in note and "旧版模板" in note for note in rendered.notes)


def _damaged(own: Path, how: str) -> None:
    good = circular.bundled_template().read_bytes()
    if how == "not a docx":
        own.write_bytes(b"\xd0\xcf\x11\xe0 an old .doc renamed to .docx")
        return
    with zipfile.ZipFile(io.BytesIO(good)) as src, zipfile.ZipFile(own, "w") as out:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "word/document.xml":
                data = data[: len(data) // 2] if how == "cut" else data.replace(b"{{ title }}", b"{{ title }")
            out.writestr(item, data)


@pytest.mark.parametrize("how", ["not a docx", "cut", "bad tag"])
def test_a_damaged_template_is_said_plainly_and_nothing_is_written(consolidated, config, workfolder, how):
    own = workfolder / "templates" / "通报模板.docx"
    _damaged(own, how)
    before = own.read_bytes()
    with pytest.raises(TemplateError) as info:
        make_circular(config, result=consolidated.period_result)
    assert str(own) in str(info.value)
    assert ("标签写法有误" if how == "bad tag" else "不是有效的 Word .docx 文件") in str(info.value)
    assert own.read_bytes() == before
    assert not list(config.output().glob("通报*"))
    if how == "bad tag":  # the lint lists it next to the split tag it also is
        assert any("标签写法有误" in p for p in check.check_template(own))
    else:
        with pytest.raises(TemplateError):
            check.check_template(own)


def test_no_chinese_font_means_a_note_and_no_chart(consolidated, config, monkeypatch):
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    rendered = make_circular(config, result=consolidated.period_result)
    assert any("中文字体" in note for note in rendered.notes)
    assert len(Document(str(rendered.path)).inline_shapes) == 0


def test_without_libreoffice_pdf_is_a_note(consolidated, config, monkeypatch):
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    monkeypatch.setattr(shutil, "which", lambda name: None)
    rendered = make_circular(config, pdf=True, result=consolidated.period_result)
    assert rendered.pdf is None and any("LibreOffice" in note for note in rendered.notes)


def test_computed_sentences_can_be_switched_off(consolidated, config, monkeypatch):
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    from dataclasses import replace

    doc = Document(str(make_circular(replace(config, computed_sentences=False), result=consolidated.period_result).path))
    progress = annex_rows(doc)[0][0][3]
    assert progress.startswith(VERBATIM) and "完成任务" not in progress


def test_the_offices_own_template_is_used(consolidated, config, workfolder, monkeypatch):
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    own = workfolder / "templates" / "通报模板.docx"
    doc = Document(str(own))
    doc.paragraphs[1].runs[0].text = "本办自行修改的开头。"
    doc.save(str(own))
    rendered = make_circular(config, result=consolidated.period_result)
    assert rendered.template == own
    assert "本办自行修改的开头。" in Document(str(rendered.path)).paragraphs[1].text


def test_bundled_and_repository_templates_are_identical_and_clean():
    assert circular.bundled_template().read_bytes() == (ROOT / "templates" / "通报模板.docx").read_bytes()
    assert check.check_template(circular.bundled_template()) == []


def test_template_lint_finds_split_tags_unknown_variables_and_lost_text(tmp_path):
    path = tmp_path / "坏模板.docx"
    shutil.copy(circular.bundled_template(), path)
    doc = Document(str(path))
    split = doc.add_paragraph()
    split.add_run("{{ iss")
    split.add_run("uer }}").bold = True
    doc.add_paragraph("{{ 发文字号 }}")
    lost = doc.add_paragraph("请各单位注意 {%p if funds %}")
    doc.add_paragraph("{%p endif %}")
    doc.save(str(path))
    problems = check.check_template(path)
    joined = "\n".join(problems)
    assert "{{ issuer }}" not in joined  # docxtpl joins a tag Word split into runs: it renders, nothing to say
    assert "未知的变量“发文字号”" in joined
    assert "“请各单位注意”在生成的通报中丢失了" in joined
    assert lost.text


@pytest.mark.parametrize("value, unit, shown", [
    ("13700", "人", "1.37万人"), ("370500", "万元", "37.05亿元"), ("12", "所", "12所"),
    ("96.4", "%", "96.4%"), ("344.166", "公里", "344.166公里"), ("9999", "人", "9999人"),
    ("2500", "万元", "2500万元"),
])
def test_amounts_are_written_the_way_circulars_write_them(value, unit, shown):
    assert format_amount(Decimal(value), unit) == shown


def test_ordinals_and_dates():
    import datetime as dt

    assert [chinese_number(n) for n in (1, 9, 10, 11, 20, 23)] == ["一", "九", "十", "十一", "二十", "二十三"]
    assert chinese_date(dt.date(2020, 7, 10)) == "2020年7月10日"


def test_the_readme_lists_exactly_the_templates_variables():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("可用的数据"):readme.index("版式按 GB/T 9704")]
    named = set(re.findall(r"^\| `([a-z_]+)`|、`([a-z_]+)`| `([a-z_]+)`", section, re.M))
    named = {n for group in named for n in group if n}
    assert context.KNOWN <= named


def test_the_chart_font_is_the_regular_face_whatever_order_the_font_cache_lists():
    from matplotlib import font_manager
    from minsheng.circular.chart import find_cjk_font

    path = find_cjk_font()
    if path is None:
        pytest.skip("no Chinese font installed")
    family = font_manager.get_font(path).family_name
    faces = [f for f in font_manager.fontManager.ttflist if f.name == family]
    if any(f.weight in (400, "normal", "regular") for f in faces):
        assert font_manager.get_font(path).style_name in ("Regular", "Book", "Normal")
    font_manager.fontManager.ttflist.reverse()  # another cache order: the same face
    try:
        assert find_cjk_font() == path
    finally:
        font_manager.fontManager.ttflist.reverse()


def test_docxtpls_table_repair_is_skipped_only_where_it_changes_nothing(consolidated, config, monkeypatch,
                                                                         tmp_path):
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    skipped = make_circular(config, result=consolidated.period_result).path.read_bytes()
    monkeypatch.setattr(docx_template, "_CELL_TAGS", re.compile(""))  # every template "has" cell tags
    repaired = make_circular(config, result=consolidated.period_result).path.read_bytes()

    def body(data):
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            return package.read("word/document.xml")
    assert body(skipped) == body(repaired)

    monkeypatch.undo()
    looped = Document()
    table = looped.add_table(rows=1, cols=1)
    table.cell(0, 0).text = "{%tc for c in cols %}{{ c }}{%tc endfor %}"
    split = table.add_row().cells[0].paragraphs[0]  # Word often splits a tag into runs
    for part in ("{%", "tc for c in cols %}{{ c }}{%", "tc endfor %}"):
        split.add_run(part)
    looped.save(str(tmp_path / "列循环.docx"))
    assert docx_template.Template.load(tmp_path / "列循环.docx").cell_tags
    first_row = looped.tables[0]._tbl.tr_lst[0]
    first_row.getparent().remove(first_row)  # only the split tag left
    assert "{%tc" not in looped.tables[0]._tbl.xml
    looped.save(str(tmp_path / "拆开的标签.docx"))
    assert docx_template.Template.load(tmp_path / "拆开的标签.docx").cell_tags
    assert not circular.open_template(circular.template_path(config)).cell_tags


@pytest.fixture
def year_end(workfolder):
    """The small register consolidated at 2020-12: 7-2 one short of its target, 8-1 (完成时限
    2020-10-31) short of its last stage, 7-1 and the rate and cap met; 市民政局 silent."""
    from minsheng.config import load_config

    config = load_config(workfolder / "config.ini", period="2020-12")
    sent = {p.name.split("_")[1]: p for p in make_templates(config).paths}
    inbox = config.inbox()
    fill(sent["市教育局"], inbox / "edu.xlsx", {"7-1": 12, "7-2": 987, "8-1": "基本完成"})
    fill(sent["市医保局"], inbox / "yb.xlsx", {"17-1": 96.4, "22-2": 0.2})
    return config, run_consolidation(config).result


def test_short_at_the_year_end_is_unfinished_in_the_summary_and_the_circular(year_end, monkeypatch):
    import openpyxl
    from minsheng.model import Status

    config, result = year_end
    book = openpyxl.load_workbook(config.output() / "汇总_2020-12.xlsx")
    rows = list(book["指标明细"].iter_rows(values_only=True))
    column = rows[0].index("状态")
    status = {row[rows[0].index("指标编号")]: row[column] for row in rows[1:]}
    assert status == {"7-1": "已完成", "7-2": "未完成", "8-1": "未完成", "17-1": "达标", "22-1": "未报送",
                      "22-2": "达标"}
    # Red, like 严重滞后: a conditional format on the status column.
    red = book["指标明细"].conditional_formatting
    rules = [rule for cf in red for rule in cf.rules if rule.formula == ['"未完成"']]
    assert rules and rules[0].dxf.fill.bgColor.rgb == next(
        rule for cf in red for rule in cf.rules if rule.formula == ['"严重滞后"']).dxf.fill.bgColor.rgb
    lagging = list(book["滞后任务"].iter_rows(values_only=True))
    assert [(row[3], row[10]) for row in lagging[1:]] == [("8-1", "未完成"), ("7-2", "未完成")]  # the largest gap first
    ranking = list(book["单位排名"].iter_rows(values_only=True))
    education = next(row for row in ranking[1:] if row[1] == "市教育局")
    assert education[ranking[0].index("未完成")] == 2 and education[ranking[0].index("已完成")] == 1
    overview = [row for row in book["总览"].iter_rows(values_only=True)]
    assert ("未完成", 2) in [row[:2] for row in overview]
    assert ("已完成全年目标（项）", 1) in [row[:2] for row in overview]

    prog = result.programme
    assert (prog.tasks, prog.tasks_complete, prog.tasks_on_schedule, prog.tasks_lagging) == (4, 1, 0, 2)
    assert prog.counts[Status.UNFINISHED] == 2

    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    text = text_of(Document(str(make_circular(config, result=result.period_result).path)))
    assert ("全市4项民生工程任务中，已有1项完成全年任务目标，其余3项中2项到期未完成、"
            "1项因未报送、未填或数据有误暂无法判断。6个考核指标中已完成或达标3个。") in text
    assert ("市教育局：加强义务教育经费保障处于“基本完成”阶段，到期未完成；"
            "资助幼儿完成率99.9%，尚差1人次，到期未完成。") in text
    assert "序时推进" not in text
    assert "（一）办好人民满意教育。3个指标中，已完成或达标1个、到期未完成2个；" in text
    assert "没有滞后、未达标或待核实指标的是市医保局（100.0%）；" in text  # never a unit with something unfinished
