"""Keyed writes as one statement: insert a row, or, when its key is already stored, update it (or
leave it be). Both dialects the store runs on have `insert … on conflict`; `dialect_insert` picks
the connection's, so a keyed write reads the same on SQLite and PostgreSQL and never races a
select that came before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

__all__ = ["dialect_insert", "upsert"]

_INSERTS: dict[str, Callable[[Table], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


def dialect_insert(conn: Connection, table: Table) -> postgresql.Insert | sqlite.Insert:
    """`insert(table)` in the connection's dialect, the one that knows `on_conflict_do_update` and
    `on_conflict_do_nothing`."""
    try:
        return _INSERTS[conn.dialect.name](table)
    except KeyError:
        raise NotImplementedError(f"no upsert for the {conn.dialect.name} dialect") from None


def upsert(
    conn: Connection,
    table: Table,
    row: Mapping[str, object],
    update: Iterable[str] | None = None,
    keys: Sequence[str] | None = None,
) -> bool:
    """Insert `row` into `table`, or, when a row with the same `keys` (default: the primary key) is
    stored, overwrite its `update` columns (default: every column `row` gives but the keys) with
    `row`'s values; `update=()` leaves a stored row as it is. True when a row was written."""
    keys = list(keys) if keys is not None else [c.name for c in table.primary_key.columns]
    changed = [c for c in (row if update is None else update) if c not in keys]
    statement = dialect_insert(conn, table).values(dict(row))
    if changed:
        statement = statement.on_conflict_do_update(index_elements=keys, set_={c: statement.excluded[c] for c in changed})
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    return conn.execute(statement).rowcount > 0
