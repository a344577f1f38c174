"""The region reference of the demo prefecture (province 52, prefecture 5227).

County codes and names are the public ones of 黔南布依族苗族自治州; township and village names
are generated. `python -m pipelines.demo.regions` rewrites seeds/regions.csv (seed REGIONS_SEED).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["REGIONS_CSV", "REGION_COLUMNS", "build_regions", "load_regions", "villages_of"]

REGIONS_CSV = Path(__file__).resolve().parents[2] / "seeds" / "regions.csv"
REGIONS_SEED = 5227
REGION_COLUMNS = ["区划代码", "名称", "级别", "是否贫困村", "贫困村出列年度", "距县城公里数"]
PREFECTURE_NAME = "贵州省黔南布依族苗族自治州"

COUNTIES: dict[str, str] = {
    "522701": "都匀市",
    "522702": "福泉市",
    "522722": "荔波县",
    "522723": "贵定县",
    "522725": "瓮安县",
    "522726": "独山县",
    "522727": "平塘县",
    "522728": "罗甸县",
    "522729": "长顺县",
    "522730": "龙里县",
    "522731": "惠水县",
    "522732": "三都水族自治县",
}

_FIRST = tuple(
    "新石龙平大小高长清青红黄白金马牛羊岩坪沙水河江山坡坝寨塘桥田林松竹茶花桃谷上下中东西南北"
    "和安兴民光明团合联丰富德仁福永太阳星云甲王摆拉翁者板洞冲坳堡营场"
)
_SECOND = tuple("板桥坪寨坝田塘山坡冲湾沟岩井河溪林院关场堡营阳光明丰兴和安平星新民联合胜利华口头岭洞边里")


def _place_names(rng: np.random.Generator, count: int, taken: set[str]) -> list[str]:
    names: list[str] = []
    while len(names) < count:
        first, second = _FIRST[rng.integers(len(_FIRST))], _SECOND[rng.integers(len(_SECOND))]
        name = first + second
        if first != second and name not in taken:
            taken.add(name)
            names.append(name)
    return names


def build_regions(seed: int = REGIONS_SEED) -> pd.DataFrame:
    """About 12 counties, 100 townships and 1,500 villages, the same for the same seed."""
    rng = np.random.Generator(np.random.PCG64(seed))
    rows: list[tuple] = []
    county_townships = [8, 7, 8, 8, 10, 9, 9, 9, 8, 7, 9, 8]
    for (county, county_name), townships in zip(COUNTIES.items(), county_townships, strict=True):
        rows.append((county + "000000", county_name, "county", "否", "", 0.0))
        taken: set[str] = set()
        for t, name in enumerate(_place_names(rng, townships, taken)):
            is_town = t < townships * 0.6
            code = county + (f"{101 + t:03d}" if is_town else f"{201 + t:03d}") + "000"
            township_km = round(float(rng.uniform(4, 85)), 1)
            rows.append((code, name + ("镇" if is_town else "乡"), "township", "否", "", township_km))
            village_taken: set[str] = set()
            for v, village in enumerate(_place_names(rng, int(rng.integers(11, 20)), village_taken)):
                poor = rng.random() < 0.33
                exit_year = str(int(rng.choice([2016, 2017, 2018, 2019, 2020], p=[0.1, 0.25, 0.3, 0.25, 0.1])))
                km = round(max(0.5, township_km + float(rng.uniform(-8, 12))), 1)
                rows.append(
                    (
                        code[:9] + f"{201 + v:03d}",
                        village + "村",
                        "village",
                        "是" if poor else "否",
                        exit_year if poor else "",
                        km,
                    )
                )
    return pd.DataFrame(rows, columns=REGION_COLUMNS)


def write_regions(frame: pd.DataFrame, path: Path = REGIONS_CSV) -> Path:
    """Write the reference as the contract's regions.csv (UTF-8, canonical headers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
    return path


def load_regions(path: Path = REGIONS_CSV) -> pd.DataFrame:
    """The stored reference, every column as text."""
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def villages_of(regions: pd.DataFrame) -> pd.DataFrame:
    """One row per village: code, name, township and county names, poor-village flag, full address prefix."""
    names = dict(zip(regions["区划代码"], regions["名称"], strict=True))
    villages = regions[regions["级别"] == "village"]
    codes = villages["区划代码"].to_numpy()
    frame = pd.DataFrame(
        {
            "code": codes,
            "name": villages["名称"].to_numpy(),
            "county_code": [c[:6] for c in codes],
            "county": [names[c[:6] + "000000"] for c in codes],
            "township": [names[c[:9] + "000"] for c in codes],
            "poor": (villages["是否贫困村"] == "是").to_numpy(),
        }
    )
    frame["address"] = PREFECTURE_NAME + frame["county"] + frame["township"] + frame["name"]
    return frame


if __name__ == "__main__":
    print(write_regions(build_regions()))
