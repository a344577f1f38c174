"""The data-quality reports (数据质量报告) on the site: the list of stored reports and each report's
tables with its files (HTML, PDF, xlsx) to download.

Prefecture and auditor users open them. A report is the prefecture's paper for a national audit,
counties side by side, so county and lower users are refused rather than shown a part of it.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse

from pipelines import store
from pipelines.documents.quality import PREFECTURE, build_quality_sections, stored_quality_report
from pipelines.web.auth import Viewer, roles
from pipelines.web.pages import PAGE_SIZE, Page, attachment_headers, render

__all__ = ["QUALITY_FILES", "QUALITY_ROLES", "router"]

router = APIRouter()

QUALITY_ROLES = ("prefecture", "auditor")
# The only files a report's page hands out: its own, as stored, by kind.
QUALITY_FILES = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

Readers = Annotated[Viewer, Depends(roles(*QUALITY_ROLES))]


def _night(report_id: str) -> dt.date:
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", report_id):
            raise ValueError(report_id)
        return dt.date.fromisoformat(report_id)
    except ValueError:
        raise HTTPException(404, "没有这份数据质量报告：地址中的报告编号应为数据日期 YYYY-MM-DD") from None


@router.get("/quality-reports")
def quality_reports(request: Request, who: Readers, page: Annotated[int, Query(ge=1)] = 1):
    """The stored reports, newest first."""
    rows = store.list_quality_reports(request.app.state.engine, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    listed = [{**row, "href": f"/quality-reports/{row['report_night'].isoformat()}"} for row in rows]
    return render(
        request,
        "quality_list.html",
        who,
        title="数据质量报告",
        reports=Page(listed, page, PAGE_SIZE, None),
    )


@router.get("/quality-reports/{report_id}")
def quality_report(request: Request, who: Readers, report_id: str):
    """One report's tables (as stored) and its files."""
    night = _night(report_id)
    found = stored_quality_report(request.app.state.engine, night)
    if found is None:
        raise HTTPException(404, f"没有数据日期 {night.isoformat()} 的数据质量报告")
    row, report = found
    sections = [s for s in build_quality_sections(report) if s.rows or s.sheet == "与上期比较"]
    files = [(kind, f"/quality-reports/{report_id}/{kind}") for kind in QUALITY_FILES if row.get(kind)]
    return render(
        request,
        "quality_report.html",
        who,
        title=f"数据质量报告 · 数据日期 {night.isoformat()}",
        report=report,
        made=row,
        sections=sections,
        files=files,
        accuracy=report.value(PREFECTURE, "accuracy"),
    )


@router.get("/quality-reports/{report_id}/{kind}")
def quality_report_file(request: Request, who: Readers, report_id: str, kind: str):
    """A report's file as written, by kind (html, pdf, xlsx) and no other path."""
    night = _night(report_id)
    if kind not in QUALITY_FILES:
        raise HTTPException(404, "只提供报告的 HTML、PDF 和 Excel 文件")
    row = store.load_quality_report(request.app.state.engine, night)
    if row is None or not row.get(kind):
        raise HTTPException(404, f"没有数据日期 {night.isoformat()} 的数据质量报告的 {kind} 文件")
    path = Path(row[kind])
    if not path.is_file():
        raise HTTPException(404, f"报告文件已不在服务器上（{path.name}），请联系数据管理员重新生成")
    fallback = f"quality-report-{night.isoformat()}.{kind}"
    return FileResponse(path, media_type=QUALITY_FILES[kind], headers=attachment_headers(path.name, fallback))
