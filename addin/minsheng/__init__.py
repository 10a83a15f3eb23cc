"""minsheng: 民生工程 进度填报 · 汇总 · 通报 — register, templates, consolidation, circular."""

__version__ = "0.1.0"
