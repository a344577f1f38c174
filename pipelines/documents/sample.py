"""The cross-check sample (交叉检查抽样) of one county for one year, drawn from the store by Anhui's
2019 scheme (pipelines.documents.sample_draw), written as a workbook and a printable document
(HTML + PDF, pipelines.documents.sample_print) and kept in the store so the site lists it.

`make_sample` reads the county's villages with their registered persons (one GROUP BY), draws the
villages, reads only those villages' households, draws them, and records the seed, the data date,
the rules applied and every fall-back taken.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine

from pipelines import store
from pipelines.access import Scope, region_names
from pipelines.documents.render import write_document
from pipelines.documents.sample_draw import (
    EXITED_BEFORE,
    EXITED_THIS_YEAR,
    GENERAL,
    HOUSEHOLD_QUOTAS,
    MIN_DISTANCE_KM,
    NEW,
    NOT_EXITED,
    SCHEME_FALLBACKS,
    STRATUM_FALLBACKS,
    VILLAGE_KINDS,
    draw_households,
    draw_villages,
    household_strata,
    stratum_label,
)
from pipelines.documents.sample_print import render_sample, sample_documents
from pipelines.documents.sample_workbook import sample_sheets
from pipelines.errors import BiduiError
from pipelines.settings import Settings

__all__ = ["SAMPLE_ROLES", "SCHEME", "make_sample", "sample_file_name", "sample_rules"]

SCHEME = "安徽省2019年脱贫攻坚市际交叉考核方案（七、样本抽取）"
SAMPLE_ROLES = ("prefecture", "county", "system")
DEFAULT_DISTANCE = "区划参考 距县城公里数（km_to_county_seat）"


def sample_file_name(county_name: str, county_code: str, year: int, seed: int, data_date: dt.date) -> str:
    return f"{county_name}（{county_code}）{year}年交叉检查抽样_种子{seed}_数据{data_date.isoformat()}.xlsx"


def _labels(strata: tuple[str, ...], year: int) -> str:
    return "、".join(stratum_label(s, year) for s in strata)


def sample_rules(year: int, distance_source: str) -> list[str]:
    """The rules applied, in Chinese, as every sample states them: what the scheme (七、样本抽取)
    says, marked 方案规定, and what bidui decided where it is silent, marked 本系统的做法."""
    a, b, c, d = (stratum_label(s, year) for s in (EXITED_THIS_YEAR, EXITED_BEFORE, NEW, NOT_EXITED))
    quotas = "、".join(f"{stratum_label(s, year)} {q} 户" for s, q in HOUSEHOLD_QUOTAS)
    chains = []
    for slot, chain in STRATUM_FALLBACKS.items():
        if not chain:
            continue
        scheme = SCHEME_FALLBACKS.get(slot, ())
        whose = f"其中从{_labels(scheme, year)}补抽为方案规定，其余为本系统的做法" if scheme else "方案未规定，均为本系统的做法"
        chains.append(f"{stratum_label(slot, year)}不足时依次从{_labels(chain, year)}补抽（{whose}）")
    order = "、".join(stratum_label(s, year) for s, _q in HOUSEHOLD_QUOTAS if STRATUM_FALLBACKS[s])
    return [
        f"抽村（方案规定）：每个县从 4 个乡镇抽查 4 个村，其中{VILLAGE_KINDS['poor']} 2 个、{VILLAGE_KINDS['non_poor']} 2 个；"
        "抽查村向地处边远、基础设施和公共服务条件较差的村倾斜",
        "抽村（本系统的做法）：只从有建档立卡人员的村中抽；“建档立卡贫困人口较多的非贫困村”取非贫困村中按建档立卡人数"
        "从多到少排在前一半的村（并列者一并入选）；倾斜只按距离：抽中概率与距离成正比（距离来源："
        f"{distance_source}；不足 {MIN_DISTANCE_KM:g} 公里按 {MIN_DISTANCE_KM:g} 公里计，缺距离的村按全县已知距离的中位数计），"
        "基础设施和公共服务条件没有数据，未计入",
        "抽村补抽（方案未规定，本系统的做法）：贫困村不足时从建档立卡贫困人口较多的非贫困村、再从其他非贫困村补抽；"
        "非贫困村不足时从其他非贫困村、再从贫困村补抽；不同乡镇不够 4 个时才从已抽乡镇再抽",
        f"抽户（方案规定）：每村 16 户，{quotas}",
        "一般农户（方案规定“一般农户随机走访”；抽取名单为本系统的做法）：从底图中未关联任何建档立卡户或成员的户中随机抽取，"
        "户主姓名、身份证号取数据日期当晚底图所关联的户籍数据中与户主关系为“户主”的人；一般农户不足时如实注明，不补抽",
        f"补抽（方案规定）：抽查村没有{c}的，抽查{d}；既没有{c}也没有{d}的，抽查{b}；没有{a}的，抽查{b}",
        "补抽（方案未规定，本系统的做法）：某类户少于应抽户数（不只是一户也没有）时同样补足；各类的补抽顺序为："
        + "；".join(chains)
        + f"；几类同时不足时按{order}的次序补抽，先补的类先用其他类剩余的户",
        "返贫户（方案规定“抽查村中有返贫户的，实行全覆盖调查”）：抽中村的返贫户全部列入，在每村 16 户之外另加（另加为本系统的理解）",
        "村民小组（方案规定“从1个贫困村和1个非贫困村中分别抽取1个村民小组，实行全覆盖调查”）：本样本未抽取——"
        "各部门报送的数据中没有村民小组（组）字段，无法按组抽取，请考核组在现场确定村民小组",
        "户的类别按数据日期建档立卡户库中的脱贫状态、脱贫年度、识别年度确定；既是当年脱贫又是新识别的户算当年脱贫户（本系统的做法）",
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
    pdf: bool = True,
) -> dict[str, Any]:
    """Draw, write and store the county's sample; the data date is `as_of` or the newest night.
    Writes the workbook at `out` and beside it the printable HTML and (with `pdf`) PDF, together or
    not at all, ID numbers as `scope` may see them. Returns the stored sample (as
    `store.load_sample`) with `documents`: the files written, by kind (xlsx, html, pdf)."""
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
    if distances is not None and not villages["village_code"].isin(list(distances)).any():
        # Else every village would weigh the same while the sample named the file as its source.
        raise BiduiError(
            f"{distance_source or '距离文件'} 中没有县 {county_code} 任何一个村的距离：第一列应为 12 位区划代码"
            "（用 Excel 另存时请把该列设为文本，以免变成 5.22725E+11）；不给距离文件则按区划参考中的距县城公里数"
        )
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
    if path.suffix.lower() != ".xlsx":
        raise BiduiError(f"抽样结果文件应以 .xlsx 结尾（网页版和 PDF 写在它旁边）：{path}")
    files = sample_documents(path)
    made = {**row, "file": str(path)}
    # The files appear with the stored sample or not at all.
    with tempfile.TemporaryDirectory(prefix="bidui-sample-") as scratch, store.staged_files() as stage:
        workbook = Path(scratch) / "sample.xlsx"
        store.write_excel_tables(workbook, sample_sheets(made, scope))
        write_document(render_sample(made, scope), files["html"], pdf=pdf, also=[(path, workbook.read_bytes())], stage=stage)
        sample_id = store.write_sample(engine, made)
    if not pdf:  # an earlier drawing's PDF would pass for this one
        files["pdf"].unlink(missing_ok=True)
    sample = store.load_sample(engine, sample_id)
    assert sample is not None
    return {**sample, "documents": {kind: str(f) for kind, f in files.items() if kind != "pdf" or pdf}}
