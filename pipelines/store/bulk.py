"""Moving large frames in and out of the store fast: executemany on SQLite, COPY on PostgreSQL.

The same approach as pipelines.store.snapshots's snapshot writes, for tables keyed on something other than
the delivery date (persons, households) and for reads of millions of rows.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pandas as pd
from sqlalchemy import Column, ColumnElement, MetaData, Table, bindparam, case, func, select

from pipelines.store.upsert import dialect_insert

__all__ = ["ANALYZE_ROWS", "bulk_insert", "raw_frame", "upsert_newest"]

# Loads of at least this many rows are analyzed at once on PostgreSQL.
ANALYZE_ROWS = 10_000


def _tuples(body: pd.DataFrame):
    """Rows as tuples for executemany. sqlite3 stores a NaN as NULL, so only pandas' own missing
    marker (pd.NA, in nullable columns) needs replacing; column-wise tolist beats itertuples."""
    columns = []
    for name in body.columns:
        column = body[name]
        if isinstance(column.dtype, pd.api.extensions.ExtensionDtype):
            column = column.astype(object).where(column.notna(), None)
        columns.append(column.tolist())
    return zip(*columns)


def _csv(body: pd.DataFrame) -> io.BytesIO:
    """Rows as CSV for COPY: missing values as unquoted empty fields (COPY's CSV null), text
    always quoted. Arrow writes it several times faster than pandas."""
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    buffer = io.BytesIO()
    try:
        pa_csv.write_csv(pa.Table.from_pandas(body, preserve_index=False), buffer, pa_csv.WriteOptions(include_header=False))
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # a column of mixed types: pandas copes
        buffer = io.BytesIO(body.to_csv(index=False, header=False, quoting=csv.QUOTE_MINIMAL).encode())
    buffer.seek(0)
    return buffer


def bulk_insert(conn, table_name: str, columns: list[str], body: pd.DataFrame) -> None:
    """Append `body[columns]` to a table inside the caller's transaction."""
    if body.empty:
        return
    quoted = ", ".join(f'"{c}"' for c in columns)
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        # COPY is an order of magnitude faster than INSERT for millions of rows.
        with raw.cursor() as cur:
            cur.copy_expert(f'copy "{table_name}" ({quoted}) from stdin with (format csv)', _csv(body[columns]))
            if len(body) >= ANALYZE_ROWS:
                # The planner's statistics of what was just loaded, in the same transaction: queries
                # later in the night must not plan a join over a million rows for an empty table
                # (autovacuum may be off, and is never round in time). It samples, so it is cheap.
                cur.execute(f'analyze "{table_name}"')
        return
    placeholders = ", ".join("?" for _ in columns)
    raw.cursor().executemany(f'insert into "{table_name}" ({quoted}) values ({placeholders})', _tuples(body[columns]))


def upsert_newest(conn, table: Table, key: str, body: pd.DataFrame) -> None:
    """Insert rows, or update existing ones: values from whichever night is newer, first_seen the
    earliest and last_seen the latest. Re-running an older night therefore leaves newer values be."""
    if body.empty:
        return
    columns = [c.name for c in table.columns]
    if conn.dialect.name == "postgresql":
        # COPY into a staging table, then one set-based upsert.
        stage = Table(
            f"stage_{table.name}",
            MetaData(),
            *(Column(c.name, c.type) for c in table.columns),
            prefixes=["TEMPORARY"],
            postgresql_on_commit="DROP",
        )
        stage.create(conn)
        bulk_insert(conn, stage.name, columns, body[columns])
        conn.execute(_newest_wins(conn, dialect_insert(conn, table).from_select(columns, select(*stage.c)), table, key))
        return
    # SQLite: executemany of the upsert itself is faster than staging (one pass over the rows).
    statement = _newest_wins(conn, dialect_insert(conn, table).values({c: bindparam(c) for c in columns}), table, key)
    compiled = statement.compile(dialect=conn.dialect)
    order = list(compiled.positiontup)
    conn.connection.driver_connection.cursor().executemany(str(compiled), _tuples(body[order]))


def _newest_wins(conn, statement, table: Table, key: str):
    """`statement` (the dialect's insert) with the upsert_newest conflict rule. Every right-hand side
    reads the stored row as it was before the update, last_seen included."""
    stored, incoming = table.c, statement.excluded
    newer = incoming.last_seen >= stored.last_seen
    least, greatest = (func.least, func.greatest) if conn.dialect.name == "postgresql" else (func.min, func.max)
    values: dict[str, ColumnElement[Any]] = {
        c.name: case((newer, incoming[c.name]), else_=c) for c in stored if c.name not in (key, "first_seen", "last_seen")
    }
    values["first_seen"] = least(stored.first_seen, incoming.first_seen)
    values["last_seen"] = greatest(stored.last_seen, incoming.last_seen)
    return statement.on_conflict_do_update(index_elements=[key], set_=values)


def raw_frame(conn, statement, columns: list[str]) -> pd.DataFrame:
    """A select's rows as a frame, fetched through the driver's own cursor: SQLAlchemy's row objects
    cost seconds per million rows."""
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.params
    cursor = conn.connection.driver_connection.cursor()
    if conn.dialect.name == "postgresql":
        cursor.execute(str(compiled), params)
    else:
        cursor.execute(str(compiled), [params[name] for name in compiled.positiontup])
    return pd.DataFrame(cursor.fetchall(), columns=columns)
