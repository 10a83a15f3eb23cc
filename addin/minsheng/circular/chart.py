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


# Printed at its own size (document.py): one panel 170 mm wide, or, for more units than fit one
# panel compactly, two side by side across the landscape 版心 (225 mm), which halves its height.
DPI = 150
ONE_PANEL_UNITS = 12
BAR_IN = 0.18  # a line of 8-point type per unit, so that no two names touch


def completion_chart(result: PeriodResult, target: Path, font: str | None = None) -> str:
    """Draw 各单位平均完成率 as a PNG; returns "" or, when it cannot, a Chinese note saying why. The
    title is the template's heading above the picture."""
    font = font or find_cjk_font()
    if font is None:
        return "未找到中文字体，通报中不含完成率图；安装中文字体（如 fonts-noto-cjk）后重新生成即可"
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    prop = font_manager.FontProperties(fname=font)
    units = [u for u in result.units if u.submitted]
    panels = 1 if len(units) <= ONE_PANEL_UNITS else 2
    per_panel = -(-len(units) // panels)
    width_in = (170 if panels == 1 else 225) / 25.4
    fig, axes = plt.subplots(1, panels, figsize=(width_in, max(1.6, BAR_IN * per_panel + 0.6)), dpi=DPI,
                             squeeze=False)
    schedule = float(percent(result.period.schedule))
    for n, ax in enumerate(axes[0]):
        shown = units[n * per_panel:(n + 1) * per_panel]
        names = [u.name for u in shown][::-1]  # the register's order, top down
        values = [float(percent(u.mean)) for u in shown][::-1]
        bars = ax.barh(names, values, color="#4472C4", height=0.65)
        ax.axvline(schedule, color="#C00000", linestyle="--", linewidth=1, label=f"时序进度 {schedule}%")
        ax.set_ylim(-0.6, per_panel - 0.4)  # panels of one height, bars of one thickness
        for bar, value in zip(bars, values):
            ax.text(bar.get_width() + 1, bar.get_y() + bar.get_height() / 2, f"{value}%", va="center",
                    fontsize=7, fontproperties=prop)
        ax.set_xlim(0, 115)
        ax.set_xlabel("平均完成率（%）", fontproperties=prop, fontsize=8)
        for label in ax.get_yticklabels():
            label.set_fontproperties(prop)
            label.set_fontsize(8)
        ax.tick_params(axis="x", labelsize=7)
        ax.spines[["top", "right"]].set_visible(False)
    axes[0][-1].legend(prop=font_manager.FontProperties(fname=font, size=8), loc="lower right", frameon=False)
    fig.tight_layout(pad=0.4, w_pad=1.5)
    fig.savefig(target, dpi=DPI)
    plt.close(fig)
    return ""


def picture_width_mm(path: Path, default: float = 170) -> float:
    """How wide the PNG at ``path`` prints at ``DPI``, from its header."""
    head = Path(path).read_bytes()[:24]
    if len(head) < 24 or not head.startswith(b"\x89PNG"):
        return default
    return max(int.from_bytes(head[16:20], "big") / DPI * 25.4, 1.0)
