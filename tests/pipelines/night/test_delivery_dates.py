"""Delivery dates: a delivery dated after today or before the newest night is refused before
anything is written; the newest night may run again."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pipelines import store
from pipelines.errors import BiduiError
from pipelines.ingest import ingest_delivery
from pipelines.store.tables import deliveries, feed_loads, findings

SEED_HUKOU = Path(__file__).resolve().parents[3] / "seeds" / "demo" / "2026-11-20" / "hukou.csv"


def _delivery(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "hukou.csv").write_bytes(SEED_HUKOU.read_bytes())
    return folder


def _written(settings) -> tuple[int, int, int]:
    with store.connect(settings).connect() as conn:
        return tuple(conn.execute(select(func.count()).select_from(t)).scalar() for t in (deliveries, feed_loads, findings))


def test_a_delivery_dated_after_today_is_refused_before_anything_is_written(settings, tmp_path):
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    with pytest.raises(BiduiError, match=f"^交付的数据日期 {tomorrow} 晚于今天"):
        ingest_delivery(settings, _delivery(tmp_path, tomorrow))
    assert _written(settings) == (0, 0, 0)


def test_a_delivery_older_than_the_newest_night_is_refused_and_the_newest_may_run_again(settings, tmp_path):
    ingest_delivery(settings, _delivery(tmp_path, "2026-11-20"))
    before = _written(settings)
    with pytest.raises(
        BiduiError, match="^交付的数据日期 2026-11-19 早于已处理的最近一晚 2026-11-20.*bidui night undo 2026-11-20"
    ):
        ingest_delivery(settings, _delivery(tmp_path, "2026-11-19"))
    assert _written(settings) == before
    again = ingest_delivery(settings, tmp_path / "2026-11-20")
    assert {f.feed: f.status for f in again.feeds}["hukou"] == "unchanged"
    assert _written(settings) == before


def test_a_ledger_is_not_issued_on_a_future_date_nor_before_the_newest_night(settings, tmp_path):
    from pipelines.access import Scope
    from pipelines.ledgers import issue_ledgers

    engine = store.connect(settings)
    prefecture = Scope("shi", "prefecture", "5227", None, True)
    with pytest.raises(BiduiError, match="^下发日期 2099-01-01 晚于今天"):
        issue_ledgers(engine, settings, prefecture, dt.date(2099, 1, 1))
    ingest_delivery(settings, _delivery(tmp_path, "2026-11-20"))
    with pytest.raises(BiduiError, match="^下发日期 2026-11-19 早于已处理的最近一晚 2026-11-20"):
        issue_ledgers(engine, settings, prefecture, dt.date(2026, 11, 19))
    assert issue_ledgers(engine, settings, prefecture, dt.date(2026, 11, 20)) == []


def test_linking_a_night_older_than_the_newest_is_refused_before_anything_is_written(settings, tmp_path):
    from pipelines.link import link_night
    from pipelines.store.tables import links, persons

    ingest_delivery(settings, _delivery(tmp_path, "2026-11-20"))
    link_night(settings, "2026-11-20")
    ingest_delivery(settings, _delivery(tmp_path, "2026-11-21"))

    def base_map() -> tuple[int, int]:
        with store.connect(settings).connect() as conn:
            return tuple(conn.execute(select(func.count()).select_from(t)).scalar() for t in (persons, links))

    before = base_map()
    with pytest.raises(BiduiError, match="^数据日期 2026-11-20 早于已处理的最近一晚 2026-11-21，不能再关联"):
        link_night(settings, "2026-11-20")
    assert base_map() == before
