"""The next night of a demo delivery (`--after`): unchanged persons' rows as they were, the planned
changes and no others, truth across both nights, determinism, refusals in Chinese."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from pipelines.catalog.feeds import load_feeds
from pipelines.demo import generate_after, generate_delivery
from pipelines.demo.changes import CHANGE_KINDS, plan_changes
from pipelines.demo.writers import LAYOUTS
from pipelines.errors import BiduiError
from pipelines.standardise.ids import standardise_ids

pytestmark = pytest.mark.xdist_group("demo_generator")

FEEDS = load_feeds()
AS_OF = dt.date(2026, 11, 20)
PERSONS = 300


@pytest.fixture(scope="module")
def nights(tmp_path_factory) -> tuple[Path, Path]:
    first = generate_delivery(PERSONS, 7, tmp_path_factory.mktemp("nights"), AS_OF)
    return first, generate_after(first, 11, changes=0.05)


def _truth(delivery: Path, name: str) -> pd.DataFrame:
    return pd.read_csv(delivery / "_truth" / f"{name}.csv", dtype=str, keep_default_na=False)


def _rows(delivery: Path, feed: str) -> dict[str, object]:
    """Each row of a feed's file as written (a CSV line's bytes, an xlsx row's cells), by record key."""
    layout = LAYOUTS[feed]
    if layout.fmt == "xlsx":
        from python_calamine import CalamineWorkbook

        cells = CalamineWorkbook.from_path(str(delivery / f"{feed}.xlsx")).get_sheet_by_index(0).to_python()
        rows = [tuple(row) for row in cells[2:]]
    else:
        data = (delivery / f"{feed}.csv").read_bytes().decode(layout.encoding)
        rows = [line.encode(layout.encoding) for line in data.split(layout.newline)[1:-1]]
    keyed = {}
    for row in rows:
        key = row[0] if isinstance(row, tuple) else row.decode(layout.encoding).split(",")[0]
        if key not in ("", b""):
            keyed[str(key)] = row
    return keyed


def _persons(delivery: Path, feed: str) -> dict[str, str]:
    links = _truth(delivery, "links")
    links = links[links["feed"] == feed]
    return dict(zip(links["record_key"], links["true_person_id"], strict=True))


def _files(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def test_the_next_night_is_the_day_after_beside_the_first(nights):
    first, second = nights
    assert second == first.parent / "2026-11-21"
    history = json.loads((second / "_truth" / "history.json").read_text(encoding="utf-8"))
    assert history == {
        "generator": "1.0",
        "persons": PERSONS,
        "seed": 7,
        "as_of": "2026-11-20",
        "nights": [{"as_of": "2026-11-21", "seed": 11, "changes": 0.05}],
    }


def test_unchanged_persons_rows_are_identical_in_every_feed(nights):
    first, second = nights
    changed = set(_truth(second, "changes")["true_person_id"])
    compared = 0
    for feed in FEEDS:
        if feed == "regions":
            continue
        before, after = _rows(first, feed), _rows(second, feed)
        persons_before, persons_after = _persons(first, feed), _persons(second, feed)
        kept_before = {k for k, p in persons_before.items() if p not in changed}
        kept_after = {k for k, p in persons_after.items() if p not in changed}
        assert kept_before == kept_after, feed
        for key in kept_before:
            assert after[key] == before[key], (feed, key)
        compared += len(kept_before)
        # Rows of changed persons are the only ones that differ, appear or go.
        differing = {k for k in before.keys() & after.keys() if before[k] != after[k]}
        assert {persons_after[k] for k in differing} <= changed, feed
    assert compared > 2 * PERSONS


def test_messiness_of_unchanged_rows_is_logged_as_before(nights):
    first, second = nights
    changed = set(_truth(second, "changes")["true_person_id"])

    def kept(delivery: Path) -> pd.DataFrame:
        log = _truth(delivery, "messiness")
        links = _truth(delivery, "links")
        log = log.merge(links, how="left", on=["feed", "record_key"])
        return log[~log["true_person_id"].isin(changed)].sort_values(["feed", "record_key", "field", "kind"], ignore_index=True)

    pd.testing.assert_frame_equal(kept(second), kept(first))


def test_the_number_of_changes_follows_the_share_and_every_kind_happens(nights):
    _, second = nights
    changes = _truth(second, "changes")
    assert changes["kind"].value_counts().to_dict() == plan_changes(PERSONS, 0.05)
    assert list(dict.fromkeys(changes["kind"])) == list(CHANGE_KINDS)
    assert changes["true_person_id"].is_unique
    assert plan_changes(300, 0.05) == {
        "death": 2,
        "move_out": 2,
        "move_within": 2,
        "name_corrected": 1,
        "name_fixed": 1,
        "id_blanked": 1,
        "id_fixed": 1,
        "vehicle_added": 1,
        "vehicle_removed": 1,
        "payroll_added": 1,
        "payroll_removed": 1,
        "insured": 1,
        "house_renovated": 1,
        "birth": 2,
    }
    assert sum(plan_changes(20_000, 0.01).values()) == 200


def _hukou(delivery: Path) -> pd.DataFrame:
    from pipelines.ingest.readers import read_feed_file

    frame = read_feed_file(delivery / "hukou.csv", FEEDS["hukou"], 1 << 30).frame
    frame = frame[frame["person_no"].notna()]
    persons = _persons(delivery, "hukou")
    return frame.assign(person=frame["person_no"].map(persons)).set_index("person")


def test_deaths_show_in_hukou_and_leave_the_other_departments(nights):
    first, second = nights
    changes = _truth(second, "changes")
    dead = changes.loc[changes["kind"] == "death", "true_person_id"].tolist()
    before, after = _hukou(first), _hukou(second)
    assert (before.loc[dead, "state"].str.strip() == "正常").all()
    assert (after.loc[dead, "state"].str.strip() == "死亡").all()
    assert after.loc[dead, "changed_on"].str.strip().ne("").all()
    links = _truth(second, "links")
    for feed in ("school_enrolment", "illness_registry", "public_payroll", "vehicles"):
        assert not links[(links["feed"] == feed) & links["true_person_id"].isin(dead)].size, feed
    # A registered person's death is a new R01 clue on their member row.
    members = links[(links["feed"] == "poverty_members") & links["true_person_id"].isin(dead)]
    new_r01 = _truth(second, "clue_changes").query("rule == 'R01' and change == 'new'")
    assert len(members) > 0
    assert set(members["record_key"]) <= set(new_r01["subject_key"])


def test_a_birth_is_a_new_person_with_a_valid_new_id(nights):
    first, second = nights
    changes = _truth(second, "changes")
    born = changes.loc[changes["kind"] == "birth", "true_person_id"].tolist()
    assert len(born) == 2
    assert not set(born) & set(_truth(first, "links")["true_person_id"])
    before, after = _hukou(first), _hukou(second)
    rows = after.loc[born]
    ids = standardise_ids(rows["id_number"])
    assert (ids["id_status"] == "valid").all()
    assert not set(ids["id_clean"]) & set(standardise_ids(before["id_number"])["id_clean"])
    for (_, row), clean in zip(rows.iterrows(), ids["id_clean"], strict=True):
        born_on = pd.to_datetime(row["birth_date"].replace("年", "-").replace("月", "-").replace("日", "")).date()
        assert clean[6:14] == born_on.strftime("%Y%m%d")
        assert AS_OF - dt.timedelta(days=30) <= born_on < dt.date(2026, 11, 21)
        assert clean[:6] == row["village_code"].strip()[:6]
        assert int(clean[16]) % 2 == (row["sex"].strip().rstrip("性") == "男")
        assert row["hukou_no"] in set(before["hukou_no"])  # an existing household


def test_the_same_previous_night_and_seed_give_byte_identical_files(nights, tmp_path):
    first, second = nights
    again = generate_after(first, 11, changes=0.05, out=tmp_path)
    assert _files(again) == _files(second)
    other = generate_after(first, 12, changes=0.05, out=tmp_path / "other")
    assert (other / "hukou.csv").read_bytes() != (second / "hukou.csv").read_bytes()


def test_a_third_night_follows_the_second(nights, tmp_path):
    _, second = nights
    third = generate_after(second, 3, changes=0.02, as_of=dt.date(2026, 11, 23), out=tmp_path)
    assert third.name == "2026-11-23"
    history = json.loads((third / "_truth" / "history.json").read_text(encoding="utf-8"))
    assert [n["as_of"] for n in history["nights"]] == ["2026-11-21", "2026-11-23"]
    changed = set(_truth(third, "changes")["true_person_id"])
    before, after, persons = _rows(second, "hukou"), _rows(third, "hukou"), _persons(second, "hukou")
    assert all(after[k] == row for k, row in before.items() if persons[k] not in changed)


def test_refusals_are_in_chinese(nights, tmp_path):
    first, second = nights
    with pytest.raises(BiduiError, match=r"不是 bidui demo-data 生成的模拟交付（缺少 _truth/README.md）"):
        generate_after(tmp_path, 1)
    with pytest.raises(BiduiError, match=r"^下一晚的数据日期 2026-11-21 须晚于前一晚的 2026-11-21$"):
        generate_after(second, 1, as_of=dt.date(2026, 11, 21))
    with pytest.raises(BiduiError, match=r"^--changes 应在 0 到 1 之间"):
        generate_after(first, 1, changes=2.0)
    edited = tmp_path / "edited" / first.name
    shutil.copytree(first, edited)
    links = edited / "_truth" / "links.csv"
    links.write_text(links.read_text(encoding="utf-8").replace("P00000001", "P00000002", 1), encoding="utf-8")
    with pytest.raises(BiduiError, match=r"与按其真值参数（种子 7、人口 300、数据日期 2026-11-20）重建的数据不一致"):
        generate_after(edited, 1)


@pytest.mark.slow
def test_the_night_pipeline_raises_the_new_clues_and_clears_the_gone_ones(nights, tmp_path):
    from pipelines import store
    from pipelines.clues.life import load_clues
    from pipelines.night import run_night
    from pipelines.settings import load_settings

    first, second = nights
    settings = load_settings(environ={}, data_dir=tmp_path / "data", show_progress=False)
    for delivery in (first, second):
        night = run_night(settings, delivery)
        assert night.link_error is None and night.clue_error is None
    found = load_clues(store.connect(settings))
    found = found.assign(first_seen=found["first_seen"].astype(str))
    natural = ["rule", "subject_feed", "subject_key"]
    expected = _truth(second, "clue_changes")

    def subjects(frame: pd.DataFrame) -> set[tuple[str, str, str]]:
        return set(frame[natural].itertuples(index=False, name=None))

    new, gone = subjects(expected[expected["change"] == "new"]), subjects(expected[expected["change"] == "gone"])
    raised = subjects(found[found["first_seen"] == "2026-11-21"])
    cleared = subjects(found[found["status"] == "cleared_by_data"])
    assert (len(new), len(gone)) == (8, 6)
    assert raised == new
    assert cleared == gone
    assert {rule for rule, _, _ in new} >= {"R01", "R02", "R14", "R16", "R17"}
    assert {rule for rule, _, _ in gone} >= {"R06", "R08", "R14", "R16", "R17"}


def test_the_command_writes_the_next_night_or_says_why_not(nights, tmp_path):
    from typer.testing import CliRunner

    from pipelines.cli.main import app

    first, second = nights
    env = {"BIDUI_DATA_DIR": str(tmp_path / "data"), "BIDUI_PROGRESS": "0", "COLUMNS": "400"}

    def bidui(*args: str):
        return CliRunner().invoke(app, ["demo-data", *args], env=env, prog_name="bidui")

    made = bidui("--after", str(first), "--seed", "11", "--changes", "0.05", "--out", str(tmp_path / "drop"))
    assert made.exit_code == 0, made.output
    target = tmp_path / "drop" / "2026-11-21"
    assert f"模拟交付已生成：{target}（真值在 {target / '_truth'}）" in made.output.splitlines()
    assert _files(target) == _files(second)
    refused = bidui("--after", str(first.parent))
    assert refused.exit_code == 1
    assert refused.output.startswith(f"错误：{first.parent} 不是 bidui demo-data 生成的模拟交付（缺少 _truth/README.md）")
    assert bidui("--after", str(tmp_path / "nowhere")).output.strip() == f"错误：找不到交付目录 {tmp_path / 'nowhere'}"
    assert bidui("--persons", "5").output.strip() == "错误：请用 --out 指定输出目录"
