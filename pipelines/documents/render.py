"""Printable documents: one Jinja2 template per document on a shared A4 layout, written as HTML and
PDF (WeasyPrint) together, whole or not at all.

The layout (templates/document_base.html) repeats table headers on every page, numbers the pages
("第 N 页 共 M 页"), prints the document's title and data date in the page header, and ends with
a signature block. Fonts are the CJK fonts installed on the machine (WenQuanYi Micro Hei, Noto
Sans CJK); nothing is fetched from another host.
"""

from __future__ import annotations

import datetime as dt
import functools
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from pipelines.errors import BiduiError
from pipelines.store import staged_files

__all__ = ["Rendered", "document_environment", "pdf_bytes", "render_document", "write_document"]

NO_CJK_FONT = (
    "本机没有中文字体，PDF 中的汉字将无法显示：请安装 fonts-wqy-microhei 或 fonts-noto-cjk"
    "（Debian/Ubuntu：apt-get install fonts-wqy-microhei）后重试；或加 --no-pdf 只生成 HTML 和 Excel"
)

TEMPLATES_DIR = Path(__file__).with_name("templates")


def _number(value: Any) -> str:
    return "" if value is None or value == "" else f"{value:,}" if isinstance(value, int) else str(value)


def _percent(value: Any, digits: int = 1) -> str:
    return "—" if value is None else f"{100 * float(value):.{digits}f}%"


def document_environment() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html"]))
    env.filters["number"] = _number
    env.filters["percent"] = _percent
    return env


_ENV = document_environment()


@dataclass(frozen=True)
class Rendered:
    """A document's files as written."""

    html: Path
    pdf: Path | None


def render_document(template: str, **context: Any) -> str:
    """The document's HTML: `title`, `subtitle` (data date, scope) and `signatures` (the signature
    lines, e.g. ["编制人", "审核人", "签发人"]) are used by the shared layout."""
    context.setdefault("generated_at", dt.datetime.now().replace(microsecond=0))
    context.setdefault("signatures", ("编制人", "审核人", "签发人"))
    return _ENV.get_template(template).render(**context)


def write_document(
    html: str,
    html_path: Path,
    pdf: bool = True,
    also: Sequence[tuple[Path, bytes]] = (),
    stage: Callable[[Path], Path] | None = None,
) -> Rendered:
    """Write the HTML and, with `pdf`, its PDF beside it (same name, .pdf), plus any `also` files:
    all appear together or none does. Given `stage` (of a `staged_files` block the caller holds
    open around its database write), the files are staged there and appear when that block ends
    without an error, so they and the stored record go together."""
    if stage is None:
        with staged_files() as own:
            return write_document(html, html_path, pdf, also, own)
    html_path = Path(html_path)
    pdf_path = html_path.with_suffix(".pdf") if pdf else None
    stage(html_path).write_text(html, encoding="utf-8")
    if pdf_path is not None:
        stage(pdf_path).write_bytes(pdf_bytes(html))
    for path, data in also:
        stage(Path(path)).write_bytes(data)
    return Rendered(html_path, pdf_path)


@functools.cache
def chinese_fonts() -> tuple[str, ...] | None:
    """The font families fontconfig has for Chinese (what WeasyPrint will find), or None when
    fontconfig's `fc-list` is not there to ask."""
    lister = shutil.which("fc-list")
    if lister is None:
        return None
    listed = subprocess.run([lister, ":lang=zh", "family"], capture_output=True, text=True, check=False).stdout
    return tuple(sorted({line.split(",")[0].strip() for line in listed.splitlines() if line.strip()}))


def pdf_bytes(html: str) -> bytes:
    """The PDF of a document's HTML; a Chinese BiduiError when the machine has no Chinese font,
    rather than a PDF whose every character is a blank box."""
    if chinese_fonts() == ():
        raise BiduiError(NO_CJK_FONT)
    from weasyprint import HTML  # heavy: only when a PDF is made

    pdf = HTML(string=html, base_url=str(TEMPLATES_DIR)).write_pdf()
    assert pdf is not None  # write_pdf without a target returns the bytes
    return pdf
