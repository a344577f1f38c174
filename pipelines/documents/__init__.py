"""The documents offices live by, made from the store reproducibly as files people print and sign:
the monthly bulletin (月通报), the pre-audit data-quality report (数据质量报告), the cross-check
sample (交叉检查抽样) and the weekly overdue reminders."""

from pipelines.documents.render import Rendered, render_document, write_document

__all__ = ["Rendered", "render_document", "write_document"]
