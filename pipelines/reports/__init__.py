"""Reports people open: the night's validation report (HTML, JSON, CSV), from Jinja2 templates."""

from pipelines.reports.render import render
from pipelines.reports.validation import write_validation_report

__all__ = ["render", "write_validation_report"]
