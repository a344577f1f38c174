"""The shared printable layout: a PDF with Chinese, or a Chinese refusal, never blank boxes."""

from __future__ import annotations

import pytest

from pipelines.documents import render
from pipelines.errors import BiduiError


def _html() -> str:
    return render.render_document("document_base.html", title="测试文件", subtitle="数据日期 2026-11-20")


def test_without_a_chinese_font_no_pdf_is_made_and_nothing_is_left(tmp_path, monkeypatch):
    monkeypatch.setattr(render, "chinese_fonts", lambda: ())
    target = tmp_path / "out" / "文件.html"
    with pytest.raises(BiduiError) as refused:
        render.write_document(_html(), target, pdf=True)
    assert str(refused.value) == render.NO_CJK_FONT and "--no-pdf" in str(refused.value)
    assert not target.exists() and not target.with_suffix(".pdf").exists()
    assert render.write_document(_html(), target, pdf=False).pdf is None and target.is_file()  # --no-pdf still works


def test_with_a_chinese_font_the_pdf_carries_the_text(tmp_path, pdf_pages):
    assert render.chinese_fonts(), "no Chinese font: `make browser` installs fonts-wqy-microhei"
    written = render.write_document(_html(), tmp_path / "文件.html", pdf=True)
    assert written.pdf is not None
    [page] = pdf_pages(written.pdf)
    assert "测试文件" in page and "编制人" in page  # the title and the signature block, as text
