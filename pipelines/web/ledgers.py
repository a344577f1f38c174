"""The ledger pages (问题台账): the ledgers issued for the viewer's counties with their workbooks to
download, the returned ledgers imported and their reports, and the upload of a filled ledger.

Prefecture, county and auditor users open them (a ledger carries a whole county, so township and
village users never reach a workbook here); prefecture and county users upload. An upload is the
CLI's `bidui ledgers import` (pipelines.ledgers.import_ledger) on a copy kept under
<data_dir>/inbox/web, named by the site, never by the uploader.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import FileResponse
from starlette.datastructures import UploadFile

from pipelines import store
from pipelines.errors import BiduiError
from pipelines.ledgers import (
    import_ledger,
    issued_ledger,
    ledger_in_scope,
    list_imports,
    list_issued_ledgers,
    load_import,
    read_import_report,
)
from pipelines.web.auth import PageForbidden, Viewer, check_csrf, roles
from pipelines.web.pages import PAGE_SIZE, Page, attachment_headers, region_label, region_names, render

__all__ = ["LEDGER_ROLES", "MAX_UPLOAD_BYTES", "UPLOAD_PATH", "UPLOAD_ROLES", "router", "upload_limit"]

router = APIRouter()

LEDGER_ROLES = ("prefecture", "county", "auditor")
UPLOAD_ROLES = ("prefecture", "county")  # whoever may issue ledgers imports them (auditors read)
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
UPLOAD_PATH = "/ledgers/upload"
IMPORTS_PAGE_SIZE = 20
UPLOAD_FIELD = "ledger"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OUTCOME_LABELS = {"applied": "已导入", "unchanged": "无变化", "blank": "未填写", "rejected": "退回"}
_UNSAFE = re.compile(r"[^\w.\-（）()]+")
_ZIP_MAGIC = b"PK\x03\x04"  # every .xlsx is a zip archive

Ledgers = Annotated[Viewer, Depends(roles(*LEDGER_ROLES))]
Uploader = Annotated[Viewer, Depends(roles(*UPLOAD_ROLES))]


# --- the list -----------------------------------------------------------------------------------


def _ledgers_page(
    request: Request, who: Viewer, page: int = 1, imports: int = 1, status_code: int = 200, error: str | None = None
):
    engine = request.app.state.engine
    names = region_names(request)
    issued = list_issued_ledgers(engine, who.scope, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    for row in issued:
        row["county"] = region_label(names, row["county_code"])
        row["href"] = f"/ledgers/{row['county_code']}/{row['issue_date'].isoformat()}/download"
    # A file's name is typed by whoever saved it: an ID number in it is masked like any free text.
    done = [
        {**row, "file_name": who.scope.mask_text(row["file_name"])}
        for row in list_imports(engine, who.scope, IMPORTS_PAGE_SIZE, (imports - 1) * IMPORTS_PAGE_SIZE)
    ]
    return render(
        request,
        "ledgers_list.html",
        who,
        status_code=status_code,
        title="问题台账",
        issued=Page(issued, page, PAGE_SIZE, None),
        imports=Page(done, imports, IMPORTS_PAGE_SIZE, None),
        can_upload=who.role in UPLOAD_ROLES,
        max_size=_size_text(MAX_UPLOAD_BYTES),
        upload_field=UPLOAD_FIELD,
        error=error,
    )


@router.get("/ledgers")
def ledgers(request: Request, who: Ledgers, page: Annotated[int, Query(ge=1)] = 1, imports: Annotated[int, Query(ge=1)] = 1):
    """The ledgers issued for the viewer's counties, the imports, and (for issuers) the upload form."""
    return _ledgers_page(request, who, page, imports)


# --- downloading a ledger ---------------------------------------------------------------------


def _attachment(path: Path, media_type: str) -> FileResponse:
    """The file as a download under its own (Chinese) name."""
    return FileResponse(path, media_type=media_type, headers=attachment_headers(path.name))


@router.get("/ledgers/{county_code}/{issue_date}/download")
def download_ledger(request: Request, who: Ledgers, county_code: str, issue_date: str):
    """The county's workbook as issued (the file ledger_issues recorded, and no other)."""
    try:
        day = dt.date.fromisoformat(issue_date)
    except ValueError:
        day = None
    if day is None or not (len(county_code) == 6 and county_code.isdigit()):
        raise HTTPException(404, "没有这份台账：地址中的县代码应为 6 位数字、下发日期应为 YYYY-MM-DD")
    if not ledger_in_scope(who.scope, county_code):
        raise PageForbidden("该县的问题台账不在您的管辖范围内")
    issued = issued_ledger(request.app.state.engine, county_code, day)
    if issued is None:
        raise HTTPException(404, f"没有找到 {county_code} 于 {day.isoformat()} 下发的问题台账")
    path = Path(issued["file"])
    if not path.is_file():
        raise HTTPException(404, f"台账文件已不在服务器上（{path.name}），请联系数据管理员重新下发")
    return _attachment(path, XLSX_TYPE)


# --- uploading a filled ledger ----------------------------------------------------------------


def upload_limit() -> tuple[int, str]:
    """The upload's body limit and what is said past it: the site refuses a larger body as it comes
    in (pipelines.web.app.BodyLimit), before the form is read."""
    return MAX_UPLOAD_BYTES + 64 * 1024, _too_large()  # room for the form's other fields


def _size_text(size: int) -> str:
    return f"{size / 2**20:.3g} MB" if size >= 2**20 else f"{size / 1024:.3g} KB"


def _too_large() -> str:
    return f"文件超过 {_size_text(MAX_UPLOAD_BYTES)} 的上限，未导入；请删去台账以外的工作表或图片后再上传"


async def _uploaded(request: Request) -> UploadFile | None:
    form = await request.form()  # parsed once: check_csrf has read it already (Starlette's UploadFile)
    item = form.get(UPLOAD_FIELD)
    return item if isinstance(item, UploadFile) else None


def _safe(text: str, limit: int) -> str:
    return _UNSAFE.sub("_", text).strip("._")[:limit] or "ledger"


def _inbox_path(settings, user_name: str, uploaded_name: str) -> Path:
    """Where an upload is kept: a folder of its own named by the time and the user, the file by a
    cleaned stem of the name it was sent with (the name the import records and every clue's history
    cites), so the uploader's name never becomes a path and no upload meets another's."""
    stem = Path(uploaded_name).stem
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    return settings.data_dir / "inbox" / "web" / f"{stamp}-{_safe(user_name, 32)}" / f"{_safe(stem, 60)}.xlsx"


@router.post(UPLOAD_PATH, dependencies=[Depends(check_csrf)])
def upload_ledger(request: Request, who: Uploader, uploaded: Annotated[UploadFile | None, Depends(_uploaded)]):
    """Import a filled ledger as `bidui ledgers import` does and show its report."""
    settings = request.app.state.settings
    # Only the file's own name, whichever system's separators the browser sent it with.
    name = Path(((uploaded.filename or "") if uploaded else "").replace("\\", "/")).name
    if uploaded is None or not name:
        return _ledgers_page(request, who, status_code=400, error="请选择要上传的台账文件（.xlsx）")
    if (uploaded.size or 0) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, _too_large())
    data = uploaded.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(413, _too_large())
    if not name.lower().endswith(".xlsx") or not data.startswith(_ZIP_MAGIC):
        why = f"“{who.scope.mask_text(name)}”不是 Excel 台账文件：只能上传下发的问题台账填好后的 .xlsx 文件（不接受 .xls、.csv 或其他格式）"
        return _ledgers_page(request, who, status_code=400, error=why)
    path = store.write_bytes(_inbox_path(settings, who.user.user_name, name), data)
    try:
        result = import_ledger(request.app.state.engine, settings, who.scope, path)
    except BiduiError as exc:
        # The file stays in the inbox, for the record of what was sent.
        return _ledgers_page(request, who, status_code=400, error=who.scope.mask_text(f"台账“{name}”未导入：{exc}"))
    outcomes = [
        {**row, "label": OUTCOME_LABELS.get(row["outcome"], row["outcome"]), "reason": who.scope.mask_text(row["reason"])}
        for row in result["outcomes"]
    ]
    return render(
        request,
        "ledgers_import.html",
        who,
        title="台账导入结果",
        file_name=who.scope.mask_text(name),
        imported_by=who.user.user_name,
        imported_at=None,
        figures=_figures(result["rows"], result["applied"], result["unchanged"], result["blank"], result["rejected"]),
        outcomes=outcomes,
        rejections=None,
        import_id=result["import_id"],
        report_found=True,
    )


def _figures(rows: int, applied: int, unchanged: int, blank: int | None, rejected: int) -> list[tuple[str, int, str]]:
    """The summary line of an import: (label, count, css class)."""
    figures = [("数据行", rows, ""), ("已导入", applied, "ok"), ("无变化", unchanged, "")]
    if blank is not None:
        figures.append(("未填写", blank, ""))
    figures.append(("退回（未导入）", rejected, "error" if rejected else ""))
    return figures


# --- past imports -----------------------------------------------------------------------------


def _import_in_scope(request: Request, who: Viewer, import_id: int) -> dict:
    found = load_import(request.app.state.engine, who.scope, import_id)
    if found is None:
        raise HTTPException(404, f"没有编号为 {import_id} 的台账导入记录，或不在您的管辖范围内")
    return found


@router.get("/ledgers/imports/{import_id}")
def past_import(request: Request, who: Ledgers, import_id: int):
    """A past import: its figures and the rows its report sent back."""
    done = _import_in_scope(request, who, import_id)
    report = read_import_report(done["report"])
    counts = dict(report["summary"]) if report else {}
    blank = counts.get("未填写")
    unchanged = int(counts["无变化"]) if "无变化" in counts else done["unchanged"]
    rejections = [{**r, "reason": who.scope.mask_text(r["reason"])} for r in report["rejections"]] if report else []
    return render(
        request,
        "ledgers_import.html",
        who,
        title="台账导入报告",
        file_name=who.scope.mask_text(done["file_name"]),
        imported_by=done["user_name"],
        imported_at=done["imported_at"],
        figures=_figures(done["rows"], done["applied"], unchanged, int(blank) if blank else None, done["rejected"]),
        outcomes=None,
        rejections=rejections,
        import_id=done["import_id"],
        report_found=report is not None,
    )


@router.get("/ledgers/imports/{import_id}/report")
def download_report(request: Request, who: Ledgers, import_id: int):
    """The import report workbook as written by the import."""
    done = _import_in_scope(request, who, import_id)
    path = Path(done["report"] or "")
    if not done["report"] or not path.is_file():
        raise HTTPException(404, "导入报告文件已不在服务器上，请联系数据管理员")
    return _attachment(path, XLSX_TYPE)
