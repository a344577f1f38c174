"""Ingest: a night's delivery folder, once fully written, file by file, into dated snapshots in the store."""

from pipelines.ingest.delivery import FeedOutcome, Ingested, delivery_date_of, ingest_delivery
from pipelines.ingest.ready import READY_MARKER, Readiness, delivery_ready

__all__ = ["READY_MARKER", "FeedOutcome", "Ingested", "Readiness", "delivery_date_of", "delivery_ready", "ingest_delivery"]
