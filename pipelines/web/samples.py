"""The cross-check sample pages (交叉检查抽样): the samples drawn for the viewer's counties
(`bidui sample`), each sample as a page, and its workbook to download.

Prefecture and auditor users see every county's samples in their region, a county user its own
county's. The workbook is made again from the stored sample for whoever downloads it, so ID numbers
are masked as the downloader's scope asks, whoever drew the sample.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response

from pipelines import store
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
