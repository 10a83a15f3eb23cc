"""The government's plan (工作要点/实施方案) as tasks: reading a ``.txt`` or ``.docx`` and cutting it
into categories and numbered tasks with their lead and cooperating units.

Two layouts of published plans are read, by their grammar rather than by any one plan's wording:

- numbered paragraphs under ``一、…`` headings: ``7.项目名称。正文(牵头责任单位:…,协同责任单位:…)``,
  also ``7、``, ``（7）``, and units on a line of their own (``责任单位：…``);
- pairs of ``具体措施: 正文`` and ``责任单位: 单位、单位,各县区政府`` (a table flattened to text), where
  the first unit named leads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ExtractError, os_error_text

MAX_PLAN_BYTES = 20 * 1024 * 1024  # published plans are tens of kilobytes; a 50 MB "plan" is not one

_CN_DIGITS = "一二三四五六七八九十"
CATEGORY_RE = re.compile(rf"^(?:[{_CN_DIGITS}]+[、.．]|第[{_CN_DIGITS}]+[章部分篇])\s*\S")
# A task's number: 7.  7、  7．  （7）  (7)  — not 2020. or 1.5万 (a digit follows the dot).
TASK_RE = re.compile(r"^(?:(\d{1,3})\s*[.．、](?!\d)|[（(]\s*(\d{1,3})\s*[)）])\s*")
MEASURE_RE = re.compile(r"^具体(?:措施|任务|内容)\s*[:：]\s*\|?\s*(.*?)\s*\|?\s*$")
UNITS_LINE_RE = re.compile(r"^(?:牵头)?(?:责任|主责)?(?:单位|部门)\s*[:：]\s*\|?\s*(.*?)\s*\|?\s*$")
# Units in brackets at the end of a task: (牵头责任单位:市人社局,协同责任单位:市财政局、…)
UNITS_TAIL_RE = re.compile(r"[（(]\s*((?:牵头|责任|主责|主办)[^（()）]*?(?:单位|部门)\s*[:：][^（()）]*)[)）]\s*$")
LEAD_RE = re.compile(r"(?P<label>牵头(?:责任)?|主责|主办|责任)(?:单位|部门)\s*[:：]\s*(?P<units>[^;；]*?)\s*"
                     r"(?=[,，;；]\s*(?:协同|配合|协办|参与)|$)")
PARTNER_RE = re.compile(r"(?:协同|配合|协办|参与)(?:责任)?(?:单位|部门)\s*[:：]\s*(.*)$")
_UNIT_SPLIT = re.compile(r"\s*[、,，;；]\s*")
_NOT_A_UNIT = re.compile(r"(?:各县|县区|开发区|下同|字体|成员单位$)")


@dataclass
class PlanTask:
    """One task of the plan (任务): its number, heading, text and units."""

    number: str
    category: str
    title: str
    text: str  # the whole task as the plan states it, units excluded
    lead: list[str] = field(default_factory=list)
    partners: list[str] = field(default_factory=list)


def read_plan(path: Path) -> str:
    """The plan's text, one paragraph a line; ``ExtractError`` (Chinese) when it can't be one."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if path.is_dir():
            raise ExtractError(f"{path} 是文件夹；请给出计划文件本身（.txt 或 .docx）")
        if size > MAX_PLAN_BYTES:
            raise ExtractError(f"{path} 有 {size / 1024 / 1024:.0f} MB，不像是一份计划文本（通常只有几十 KB），未处理；"
                               f"请确认文件是否选对")
        data = path.read_bytes()
    except OSError as exc:
        raise ExtractError(f"无法读取 {path}（{os_error_text(exc)}）；请检查文件是否存在、是否被其他程序打开") from exc
    if not data.strip():
        raise ExtractError(f"{path} 是空文件；请确认文件是否选对")
    if data[:4] == b"PK\x03\x04":
        text = _docx_text(path, data)
    elif path.suffix.lower() in (".docx", ".doc", ".pdf", ".wps") or data[:5] == b"%PDF-" or data[:4] == b"\xd0\xcf\x11\xe0":
        raise ExtractError(f"{path} 不是可读取文字的 .docx 或 .txt 文件（可能是扫描件、PDF 或旧版 .doc）；"
                           f"请在 Word/WPS 中打开后另存为 .docx，或复制全部文字另存为 .txt")
    else:
        text = _decode(path, data)
        if not _plausible(text):  # Big5 or another code page read as GBK: rare characters only
            raise ExtractError(f"{path} 的文字编码无法识别（读出来是乱码）；请用记事本打开后“另存为”，编码选 UTF-8")
    # Full-width spaces as spaces; full-width digits are read where numbers are (targets.py), and
    # the text is otherwise kept as written: it goes into the register word for word.
    text = text.replace("\u3000", " ").replace("\r\n", "\n").replace("\r", "\n")
    if not re.search(r"[\u4e00-\u9fff]", text):
        raise ExtractError(f"{path} 中没有中文文字，不像是一份计划；请确认文件是否选对")
    return text


def _decode(path: Path, data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):  # Notepad saves UTF-8 or the ANSI code page (GBK)
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ExtractError(f"{path} 的文字编码无法识别（不是 UTF-8，也不是 GBK）；请用记事本打开后"
                       f"“另存为”，编码选 UTF-8")


# The most frequent characters of official Chinese: a text read in the right code page is full of
# them; Big5 or Shift-JIS bytes read as GBK give rare characters instead.
_COMMON = set("的一是在不了有和人这中大为上个国我以要时来用们生到作地于出就分对成会可主发年动同工也能下过"
              "子产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制"
              "机当使点从业本去把性好应开合还因由其些然前外天政四日社义事平形相全表间样与关各重新线内数正心"
              "反明看原又利比或但质气第向道命此变条只没结解问意建月公无系很情者最立代想已通并提直题党程展五"
              "果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别手角期根论"
              "运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志世"
              "金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每"
              "目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林"
              "律叫且究观越织装影算低持音众书布复容儿须际商非验连断深难近矿千周委素技备半办青省列习响约支般"
              "史感劳便团往酸历市克何除消构府称太准精值号率族维划选标写存候毛亲快效斯院查江型眼王按格养易置"
              "派层片始却专状育厂京识适属圆包火住调满县局照参红细引听该铁价严龙飞镇村乡街社区")


def _plausible(text: str) -> bool:
    cjk = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    return not cjk or sum(c in _COMMON for c in cjk) >= 0.3 * len(cjk)


MAX_DOCX_XML = 100 * 1024 * 1024  # what a .docx may unpack to; a plan's document.xml is a few MB


def _docx_text(path: Path, data: bytes) -> str:
    import io
    import zipfile

    from docx import Document

    try:
        unpacked = sum(item.file_size for item in zipfile.ZipFile(io.BytesIO(data)).infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise ExtractError(f"{path} 不是有效的 Word .docx 文件；请在 Word/WPS 中打开后另存为 .docx") from exc
    if unpacked > MAX_DOCX_XML:
        raise ExtractError(f"{path} 解压后有 {unpacked / 1024 / 1024:.0f} MB，不像是一份计划（可能是压缩炸弹或含大量图片），"
                           f"未处理；请只保留文字后另存为 .docx，或复制全部文字另存为 .txt")

    try:
        doc = Document(io.BytesIO(data))
    except Exception as exc:  # noqa: BLE001 - not a zip, no document part, broken XML…
        raise ExtractError(f"{path} 不是有效的 Word .docx 文件；请在 Word/WPS 中打开后另存为 .docx") from exc
    lines = []
    body = doc.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append("".join(t.text or "" for t in child.iter() if t.tag.endswith("}t")))
        elif tag == "tbl":  # a table row reads as the flattened tables of published pages do
            for row in child.iter():
                if row.tag.endswith("}tr"):
                    cells = ["".join(t.text or "" for t in cell.iter() if t.tag.endswith("}t"))
                             for cell in row.iterchildren() if cell.tag.endswith("}tc")]
                    lines.append(" | ".join(cells))
    return "\n".join(lines)


def split_units(text: str) -> list[str]:
    """``市民政局、市残联,各县区政府`` → the named departments (counties in general are not one)."""
    units = []
    for part in _UNIT_SPLIT.split(text.strip(" |。.")):
        part = re.sub(r"[（(][^)）]*[)）]$", "", part).strip()
        if part and not _NOT_A_UNIT.search(part) and part not in units:
            units.append(part)
    return units


def _units(text: str) -> tuple[list[str], list[str]]:
    lead = LEAD_RE.search(text)
    partners = PARTNER_RE.search(text)
    if lead and (partners or lead.group("label") != "责任"):
        # 牵头单位 names only leads (seed 004's task 4 has two); a plain 责任单位 list is led by its first.
        return split_units(lead.group("units")), split_units(partners.group(1)) if partners else []
    if lead:
        text = lead.group("units")
    units = split_units(text)  # "责任单位: 甲、乙、丙": the first leads
    return units[:1], units[1:]


def _title(body: str) -> tuple[str, str]:
    """``项目名称。正文`` → (项目名称, 正文); a task without a short title sentence is named by its first clause."""
    head, dot, rest = body.partition("。")
    if dot and 2 <= len(head) <= 30 and not re.search(r"[,，;；]", head):
        return head.strip(), rest.strip()
    first = re.split(r"[,，;；。]", body, maxsplit=1)[0]
    return first[:30].strip(), body.strip()


def parse_plan(text: str) -> list[PlanTask]:
    """Categories and tasks of a plan's text, in order."""
    lines = [line.strip() for line in text.splitlines()]
    if any(MEASURE_RE.match(line) for line in lines):
        return _measures(lines)
    return _numbered(lines)


def _numbered(lines: list[str]) -> list[PlanTask]:
    tasks: list[PlanTask] = []
    category = ""
    current: PlanTask | None = None
    for line in lines:
        if not line:
            continue
        if CATEGORY_RE.match(line) and len(line) <= 40:
            category, current = line, None
            continue
        match = TASK_RE.match(line)
        if match:
            body = line[match.end():]
            title, rest = _title(body)
            current = PlanTask(match.group(1) or match.group(2), category, title, "")
            tasks.append(current)
            _add_text(current, rest)
            continue
        if current is None:
            continue
        units = UNITS_LINE_RE.match(line)
        if units and not current.lead:
            current.lead, current.partners = _units(line)
        else:
            _add_text(current, line)
    # Numbers that restart under each heading (1. under 一、, 1. again under 二、) are made unique.
    numbers = [t.number for t in tasks]
    if len(set(numbers)) != len(numbers):
        for i, task in enumerate(tasks, start=1):
            task.number = str(i)
    return tasks


def _add_text(task: PlanTask, text: str) -> None:
    tail = UNITS_TAIL_RE.search(text)
    if tail:
        task.lead, task.partners = _units(tail.group(1))
        text = text[: tail.start()].rstrip()
    task.text = f"{task.text}{text}" if task.text else text


def _measures(lines: list[str]) -> list[PlanTask]:
    tasks: list[PlanTask] = []
    category = ""
    for line in lines:
        measure = MEASURE_RE.match(line)
        if measure:
            body = measure.group(1)
            title, _ = _title(body)
            tasks.append(PlanTask(str(len(tasks) + 1), category, title, body))
            continue
        units = UNITS_LINE_RE.match(line)
        if units and tasks and not tasks[-1].lead:
            tasks[-1].lead, tasks[-1].partners = _units(units.group(1))
        elif CATEGORY_RE.match(line) and len(line) <= 40:
            category = line
    return tasks
