"""The progress circular (进展情况通报, SPEC §7): context, rendering, template lint, chart, PDF.

The office owns the wording: ``templates/通报模板.docx`` is an ordinary Word file with Jinja tags.
Everything shown is formatted here (numbers, percentages, ``1.37万人``, dates, ordinals) so the
template holds no logic beyond loops and conditions. Rendering always escapes: a department's
``投资<5亿元 & R&D`` comes through verbatim.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from docx import Document
from docx.shared import Mm
from docxtpl import DocxTemplate, InlineImage

from .config import Config
from .consolidation import Consolidation, Lagging
from .engine import Assessment, progress_sentence
from .files import atomic_path
from .model import IndicatorType, Period, Status
from .numbers import chinese_date, chinese_number, format_amount, format_percent, percent
from .workfolder import CIRCULAR_TEMPLATE as TEMPLATE_NAME
from .workfolder import bundled_circular_template

# Fonts the chart may use for Chinese labels, best first.
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimHei", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Noto Serif CJK SC", "SimSun", "AR PL UKai CN", "AR PL UMing CN")
_LEADING_ORDINAL = re.compile(r"^[一二三四五六七八九十]+[、.．]\s*")


def template_path(config: Config) -> Path:
    """The office's own template if there is one, else the bundled default."""
    for candidate in (config.circular_template, config.root / "templates" / TEMPLATE_NAME):
        if candidate is not None and candidate.is_file():
            return candidate
    return bundled_template()


def bundled_template() -> Path:
    return bundled_circular_template()


def circular_name(period: Period) -> str:
    """``通报_2020-06.docx``."""
    return f"通报_{period}.docx"


# ---------------------------------------------------------------------------------------------
# Context: every value already formatted as the circular shows it.

def _title(result: Consolidation) -> str:
    p = result.period
    span = "1月份" if p.month == 1 else f"1-{p.month}月份"
    return f"{p.year}年{span}民生工程项目进展情况"


def _unit_progress(items: list[Assessment], sentences: bool) -> str:
    """进展情况 of one unit's project: the department's words, then the computed sentence."""
    if items and items[0].status is Status.NOT_SUBMITTED:
        return "未报送。"
    words = list(dict.fromkeys(a.reported.progress.strip() for a in items if a.reported and a.reported.progress.strip()))
    text = "".join(w if w.endswith(("。", ".", "！", "!", "；", ";")) else w + "。" for w in words)
    if sentences or not text:
        text += "；".join(progress_sentence(a) for a in items) + "。"
    return text


def _lagging_text(item: Lagging) -> str:
    unit = item.unit_of_measure
    if item.status is Status.NOT_MET:
        return (f"{item.indicator_name}为{format_amount(item.value, unit)}，"
                f"未达到年度目标{format_amount(item.target, unit)}。")
    if item.type is IndicatorType.MILESTONE:
        done = f"处于“{item.stage}”阶段（折合{item.rate_percent}%）"
    else:
        done = f"完成{format_amount(item.value, unit)}，完成率{item.rate_percent}%"
    return (f"{item.indicator_name}{done}，低于时序进度（{item.schedule_percent}%）"
            f"{item.gap_points}个百分点，{item.status.value}。")


def _units_text(groups) -> str:
    return "、".join(f"{g.name}（{format_percent(g.mean)}）" for g in groups) or "无"


def build_context(result: Consolidation, config: Config, today: dt.date | None = None) -> dict:
    prog = result.programme
    done = prog.counts[Status.COMPLETE] + prog.counts[Status.MET]
    unknown = prog.tasks - prog.tasks_complete - prog.tasks_on_schedule - prog.tasks_lagging
    submitted = [u for u in result.units if u.submitted]
    top_n = min(config.top_units, max(len(submitted) // 2, 1))
    categories = []
    for i, group in enumerate(result.categories, start=1):
        counts = group.counts
        lag = counts[Status.LAGGING] + counts[Status.SEVERELY_LAGGING] + counts[Status.NOT_STARTED]
        summary = (f"该类共{group.tasks}项任务、{group.indicators}个指标，已完成或达标"
                   f"{counts[Status.COMPLETE] + counts[Status.MET]}个，序时推进{counts[Status.ON_SCHEDULE]}个，"
                   f"滞后{lag}个")
        if counts[Status.NOT_MET]:
            summary += f"，未达标{counts[Status.NOT_MET]}个"
        if counts[Status.NOT_SUBMITTED] + counts[Status.NOT_FILLED]:
            summary += f"，未报送或未填{counts[Status.NOT_SUBMITTED] + counts[Status.NOT_FILLED]}个"
        summary += f"；平均完成率{format_percent(group.mean)}。"
        categories.append({"ordinal": chinese_number(i), "name": _LEADING_ORDINAL.sub("", group.name or "（未分类）"),
                           "summary": summary})
    lagging = result.attention
    by_project: dict[tuple[str, str], list[Assessment]] = {}
    for a in result.iter_assessments():
        by_project.setdefault((a.indicator.lead_unit, a.indicator.task_id), []).append(a)
    units = []
    for serial, unit in enumerate(result.register.units, start=1):
        projects = [{"name": task.name, "target": task.annual_target,
                     "progress": _unit_progress(by_project[unit, task.id], config.computed_sentences)}
                    for task in result.register.tasks_of(unit)]
        units.append({"serial": str(serial), "name": unit, "projects": projects})
    return {
        "title": _title(result),
        "period_label": result.period.label,
        "period_end": f"{result.period.month}月底",
        "schedule": format_percent(result.period.schedule),
        "tasks": str(prog.tasks),
        "tasks_complete": str(prog.tasks_complete),
        "tasks_on_schedule": str(prog.tasks_on_schedule),
        "tasks_lagging": str(prog.tasks_lagging),
        "tasks_unknown_text": f"，{unknown}项因未报送、未填或数据有误无法判断" if unknown else "",
        "indicators": str(prog.indicators),
        "indicators_done": str(done),
        "has_funds": bool(prog.funds_planned),
        "funds_planned": format_amount(prog.funds_planned, "万元"),
        "funds_paid": format_amount(prog.funds_paid, "万元"),
        "funds_rate": format_percent(prog.funds_rate) if prog.funds_rate is not None else "",
        "categories": categories,
        "lagging": [{"number": str(i), "unit": item.unit, "task": item.task_name, "text": _lagging_text(item)}
                    for i, item in enumerate(lagging, start=1)],
        "lagging_count": str(len(lagging)),
        # Units that sent nothing, and units whose files could not be used: not the same reproach.
        "missing_units": "、".join(u.name for u in result.missing_units if not result.collection.refused_files(u.name)),
        "refused_units": "、".join(u.name for u in result.missing_units if result.collection.refused_files(u.name)),
        "top_units": _units_text(submitted[:top_n]),
        "bottom_units": _units_text(list(reversed(submitted[-top_n:])) if len(submitted) > top_n else []),
        "units": units,
        "issuer": config.issuer,
        "date": chinese_date(config.issue_date or today or dt.date.today()),
        "chart": "",
    }


# ---------------------------------------------------------------------------------------------
# Chart of completion by department.

def find_cjk_font() -> str | None:
    """Path of an installed font that can draw Chinese, or None."""
    from matplotlib import font_manager

    by_name = {f.name: f.fname for f in font_manager.fontManager.ttflist}
    for name in CJK_FONTS:
        if name in by_name:
            return by_name[name]
    return None


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
    height = max(2.5, 0.28 * len(units) + 1.2)
    fig, ax = plt.subplots(figsize=(6.0, height), dpi=150)
    bars = ax.barh(names, values, color="#4472C4", height=0.6)
    schedule = float(percent(result.period.schedule))
    ax.axvline(schedule, color="#C00000", linestyle="--", linewidth=1)
    ax.text(schedule, len(names) - 0.3, f"时序进度 {schedule}%", color="#C00000", fontproperties=prop,
            fontsize=8, ha="left", va="bottom")
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
    notes = []
    with tempfile.TemporaryDirectory() as tmp:
        doc = DocxTemplate(str(template))
        if chart and config.chart:
            picture = Path(tmp) / "chart.png"
            note = completion_chart(result, picture)
            if note:
                notes.append(note)
            else:
                context["chart"] = InlineImage(doc, str(picture), width=Mm(150))
        doc.render(context, autoescape=True)
        buffer = io.BytesIO()
        doc.save(buffer)
        with atomic_path(target) as out:
            out.write_bytes(buffer.getvalue())
    rendered = Rendered(target, template, notes)
    if pdf:
        rendered.pdf, note = to_pdf(target)
        if note:
            notes.append(note)
    return rendered


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

KNOWN = {"title", "period_label", "period_end", "schedule", "tasks", "tasks_complete", "tasks_on_schedule",
         "tasks_lagging", "tasks_unknown_text", "indicators", "indicators_done", "has_funds", "funds_planned",
         "funds_paid", "funds_rate", "categories", "lagging", "lagging_count", "missing_units", "refused_units", "top_units",
         "bottom_units", "units", "issuer", "date", "chart"}
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
    """Problems a template has, in Chinese; an empty list means it is fine."""
    problems = []
    doc = Document(str(path))
    for paragraph in _all_paragraphs(doc):
        for run in paragraph.runs:
            if len(_OPEN.findall(run.text)) != len(_CLOSE.findall(run.text)):
                problems.append(f"“{paragraph.text[:40]}”中的标签被 Word 拆成了几段格式不同的文字；"
                                f"请删除整个标签后一次输入（不要中途改格式）")
                break
    template = DocxTemplate(str(path))
    try:
        unknown = template.get_undeclared_template_variables() - KNOWN
    except Exception as exc:  # a tag Jinja cannot parse at all
        return problems + [f"模板中的标签写法有误，无法解析：{exc}"]
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
            sample = DocxTemplate(str(path))
            try:
                sample.render(context, autoescape=True)
            except Exception as exc:
                return problems + [f"用示例数据生成时出错：{exc}；请检查模板中的标签是否成对（for/endfor、if/endif）"]
            sample.save(str(out))
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
    """Two sample contexts that between them take every branch of the default template."""
    project = {"name": "示例项目", "target": "示例目标", "progress": "示例进展"}
    full = {name: f"〔{name}〕" for name in KNOWN}
    full.update(has_funds=True, chart="", categories=[{"ordinal": "一", "name": "示例类别", "summary": "示例"}],
                lagging=[{"number": "1", "unit": "示例单位", "task": "示例任务", "text": "示例"}],
                units=[{"serial": "1", "name": "示例单位", "projects": [project, project]}])
    empty = dict(full, has_funds=False, lagging=[], missing_units="", refused_units="", categories=[], units=[])
    return [full, empty]
