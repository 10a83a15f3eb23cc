"""Build the default Word template of the progress circular (通报模板.docx) with python-docx.

    python scripts/build_circular_template.py

Writes ``templates/通报模板.docx`` (the copy an office edits in Word) and the identical copy the
package installs (``addin/minsheng/data/通报模板.docx``). Layout follows GB/T 9704-2012: A4, margins
37/35/28/26 mm (版心 156 × 225 mm), title 方正小标宋简体 二号, body 仿宋_GB2312 三号 with an exact line
pitch of 28.95 pt and no character grid, headings 黑体 / 楷体_GB2312. Page numbers “— 1 —” in 四号
半角宋体 (§7.5): the 一字线 7 mm below the 版心, odd pages right and even pages left, one character
in from the 版心's edge; on the landscape annex pages (§10.1) they stand where a portrait page has
them, along the long edge, turned with the page. The annex is one table on landscape pages that
Word breaks across pages: header row repeated, rows free to break (``minsheng.circular.annex``).
The language is Chinese (zh-CN), figures and Latin letters en-US. All formatting lives in named
styles; every Jinja placeholder sits in a run of its own and every loop tag in a paragraph or
table row of its own, so the office can reword anything in Word without breaking a tag.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement, parse_xml
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
# Page numbers (GB/T 9704 §7.5): 四号 (14 pt); the 一字线 7 mm below the 版心. DASH_MM: how far below the
# top of its line the 一字线 stands, measured on LibreOffice's rendering.
PAGE_NUMBER_PT, PAGE_NUMBER_LINE_PT, PAGE_NUMBER_GAP_MM, DASH_MM = 14, 16, 7, 3.3
PAGE_NUMBER_BEFORE_PT = round((PAGE_NUMBER_GAP_MM - DASH_MM) * 72 / 25.4, 1)
FOOTER_MM = (PAGE_NUMBER_BEFORE_PT + PAGE_NUMBER_LINE_PT) * 25.4 / 72 + 0.2  # the footer paragraph, a little room
TURNED_DASH_MM = 0.45  # in a line turned a quarter, the 一字线 stands this much further from the line's head
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
    paragraph_style(doc, "表头", "黑体", TABLE_FONT_PT, align=WD_ALIGN_PARAGRAPH.CENTER, line=TABLE_LINE_PT)  # 五号
    paragraph_style(doc, "表格文字", "仿宋_GB2312", TABLE_FONT_PT, line=TABLE_LINE_PT)
    # GB/T 9704 §8: the annex's title on the third line of the 版心, under 附件 and a blank line.
    paragraph_style(doc, "附件标题", "方正小标宋简体", 22, align=WD_ALIGN_PARAGRAPH.CENTER, line=35,
                    before=LINE_PT, after=LINE_PT / 2, keep_next=True)
    page = paragraph_style(doc, "页码", "宋体", PAGE_NUMBER_PT, line=PAGE_NUMBER_LINE_PT,
                           before=PAGE_NUMBER_BEFORE_PT)
    fonts = page.element.rPr.rFonts  # 半角宋体: the figures too, not Times New Roman
    fonts.set(qn("w:ascii"), "宋体")
    fonts.set(qn("w:hAnsi"), "宋体")
    # GB/T 9704: the date 右空四字; the issuer centred over it (its indent is set when rendering). The
    # issuer keeps with the date; ``minsheng.circular.document`` keeps the last lines of the text with both.
    paragraph_style(doc, "落款", "仿宋_GB2312", BODY_PT, align=WD_ALIGN_PARAGRAPH.RIGHT, keep_next=True)
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
    chinese(doc)


def chinese(doc) -> None:
    """The document's language, in the styles' defaults and for the theme's fonts: Chinese (zh-CN)
    for the Chinese text, as Word in Chinese writes it, not python-docx's English. Latin letters and
    figures stay en-US, as there too: marked zh-CN, LibreOffice (and so the PDF) breaks a line
    inside a figure (``100.`` | ``0%``)."""
    defaults = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = defaults.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        defaults.append(lang)
    lang.set(qn("w:val"), LATIN_LANGUAGE)
    lang.set(qn("w:eastAsia"), "zh-CN")
    theme = doc.settings.element.find(qn("w:themeFontLang"))
    if theme is not None:
        theme.set(qn("w:val"), LATIN_LANGUAGE)
        theme.set(qn("w:eastAsia"), "zh-CN")


LATIN_LANGUAGE = "en-US"


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


def page_number_footer(section, bottom_mm: float) -> None:
    """GB/T 9704 §7.5: “— 1 —”, odd pages right and even pages left, 空一字 from the 版心's edge.
    The footer is the one paragraph of the number, which fills the space from the 版心 down to the
    footer's distance from the page's edge: Word sets a footer up from that distance, LibreOffice
    and WPS down from the 版心, and both put the 一字线 7 mm below the 版心."""
    section.footer_distance = Mm(bottom_mm - FOOTER_MM)
    for footer, align in ((section.footer, "right"), (section.even_page_footer, "left")):
        footer.is_linked_to_previous = False
        footer._element.remove(footer.paragraphs[0]._p)
        footer._element.append(parse_xml(page_number_paragraph(align)))


def landscape_page_numbers(section, left_mm: float, top_mm: float, bottom_mm: float) -> None:
    """GB/T 9704 §10.1: a landscape page is turned a quarter to the left to be bound (the table's
    head at the binding edge of an odd page, at the outer edge of an even one), and its number
    stands where a portrait page has it: along the landscape page's left edge, 7 mm from the
    版心, turned with the page; odd pages towards the foot of that edge, even pages towards its
    head. Each number is a frameless text box in the footer, anchored to the page."""
    height_mm = section.page_height.mm - top_mm - bottom_mm  # the 版心's height: a portrait page's width
    line_mm = PAGE_NUMBER_LINE_PT * MM_PER_PT
    gap_mm = PAGE_NUMBER_BEFORE_PT * MM_PER_PT - TURNED_DASH_MM  # as a portrait page's footer, below the 版心
    for n, (footer, align) in enumerate(((section.footer, "right"), (section.even_page_footer, "left"))):
        footer.is_linked_to_previous = False
        footer._element.remove(footer.paragraphs[0]._p)
        anchor = parse_xml(ANCHOR_PARAGRAPH)  # the box's paragraph takes no room
        footer._element.append(anchor)
        box = NUMBER_BOX.format(id=9001 + n, z=251659264 + n, x=_emu(left_mm - gap_mm - line_mm),
                                y=_emu(top_mm), cx=_emu(line_mm), cy=_emu(height_mm),
                                x_pt=_pt(left_mm - gap_mm - line_mm), y_pt=_pt(top_mm), w_pt=_pt(line_mm),
                                h_pt=_pt(height_mm), paragraph=page_number_paragraph(align, in_box=True))
        anchor.append(parse_xml(box))


def page_number_paragraph(align: str, in_box: bool = False) -> str:
    """The paragraph “— PAGE —” in the 页码 style, 空一字 (one 四号 character) from the edge it keeps to."""
    side = "right" if align == "right" else "left"
    before = '<w:spacing w:before="0"/>' if in_box else ""
    runs = ['<w:r><w:t xml:space="preserve">— </w:t></w:r>', '<w:r><w:fldChar w:fldCharType="begin"/></w:r>',
            '<w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>',
            '<w:r><w:fldChar w:fldCharType="separate"/></w:r>', '<w:r><w:t>1</w:t></w:r>',
            '<w:r><w:fldChar w:fldCharType="end"/></w:r>', '<w:r><w:t xml:space="preserve"> —</w:t></w:r>']
    return (f'<w:p {W_NS}><w:pPr><w:pStyle w:val="页码"/>{before}'
            f'<w:ind w:{side}="{round(PAGE_NUMBER_PT * 20)}" w:{side}Chars="100"/><w:jc w:val="{align}"/></w:pPr>'
            f'{"".join(runs)}</w:p>')


MM_PER_PT = 25.4 / 72
W_NS = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
ANCHOR_PARAGRAPH = (f'<w:p {W_NS}><w:pPr><w:spacing w:before="0" w:after="0" w:line="20" w:lineRule="exact"/>'
                    f'<w:rPr><w:sz w:val="2"/></w:rPr></w:pPr></w:p>')
# A text box as Word writes one: DrawingML (Word 2010 on, WPS, LibreOffice) with a VML fallback;
# vert: the text turned a quarter to the right, read from the landscape page's head to its foot.
NUMBER_BOX = (
    '<w:r ' + W_NS + ' xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
    'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml"><w:rPr><w:noProof/></w:rPr>'
    '<mc:AlternateContent><mc:Choice Requires="wps"><w:drawing>'
    '<wp:anchor distT="0" distB="0" distL="0" distR="0" simplePos="0" relativeHeight="{z}" behindDoc="0" '
    'locked="1" layoutInCell="1" allowOverlap="1"><wp:simplePos x="0" y="0"/>'
    '<wp:positionH relativeFrom="page"><wp:posOffset>{x}</wp:posOffset></wp:positionH>'
    '<wp:positionV relativeFrom="page"><wp:posOffset>{y}</wp:posOffset></wp:positionV>'
    '<wp:extent cx="{cx}" cy="{cy}"/><wp:effectExtent l="0" t="0" r="0" b="0"/><wp:wrapNone/>'
    '<wp:docPr id="{id}" name="页码{id}"/><wp:cNvGraphicFramePr/>'
    '<a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">'
    '<wps:wsp><wps:cNvSpPr txBox="1"/><wps:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="{cx}" cy="{cy}"/></a:xfrm>'
    '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom><a:noFill/><a:ln><a:noFill/></a:ln></wps:spPr>'
    '<wps:txbx><w:txbxContent>{paragraph}</w:txbxContent></wps:txbx>'
    '<wps:bodyPr rot="0" vert="vert" wrap="square" lIns="0" tIns="0" rIns="0" bIns="0" anchor="ctr" '
    'anchorCtr="0" upright="0"><a:noAutofit/></wps:bodyPr></wps:wsp></a:graphicData></a:graphic>'
    '</wp:anchor></w:drawing></mc:Choice><mc:Fallback><w:pict>'
    '<v:rect style="position:absolute;margin-left:{x_pt}pt;margin-top:{y_pt}pt;width:{w_pt}pt;height:{h_pt}pt;'
    'z-index:{z};mso-position-horizontal-relative:page;mso-position-vertical-relative:page" '
    'filled="f" stroked="f"><v:textbox style="layout-flow:vertical" inset="0,0,0,0">'
    '<w:txbxContent>{paragraph}</w:txbxContent></v:textbox></v:rect></w:pict></mc:Fallback>'
    '</mc:AlternateContent></w:r>')


def _emu(mm: float) -> int:
    return round(mm * 36000)


def _pt(mm: float) -> str:
    return f"{mm / MM_PER_PT:.2f}"


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
    """序号 | 实施单位 | 项目名称 | 年度目标任务 | 进展情况, 序号 and 实施单位 merged over a unit's rows:
    one table (``minsheng.circular.annex``), its header row repeated on every page and its rows
    free to break across pages, so that Word fills every page. The loop over the annex's tables
    is kept for templates that lay out more than one."""
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
    _row_flag(header, "w:cantSplit")
    _row_flag(header, "w:tblHeader")  # repeated on every page
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
    add(doc, "正文", "{%p if progress %}")
    add(doc, "正文", "{{ progress }}")
    add(doc, "正文", "{%p endif %}")

    add(doc, "正文", "{%p if categories %}")
    add(doc, "一级标题", "分类推进情况")
    add(doc, "正文", "{%p for category in categories %}")
    add(doc, "正文", ("（", "小标题字"), ("{{ category.ordinal }}", "小标题字"), ("）", "小标题字"),
        ("{{ category.name }}", "小标题字"), ("。", "小标题字"), "{{ category.summary }}")
    add(doc, "正文", "{%p endfor %}")
    add(doc, "正文", "{%p endif %}")

    add(doc, "正文", "{%p if lagging_units %}")
    add(doc, "一级标题", "{{ lagging_title }}")
    add(doc, "正文", "{{ lagging_intro }}")
    add(doc, "正文", "{%p for item in lagging_units %}")
    add(doc, "正文", ("{{ item.unit }}", "单位名字"), ("：", "单位名字"), "{{ item.text }}")
    add(doc, "正文", "{%p endfor %}")
    add(doc, "正文", "{%p endif %}")

    add(doc, "一级标题", "报送情况")
    add(doc, "正文", "{%p if missing_units %}")
    add(doc, "正文", "截至汇总时，", "{{ missing_units }}", "尚未报送进展情况，请尽快补报。")
    add(doc, "正文", "{%p elif missing_count %}")
    add(doc, "正文", "截至汇总时，有", "{{ missing_count }}", "个单位尚未报送进展情况，请尽快补报。")
    add(doc, "正文", "{%p elif on_time and not refused_count %}")
    add(doc, "正文", "各牵头单位均已于", "{{ on_time }}", "前报送进展情况。")
    add(doc, "正文", "{%p elif not refused_count %}")
    add(doc, "正文", "各牵头单位均已报送进展情况。")
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
    page_number_footer(first, 35)
    body(doc)

    annex = doc.add_section(WD_SECTION.NEW_PAGE)
    annex.orientation = WD_ORIENT.LANDSCAPE
    annex.page_width, annex.page_height = Mm(297), Mm(210)
    # Turned a quarter to the left to be bound, the page's right edge is a portrait page's head (37 mm)
    # and its left edge a portrait page's foot (35 mm), where the page number stands.
    set_margins(annex, 28, 26, 35, 37)
    no_grid(annex)
    landscape_page_numbers(annex, 35, 28, 26)
    add(doc, "附件标记", "附件")
    add(doc, "附件标题", "{{ period_label }}", "民生工程项目进展情况表")
    # The completion chart (internal circulars) above the table: the table then fills every page but
    # its last, whereas a chart after it goes to a page of its own when the last page lacks room.
    add(doc, "正文", "{%p if chart %}")
    heading = add(doc, "二级标题", "各单位指标平均完成率")
    heading.paragraph_format.first_line_indent = Pt(0)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    chart = add(doc, "正文", "{{ chart }}")
    chart.paragraph_format.first_line_indent = Pt(0)
    chart.paragraph_format.line_spacing_rule = WD_LINE_SPACING.SINGLE  # an exact pitch would crop the picture
    chart.paragraph_format.keep_with_next = True
    chart.alignment = WD_ALIGN_PARAGRAPH.CENTER
    add(doc, "正文", "{%p endif %}")
    main_table(doc)
    add(doc, "分页", "").paragraph_format.page_break_before = False  # a body ends with a paragraph
    properties = doc.core_properties  # each circular's own are set when it is rendered
    properties.title, properties.author, properties.last_modified_by = "民生工程项目进展情况通报", "", ""
    properties.comments, properties.keywords, properties.subject, properties.category = "", "", "", ""
    properties.language, properties.revision = "zh-CN", 1
    properties.created = properties.modified = dt.datetime(2020, 1, 1)  # reproducible bytes
    return doc


def finish_package(path: Path) -> None:
    """Declare the official fonts with an alternative name, for machines that lack them; drop the
    Word 2010 ``stylesWithEffects`` part python-docx's skeleton carries (out of step with our
    styles, which Word may call unreadable content; Word does not need it); and say which program
    wrote the file, not the skeleton's “Microsoft Macintosh Word”."""
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
    parts["docProps/app.xml"] = APP_PROPERTIES.encode("utf-8")
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


APP_PROPERTIES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties" '
    'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
    '<Application>minsheng</Application><DocSecurity>0</DocSecurity><ScaleCrop>false</ScaleCrop>'
    '<LinksUpToDate>false</LinksUpToDate><SharedDoc>false</SharedDoc><HyperlinksChanged>false</HyperlinksChanged>'
    '</Properties>')


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
