"""``minsheng circular --check-template`` on templates as an office has them after editing in Word:
every finding names its paragraph (number and first words), and a template that renders is never
called broken, however Word split its tags into runs."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
from conftest import fill
from docx import Document
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Pt, RGBColor
from docx.text.run import Run
from minsheng.circular import chart, check
from minsheng.circular import document as circular
from minsheng.circular.context import KNOWN, build_context
from minsheng.cli import main
from minsheng.pipeline import make_circular, make_templates, run_consolidation

PLACED = re.compile(r"(?:正文|页眉|页脚|脚注)第 \d+ 段")


def check_template(config, capsys) -> tuple[int, list[str]]:
    """The command as the clerk runs it: its exit code and its findings, one a line."""
    code = main(["circular", "--check-template", "--config", str(config.path)])
    out = capsys.readouterr().out
    findings = [line.removeprefix("  [错误] ") for line in out.splitlines() if line.startswith("  [错误] ")]
    assert out.startswith(f"通报模板：{own_template(config)}")
    assert ("未发现问题" in out) == (not findings) and (f"共 {len(findings)} 处问题" in out) == bool(findings)
    for finding in findings:  # every finding says where it is
        assert PLACED.search(finding), finding
    return code, findings


def own_template(config) -> Path:
    return config.root / "templates" / "通报模板.docx"


def edit(config, change) -> None:
    """Open the office's template, change it as Word would have it saved, save it."""
    own = own_template(config)
    doc = Document(str(own))
    change(doc)
    doc.save(str(own))


def paragraph(doc, text: str):
    return next(p for p in doc.paragraphs if p.text == text)


def number(doc, wanted) -> int:
    """Its number as the clerk counts paragraphs in Word (body and table cells, in order)."""
    body = doc.element.body
    count = 0
    for element in body.iter(qn("w:p")):
        count += 1
        if element is wanted._p:
            return count
    raise AssertionError("not in the body")


def split(paragraph, whole: str, pieces: list[str]) -> None:
    """The run ``whole`` cut into ``pieces``, each formatted differently, with the spell-check marks
    Word puts between them: how a tag looks after the office reformatted part of it."""
    run = next(r for r in paragraph.runs if r.text == whole)
    run.text = pieces[0]
    formats = [lambda r: setattr(r, "bold", True), lambda r: setattr(r, "italic", True),
               lambda r: setattr(r.font.color, "rgb", RGBColor(0xC0, 0, 0)), lambda r: setattr(r.font, "size", Pt(15))]
    previous = run
    for piece, style in zip(pieces[1:], formats):
        mark = OxmlElement("w:proofErr")
        mark.set(qn("w:type"), "spellStart")
        previous._r.addnext(mark)
        element = copy.deepcopy(run._r)
        mark.addnext(element)
        previous = Run(element, paragraph)
        previous.text = piece
        style(previous)


@pytest.fixture
def consolidated(workfolder, config, monkeypatch):
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    sent = {p.name.split("_")[1]: p for p in make_templates(config).paths}
    fill(sent["市教育局"], config.inbox() / "edu.xlsx", {"7-1": 1, "7-2": 100, "8-1": "前期准备"})  # lagging
    return run_consolidation(config).result.period_result


def rendered_text(config, result) -> str:
    doc = Document(str(make_circular(config, result=result).path))
    cells = [p.text for t in doc.tables for row in t.rows for cell in row.cells for p in cell.paragraphs]
    return "\n".join([p.text for p in doc.paragraphs] + cells)


def test_the_bundled_template_passes(config, capsys):
    assert own_template(config).read_bytes() == circular.bundled_template().read_bytes()
    assert check_template(config, capsys) == (0, [])
    assert check.check_template(circular.bundled_template()) == []


def test_an_if_without_its_endif_is_named_where_the_if_stands(config, capsys):
    def drop_endif(doc):
        ranking = paragraph(doc, "{{ ranking }}")
        end = ranking._p.getnext()
        assert end.xpath("string(.)") == "{%p endif %}"
        end.getparent().remove(end)
        drop_endif.number = number(doc, paragraph(doc, "{%p if internal %}"))
    edit(config, drop_endif)
    code, findings = check_template(config, capsys)
    assert code == 1 and len(findings) == 1
    assert findings[0].startswith(f"正文第 {drop_endif.number} 段（“{{%p if internal %}}”）：")
    assert "没有对应的“{%p endif %}”" in findings[0] and "补上" in findings[0]


def test_an_endif_whose_if_was_deleted_is_named(config, capsys):
    def drop_if(doc):
        opening = paragraph(doc, "{%p if internal %}")
        drop_if.number = number(doc, opening)  # the endif moves up into its place… two paragraphs on
        opening._p.getparent().remove(opening._p)
    edit(config, drop_if)
    code, findings = check_template(config, capsys)
    assert code == 1 and len(findings) == 1
    assert findings[0].startswith(f"正文第 {drop_if.number + 2} 段（“{{%p endif %}}”）：")
    assert "前面没有与之配对的“{%p if … %}”" in findings[0]


def test_an_unknown_variable_is_named_with_its_paragraph_and_the_closest_name(config, capsys):
    def typo(doc):
        overview = next(p for p in doc.paragraphs if "{{ overview }}" in p.text)
        next(r for r in overview.runs if r.text == "{{ overview }}").text = "{{ overviw }}"
        typo.number = number(doc, overview)
    edit(config, typo)
    code, findings = check_template(config, capsys)
    assert code == 1 and len(findings) == 1
    assert findings[0].startswith(f"正文第 {typo.number} 段（“截至{{{{ period_end }}}}…”）：")
    assert "“{{ overviw }}”" in findings[0] and "未知的变量“overviw”" in findings[0]
    assert "是不是“overview”" in findings[0]


def test_tags_word_split_into_runs_render_and_pass(config, capsys, consolidated):
    before = rendered_text(config, consolidated)

    def reformat(doc):
        overview = next(p for p in doc.paragraphs if "{{ overview }}" in p.text)
        split(overview, "{{ overview }}", ["{{ over", "vi", "ew }}"])  # three runs, three formats
        split(overview, "{{ period_end }}", ["{", "{ period", "_end }", "}"])  # even the braces apart
        split(paragraph(doc, "{%p if internal %}"), "{%p if internal %}", ["{%p if inter", "nal %}"])
        cell = doc.tables[0].rows[3].cells[2].paragraphs[0]
        split(cell, "{{ row.name }}", ["{{ row.", "name }}"])
        assert "{{ over" in doc.element.body.xml and "{{ overview }}" not in doc.element.body.xml
    edit(config, reformat)
    assert check_template(config, capsys) == (0, [])
    after = rendered_text(config, consolidated)
    assert after == before and "{{" not in after and "{%" not in after


def test_a_template_that_renders_is_never_called_broken(config, capsys, consolidated):
    """What an office writes and docxtpl renders: Word's curly quotes in a tag, a set, a macro, a
    condition on a count, a comment beside a {%p %} tag, a tag Word split across runs."""
    def write(doc):
        anchor = paragraph(doc, "{%p if internal %}")
        for text in ["{% set unit_word = ‘个单位’ %}{% macro pct(x) %}{{ x }}{% endmacro %}",
                     "共{{ lagging_units|length }}{{ unit_word }}滞后；时序进度{{ pct(schedule) }}。",
                     "{%p if lagging_count|int >= 0 %}{# 总是写 #}",
                     "{{ title|replace(“民生”, “民生·”) }}",
                     "{%p endif %}"]:
            anchor.insert_paragraph_before(text)
        split(paragraph(doc, "{{ title|replace(“民生”, “民生·”) }}"), "{{ title|replace(“民生”, “民生·”) }}",
              ["{{ title|rep", "lace(“民生”, “民", "生·”) }}"])
    edit(config, write)
    assert check_template(config, capsys) == (0, [])
    assert "民生·工程项目进展情况" in rendered_text(config, consolidated)


def test_a_for_left_open_in_a_table_cell_is_named_in_its_cell(config, capsys):
    def open_loop(doc):
        cell = doc.tables[0].rows[0].cells[1].paragraphs[0]
        cell.add_run("{% for page in annex %}")
        open_loop.number = number(doc, cell)
    edit(config, open_loop)
    code, findings = check_template(config, capsys)
    assert code == 1 and len(findings) == 1
    assert findings[0].startswith(f"正文第 {open_loop.number} 段（第 1 个表格第 1 行第 2 格，“实施单位{{% for page in annex %}}”）：")
    assert "没有对应的“{% endfor %}”" in findings[0]


@pytest.mark.parametrize("tag, said", [
    ("{{ ''.__class__ }}", "以“_”开头的名称“__class__”"),
    ("{{ title['\\x5f\\x5fclass\\x5f\\x5f'] }}", "以“_”开头的名称“__class__”"),
    ("{% include 'C:/Windows/win.ini' %}", "不能使用“include”"),
])
def test_a_forbidden_construct_is_refused_with_its_place(config, capsys, tag, said):
    def insert(doc):
        doc.paragraphs[2].insert_paragraph_before(f"附：{tag}")
    edit(config, insert)
    code, findings = check_template(config, capsys)
    assert code == 1 and len(findings) == 1
    assert f"“{tag}”（正文第 3 段“附：" in findings[0] and said in findings[0]


def test_text_beside_a_row_tag_is_said_lost_with_its_row(config, capsys):
    def beside(doc):
        doc.tables[0].rows[1].cells[2].paragraphs[0].add_run("（各单位按序号排列）")
        beside.number = number(doc, doc.tables[0].rows[1].cells[0].paragraphs[0])
    edit(config, beside)
    code, findings = check_template(config, capsys)
    assert code == 1 and len(findings) == 1
    assert findings[0].startswith(f"正文第 {beside.number} 段（第 1 个表格第 2 行第 1 格，")
    assert "文字“（各单位按序号排列）”在生成的通报中丢失了" in findings[0] and "同在一行" in findings[0]


def test_several_problems_each_on_its_own_line(config, capsys):
    def spoil(doc):
        doc.add_paragraph("{{ 发文字号 }}")
        doc.add_paragraph("请各单位注意 {%p if funds %}")
        doc.add_paragraph("{%p endif %}")
        doc.sections[0].header.add_paragraph("{{ issuer }}{{ 1 / 0 }}")
    edit(config, spoil)
    code, findings = check_template(config, capsys)
    assert code == 1 and len(findings) == 3
    assert any("“请各单位注意”在生成的通报中丢失了" in f for f in findings)
    assert any("未知的变量“发文字号”" in f and "可用的变量" in f for f in findings)
    assert any("“{{ 1 / 0 }}”（页眉第 " in f and "除数为 0" in f for f in findings)


def test_a_header_tag_left_open_is_placed_in_the_header(config, capsys):
    edit(config, lambda doc: doc.sections[0].header.add_paragraph("{% if internal %}内部资料"))
    code, findings = check_template(config, capsys)
    assert code == 1 and len(findings) == 1 and findings[0].startswith("页眉第 ")
    assert "“{% if internal %}”没有对应的“{% endif %}”" in findings[0]


def test_a_tag_in_a_text_box_is_named_once_by_the_paragraph_holding_the_box(config, capsys):
    """Word writes a text box twice (a drawing and, for old Word, a VML shape): one box to the clerk."""
    ns = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
          'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
          'xmlns:v="urn:schemas-microsoft-com:vml" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"')
    box = "<w:txbxContent><w:p><w:r><w:t>{% if internal %}内部资料</w:t></w:r></w:p></w:txbxContent>"

    def add_box(doc):
        from docx.oxml import parse_xml

        holder = doc.paragraphs[2]
        holder._p.append(parse_xml(
            f'<w:r {ns}><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx>{box}</wps:txbx>'
            f"</w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>{box}</v:textbox></v:shape></w:pict>"
            f"</mc:Fallback></mc:AlternateContent></w:r>"))
        assert holder.text == "总体进展情况"  # what Word shows of the paragraph itself
    edit(config, add_box)
    code, findings = check_template(config, capsys)
    assert code == 1 and len(findings) == 1
    assert findings[0].startswith("正文第 3 段中的文本框第 1 段（“{% if internal %}…”）：")


def _shape(value):
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def _same_shape(sample, real, name: str) -> None:
    if isinstance(real, dict):
        assert set(sample) == set(real), name
        for key in real:
            _same_shape(sample[key], real[key], f"{name}.{key}")
    elif isinstance(real, list):
        assert isinstance(sample, list) and sample, name  # every list has items: every loop runs
        if real:
            _same_shape(sample[0], real[0], f"{name}[0]")
    else:
        assert type(sample) is type(real), name


def test_the_sample_context_has_the_real_contexts_shape(config, consolidated):
    """The check renders a sample context: its names, keys and types are those of a real one, so a
    tag that fails on it fails on the real one (and none that works is called broken)."""
    real = build_context(consolidated, config)
    real.pop("notes")
    sample = check.sample_context()
    assert set(sample) == set(real) == KNOWN
    assert real["annex"] and real["categories"] and real["lagging_units"]  # the real one has these sections too
    _same_shape(sample, real, "context")
