"""Personal names: one written form (NFKC, no spaces, one middle dot, simplified) and pinyin keys."""

from __future__ import annotations

import functools
import math
import re
import unicodedata

import numpy as np
import pandas as pd

__all__ = ["initials_key", "normalise_name", "pinyin_key", "standardise_names"]

MIDDLE_DOT = "\u00b7"

# Characters people and input methods use for the dot in transliterated minority names
# (买买提·艾力). NFKC has already folded U+0387 and U+FF65 onto these.
_DOT_LIKE = "\u00b7\u2022\u2027\u2219\u22c5\u25cf\u30fb\u2e31\u318d\ufe52"
_DOTS = re.compile(f"[{_DOT_LIKE}]")
# A full stop only counts as the name dot between two CJK characters; elsewhere it may be an initial.
_STOP_BETWEEN_CJK = re.compile(r"(?<=[\u3400-\u9fff\U00020000-\U0003134f])[.\u3002](?=[\u3400-\u9fff\U00020000-\U0003134f])")
_HAN = re.compile(r"[\u3400-\u9fff\U00020000-\U0003134f]")
_REPEATED_DOTS = re.compile(f"{MIDDLE_DOT}{{2,}}")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))

# Surname readings that differ from a character's everyday reading (toneless). Compound surnames
# are matched before single ones, so 单于 is chan yu while 单雄信 is shan xiong xin.
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "万俟": ("mo", "qi"),
    "尉迟": ("yu", "chi"),
    "长孙": ("zhang", "sun"),
    "单于": ("chan", "yu"),
    "澹台": ("tan", "tai"),
    "乐正": ("yue", "zheng"),
    "亓官": ("qi", "guan"),
    "仉督": ("zhang", "du"),
    "曾": ("zeng",),
    "单": ("shan",),
    "解": ("xie",),
    "仇": ("qiu",),
    "区": ("ou",),
    "查": ("zha",),
    "朴": ("piao",),
    "盖": ("ge",),
    "缪": ("miao",),
    "覃": ("qin",),
    "乐": ("yue",),
    "秘": ("bi",),
    "种": ("chong",),
    "翟": ("zhai",),
    "繁": ("po",),
    "员": ("yun",),
    "黑": ("he",),
    # Alone, 尉 is read wei (尉缭); yu only in the compound 尉迟 above.
    "尉": ("wei",),
    "召": ("shao",),
    "都": ("du",),
    "佴": ("nai",),
    "折": ("she",),
    "宓": ("fu",),
    "句": ("gou",),
    "卜": ("bu",),
    "阚": ("kan",),
    "隗": ("wei",),
    "洗": ("xian",),
    "藏": ("zang",),
    "薄": ("bo",),
    "能": ("nai",),
    "炅": ("gui",),
    "郇": ("xun",),
    "颉": ("xie",),
    "长": ("chang",),
    "乜": ("nie",),
    "粘": ("nian",),
    "蕃": ("pi",),
    "缴": ("zhuo",),
    "角": ("jue",),
    "重": ("chong",),
}
_LONGEST_SURNAME = max(map(len, SURNAME_READINGS))


@functools.cache
def _converter():
    import opencc

    return opencc.OpenCC("t2s")


def normalise_name(value: object) -> str:
    """A name in one written form: NFKC, no whitespace, every middle-dot variant as U+00B7,
    traditional characters simplified (OpenCC t2s). None/NaN give ""."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    text = unicodedata.normalize("NFKC", str(value)).translate(_INVISIBLE)
    text = "".join(text.split())
    if not text:
        return ""
    text = _STOP_BETWEEN_CJK.sub(MIDDLE_DOT, _DOTS.sub(MIDDLE_DOT, text))
    text = _REPEATED_DOTS.sub(MIDDLE_DOT, text).strip(MIDDLE_DOT)
    return _converter().convert(text) if not text.isascii() else text


@functools.lru_cache(maxsize=500_000)
def _part_syllables(part: str) -> tuple[str, ...]:
    from pypinyin import Style, lazy_pinyin

    # Runs without pinyin (letters, digits) come back whole; they are kept, lower-cased.
    return tuple(s.lower() for s in lazy_pinyin(part, style=Style.NORMAL, errors="default") if s)


def _syllables_of_normalised(name: str) -> tuple[str, ...]:
    if not name:
        return ()
    if MIDDLE_DOT in name:
        # Transliterated names have no Han surname; each part is read as written.
        return tuple(s for part in name.split(MIDDLE_DOT) for s in _part_syllables(part))
    if not _HAN.match(name):
        return _part_syllables(name)
    for size in range(min(_LONGEST_SURNAME, len(name)), 0, -1):
        reading = SURNAME_READINGS.get(name[:size])
        if reading is not None:
            return reading + _part_syllables(name[size:]) if size < len(name) else reading
    # A surname with its everyday reading: read it alone so it never joins a phrase with the given name.
    return _part_syllables(name[0]) + _part_syllables(name[1:]) if len(name) > 1 else _part_syllables(name)


def pinyin_syllables(name: str) -> tuple[str, ...]:
    """Toneless lower-case pinyin syllables of a name, the leading surname read as a surname."""
    return _syllables_of_normalised(normalise_name(name))


def pinyin_key(name: str) -> str:
    """Pinyin syllables joined by single spaces (boundaries kept: "xi an" is not "xian"),
    e.g. 曾国藩 -> "zeng guo fan", 买买提·艾力 -> "mai mai ti ai li"."""
    return " ".join(pinyin_syllables(name))


def initials_key(name: str) -> str:
    """First letter of each pinyin syllable, e.g. 单雄信 -> "sxx"; for blocking."""
    return "".join(s[0] for s in pinyin_syllables(name))


def standardise_names(values: pd.Series) -> pd.DataFrame:
    """Raw name cells to name_norm, name_pinyin, name_initials; same index; each distinct value
    is worked out once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    norms, pinyins, initials = [], [], []
    for raw in uniques:
        norm = normalise_name(raw)
        syllables = _syllables_of_normalised(norm)
        norms.append(norm)
        pinyins.append(" ".join(syllables))
        initials.append("".join(s[0] for s in syllables))
    columns = {}
    for column, texts in (("name_norm", norms), ("name_pinyin", pinyins), ("name_initials", initials)):
        lookup = np.array([*texts, ""], dtype=object)  # code -1 (missing) picks the trailing ""
        columns[column] = lookup[codes]
    return pd.DataFrame(columns, index=values.index)
