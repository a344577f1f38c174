"""Why a source row is linked where it is (`bidui explain FEED RECORD_KEY`).

The explanation is rebuilt from what the night stored: the accepted pair's comparison levels
(links.levels) and that night's fitted model (linkage_models), through
FellegiSunter.from_dict(...).explain(levels) — so it shows the very weights that decided.
"""

from __future__ import annotations

import datetime as dt
import json

from matchers.classification import FellegiSunter
from pipelines import store
from pipelines.access import Scope, mask_id, mask_ids_in_text
from pipelines.catalog.feeds import load_feeds
from pipelines.errors import BiduiError
from pipelines.settings import Settings
from pipelines.store.tables import PERSON_ATTRIBUTES

__all__ = ["ATTRIBUTE_TITLES", "DECISION_TEXT", "METHOD_TEXT", "explain_levels", "explain_row", "format_explanation"]

METHOD_TEXT = {
    "id_exact": "身份证号一致，确定性关联",
    "probabilistic": "按姓名、出生日期、身份证号等逐项比对的概率关联（Fellegi–Sunter 模型）",
    "review_decision": "依据人工审核结论关联",
    "singleton": "未找到同一人的其他记录，单独成为一人",
}
ATTRIBUTE_TITLES = {
    "name": "姓名",
    "id_number": "身份证号",
    "sex": "性别",
    "birth_date": "出生日期",
    "ethnicity": "民族",
    "village_code": "村（区划代码）",
    "hukou_state": "户口状态",
    "insured_state": "参保状态",
    "enrolment_state": "学籍状态",
    "illness_kind": "大病慢病",
    "assistance_kind": "低保特困",
}
DECISION_TEXT = {"same": "同一人", "different": "不是同一人"}


def _day(value: str | dt.date | None) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise BiduiError(f"数据日期“{value}”格式不对，应为 YYYY-MM-DD") from exc


def explain_levels(model: dict | None, levels_json: str | None) -> dict | None:
    """A pair's stored comparison levels (JSON) weighed by a night's stored model: the weight of each
    comparison, the prior and the total (FellegiSunter.explain); None without a model or levels.
    A comparison the linker weighed with a term-frequency u (the levels' "tf_u") is weighed with it
    here too, and says so (u_override)."""
    if not model or not levels_json:
        return None
    levels = json.loads(levels_json)
    fitted = FellegiSunter.from_dict(model)
    # A comparison the pair has no level for counts as missing (weight 0), as in scoring.
    return fitted.explain({name: int(levels.get(name, -1)) for name in fitted.names}, u_override=levels.get("tf_u"))


def explain_row(
    settings: Settings, feed: str, record_key: str, day: str | dt.date | None = None, scope: Scope | None = None
) -> dict:
    """Everything that says why (feed, record_key) belongs to its person on a night (default: the
    newest night that linked it): method, probability, weights per comparison, thresholds, the
    person's chosen attributes with their sources, and review pairs and decisions touching the row.

    With a `scope`, the row must lie in the user's region (the person's village; for a liaison, a
    feed of its department) and ID numbers come masked unless the user may see them whole."""
    engine = store.connect(settings)
    on = _day(day)
    feeds = load_feeds(settings.feeds_config)
    link = store.load_link(engine, feed, record_key, on)
    person = (store.load_person(engine, link["person_id"]) or {}) if link else {}
    hidden = f"记录 {feed} {record_key} 不存在，或不在您的管辖范围内"
    if scope is not None and scope.region_code is not None:
        # Said alike for a missing row and one out of scope, so nothing tells that a row exists.
        department = feeds[feed].title.split("·")[0] if feed in feeds else None
        if link is None or not scope.covers(person.get("village_code"), department):
            raise BiduiError(hidden)
    if link is None:
        when = f"在 {on.isoformat()} " if on else ""
        raise BiduiError(f"{when}没有找到记录 {feed} {record_key} 的关联结果；请检查数据项和记录编号，或先运行 bidui link")
    night = link["delivery_date"]
    model = store.load_linkage_model(engine, night) or {}
    review = store.load_review_queue(engine, night, status=None, feed=feed, record_key=record_key)
    decisions = store.load_review_decisions(engine, feed, record_key)
    info = {
        "delivery_date": night.isoformat(),
        "feed": feed,
        "feed_title": feeds[feed].title if feed in feeds else feed,
        "record_key": record_key,
        "person_id": link["person_id"],
        "household_code": link["household_code"],
        "method": link["method"],
        "method_text": METHOD_TEXT.get(link["method"], link["method"]),
        "probability": link["probability"],
        "match_weight": link["match_weight"],
        "anchor": {"feed": link["anchor_feed"], "record_key": link["anchor_key"]} if link["anchor_feed"] else None,
        "thresholds": {"upper": model.get("upper"), "lower": model.get("lower")},
        "comparisons": explain_levels(model, link["levels"]),
        "person": {
            attribute: {"value": person.get(attribute), "source": person.get(source)}
            for attribute, source in PERSON_ATTRIBUTES.items()
        },
        "review": [
            {**pair, "comparisons": explain_levels(model, pair["levels"])}
            for pair in review.drop(columns=["delivery_date"]).to_dict("records")
        ],
        "decisions": [{**d, "decided_at": d["decided_at"].isoformat(sep=" ")} for d in decisions.to_dict("records")],
    }
    if scope is None or scope.full_ids:
        return info
    info["person"]["id_number"]["value"] = mask_id(info["person"]["id_number"]["value"]) or None
    return _masked(info)


def _masked(value):
    """`value` with ID numbers masked in every text inside it (record keys may be ID numbers)."""
    if isinstance(value, str):
        return mask_ids_in_text(value)
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def _number(value: float | None, digits: int) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def format_explanation(info: dict) -> str:
    """The explanation as Chinese text for the terminal."""
    lines = [
        f"记录：{info['feed_title']}（{info['feed']}）{info['record_key']}　数据日期 {info['delivery_date']}",
        f"人员编号：{info['person_id']}　户编码：{info['household_code'] or '（无）'}",
        f"关联方式：{info['method_text']}",
    ]
    if info["anchor"]:
        lines.append(f"关联到：{info['anchor']['feed']} {info['anchor']['record_key']}")
    if info["method"] != "singleton":
        lines.append(f"匹配概率：{_number(info['probability'], 6)}　匹配权重：{_number(info['match_weight'], 3)}")
    upper, lower = info["thresholds"]["upper"], info["thresholds"]["lower"]
    if upper is not None:
        lines.append(f"阈值：概率 ≥ {upper} 自动关联；{lower} ～ {upper} 之间进入人工审核；低于 {lower} 不关联")
    explained = info["comparisons"]
    if explained:
        lines.append("逐项比对（权重 = log2(m/u)，缺失项权重为 0）：")
        for row in explained["comparisons"]:
            m_u = "" if row["m"] is None else f"　m={row['m']:.4f} u={row['u']:.4f}"
            lines.append(f"  {row['name']}：{row['label']}（级别 {row['level']}）　权重 {row['weight']:+.3f}{m_u}")
        lines.append(f"  先验权重：{explained['prior_weight']:+.3f}（先验匹配概率 {explained['prior']:.6f}）")
        lines.append(f"  合计权重：{explained['total_weight']:+.3f}　→ 匹配概率 {explained['probability']:.6f}")
    elif info["method"] == "id_exact":
        lines.append("（身份证号一致的记录不逐项计分）")
    for pair in info["review"]:
        state = "已审核" if pair["status"] == "decided" else "待审核"
        lines.append(
            f"人工审核候选（{state}）：{pair['feed']} {pair['record_key']} ↔ {pair['candidate_feed']} "
            f"{pair['candidate_key']}，概率 {_number(pair['probability'], 6)}"
        )
        if pair["comparisons"]:
            parts = "；".join(f"{c['name']} {c['label']} {c['weight']:+.2f}" for c in pair["comparisons"]["comparisons"])
            lines.append(f"  {parts}；合计权重 {pair['comparisons']['total_weight']:+.2f}")
    for d in info["decisions"]:
        lines.append(
            f"审核结论：{d['feed']} {d['record_key']} 与 {d['candidate_feed']} {d['candidate_key']} "
            f"{DECISION_TEXT.get(d['decision'], d['decision'])}（{d['decided_by']}，{d['decided_at']}）"
        )
    lines.append("该人员各项取值及来源：")
    for attribute, chosen in info["person"].items():
        if chosen["value"] is not None:
            lines.append(f"  {ATTRIBUTE_TITLES[attribute]}：{chosen['value']}（来源 {chosen['source']}）")
    return "\n".join(lines)
