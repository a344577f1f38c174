"""Noise on top of the true values, as departments really deliver them: ID, name and date variants,
stray spaces, blank rows. Every change is logged so tests and evaluations can find it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.catalog.feeds import FeedSpec

from . import pools
from .datetext import format_dates, from_ymd, ymd
from .model import choose, quota

__all__ = ["ID_KINDS", "NAME_KINDS", "PROFILES", "Profile", "mess_dates", "mess_feed", "mess_ids", "mess_names"]

ID_KINDS = ("spaces", "fullwidth", "apostrophe", "lower_x", "legacy15", "excel", "empty", "typo", "transposed")
NAME_KINDS = ("traditional", "inner_space", "dot_variant", "homophone")
_FULLWIDTH = str.maketrans("0123456789Xx", "０１２３４５６７８９Ｘｘ")
_DOT_VARIANTS = ("•", "．", "・")


@dataclass(frozen=True)
class Profile:
    """How messy one feed is: per-cell rates of each kind of noise."""

    ids: dict[str, float] = field(default_factory=dict)
    names: dict[str, float] = field(default_factory=dict)
    date_styles: tuple[float, ...] = (0.6, 0.1, 0.1, 0.1, 0.1)  # over datetext.DATE_STYLES
    excel_dates: float = 0.0  # share of real date cells (xlsx only)
    slips: float = 0.0  # day/month swaps and one-digit slips, each
    stray: float = 0.0  # stray spaces around enumerated values
    blank_rows: float = 0.0
    swapped_ids: float = 0.0  # share of households with two members' IDs swapped
    off_list: float = 0.0  # 性别 spelled outside the listed values (男性, 女性): a validation finding
    ensure: bool = False  # every ID and name kind at least once, even in a small delivery


_USUAL_IDS = {
    "spaces": 0.005,
    "fullwidth": 0.003,
    "apostrophe": 0.006,
    "lower_x": 0.15,
    "legacy15": 0.002,
    "excel": 0.002,
    "empty": 0.01,
    "typo": 0.003,
    "transposed": 0.002,
}
_USUAL_NAMES = {"traditional": 0.01, "inner_space": 0.005, "dot_variant": 0.5, "homophone": 0.003}

PROFILES: dict[str, Profile] = {
    "poverty_households": Profile(_USUAL_IDS, _USUAL_NAMES, stray=0.005, blank_rows=0.002),
    "poverty_members": Profile(
        {
            "spaces": 0.01,
            "fullwidth": 0.005,
            "apostrophe": 0.01,
            "lower_x": 0.2,
            "legacy15": 0.004,
            "excel": 0.004,
            "empty": 0.01,
            "typo": 0.005,
            "transposed": 0.004,
        },
        {"traditional": 0.015, "inner_space": 0.01, "dot_variant": 0.5, "homophone": 0.006},
        date_styles=(0.4, 0.3, 0.1, 0.1, 0.1),
        excel_dates=0.85,
        slips=0.003,
        stray=0.005,
        blank_rows=0.001,
        swapped_ids=0.004,
        off_list=0.002,
        ensure=True,
    ),
    # The police register is the reference: its IDs and names are right, only formatted loosely.
    "hukou": Profile({"apostrophe": 0.005, "spaces": 0.003}, {}, (0.7, 0.1, 0.1, 0.05, 0.05), stray=0.002),
    "medical_insurance": Profile(_USUAL_IDS, _USUAL_NAMES, stray=0.003, blank_rows=0.0005, ensure=True),
    "illness_registry": Profile(_USUAL_IDS, _USUAL_NAMES, slips=0.003, stray=0.003),
    "school_enrolment": Profile(
        {**_USUAL_IDS, "empty": 0.03}, _USUAL_NAMES, slips=0.003, stray=0.004, blank_rows=0.002, off_list=0.003
    ),
    "dangerous_housing": Profile(_USUAL_IDS, _USUAL_NAMES, slips=0.003, stray=0.005, blank_rows=0.003),
    "minimum_living": Profile(_USUAL_IDS, _USUAL_NAMES, slips=0.003, stray=0.005),
    "public_payroll": Profile(_USUAL_IDS, _USUAL_NAMES, slips=0.003),
    "enterprise_registry": Profile(_USUAL_IDS, _USUAL_NAMES, slips=0.003, stray=0.005),
    "vehicles": Profile(_USUAL_IDS, _USUAL_NAMES, slips=0.003, stray=0.005),
}


@dataclass
class Delivered:
    """A feed as written: `frame` has the canonical field names with values as they go into the
    file, plus hidden columns (names starting "_"): `_pid` the true person (-1 on blank rows),
    `_said_<field>` the date a delivered date cell really says (slips included) and
    `_text_<field>` an ID cell as text, as a reader sees it. `log` has record_key, field, kind of
    every deliberate change."""

    frame: pd.DataFrame
    log: pd.DataFrame


def _kinds(rng: np.random.Generator, n: int, rates: dict[str, float]) -> np.ndarray:
    """One noise kind per row ("" = clean), drawn with the given rates."""
    names = list(rates)
    probs = np.array([rates[k] for k in names])
    edges = np.cumsum(probs)
    u = rng.random(n)
    pick = np.searchsorted(edges, u, side="right")
    return np.array([*names, ""], dtype=object)[np.minimum(pick, len(names))]


def mess_ids(
    rng: np.random.Generator,
    id18: np.ndarray,
    id15: np.ndarray,
    birth_year: np.ndarray,
    rates: dict[str, float],
    excel_numbers: bool = False,
    ensure: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """(delivered values, kind per row). `lower_x` only touches IDs ending in X, `legacy15` only
    people born before 1985. With excel_numbers an Excel-mangled ID is a float cell, else text.
    With `ensure`, every kind with a rate occurs at least once where some row allows it."""
    n = len(id18)
    kinds = _kinds(rng, n, rates)
    allowed = {"lower_x": np.array([i.endswith("X") for i in id18.tolist()], dtype=bool), "legacy15": birth_year < 1985}
    for kind, mask in allowed.items():
        kinds[(kinds == kind) & ~mask] = ""
    if ensure:
        for kind in rates:
            if not (kinds == kind).any():
                spots = np.flatnonzero((kinds == "") & allowed.get(kind, True))
                if len(spots):
                    kinds[spots[rng.integers(len(spots))]] = kind
    values = id18.astype(object).copy()
    for i in np.flatnonzero(kinds != "").tolist():
        values[i] = _mess_one_id(rng, kinds[i], id18[i], id15[i], excel_numbers)
    return values, kinds


def _mess_one_id(rng: np.random.Generator, kind: str, value: str, legacy: str, excel_numbers: bool) -> object:
    if kind == "spaces":
        return f"{value[:6]} {value[6:14]} {value[14:]}" if rng.random() < 0.5 else f" {value} "
    if kind == "fullwidth":
        return value.translate(_FULLWIDTH)
    if kind == "apostrophe":
        return "'" + value
    if kind == "lower_x":
        return value.lower()
    if kind == "legacy15":
        return legacy
    if kind == "excel":
        digits = value[:17] + ("0" if value[17] == "X" else value[17])
        return float(digits[:15] + "000") if excel_numbers else f"{float(digits):.5E}"
    if kind == "empty":
        return ""
    position = int(rng.integers(17))
    chars = list(value)
    if kind == "typo":
        chars[position] = str((int(chars[position]) + int(rng.integers(1, 10))) % 10)
    else:  # transposed: two neighbouring digits that differ
        for step in range(16):
            p = (position + step) % 16
            if chars[p] != chars[p + 1]:
                chars[p], chars[p + 1] = chars[p + 1], chars[p]
                break
    return "".join(chars)


def mess_names(
    rng: np.random.Generator, names: np.ndarray, rates: dict[str, float], ensure: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(delivered names, kind per row). Traditional and homophone changes only where a character
    allows it; dot variants only in transliterated names. With `ensure`, every kind with a rate
    occurs at least once where some name allows it."""
    n = len(names)
    values = names.astype(object).copy()
    dotted = np.array(["·" in x for x in names.tolist()], dtype=bool)
    kinds = _kinds(rng, n, {k: v for k, v in rates.items() if k != "dot_variant"})
    if "dot_variant" in rates:
        kinds[dotted & (rng.random(n) < rates["dot_variant"])] = "dot_variant"
    kinds[(kinds == "dot_variant") & ~dotted] = ""
    for i in np.flatnonzero(kinds != "").tolist():
        values[i] = _mess_one_name(rng, kinds[i], values[i])
        if values[i] == names[i]:
            kinds[i] = ""
    for kind in rates if ensure else ():
        if (kinds == kind).any():
            continue
        spots = np.flatnonzero((kinds == "") & (dotted if kind == "dot_variant" else True))
        for i in rng.permutation(spots)[:50].tolist():
            new = _mess_one_name(rng, kind, names[i])
            if new != names[i]:
                values[i], kinds[i] = new, kind
                break
    return values, kinds


def _mess_one_name(rng: np.random.Generator, kind: str, name: str) -> str:
    if kind == "traditional":
        return name.translate(pools.traditional_table())
    if kind == "inner_space":
        return name.replace("·", " · ") if "·" in name else name[:1] + " " + name[1:]
    if kind == "dot_variant":
        return name.replace("·", _DOT_VARIANTS[int(rng.integers(len(_DOT_VARIANTS)))])
    spots = [j for j, c in enumerate(name) if j > 0 and c in pools.HOMOPHONES and "·" not in name]
    if not spots:
        return name
    j = spots[int(rng.integers(len(spots)))]
    return name[:j] + pools.HOMOPHONES[name[j]] + name[j + 1 :]


def mess_dates(
    rng: np.random.Generator, days: np.ndarray, profile: Profile, xlsx: bool, latest: np.datetime64
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(delivered values, the date each value says, kind per row). Slips never go past `latest`."""
    days = np.asarray(days).astype("datetime64[D]")
    n = len(days)
    known = ~np.isnat(days)
    kinds = np.full(n, "", dtype=object)
    said = days.copy()
    if profile.slips:
        slip = _kinds(rng, n, {"day_month_swap": profile.slips, "digit_slip": profile.slips})
        slip[~known] = ""
        year, month, day = ymd(np.where(known, days, np.datetime64("2000-01-01")))
        swappable = known & (day <= 12) & (day != month)
        slip[(slip == "day_month_swap") & ~swappable] = "digit_slip"
        for kind, allowed in (("day_month_swap", swappable), ("digit_slip", known)) if profile.ensure else ():
            spots = np.flatnonzero(allowed & (slip == ""))
            if not (slip == kind).any() and len(spots):
                slip[spots[rng.integers(len(spots))]] = kind
        swap = slip == "day_month_swap"
        digit = slip == "digit_slip"
        new_year, new_month, new_day = year.copy(), month.copy(), day.copy()
        new_month[swap], new_day[swap] = day[swap], month[swap]
        shift = rng.integers(1, 10, n)
        slipped_year = year - year % 10 + (year % 10 + shift) % 10
        on_year = digit & (rng.random(n) < 0.5) & (slipped_year <= latest.astype("datetime64[Y]").astype(int) + 1970)
        new_year[on_year] = slipped_year[on_year]
        on_day = digit & ~on_year
        new_day[on_day] = np.clip(day[on_day] - day[on_day] % 10 + (day[on_day] % 10 + shift[on_day]) % 10, 1, 28)
        new_day[on_day & (new_day == day)] = np.where(day[on_day & (new_day == day)] > 1, 1, 2)
        said = np.where(slip != "", from_ymd(new_year, new_month, new_day), days)
        bad = said > latest
        said[bad], slip[bad] = days[bad], ""
        kinds = slip
    styles = rng.choice(5, size=n, p=np.array(profile.date_styles) / sum(profile.date_styles))
    values = format_dates(said, styles)
    if xlsx:
        cells = known & (rng.random(n) < profile.excel_dates)
        values[cells] = said[cells].astype(object)
    return values, said, kinds


def _stray(rng: np.random.Generator, values: np.ndarray, rate: float) -> tuple[np.ndarray, np.ndarray]:
    values = values.astype(object).copy()
    picked = np.flatnonzero((rng.random(len(values)) < rate) & (values != ""))
    pads = np.array([" {}", "{} ", " {} "], dtype=object)[rng.integers(3, size=len(picked))]
    values[picked] = [p.format(v) for p, v in zip(pads, values[picked], strict=True)]
    kinds = np.full(len(values), "", dtype=object)
    kinds[picked] = "stray_space"
    return values, kinds


def _off_list(rng: np.random.Generator, values: np.ndarray, kinds: np.ndarray, rate: float, ensure: bool) -> None:
    spots = np.flatnonzero((kinds == "") & np.isin(values, ["男", "女"]))
    picked = spots[rng.random(len(spots)) < rate]
    if ensure and not len(picked) and len(spots):
        picked = spots[rng.integers(len(spots), size=1)]
    values[picked] = values[picked] + "性"
    kinds[picked] = "off_list"


def _as_text(values: np.ndarray, kind: str) -> np.ndarray:
    values = np.asarray(values)
    if values.dtype.kind == "f":
        decimals = 2 if kind == "number" else 0
        return np.array([f"{v:.{decimals}f}" if v == v else "" for v in values.tolist()], dtype=object)
    if values.dtype.kind in "iu":
        text = values.astype(str).astype(object)
        return np.where(values == 0, "", text) if kind == "year" else text
    return values.astype(object)


def _swap_ids(rng: np.random.Generator, frame: pd.DataFrame, values: np.ndarray, kinds: np.ndarray, share: float) -> None:
    """Two members of one household with each other's (valid) ID: an identity mismatch (R18)."""
    household = frame["household_no"].to_numpy()
    clean = kinds == ""
    pairs = np.flatnonzero(
        (household[:-1] == household[1:])
        & clean[:-1]
        & clean[1:]
        & (frame["_pid"].to_numpy()[:-1] != frame["_pid"].to_numpy()[1:])
    )
    pairs = pairs[np.diff(np.concatenate([[-2], pairs])) > 1]
    picked = choose(rng, pairs, quota(len(np.unique(household)), share, 3))
    picked = picked[np.diff(np.concatenate([[-2], picked])) > 1]
    values[picked], values[picked + 1] = values[picked + 1].copy(), values[picked].copy()
    kinds[picked] = kinds[picked + 1] = "swapped"


def mess_feed(
    rng: np.random.Generator,
    spec: FeedSpec,
    frame: pd.DataFrame,
    id15: np.ndarray,
    birth_year: np.ndarray,
    latest: dt.date,
    xlsx: bool,
    profile: Profile | None = None,
) -> Delivered:
    """Apply the feed's Profile (or `profile`) to a clean frame (see feeds.py) and add blank rows.
    The frame may hold only some of the feed's fields (with its key): the others are left out."""
    profile = profile or PROFILES[spec.name]
    out: dict[str, np.ndarray] = {}
    logs: list[pd.DataFrame] = []
    hidden: dict[str, np.ndarray] = {}
    last = np.datetime64(latest.isoformat(), "D")

    def log(field_name: str, kinds: np.ndarray) -> None:
        rows = np.flatnonzero(kinds != "")
        logs.append(pd.DataFrame({"row": rows, "field": field_name, "kind": kinds[rows]}))

    for f in spec.fields:
        if f.name not in frame:
            continue
        column = frame[f.name].to_numpy()
        if f.kind == "id":
            values, kinds = mess_ids(rng, column, id15, birth_year, profile.ids, xlsx, profile.ensure)
            if profile.swapped_ids:
                _swap_ids(rng, frame, values, kinds, profile.swapped_ids)
            # A reader shows a number cell as Python prints it (5.22725199001011E+17).
            hidden[f"_text_{f.name}"] = np.array(
                [repr(v).upper() if isinstance(v, float) else v for v in values.tolist()], dtype=object
            )
        elif f.kind == "name":
            values, kinds = mess_names(rng, column, profile.names, profile.ensure)
        elif f.kind == "date":
            values, hidden[f"_said_{f.name}"], kinds = mess_dates(rng, column, profile, xlsx, last)
        elif f.kind == "enum":
            values, kinds = _stray(rng, _as_text(column, f.kind), profile.stray)
            if f.name == "sex" and profile.off_list:
                _off_list(rng, values, kinds, profile.off_list, profile.ensure)
        else:
            values, kinds = _as_text(column, f.kind), np.zeros(0, dtype=object)
        out[f.name] = values
        if len(kinds):
            log(f.name, kinds)
    out.update({c: frame[c].to_numpy().astype(object) for c in frame.columns if c not in out and not c.startswith("_")})
    delivered = pd.DataFrame(out)
    delivered["_pid"] = frame["_pid"].to_numpy()
    for name, values in hidden.items():
        delivered[name] = values
    log_frame = pd.concat(logs, ignore_index=True) if logs else pd.DataFrame(columns=["row", "field", "kind"])
    log_frame["record_key"] = delivered[spec.key].to_numpy()[log_frame["row"].to_numpy(dtype=np.int64)]
    delivered, blank = _blank_rows(rng, delivered, profile.blank_rows)
    if len(blank):
        blank_log = pd.DataFrame({"row": blank, "field": "", "kind": "blank_row", "record_key": ""})
        log_frame = pd.concat([log_frame, blank_log])
    return Delivered(delivered, log_frame.drop(columns="row").reset_index(drop=True))


def _blank_rows(rng: np.random.Generator, frame: pd.DataFrame, rate: float) -> tuple[pd.DataFrame, np.ndarray]:
    count = max(1, int(np.floor(rate * len(frame) + rng.random()))) if rate and len(frame) else 0
    if not count:
        return frame, np.zeros(0, dtype=np.int64)
    at = np.sort(rng.choice(len(frame) + 1, size=count))
    order = np.insert(np.arange(len(frame)), at, -1)
    out = frame.iloc[np.maximum(order, 0)].reset_index(drop=True)
    blank = np.flatnonzero(order < 0)
    for column in out.columns:
        if column == "_pid":
            out.loc[blank, column] = -1
        elif column.startswith("_said_"):
            out.loc[blank, column] = np.datetime64("NaT")
        else:
            out.loc[blank, column] = ""
    return out, blank
