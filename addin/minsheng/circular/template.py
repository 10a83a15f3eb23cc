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
    """(where, Jinja source) of each part docxtpl renders: body, headers, footers, properties."""
    yield "正文", template.patch_xml(body)
    for uri, where in ((template.HEADER_URI, "页眉"), (template.FOOTER_URI, "页脚")):
        for _, part in template.get_headers_footers(uri):
            yield where, template.patch_xml(template.get_part_xml(part))
    props = template.docx.core_properties
    for name in ("author", "comments", "identifier", "language", "subject", "title"):
        value = getattr(props, name) or ""
        if "{" in value:
            yield "文档属性", value
    for footnotes in _footnotes(template):
        yield "脚注", template.patch_xml(footnotes)


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
        self.where: list[tuple[str, str]] = []  # (where, text) of each paragraph, for messages

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
        self.where = list(_paragraph_places(self))
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
                raise TemplateError(f"通报模板 {self.path} 中的标签写法有误，无法解析（{where}）：{tag_problem(exc)}") from exc
            except RecursionError:
                raise TemplateError(f"通报模板 {self.path} 中有标签的括号或 not 层层嵌套、深得无法解析（{where}）；"
                                    f"请简化这个标签") from None
        self._whitespace_control()

    def _refuse_forbidden(self, tree: nodes.Template) -> None:
        for node in tree.find_all((nodes.Include, nodes.Import, nodes.FromImport, nodes.Extends)):
            tag = _FORBIDDEN_TAGS[type(node)]
            raise self._refused(tag, f"模板中不能使用“{tag}”（不能引入其他文件），请删除这个标签")
        for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name, nodes.Filter)):
            if isinstance(node, nodes.Getitem):
                name = node.arg.value if isinstance(node.arg, nodes.Const) else ""
            else:
                name = node.attr if isinstance(node, nodes.Getattr) else node.name
            if isinstance(name, str) and name.startswith("_"):
                raise self._refused(name, f"模板中不能使用以“_”开头的名称“{name}”（那是程序内部的东西），请删除这个标签")
            if isinstance(node, nodes.Name) and name == "self":
                raise self._refused(name, "模板中不能使用“self”（它不是数据），请删除这个标签")
            if isinstance(node, nodes.Filter) and name not in FILTERS:
                raise self._refused(name, f"模板中不能使用过滤器“{name}”；可用的过滤器：{'、'.join(sorted(FILTERS))}")
        for _ in tree.find_all((nodes.ScopedEvalContextModifier, nodes.EvalContextModifier)):
            raise self._refused("autoescape", "模板中不能使用“autoescape”（各单位的文字必须原样显示，不能变成 Word 格式代码），"
                                              "请删除这个标签")
        macros = {m.name for m in tree.find_all(nodes.Macro)}
        for node, parent in _with_parents(tree):
            if not isinstance(node, nodes.Name) or node.ctx != "load":
                continue
            called = isinstance(parent, nodes.Call) and parent.node is node
            tested = (isinstance(parent, (nodes.CondExpr, nodes.If)) and parent.test is node
                      or isinstance(parent, (nodes.Test, nodes.Not)) and parent.node is node)
            if node.name == "loop" and not (called or isinstance(parent, nodes.Getattr) and parent.node is node):
                raise self._refused(re.compile(r"\bloop\b(?!\.)"), "“loop”不是数据，只能这样用：loop.index、loop.first、"
                                                                  "loop.last、loop.length")
            if (node.name == "caller" or node.name in macros) and not (called or tested):
                raise self._refused(re.compile(rf"\b{node.name}\b(?!\s*\()"),
                                    f"宏“{node.name}”只能调用（写作 {node.name}(…)），不能当作数据使用")

    def _whitespace_control(self) -> None:
        """``{%- … -%}`` takes away the text around a tag, in a Word file whole paragraphs with it
        (docxtpl joins the tag to the paragraph before or after it)."""
        for where, text in self.where:
            for tag in _TAG.findall(text):
                if _TRIM.search(tag):
                    raise TemplateError(f"通报模板 {self.path} 的标签“{tag[:80]}”（{where}）：紧挨括号的“-”会把标签"
                                        f"前后的文字（在 Word 里是整段）一起删掉，请去掉这个“-”")

    def _refused(self, needle: str | re.Pattern, message: str) -> TemplateError:
        return TemplateError(f"通报模板 {self.path} 的标签{self.locate(needle)}：{message}")

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
            explained = Template(self.path, self.data)._opened().explain(exc, self._rendering())
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

    def explain(self, exc: Exception, part: str = "") -> str:
        """Where the tag is and what is wrong with it, in Chinese."""
        if isinstance(exc, TemplateRefused):
            needle = exc.needle or self._failing_tag(exc, part)
            return f"的标签{self.locate(needle)}：{exc.reason}"
        if isinstance(exc, MissingData):
            if exc.written.startswith((".", "[")):
                key = exc.written.strip(".[]'\"")
                return f"的标签{self.locate(exc.written)}取用了数据中没有的项“{key}”"
            name = re.split(r"[.\[]", exc.written)[0]
            return f"的标签{self.locate(exc.written)}用到了没有的变量“{name}”"
        if isinstance(exc, UndefinedError):  # Jinja's own words: "'x' is undefined"
            match = re.search(r"'(\w+)'", str(exc))
            name = match.group(1) if match else "?"
            return f"的标签{self.locate(name)}用到了没有的变量“{name}”"
        tag = self._failing_tag(exc, part)
        reason = next((words for kind, words in _RUNTIME.items() if isinstance(exc, kind)), "")
        if tag:
            return f"的标签{self.locate(tag)}无法计算：{reason or '数据不能这样运算'}"
        if reason:
            return f"中的标签无法计算：{reason}"
        return f"中的标签有误：{tag_problem(exc)}"

    def _failing_tag(self, exc: Exception, part: str = "") -> str:
        """The tag on the template line where ``exc`` arose (Jinja keeps template lines in the
        traceback; docxtpl renders each part with a line break before every paragraph)."""
        lines = [tb.tb_lineno for tb in _tracebacks(exc) if tb.tb_frame.f_code.co_filename == "<template>"]
        if not lines:
            return ""
        for where, source in self.sources:
            if part and where != part:
                continue
            numbered = re.sub(r"<w:p([ >])", r"\n<w:p\1", source).splitlines()
            if lines[-1] <= len(numbered):
                tags = _TAG.findall(re.sub(r"<[^>]*>", "", numbered[lines[-1] - 1]))
                if tags:
                    return tags[0]
        return ""

    def locate(self, needle: str | re.Pattern) -> str:
        """``“{{ ''.__class__ }}”（正文第 3 段）`` for the first tag holding ``needle``."""
        for where, text in self.where:
            for tag in _TAG.findall(text):
                if needle and (needle.search(tag) if isinstance(needle, re.Pattern) else needle in tag):
                    return f"“{tag[:80]}”（{where}）"
        return f"（含“{needle[:40]}”）" if isinstance(needle, str) and needle else ""


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


def _paragraph_places(template: DocxTemplate) -> Iterator[tuple[str, str]]:
    """(where, text) of every paragraph, as the clerk finds it in Word."""
    doc = template.docx
    for n, paragraph in enumerate(doc.paragraphs, start=1):
        yield f"正文第 {n} 段", paragraph.text
    for t, table in enumerate(doc.tables, start=1):
        for r, row in enumerate(table.rows, start=1):
            for cell in row.cells:
                yield f"第 {t} 个表格第 {r} 行", cell.text
    for section in doc.sections:
        for part, where in ((section.header, "页眉"), (section.footer, "页脚")):
            for paragraph in part.paragraphs:
                yield where, paragraph.text
    props = doc.core_properties
    for name in ("author", "comments", "identifier", "language", "subject", "title"):
        yield "文档属性", getattr(props, name) or ""
    for footnotes in _footnotes(template):
        for paragraph in re.split(r"<w:p[ >]", footnotes):
            yield "脚注", re.sub(r"<[^>]*>", "", paragraph)
    for box in re.findall(r"<w:txbxContent>(.*?)</w:txbxContent>", template.get_xml(), re.S):
        for paragraph in re.split(r"<w:p[ >]", box):
            yield "文本框", re.sub(r"<[^>]*>", "", paragraph)


# Tags with which a row can gain cells (column loops, spans, merges).
_CELL_TAGS = re.compile(r"\{[%{]-?\s*(?:tc\s|colspan\s|hm\s*[-%])")


def tag_problem(exc: Exception) -> str:
    """Jinja's English complaint as the clerk can act on it."""
    text = str(exc)
    unknown = re.search(r"unknown tag '(\w+)'", text)
    if unknown:
        return (f"“{{%… {unknown.group(1)} %}}”找不到与之配对的开头（可能删掉了 for 或 if 所在的段落）；"
                f"请把成对的标签一起保留或一起删除")
    if "end of template" in text or "expected token 'end" in text:
        return "有 for 或 if 标签没有对应的 endfor、endif；请补上，或把成对的标签一起删除"
    if "unexpected" in text:
        return "有标签的括号不成对（如“{{ title }”少了一个“}”）；请检查 {{ }} 与 {% %} 是否成对"
    if isinstance(exc, RecursionError):
        return "有宏（macro）无休止地调用自己；请删除这个宏"
    return "请检查 {{ }} 与 {% %} 是否成对，for/if 是否有对应的 endfor/endif"
