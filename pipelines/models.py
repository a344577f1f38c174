"""Table definitions. Alembic migrations (pipelines/migrations) are the source of truth for the schema;
these mirror them for queries and for autogenerate."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from .feeds import DEFAULT_FEEDS_CONFIG, load_feeds

__all__ = ["metadata", "deliveries", "feed_loads", "findings", "region_reference", "feed_tables", "feed_table"]

metadata = MetaData()

deliveries = Table(
    "deliveries",
    metadata,
    Column("delivery_date", Date, primary_key=True),
    Column("source_dir", Text, nullable=False),
    Column("ingested_at", DateTime, nullable=False),
)

# One row per (night, feed): what arrived and what became of it. The effective snapshot of a feed for
# a night is its newest 'loaded' delivery on or before that night (the fallback rule).
feed_loads = Table(
    "feed_loads",
    metadata,
    Column("delivery_date", Date, primary_key=True),
    Column("feed", String(40), primary_key=True),
    Column("status", String(20), nullable=False),  # loaded | rejected | missing | absent_optional
    Column("source_file", Text),
    Column("encoding", String(40)),
    Column("checksum", String(64)),
    Column("rows", Integer),
    Column("columns", Text),  # JSON list of the fields the delivered file had
    Column("bad_rows", Integer),
    Column("message", Text),
    Column("loaded_at", DateTime),
    Column("validated_at", DateTime),
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_date", Date, nullable=False),
    Column("feed", String(40), nullable=False),
    Column("stage", String(20), nullable=False),  # ingest | validate
    Column("row_no", Integer),
    Column("record_key", Text),
    Column("field", String(60)),
    Column("check", String(40), nullable=False),
    Column("severity", String(10), nullable=False),  # error | warning
    Column("value", Text),
    Column("message", Text, nullable=False),
    Index("ix_findings_night_feed", "delivery_date", "feed", "stage"),
)

region_reference = Table(
    "region_reference",
    metadata,
    Column("code", String(12), primary_key=True),
    Column("name", Text, nullable=False),
    Column("level", String(10), nullable=False),
    Column("is_poor_village", String(2)),
    Column("poor_village_exit_year", String(4)),
    Column("km_to_county_seat", Float),
    Column("source", Text, nullable=False),
)


def _snapshot_table(feed_name: str, columns: list[str]) -> Table:
    # Values are kept as delivered-and-normalised text: a value ingestion could not normalise stays as
    # it came, so nothing is lost and validation can name it.
    return Table(
        f"feed_{feed_name}",
        metadata,
        Column("delivery_date", Date, primary_key=True),
        Column("row_no", Integer, primary_key=True),
        *(Column(name, Text) for name in columns),
        Column("extra", Text),
        Index(f"ix_feed_{feed_name}_key", "delivery_date", columns[0]),
    )


def _key_first(feed) -> list[str]:
    return [feed.key] + [c for c in feed.columns if c != feed.key]


feed_tables: dict[str, Table] = {
    name: _snapshot_table(name, _key_first(feed)) for name, feed in load_feeds(DEFAULT_FEEDS_CONFIG).items()
}


def feed_table(feed_name: str) -> Table:
    """The snapshot table of a feed."""
    return feed_tables[feed_name]
