"""The progress circular (进展情况通报, formats §6): context, rendering, template lint, chart, PDF.

The office owns the wording: ``templates/通报模板.docx`` is an ordinary Word file with Jinja tags.
Everything shown is formatted here (numbers, percentages, ``1.37万人``, dates, ordinals) so the
template holds no logic beyond loops and conditions. Rendering always escapes: a department's
``投资<5亿元 & R&D`` comes through verbatim.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from docx import Document
from docx.oxml.ns import qn

from . import annex, wording
from .cells import display_width
from .config import Config
from .consolidation import Consolidation
from .docx_template import Template, open_template
from .engine import Assessment, sibling_names, text_conflict
from .errors import TemplateError
from .files import atomic_path
from .model import Flag, IndicatorType, Period
from .numbers import format_amount, format_percent, percent
from .workfolder import CIRCULAR_TEMPLATE as TEMPLATE_NAME
from .workfolder import bundled_circular_template

# Fonts the chart may use for Chinese labels, best first.
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimHei", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Noto Serif CJK SC", "SimSun", "AR PL UKai CN", "AR PL UMing CN")


def template_path(config: Config) -> Path:
    """The template ``config.ini`` names, else the office's own if there is one, else the bundled
    default. A named template that is missing is an error, never a silent fall-back; whatever
    stands at the office's place (a folder, a link) is checked when it is opened."""
    if config.circular_template is not None:
        if not os.path.lexists(config.circular_template):
            raise TemplateError(f"config.ini 中 [paths] circular_template 指定的通报模板 {config.circular_template} "
                                f"不存在；请改正路径，或留空以使用 templates/{TEMPLATE_NAME}")
        return config.circular_template
    own = config.root / "templates" / TEMPLATE_NAME
    return own if os.path.lexists(own) else bundled_template()


def bundled_template() -> Path:
    return bundled_circular_template()


def circular_name(period: Period) -> str:
    """``通报_2020-06.docx``."""
    return f"通报_{period}.docx"


# ---------------------------------------------------------------------------------------------
# Context: every value already formatted as the circular shows it (the sentences: ``wording``).

def build_context(result: Consolidation, config: Config, today: dt.date | None = None) -> dict:
    """The template's variables (``KNOWN``). ``notes`` (not a variable) says what the clerk should know."""
    missing, refused = wording.submission(result)
    date, date_note = wording.issue_date(config, today)
    internal = not config.public
    lagging = wording.lagging_units(result)
    assessments = list(result.iter_assessments())  # read once: the annex and the notes both go through them
    return {
        "title": wording.title(result),
        "period_label": result.period.label,
        "period_end": f"{result.period.month}月底",
        "schedule": format_percent(wording.schedule(result)),
        "issuer": config.issuer,
        "overview": wording.overview(result),
        "funds": wording.funds(result),
        "categories": wording.categories(result),
        "lagging_units": lagging,
        "lagging_count": str(sum(int(item["count"]) for item in lagging)),
        "missing_units": missing if internal else "",
        "missing_count": str(len(missing.split("、"))) if missing else "",
        "refused_units": refused if internal else "",
        "refused_count": str(len(refused.split("、"))) if refused else "",
        "internal": internal,
        "ranking": wording.ranking(result, config) if internal else "",
        "deadline": wording.deadline(config),
        "annex": [{"units": annex.by_unit(page)} for page in annex.paginate(_annex_rows(result, config, assessments))],
        "date": date,
        "chart": "",
        "notes": [note for note in (date_note, _mismatch_note(result, assessments)) if note],
    }


def _mismatch_note(result: Consolidation, assessments: list[Assessment]) -> str:
    """The annex prints a department's words as they are, also a percentage our figures do not bear
    out (formats §6): whoever signs must hear of each before the circular goes out."""
    found = []
    for a in assessments:
        if Flag.TEXT_MISMATCH in a.flags and a.reported is not None:
            ind = a.indicator
            stated = text_conflict(ind, a.reported.progress, a.value, a.rate_percent,
                                   sibling_names(result.register.task(ind.task_id)))
            computed = (format_amount(a.value, ind.unit_of_measure)
                        if ind.type in (IndicatorType.RATE, IndicatorType.CEILING) else f"完成率{a.rate_percent}%")
            found.append(f"{ind.lead_unit}“{ind.name}”（原文{stated}，核算{computed}）")
    if not found:
        return ""
    listed = "；".join(found[:5]) + (f"等 {len(found)} 处" if len(found) > 5 else "")
    return (f"附件照录了单位原文，其中百分比与核算结果不一致：{listed}；发文前请与这些单位核实，"
            f"必要时请其改正后重新报送（详见汇总表“问题清单”）")


def _annex_rows(result: Consolidation, config: Config, assessments: list[Assessment]) -> list[annex.Row]:
    """序号 | 实施单位 | 项目名称 | 年度目标任务 | 进展情况: each unit's projects, in register order."""
    by_project: dict[tuple[str, str], list[Assessment]] = {}
    for a in assessments:
        by_project.setdefault((a.indicator.lead_unit, a.indicator.task_id), []).append(a)
    rows = []
    for serial, unit in enumerate(result.register.units, start=1):
        submitted = unit in result.collection.chosen
        for task in result.register.tasks_of(unit):
            progress = (wording.project_progress(task, by_project[unit, task.id], config.computed_sentences)
                        if submitted else wording.unit_progress_missing(result, unit))
            rows.append(annex.Row(str(serial), unit, task.name, task.annual_target, progress))
    return rows


# ---------------------------------------------------------------------------------------------
# Chart of completion by department.

def find_cjk_font() -> str | None:
    """Path of an installed font that can draw Chinese, or None."""
    from matplotlib import font_manager

    # A family comes in several files (Regular, Bold…): the regular face, whatever order the
    # font cache lists them in, so the chart looks the same on every run.
    by_name: dict[str, tuple] = {}
    for face in font_manager.fontManager.ttflist:
        weight = face.weight if isinstance(face.weight, int) else font_manager.weight_dict.get(face.weight, 400)
        key = (face.style != "normal", abs(weight - 400), face.fname)
        if face.name not in by_name or key < by_name[face.name]:
            by_name[face.name] = key
    for name in CJK_FONTS:
        if name in by_name:
            return by_name[name][2]
    return _font_installed_since(font_manager)


def _font_installed_since(font_manager) -> str | None:
    """matplotlib keeps its list of fonts in a cache (~/.cache/matplotlib) made when it first ran;
    a Chinese font installed after that is not in it. So the font files themselves are looked at."""
    found: dict[str, str] = {}
    faces: dict[str, tuple] = {}
    for path in font_manager.findSystemFonts():
        try:
            font = font_manager.get_font(path)
        except Exception:  # noqa: BLE001 - a font file FreeType cannot read is no candidate
            continue
        family = font.family_name
        if family in CJK_FONTS or "CJK" in family:
            key = (font.style_name not in ("Regular", "Book", "Normal"), path)  # the regular face
            if family not in faces or key < faces[family]:
                faces[family], found[family] = key, path
    if not found:
        return None
    # As CJK_FONTS, but any sans-serif CJK family (Noto Sans CJK JP holds the same characters)
    # before the serif and brush ones.
    def rank(family: str) -> tuple:
        known = CJK_FONTS.index(family) if family in CJK_FONTS else len(CJK_FONTS)
        return (known >= CJK_FONTS.index("Noto Serif CJK SC") and "Sans" not in family, known, family)

    best = min(found, key=rank)
    font_manager.fontManager.addfont(found[best])  # for the rest of this run
    return found[best]


def completion_chart(result: Consolidation, target: Path, font: str | None = None) -> str:
    """Draw 各单位平均完成率 as a PNG; returns "" or, when it cannot, a Chinese note saying why."""
    font = font or find_cjk_font()
    if font is None:
        return "未找到中文字体，通报中不含完成率图；安装中文字体（如 fonts-noto-cjk）后重新生成即可"
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    prop = font_manager.FontProperties(fname=font)
    units = [u for u in result.units if u.submitted]
    names = [u.name for u in units][::-1]
    values = [float(percent(u.mean)) for u in units][::-1]
    # A line of 8-point type per unit (0.18 in), so that no two names touch; printed at 17 cm wide
    # it closes the annex on its landscape page.
    height = max(1.8, 0.18 * len(units) + 0.9)
    fig, ax = plt.subplots(figsize=(7.0, height), dpi=150)
    bars = ax.barh(names, values, color="#4472C4", height=0.65)
    schedule = float(percent(result.period.schedule))
    ax.axvline(schedule, color="#C00000", linestyle="--", linewidth=1, label=f"时序进度 {schedule}%")
    ax.legend(prop=font_manager.FontProperties(fname=font, size=8), loc="lower right", frameon=False)
    ax.set_ylim(-0.6, len(names) - 0.4)
    for bar, value in zip(bars, values):
        ax.text(bar.get_width() + 1, bar.get_y() + bar.get_height() / 2, f"{value}%", va="center",
                fontsize=7, fontproperties=prop)
    ax.set_xlim(0, 115)
    ax.set_xlabel("平均完成率（%）", fontproperties=prop, fontsize=9)
    ax.set_title("各单位指标平均完成率", fontproperties=prop, fontsize=11)
    for label in ax.get_yticklabels():
        label.set_fontproperties(prop)
        label.set_fontsize(8)
    ax.tick_params(axis="x", labelsize=8)
    ax.spines[["top", "right"]].set_visible(False)
    fig.tight_layout()
    fig.savefig(target, dpi=150)
    plt.close(fig)
    return ""


# ---------------------------------------------------------------------------------------------
# Rendering.

@dataclass
class Rendered:
    path: Path
    template: Path
    notes: list[str]  # Chinese notes for the user: no chart, no PDF…
    pdf: Path | None = None


def render(result: Consolidation, config: Config, target: Path, chart: bool = True,
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
                images["chart"] = (str(picture), 170)
        try:
            data = doc.render_isolated(context, images, _place_signature)
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


def _place_signature(doc) -> None:
    """GB/T 9704: the date 右空四字 (its style), the issuer centred over the date. How far the issuer
    stands from the margin depends on both texts' lengths, so it is set here, after rendering."""
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


def to_pdf(docx: Path) -> tuple[Path | None, str]:
    """Convert with LibreOffice when it is installed; otherwise say what to do instead."""
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        return None, "未安装 LibreOffice，未生成 PDF；可在 Word 或 WPS 中打开通报后另存为 PDF"
    with tempfile.TemporaryDirectory() as profile:
        done = subprocess.run(
            [office, "--headless", "--norestore", f"-env:UserInstallation={Path(profile).as_uri()}",
             "--convert-to", "pdf", "--outdir", str(docx.parent), str(docx)],
            capture_output=True, timeout=300)
    pdf = docx.with_suffix(".pdf")
    if done.returncode != 0 or not pdf.is_file():
        return None, "LibreOffice 未能转换 PDF；可在 Word 或 WPS 中打开通报后另存为 PDF"
    return pdf, ""


# ---------------------------------------------------------------------------------------------
# Template lint (minsheng circular --check-template).

KNOWN = {"title", "period_label", "period_end", "schedule", "issuer", "overview", "funds", "categories",
         "lagging_units", "lagging_count", "missing_units", "missing_count", "refused_units", "refused_count",
         "internal", "ranking", "deadline", "annex", "date", "chart"}
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
