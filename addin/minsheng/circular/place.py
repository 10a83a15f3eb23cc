"""Where the circular lives: the template it is rendered from and the file it is written to.

Light on purpose: the commands that only name the circular (consolidation saying an old one is
stale, the add-in opening it) import this, never the Word and Jinja machinery of ``document``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..config import Config
from ..errors import TemplateError
from ..model import Period

TEMPLATE_NAME = "通报模板.docx"  # the office's own is templates/通报模板.docx


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
    """The default Word template shipped with the package (``templates/通报模板.docx`` is a copy)."""
    return Path(str(resources.files("minsheng").joinpath("data", TEMPLATE_NAME)))


def circular_name(period: Period) -> str:
    """``通报_2020-06.docx``."""
    return f"通报_{period}.docx"


@dataclass
class Rendered:
    path: Path
    template: Path
    notes: list[str]  # Chinese notes for the user: no chart, no PDF…
    pdf: Path | None = None
