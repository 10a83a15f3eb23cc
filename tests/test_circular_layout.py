"""The circular as it prints: rendered through LibreOffice and measured on the page.

Length, how full the annex's pages are, where the signature falls and where the page numbers
stand are only seen on a rendered page. Each test converts with LibreOffice (skipped when it is not
installed), with the official fonts mapped to the free CJK fonts as an office PC would show them,
and measures the PDF: text with ``pdftotext``, ink with ``pdftoppm``.
"""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from conftest import fill
from docx import Document
from docx.oxml.ns import qn
from minsheng.circular import annex, chart
from minsheng.pipeline import make_circular, make_templates, run_consolidation, run_demo

needs_office = pytest.mark.skipif(
    shutil.which("soffice") is None or shutil.which("pdftoppm") is None or shutil.which("pdftotext") is None,
    reason="LibreOffice (soffice) or poppler (pdftoppm, pdftotext) is not installed")

# The official fonts an office PC has, mapped to free fonts with the same metrics for Chinese.
FONTS = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
""" + "".join(f'  <alias binding="same"><family>{name}</family><prefer><family>{free}</family></prefer></alias>\n'
              for name, free in (("仿宋_GB2312", "Noto Serif CJK SC"), ("仿宋", "Noto Serif CJK SC"),
                                 ("宋体", "Noto Serif CJK SC"), ("方正小标宋简体", "Noto Serif CJK SC"),
                                 ("黑体", "Noto Sans CJK SC"), ("楷体_GB2312", "AR PL UKai CN"),
                                 ("楷体", "AR PL UKai CN"))) + "</fontconfig>\n"

# GB/T 9704: 版心 156 × 225 mm; portrait margins top 37, bottom 35, left 28; the landscape annex turned.
PORTRAIT = {"top": 37, "bottom": 297 - 35, "left": 28, "right": 210 - 26}
LANDSCAPE = {"top": 28, "bottom": 210 - 26, "left": 35, "right": 297 - 37}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    return run_demo(tmp_path_factory.mktemp("demo") / "演示")


@pytest.fixture(scope="module")
def printed(demo, tmp_path_factory):
    """The demo circular as a PDF, and its pages as grey images."""
    folder = tmp_path_factory.mktemp("printed")
    (pdf,) = to_pdf([demo.circular.path], folder)
    return pdf, list(pages(pdf, folder))


@needs_office
def test_the_demo_circular_is_at_most_thirteen_pages(printed):
    _, images = printed
    body = sum(not image.landscape for image in images)
    assert len(images) <= 13, f"{body} pages of text and {len(images) - body} of annex"


@needs_office
def test_no_annex_page_but_the_last_is_more_than_a_fifth_empty(printed):
    _, images = printed
    annex = [image for image in images if image.landscape]
    assert len(annex) >= 2
    empty = [round(image.empty(LANDSCAPE), 3) for image in annex]
    assert all(e <= 0.20 for e in empty[:-1]), empty


@needs_office
def test_page_numbers_stand_7_mm_from_the_type_area_and_one_character_in(printed):
    pdf, images = printed
    portrait = next(image for image in images if not image.landscape)
    dash = portrait.dash_row()  # the 一字线 of “— 1 —”, 7 mm below the 版心's bottom edge
    assert dash - PORTRAIT["bottom"] == pytest.approx(7, abs=0.7)
    landscape = next(image for image in images if image.landscape)
    dash = landscape.dash_column()  # turned with the page: 7 mm left of the 版心's left edge
    assert LANDSCAPE["left"] - dash == pytest.approx(7, abs=0.7)
    # Odd pages right, even pages left, 空一字 (one 四号 character, 4.9 mm) from the 版心's edge.
    odd, even = (sorted(box for box in _word_boxes(pdf, n, "—") if box[1] > PORTRAIT["bottom"]) for n in (1, 2))
    assert PORTRAIT["right"] - odd[-1][2] == pytest.approx(14 * 25.4 / 72, abs=0.5)
    assert even[0][0] - PORTRAIT["left"] == pytest.approx(14 * 25.4 / 72, abs=0.5)


@needs_office
def test_the_signature_never_stands_alone_on_a_page(demo, tmp_path):
    """The text before the signature grows a line at a time through a whole page: wherever the
    page breaks, the issuer and date keep company with the last lines of the text."""
    body = _body_only(Document(str(demo.circular.path)))
    base = tmp_path / "body.docx"
    body.save(str(base))
    variants = []
    for extra in range(22):  # 22 lines of 三号 text to a page
        doc = Document(str(base))
        last_text = _last_text_paragraph(doc)
        for _ in range(extra):
            blank = copy.deepcopy(last_text)
            for run in blank.findall(qn("w:r")):
                blank.remove(run)
            _drop_keep(blank)
            last_text.addprevious(blank)
        path = tmp_path / f"body{extra:02d}.docx"
        doc.save(str(path))
        variants.append(path)
    issuer, date = _signature(body)
    ending = _text(_last_text_paragraph(body))[-4:]
    for pdf in to_pdf(variants, tmp_path):
        text = _page_texts(pdf)
        (page,) = [t for t in text if date in t]
        assert issuer in page
        assert ending in page, pdf.name  # the text's last line stands with the signature


def test_docx_properties_name_the_circular_its_issuer_and_when_it_was_made(demo):
    with zipfile.ZipFile(demo.circular.path) as z:
        core = z.read("docProps/core.xml").decode("utf-8")
        app = z.read("docProps/app.xml").decode("utf-8")
        styles = z.read("word/styles.xml").decode("utf-8")
    title = Document(str(demo.circular.path)).paragraphs[0].text
    assert f"<dc:title>{title}</dc:title>" in core
    assert f"<dc:creator>{demo.config.issuer}</dc:creator>" in core
    created = re.search(r"<dcterms:created[^>]*>([^<]+)<", core).group(1)
    made = dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert abs((dt.datetime.now(dt.UTC) - made).total_seconds()) < 3600
    for leftover in ("python-docx", "Macintosh", "2013-"):
        assert leftover not in core + app, leftover
    assert "<Application>minsheng</Application>" in app
    defaults = re.search(r"<w:docDefaults>.*?</w:docDefaults>", styles, re.S).group(0)
    assert 'w:eastAsia="zh-CN"' in defaults


@needs_office
def test_a_department_text_with_markup_characters_prints(workfolder, config, tmp_path, monkeypatch):
    words = "投资<5亿元 & R&D>3项"
    sent = {p.name.split("_")[1]: p for p in make_templates(config).paths}

    def edit(book):
        book["填报"]["L4"] = words
    fill(sent["市教育局"], config.inbox() / "edu.xlsx", {"7-1": 6, "7-2": 500, "8-1": "开工实施"}, edit=edit)
    result = run_consolidation(config).result
    monkeypatch.setattr(chart, "find_cjk_font", lambda: None)
    rendered = make_circular(config, result=result.period_result)
    (pdf,) = to_pdf([rendered.path], tmp_path)
    printed = re.sub(r"\s+", "", "".join(_page_texts(pdf)))
    assert re.sub(r"\s+", "", words) in printed


def test_the_annex_is_one_table_and_a_shared_target_is_printed_once():
    target = "全面落实省政府促进城镇居民增收意见，" * 3
    rows = [annex.Row("1", "市人社局", "推进城乡居民持续增收工程", target, "甲"),
            annex.Row("1", "市人社局", "保障农民工工资支付", "短目标", "乙"),
            annex.Row("2", "市农业农村局", "推进城乡居民持续增收工程", target, "丙"),
            annex.Row("3", "市民政局", "推进城乡居民持续增收工程", target, "丁"),
            annex.Row("4", "市总工会", "保障农民工工资支付", "短目标", "戊")]
    (table,) = annex.paginate(rows)
    assert [r.target for r in table] == [target, "短目标", "同序号1", "同上", "短目标"]  # a line or less: again
    assert [r.progress for r in table] == ["甲", "乙", "丙", "丁", "戊"]
    assert [(g["serial"], g["unit"], len(g["rows"])) for g in annex.by_unit(table)] == [
        ("1", "市人社局", 2), ("2", "市农业农村局", 1), ("3", "市民政局", 1), ("4", "市总工会", 1)]
    assert annex.paginate([]) == []


def test_the_annex_table_may_break_across_pages_and_repeats_its_header(demo):
    doc = Document(str(demo.circular.path))
    (table,) = doc.tables
    header, *rows = table.rows
    assert header._tr.trPr.find(qn("w:tblHeader")) is not None
    assert all(row._tr.trPr is None or row._tr.trPr.find(qn("w:cantSplit")) is None for row in rows)


# ---------------------------------------------------------------------------------------------
# Rendering and measuring.

def to_pdf(docs: list[Path], folder: Path) -> list[Path]:
    """The documents converted by LibreOffice in one run, with the fonts above."""
    fonts = folder / "fonts.conf"
    fonts.write_text(FONTS, encoding="utf-8")
    env = dict(os.environ, FONTCONFIG_FILE=str(fonts), HOME=str(folder))
    subprocess.run(["soffice", "--headless", "--norestore", f"-env:UserInstallation={(folder / 'lo').as_uri()}",
                    "--convert-to", "pdf", "--outdir", str(folder), *map(str, docs)],
                   capture_output=True, timeout=600, check=True, env=env)
    return [folder / (doc.stem + ".pdf") for doc in docs]


DPI = 100
MM = DPI / 25.4  # pixels a millimetre


class Page:
    """A page as a grey image (``pdftoppm -gray``), measured in millimetres."""

    def __init__(self, path: Path):
        data = path.read_bytes()
        head = re.match(rb"P5\s+(\d+)\s+(\d+)\s+\d+\s", data)
        self.width, self.height = int(head[1]), int(head[2])
        self.pixels = data[head.end():]
        self.landscape = self.width > self.height

    def _ink(self, x: int, y: int) -> bool:
        return self.pixels[y * self.width + x] < 160

    def empty(self, area: dict) -> float:
        """How much of the 版心's height lies below the lowest ink in it."""
        x0, x1 = round(area["left"] * MM), round(area["right"] * MM)
        for y in range(round(area["bottom"] * MM), round(area["top"] * MM), -1):
            row = self.pixels[y * self.width + x0:y * self.width + x1]
            if min(row) < 160:
                return (area["bottom"] - y / MM) / (area["bottom"] - area["top"])
        return 1.0

    def dash_row(self) -> float:
        """The middle of the first long horizontal stroke below the 版心 (mm from the top)."""
        rows = [y for y in range(round((PORTRAIT["bottom"] + 1) * MM), self.height) if self._run(y, True) > 3 * MM]
        return (rows[0] + rows[-1]) / 2 / MM

    def dash_column(self) -> float:
        """The middle of the first long vertical stroke left of the 版心 (mm from the left)."""
        columns = [x for x in range(0, round((LANDSCAPE["left"] - 1) * MM)) if self._run(x, False) > 3 * MM]
        return (columns[0] + columns[-1]) / 2 / MM

    def _run(self, at: int, across: bool) -> int:
        best = length = 0
        for i in range(self.width if across else self.height):
            ink = self._ink(i, at) if across else self._ink(at, i)
            length = length + 1 if ink else 0
            best = max(best, length)
        return best


def pages(pdf: Path, folder: Path) -> list[Page]:
    out = folder / "page"
    subprocess.run(["pdftoppm", "-gray", "-r", str(DPI), str(pdf), str(out)], check=True, timeout=300)
    files = sorted(folder.glob("page-*.pgm"), key=lambda p: int(p.stem.rsplit("-", 1)[1]))
    return [Page(f) for f in files]


def _page_texts(pdf: Path) -> list[str]:
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True).stdout
    return [re.sub(r"\s+", "", page) for page in text.decode("utf-8").split("\f")]


def _word_boxes(pdf: Path, page: int, word: str) -> list[tuple[float, ...]]:
    """(x0, y0, x1, y1) in mm of each ``word`` on ``page``."""
    html = subprocess.run(["pdftotext", "-bbox", "-f", str(page), "-l", str(page), str(pdf), "-"],
                          capture_output=True, check=True).stdout.decode("utf-8")
    found = re.findall(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">' + re.escape(word) + "<", html)
    return [tuple(float(v) * 25.4 / 72 for v in box) for box in found]


# The body of the circular alone, for the signature test.

def _body_only(doc):
    """The document without its annex: the section break's settings become the last section's."""
    body = doc.element.body
    elements = list(body)
    end = next(i for i, e in enumerate(elements)
               if e.tag == qn("w:p") and e.find(f"{qn('w:pPr')}/{qn('w:sectPr')}") is not None)
    section = elements[end].find(qn("w:pPr")).find(qn("w:sectPr"))
    for element in elements[end + 1:]:
        body.remove(element)
    elements[end].find(qn("w:pPr")).remove(section)
    body.append(section)
    return doc


def _paragraphs(doc):
    return doc.element.body.findall(qn("w:p"))


def _text(p) -> str:
    return "".join(t.text or "" for t in p.iter(qn("w:t")))


def _style(p) -> str:
    style = p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}")
    return style.get(qn("w:val")) if style is not None else ""


def _signature(doc) -> tuple[str, str]:
    paragraphs = _paragraphs(doc)
    i = next(i for i, p in enumerate(paragraphs) if _style(p) == "落款")
    return _text(paragraphs[i]), _text(paragraphs[i + 1])


def _last_text_paragraph(doc):
    """The text's last paragraph: before the signature, the blank lines and the 附件 note."""
    paragraphs = _paragraphs(doc)
    i = next(i for i, p in enumerate(paragraphs) if _style(p) == "落款") - 1
    while not _text(paragraphs[i]).strip() or _text(paragraphs[i]).startswith("附件"):
        i -= 1
    return paragraphs[i]


def _drop_keep(p) -> None:
    ppr = p.find(qn("w:pPr"))
    if ppr is not None:
        for keep in ppr.findall(qn("w:keepNext")):
            ppr.remove(keep)

