"""The cross-check sample as a printable A4 document (HTML + PDF through pipelines.documents.render):
how it was drawn (seed, data date, scheme, rules, fall-backs), then each sampled village on a page of
its own with its households, and the signatures of 抽样人, 复核人 and 考核组组长.

People print it and take it to the villages, so it holds what the workbook holds, with ID numbers
masked as the reader's scope asks: the same stored sample prints masked or in full.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipelines.access import Scope
from pipelines.documents.render import pdf_bytes, render_document
from pipelines.documents.sample_workbook import (
    HOUSEHOLD_HEADERS,
    RELAPSED_LABEL,
    data_date_text,
    household_rows,
    sample_facts,
    sample_heading,
    village_text,
)

__all__ = ["SAMPLE_SIGNATURES", "render_sample", "sample_documents", "sample_pdf"]

SAMPLE_SIGNATURES = ("抽样人", "复核人", "考核组组长")
# Per HOUSEHOLD_HEADERS, % of the A4 landscape width: household codes and ID numbers on one line.
COLUMN_WIDTHS = (4, 14, 14, 13, 9, 15, 6.5, 6.5, 9, 9)
NOWRAP_COLUMNS = (HOUSEHOLD_HEADERS.index("户编号"), HOUSEHOLD_HEADERS.index("户主身份证号"))


def sample_documents(workbook: Path | str) -> dict[str, Path]:
    """The sample's files by kind, the HTML and PDF beside its workbook (same name): the stored row
    keeps only the workbook's path."""
    xlsx = Path(workbook)
    return {"xlsx": xlsx, "html": xlsx.with_suffix(".html"), "pdf": xlsx.with_suffix(".pdf")}


def render_sample(sample: dict[str, Any], scope: Scope, screen_hint: str | None = None) -> str:
    """The sample's printable HTML (A4 landscape, for the households' ten columns) for a reader of `scope`; `screen_hint` is a line
    shown on screen and left off paper (the site's printing hint)."""
    drawn = sample["drawn"]
    villages = []
    for v in drawn["villages"]:
        own = [h for h in drawn["households"] if h["village_code"] == v["village_code"]]
        villages.append(
            {
                **v,
                "heading": f"第 {v['number']} 村：{v['township']}{v['name']}",
                "text": village_text(v),
                "distance_text": f"{v['distance']:g}",
                "rows": household_rows(own, scope),
            }
        )
    return render_document(
        "sample.html",
        title=sample_heading(sample),
        subtitle=f"数据日期 {data_date_text(sample)} · 随机种子 {sample['seed']}",
        orientation="landscape",
        signatures=SAMPLE_SIGNATURES,
        screen_hint=screen_hint,
        facts=sample_facts(sample),
        rules=drawn["rules"],
        fallbacks=drawn["fallbacks"],
        villages=villages,
        household_count=len(drawn["households"]),
        relapsed=sum(1 for h in drawn["households"] if h["stratum"] == RELAPSED_LABEL),
        relapsed_label=RELAPSED_LABEL,
        headers=HOUSEHOLD_HEADERS,
        column_widths=COLUMN_WIDTHS,
        nowrap_columns=NOWRAP_COLUMNS,
    )


def sample_pdf(sample: dict[str, Any], scope: Scope) -> bytes:
    """The sample's PDF for a reader of `scope`, made now (the site's printable copy)."""
    return pdf_bytes(render_sample(sample, scope))
