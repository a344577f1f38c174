"""Making the monthly bulletin: the month's ranking with consecutive bottom placements, talks and the
comparison with last month, written as HTML + PDF + xlsx and stored with each county's rank.
"""

from __future__ import annotations

import datetime as dt
import functools
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from pipelines import store
from pipelines.documents.bulletin import (
    BOTTOM_PLACES,
    INDICATORS,
    Month,
    MonthRanking,
    build_indicators,
    consecutive_bottom,
    load_month_ranking,
    load_weights,
    parse_month,
    stored_or_computed_ranking,
    talk_for,
)
from pipelines.documents.render import render_document, write_document
from pipelines.errors import BiduiError
from pipelines.settings import Settings

__all__ = [
    "Bulletin",
    "BulletinResult",
    "build_bulletin",
    "bulletin_files",
    "load_stored_bulletin",
    "make_bulletin",
    "previous_month_of",
    "run_monthly_bulletin",
]

CHANGED_COUNTS = ("found", "closed", "overdue")


@dataclass(frozen=True)
class Bulletin:
    """A month's bulletin as figures: counties best first, each with its indicators, score, rank,
    bottom mark, consecutive bottom placements, talk and change since last month."""

    month: Month
    last_night: dt.date
    weights: dict[str, float]
    rows: list[dict[str, Any]]
    previous: MonthRanking | None

    @property
    def bottom(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["bottom"]]


@dataclass(frozen=True)
class BulletinResult:
    bulletin: Bulletin
    out_dir: Path
    files: list[Path]


def previous_month_of(moment: dt.date) -> str:
    """The month a bulletin made on `moment` reports: the calendar month before it ('YYYY-MM')."""
    return (moment.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")


def _county_names(engine: Engine) -> dict[str, str]:
    reference = store.load_region_reference(engine)
    return {code[:6]: name for code, name in zip(reference["code"], reference["name"], strict=True) if code.endswith("000000")}


def _change(now: float | None, before: float | None) -> float | None:
    return None if now is None or before is None else now - before


def build_bulletin(engine: Engine, month: Month, weights: dict[str, float]) -> Bulletin:
    """The month's bulletin from the store (BiduiError when the month had no night)."""
    ranking = load_month_ranking(engine, month, weights)
    if ranking is None:
        raise BiduiError(f"{month.chinese}没有任何一晚的比对结果（night_counts），无法生成月通报")
    earlier = functools.cache(lambda m: stored_or_computed_ranking(engine, m, weights))
    streaks = consecutive_bottom(engine, ranking, weights, earlier)
    previous = earlier(month.previous())
    names = _county_names(engine)
    rows = [
        {**row, "county": names.get(row["county_code"], row["county_code"]), "consecutive": streaks[row["county_code"]]}
        for row in ranking.rows
    ]
    return Bulletin(month, ranking.last_night, dict(weights), _compared(rows, previous), previous)


def _compared(rows: list[dict[str, Any]], previous: MonthRanking | None) -> list[dict[str, Any]]:
    """Each county's row with its talk and its change since `previous` (None where it was not
    ranked then): what the printed bulletin says and the site shows, from one place."""
    before = previous.by_county() if previous else {}
    compared = []
    for row in rows:
        last = before.get(row["county_code"])
        compared.append(
            {
                **row,
                "talk": talk_for(row["consecutive"]),
                "previous_rank": last["rank"] if last else None,
                "rank_change": last["rank"] - row["rank"] if last else None,
                "score_change": round(row["score"] - last["score"], 2) if last else None,
                **{f"{k}_change": row[k] - last[k] if last else None for k in CHANGED_COUNTS},
                "closure_rate_change": _change(row["closure_rate"], last["closure_rate"]) if last else None,
            }
        )
    return compared


def _change_texts(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "rank_change_text": _rank_change_text(row["rank_change"]),
        "score_change_text": _signed(row["score_change"]),
        "found_change_text": _signed(row["found_change"]),
        "closed_change_text": _signed(row["closed_change"]),
        "overdue_change_text": _signed(row["overdue_change"]),
        "closure_rate_change_text": _signed(row["closure_rate_change"], percent=True),
        "indicator_texts": {k: _indicator_text(k, row[k]) for k in INDICATORS},
    }


# --- the files ----------------------------------------------------------------------------------


def bulletin_files(month: str) -> dict[str, str]:
    """The file names of a month's bulletin by kind."""
    return {kind: f"月通报-{month}.{kind}" for kind in ("html", "pdf", "xlsx")}


def _rank_change_text(change: int | None) -> str:
    if change is None:
        return "—"
    return "持平" if change == 0 else f"上升 {change} 位" if change > 0 else f"下降 {-change} 位"


def _signed(value: float | None, percent: bool = False) -> str:
    if value is None:
        return "—"
    if percent:
        return f"{100 * value:+.1f} 个百分点"
    return f"{value:+,}" if isinstance(value, int) else f"{value:+.2f}"


def _indicator_text(key: str, value: float | None) -> str:
    if value is None:
        return "—"
    return f"{100 * value:.1f}%" if INDICATORS[key].unit == "percent" else f"{value:.2f}"


def _definition_lines(bulletin: Bulletin) -> list[str]:
    total = sum(bulletin.weights.values())
    weights = "、".join(f"{INDICATORS[k].label} {w:g}" for k, w in bulletin.weights.items() if w)
    return [
        f"数据口径：{bulletin.month.chinese}最后一次夜间比对（{bulletin.last_night.isoformat()}）结束时的问题线索状态；"
        f"建档立卡人数为当日（{bulletin.last_night.isoformat()}）有效的扶贫家庭成员数据按户所在村归县；"
        f"台账数据截至 {bulletin.month.last.isoformat()}。",
        "参加排名的县：当晚有问题线索或有建档立卡人口的县。",
        f"综合得分 = 各指标得分的加权平均（权重合计 {total:g}：{weights}）。每项指标先在参加排名的县之间折算为 0–100 分："
        "表现最好的县 100 分、最差的县 0 分、其余按数值线性折算；各县数值相同，或该县没有可计算的分母（如没有线索、"
        "没有下发台账）时记“—”并按 100 分计。",
        "排名：按综合得分（保留两位小数）从高到低，第 1 名最好；得分相同的县名次并列。",
        f"排名后三：得分低于它的县少于 {BOTTOM_PLACES} 个的县（边界并列的一并计入）；参加排名的县不超过 {BOTTOM_PLACES} 个时不标记。",
        "连续排名靠后：本月及之前各月连续列入排名后三的次数；之前月份已出通报的按当时通报，未出通报的按同一方法由当月数据重算。"
        f"连续两次：{talk_for(2)}；连续三次及以上：{talk_for(3)}。",
    ]


def _definitions(bulletin: Bulletin) -> list[dict[str, str]]:
    return [
        {
            "label": i.label,
            "weight": f"{bulletin.weights[i.key]:g}",
            "direction": "越高越好" if i.higher_is_better else "越低越好",
            "definition": i.definition,
        }
        for i in INDICATORS.values()
    ]


def _sheets(bulletin: Bulletin) -> list[store.ExcelSheet]:
    title = [f"{bulletin.month.chinese}农村人口与防返贫监测数据比对月通报", f"数据截至 {bulletin.last_night.isoformat()}"]
    ranks = [
        [
            r["rank"],
            r["county"],
            r["county_code"],
            r["score"],
            r["previous_rank"],
            _rank_change_text(r["rank_change"]),
            r["score_change"],
            "是" if r["bottom"] else "",
            r["consecutive"] or None,
            r["talk"],
        ]
        for r in bulletin.rows
    ]
    indicators = [
        [
            r["county"],
            r["county_code"],
            r["registered"],
            r["found"],
            r["found_change"],
            r["closed"],
            r["open"],
            r["overdue"],
            r["overdue_change"],
            r["reopened"],
            r["issued"],
            r["returned"],
            *(None if r[k] is None else round(r[k], 4) for k in INDICATORS),
            None if r["closure_rate_change"] is None else round(100 * r["closure_rate_change"], 2),
        ]
        for r in bulletin.rows
    ]
    streaks = [[r["county"], r["county_code"], r["rank"], r["consecutive"], r["talk"]] for r in bulletin.rows if r["bottom"]]
    definitions = [[d["label"], d["weight"], d["direction"], d["definition"]] for d in _definitions(bulletin)]
    definitions += [["说明", "", "", line] for line in _definition_lines(bulletin)]
    return [
        store.ExcelSheet(
            "排名",
            ["排名", "县", "县代码", "综合得分", "上月排名", "名次变化", "得分变化", "排名后三", "连续靠后次数", "约谈"],
            ranks,
            title=title,
        ),
        store.ExcelSheet(
            "指标",
            [
                "县",
                "县代码",
                "建档立卡人数",
                "发现线索",
                "发现线索较上月",
                "已销号",
                "未办结",
                "超期线索",
                "超期线索较上月",
                "重新打开",
                "台账下发线索",
                "台账已交回",
                *(INDICATORS[k].label for k in INDICATORS),
                "销号率较上月（百分点）",
            ],
            indicators,
            title=[*title, "比率为小数（0.25 即 25%），每千人指标为每千名建档立卡人口的线索数"],
        ),
        store.ExcelSheet("连续排名靠后", ["县", "县代码", "本月排名", "连续列入后三次数", "约谈"], streaks, title=title),
        store.ExcelSheet("定义", ["指标", "权重", "方向", "定义"], definitions, title=title, widths={"定义": 40}),
    ]


def render_bulletin(bulletin: Bulletin) -> str:
    """The bulletin's printable HTML (A4 landscape)."""
    rows = [{**r, **_change_texts(r)} for r in bulletin.rows]
    return render_document(
        "bulletin.html",
        title=f"{bulletin.month.chinese}农村人口与防返贫监测数据比对月通报",
        subtitle=f"数据截至 {bulletin.last_night.isoformat()} · 参加排名 {len(rows)} 个县",
        orientation="landscape",
        bulletin=bulletin,
        rows=rows,
        bottom=[r for r in rows if r["bottom"]],
        indicators=list(INDICATORS.values()),
        definitions=_definitions(bulletin),
        definition_lines=_definition_lines(bulletin),
        overdue_total=sum(r["overdue"] for r in rows),
    )


def make_bulletin(
    settings: Settings,
    month: str,
    made_by: str,
    out_dir: Path | None = None,
    pdf: bool = True,
    engine: Engine | None = None,
    today: dt.date | None = None,
) -> BulletinResult:
    """Make the month's bulletin: figures, HTML + PDF + xlsx in `out_dir` (default
    <data_dir>/bulletins/<month>/), and the ranks stored for later months. Making it again gives
    the same figures and replaces the files and stored ranks. A month not over on `today` (default
    the real date) is refused: its figures would still change, yet be stored for later months."""
    engine = engine or store.connect(settings)
    the_month = parse_month(month)
    if (today or dt.date.today()) <= the_month.last:
        raise BiduiError(
            f"{the_month.chinese}尚未结束（{the_month.last.isoformat()} 之后才能生成）：月通报只对已结束的月份生成，"
            "否则数字还会变化，以后各月计算连续排名靠后时也会用到不完整的数据"
        )
    bulletin = build_bulletin(engine, the_month, load_weights(settings))
    # Absolute: the folder is stored, and the site (started elsewhere) serves the files from it.
    out = Path(out_dir).absolute() if out_dir else settings.data_dir / "bulletins" / the_month.label
    names = bulletin_files(the_month.label)
    # The files appear with the stored ranks or not at all: the site shows those ranks beside them.
    with tempfile.TemporaryDirectory() as scratch, store.staged_files() as stage:
        workbook = Path(scratch) / names["xlsx"]
        store.write_excel_tables(workbook, _sheets(bulletin))
        rendered = write_document(
            render_bulletin(bulletin),
            out / names["html"],
            pdf=pdf,
            also=[(out / names["xlsx"], workbook.read_bytes())],
            stage=stage,
        )
        files = [rendered.html, *([rendered.pdf] if rendered.pdf else []), out / names["xlsx"]]
        store.write_bulletin(
            engine,
            {
                "month": the_month.label,
                "last_night": bulletin.last_night,
                "made_at": dt.datetime.now().replace(microsecond=0),
                "made_by": made_by,
                "weights": bulletin.weights,
                "out_dir": str(out),
                "files": [f.name for f in files],
            },
            bulletin.rows,
        )
    if not pdf:  # an earlier making's PDF would pass for this one
        (out / names["pdf"]).unlink(missing_ok=True)
    return BulletinResult(bulletin, out, files)


def load_stored_bulletin(engine: Engine, month: str) -> dict[str, Any] | None:
    """A bulletin as made (for the site): its record, and its counties best first with names,
    indicators and talks as stored; None when that month has none."""
    record = store.load_bulletin(engine, month)
    if record is None:
        return None
    names = _county_names(engine)
    this = parse_month(month)
    rows = [
        {**r, **build_indicators(r), "county": names.get(r["county_code"], r["county_code"])}
        for r in store.load_bulletin_ranks(engine, month) or []
    ]
    previous = stored_or_computed_ranking(engine, this.previous(), record["weights"])
    rows = [{**r, **_change_texts(r)} for r in _compared(rows, previous)]
    return {
        **record,
        "month_label": this.chinese,
        "previous_label": this.previous().chinese if previous else None,
        "rows": rows,
        "indicators": list(INDICATORS.values()),
    }


def run_monthly_bulletin(settings: Settings, run_date: dt.date) -> dict[str, Any]:
    """The scheduled run (the monthly_bulletin DAG, as the system): the bulletin of the month before
    `run_date`; returns its month, last night and files."""
    result = make_bulletin(settings, previous_month_of(run_date), "system")
    return {
        "month": result.bulletin.month.label,
        "last_night": result.bulletin.last_night.isoformat(),
        "files": [str(f) for f in result.files],
    }
