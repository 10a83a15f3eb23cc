"""Checking an office's circular template (``minsheng circular --check-template``): tags Word split,
tags refused, unknown variables, and text that would be lost, by rendering sample contexts."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from docx import Document

from ..errors import TemplateError
from .context import KNOWN
from .template import Template

_OPEN = re.compile(r"\{[{%#]")
_CLOSE = re.compile(r"[}%#]\}")


def _all_paragraphs(doc):
    def walk(container):
        yield from container.paragraphs
        for table in getattr(container, "tables", []):
            for row in table.rows:
                for cell in row.cells:
                    yield from walk(cell)

    yield from walk(doc)
    for section in doc.sections:
        for part in (section.header, section.footer, section.even_page_header, section.even_page_footer):
            yield from walk(part)


def _text_of(path: Path) -> str:
    return "\n".join(p.text for p in _all_paragraphs(Document(str(path))))


def check_template(path: Path) -> list[str]:
    """Problems a template has, in Chinese; an empty list means it is fine. A file that is no
    usable template at all raises ``TemplateError``."""
    problems = []
    template = Template.load(path)
    doc = template.docx
    for paragraph in _all_paragraphs(doc):
        for run in paragraph.runs:
            if len(_OPEN.findall(run.text)) != len(_CLOSE.findall(run.text)):
                problems.append(f"“{paragraph.text[:40]}”中的标签被 Word 拆成了几段格式不同的文字；"
                                f"请删除整个标签后一次输入（不要中途改格式）")
                break
    try:
        template.check_tags()
    except TemplateError as exc:
        return problems + [str(exc)]
    unknown = template.variables - KNOWN
    for name in sorted(unknown):
        problems.append(f"模板用到了未知的变量“{name}”，生成时会是空白；可用的变量：{'、'.join(sorted(KNOWN))}")

    static = set()
    for paragraph in _all_paragraphs(doc):
        text = re.sub(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", "\n", paragraph.text)
        static.update(part.strip() for part in text.split("\n") if len(part.strip()) >= 2)
    outputs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i, context in enumerate(_sample_contexts()):
            out = Path(tmp) / f"sample{i}.docx"
            try:
                out.write_bytes(template.render_isolated(context))
            except TemplateError as exc:
                return problems + [f"用示例数据生成时出错：{exc}"]
            outputs.append(_text_of(out))
    for text in outputs:
        leftover = re.findall(r"\{\{.*?\}\}|\{%.*?%\}|\{\{|\{%", text)
        if leftover:
            problems.append(f"生成后仍有未替换的标签：{'、'.join(dict.fromkeys(leftover))}；请检查标签写法")
            break
    rendered = "\n".join(outputs)
    for fragment in sorted(static):
        if fragment not in rendered:
            problems.append(f"模板文字“{fragment[:30]}”在生成的通报中丢失了：与 {{%p …%}} 或 {{%tr …%}} "
                            f"标签在同一段或同一行的文字不会输出，请把它移到单独的段落")
    return problems


def _sample_contexts() -> list[dict]:
    """Sample contexts that between them take every branch of the default template."""
    project = {"name": "示例项目", "target": "示例目标", "progress": "示例进展"}
    unit = {"serial": "1", "unit": "示例单位", "rows": [project, project]}
    full = {name: f"〔{name}〕" for name in KNOWN}
    full.update(internal=True, chart="〔图〕", categories=[{"ordinal": "一", "name": "示例类别", "summary": "示例"}],
                lagging_units=[{"unit": "示例单位", "text": "示例", "count": "1"}],
                annex=[{"units": [unit]}, {"units": [unit, unit]}])
    empty = dict(full, internal=False, funds="", lagging_units=[], missing_units="", missing_count="",
                 refused_units="", refused_count="", categories=[], ranking="", deadline="", annex=[{"units": [unit]}])
    public = dict(empty, missing_count="2", refused_count="1")  # the released circular counts, names no one
    return [full, empty, public]
