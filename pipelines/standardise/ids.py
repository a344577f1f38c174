"""ID numbers (公民身份号码, GB 11643-1999): cleaning, status, and what a number encodes."""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = [
    "STATUSES",
    "birth_date_from_id",
    "check_digit",
    "check_digits",
    "clean_id",
    "id_birth_conflicts",
    "id_status",
    "id_statuses",
    "region_from_id",
    "sex_from_id",
    "standardise_ids",
    "upgrade_15_to_18",
]

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
MIN_BIRTH_YEAR = 1900

STATUSES = (
    "valid",
    "empty",
    "mangled",
    "legacy15",
    "bad_length",
    "bad_chars",
    "bad_checksum",
    "bad_birthdate",
)

# Quote marks never belong to an ID; Excel's text marker (') and pasted quotes do turn up.
_QUOTES = "'\"‘’“”`´"
# Zero-width characters are not str.isspace() but arrive with copy-pasted numbers.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
# Scientific notation (5.22701E+17) or a float print (522701199001011234.0): digits already lost.
_MANGLED = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)E[+-]?\d+|\d+\.\d*")

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_WEIGHTS = np.array(WEIGHTS, dtype=np.int32)
_CHECK_CODES = np.array([ord(c) for c in CHECK_CHARS], dtype=np.uint32)
_DAYS_IN_MONTH = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


def check_digit(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits of an ID number."""
    total = sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def check_digits(first17: np.ndarray) -> np.ndarray:
    """Vectorised check characters for an (n, 17) integer array of digits."""
    totals = (np.asarray(first17, dtype=np.int64) * _WEIGHTS).sum(axis=1)
    return np.array(list(CHECK_CHARS))[totals % 11]


def clean_id(value: object) -> str:
    """An ID cell as comparable text: half-width, no whitespace or quote marks, upper-case X.

    None and NaN become "". Nothing is repaired: a mangled number stays mangled.
    """
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = value if isinstance(value, str) else str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE)
    text = "".join(text.split()).strip(_QUOTES)
    return text.upper()


def _plausible_date(year: int, month: int, day: int) -> bool:
    if year < MIN_BIRTH_YEAR:
        return False
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return True


def id_status(cleaned: str) -> str:
    """One of STATUSES for a cleaned ID (see clean_id)."""
    if not cleaned:
        return "empty"
    if _MANGLED.fullmatch(cleaned):
        return "mangled"
    if len(cleaned) == 18:
        if not (cleaned[:17].isdigit() and cleaned[:17].isascii() and (cleaned[17].isdigit() or cleaned[17] == "X")):
            return "bad_chars"
        if check_digit(cleaned[:17]) != cleaned[17]:
            return "bad_checksum"
        if not _plausible_date(int(cleaned[6:10]), int(cleaned[10:12]), int(cleaned[12:14])):
            return "bad_birthdate"
        return "valid"
    if len(cleaned) == 15:
        if not (cleaned.isdigit() and cleaned.isascii()):
            return "bad_chars"
        if not _plausible_date(1900 + int(cleaned[6:8]), int(cleaned[8:10]), int(cleaned[10:12])):
            return "bad_birthdate"
        return "legacy15"
    return "bad_length"


def upgrade_15_to_18(id15: str) -> str:
    """A legacy 15-digit number in 18-digit form: "19" before the 2-digit year, check digit appended."""
    first17 = id15[:6] + "19" + id15[6:]
    return first17 + check_digit(first17)


def _as_18(cleaned: str) -> str | None:
    status = id_status(cleaned)
    if status == "valid":
        return cleaned
    if status == "legacy15":
        return upgrade_15_to_18(cleaned)
    return None


def birth_date_from_id(cleaned: str) -> dt.date | None:
    """The birth date a valid (or legacy 15-digit) ID encodes, else None."""
    id18 = _as_18(cleaned)
    return None if id18 is None else dt.date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))


def sex_from_id(cleaned: str) -> str | None:
    """ "男" or "女" from the sequence digit's parity (17th of 18, 15th of 15), else None."""
    id18 = _as_18(cleaned)
    return None if id18 is None else ("男" if int(id18[16]) % 2 else "女")


def region_from_id(cleaned: str) -> str | None:
    """The 6-digit region code a valid (or legacy 15-digit) ID starts with, else None."""
    id18 = _as_18(cleaned)
    return None if id18 is None else id18[:6]


# --- vectorised -----------------------------------------------------------------------------


def _code_points(strings: list[str], width: int) -> np.ndarray:
    """(n, width) uint32 code points of equal-length strings."""
    return np.array(strings, dtype=f"<U{width}").view(np.uint32).reshape(len(strings), width)


def _to_strings(points: np.ndarray) -> np.ndarray:
    """Object array of str from an (n, width) uint32 code point array."""
    width = points.shape[1]
    return np.ascontiguousarray(points).view(f"<U{width}").ravel().astype(object)


def _valid_dates(year: np.ndarray, month: np.ndarray, day: np.ndarray) -> np.ndarray:
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    month_ok = (month >= 1) & (month <= 12)
    days = _DAYS_IN_MONTH[np.where(month_ok, month, 0)] + ((month == 2) & leap)
    return month_ok & (day >= 1) & (day <= days) & (year >= MIN_BIRTH_YEAR)


def _digits_to_int(digits: np.ndarray) -> np.ndarray:
    out = np.zeros(digits.shape[0], dtype=np.int64)
    for column in range(digits.shape[1]):
        out = out * 10 + digits[:, column]
    return out


_CODE = {name: code for code, name in enumerate(STATUSES)}
_STATUS_NAMES = np.array(STATUSES, dtype=object)


def _classify(cleaned: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Status code (index into STATUSES) per cleaned ID, plus (m, 18) code points of the 18-digit
    form of the valid and legacy15 ones, and their positions."""
    n = len(cleaned)
    lengths = np.fromiter(map(len, cleaned), dtype=np.int64, count=n)
    codes = np.full(n, _CODE["bad_length"], dtype=np.int8)
    codes[lengths == 0] = _CODE["empty"]
    found_points, found_positions = [np.zeros((0, 18), dtype=np.uint32)], [np.zeros(0, dtype=np.int64)]

    at18 = np.flatnonzero(lengths == 18)
    if len(at18):
        points = _code_points(cleaned[at18].tolist(), 18)
        digits = points.astype(np.int32) - ord("0")
        chars_ok = ((digits[:, :17] >= 0) & (digits[:, :17] <= 9)).all(axis=1)
        chars_ok &= ((digits[:, 17] >= 0) & (digits[:, 17] <= 9)) | (points[:, 17] == ord("X"))
        checksum_ok = _CHECK_CODES[(digits[:, :17] * _WEIGHTS).sum(axis=1) % 11] == points[:, 17]
        dates_ok = _valid_dates(
            _digits_to_int(digits[:, 6:10]), _digits_to_int(digits[:, 10:12]), _digits_to_int(digits[:, 12:14])
        )
        result = np.select(
            [~chars_ok, ~checksum_ok, ~dates_ok],
            [_CODE["bad_chars"], _CODE["bad_checksum"], _CODE["bad_birthdate"]],
            _CODE["valid"],
        )
        codes[at18] = result
        ok = result == _CODE["valid"]
        found_points.append(points[ok])
        found_positions.append(at18[ok])

    at15 = np.flatnonzero(lengths == 15)
    if len(at15):
        points = _code_points(cleaned[at15].tolist(), 15)
        digits = points.astype(np.int32) - ord("0")
        chars_ok = ((digits >= 0) & (digits <= 9)).all(axis=1)
        dates_ok = _valid_dates(
            1900 + _digits_to_int(digits[:, 6:8]), _digits_to_int(digits[:, 8:10]), _digits_to_int(digits[:, 10:12])
        )
        result = np.select([~chars_ok, ~dates_ok], [_CODE["bad_chars"], _CODE["bad_birthdate"]], _CODE["legacy15"])
        codes[at15] = result
        ok = result == _CODE["legacy15"]
        upgraded = np.empty((int(ok.sum()), 18), dtype=np.uint32)
        upgraded[:, :6] = points[ok, :6]
        upgraded[:, 6:8] = [ord("1"), ord("9")]
        upgraded[:, 8:17] = points[ok, 6:15]
        first17 = upgraded[:, :17].astype(np.int32) - ord("0")
        upgraded[:, 17] = _CHECK_CODES[(first17 * _WEIGHTS).sum(axis=1) % 11]
        found_points.append(upgraded)
        found_positions.append(at15[ok])

    # A mangled number has a dot or an E, so it is already bad_length or bad_chars; few rows.
    for i in np.flatnonzero((codes == _CODE["bad_length"]) | (codes == _CODE["bad_chars"])):
        if _MANGLED.fullmatch(cleaned[i]):
            codes[i] = _CODE["mangled"]
    return codes, np.vstack(found_points), np.concatenate(found_positions)


def _clean_all(values: pd.Series) -> np.ndarray:
    # Most cells are already plain ASCII letters/digits; skip the full clean for them.
    return np.array(
        [v.upper() if type(v) is str and v.isascii() and v.isalnum() else clean_id(v) for v in values.tolist()],
        dtype=object,
    )


def id_statuses(values: pd.Series) -> pd.Series:
    """The status (one of STATUSES) of each raw ID cell, same index."""
    codes, _, _ = _classify(_clean_all(values))
    return pd.Series(_STATUS_NAMES[codes], index=values.index, name="id_status", dtype=object)


def standardise_ids(values: pd.Series) -> pd.DataFrame:
    """Raw ID cells to id_clean, id_status, id18, id_birth_date (ISO), id_sex, id_region; same index.

    id18 and the derived columns are filled for "valid" and "legacy15" numbers only, else None.
    """
    cleaned = _clean_all(values)
    codes, points, positions = _classify(cleaned)
    n = len(cleaned)
    id18 = np.full(n, None, dtype=object)
    birth = np.full(n, None, dtype=object)
    sex = np.full(n, None, dtype=object)
    region = np.full(n, None, dtype=object)
    if len(positions):
        id18[positions] = _to_strings(points)
        iso = np.empty((len(points), 10), dtype=np.uint32)
        iso[:, 0:4], iso[:, 5:7], iso[:, 8:10] = points[:, 6:10], points[:, 10:12], points[:, 12:14]
        iso[:, 4] = iso[:, 7] = ord("-")
        birth[positions] = _to_strings(iso)
        # ord("0") is even, so a code point has the parity of its digit.
        sex[positions] = np.where(points[:, 16] % 2 == 1, "男", "女").astype(object)
        region[positions] = _to_strings(points[:, :6])
    return pd.DataFrame(
        {
            "id_clean": cleaned,
            "id_status": _STATUS_NAMES[codes],
            "id18": id18,
            "id_birth_date": birth,
            "id_sex": sex,
            "id_region": region,
        },
        index=values.index,
    )


def id_birth_conflicts(ids: pd.Series, birth_dates: pd.Series) -> pd.Series:
    """The birth date (ISO) each usable ID encodes where it contradicts the row's own birth date
    ('YYYY-MM-DD'), else None; same index. A right check digit proves the number was copied whole,
    not that it belongs to this row: a neighbour's or a relative's ID passes the checksum too."""
    encoded = standardise_ids(ids)["id_birth_date"]
    given = birth_dates.astype(object)
    usable = pd.Series([isinstance(v, str) and _ISO_DATE.fullmatch(v) is not None for v in given.tolist()], index=given.index)
    conflict = encoded.notna() & usable & (encoded != given)
    return encoded.where(conflict, None).astype(object)
