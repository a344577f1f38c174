"""The store: engines, tables, migrations, bulk moves and atomic files.

This package is the only code that opens a database connection or writes a file; every stage
reads and writes through the functions listed here. Table objects live in `pipelines.store.tables`.
"""

from pipelines.store.basemap import (
    HOUSEHOLD_COLUMNS,
    LINK_COLUMNS,
    PERSON_COLUMNS,
    REVIEW_COLUMNS,
    iter_links,
    latest_link_date,
    load_household_keys,
    load_households,
    load_link,
    load_linkage_model,
    load_links,
    load_next_person_number,
    load_person,
    load_persons,
    load_previous_links,
    load_review_decisions,
    load_review_queue,
    load_snapshot_fields,
    write_base_map,
    write_review_decision,
)
from pipelines.store.bulk import bulk_insert, raw_frame, upsert_newest
from pipelines.store.snapshots import (
    connect,
    effective_date,
    get_feed_load,
    load_feed_loads,
    load_findings,
    load_region_codes,
    load_region_reference,
    load_snapshot,
    migrate,
    record_delivery,
    region_reference_is_empty,
    replace_region_reference,
    write_feed_load,
    write_findings,
    write_snapshot,
)

__all__ = [
    "connect", "migrate",
    "record_delivery", "write_feed_load", "get_feed_load", "load_feed_loads", "effective_date",
    "write_snapshot", "load_snapshot", "write_findings", "load_findings",
    "replace_region_reference", "load_region_codes", "load_region_reference", "region_reference_is_empty",
    "LINK_COLUMNS", "REVIEW_COLUMNS", "PERSON_COLUMNS", "HOUSEHOLD_COLUMNS",
    "write_base_map", "load_links", "iter_links", "load_link", "load_previous_links", "latest_link_date",
    "load_next_person_number", "load_household_keys", "load_persons", "load_person", "load_households",
    "load_snapshot_fields", "load_linkage_model", "load_review_queue", "load_review_decisions",
    "write_review_decision",
    "bulk_insert", "upsert_newest", "raw_frame",
]
