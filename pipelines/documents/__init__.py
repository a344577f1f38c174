"""The documents offices live by, made from the store reproducibly as files people print and sign:
the monthly bulletin (月通报), the pre-audit data-quality report (数据质量报告), the cross-check
sample (交叉检查抽样) and the weekly overdue reminders."""

from pipelines.documents.bulletin import parse_month
from pipelines.documents.bulletin_make import (
    Bulletin,
    BulletinResult,
    build_bulletin,
    make_bulletin,
    previous_month_of,
    run_monthly_bulletin,
)
from pipelines.documents.quality import build_quality_report, make_quality_report
from pipelines.documents.remind import Reminder, remind_overdue, run_weekly_reminders
from pipelines.documents.render import Rendered, render_document, write_document
from pipelines.documents.sample import make_sample
from pipelines.documents.sample_workbook import sample_sheets

__all__ = [
    "Bulletin",
    "BulletinResult",
    "Reminder",
    "Rendered",
    "build_bulletin",
    "build_quality_report",
    "make_bulletin",
    "make_quality_report",
    "make_sample",
    "parse_month",
    "previous_month_of",
    "remind_overdue",
    "render_document",
    "run_monthly_bulletin",
    "run_weekly_reminders",
    "sample_sheets",
    "write_document",
]
