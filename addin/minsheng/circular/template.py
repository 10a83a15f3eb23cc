"""Word templates the office edits (通报模板): guarded, checked and rendered as data, never as code.

A template sits in the working folder, often on a shared drive, and offices pass templates to each
other: whoever can write that file must not be able to run anything on the clerk's machine. So:

- the file is checked like a submitted workbook before a byte of it is parsed (size, part count,
  sizes and compression ratios from the zip directory);
- its tags are parsed once, and ``include``/``import``/``extends``/``autoescape``, ``{%- -%}``,
  names starting with ``_`` and filters outside a short list of text filters are refused with the
  tag named;
- it is rendered in the sandbox of ``template_sandbox`` (a name is a key of plain data, nothing
  else), in a worker process with a time and memory limit, a department's text always escaped.

Every refusal is one Chinese sentence that quotes the tag and says where it stands.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import TemplateSyntaxError, UndefinedError, meta, nodes
from lxml import etree

from ..errors import TemplateError
from ..untrusted.guard import package_refusal
from ..untrusted.inbox import Unreadable, read_regular
from ..untrusted.sandbox import OUT_OF_MEMORY, TIMED_OUT, Pool
from .template_sandbox import FILTERS, DataEnvironment, MissingData, TemplateRefused

MAX_TEMPLATE_BYTES = 20 * 1024 * 1024  # a circular template with a letterhead picture is ~100 KB
MAX_TEMPLATE_UNPACKED = 100 * 1024 * 1024
MAX_TEMPLATE_PART = 8 * 1024 * 1024  # document.xml of a 50-page document is ~1 MB
_TRIM = re.compile(r"\{[{%#]-|-[}%#]\}")
_FORBIDDEN_TAGS = {nodes.Include: "include", nodes.Import: "import", nodes.FromImport: "import",
                   nodes.Extends: "extends"}
_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}")


def _parts(template: DocxTemplate, body: str) -> Iterator[tuple[str, str]]:
    """(where, Jinja source) of each part docxtpl renders: body, headers, footers, properties, footnotes."""
    xml_parts = list(_xml_parts(template, body))
    for kind, xml in xml_parts:
        if kind != "脚注":
            yield kind, template.patch_xml(xml)
    for _, value in _properties(template):
        if "{" in value:
            yield "文档属性", value
    for kind, xml in xml_parts:
        if kind == "脚注":
            yield kind, template.patch_xml(xml)


def _xml_parts(template: DocxTemplate, body: str | None = None) -> Iterator[tuple[str, str]]:
    """(kind, XML) of each part docxtpl renders as XML, in its order: 正文, 页眉, 页脚, 脚注."""
    yield "正文", template.get_xml() if body is None else body
    for uri, kind in ((template.HEADER_URI, "页眉"), (template.FOOTER_URI, "页脚")):
        for _, part in template.get_headers_footers(uri):
            yield kind, template.get_part_xml(part)
    for footnotes in _footnotes(template):
        yield "脚注", footnotes


_PROPERTIES = {"author": "作者", "comments": "备注", "identifier": "标识", "language": "语言", "subject": "主题",
               "title": "标题"}


def _properties(template: DocxTemplate) -> Iterator[tuple[str, str]]:
    """(name in Word, value) of the document properties docxtpl renders."""
    props = template.docx.core_properties
    for name, shown in _PROPERTIES.items():
        yield shown, getattr(props, name) or ""


def _footnotes(template: DocxTemplate) -> Iterator[str]:
    """The XML of the footnotes parts, which docxtpl renders too."""
    for part in template.docx.part.package.parts:
        if part.content_type == _FOOTNOTES:
            yield part.blob.decode("utf-8") if isinstance(part.blob, bytes) else part.blob


_FOOTNOTES = "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml"


class Template(DocxTemplate):
    """An office's Word template, guarded and parsed (``load``). ``variables``: the top-level names
    its tags use. ``cell_tags``: it has tags that add or span table cells, after which docxtpl's
    table repair (a walk over every cell, a tenth of the circular's time) is needed."""

    def __init__(self, path: Path, data: bytes):
        super().__init__(io.BytesIO(data))
        self.path, self.data = path, data
        self.variables: set[str] = set()
        self.cell_tags = True
        self.where: list[Place] = []  # every paragraph, as the clerk finds it in Word, for messages

    @classmethod
    def load(cls, path: Path) -> Template:
        """The file, checked before any reading and opened: a damaged, oversized or hostile file
        is one ``TemplateError``. Its tags are checked by ``check_tags``."""
        if path.is_symlink():
            raise TemplateError(f"通报模板 {path} 是快捷方式（符号链接），未读取；请把模板文件本身放在这里")
        if path.is_dir():
            raise TemplateError(f"通报模板 {path} 是一个文件夹，不是 Word 文件；请把它改名或移走，放入模板文件")
        try:
            data, _ = read_regular(path, MAX_TEMPLATE_BYTES)
        except Unreadable as exc:
            raise TemplateError(f"无法读取通报模板 {path}：{exc}") from None
        refusal = _package_refusal(data)
        if refusal:
            raise TemplateError(f"通报模板 {path} {refusal}，未生成通报；请在 Word 中打开它另存为新的 .docx，"
                                f"或把它改名，以使用自带的模板")
        return cls(path, data)._opened()

    def _opened(self) -> Template:
        try:
            self.init_docx()
            body = self.get_xml()
            self.sources = list(_parts(self, body))
        except Exception as exc:  # noqa: BLE001 - no document part, broken XML…
            raise TemplateError(f"通报模板 {self.path} 不是有效的 Word .docx 文件，未生成通报；请在 Word 中打开它并"
                                f"另存为“Word 文档(*.docx)”，或把它改名，以使用自带的模板") from exc
        self.where = paragraph_places(self)
        # In the text, with Word's markup (which may split a tag into runs) taken out.
        self.cell_tags = bool(_CELL_TAGS.search(re.sub(r"<[^>]*>", "", body)))
        return self

    def check_tags(self) -> None:
        """Parse every part's tags: a syntax error, ``include``/``import``/``extends``, a name that
        starts with ``_``, a filter outside ``FILTERS`` is a ``TemplateError`` naming the tag."""
        env = DataEnvironment()
        for where, source in self.sources:
            try:
                tree = env.parse(source)
                self._refuse_forbidden(tree)
                self.variables |= set(meta.find_undeclared_variables(tree))
            except TemplateSyntaxError as exc:
                raise TemplateError(f"通报模板 {self.path} 中的标签写法有误，无法解析（{where}）：{tag_problem(exc)}；"
                                    f"运行 minsheng circular --check-template 可列出每处问题所在的段落") from exc
            except RecursionError:
                raise TemplateError(f"通报模板 {self.path} 中有标签的括号或 not 层层嵌套、深得无法解析（{where}）；"
                                    f"请简化这个标签") from None
        self._whitespace_control()

    def _refuse_forbidden(self, tree: nodes.Template, near: Callable[[nodes.Node], Place | None] | None = None) -> None:
        """``near(node)``: the paragraph a node stands in, when the caller knows it (``check``)."""
        def refused(needle: str | re.Pattern, message: str, node: nodes.Node) -> TemplateError:
            return self._refused(needle, message, near(node) if near else None)

        for node in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
            tag = _FORBIDDEN_TAGS[type(node)]
            raise refused(tag, f"模板中不能使用“{tag}”（不能引入其他文件），请删除这个标签", node)
        for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name, nodes.Filter)):
            if isinstance(node, nodes.Getitem):
                name = node.arg.value if isinstance(node.arg, nodes.Const) else ""
            else:
                name = node.attr if isinstance(node, nodes.Getattr) else node.name
            if isinstance(name, str) and name.startswith("_"):
                raise refused(name, f"模板中不能使用以“_”开头的名称“{name}”（那是程序内部的东西），请删除这个标签", node)
            if isinstance(node, nodes.Name) and name == "self":
                raise refused(name, "模板中不能使用“self”（它不是数据），请删除这个标签", node)
            if isinstance(node, nodes.Filter) and name not in FILTERS:
                raise refused(name, f"模板中不能使用过滤器“{name}”；可用的过滤器：{'、'.join(sorted(FILTERS))}", node)
        for node in tree.find_all((nodes.ScopedEvalContextModifier, nodes.EvalContextModifier)):
            raise refused("autoescape", "模板中不能使用“autoescape”（各单位的文字必须原样显示，不能变成 Word 格式代码），"
                                        "请删除这个标签", node)
        macros = {m.name for m in tree.find_all(nodes.Macro)}
        for node, parent in _with_parents(tree):
            if not isinstance(node, nodes.Name) or node.ctx != "load":
                continue
            called = isinstance(parent, nodes.Call) and parent.node is node
            tested = (isinstance(parent, (nodes.CondExpr, nodes.If)) and parent.test is node
                      or isinstance(parent, (nodes.Test, nodes.Not)) and parent.node is node)
            if node.name == "loop" and not (called or isinstance(parent, nodes.Getattr) and parent.node is node):
                raise refused(re.compile(r"\bloop\b(?!\.)"), "“loop”不是数据，只能这样用：loop.index、loop.first、"
                                                            "loop.last、loop.length", node)
            if (node.name == "caller" or node.name in macros) and not (called or tested):
                raise refused(re.compile(rf"\b{node.name}\b(?!\s*\()"),
                              f"宏“{node.name}”只能调用（写作 {node.name}(…)），不能当作数据使用", node)

    def _whitespace_control(self) -> None:
        """``{%- … -%}`` takes away the text around a tag, in a Word file whole paragraphs with it
        (docxtpl joins the tag to the paragraph before or after it)."""
        for place in self.where:
            for tag in _TAG.findall(place.text):
                if _TRIM.search(tag):
                    raise TemplateError(f"通报模板 {self.path} 的标签“{tag[:80]}”（{place.inline(tag)}）：紧挨括号的“-”"
                                        f"会把标签前后的文字（在 Word 里是整段）一起删掉，请去掉这个“-”")

    def _refused(self, needle: str | re.Pattern, message: str, near: Place | None = None) -> TemplateError:
        return TemplateError(f"通报模板 {self.path} 的标签{self.locate(needle, near)}：{message}")

    def fix_tables(self, xml):
        if self.cell_tags:
            return super().fix_tables(xml)
        return etree.fromstring(xml, parser=etree.XMLParser(recover=True))  # as docxtpl parses it

    def render_data(self, context: dict) -> None:
        """Render in the sandbox, here; any failure is a ``TemplateError`` quoting the tag."""
        try:
            self.render(context, jinja_env=DataEnvironment(), autoescape=True)
        except MemoryError:
            raise  # the worker's limit: said by ``render_isolated``
        except Exception as exc:  # noqa: BLE001 - whatever the office's tags do
            # Told from the template as the office wrote it (rendering may have changed this one).
            explained = Template(self.path, self.data)._opened().explain(exc, self._rendering(), context)
            raise TemplateError(f"通报模板 {self.path} {explained}") from exc

    def _rendering(self) -> str:
        """Which part docxtpl was rendering (正文, 页眉, 页脚, 脚注), as ``sources`` names it."""
        name = str(getattr(getattr(self, "current_rendering_part", None), "partname", ""))
        for word, where in (("document", "正文"), ("header", "页眉"), ("footer", "页脚"), ("footnote", "脚注")):
            if word in name:
                return where
        return ""

    def render_isolated(self, context: dict, images: dict[str, tuple[str, float]] | None = None,
                        finish: Callable | None = None) -> bytes:
        """The rendered document's bytes, rendered in a worker process with a time and memory
        limit: loops, filters and macros can still ask for hours or gigabytes, and the sandbox
        cannot tell beforehand. ``images``: context names → (PNG path, width in mm), made into
        pictures there; ``finish(docx)`` runs on the document before it is saved."""
        job = (self.path, self.data, self.cell_tags, context, images or {}, finish)
        outcome = next(Pool(_render_job, processes=1, timeout=RENDER_SECONDS, memory=RENDER_MEMORY).map([job]))
        if outcome.failure:
            why = {TIMED_OUT: f"用时超过 {RENDER_SECONDS:.0f} 秒", OUT_OF_MEMORY: "占用内存过多"}.get(
                outcome.failure, "程序异常退出")
            raise TemplateError(f"通报模板 {self.path} 生成时{why}，已中止；模板中可能有次数过多的循环、"
                                f"层层调用的宏或过长的文字，请检查最近改动过的标签")
        error, data = outcome.result
        if error:
            raise TemplateError(error)
        return data

    def explain(self, exc: Exception, part: str = "", context: dict | None = None) -> str:
        """Where the tag is and what is wrong with it, in Chinese. ``context``: what was rendered
        (it tells which of a paragraph's tags fails)."""
        tag, near = self._failing_tag(exc, part, context)
        if isinstance(exc, TemplateRefused):
            return f"的标签{self.locate(exc.needle or tag, near)}：{exc.reason}"
        if isinstance(exc, MissingData):
            if exc.written.startswith((".", "[")):
                key = exc.written.strip(".[]'\"")
                return f"的标签{self.locate(exc.written, near)}取用了数据中没有的项“{key}”"
            name = re.split(r"[.\[]", exc.written)[0]
            return f"的标签{self.locate(exc.written, near)}用到了没有的变量“{name}”"
        if isinstance(exc, UndefinedError):  # Jinja's own words: "'x' is undefined"
            match = re.search(r"'(\w+)'", str(exc))
            name = match.group(1) if match else "?"
            return f"的标签{self.locate(name, near)}用到了没有的变量“{name}”"
        reason = next((words for kind, words in _RUNTIME.items() if isinstance(exc, kind)), "")
        if tag:
            return f"的标签{self.locate(tag, near)}无法计算：{reason or '数据不能这样运算'}"
        if reason:
            return f"中的标签无法计算：{reason}"
        return f"中的标签有误：{tag_problem(exc)}"

    def _failing_tag(self, exc: Exception, part: str = "", context: dict | None = None) -> tuple[str, Place | None]:
        """The tag on the template line where ``exc`` arose, and the paragraph that line begins with
        (Jinja keeps template lines in the traceback; docxtpl renders each part with a line break
        before every paragraph, a ``{%p %}`` tag joining the line before)."""
        lines = [tb.tb_lineno for tb in _tracebacks(exc) if tb.tb_frame.f_code.co_filename == "<template>"]
        if not lines:
            return "", None
        for where, source in self.sources:
            if part and where != part:
                continue
            numbered = re.sub(r"<w:p([ >])", r"\n<w:p\1", source).splitlines()
            if lines[-1] <= len(numbered):
                tags = _TAG.findall(re.sub(r"<[^>]*>", "", numbered[lines[-1] - 1]))
                if tags:
                    tag = _culprit(tags, exc, context)
                    return tag, self._line_place(where, lines[-1], tag)
        return "", None

    def _line_place(self, part: str, lineno: int, tag: str) -> Place | None:
        """The paragraph of ``part``'s line ``lineno`` that holds ``tag``, else the line's first
        paragraph with a tag."""
        for lines in _source_lines(self, part):
            if lineno <= len(lines):
                places = lines[lineno - 1]
                for place in places:
                    if tag in [as_jinja(written) for written in _TAG.findall(place.text)]:
                        return place
                return next((place for place in places if _TAG.search(place.text)), None)
        return None

    def locate(self, needle: str | re.Pattern, near: Place | None = None) -> str:
        """``“{{ ''.__class__ }}”（正文第 3 段“附：{{ ''.__class__ }}”）`` for the first tag holding
        ``needle``, looked for from the paragraph ``near`` on if it is given."""
        places = self.where
        if near in places:
            at = places.index(near)
            places = places[at:] + places[:at]
        for place in places:
            for tag in _TAG.findall(place.text):
                if needle and (needle.search(tag) if isinstance(needle, re.Pattern) else needle in as_jinja(tag)
                               or needle in tag):
                    return f"“{tag[:80]}”（{place.inline(tag)}）"
        if near:  # the name is not written as such (``title['\x5f\x5fclass\x5f\x5f']``): its paragraph's tag
            tags = _TAG.findall(near.text)
            return f"“{tags[0][:80]}”（{near.inline(tags[0])}）" if len(tags) == 1 else f"（{near.inline()}）"
        return f"（含“{needle[:40]}”）" if isinstance(needle, str) and needle else ""


OPENERS = {"for", "if", "macro", "call", "filter", "with", "block", "autoescape", "trans"}  # tags Jinja wants ended


def as_jinja(tag: str) -> str:
    """A tag as docxtpl hands it to Jinja: ``{%p``/``{%tr`` prefixes gone, Word's curly quotes plain."""
    tag = re.sub(r"^(\{[%{#])(?:p|tr|tc|r) ", r"\1 ", tag)
    return tag.translate(str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'"}))


def _culprit(tags: list[str], exc: Exception, context: dict | None) -> str:
    """Which of a line's tags raised ``exc``: the first that raises it alone (a block tag with its
    end), else the first. Run where the rendering ran, in the worker."""
    if len(tags) == 1 or context is None:
        return tags[0]
    env = DataEnvironment()
    for tag in tags:
        block = re.match(r"\{%-?\s*(\w+)", tag)
        if block and block.group(1) not in OPENERS:
            continue
        try:
            env.from_string(tag + ("{% end" + block.group(1) + " %}" if block else "")).render(context)
        except type(exc):
            return tag
        except Exception:  # noqa: BLE001, S110 - another failure (a loop's variable alone): not this tag
            pass
    return tags[0]


RENDER_SECONDS = 60.0  # a 1,000-row circular renders in half a second
RENDER_MEMORY = 1024 * 1024 * 1024


def _render_job(job) -> tuple[str, bytes]:
    """In a worker: (error message, b"") or ("", the document's bytes). The template is opened
    anew: one whose paragraphs were read before rendering keeps python-docx's view of the body
    docxtpl replaces, and ``finish`` would change the old body."""
    path, data, cell_tags, context, images, finish = job
    template = Template(path, data)
    template.init_docx()
    template.cell_tags = cell_tags
    context = dict(context)
    for name, (picture, width) in images.items():
        context[name] = InlineImage(template, picture, width=Mm(width))
    try:
        template.render_data(context)
    except TemplateError as exc:
        return str(exc), b""
    if finish is not None:
        finish(template.docx)
    out = io.BytesIO()
    template.save(out)
    return "", out.getvalue()


def open_template(path: Path) -> Template:
    """The office's template, guarded, opened and its tags checked (``TemplateError`` if not)."""
    template = Template.load(path)
    template.check_tags()
    return template


def _package_refusal(data: bytes) -> str:
    if not data.startswith(b"PK\x03\x04"):
        return "不是有效的 Word .docx 文件（可能是旧的 .doc 或其他文件）"
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        return "不是有效的 Word .docx 文件（压缩包结构已损坏）"
    # The reason only: what to do is said once, for a template.
    refusal = package_refusal(members, MAX_TEMPLATE_UNPACKED, MAX_TEMPLATE_PART).split("；")[0]
    return refusal.removeprefix("文件").replace("，已拒收", "")


_RUNTIME = {RecursionError: "有宏无休止地调用自己", TypeError: "数据类型不能这样比较或运算（如把文字当作数字）", ZeroDivisionError: "除数为 0",
            OverflowError: "数值过大", ValueError: "数值不对", IndexError: "列表中没有这一项"}


def _tracebacks(exc: BaseException):
    tb = exc.__traceback__
    while tb is not None:
        yield tb
        tb = tb.tb_next


def _with_parents(node: nodes.Node, parent: nodes.Node | None = None) -> Iterator[tuple[nodes.Node, nodes.Node | None]]:
    yield node, parent
    for child in node.iter_child_nodes():
        yield from _with_parents(child, node)


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
P, TBL, TR, TC = _W + "p", _W + "tbl", _W + "tr", _W + "tc"
_T, _TXBX, _FOOTNOTE, _TYPE = _W + "t", _W + "txbxContent", _W + "footnote", _W + "type"
_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
FIRST_WORDS = 15  # how much of a paragraph a message quotes
_XML = etree.XMLParser(resolve_entities=False, no_network=True, recover=True)


@dataclass(frozen=True)
class Place:
    """A paragraph as the clerk finds it in Word: ``where`` (正文第 12 段, counting body and table-cell
    paragraphs in document order; 页眉第 1 段; 文档属性“标题”), ``cell`` (第 1 个表格第 2 行, for one in a
    table) and ``text``, its runs joined (as docxtpl joins a tag Word split into runs)."""

    where: str
    text: str
    cell: str = ""

    @property
    def start(self) -> str:
        """The first words (``FIRST_WORDS`` characters, or to the end of a tag they cut into)."""
        text = " ".join(self.text.split())
        if len(text) <= FIRST_WORDS:
            return text
        cut = FIRST_WORDS
        for tag in _ANY_TAG.finditer(text):
            if tag.start() < cut < tag.end() <= 4 * FIRST_WORDS:
                cut = tag.end()
        return text[:cut] + ("…" if cut < len(text) else "")

    @property
    def label(self) -> str:
        """Leading a line: ``正文第 12 段（“截至{{ period_end }}…”）``."""
        shown = f"“{self.start}”" if self.text.strip() else "空段落"
        return f"{self.where}（{self.cell + '，' if self.cell else ''}{shown}）"

    def inline(self, tag: str = "") -> str:
        """Inside brackets after ``tag``: ``正文第 12 段“截至{{ period_end }}…”`` (the words left
        out when the paragraph is that tag alone)."""
        cell = f"，{self.cell}" if self.cell else ""
        if not self.text.strip() or self.text.strip() == tag:
            return f"{self.where}{cell}"
        return f"{self.where}{cell}“{self.start}”"


_ANY_TAG = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}")


@dataclass
class PartPlaces:
    """One part docxtpl renders as XML (``kind``: 正文, 页眉, 页脚, 脚注): its ``xml``, that XML parsed
    (``root``, a copy: marking it changes nothing) and its paragraphs' elements and places."""

    kind: str
    xml: str
    root: etree._Element | None
    paragraphs: list[tuple[etree._Element, Place]]


def place_parts(template: DocxTemplate) -> list[PartPlaces]:
    """The parts docxtpl renders as XML, each with its paragraphs numbered as the clerk counts them."""
    counters: dict[str, _Paragraphs] = {}
    parts = []
    for kind, xml in _xml_parts(template):
        root = etree.fromstring(xml.encode("utf-8"), _XML)
        numbered = counters.setdefault(kind, _Paragraphs(kind))
        parts.append(PartPlaces(kind, xml, root, list(numbered(root)) if root is not None else []))
    return parts


def paragraph_places(template: DocxTemplate) -> list[Place]:
    """Every paragraph (and document property) that holds text, as the clerk finds it in Word."""
    places = [place for part in place_parts(template) for _, place in part.paragraphs]
    return places + [Place(f"文档属性“{name}”", value) for name, value in _properties(template) if value]


class _Paragraphs:
    """Numbers paragraphs as a reader counts them: body and table-cell paragraphs in document order,
    one count over all parts of a kind (every 页眉); a text box's paragraphs are numbered within the
    paragraph that holds it."""

    def __init__(self, name: str):
        self.name, self.count, self.tables = name, 0, 0

    def __call__(self, root: etree._Element) -> Iterator[tuple[etree._Element, Place]]:
        yield from self._walk(root, "")

    def _walk(self, element: etree._Element, cell: str) -> Iterator[tuple[etree._Element, Place]]:
        for child in element:
            if child.tag == P:
                self.count += 1
                where = f"{self.name}第 {self.count} 段"
                yield child, Place(where, _text(child), cell)
                yield from _boxes(child, where)
            elif child.tag == TBL:
                self.tables += 1
                yield from self._table(child, self.tables)
            elif child.tag == _FOOTNOTE and child.get(_TYPE):
                continue  # the separator line above the footnotes
            elif isinstance(child.tag, str):
                yield from self._walk(child, cell)  # content controls, footnotes, …

    def _table(self, table: etree._Element, number: int) -> Iterator[tuple[etree._Element, Place]]:
        rows = [row for row in table.iter(TR) if next(row.iterancestors(TBL)) is table]
        for r, row in enumerate(rows, start=1):
            cells = [cell for cell in row.iter(TC) if next(cell.iterancestors(TR)) is row]
            for c, cell in enumerate(cells, start=1):
                yield from self._walk(cell, f"第 {number} 个表格第 {r} 行" + (f"第 {c} 格" if len(cells) > 1 else ""))


_MARK = "minsheng-mark"
MARKER = re.compile(rf"<{_MARK}\b[^>]*?\bn=\"(\d+)\"[^>]*/>")


def marked_source(template: DocxTemplate, part: PartPlaces) -> tuple[str, list[list[Place]]]:
    """The part's Jinja source as docxtpl makes it, from its XML with a marker element
    (``<minsheng-mark n="3"/>``) put before every paragraph, table row and cell, and the paragraphs
    each marker stands for (a row's or cell's: docxtpl keeps only the ``{%tr %}`` tag of a row).
    The markers are Word markup to docxtpl: they change nothing of what Jinja reads. Changes
    ``part.root``."""
    groups: list[list[Place]] = []

    def mark(element: etree._Element, places: list[Place]) -> None:
        if places:
            element.addprevious(etree.Element(_MARK, n=str(len(groups))))
            groups.append(places)

    paragraph_of = dict(part.paragraphs)
    for element, place in part.paragraphs:
        mark(element, [place])
    for container in list(part.root.iter(TR, TC)) if part.root is not None else []:
        mark(container, [paragraph_of[p] for p in container.iter(P) if p in paragraph_of])
    xml = etree.tostring(part.root, encoding="unicode") if part.root is not None else part.xml
    return template.patch_xml(xml), groups


def _source_lines(template: DocxTemplate, kind: str) -> Iterator[list[list[Place]]]:
    """For each part of ``kind``, the paragraphs each line of its source comes from, as docxtpl
    renders it (a line break before every paragraph; a ``{%p %}`` or ``{%tr %}`` tag, which stands
    for its whole paragraph or row, joins the line before)."""
    for part in place_parts(template):
        if part.kind != kind or part.root is None:
            continue
        source, groups = marked_source(template, part)
        lines = re.sub(rf"((?:<{_MARK}\b[^>]*/>)?)<w:p([ >])", r"\n\1<w:p\2", source).split("\n")
        yield [[place for found in MARKER.finditer(line)
                if not line.startswith(("<w:tr", "<w:tc"), found.end())  # an intact row: its paragraphs say
                for place in groups[int(found.group(1))]] for line in lines]


def _boxes(paragraph: etree._Element, where: str) -> Iterator[tuple[etree._Element, Place]]:
    """The paragraphs of the text boxes ``paragraph`` holds. Word writes each box twice (for new and
    for old versions of Word): both copies are named alike, as the one box the clerk sees."""
    boxes = [box for box in paragraph.iter(_TXBX) if next(box.iterancestors(P)) is paragraph]
    old = [any(a.tag == _FALLBACK for a in box.iterancestors()) for box in boxes]
    seen = {False: 0, True: 0}
    for box, fallback in zip(boxes, old):
        seen[fallback] += 1
        number = f"第 {seen[fallback]} 个" if old.count(fallback) > 1 else ""
        yield from _Paragraphs(f"{where}中的{number}文本框")(box)


def _text(paragraph: etree._Element) -> str:
    """The paragraph's text, runs joined (not that of a text box it holds)."""
    return "".join(t.text or "" for t in paragraph.iter(_T) if next(t.iterancestors(P)) is paragraph)


# Tags with which a row can gain cells (column loops, spans, merges).
_CELL_TAGS = re.compile(r"\{[%{]-?\s*(?:tc\s|colspan\s|hm\s*[-%])")


def tag_problem(exc: Exception) -> str:
    """Jinja's English complaint as the clerk can act on it."""
    text = str(exc)
    unknown = re.search(r"unknown tag '(\w+)'", text)
    if unknown:
        return (f"“{{%… {unknown.group(1)} %}}”找不到与之配对的开头（可能删掉了 for 或 if 所在的段落）；"
                f"请把成对的标签一起保留或一起删除")
    extra = re.search(r"expected token 'end of (?:print statement|statement block)', got '([^']*)'", text)
    if extra:
        return (f"一个标签里只能写一项数据或一条语句，这里多出了“{extra.group(1)}”（变量名中不能有空格，"
                f"几项数据之间要用运算符或“|”连接）；请改正这个标签")
    if "end of template" in text or "expected token 'end" in text:
        return "有 for 或 if 标签没有对应的 endfor、endif；请补上，或把成对的标签一起删除"
    if "unexpected" in text:
        return "有标签的括号不成对（如“{{ title }”少了一个“}”）；请检查 {{ }} 与 {% %} 是否成对"
    if isinstance(exc, RecursionError):
        return "有宏（macro）无休止地调用自己；请删除这个宏"
    return "请检查 {{ }} 与 {% %} 是否成对，for/if 是否有对应的 endfor/endif"
