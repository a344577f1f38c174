"""The cross-check sample (交叉检查抽样) of one county for one year, drawn from the store by Anhui's
2019 scheme (pipelines.documents.sample_draw), written as a workbook and kept in the store so the
site lists it.

`make_sample` reads the county's villages with their registered persons (one GROUP BY), draws the
villages, reads only those villages' households, draws them, and records the seed, the data date,
the rules applied and every fall-back taken.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from pipelines import store
from pipelines.access import Scope, region_names
from pipelines.documents.sample_draw import (
    GENERAL,
    HOUSEHOLD_QUOTAS,
    MIN_DISTANCE_KM,
    STRATUM_FALLBACKS,
    VILLAGE_KINDS,
    draw_households,
    draw_villages,
    household_strata,
    stratum_label,
)
from pipelines.documents.sample_workbook import sample_sheets
from pipelines.errors import BiduiError
from pipelines.settings import Settings

__all__ = ["SAMPLE_ROLES", "SCHEME", "make_sample", "sample_file_name", "sample_rules"]

SCHEME = "安徽省2019年脱贫攻坚市际交叉考核方案（七、样本抽取）"
SAMPLE_ROLES = ("prefecture", "county", "system")
DEFAULT_DISTANCE = "区划参考 距县城公里数（km_to_county_seat）"


def sample_file_name(county_name: str, county_code: str, year: int, seed: int, data_date: dt.date) -> str:
    return f"{county_name}（{county_code}）{year}年交叉检查抽样_种子{seed}_数据{data_date.isoformat()}.xlsx"


def sample_rules(year: int, distance_source: str) -> list[str]:
    """The rules applied, in Chinese, as every sample states them."""
    quotas = "、".join(f"{stratum_label(s, year)} {q} 户" for s, q in HOUSEHOLD_QUOTAS)
    chains = "；".join(
        f"{stratum_label(s, year)}不足时依次从{'、'.join(stratum_label(f, year) for f in chain)}补抽"
        for s, chain in STRATUM_FALLBACKS.items()
        if chain
    )
    return [
        f"抽村：只从有建档立卡人员的村中抽，从 4 个不同乡镇各抽 1 个村，其中{VILLAGE_KINDS['poor']} 2 个、{VILLAGE_KINDS['non_poor']} 2 个"
        "（非贫困村中按建档立卡人数从多到少排在前一半的村，并列者一并入选）",
        f"向偏远村倾斜：抽中概率与距离成正比（距离来源：{distance_source}；不足 {MIN_DISTANCE_KM:g} 公里按 "
        f"{MIN_DISTANCE_KM:g} 公里计，缺距离的村按全县已知距离的中位数计）",
        "贫困村不足时从建档立卡贫困人口较多的非贫困村、再从其他非贫困村补抽；非贫困村不足时从其他非贫困村、再从贫困村补抽；"
        "不同乡镇不够 4 个时才从已抽乡镇再抽",
        f"抽户：每村 16 户，{quotas}；一般农户为底图中未关联任何建档立卡户或成员的户",
        f"补抽：{chains}；一般农户不足时如实注明，不补抽",
        "返贫户：抽中村的返贫户全部纳入（全覆盖调查）",
        "户的类别按数据日期建档立卡户库中的脱贫状态、脱贫年度、识别年度确定；既是当年脱贫又是新识别的户算当年脱贫户",
        "可重复：同一随机种子、同一数据日期抽出的样本相同（numpy 默认随机数发生器，候选按代码排序后抽取）",
    ]


def _check_scope(scope: Scope, county_code: str) -> None:
    if not (len(county_code) == 6 and county_code.isdigit()):
        raise BiduiError(f"县代码“{county_code}”应为 6 位数字")
    if scope.role not in SAMPLE_ROLES:
        raise BiduiError(f"用户 {scope.user_name}（{scope.role_label}）无权抽取交叉检查样本：只有市（州）或县级用户可以")
    if scope.region_code is not None and not county_code.startswith(scope.region_code):
        raise BiduiError(f"县 {county_code} 不在用户 {scope.user_name} 的管辖范围内")


def _distances(villages: pd.DataFrame, distances: dict[str, float] | None) -> pd.Series:
    """Each village's distance: from `distances` when given, else the region reference; a missing
    one is the median of the county's known distances (so it is neither favoured nor left out)."""
    km = villages["village_code"].map(distances) if distances is not None else villages["km_to_county_seat"]
    km = pd.to_numeric(km, errors="coerce")
    known = km.dropna()
    return km.fillna(float(known.median()) if len(known) else MIN_DISTANCE_KM)


def _candidates(registered: pd.DataFrame, general: pd.DataFrame, village: str, year: int) -> pd.DataFrame:
    own = registered[registered["village_code"] == village]
    own = own.assign(code=own["household_no"], stratum=household_strata(own, year))
    own = own[own["stratum"].notna()]
    others = general[general["village_code"] == village]
    others = others.assign(code=others["household_code"], stratum=GENERAL)
    columns = ["code", "stratum", "head_name", "head_id", "identified_year", "status", "exit_year", "size", "hukou_no"]
    frame = pd.concat([own.reindex(columns=columns), others.reindex(columns=columns)], ignore_index=True)
    return frame.astype(object).where(frame.notna(), None)


def make_sample(
    engine: Engine,
    settings: Settings,
    scope: Scope,
    county_code: str,
    year: int,
    seed: int,
    out: Path | None = None,
    as_of: dt.date | None = None,
    distances: dict[str, float] | None = None,
    distance_source: str | None = None,
) -> dict[str, Any]:
    """Draw, write (xlsx, ID numbers as `scope` may see them) and store the county's sample; the
    data date is `as_of` or the newest night. Returns the stored sample (as `store.load_sample`)."""
    _check_scope(scope, county_code)
    data_date = as_of or store.latest_night(engine)
    if data_date is None:
        raise BiduiError("库中还没有任何一晚的数据，无法抽样")
    households_date = store.effective_date(engine, "poverty_households", data_date)
    if households_date is None:
        raise BiduiError(f"{data_date} 及以前没有可用的建档立卡户数据（poverty_households），无法抽样")
    members_date = store.effective_date(engine, "poverty_members", data_date)
    link_date = store.latest_link_date(engine, data_date)
    villages = store.load_sample_villages(engine, county_code, households_date, members_date)
    if villages.empty:
        raise BiduiError(f"区划参考中没有县 {county_code} 的村，无法抽样")
    names = region_names(engine, [county_code, *villages["village_code"], *villages["village_code"].str[:9]])
    frame = villages.assign(
        poor=villages["is_poor_village"].fillna("").str.strip() == "是", distance=_distances(villages, distances)
    )

    rng = np.random.default_rng(seed)
    drawn_villages, village_notes = draw_villages(frame, rng, names)
    codes = [v.village_code for v in drawn_villages]
    registered = store.load_registered_households(engine, codes, households_date)
    general = (
        store.load_general_households(engine, codes, link_date)
        if link_date is not None
        else pd.DataFrame(columns=["household_code", "village_code", "hukou_no", "head_name", "head_id"])
    )
    notes = list(village_notes)
    if link_date is None:
        notes.append("库中还没有底图（人员关联），一般农户无法抽取")
    villages_out, households_out = [], []
    for number, village in enumerate(drawn_villages, start=1):
        name = names.get(village.village_code, village.village_code)
        chosen, household_notes = draw_households(_candidates(registered, general, village.village_code, year), rng, year, name)
        notes += household_notes
        villages_out.append(
            {
                "number": number,
                "village_code": village.village_code,
                "name": name,
                "township_code": village.village_code[:9],
                "township": names.get(village.village_code[:9], village.village_code[:9]),
                "kind": VILLAGE_KINDS[village.kind],
                "drawn_for": VILLAGE_KINDS[village.drawn_for],
                "registered": village.registered,
                "distance": village.distance,
            }
        )
        households_out += [
            {
                "village_code": village.village_code,
                "code": h.code,
                "stratum": stratum_label(h.stratum, year),
                "drawn_for": stratum_label(h.drawn_for, year),
                **{k: (None if v is None else str(v)) for k, v in h.facts.items()},
            }
            for h in chosen
        ]
    county_name = names.get(county_code, county_code)
    drawn = {
        "county_name": county_name,
        "scheme": SCHEME,
        "rules": sample_rules(year, distance_source or DEFAULT_DISTANCE),
        "fallbacks": notes,
        "households_date": households_date.isoformat(),
        "members_date": members_date.isoformat() if members_date else None,
        "link_date": link_date.isoformat() if link_date else None,
        "villages": villages_out,
        "households": households_out,
    }
    row = {
        "county_code": county_code,
        "year": year,
        "seed": seed,
        "data_date": data_date,
        "user_name": scope.user_name,
        "created_at": dt.datetime.now().replace(microsecond=0),
        "villages": len(villages_out),
        "households": len(households_out),
        "drawn": drawn,
    }
    path = (
        Path(out)
        if out is not None
        else settings.data_dir / "samples" / sample_file_name(county_name, county_code, year, seed, data_date)
    )
    store.write_excel_tables(path, sample_sheets({**row, "file": str(path)}, scope))
    sample_id = store.write_sample(engine, {**row, "file": str(path)})
    sample = store.load_sample(engine, sample_id)
    assert sample is not None
    return sample
