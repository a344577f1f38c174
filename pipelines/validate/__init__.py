"""Validate: each feed's Great Expectations suite on its stored snapshot, every finding kept, and the
night's validation report."""

from pipelines.validate.stage import STATUS_TEXT, FeedValidation, ValidationReport, finish_validation, validate_feed

__all__ = ["STATUS_TEXT", "FeedValidation", "ValidationReport", "finish_validation", "validate_feed"]
