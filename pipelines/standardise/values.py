"""Normalising delivered values by field kind, losslessly: what cannot be normalised stays as delivered,
so validation can name it and nothing is lost."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

import pandas as pd

from pipelines.catalog.feeds import FeedSpec, FieldSpec, normalise_enum
from pipelines.standardise.dates import parse_dates

__all__ = ["normalise_frame"]

_YEAR = re.compile(r"^(\d{4})(?:\.0+|年度?|年)?$")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
_REGION = re.compile(r"^(\d{12})(?:\.0+)?$")
_NUMBER_NOISE = re.compile(r"[,，\s元¥￥]")


def _fold(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def normalise_year(value: str) -> str:
    """'2017', '2017.0', '２０１７年' → '2017'; anything else unchanged."""
    match = _YEAR.match(_fold(value))
    return match.group(1) if match else value


def normalise_number(value: str, integer: bool = False) -> str:
    """'1,234.50 元' → '1234.50'; an integer field also drops a zero fraction ('3.0' → '3')."""
    text = _NUMBER_NOISE.sub("", _fold(value))
    if not _NUMBER.match(text):
        return value
    if integer and "." in text and set(text.split(".", 1)[1]) <= {"0"}:
        return text.split(".", 1)[0]
    return text


def normalise_region(value: str) -> str:
    """A 12-digit code, also when Excel turned it into '522725102203.0' or it carries spaces."""
    match = _REGION.match(re.sub(r"\s", "", _fold(value)))
    return match.group(1) if match else value


def _map_unique(column: pd.Series, fn: Callable[[str], str]) -> pd.Series:
    # Departments repeat the same few values a million times: work on each distinct value once.
    values = column.dropna().unique()
    return column.map({v: fn(v) for v in values}, na_action="ignore")


def _normalise_field(spec: FieldSpec, column: pd.Series) -> pd.Series:
    if spec.kind == "date":
        return parse_dates(column)
    if spec.kind == "year":
        return _map_unique(column, normalise_year)
    if spec.kind in ("integer", "number"):
        integer = spec.kind == "integer"
        return _map_unique(column, lambda v: normalise_number(v, integer))
    if spec.kind == "region":
        return _map_unique(column, normalise_region)
    if spec.kind == "enum":
        lookup = spec.enum_lookup()
        return _map_unique(column, lambda v: lookup.get(normalise_enum(v), v))
    return column


def normalise_frame(feed: FeedSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of `frame` with every known field normalised by its kind."""
    out = frame.copy()
    for spec in feed.fields:
        if spec.name in out.columns:
            column = _normalise_field(spec, out[spec.name])
            out[spec.name] = column.astype(object).where(column.notna(), None)
    return out
