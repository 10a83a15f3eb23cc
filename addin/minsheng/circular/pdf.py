"""The circular as PDF, through LibreOffice when it is installed."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path


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
