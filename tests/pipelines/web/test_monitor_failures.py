"""The night page lists the night's failed Airflow tasks in a card (task_failures, written by the
DAGs' failure callback); a night whose delivery never came is reachable through its failure."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

from pipelines.night import record_task_failure


def _fail(settings, task_id: str, day: str, error: Exception, map_index: int = -1) -> None:
    ti = SimpleNamespace(dag_id="nightly_comparison", run_id=f"manual__{day}", task_id=task_id, map_index=map_index, try_number=3)
    assert record_task_failure({"ti": ti, "exception": error}, day, settings, now=dt.datetime(2026, 11, 23, 7, 0, 1))


def test_the_night_page_lists_that_nights_failed_tasks(client_for, site_settings):
    _fail(site_settings, "ledger", "2026-11-20", RuntimeError("disk full"), map_index=1)
    _fail(site_settings, "wait_for_delivery", "2026-11-22", type("AirflowSensorTimeout", (Exception,), {})("timed out"))
    client = client_for("officer")

    night = client.get("/monitor/night?date=2026-11-20")
    assert night.status_code == 200
    assert "失败的任务（1）" in night.text and "系统错误（RuntimeError）：disk full" in night.text
    assert "等待超时" not in night.text  # another night's failure
    data = client.get("/monitor/night?date=2026-11-22&format=json").json()
    assert [(f["task_id"], f["map_index"], f["try_number"], f["message"]) for f in data["failures"]] == [
        ("wait_for_delivery", -1, 3, "等待超时，任务已停止：timed out")
    ]
    # The newest night is now the one whose delivery never came: the page opens on it.
    assert client.get("/monitor/night?format=json").json()["day"] == "2026-11-22"


def test_an_id_number_in_a_failure_is_masked_for_an_officer_without_full_ids(client_for, site_settings, site_sample):
    """The card and its JSON twin show a failure's message as the viewer may see it: an officer made
    with masked ID numbers never gets one in full, not even through ?format=json."""
    from pipelines import store
    from pipelines.access.users import add_user
    from pipelines.errors import BiduiError

    add_user(store.connect(site_settings), "officer_m", site_sample.SITE_PASSWORD, "prefecture", "5227", full_ids=False)
    _fail(site_settings, "ingest", "2026-11-20", BiduiError("户籍人口第 12 行身份证号 522701201203166879 重复"))
    masked = "户籍人口第 12 行身份证号 522701********6879 重复"

    officer_m = client_for("officer_m")
    assert masked in officer_m.get("/monitor/night?date=2026-11-20").text
    data = officer_m.get("/monitor/night?date=2026-11-20&format=json").json()
    assert [f["message"] for f in data["failures"]] == [masked]
    # An officer with full ID numbers sees the message as recorded.
    full = client_for("officer").get("/monitor/night?date=2026-11-20&format=json").json()
    assert [f["message"] for f in full["failures"]] == ["户籍人口第 12 行身份证号 522701201203166879 重复"]
