"""hash chain over clue events: state, prev_hash and chain_hash on each event, and the chain head

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 03:40:00

Events already in the store are chained in event id order; their `state` stays unknown (NULL): the
clue rows may already have been edited, and recording them now would bless the edit. The
append-only trigger of 0004 is lifted for that one update and put back.
"""

import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
# The same fields and canonical form as pipelines.store.audit (a migration must not import the
# code it outlives).
EVENT_FIELDS = (
    "clue_id",
    "action",
    "from_status",
    "to_status",
    "at",
    "user_name",
    "role",
    "note",
    "delivery_date",
    "source",
    "state",
)
APPEND_ONLY = "clue_events is append-only (线索流转记录只能追加，不能修改或删除)"


def _plain(value):
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def _hash(prev: str, event: dict) -> str:
    body = json.dumps({f: _plain(event.get(f)) for f in EVENT_FIELDS}, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256((prev + body).encode("utf-8")).hexdigest()


def _events_table() -> sa.Table:
    return sa.Table(
        "clue_events",
        sa.MetaData(),
        sa.Column("event_id", sa.Integer, primary_key=True),
        *(sa.Column(f, sa.DateTime if f == "at" else sa.Date if f == "delivery_date" else sa.Text) for f in EVENT_FIELDS),
        sa.Column("prev_hash", sa.String(64)),
        sa.Column("chain_hash", sa.String(64)),
    )


def _set_append_only(sqlite: bool, on: bool) -> None:
    if sqlite:
        if on:
            op.execute(
                f"create trigger clue_events_no_update before update on clue_events begin select raise(abort, '{APPEND_ONLY}'); end"
            )
        else:
            op.execute("drop trigger clue_events_no_update")
        return
    op.execute(f"alter table clue_events {'enable' if on else 'disable'} trigger clue_events_no_change")


def upgrade() -> None:
    op.add_column("clue_events", sa.Column("state", sa.Text(), nullable=True))
    op.add_column("clue_events", sa.Column("prev_hash", sa.String(length=64), nullable=True))
    op.add_column("clue_events", sa.Column("chain_hash", sa.String(length=64), nullable=True))
    op.create_table(
        "clue_chain",
        sa.Column("chain_id", sa.Integer(), nullable=False),
        sa.Column("head_event_id", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("events", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("chain_id"),
    )
    conn = op.get_bind()
    sqlite = conn.dialect.name == "sqlite"
    events = _events_table()
    prev, last_id, count, chained = GENESIS, 0, 0, []
    for row in conn.execute(sa.select(events).order_by(events.c.event_id)).mappings():
        row_hash = _hash(prev, dict(row))
        chained.append({"b_id": row["event_id"], "b_prev": prev, "b_hash": row_hash})
        prev, last_id, count = row_hash, row["event_id"], count + 1
    if chained:
        _set_append_only(sqlite, False)
        conn.execute(
            events.update()
            .where(events.c.event_id == sa.bindparam("b_id"))
            .values(prev_hash=sa.bindparam("b_prev"), chain_hash=sa.bindparam("b_hash")),
            chained,
        )
        _set_append_only(sqlite, True)
    conn.execute(
        sa.text("insert into clue_chain (chain_id, head_event_id, head_hash, events) values (1, :last, :head, :n)"),
        {"last": last_id, "head": prev, "n": count},
    )


def downgrade() -> None:
    op.drop_table("clue_chain")
    # Plain ALTER TABLE (SQLite 3.35+ has DROP COLUMN): a batch copy of the table would lose 0004's triggers.
    for column in ("chain_hash", "prev_hash", "state"):
        op.execute(f"alter table clue_events drop column {column}")
