"""Build the default Word template of the progress circular (通报模板.docx) with python-docx.

    python scripts/build_circular_template.py

Writes ``templates/通报模板.docx`` (the copy an office edits in Word) and the identical copy the
package installs (``addin/minsheng/data/通报模板.docx``). Layout follows GB/T 9704-2012: A4, margins
37/35/28/26 mm (版心 156 × 225 mm), title 方正小标宋简体 二号, body 仿宋_GB2312 三号 with an exact line
pitch of 28.95 pt and no character grid, headings 黑体 / 楷体_GB2312, page numbers “— 1 —” in 四号
宋体, odd pages right and even pages left. All formatting lives in named styles; every Jinja
placeholder sits in a run of its own and every loop tag in a paragraph or table row of its own, so
the office can reword anything in Word without breaking a tag.
"""

from __future__ import annotations

import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "addin"))
from minsheng.circular.annex import CELL_MARGIN_MM, COLUMNS_MM  # noqa: E402
from minsheng.circular.annex import FONT_PT as TABLE_FONT_PT  # noqa: E402
from minsheng.circular.annex import LINE_PT as TABLE_LINE_PT  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = [ROOT / "templates" / "通报模板.docx", ROOT / "addin" / "minsheng" / "data" / "通报模板.docx"]

BODY_PT = 16  # 三号
LINE_PT = 28.95  # 22 lines on a 225 mm 版心
# Official font → what Word uses when it is not installed (written into the font table).
FALLBACKS = {"仿宋_GB2312": "仿宋", "楷体_GB2312": "楷体", "方正小标宋简体": "宋体", "黑体": "SimHei",
             "宋体": "SimSun"}
# The annex table's columns (225 mm of text width), font and line pitch: those the pages are planned
# with (minsheng.circular.annex).
TABLE_COLUMNS = tuple(zip(("序号", "实施单位", "项目名称", "年度目标任务", "进展情况"), COLUMNS_MM.values()))


def set_fonts(style, east_asian: str, size: float, bold: bool = False) -> None:
    style.font.name = "Times New Roman"
    style.font.size = Pt(size)
    style.font.bold = bold
    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:ascii"), "Times New Roman")
    fonts.set(qn("w:hAnsi"), "Times New Roman")


def paragraph_style(doc, name: str, east_asian: str, size: float, *, bold=False, align=None,
                    indent_chars: int = 0, line: float | None = LINE_PT, before: float = 0, after: float = 0,
                    keep_next: bool = False):
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    style.quick_style = True
    set_fonts(style, east_asian, size, bold)
    fmt = style.paragraph_format
    if align is not None:
        fmt.alignment = align
    if line is not None:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(line)
    fmt.space_before, fmt.space_after = Pt(before), Pt(after)
    fmt.keep_with_next = keep_next
    fmt.widow_control = True
    if indent_chars:
        fmt.first_line_indent = Pt(size * indent_chars)
        ind = style.element.get_or_add_pPr().find(qn("w:ind"))
        ind.set(qn("w:firstLineChars"), str(indent_chars * 100))  # two characters, whatever the font
    return style


def make_styles(doc) -> None:
    normal = doc.styles["Normal"]
    set_fonts(normal, "仿宋_GB2312", BODY_PT)
    paragraph_style(doc, "公文标题", "方正小标宋简体", 22, align=WD_ALIGN_PARAGRAPH.CENTER, line=35,
                    after=LINE_PT, keep_next=True)
    paragraph_style(doc, "正文", "仿宋_GB2312", BODY_PT, align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent_chars=2)
    paragraph_style(doc, "一级标题", "黑体", BODY_PT, indent_chars=2, keep_next=True)
    paragraph_style(doc, "二级标题", "楷体_GB2312", BODY_PT, indent_chars=2, keep_next=True)
    paragraph_style(doc, "表头", "黑体", TABLE_FONT_PT, align=WD_ALIGN_PARAGRAPH.CENTER, line=16)  # 五号
    # The pitch the annex's pages are measured in.
    paragraph_style(doc, "表格文字", "仿宋_GB2312", TABLE_FONT_PT, line=TABLE_LINE_PT)
    paragraph_style(doc, "页码", "宋体", 14, line=None)
    # GB/T 9704: the date 右空四字; the issuer centred over it (its indent is set when rendering).
    paragraph_style(doc, "落款", "仿宋_GB2312", BODY_PT, align=WD_ALIGN_PARAGRAPH.RIGHT)
    date = paragraph_style(doc, "成文日期", "仿宋_GB2312", BODY_PT, align=WD_ALIGN_PARAGRAPH.RIGHT)
    date.paragraph_format.right_indent = Pt(BODY_PT * 4)
    date.element.get_or_add_pPr().get_or_add_ind().set(qn("w:rightChars"), "400")
    paragraph_style(doc, "附件标记", "黑体", BODY_PT)
    spacer = paragraph_style(doc, "分页", "仿宋_GB2312", 1, line=1)  # carries the annex's page breaks
    spacer.paragraph_format.page_break_before = True
    for name, east_asian in (("小标题字", "楷体_GB2312"), ("单位名字", "黑体")):
        style = doc.styles.add_style(name, WD_STYLE_TYPE.CHARACTER)
        style.quick_style = True
        fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
        fonts.set(qn("w:eastAsia"), east_asian)
    numbered_headings(doc)


def add(doc, style: str, *segments):
    """A paragraph whose text and placeholders each get a run of their own; a segment given as
    ``(text, character_style)`` gets that style."""
    paragraph = doc.add_paragraph(style=style)
    for segment in segments:
        text, character = segment if isinstance(segment, tuple) else (segment, None)
        paragraph.add_run(text, style=character)
    return paragraph


def numbered_headings(doc) -> None:
    """一、二、三… for 一级标题 by Word's own numbering, so that a section the data leaves out (no
    categories, nothing lagging) takes no number and the office may add or delete sections."""
    numbering = doc.part.numbering_part.element
    abstract = OxmlElement("w:abstractNum")
    abstract.set(qn("w:abstractNumId"), "90")
    level = OxmlElement("w:lvl")
    level.set(qn("w:ilvl"), "0")
    for tag, value in (("w:start", "1"), ("w:numFmt", "chineseCounting"), ("w:suff", "nothing"),
                       ("w:lvlText", "%1、"), ("w:lvlJc", "left")):
        child = OxmlElement(tag)
        child.set(qn("w:val"), value)
        level.append(child)
    abstract.append(level)
    numbering.insert(0, abstract)  # abstract numbering definitions come before the w:num elements
    num = OxmlElement("w:num")
    num.set(qn("w:numId"), "90")
    ref = OxmlElement("w:abstractNumId")
    ref.set(qn("w:val"), "90")
    num.append(ref)
    numbering.append(num)
    num_pr = doc.styles["一级标题"].element.get_or_add_pPr().get_or_add_numPr()  # in its schema place
    num_pr.get_or_add_numId().val = 90


def no_grid(section) -> None:
    """No Word character grid: LibreOffice and WPS lay a document with one out differently."""
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is not None:
        section._sectPr.remove(grid)


def page_number_footer(section) -> None:
    """“— 1 —” in 四号宋体: right on odd pages, left on even pages."""
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                          (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        footer.is_linked_to_previous = False
        paragraph = footer.paragraphs[0]
        paragraph.style = "页码"
        paragraph.alignment = align
        paragraph.add_run("— ")
        run = paragraph.add_run()
        for kind, text in (("begin", None), (None, "PAGE"), ("separate", None), (None, "1"), ("end", None)):
            if kind:
                field = OxmlElement("w:fldChar")
                field.set(qn("w:fldCharType"), kind)
                run._r.append(field)
            elif text == "PAGE":
                code = OxmlElement("w:instrText")
                code.set(qn("xml:space"), "preserve")
                code.text = " PAGE "
                run._r.append(code)
            else:
                value = OxmlElement("w:t")
                value.text = text
                run._r.append(value)
        paragraph.add_run(" —")


def set_margins(section, top, bottom, left, right) -> None:
    section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
    section.left_margin, section.right_margin = Mm(left), Mm(right)
    section.header_distance, section.footer_distance = Mm(15), Mm(18)


def set_cell(cell, width_mm: float, text: str = "", style: str = "表格文字", align=None) -> None:
    cell.width = Mm(width_mm)  # also creates the cell's tcPr, which docxtpl's {% vm %} needs
    paragraph = cell.paragraphs[0]
    paragraph.style = style
    if align is not None:
        paragraph.alignment = align
    if text:
        paragraph.add_run(text)


def main_table(doc) -> None:
    """One table per annex page: 序号 | 实施单位 | 项目名称 | 年度目标任务 | 进展情况, 序号 and 实施单位
    merged over a unit's rows. The pages are laid out by ``minsheng.circular.annex``."""
    add(doc, "正文", "{%p for page in annex %}")
    add(doc, "正文", "{%p if not loop.first %}")
    add(doc, "分页", "")
    add(doc, "正文", "{%p endif %}")
    widths = [w for _, w in TABLE_COLUMNS]
    table = doc.add_table(rows=6, cols=len(TABLE_COLUMNS))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False  # w:tblLayout fixed, in its place
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        line = OxmlElement(f"w:{edge}")
        line.set(qn("w:val"), "single")
        line.set(qn("w:sz"), "4")
        line.set(qn("w:color"), "000000")
        borders.append(line)
    # Schema order of w:tblPr: … tblInd, tblBorders, shd, tblLayout, tblCellMar, tblLook.
    table._tbl.tblPr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook",
                                           "w:tblCaption", "w:tblDescription", "w:tblPrChange")
    margins = OxmlElement("w:tblCellMar")  # 1 mm a side (Word's default is 1.9 mm): as minsheng.circular.annex measures
    for edge in ("left", "right"):
        margin = OxmlElement(f"w:{edge}")
        margin.set(qn("w:w"), str(round(CELL_MARGIN_MM / 2 * 56.6929)))
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    table._tbl.tblPr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription",
                                           "w:tblPrChange")
    # Column widths on the grid itself, not only on cells, so LibreOffice and WPS keep them.
    for col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths):
        col.set(qn("w:w"), str(int(width * 56.6929)))

    header, outer, inner, data, inner_end, outer_end = table.rows
    for cell, (title, width) in zip(header.cells, TABLE_COLUMNS):
        set_cell(cell, width, title, "表头")
    _row_flag(header, "w:tblHeader")  # repeated should a page overflow after all
    for row, tag in ((outer, "{%tr for unit in page.units %}"), (inner, "{%tr for row in unit.rows %}"),
                     (inner_end, "{%tr endfor %}"), (outer_end, "{%tr endfor %}")):
        for i, cell in enumerate(row.cells):
            set_cell(cell, widths[i], tag if i == 0 else "")
    cells = data.cells
    set_cell(cells[0], widths[0], "{% vm %}{{ unit.serial }}", align=WD_ALIGN_PARAGRAPH.CENTER)
    set_cell(cells[1], widths[1], "{% vm %}{{ unit.unit }}", align=WD_ALIGN_PARAGRAPH.CENTER)
    set_cell(cells[2], widths[2], "{{ row.name }}")
    set_cell(cells[3], widths[3], "{{ row.target }}")
    set_cell(cells[4], widths[4], "{{ row.progress }}")
    _row_flag(data, "w:cantSplit")  # the pages are planned so that a row never needs to break
    add(doc, "正文", "{%p endfor %}")


def _row_flag(row, tag: str) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    flag = OxmlElement(tag)
    tr_pr.append(flag)


def body(doc) -> None:
    add(doc, "公文标题", "{{ title }}")
    add(doc, "正文", "{{ issuer }}", "对", "{{ period_label }}", "全市民生工程项目推进情况进行了调度。现将有关情况通报如下：")
    add(doc, "一级标题", "总体进展情况")
    add(doc, "正文", "截至", "{{ period_end }}", "（时序进度", "{{ schedule }}", "），", "{{ overview }}", "{{ funds }}")

    add(doc, "正文", "{%p if categories %}")
    add(doc, "一级标题", "分类推进情况")
    add(doc, "正文", "{%p for category in categories %}")
    add(doc, "正文", ("（", "小标题字"), ("{{ category.ordinal }}", "小标题字"), ("）", "小标题字"),
        ("{{ category.name }}", "小标题字"), ("。", "小标题字"), "{{ category.summary }}")
    add(doc, "正文", "{%p endfor %}")
    add(doc, "正文", "{%p endif %}")

    add(doc, "正文", "{%p if lagging_units %}")
    add(doc, "一级标题", "进度滞后的任务")
    add(doc, "正文", "对照时序进度（", "{{ schedule }}", "），以下", "{{ lagging_count }}", "个指标进度滞后、尚未启动或未达到年度目标，请有关单位加快推进：")
    add(doc, "正文", "{%p for item in lagging_units %}")
    add(doc, "正文", ("{{ item.unit }}", "单位名字"), ("：", "单位名字"), "{{ item.text }}")
    add(doc, "正文", "{%p endfor %}")
    add(doc, "正文", "{%p endif %}")

    add(doc, "一级标题", "报送情况")
    add(doc, "正文", "{%p if missing_units %}")
    add(doc, "正文", "截至汇总时，", "{{ missing_units }}", "未按时报送进展情况，请尽快补报。")
    add(doc, "正文", "{%p elif missing_count %}")
    add(doc, "正文", "截至汇总时，有", "{{ missing_count }}", "个单位未按时报送进展情况，请尽快补报。")
    add(doc, "正文", "{%p elif not refused_count %}")
    add(doc, "正文", "各牵头单位均已按时报送进展情况。")
    add(doc, "正文", "{%p endif %}")
    add(doc, "正文", "{%p if refused_units %}")
    add(doc, "正文", "{{ refused_units }}", "报送的报表未能汇总（格式或内容不符合要求），请按要求修改后重新报送。")
    add(doc, "正文", "{%p elif refused_count %}")
    add(doc, "正文", "有", "{{ refused_count }}", "个单位报送的报表未能汇总（格式或内容不符合要求），请按要求修改后重新报送。")
    add(doc, "正文", "{%p endif %}")

    add(doc, "正文", "{%p if internal %}")
    add(doc, "一级标题", "各单位完成情况")
    add(doc, "正文", "{{ ranking }}")
    add(doc, "正文", "{%p endif %}")

    add(doc, "一级标题", "下一步工作要求")
    add(doc, "正文", "各牵头单位要对照年度目标任务倒排工期、挂图作战，进度滞后的单位要分析原因、制定措施，"
                   "确保按时完成全年任务。", "{{ deadline }}")
    add(doc, "正文", "")
    add(doc, "正文", "附件：", "{{ period_label }}", "民生工程项目进展情况表")
    add(doc, "正文", "")  # GB/T 9704: a line above the signature
    add(doc, "落款", "{{ issuer }}")
    add(doc, "成文日期", "{{ date }}")


def build() -> Document:
    doc = Document()
    make_styles(doc)
    doc.settings.odd_and_even_pages_header_footer = True
    first = doc.sections[0]
    first.page_width, first.page_height = Mm(210), Mm(297)
    set_margins(first, 37, 35, 28, 26)
    no_grid(first)
    page_number_footer(first)
    body(doc)

    annex = doc.add_section(WD_SECTION.NEW_PAGE)
    annex.orientation = WD_ORIENT.LANDSCAPE
    annex.page_width, annex.page_height = Mm(297), Mm(210)
    set_margins(annex, 28, 26, 37, 35)
    no_grid(annex)
    add(doc, "附件标记", "附件")
    add(doc, "公文标题", "{{ period_label }}", "民生工程项目进展情况表")
    main_table(doc)
    # The completion chart (internal circulars) closes the annex, where a page has room for it.
    add(doc, "正文", "{%p if chart %}")
    add(doc, "二级标题", "各单位指标平均完成率").paragraph_format.first_line_indent = Pt(0)
    chart = add(doc, "正文", "{{ chart }}")
    chart.paragraph_format.first_line_indent = Pt(0)
    chart.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE  # an exact pitch would crop the picture
    chart.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add(doc, "正文", "{%p endif %}")
    add(doc, "分页", "").paragraph_format.page_break_before = False  # a body ends with a paragraph
    doc.core_properties.title = "民生工程项目进展情况通报"
    doc.core_properties.author = "minsheng"
    return doc


def finish_package(path: Path) -> None:
    """Declare the official fonts with an alternative name, for machines that lack them; drop the
    Word 2010 ``stylesWithEffects`` part python-docx's skeleton carries (out of step with our
    styles, which Word may call unreadable content; Word does not need it)."""
    import re
    import zipfile

    from lxml import etree

    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist() if name != "word/stylesWithEffects.xml"}
        infos = {info.filename: info for info in z.infolist()}
    parts["word/_rels/document.xml.rels"] = re.sub(rb'<Relationship [^>]*stylesWithEffects[^>]*/>', b"",
                                                   parts["word/_rels/document.xml.rels"])
    parts["[Content_Types].xml"] = re.sub(rb'<Override [^>]*stylesWithEffects[^>]*/>', b"",
                                          parts["[Content_Types].xml"])
    table = etree.fromstring(parts["word/fontTable.xml"])
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    for name, alternative in FALLBACKS.items():
        font = etree.SubElement(table, f"{{{w}}}font", {f"{{{w}}}name": name})
        etree.SubElement(font, f"{{{w}}}altName", {f"{{{w}}}val": alternative})
        etree.SubElement(font, f"{{{w}}}charset", {f"{{{w}}}val": "86"})  # GB2312
        etree.SubElement(font, f"{{{w}}}family", {f"{{{w}}}val": "roman"})
    parts["word/fontTable.xml"] = etree.tostring(table, xml_declaration=True, encoding="UTF-8",
                                                 standalone=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))  # reproducible bytes
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = infos[name].external_attr
            z.writestr(info, data)


def main() -> int:
    doc = build()
    for out in OUTPUTS:
        out.parent.mkdir(parents=True, exist_ok=True)
        doc.save(out)
        finish_package(out)
        print(f"已写入 {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
