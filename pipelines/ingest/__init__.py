"""Ingest: a night's delivery folder, file by file, into dated snapshots in the store."""

from pipelines.ingest.delivery import FeedOutcome, Ingested, delivery_date_of, ingest_delivery

__all__ = ["FeedOutcome", "Ingested", "delivery_date_of", "ingest_delivery"]
