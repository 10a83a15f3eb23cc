"""The circular's chart (各单位指标平均完成率): a PNG drawn by matplotlib with a Chinese font found at run time."""

from __future__ import annotations

from pathlib import Path

from ..assess.result import PeriodResult
from ..numbers import percent

# Fonts the chart may use for Chinese labels, best first.
CJK_FONTS = ("Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "SimHei", "WenQuanYi Zen Hei",
             "WenQuanYi Micro Hei", "Noto Serif CJK SC", "SimSun", "AR PL UKai CN", "AR PL UMing CN")


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


def completion_chart(result: PeriodResult, target: Path, font: str | None = None) -> str:
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
