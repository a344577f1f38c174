"""Write transactions (pipelines.store.transactions) on SQLite: the write lock is held from the first
read, and a writer that cannot get it is told in Chinese."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from pipelines.errors import BiduiError
from pipelines.store.transactions import write_transaction


def _engine(path, timeout: float) -> sa.Engine:
    return sa.create_engine(f"sqlite:///{path}", connect_args={"timeout": timeout})


def test_a_second_writer_cannot_start_while_the_first_holds_the_lock(tmp_path):
    engine = _engine(tmp_path / "s.db", 5)
    with engine.begin() as conn:
        conn.exec_driver_sql("create table t (v integer)")
        conn.exec_driver_sql("insert into t values (0)")
    with write_transaction(engine) as first:
        first.exec_driver_sql("select v from t").scalar()
        # Another connection cannot even start a write transaction (it would read a stale value).
        with pytest.raises(BiduiError, match="^数据库正被另一项写入（夜间比对、台账导入或下发）占用，等待超时；请稍后重试$"):
            with write_transaction(_engine(tmp_path / "s.db", 0.1)):
                pass
        first.exec_driver_sql("update t set v = 1")
    with write_transaction(engine) as second:
        assert second.exec_driver_sql("select v from t").scalar() == 1


def test_an_error_rolls_the_transaction_back(tmp_path):
    engine = _engine(tmp_path / "s.db", 5)
    with engine.begin() as conn:
        conn.exec_driver_sql("create table t (v integer)")
        conn.exec_driver_sql("insert into t values (0)")
    with pytest.raises(ValueError), write_transaction(engine) as conn:
        conn.exec_driver_sql("update t set v = 1")
        raise ValueError
    with engine.connect() as conn:
        assert conn.exec_driver_sql("select v from t").scalar() == 0
