"""Checking an office's circular template (``minsheng circular --check-template``).

Every finding names its paragraph as the clerk finds it in Word: its number (body and table-cell
paragraphs counted in document order) and first words, ``正文第 12 段（“截至{{ period_end }}…”）``.

A template is judged by what docxtpl and Jinja make of it, never by how Word split its text into
runs (docxtpl joins a tag's pieces before Jinja reads it; so does every scan here), so a template
that renders is never called broken. A tag is reported when the part it stands in does not parse
(an ``if`` without ``endif`` is named where the ``if`` stands: the part's source is split at
markers put before every paragraph, so each Jinja line is one paragraph), when the sandbox refuses
it, when it names a variable the circular does not have, or when rendering a full sample context
(``sample_context``) fails on it; text is reported when it shares a paragraph (a row, a cell) with
a ``{%p %}`` (``{%tr %}``, ``{%tc %}``) tag, which docxtpl keeps alone.
"""

from __future__ import annotations

import difflib
import re
import tempfile
import zlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from jinja2 import TemplateSyntaxError, nodes

from ..errors import TemplateError
from .context import KNOWN
from .template import (
    MARKER,
    OPENERS,
    TC,
    TR,
    P,
    PartPlaces,
    Place,
    Template,
    as_jinja,
    marked_source,
    place_parts,
    tag_problem,
)
from .template_sandbox import DataEnvironment

_MIDDLES = {"elif": {"if"}, "else": {"if", "for"}}
_BLOCK_TAG = re.compile(r"\{%-?(?:(p|tr|tc|r) )?\s*(\w+).*?%\}")
_PRINTED = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")
_WHOLE = {"tr": (TR, "行", "别的行"), "tc": (TC, "格", "别的格"), "p": (P, "段", "单独的段落")}


@dataclass
class _Part:
    """A part docxtpl renders: ``source`` as Jinja reads it, ``marked`` the same with one line per
    paragraph (or table row, or cell), ``lines`` the paragraphs each line of ``marked`` comes from."""

    kind: str
    source: str
    marked: str
    lines: list[list[Place]]
    tree: nodes.Template | None = None

    def places(self, lineno: int | None) -> list[Place]:
        return self.lines[lineno - 1] if lineno and 0 < lineno <= len(self.lines) else []

    def place(self, lineno: int | None) -> Place | None:
        places = self.places(lineno)
        return next((p for p in places if "{" in p.text), places[0] if places else None)

    def label(self, lineno: int | None) -> str:
        place = self.place(lineno)
        return place.label if place else f"{self.kind}（位置未能确定）"


def check_template(path: Path) -> list[str]:
    """Problems a template has, in Chinese, one line each and each naming its paragraph; an empty
    list means it is fine. A file that is no usable template at all raises ``TemplateError``."""
    template = Template.load(path)
    xml_parts = place_parts(template)
    problems = [problem for part in xml_parts for problem in _lost_text(part)]
    parts = [_marked(template, part) for part in xml_parts] + _property_parts(template)
    broken = [problem for part in parts for problem in _parse(part)]
    if broken:
        return list(dict.fromkeys(problems + broken))  # a text box is twice in the file, once in Word
    try:
        template.check_tags()
    except TemplateError as exc:
        return list(dict.fromkeys(problems + [_refusal(template, parts, exc)]))
    unknown = template.variables - KNOWN
    problems += _unknown_variables(parts, unknown)
    return list(dict.fromkeys(problems + _rendering(template, unknown)))


# ---------------------------------------------------------------------------------------------
# Each line of a part's Jinja source told to a paragraph.

def _marked(template: Template, part: PartPlaces) -> _Part:
    """The part's source as docxtpl makes it, and the same from the XML with a marker before every
    paragraph, row and cell: split at the markers, one line per paragraph (or row, or cell: docxtpl
    keeps only the ``{%tr %}`` tag of a row) whose line numbers Jinja's errors and nodes carry."""
    source = template.patch_xml(part.xml)
    if part.root is None:
        return _Part(part.kind, source, source, [])
    marked, groups = marked_source(template, part)
    pieces = MARKER.split(marked)
    lines = [[]] + [groups[int(n)] for n in pieces[1::2]]
    return _Part(part.kind, source, "\n".join(piece.replace("\n", " ") for piece in pieces[0::2]), lines)


def _property_parts(template: Template) -> list[_Part]:
    return [_Part("文档属性", place.text, place.text.replace("\n", " "), [[place]])
            for place in template.where if place.where.startswith("文档属性") and "{" in place.text]


# ---------------------------------------------------------------------------------------------
# Tags that do not parse.

def _parse(part: _Part) -> list[str]:
    """Nothing when the part parses as docxtpl renders it, else where and why it does not."""
    env = DataEnvironment()
    try:
        env.parse(part.source)
    except TemplateSyntaxError as exc:
        return _syntax(part, exc)
    except RecursionError:
        return [_too_deep(part)]
    try:
        part.tree = env.parse(part.marked)
    except (TemplateSyntaxError, RecursionError):
        part.tree = None  # cannot be (the markers are only moved apart); then nothing is placed
    return []


def _syntax(part: _Part, real: TemplateSyntaxError) -> list[str]:
    env = DataEnvironment()
    try:
        tokens = [token for token in env.lexer.tokeniter(part.marked, None) if token[1] != "whitespace"]
    except TemplateSyntaxError as exc:
        return [_bad_tag(part, exc)]
    found = _unpaired(part, tokens)
    if found:
        return found
    try:
        env.parse(part.marked)
    except TemplateSyntaxError as exc:
        return [_bad_tag(part, exc)]
    except RecursionError:
        return [_too_deep(part)]
    return [f"{part.kind}中的标签写法有误，无法解析：{tag_problem(real)}"]


def _bad_tag(part: _Part, exc: TemplateSyntaxError) -> str:
    place = part.place(exc.lineno)
    if place:
        tag, problem = _failing(place.text)
        if tag:
            return f"{place.label}：标签“{tag[:80]}”写法有误，无法解析：{tag_problem(problem)}"
    return f"{part.label(exc.lineno)}：标签写法有误，无法解析：{tag_problem(exc)}"


def _failing(text: str) -> tuple[str, Exception | None]:
    """The first tag of a paragraph that does not parse on its own (a block tag with its end)."""
    env = DataEnvironment()
    for match in _PRINTED.finditer(text):
        tag = match.group()
        block = _BLOCK_TAG.fullmatch(tag)
        source = as_jinja(tag)
        if block and block.group(2) in OPENERS:
            source += "{% end" + block.group(2) + " %}"
        elif block:
            continue  # an end, else or set: judged by its pairing
        try:
            env.parse(source)
        except TemplateSyntaxError as exc:
            return tag, exc
        except RecursionError:
            return tag, None
    return "", None


def _unpaired(part: _Part, tokens: list[tuple[int, str, str]]) -> list[str]:
    """``if``, ``for``… without their end, ends without their opening tag, ``else`` outside any
    ``if``: each named where it stands (Jinja itself says only that the template ended). An end
    closes the nearest opening tag written the same way (``{%p endfor %}`` a ``{%p for %}``), so a
    ``{% for %}`` left open in a table cell is the one named, not the ``{%p for %}`` around it."""
    stack: list[tuple[int, str, int]] = []
    found: list[tuple[int, str]] = []
    seen: Counter = Counter()
    i = 0
    while i < len(tokens):
        lineno, kind, _ = tokens[i]
        i += 1
        if kind != "block_begin":
            continue
        inner = []
        while i < len(tokens) and tokens[i][1] != "block_end":
            inner.append(tokens[i])
            i += 1
        if not inner or inner[0][1] != "name":
            continue
        keyword = inner[0][2]
        tag = (lineno, keyword, seen[lineno, keyword])
        seen[lineno, keyword] += 1
        if keyword in OPENERS or keyword == "set" and not any(t == "operator" and v == "=" for _, t, v in inner):
            stack.append(tag)
        elif keyword in _MIDDLES:
            if not stack or stack[-1][1] not in _MIDDLES[keyword]:
                found.append((lineno, _misplaced(part, tag)))
        elif keyword.startswith("end"):
            same = [k for k, opened in enumerate(stack) if opened[1] == keyword[3:]]
            if not same:
                found.append((lineno, _unopened(part, tag)))
                continue
            prefix = _block(part, tag)[2]
            k = next((k for k in reversed(same) if _block(part, stack[k])[2] == prefix), same[-1])
            while len(stack) > k + 1:
                found.append((stack[-1][0], _unclosed(part, stack.pop())))
            stack.pop()
    found += [(opened[0], _unclosed(part, opened)) for opened in stack]
    return [message for _, message in sorted(found, key=lambda item: item[0])]


def _block(part: _Part, tag: tuple[int, str, int]) -> tuple[str, str, str]:
    """(where, the tag as written, its docxtpl prefix) of a block tag the lexer found."""
    lineno, keyword, nth = tag
    places = part.places(lineno)
    for place in places:
        for match in _BLOCK_TAG.finditer(place.text):
            if match.group(2) == keyword:
                if nth == 0:
                    return place.label, match.group(), match.group(1) or ""
                nth -= 1
    return part.label(lineno), f"{{% {keyword} … %}}", ""


def _written(prefix: str, words: str) -> str:
    return "{%" + (prefix + " " if prefix else " ") + words + " %}"


def _on_its_own(prefix: str) -> str:
    return {"p": "（单独一段）", "tr": "（表格中单独一行）"}.get(prefix, "")


def _unclosed(part: _Part, tag: tuple[int, str, int]) -> str:
    label, written, prefix = _block(part, tag)
    end = _written(prefix, "end" + tag[1])
    return (f"{label}：标签写法有误，“{written[:80]}”没有对应的“{end}”，整个模板无法生成；"
            f"请在它所管的内容之后补上“{end}”{_on_its_own(prefix)}，或删除这个标签")


def _unopened(part: _Part, tag: tuple[int, str, int]) -> str:
    label, written, prefix = _block(part, tag)
    opening = _written(prefix, tag[1][3:] + " …")
    return (f"{label}：标签写法有误，“{written[:80]}”前面没有与之配对的“{opening}”（可能删掉了开头标签所在的段落），"
            f"整个模板无法生成；请补上开头的标签，或删除这个标签")


def _misplaced(part: _Part, tag: tuple[int, str, int]) -> str:
    label, written, prefix = _block(part, tag)
    inside = "、".join(_written(prefix, opener + " …") for opener in sorted(_MIDDLES[tag[1]], reverse=True))
    return (f"{label}：标签写法有误，“{written[:80]}”不在任何“{inside}”之内，整个模板无法生成；"
            f"请补上它所属的开头标签，或删除这个标签")


def _too_deep(part: _Part) -> str:
    places = [place for line in part.lines for place in line]
    deepest = max(places, key=lambda p: max((len(t) for t in _PRINTED.findall(p.text)), default=0), default=None)
    where = deepest.label if deepest else f"{part.kind}（位置未能确定）"
    return f"{where}：有标签的括号或 not 层层嵌套、深得无法解析；请简化这个标签"


# ---------------------------------------------------------------------------------------------
# Tags the sandbox refuses, names the circular does not have.

def _refusal(template: Template, parts: list[_Part], exc: TemplateError) -> str:
    """The refusal, placed by the node that is refused (the tag's words may not hold the name it
    uses, as in ``title['\\x5f\\x5fclass\\x5f\\x5f']``)."""
    for part in parts:
        if part.tree is None:
            continue
        try:
            template._refuse_forbidden(part.tree, lambda node, part=part: part.place(node.lineno))
        except TemplateError as placed:
            return _short(str(placed), template)
    return _short(str(exc), template)


def _short(message: str, template: Template) -> str:
    """A template's message without the path the check has already printed."""
    return message.replace(f"通报模板 {template.path} 的标签", "标签").replace(f"通报模板 {template.path} ", "模板")


def _unknown_variables(parts: list[_Part], unknown: set[str]) -> list[str]:
    problems = []
    for name in sorted(unknown):
        close = difflib.get_close_matches(name, sorted(KNOWN), n=1, cutoff=0.6)
        advice = (f"是不是“{close[0]}”？请改正这个变量名" if close else
                  f"请改正变量名或删除这个标签；可用的变量：{'、'.join(sorted(KNOWN))}")
        places = dict.fromkeys(part.place(node.lineno) for part in parts if part.tree is not None
                               for node in part.tree.find_all(nodes.Name) if node.name == name and node.ctx == "load")
        for place in places or [None]:
            used = re.compile(rf"(?<![\w.]){re.escape(name)}(?!\w)")
            tag = next((t for t in _PRINTED.findall(place.text) if used.search(t)), "") if place else ""
            problems.append(f"{place.label if place else '模板中'}：{f'标签“{tag[:80]}”' if tag else '模板'}"
                            f"用到了未知的变量“{name}”，生成时这里会是空白；{advice}")
    return problems


# ---------------------------------------------------------------------------------------------
# Text docxtpl leaves out: whatever shares a paragraph, cell or row with a {%p %}, {%tc %}, {%tr %}.

def _lost_text(part: PartPlaces) -> list[str]:
    if part.root is None:
        return []
    place_of = dict(part.paragraphs)
    judged: set = set()
    problems = []
    for prefix, (element_tag, unit, elsewhere) in _WHOLE.items():
        kept = re.compile(r"(?:\{%|\{\{)" + prefix + r" [^}%]*(?:%\}|\}\})|\{#" + prefix + r" [^}#]*#\}")
        for element in part.root.iter(element_tag):
            paragraphs = [p for p in ([element] if element_tag == P else element.iter(P))
                          if p in place_of and p not in judged]
            holder = next((p for p in paragraphs if kept.search(place_of[p].text)), None)
            if holder is None:
                continue
            judged.update(paragraphs)
            tag = kept.search(place_of[holder].text).group()
            rest = " ".join(place_of[p].text.replace(tag, " ", 1) if p is holder else place_of[p].text
                            for p in paragraphs)
            rest = " ".join(re.sub(r"\{#.*?#\}", " ", rest).split())  # a comment is never printed anyway
            if rest:
                shown = rest if len(rest) <= 30 else rest[:30] + "…"
                problems.append(f"{place_of[holder].label}：与“{tag[:80]}”同在一{unit}的文字“{shown}”在生成的通报中丢失了"
                                f"（{{%{prefix} …%}} 标签所在的整{unit}只留下这个标签）；请把这些文字移到{elsewhere}")
    return problems


# ---------------------------------------------------------------------------------------------
# Rendering a full sample context.

def _rendering(template: Template, unknown: set[str]) -> list[str]:
    """A tag that fails when every section is rendered with sample data (unless it is a name
    already reported unknown). A tag that renders is never reported: whatever braces the output
    shows, the template printed on purpose (``{% raw %}``, docxtpl's ``{_{``)."""
    with tempfile.TemporaryDirectory() as tmp:
        picture = Path(tmp) / "chart.png"
        picture.write_bytes(_PNG)
        try:
            template.render_isolated(sample_context(), {"chart": (str(picture), 170)})
        except TemplateError as exc:
            message = _short(str(exc), template)
            if any(f"没有的变量“{name}”" in message for name in unknown):
                return []
            return [f"用示例数据试生成时出错：{message}" + ("" if "请" in message else "；请改正或删除这个标签")]
    return []


def _png() -> bytes:
    """A 1 × 1 picture where the chart goes (the real chart is a picture too)."""
    import struct

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


_PNG = _png()


def sample_context() -> dict:
    """A context in the shape ``build_context`` gives, every section present (an internal circular
    with lagging, missing and refused units, categories, a two-page annex): counts are numbers as
    text, texts are sentences, as in a real circular."""
    project = {"name": "新建改扩建公办幼儿园", "target": "新建改扩建公办幼儿园12所", "progress": "已完成6所。"}
    unit = {"serial": "1", "unit": "市教育局", "rows": [project, project]}
    context = {name: f"示例{name}" for name in KNOWN}  # a variable added since: text, as most are
    context.update(
        title="2020年1-6月份民生工程项目进展情况", period_label="2020年1-6月", period_end="6月底", schedule="50%",
        issuer="市民生工程领导小组办公室", overview="全市33项民生工程任务中，已有5项完成全年任务目标。",
        funds="资金已拨付12.5亿元。",
        categories=[{"ordinal": "一", "name": "办好人民满意教育", "summary": "6个指标中，已完成或达标3个。"}] * 2,
        lagging_units=[{"unit": "市教育局", "text": "资助幼儿尚未启动。", "count": "1"}] * 2, lagging_count="2",
        missing_units="市民政局", missing_count="1", refused_units="市医保局", refused_count="1", internal=True,
        ranking="平均完成率较高且没有滞后、未达标或待核实指标的是市教育局（60.0%）。", deadline="请各牵头单位于7月5日前报送进展情况。",
        annex=[{"units": [unit, dict(unit, serial="2", unit="市医保局")]}, {"units": [unit]}],
        date="2020年7月10日", chart="")
    for name, value in {"lagging_title": "进度滞后的指标", "lagging_intro": "以下2个指标进度滞后或尚未启动，请有关单位加快推进：",
                        "progress": "与1-5月相比，新完成任务2项。", "on_time": "7月5日"}.items():
        if name in KNOWN:
            context[name] = value
    return context
