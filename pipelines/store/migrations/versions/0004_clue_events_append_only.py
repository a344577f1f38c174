"""clue_events is append-only: the database refuses to change or delete an event

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21 21:00:00
"""
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

MESSAGE = "clue_events is append-only (线索流转记录只能追加，不能修改或删除)"


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("update", "delete"):
            op.execute(
                f"create trigger clue_events_no_{event} before {event} on clue_events "
                f"begin select raise(abort, '{MESSAGE}'); end"
            )
        return
    op.execute(
        "create function clue_events_append_only() returns trigger language plpgsql as "
        f"$$ begin raise exception '{MESSAGE}'; end $$"
    )
    op.execute(
        "create trigger clue_events_no_change before update or delete on clue_events "
        "for each row execute function clue_events_append_only()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for event in ("update", "delete"):
            op.execute(f"drop trigger clue_events_no_{event}")
        return
    op.execute("drop trigger clue_events_no_change on clue_events")
    op.execute("drop function clue_events_append_only()")
