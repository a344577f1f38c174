"""Write transactions that hold their lock from the first read, so a read-then-write cannot lose a
concurrent writer's change (a clue move, a ledger import, a ledger issue).

SQLite: pysqlite opens a transaction only at the first INSERT/UPDATE/DELETE, so the reads before it
run outside any transaction and two writers can both read the same state; `BEGIN IMMEDIATE` takes
the database's write lock before the first read (a second writer waits, up to the connection's busy
timeout). PostgreSQL: rows are read with `SELECT … FOR UPDATE` (`lock_rows`), so a second writer
waits on those rows and then reads what the first committed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, Select, Table
from sqlalchemy.exc import OperationalError

from pipelines.errors import BiduiError

__all__ = ["lock_rows", "write_transaction"]


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction, committed on leaving and rolled back on an error; on SQLite
    it holds the write lock from its first statement (BEGIN IMMEDIATE)."""
    if engine.dialect.name != "sqlite":
        with engine.begin() as conn:
            yield conn
        return
    with engine.connect() as conn:
        # SQLAlchemy's own begin is a no-op for pysqlite; the driver sees our BEGIN and issues none of its own.
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except OperationalError as exc:
            if "locked" not in str(exc):
                raise
            raise BiduiError("数据库正被另一项写入（夜间比对、台账导入或下发）占用，等待超时；请稍后重试") from exc
        try:
            yield conn
        except BaseException:
            conn.rollback()
            raise
        conn.commit()


def lock_rows(conn: Connection, statement: Select, of: Table) -> Select:
    """`statement` reading rows of `of` to change them: FOR UPDATE on PostgreSQL (SQLite's
    write_transaction already holds the whole database)."""
    if conn.dialect.name == "postgresql":
        return statement.with_for_update(of=of)
    return statement
