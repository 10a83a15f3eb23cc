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

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = [ROOT / "templates" / "通报模板.docx", ROOT / "addin" / "minsheng" / "data" / "通报模板.docx"]

BODY_PT = 16  # 三号
LINE_PT = 28.95  # 22 lines on a 225 mm 版心
# Official font → what Word uses when it is not installed (written into the font table).
FALLBACKS = {"仿宋_GB2312": "仿宋", "楷体_GB2312": "楷体", "方正小标宋简体": "宋体", "黑体": "SimHei",
             "宋体": "SimSun"}
# Widths of the main table's columns in the landscape 附件 (225 mm of text width).
TABLE_COLUMNS = (("序号", 13), ("实施单位", 27), ("项目名称", 35), ("年度目标任务", 70), ("进展情况", 80))


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
    paragraph_style(doc, "表头", "黑体", 10.5, align=WD_ALIGN_PARAGRAPH.CENTER, line=16)  # 五号
    paragraph_style(doc, "表格文字", "仿宋_GB2312", 10.5, line=16)
    paragraph_style(doc, "页码", "宋体", 14, line=None)
    paragraph_style(doc, "落款", "仿宋_GB2312", BODY_PT, align=WD_ALIGN_PARAGRAPH.RIGHT)
    paragraph_style(doc, "附件标记", "黑体", BODY_PT)


def add(doc, style: str, *segments: str):
    """A paragraph whose text and placeholders each get a run of their own."""
    paragraph = doc.add_paragraph(style=style)
    for segment in segments:
        paragraph.add_run(segment)
    return paragraph


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
    """序号 | 实施单位 | 项目名称 | 年度目标任务 | 进展情况, units → projects, 序号 and 实施单位 merged."""
    widths = [w for _, w in TABLE_COLUMNS]
    table = doc.add_table(rows=6, cols=len(TABLE_COLUMNS))
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    tbl_pr = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl_pr.append(layout)
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        line = OxmlElement(f"w:{edge}")
        line.set(qn("w:val"), "single")
        line.set(qn("w:sz"), "4")
        line.set(qn("w:color"), "000000")
        borders.append(line)
    tbl_pr.append(borders)
    # Column widths on the grid itself, not only on cells, so LibreOffice and WPS keep them.
    for col, width in zip(table._tbl.tblGrid.findall(qn("w:gridCol")), widths):
        col.set(qn("w:w"), str(int(width * 56.6929)))

    header, outer, inner, data, inner_end, outer_end = table.rows
    for cell, (title, width) in zip(header.cells, TABLE_COLUMNS):
        set_cell(cell, width, title, "表头")
    _row_flag(header, "w:tblHeader")  # repeated at the top of every page
    for row, tag in ((outer, "{%tr for unit in units %}"), (inner, "{%tr for project in unit.projects %}"),
                     (inner_end, "{%tr endfor %}"), (outer_end, "{%tr endfor %}")):
        for i, cell in enumerate(row.cells):
            set_cell(cell, widths[i], tag if i == 0 else "")
    cells = data.cells
    set_cell(cells[0], widths[0], "{% vm %}{{ unit.serial }}", align=WD_ALIGN_PARAGRAPH.CENTER)
    set_cell(cells[1], widths[1], "{% vm %}{{ unit.name }}", align=WD_ALIGN_PARAGRAPH.CENTER)
    set_cell(cells[2], widths[2], "{{ project.name }}")
    set_cell(cells[3], widths[3], "{{ project.target }}")
    set_cell(cells[4], widths[4], "{{ project.progress }}")
    _row_flag(data, "w:cantSplit")  # a project's row never breaks across pages


def _row_flag(row, tag: str) -> None:
    tr_pr = row._tr.get_or_add_trPr()
    flag = OxmlElement(tag)
    tr_pr.append(flag)


def body(doc) -> None:
    add(doc, "公文标题", "{{ title }}")
    add(doc, "正文", "今年以来，各牵头单位认真贯彻落实市委、市政府关于保障和改善民生的决策部署，扎实推进各项民生工程。"
                   "现将", "{{ period_label }}", "民生工程项目进展情况通报如下。")
    add(doc, "一级标题", "一、总体进展情况")
    add(doc, "正文", "截至", "{{ period_end }}", "，全市", "{{ tasks }}", "项民生工程任务中，已有",
        "{{ tasks_complete }}", "项完成全年任务目标，", "{{ tasks_on_schedule }}", "项按时序进度推进，",
        "{{ tasks_lagging }}", "项进度滞后或未达标", "{{ tasks_unknown_text }}", "。时序进度为",
        "{{ schedule }}", ",", "{{ indicators }}", "个考核指标中已完成或达标", "{{ indicators_done }}", "个。")
    add(doc, "正文", "{%p if has_funds %}")
    add(doc, "正文", "全年计划安排资金", "{{ funds_planned }}", "，已累计拨付", "{{ funds_paid }}", "，拨付率",
        "{{ funds_rate }}", "。")
    add(doc, "正文", "{%p endif %}")

    add(doc, "一级标题", "二、分类推进情况")
    add(doc, "正文", "{%p for category in categories %}")
    add(doc, "二级标题", "（", "{{ category.ordinal }}", "）", "{{ category.name }}")
    add(doc, "正文", "{{ category.summary }}")
    add(doc, "正文", "{%p endfor %}")

    add(doc, "一级标题", "三、进度滞后的任务")
    add(doc, "正文", "{%p if lagging %}")
    add(doc, "正文", "对照时序进度，以下", "{{ lagging_count }}", "个指标进度滞后或未达到目标：")
    add(doc, "正文", "{%p for item in lagging %}")
    add(doc, "正文", "{{ item.number }}", "．", "{{ item.unit }}", "：", "{{ item.task }}", "——", "{{ item.text }}")
    add(doc, "正文", "{%p endfor %}")
    add(doc, "正文", "{%p else %}")
    add(doc, "正文", "本期所有任务均按时序进度推进。")
    add(doc, "正文", "{%p endif %}")

    add(doc, "一级标题", "四、报送情况")
    add(doc, "正文", "{%p if missing_units %}")
    add(doc, "正文", "截至汇总时，", "{{ missing_units }}", "未按时报送进展情况，请尽快补报。")
    add(doc, "正文", "{%p elif not refused_units %}")
    add(doc, "正文", "各牵头单位均已按时报送进展情况。")
    add(doc, "正文", "{%p endif %}")
    add(doc, "正文", "{%p if refused_units %}")
    add(doc, "正文", "{{ refused_units }}", "报送的报表未能汇总（格式或内容不符合要求），请按要求修改后重新报送。")
    add(doc, "正文", "{%p endif %}")

    add(doc, "一级标题", "五、各单位完成情况")
    add(doc, "正文", "按各单位指标平均完成率排序，完成情况较好的是", "{{ top_units }}", "；完成率相对较低的是",
        "{{ bottom_units }}", "。")
    add(doc, "正文", "{%p if chart %}")
    chart = add(doc, "正文", "{{ chart }}")
    chart.paragraph_format.first_line_indent = Pt(0)
    chart.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE  # an exact pitch would crop the picture
    chart.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add(doc, "正文", "{%p endif %}")

    add(doc, "一级标题", "六、下一步工作要求")
    add(doc, "正文", "各牵头单位要对照年度目标任务，倒排工期、挂图作战；进度滞后的单位要认真分析原因，"
                   "制定整改措施，确保按时完成全年任务。请各单位于每月5日前报送上月进展情况。")
    add(doc, "正文", "附件：", "{{ period_label }}", "民生工程项目进展情况表")
    add(doc, "落款", "{{ issuer }}")
    add(doc, "落款", "{{ date }}")


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
    doc.core_properties.title = "民生工程项目进展情况通报"
    doc.core_properties.author = "minsheng"
    return doc


def add_font_fallbacks(path: Path) -> None:
    """Declare the official fonts with an alternative name, for machines that lack them."""
    import zipfile

    from lxml import etree

    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
        infos = {info.filename: info for info in z.infolist()}
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
        add_font_fallbacks(out)
        print(f"已写入 {out.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
