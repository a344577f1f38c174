"""`explain_row`: why a row is linked where it is, from the stored levels and the night's model."""

from __future__ import annotations

import math

import pytest

from pipelines import store
from pipelines.access import Scope
from pipelines.basemap.explain import explain_row, format_explanation
from pipelines.errors import BiduiError


def test_probabilistic_link_is_explained_comparison_by_comparison(linked_night):
    info = explain_row(linked_night, "minimum_living", "ML1")
    assert (info["delivery_date"], info["person_id"], info["household_code"], info["method"]) == (
        "2026-11-20",
        "P000000002",
        "H5227251022030001",
        "probabilistic",
    )
    assert info["anchor"] == {"feed": "hukou", "record_key": "H2"}
    assert info["thresholds"] == {"upper": 0.9, "lower": 0.5}
    rows = info["comparisons"]["comparisons"]
    assert [(r["name"], r["level"], r["label"], r["m"], r["u"]) for r in rows] == [
        ("name", 2, "完全一致", 0.9, 0.01),
        ("birth_date", -1, "缺失", None, None),
    ]
    assert [r["weight"] for r in rows] == pytest.approx([math.log2(90), 0.0])
    assert info["comparisons"]["prior_weight"] == pytest.approx(math.log2(1 / 9))
    assert info["comparisons"]["total_weight"] == pytest.approx(math.log2(10))
    assert info["comparisons"]["probability"] == pytest.approx(10 / 11)
    assert info["person"]["birth_date"] == {"value": "1992-02-02", "source": "minimum_living:ML1"}


def test_explanation_prints_in_chinese(linked_night):
    text = format_explanation(explain_row(linked_night, "minimum_living", "ML1", "2026-11-20"))
    assert text.splitlines()[:12] == [
        "记录：民政·低保特困（minimum_living）ML1　数据日期 2026-11-20",
        "人员编号：P000000002　户编码：H5227251022030001",
        "关联方式：按姓名、出生日期、身份证号等逐项比对的概率关联（Fellegi–Sunter 模型）",
        "关联到：hukou H2",
        "匹配概率：0.909091　匹配权重：3.322",
        "阈值：概率 ≥ 0.9 自动关联；0.5 ～ 0.9 之间进入人工审核；低于 0.5 不关联",
        "逐项比对（权重 = log2(m/u)，缺失项权重为 0）：",
        "  name：完全一致（级别 2）　权重 +6.492　m=0.9000 u=0.0100",
        "  birth_date：缺失（级别 -1）　权重 +0.000",
        "  先验权重：-3.170（先验匹配概率 0.100000）",
        "  合计权重：+3.322　→ 匹配概率 0.909091",
        "该人员各项取值及来源：",
    ]
    assert "  出生日期：1992-02-02（来源 minimum_living:ML1）" in text.splitlines()


def test_id_exact_link_says_so(linked_night):
    info = explain_row(linked_night, "poverty_members", "PM1")
    assert (info["method_text"], info["comparisons"], info["probability"]) == ("身份证号一致，确定性关联", None, 1.0)
    assert "关联方式：身份证号一致，确定性关联" in format_explanation(info).splitlines()


def test_review_pairs_and_decisions_on_the_row_are_shown(linked_night):
    store.write_review_decision(store.connect(linked_night), "vehicles", "V1", "hukou", "H2", "different", "审核员甲")
    info = explain_row(linked_night, "hukou", "H2")
    assert [(p["feed"], p["record_key"], p["status"]) for p in info["review"]] == [("vehicles", "V1", "decided")]
    lines = format_explanation(info).splitlines()
    assert "人工审核候选（已审核）：vehicles V1 ↔ hukou H2，概率 0.502513" in lines
    # log2(0.9/0.01) + log2(0.1/0.99) + log2(1/9): the pair's own weights, from that night's model
    assert "  name 完全一致 +6.49；birth_date 不同 -3.31；合计权重 +0.01" in lines
    assert [line.split("（审核员甲")[0] for line in lines if line.startswith("审核结论")] == [
        "审核结论：vehicles V1 与 hukou H2 不是同一人"
    ]


def test_unknown_row_or_night_is_a_clear_error(linked_night):
    with pytest.raises(BiduiError, match="没有找到记录 hukou NOPE"):
        explain_row(linked_night, "hukou", "NOPE")
    with pytest.raises(BiduiError, match="在 2026-11-21 没有找到记录 hukou H1"):
        explain_row(linked_night, "hukou", "H1", "2026-11-21")
    with pytest.raises(BiduiError, match="格式不对"):
        explain_row(linked_night, "hukou", "H1", "20-11-2026")


def test_a_row_alone_has_no_pair_to_score(linked_night):
    lines = format_explanation(explain_row(linked_night, "poverty_members", "PM2")).splitlines()
    assert lines[2] == "关联方式：未找到同一人的其他记录，单独成为一人"
    assert [line for line in lines if line.startswith(("匹配概率", "逐项比对"))] == []


# --- who may see which row -------------------------------------------------------------------


def _scope(role: str, region: str, full_ids: bool = False, department: str | None = None) -> Scope:
    return Scope(f"{role}_user", role, region, department, full_ids)


def test_a_township_user_sees_the_row_with_id_numbers_masked(linked_night):
    info = explain_row(linked_night, "hukou", "H1", scope=_scope("township", "522725102"))
    assert info["person"]["id_number"] == {"value": "522725********1234", "source": "hukou:H1"}
    text = format_explanation(info)
    assert "  身份证号：522725********1234（来源 hukou:H1）" in text.splitlines()
    assert "19900101" not in text


def test_a_user_allowed_full_ids_sees_them_whole(linked_night):
    info = explain_row(linked_night, "hukou", "H1", scope=_scope("county", "522725", full_ids=True))
    assert info["person"]["id_number"]["value"] == "522725199001011234"


def test_a_row_outside_the_users_region_is_as_if_it_did_not_exist(linked_night):
    with pytest.raises(BiduiError, match="记录 hukou H1 不存在，或不在您的管辖范围内") as outside:
        explain_row(linked_night, "hukou", "H1", scope=_scope("county", "522701"))
    with pytest.raises(BiduiError) as missing:
        explain_row(linked_night, "hukou", "NOPE", scope=_scope("county", "522701"))
    assert str(missing.value) == str(outside.value).replace("H1", "NOPE")
    # a person with no village (vehicle owner 赵六) is in no one's region but the whole system's
    with pytest.raises(BiduiError, match="不在您的管辖范围内"):
        explain_row(linked_night, "vehicles", "V1", scope=_scope("prefecture", "5227"))
    assert explain_row(linked_night, "vehicles", "V1", scope=Scope.system())["record_key"] == "V1"


def test_a_liaison_sees_only_its_departments_rows(linked_night):
    police = _scope("liaison", "522725", department="公安")
    assert explain_row(linked_night, "hukou", "H1", scope=police)["person_id"] == "P000000001"
    with pytest.raises(BiduiError, match="不在您的管辖范围内"):
        explain_row(linked_night, "medical_insurance", "MI1", scope=police)
