"""The cross-check sample pages (交叉检查抽样): the samples drawn for the viewer's counties
(`bidui sample`), each sample as a page, its workbook to download and its printable A4 copy (the
document `bidui sample` writes beside the workbook, as HTML to print from the browser or as PDF).

Prefecture and auditor users see every county's samples in their region, a county user its own
county's. The workbook and the printable copy are made again from the stored sample for whoever
asks, so ID numbers are masked as the reader's scope asks, whoever drew the sample (the files
written by `bidui sample` carry the drawer's mask, so the site never hands them out).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, Response

from pipelines import store
from pipelines.documents.sample_print import render_sample, sample_pdf
from pipelines.documents.sample_workbook import household_rows, sample_sheets, village_sheet_name
from pipelines.web.auth import PageForbidden, Viewer, roles
from pipelines.web.pages import PAGE_SIZE, Page, attachment_headers, region_label, region_names, render

__all__ = ["SAMPLE_ROLES", "router"]

router = APIRouter()

SAMPLE_ROLES = ("prefecture", "county", "auditor")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RELAPSED_LABEL = "返贫户（全覆盖）"

Samples = Annotated[Viewer, Depends(roles(*SAMPLE_ROLES))]


@router.get("/samples")
def samples(request: Request, who: Samples, page: Annotated[int, Query(ge=1)] = 1):
    """The samples of the viewer's counties, newest first."""
    names = region_names(request)
    rows = store.list_samples(request.app.state.engine, who.scope.region_code, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    for row in rows:
        row["county"] = region_label(names, row["county_code"])
        row["href"] = f"/samples/{row['sample_id']}"
    return render(request, "samples_list.html", who, title="交叉检查抽样", samples=Page(rows, page, PAGE_SIZE, None))


def _sample_in_scope(request: Request, who: Viewer, sample_id: int) -> dict:
    sample = store.load_sample(request.app.state.engine, sample_id)
    if sample is None:
        raise HTTPException(404, f"没有编号为 {sample_id} 的抽样")
    region = who.scope.region_code
    if region is not None and not sample["county_code"].startswith(region):
        raise PageForbidden("该县的交叉检查抽样不在您的管辖范围内")
    return sample


@router.get("/samples/{sample_id}")
def sample_page(request: Request, who: Samples, sample_id: int):
    """One sample: how it was drawn (seed, data date, rules, fall-backs) and its households by village."""
    sample = _sample_in_scope(request, who, sample_id)
    drawn = sample["drawn"]
    villages = []
    for v in drawn["villages"]:
        own = [h for h in drawn["households"] if h["village_code"] == v["village_code"]]
        villages.append({**v, "sheet": village_sheet_name(v), "rows": household_rows(own, who.scope)})
    title = f"{drawn['county_name']}（{sample['county_code']}）{sample['year']}年交叉检查抽样"
    relapsed = sum(1 for h in drawn["households"] if h["stratum"] == RELAPSED_LABEL)
    return render(
        request,
        "samples_page.html",
        who,
        title=title,
        sample=sample,
        drawn=drawn,
        villages=villages,
        relapsed=relapsed,
        download=f"/samples/{sample_id}/download",
        printable=f"/samples/{sample_id}/print",
    )


@router.get("/samples/{sample_id}/download")
def download_sample(request: Request, who: Samples, sample_id: int):
    """The sample's workbook, ID numbers as the viewer may see them."""
    sample = _sample_in_scope(request, who, sample_id)
    name = Path(sample["file"] or f"交叉检查抽样_{sample_id}.xlsx").name
    with tempfile.TemporaryDirectory(prefix="bidui-sample-") as folder:
        path = Path(folder) / "sample.xlsx"
        store.write_excel_tables(path, sample_sheets(sample, who.scope))
        data = path.read_bytes()
    return Response(data, media_type=XLSX_TYPE, headers=attachment_headers(name, f"sample-{sample_id}.xlsx"))


PRINT_HINT = "这是交叉检查抽样的打印版（A4 横向）：用浏览器的“打印”（Ctrl+P）打印，本行不会印出。"


@router.get("/samples/{sample_id}/print")
def print_sample(
    request: Request, who: Samples, sample_id: int, kind: Annotated[Literal["html", "pdf"], Query(alias="format")] = "html"
):
    """The sample's printable A4 copy for the viewer (ID numbers as they may see them): the HTML to
    print from the browser, or (format=pdf) the PDF."""
    sample = _sample_in_scope(request, who, sample_id)
    if kind == "pdf":
        name = Path(sample["file"] or f"交叉检查抽样_{sample_id}.xlsx").with_suffix(".pdf").name
        headers = attachment_headers(name, f"sample-{sample_id}.pdf")
        return Response(sample_pdf(sample, who.scope), media_type="application/pdf", headers=headers)
    return HTMLResponse(render_sample(sample, who.scope, screen_hint=PRINT_HINT))
