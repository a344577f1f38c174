"""The review queue page (候选配对审核): the gray-zone pairs of the newest linked night, each with
its two records side by side and the weights that put it between the thresholds, and the two
answers a data officer gives — the same person, or not — stored as `bidui review decide` stores them.

Only the prefecture's data officer reviews (pipelines.basemap.REVIEW_ROLES): a decision binds every
later night's linking across the prefecture.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse

from pipelines.basemap import DECISIONS, REVIEW_ROLES, decide_pair, review_page
from pipelines.basemap.explain import DECISION_TEXT
from pipelines.errors import BiduiError
from pipelines.web.auth import Viewer, check_csrf, roles
from pipelines.web.pages import Page, region_label, region_names, render

__all__ = ["REVIEW_PAGE_SIZE", "router"]

router = APIRouter()

REVIEW_PAGE_SIZE = 20
_FLASH = "review_flash"

Reviewer = Annotated[Viewer, Depends(roles(*REVIEW_ROLES))]


def _queue_page(
    request: Request, who: Viewer, page: int, status_code: int = 200, error: str | None = None, kept: dict | None = None
):
    settings = request.app.state.settings
    offset = (page - 1) * REVIEW_PAGE_SIZE
    found = review_page(request.app.state.engine, settings, limit=REVIEW_PAGE_SIZE, offset=offset, scope=who.scope)
    names = region_names(request)
    for pair in found["pairs"]:
        for row in pair["rows"]:
            if row["attribute"] == "village_code":
                row["left"], row["right"] = region_label(names, row["left"]), region_label(names, row["right"])
    # Exact when this page is the last one; unknown (None) while more follow.
    total = None if found["more"] else offset + len(found["pairs"])
    return render(
        request,
        "review_queue.html",
        who,
        status_code=status_code,
        title="候选配对审核",
        night=found["delivery_date"],
        thresholds=found["thresholds"],
        pairs=Page(found["pairs"], page, REVIEW_PAGE_SIZE, total),
        flash=request.session.pop(_FLASH, None),
        error=error,
        kept=kept or {},
        decision_text=DECISION_TEXT,
    )


@router.get("/review")
def review(request: Request, who: Reviewer, page: Annotated[int, Query(ge=1)] = 1):
    """The open pairs of the newest linked night, most probable first, a page at a time."""
    return _queue_page(request, who, page)


@router.post("/review/decide", dependencies=[Depends(check_csrf)])
def decide(
    request: Request,
    who: Reviewer,
    feed: Annotated[str, Form()] = "",
    record_key: Annotated[str, Form()] = "",
    candidate_feed: Annotated[str, Form()] = "",
    candidate_key: Annotated[str, Form()] = "",
    decision: Annotated[str, Form()] = "",
    page: Annotated[int, Form(ge=1)] = 1,
):
    """Store a decision on a pair exactly as `bidui review decide` does; back to the queue."""
    pair = {"feed": feed, "record_key": record_key, "candidate_feed": candidate_feed, "candidate_key": candidate_key}
    try:
        if not all(pair.values()):
            raise BiduiError("请从审核列表中选择一对记录后再给出结论（数据项和记录编号不能为空）")
        if decision not in DECISIONS:
            raise BiduiError("审核结论只能是“同一人”或“不是同一人”")
        stored = decide_pair(request.app.state.settings, feed, record_key, candidate_feed, candidate_key, decision, who.user)
    except BiduiError as exc:
        # Said back with the record numbers as the officer may see them (a key can be an ID number).
        shown = {name: who.scope.mask_text(value) for name, value in pair.items()}
        return _queue_page(request, who, page, status_code=400, error=who.scope.mask_text(str(exc)), kept=shown)
    request.session[_FLASH] = (
        f"已记录：{who.scope.mask_text(record_key)}（{feed}）与 {who.scope.mask_text(candidate_key)}（{candidate_feed}）"
        f"{DECISION_TEXT[stored['decision']]}，审核人 {stored['decided_by']}；下次关联起生效。"
    )
    return RedirectResponse(f"/review?page={page}", status_code=303)
