"""Splitting decoded CSV text into records so that one broken row cannot swallow the rest of the file.

A quote left open on one line makes every CSV parser read on to the next quote, or to the end of
the file, as one field: thousands of rows become one name. Such a runaway field is recognised
(a line break inside it followed by a whole record's worth of delimiters, or by nothing, or a field
longer than any real value); its line alone is read again without quote handling and reading
resumes on the next line.
"""

from __future__ import annotations

import csv
import io
import re

import pandas as pd

__all__ = ["MAX_BROKEN_ROWS", "MAX_FIELD_CHARS", "NUL_MARK", "read_records"]

MAX_FIELD_CHARS = 2_000  # longer than any name, address or remark a department delivers
MAX_BROKEN_ROWS = 1_000  # past this the file is not a CSV with some broken rows, but no CSV at all
# NUL stands in for itself through the parsers as a noncharacter: pandas' C parser ends a field at NUL.
NUL_MARK = "\uffff"
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class TooManyBrokenRows(Exception):
    """More rows with an open quote than MAX_BROKEN_ROWS."""


def read_records(text: str) -> tuple[pd.DataFrame, list[int]]:
    """Every record of the text as a frame of str cells (columns 0..n-1), and the 0-based positions of
    records that were re-read line by line because a quote in them was never closed."""
    parts: list[pd.DataFrame] = []
    broken_rows: list[int] = []
    done = 0  # records read so far
    while True:
        frame, broken = _parse(text)
        if broken is None and '"' in text:
            broken = _first_runaway(frame, text)
        if broken is None:
            parts.append(frame)
            break
        if len(broken_rows) >= MAX_BROKEN_ROWS:
            raise TooManyBrokenRows
        line, rest = _line_at(text, broken + _breaks_inside(frame.iloc[:broken]))
        parts.extend([frame.iloc[:broken], pd.DataFrame([_unquoted(line)], dtype=object)])
        broken_rows.append(done + broken)
        done += broken + 1
        text = rest
        if not text:
            break
    records = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    records.columns = range(records.shape[1])
    return records, broken_rows


def _parse(text: str) -> tuple[pd.DataFrame, int | None]:
    """The records of the text, and the position of a record csv.reader could not finish (its field
    grew past csv's field size limit), after which nothing was read."""
    # The C parser is fast but gives up on ragged or cut-off files; csv.reader gives up only on a
    # field past its size limit: a runaway quote.
    if not text:
        return pd.DataFrame(dtype=object), None
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            header=None,
            dtype=object,
            keep_default_na=False,
            skip_blank_lines=False,
            engine="c",
        )
        return frame, None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        rows: list[list[str]] = []
        try:
            rows.extend(csv.reader(io.StringIO(text)))
        except csv.Error:
            return pd.DataFrame(rows, dtype=object), len(rows)
        return pd.DataFrame(rows, dtype=object), None


def _first_runaway(frame: pd.DataFrame, text: str) -> int | None:
    """Position of the first record with a runaway field, or None."""
    import pyarrow as pa
    import pyarrow.compute as pc

    width = frame.shape[1]
    # A swallowed line brings its delimiters into the field: a record's worth of them after a line
    # break is not a value that happens to span two lines (an address does not hold six commas).
    commas = max(1, width - 1)
    pattern = rf"[\r\n](?:[^,\r\n]*,){{{commas}}}"
    first = None
    for column in frame.columns:
        values = pa.array(frame[column], type=pa.string(), from_pandas=True)
        broken = pc.or_(
            pc.match_substring_regex(values, pattern),
            pc.and_(pc.greater(pc.utf8_length(values), MAX_FIELD_CHARS), pc.match_substring_regex(values, r"[\r\n]")),
        )
        hits = pc.indices_nonzero(pc.fill_null(broken, False))
        if len(hits):
            at = hits[0].as_py()
            first = at if first is None else min(first, at)
    if first is None and len(frame) and _runs_to_the_end(frame.iloc[-1], text):
        first = len(frame) - 1
    return first


def _runs_to_the_end(record: pd.Series, text: str) -> bool:
    """Whether a field of the last record took in a line break and everything after it: a quote
    opened on the last line and never closed."""
    # A field that merely ends in a line break (Alt+Enter at the end of a cell) is followed in the
    # text by its closing quote; only an unclosed one is the text's very tail.
    for cell in record.dropna():
        value = str(cell)
        if re.search(r"[\r\n]", value) and text.endswith(value.replace('"', '""')):
            return True
    return False


def _breaks_inside(frame: pd.DataFrame) -> int:
    """Line breaks inside the fields of these records (records that span lines)."""
    total = 0
    for column in frame.columns:
        text = frame[column].dropna()
        if len(text):
            total += int(text.astype(str).str.count(r"\r\n|\r|\n").sum())
    return total


def _line_at(text: str, number: int) -> tuple[str, str]:
    """The 0-based physical line `number` of the text (without its line break), and the text after it."""
    start = 0
    for index, match in enumerate(_LINE_BREAK.finditer(text)):
        if index == number:
            return text[start : match.start()], text[match.end() :]
        start = match.end()
    return text[start:], ""


def _unquoted(line: str) -> list[str]:
    return next(csv.reader([line], quoting=csv.QUOTE_NONE), [])
