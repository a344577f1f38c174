"""Table definitions. Alembic migrations (pipelines/store/migrations) are the source of truth for the schema;
these mirror them for queries and for autogenerate."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
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
    UniqueConstraint,
    func,
)

from pipelines.catalog.feeds import FEEDS, FeedSpec

__all__ = [
    "PERSON_ATTRIBUTES",
    "bulletin_ranks",
    "bulletins",
    "clue_chain",
    "clue_events",
    "clues",
    "cross_check_samples",
    "deliveries",
    "feed_loads",
    "feed_table",
    "feed_tables",
    "findings",
    "households",
    "ledger_imports",
    "ledger_issues",
    "ledger_rows",
    "linkage_models",
    "links",
    "metadata",
    "night_counts",
    "night_images",
    "night_undos",
    "nights",
    "persons",
    "quality_report_values",
    "quality_reports",
    "region_reference",
    "review_decisions",
    "review_queue",
    "rule_releases",
    "rule_runs",
    "sign_in_attempts",
    "signed_out_sessions",
    "task_failures",
    "users",
]

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


def _snapshot_table(feed: FeedSpec) -> Table:
    # Values are kept as delivered-and-normalised text: a value ingestion could not normalise stays as
    # it came, so nothing is lost and validation can name it. The record key is the first column.
    columns = [feed.key, *(c for c in feed.columns if c != feed.key)]
    return Table(
        f"feed_{feed.name}",
        metadata,
        Column("delivery_date", Date, primary_key=True),
        Column("row_no", Integer, primary_key=True),
        *(Column(name, Text) for name in columns),
        Column("extra", Text),
        Index(f"ix_feed_{feed.name}_key", "delivery_date", feed.key),
    )


# One snapshot table per feed of the packaged catalogue (migration 0001 made them).
feed_tables: dict[str, Table] = {name: _snapshot_table(feed) for name, feed in FEEDS.items()}


def feed_table(feed_name: str) -> Table:
    """The snapshot table of a feed."""
    return feed_tables[feed_name]


# --- the base map (底图) ----------------------------------------------------------------------

# Every person attribute is kept with the source row that gave it ('feed:record_key'), so a county
# officer can see whose word a value is. Identity comes from hukou first; department facts from
# their own department (see pipelines.basemap.attributes).
PERSON_ATTRIBUTES: dict[str, str] = {
    "name": "name_source",
    "id_number": "id_source",
    "sex": "sex_source",
    "birth_date": "birth_source",
    "ethnicity": "ethnicity_source",
    "village_code": "village_source",
    "hukou_state": "hukou_state_source",
    "insured_state": "insured_source",
    "enrolment_state": "enrolment_source",
    "illness_kind": "illness_source",
    "assistance_kind": "assistance_source",
}

persons = Table(
    "persons",
    metadata,
    Column("person_id", String(10), primary_key=True),  # 'P' + 9 digits, assigned once and kept
    Column("household_code", String(17)),
    *(column for value, source in PERSON_ATTRIBUTES.items() for column in (Column(value, Text), Column(source, Text))),
    Column("first_seen", Date, nullable=False),
    Column("last_seen", Date, nullable=False),
    Index("ix_persons_name", "name"),
)

# One household code per household (一户一码): 'H' + the 12-digit village code where it was first
# seen + a 4-digit sequence. household_key is what the code stays with: 'hukou:<户号>' for a
# registered household, else the department's own household number ('poverty:<户编号>', …).
households = Table(
    "households",
    metadata,
    Column("household_code", String(17), primary_key=True),
    Column("household_key", Text, nullable=False, unique=True),
    Column("hukou_no", Text),
    Column("village_code", String(12)),
    Column("head_person_id", String(10)),
    Column("first_seen", Date, nullable=False),
    Column("last_seen", Date, nullable=False),
)

# One row per person-level source row per night: where the linker put it and why.
links = Table(
    "links",
    metadata,
    Column("delivery_date", Date, primary_key=True),
    Column("feed", String(40), primary_key=True),
    Column("record_key", Text, primary_key=True),
    Column("person_id", String(10), nullable=False),
    Column("household_code", String(17)),
    Column("method", String(20), nullable=False),  # id_exact | probabilistic | review_decision | singleton
    Column("probability", Float),
    Column("match_weight", Float),
    Column("anchor_feed", String(40)),
    Column("anchor_key", Text),
    Column("levels", Text),  # JSON {comparison: level} of the accepted pair
)

# The fitted Fellegi–Sunter model of each night, with its thresholds: `explain` needs the very
# model that scored a pair, not tonight's.
linkage_models = Table(
    "linkage_models",
    metadata,
    Column("delivery_date", Date, primary_key=True),
    Column("model", Text, nullable=False),  # JSON: FellegiSunter.to_dict() + upper, lower
)

review_queue = Table(
    "review_queue",
    metadata,
    Column("delivery_date", Date, primary_key=True),
    Column("feed", String(40), primary_key=True),
    Column("record_key", Text, primary_key=True),
    Column("candidate_feed", String(40), primary_key=True),
    Column("candidate_key", Text, primary_key=True),
    Column("probability", Float),
    Column("match_weight", Float),
    Column("levels", Text),
    Column("status", String(10), nullable=False),  # open | decided
)

# A reviewer's word on a pair, obeyed on every later night until changed.
review_decisions = Table(
    "review_decisions",
    metadata,
    Column("feed", String(40), primary_key=True),
    Column("record_key", Text, primary_key=True),
    Column("candidate_feed", String(40), primary_key=True),
    Column("candidate_key", Text, primary_key=True),
    Column("decision", String(10), nullable=False),  # same | different
    Column("decided_by", Text, nullable=False),
    Column("decided_at", DateTime, nullable=False),
)


# --- rules, clues, users, ledgers (issue 4) ----------------------------------------------------

rule_runs = Table(
    "rule_runs",
    metadata,
    Column("delivery_date", Date, primary_key=True),
    Column("rule", String(8), primary_key=True),
    Column("status", String(10), nullable=False),  # ran | skipped | held | failed
    Column("fired", Integer),  # subjects the rule found tonight
    Column("previous", Integer),  # subjects it found on the last night it ran
    Column("new", Integer),
    Column("cleared", Integer),
    Column("reopened", Integer),
    Column("seconds", Float),
    Column("message", Text),  # why skipped / held / failed, in Chinese
)

clues = Table(
    "clues",
    metadata,
    Column("clue_id", String(16), primary_key=True),  # e.g. 'R05-000123', assigned once
    Column("rule", String(8), nullable=False),
    Column("subject_feed", String(40), nullable=False),
    Column("subject_key", Text, nullable=False),
    Column("person_id", String(10)),
    Column("household_code", String(17)),
    Column("household_no", Text),  # the poverty household 户编号 when there is one
    Column("village_code", String(12)),  # the responsible region
    Column("county_code", String(6)),
    Column("department", Text, nullable=False),
    Column("evidence", Text, nullable=False),  # JSON: [{feed, record_key, fields: {...}}, ...]
    Column("evidence_hash", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("verdict", String(8)),  # 属实 | 不属实
    Column("dismiss_reason", Text),
    Column("rectification", Text),
    Column("rectified_on", Date),
    Column("verified_by", Text),
    Column("verified_on", Date),
    Column("signed_by", Text),
    Column("signed_on", Date),
    Column("first_seen", Date, nullable=False),
    Column("last_seen", Date, nullable=False),
    Column("cleared_on", Date),
    Column("issued_on", Date),
    Column("deadline", Date),
    Column("reopen_count", Integer, nullable=False),
    UniqueConstraint("rule", "subject_feed", "subject_key", name="uq_clues_subject"),
    Index("ix_clues_county_status", "county_code", "status"),
    Index("ix_clues_village", "village_code"),
    # The site's clue list (migration 0008): found by name, and by status in clue_id order.
    Index("ix_clues_person", "person_id"),
    Index("ix_clues_status", "status", "clue_id"),
)

clue_events = Table(
    "clue_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("clue_id", String(16), nullable=False),
    Column("action", String(16), nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("user_name", Text, nullable=False),  # 'system' for the nightly run
    Column("role", String(16), nullable=False),
    Column("note", Text),
    Column("delivery_date", Date),  # the night, for events of the nightly run
    Column("source", String(16), nullable=False),  # night | cli | ledger | web | undo
    # The hash chain (pipelines.store.audit, migration 0006): the clue's status and verification
    # fields right after the event (JSON), and sha256(prev_hash + the event's canonical JSON).
    Column("state", Text),
    Column("prev_hash", String(64)),
    Column("chain_hash", String(64)),
    Index("ix_clue_events_clue", "clue_id", "event_id"),
)

# The chain's head, one row: an event deleted from the end shows against it, and appends lock it.
clue_chain = Table(
    "clue_chain",
    metadata,
    Column("chain_id", Integer, primary_key=True),
    Column("head_event_id", Integer, nullable=False),
    Column("head_hash", String(64), nullable=False),
    Column("events", Integer, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("user_name", String(64), primary_key=True),
    Column("display_name", Text),
    Column("password_hash", Text, nullable=False),  # argon2
    Column("role", String(16), nullable=False),  # prefecture | county | township | village | liaison | auditor
    Column("region_code", String(12), nullable=False),  # the scope: a 4/6/9/12-digit region prefix
    Column("department", Text),  # a liaison's department (公安, 教育, …)
    Column("full_ids", Boolean, nullable=False),  # may see unmasked ID numbers
    Column("active", Boolean, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

ledger_issues = Table(
    "ledger_issues",
    metadata,
    Column("county_code", String(6), primary_key=True),
    Column("issue_date", Date, primary_key=True),
    Column("file", Text, nullable=False),
    Column("clues", Integer, nullable=False),
    Column("issued_by", Text, nullable=False),
    Column("issued_at", DateTime, nullable=False),
)

ledger_imports = Table(
    "ledger_imports",
    metadata,
    Column("import_id", Integer, primary_key=True, autoincrement=True),
    Column("file_sha256", String(64), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("imported_at", DateTime, nullable=False),
    Column("rows", Integer, nullable=False),
    Column("applied", Integer, nullable=False),
    Column("unchanged", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("report", Text),  # path of the import report
)

# What each ledger carried, row by row, as issued: a returned row is checked against these locked
# values (not against tonight's data) and applies only while the clue has not gone back since.
ledger_rows = Table(
    "ledger_rows",
    metadata,
    Column("county_code", String(6), primary_key=True),
    Column("issue_date", Date, primary_key=True),
    Column("clue_id", String(16), primary_key=True),
    Column("status_issued", String(16), nullable=False),
    Column("event_id", Integer, nullable=False),  # the clue's last event when the ledger was issued
    Column("locked", Text, nullable=False),  # JSON: locked column → value as issued (ID numbers in full)
    Index("ix_ledger_rows_clue", "clue_id", "issue_date"),
)

# One row per night opened since migration 0007: when, and the newest clue event before it, so an
# undo can tell the clue moves people made after the night began from the night's own.
nights = Table(
    "nights",
    metadata,
    Column("delivery_date", Date, primary_key=True),
    Column("opened_at", DateTime, nullable=False),
    Column("last_event_id", Integer, nullable=False),
)

# Rows of the in-place tables as they were before a night, one JSON object per row: the images
# need no migration when those tables gain a column.
night_images = Table(
    "night_images",
    metadata,
    Column("delivery_date", Date, primary_key=True),
    Column("table_name", String(40), primary_key=True),
    Column("row_no", Integer, primary_key=True),
    Column("row", Text, nullable=False),
)

night_undos = Table(
    "night_undos",
    metadata,
    Column("undo_id", Integer, primary_key=True, autoincrement=True),
    Column("delivery_date", Date, nullable=False),
    Column("source_dir", Text),
    Column("user_name", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("undone_at", DateTime, nullable=False),
    Column("summary", Text, nullable=False),  # JSON: rows removed or restored per table
)


# --- the monitoring site (migration 0008) ------------------------------------------------------

# Problem counts as the night left them, written by the night itself (pipelines.clues.counts), so a
# trend over nights is read, not recomputed from events. One row per night, region and rule: the
# region a county (6 digits), township (9) or village (12); rule '*' is all rules together.
#   found    clues found in the region so far (every state)    closed   销号 or 备案
#   open     still to be acted on (待下发 … 已签字待销号)        cleared  数据已消除 before verification
#   overdue  open and past the deadline on the night            reopened re-opened at least once
night_counts = Table(
    "night_counts",
    metadata,
    Column("delivery_date", Date, primary_key=True),
    Column("region_code", String(12), primary_key=True),
    Column("rule", String(8), primary_key=True),
    Column("found", Integer, nullable=False),
    Column("open", Integer, nullable=False),
    Column("closed", Integer, nullable=False),
    Column("cleared", Integer, nullable=False),
    Column("overdue", Integer, nullable=False),
    Column("reopened", Integer, nullable=False),
    Index("ix_night_counts_region", "region_code", "rule", "delivery_date"),
)
# The monitor pages read one level inside one region (a prefecture's counties, a county's
# townships): by code length first, so they never walk the villages' rows beneath.
Index(
    "ix_night_counts_level",
    func.length(night_counts.c.region_code),
    night_counts.c.rule,
    night_counts.c.region_code,
    night_counts.c.delivery_date,
)

# Every sign-in to the site, kept to slow down guessing: a name or address with too many recent
# failures is refused for a while (pipelines.web.auth).
sign_in_attempts = Table(
    "sign_in_attempts",
    metadata,
    Column("attempt_id", Integer, primary_key=True, autoincrement=True),
    Column("user_key", String(64), nullable=False),  # the typed name, NFKC + casefold
    Column("address", String(64), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Index("ix_sign_in_attempts_user", "user_key", "at"),
    Index("ix_sign_in_attempts_address", "address", "at"),
)

# The site's sessions ended by signing out: a copy of the cookie kept from before opens nothing. A
# row is needed only until the session would have expired anyway (`until`), then deleted.
signed_out_sessions = Table(
    "signed_out_sessions",
    metadata,
    Column("session_id", String(64), primary_key=True),
    Column("until", DateTime, nullable=False),
)

# A held rule let through the circuit breaker by the data officer for a night (the site's button;
# `bidui run --release` does the same for a whole night run).
rule_releases = Table(
    "rule_releases",
    metadata,
    Column("delivery_date", Date, primary_key=True),
    Column("rule", String(8), primary_key=True),
    Column("released_by", String(64), nullable=False),
    Column("released_at", DateTime, nullable=False),
    Column("status", String(10), nullable=False),  # running | done | failed
    Column("message", Text),
)


# --- the monthly bulletin (月通报, migration 0010) -----------------------------------------------

# One row per month a bulletin was made: the month's last night it read, who made it, the weights it
# ranked by (JSON), and where its files are (a directory and the JSON list of the file names).
bulletins = Table(
    "bulletins",
    metadata,
    Column("month", String(7), primary_key=True),  # 'YYYY-MM'
    Column("last_night", Date, nullable=False),
    Column("made_at", DateTime, nullable=False),
    Column("made_by", String(64), nullable=False),
    Column("weights", Text, nullable=False),
    Column("out_dir", Text, nullable=False),
    Column("files", Text, nullable=False),
)

# Each county's figures, score and rank in a month's bulletin: a later bulletin counts consecutive
# bottom placements from these (pipelines.documents.bulletin).
bulletin_ranks = Table(
    "bulletin_ranks",
    metadata,
    Column("month", String(7), primary_key=True),
    Column("county_code", String(6), primary_key=True),
    Column("registered", Integer, nullable=False),
    Column("found", Integer, nullable=False),
    Column("open", Integer, nullable=False),
    Column("closed", Integer, nullable=False),
    Column("overdue", Integer, nullable=False),
    Column("reopened", Integer, nullable=False),
    Column("issued", Integer, nullable=False),
    Column("returned", Integer, nullable=False),
    Column("score", Float, nullable=False),
    Column("rank", Integer, nullable=False),
    Column("bottom", Boolean, nullable=False),
    Column("consecutive", Integer, nullable=False),
)


# --- the pre-audit data-quality report (数据质量报告, migration 0011) ---------------------------

# One report per night it was made for (re-making it replaces it); the files as written.
quality_reports = Table(
    "quality_reports",
    metadata,
    Column("report_night", Date, primary_key=True),
    Column("as_of", Date, nullable=False),
    Column("compared_with", Date),  # the earlier report's night the changes are counted against
    Column("made_by", Text, nullable=False),
    Column("made_at", DateTime, nullable=False),
    Column("html", Text),
    Column("pdf", Text),
    Column("xlsx", Text),
)

# Each indicator's value per county ('*' the prefecture, '?' rows no county could be found for),
# kept so a later report can say what changed since.
quality_report_values = Table(
    "quality_report_values",
    metadata,
    Column("report_night", Date, primary_key=True),
    Column("region_code", String(12), primary_key=True),
    Column("indicator", String(40), primary_key=True),
    Column("value", Float),
)


# --- the cross-check sample (交叉检查抽样, migration 0012) -----------------------------------------

# One row per sample drawn (pipelines.documents.sample): the same county, year, seed and data date
# always draw the same sample, so those are its natural key and re-running replaces the row. `drawn`
# is the JSON of the villages, households (ID numbers in full; masked when shown), rules applied
# and fall-backs taken.
cross_check_samples = Table(
    "cross_check_samples",
    metadata,
    Column("sample_id", Integer, primary_key=True, autoincrement=True),
    Column("county_code", String(6), nullable=False),
    Column("year", Integer, nullable=False),
    Column("seed", Integer, nullable=False),
    Column("data_date", Date, nullable=False),
    Column("user_name", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("file", Text),
    Column("villages", Integer, nullable=False),
    Column("households", Integer, nullable=False),
    Column("drawn", Text, nullable=False),
    UniqueConstraint("county_code", "year", "seed", "data_date", name="uq_cross_check_samples_draw"),
    Index("ix_cross_check_samples_county", "county_code", "sample_id"),
)
# The general households (一般农户) of the sampled villages are read by village from the base map.
Index("ix_households_village", households.c.village_code)


# --- failed Airflow tasks (migration 0013) ----------------------------------------------------------

# One row per task try that failed for good (the DAGs' on_failure_callback, pipelines.night.failures),
# so the data officer's night page lists what broke on its night. A callback fired twice for one try
# writes one row: the DAG, run, task, map index and try are its natural key.
task_failures = Table(
    "task_failures",
    metadata,
    Column("failure_id", Integer, primary_key=True, autoincrement=True),
    Column("dag_id", String(250), nullable=False),
    Column("run_id", String(250), nullable=False),
    Column("task_id", String(250), nullable=False),
    Column("map_index", Integer, nullable=False),  # -1: not mapped
    Column("try_number", Integer, nullable=False),
    Column("data_date", Date),  # the night the run worked on; None when it could not be told
    Column("failed_at", DateTime, nullable=False),
    Column("error_type", String(250), nullable=False),
    Column("message", Text, nullable=False),  # Chinese, for the data officer
    UniqueConstraint("dag_id", "run_id", "task_id", "map_index", "try_number", name="uq_task_failures_try"),
    Index("ix_task_failures_date", "data_date", "failed_at"),
)
