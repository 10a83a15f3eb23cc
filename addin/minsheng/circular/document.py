"""The progress circular (进展情况通报, formats §6) as a Word document: which template, rendering it
with the period's context and chart, what rendering leaves to the document (the signature's place
and its keeping with the text, the document's properties), and the PDF.

The office owns the wording: ``templates/通报模板.docx`` is an ordinary Word file with Jinja tags,
rendered as data (``template``). Rendering always escapes: a department's ``投资<5亿元 & R&D``
comes through verbatim.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from functools import partial
from pathlib import Path

from docx.oxml.ns import qn

from ..assess.result import PeriodResult
from ..cells import display_width
from ..config import Config
from ..errors import TemplateError
from ..files import atomic_path
from .chart import completion_chart, picture_width_mm
from .context import KNOWN, build_context
from .pdf import to_pdf
from .place import TEMPLATE_NAME, Rendered, bundled_template, circular_name, template_path  # noqa: F401 (its names)
from .template import open_template

# ---------------------------------------------------------------------------------------------
# Rendering.

def render(result: PeriodResult, config: Config, target: Path, chart: bool = True,
           pdf: bool = False) -> Rendered:
    """Render the circular to ``target`` (atomically); optionally draw the chart and make a PDF."""
    template = template_path(config)
    context = build_context(result, config)
    notes = context.pop("notes")
    with tempfile.TemporaryDirectory() as tmp:
        doc = open_template(template)
        unknown = sorted(doc.variables - KNOWN)
        if unknown:  # most likely the office's copy of an older template
            notes.append(f"通报模板 {template} 用到了本版本没有的标签（{'、'.join(unknown)}），通报中这些位置是空白；"
                         f"可能是旧版模板：把它改名备份后运行 minsheng init 工作文件夹 放入新模板，再把自己的改动重做一遍")
        images = {}
        if chart and config.chart and context["internal"]:
            picture = Path(tmp) / "chart.png"
            note = completion_chart(result, picture)
            if note:
                notes.append(note)
            else:
                images["chart"] = (str(picture), picture_width_mm(picture))
        try:
            data = doc.render_isolated(context, images, partial(_finish, properties=properties(context, config)))
        except TemplateError as exc:
            raise TemplateError(f"{exc}，未生成通报；可运行 minsheng circular --check-template 检查，"
                                f"或把模板改名以使用自带模板") from exc
        with atomic_path(target) as out:
            out.write_bytes(data)
    rendered = Rendered(target, template, notes)
    if pdf:
        rendered.pdf, note = to_pdf(target)
        if note:
            notes.append(note)
    return rendered


SIGNATURE_STYLE, DATE_STYLE = "落款", "成文日期"


def properties(context: dict, config: Config, now: dt.datetime | None = None) -> dict:
    """The circular's document properties: its title, the issuer as author, the time it was made."""
    now = now or dt.datetime.now(dt.UTC)
    made = now.astimezone(dt.UTC).replace(tzinfo=None, microsecond=0)  # stored as UTC
    return {"title": context.get("title") or "", "author": config.issuer, "created": made}


def _finish(doc, properties: dict) -> None:
    """What rendering leaves to the rendered document (run in the rendering worker)."""
    _place_signature(doc)
    _set_properties(doc, properties)


def _place_signature(doc) -> None:
    """GB/T 9704: the date 右空四字 (its style), the issuer centred over the date. How far the issuer
    stands from the margin depends on both texts' lengths, so it is set here, after rendering. The
    signature never stands alone on a page: the issuer keeps with the date, and the blank lines
    and 附件说明 above it keep with it, as do the last lines of the text before them."""
    paragraphs = doc.paragraphs
    for i, paragraph in enumerate(paragraphs[:-1]):
        date = paragraphs[i + 1]
        if paragraph.style.name != SIGNATURE_STYLE or date.style.name != DATE_STYLE:
            continue
        chars = (display_width(date.text) - display_width(paragraph.text)) / 2  # in full-width characters
        indent = max(0.0, 4 + chars / 2)
        ind = paragraph._p.get_or_add_pPr().get_or_add_ind()
        ind.set(qn("w:rightChars"), str(round(indent * 100)))
        ind.set(qn("w:right"), str(round(indent * 320)))  # 三号 16 pt = 320 twips a character
        paragraph.paragraph_format.keep_with_next = True
        before = i - 1
        while before >= 0 and _between(paragraphs[before].text):
            paragraphs[before].paragraph_format.keep_with_next = True
            before -= 1
        if before >= 0:  # the text's last paragraph: its last lines (widow control) go with the signature
            paragraphs[before].paragraph_format.keep_with_next = True


_ANNEX_NOTE = re.compile(r"\s*(附件|\d+[.．、])")  # 附件：1．…, 2．… between the text and the signature


def _between(text: str) -> bool:
    return not text.strip() or bool(_ANNEX_NOTE.match(text))


_APP = "application/vnd.openxmlformats-officedocument.extended-properties+xml"


def _set_properties(doc, properties: dict) -> None:
    """Title, author and times of this circular, in Chinese; whatever the template's own were (the
    author of a template, python-docx's ``generated by python-docx``) does not carry over."""
    core = doc.core_properties
    core.title, core.author, core.last_modified_by = properties["title"], properties["author"], properties["author"]
    core.created = core.modified = properties["created"]
    core.revision = 1
    core.language = "zh-CN"
    if "python-docx" in (core.comments or ""):
        core.comments = ""
    for part in doc.part.package.parts:  # which program wrote the file: this one
        if part.content_type == _APP:
            xml = part.blob.decode("utf-8")
            xml = re.sub(r"<Application>[^<]*</Application>", "<Application>minsheng</Application>", xml)
            part._blob = re.sub(r"<AppVersion>[^<]*</AppVersion>", "", xml).encode("utf-8")


