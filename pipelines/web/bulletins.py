"""The monthly bulletins (月通报) on the site: the months with a bulletin, each bulletin as a page, and
its files (HTML, PDF, xlsx) to download. A bulletin ranks whole counties and names no person, and
is sent to every county: prefecture, county and auditor users read all of it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse

from pipelines import store
from pipelines.documents.bulletin_make import load_stored_bulletin
from pipelines.web.auth import Viewer, roles
from pipelines.web.pages import PAGE_SIZE, Page, render

__all__ = ["BULLETIN_ROLES", "router"]

router = APIRouter()

BULLETIN_ROLES = ("prefecture", "county", "auditor")
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".pdf": "application/pdf",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")

Reader = Annotated[Viewer, Depends(roles(*BULLETIN_ROLES))]


@router.get("/bulletins")
def bulletins(request: Request, who: Reader, page: Annotated[int, Query(ge=1)] = 1):
    """The months a bulletin was made for, newest first."""
    rows = store.list_bulletins(request.app.state.engine, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return render(request, "bulletins_list.html", who, title="月通报", bulletins=Page(rows, page, PAGE_SIZE, None))


def _stored(request: Request, month: str) -> dict:
    if not _MONTH.fullmatch(month):
        raise HTTPException(404, "没有这份月通报：地址中的月份应为 YYYY-MM")
    bulletin = load_stored_bulletin(request.app.state.engine, month)
    if bulletin is None:
        raise HTTPException(404, f"{month} 还没有生成月通报")
    return bulletin


@router.get("/bulletins/{month}")
def bulletin_page(request: Request, who: Reader, month: str):
    """A month's bulletin: ranks, bottom three, talks and indicators, with its files."""
    bulletin = _stored(request, month)
    return render(request, "bulletins_page.html", who, title=f"{bulletin['month_label']}月通报", bulletin=bulletin)


@router.get("/bulletins/{month}/files/{name}")
def bulletin_file(request: Request, who: Reader, month: str, name: str):
    """One of the bulletin's own files (the names stored with it, and no other)."""
    bulletin = _stored(request, month)
    if name not in bulletin["files"]:
        raise HTTPException(404, "月通报没有这个文件")
    path = Path(bulletin["out_dir"]) / name
    if not path.is_file():
        raise HTTPException(404, f"文件已不在服务器上（{name}），请联系数据管理员重新生成月通报")
    return FileResponse(path, media_type=MEDIA_TYPES.get(path.suffix, "application/octet-stream"), filename=name)
