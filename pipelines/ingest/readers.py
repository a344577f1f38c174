"""Reading one delivered file into raw cells: encodings, xlsx, title rows, header aliases."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from pipelines.catalog.feeds import FeedSpec, normalise_header
from pipelines.ingest.csv_records import MAX_BROKEN_ROWS, MAX_FIELD_CHARS, NUL_MARK, TooManyBrokenRows, read_records
from pipelines.store import WorkbookUnreadable, read_sheets

__all__ = ["FeedRejected", "find_header", "read_feed_file"]

HEADER_SCAN_ROWS = 10
ZIP_MAGIC = b"PK\x03\x04"
XLSX_MAX_ROWS = 1_048_576  # all of Excel's rows: a feed may fill a sheet
XLSX_MAX_COLS = 200  # feeds have a few dozen columns; unknown ones are kept up to here
# Bytes no text file holds (NUL and the C0 controls but tab, line breaks, form feed and escape).
_CONTROL_BYTES = bytes([*range(0, 9), 11, *range(14, 27), *range(28, 32)])
BINARY_SHARE = 0.05  # one NUL in a field is a damaged row; this share of control bytes is not text


class FeedRejected(Exception):
    """A file that cannot be used at all; the message is Chinese and shown to the data officer."""


@dataclass
class RawTable:
    """A file's data rows mapped onto canonical fields, values still as delivered (str or None)."""

    frame: pd.DataFrame  # row_no, one column per found field, `extra` (JSON text) when unknown columns exist
    encoding: str
    header_row: int  # 1-based row number of the header line
    mapped: dict[str, str]  # delivered header -> field
    unknown_columns: list[str]
    notes: list[dict] = field(default_factory=list)  # ingest findings: check, severity, message, row_no, field, value


def read_feed_file(path: Path, spec: FeedSpec, max_bytes: int) -> RawTable:
    """Read a .csv or .xlsx feed file, or raise FeedRejected saying why it is unusable."""
    size = path.stat().st_size
    if size == 0:
        raise FeedRejected("文件为空（0 字节）")
    if size > max_bytes:
        raise FeedRejected(f"文件过大（{size / 1024**3:.1f} GB），超过上限，未读取")
    with open(path, "rb") as fh:
        head = fh.read(4)
    notes: list[dict] = []
    if head == ZIP_MAGIC:
        if path.suffix.lower() != ".xlsx":
            notes.append(_note("file_format", "warning", f"文件扩展名为 {path.suffix}，但内容是 Excel 工作簿，已按 Excel 读取"))
        raw, encoding = _read_xlsx(path, notes), "xlsx"
    elif path.suffix.lower() == ".xlsx":
        raise FeedRejected("文件扩展名为 .xlsx，但内容不是有效的 Excel 工作簿")
    else:
        raw, encoding, more = _read_csv(path.read_bytes(), spec)
        notes.extend(more)
    return _map_rows(raw, spec, encoding, notes)


# --- xlsx -----------------------------------------------------------------------------------


def _read_xlsx(path: Path, notes: list[dict]) -> pd.DataFrame:
    try:
        [sheet] = read_sheets(path, max_rows=XLSX_MAX_ROWS, max_cols=XLSX_MAX_COLS, first_only=True)
    except WorkbookUnreadable as exc:
        raise FeedRejected(str(exc)) from exc
    notes.extend(_note("far_cells", "warning", text) for text in sheet.ignored)
    return pd.DataFrame([[_cell_text(v) for v in row] for row in sheet.rows], dtype=object)


def _cell_text(value: object) -> str | None:
    """One xlsx cell as text. Integral numbers lose their '.0'; an 18-digit number Excel already
    rounded keeps its scientific form, so validation marks it invalid instead of guessing."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value).upper() if abs(value) >= 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


# --- csv ------------------------------------------------------------------------------------


def _read_csv(data: bytes, spec: FeedSpec) -> tuple[pd.DataFrame, str, list[dict]]:
    sample = data[:65536]
    if len(sample) - len(sample.translate(None, _CONTROL_BYTES)) > BINARY_SHARE * len(sample):
        raise FeedRejected("文件内容不是文本（疑似二进制文件或已损坏），无法按 CSV 读取")
    notes: list[dict] = []
    best: tuple[int, str, str] | None = None
    for encoding, text in _decodings(data):
        score = find_header(_first_rows(text), spec)[1]
        if best is None or score > best[0]:
            best = (score, encoding, text)
        if score and encoding != "混合编码":
            break
    assert best is not None  # _decodings always yields its mixed-encoding fallback
    score, encoding, text = best
    if encoding == "混合编码":
        notes.append(_note("encoding", "warning", "文件编码不一致（部分行为 UTF-8，部分行为 GB18030），已逐行识别"))
    if "\ufeff" in text:  # files joined end to end carry the second file's BOM into a record key
        text = text.replace("\ufeff", "")
        notes.append(_note("bom", "warning", "文件中间含有字节顺序标记（BOM，多见于拼接的文件），已删除"))
    raw = _csv_frame(text.replace("\x00", NUL_MARK), notes)
    if not data.endswith((b"\n", b"\r")) and len(raw) > 1 and raw.iloc[-1].isna().sum() > raw.iloc[0].isna().sum():
        notes.append(_note("truncated", "warning", "文件末行不完整（文件可能被截断），该行已保留并逐项检查", row_no=len(raw)))
    return raw, encoding, notes


def _decodings(data: bytes) -> Iterator[tuple[str, str]]:
    """Candidate decodings, most likely first; the header decides which one is right."""
    if data.startswith(b"\xef\xbb\xbf"):
        yield "UTF-8 (BOM)", data[3:].decode("utf-8", errors="replace")
        return
    for encoding, codec in (("UTF-8", "utf-8"), ("GB18030", "gb18030")):
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        yield encoding, text
    yield "混合编码", "".join(_decode_line(line) for line in data.splitlines(keepends=True))


def _decode_line(line: bytes) -> str:
    try:
        return line.decode("utf-8")
    except UnicodeDecodeError:
        return line.decode("gb18030", errors="replace")


def _first_rows(text: str) -> list[list]:
    head = "\n".join(text.splitlines()[:HEADER_SCAN_ROWS])
    return list(csv.reader(io.StringIO(head)))


def _csv_frame(text: str, notes: list[dict]) -> pd.DataFrame:
    try:
        raw, broken_rows = read_records(text)
    except TooManyBrokenRows as exc:
        raise FeedRejected(f"超过 {MAX_BROKEN_ROWS} 行的引号没有闭合，文件无法按 CSV 读取") from exc
    for at in broken_rows:
        message = f"第 {at + 1} 行的引号没有闭合，已按原样逐行读取该行（引号保留），请核对"
        notes.append(_note("broken_quote", "error", message, row_no=at + 1))
    return raw


# --- header ----------------------------------------------------------------------------------


def find_header(rows: list[list], spec: FeedSpec) -> tuple[int, int]:
    """(index, score) of the row naming the most known fields among the first rows; title rows above
    a header (often merged cells) are skipped."""
    lookup = spec.header_lookup()
    best_index, best_score = 0, 0
    for index, row in enumerate(rows[:HEADER_SCAN_ROWS]):
        score = len({lookup[h] for h in (normalise_header(c) for c in row if c) if h in lookup})
        if score > best_score:
            best_index, best_score = index, score
    return best_index, best_score


def _map_rows(raw: pd.DataFrame, spec: FeedSpec, encoding: str, notes: list[dict]) -> RawTable:
    if raw.empty:
        raise FeedRejected("文件没有任何内容")
    raw = raw.astype(object).where(raw.notna(), None)
    raw.columns = range(raw.shape[1])
    head = raw.head(HEADER_SCAN_ROWS).values.tolist()
    header_index, score = find_header(head, spec)
    if score == 0:
        raise FeedRejected(f"无法识别表头：前 {HEADER_SCAN_ROWS} 行中没有任何一列与《{spec.title}》的字段名或别名相符")
    header = [str(c).strip() if c is not None else "" for c in head[header_index]]
    above = head[header_index - 1] if header_index > 0 else []
    mapped, names, unknown = _map_header(header, above, spec, notes)
    if spec.key not in mapped.values():
        key = spec.key_field
        raise FeedRejected(f"缺少关键列“{key.header}”（或其别名 {'、'.join(key.aliases) or '无'}），无法识别每条记录")
    body = raw.iloc[header_index + 1 :].reset_index(drop=True)
    row_no = pd.RangeIndex(header_index + 2, header_index + 2 + len(body))
    named = {**unknown, **mapped}
    body = pd.DataFrame(
        {i: _clean_column(body[i], row_no, named.get(i, f"第{i + 1}列"), notes) for i in body.columns}, index=body.index
    )
    blank = body.isna().all(axis=1).to_numpy()
    if blank.any():
        notes.append(_note("blank_rows", "warning", f"跳过空行 {int(blank.sum())} 行"))
    repeated = _repeated_header(body, mapped, header, spec) & ~blank
    for at in np.flatnonzero(repeated):
        notes.append(_note("repeated_header", "warning", f"第 {row_no[at]} 行重复了表头，已跳过", row_no=int(row_no[at])))
    body, row_no = body[~blank & ~repeated], row_no[~blank & ~repeated]
    frame = pd.DataFrame({"row_no": row_no}, index=body.index)
    for i, fieldname in mapped.items():
        frame[fieldname] = body[i]
    extras = {text: body[i] for i, text in unknown.items()}
    extras.update({f"第{i + 1}列": body[i] for i in range(len(header), body.shape[1])})
    if extras:
        frame["extra"] = _extras_json(pd.DataFrame(extras))
    if header_index > 0:
        notes.append(_note("title_rows", "warning", f"表头在第 {header_index + 1} 行，上方的标题行已跳过"))
    if frame.empty:
        raise FeedRejected("文件只有表头，没有数据行")
    return RawTable(frame.reset_index(drop=True), encoding, header_index + 1, names, list(unknown.values()), notes)


def _map_header(
    header: list[str], above: list[object], spec: FeedSpec, notes: list[dict]
) -> tuple[dict[int, str], dict[str, str], dict[int, str]]:
    """(column -> field, delivered header -> field, column -> unknown header) for one header row."""
    lookup = spec.header_lookup()
    mapped: dict[int, str] = {}
    names: dict[str, str] = {}
    unknown: dict[int, str] = {}
    for i, cell in enumerate(header):
        text = cell
        if not text and i < len(above) and above[i]:
            text = str(above[i]).strip()  # a header cell merged over two rows keeps its text in the upper one
        fieldname = lookup.get(normalise_header(text))
        if fieldname and fieldname not in mapped.values():
            mapped[i], names[text] = fieldname, fieldname
        elif fieldname:
            notes.append(_note("duplicate_column", "warning", f"列“{text}”与已识别的列重复（均对应 {fieldname}），已忽略"))
            unknown[i] = text
        elif text:
            unknown[i] = text
    return mapped, names, unknown


def _clean_column(column: pd.Series, row_no: pd.RangeIndex, name: str, notes: list[dict]) -> pd.Series:
    """Trim Unicode whitespace (incl. the full-width space), turn empty cells into None, drop NUL
    characters and cut values longer than MAX_FIELD_CHARS, noting each row where that happened."""
    import pyarrow as pa
    import pyarrow.compute as pc

    # Arrow's kernels trim a million cells in milliseconds; pandas' .str does it one Python call each.
    values = column.map(lambda v: v if isinstance(v, str) else str(v), na_action="ignore") if not _all_text(column) else column
    cells = pa.array(values, type=pa.string(), from_pandas=True)
    nul = _positions(pc.match_substring(cells, NUL_MARK))
    if len(nul):
        cells = pc.replace_substring(cells, NUL_MARK, "")
        for at in nul:
            notes.append(_note("nul_byte", "warning", "该字段含有空字符（NUL，文件可能已损坏），已删除", int(row_no[at]), name))
    trimmed = pc.utf8_trim_whitespace(cells)
    lengths = pc.utf8_length(trimmed)
    for at in _positions(pc.greater(lengths, MAX_FIELD_CHARS)):
        message = f"该字段长 {lengths[at].as_py()} 个字符，超过上限 {MAX_FIELD_CHARS}，已截断"
        notes.append(_note("field_too_long", "error", message, int(row_no[at]), name))
    trimmed = pc.utf8_slice_codeunits(trimmed, 0, MAX_FIELD_CHARS)
    trimmed = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
    return pd.Series(trimmed.to_numpy(zero_copy_only=False), index=column.index, dtype=object)


def _positions(mask) -> np.ndarray:
    import pyarrow.compute as pc

    return pc.indices_nonzero(pc.fill_null(mask, False)).to_numpy()


def _repeated_header(body: pd.DataFrame, mapped: dict[int, str], header: list[str], spec: FeedSpec) -> np.ndarray:
    """Rows that repeat the header (each filled cell names its own column's field): files joined end
    to end, or a header row copied into the data. Such a row is not a person called “姓名”."""
    lookup = spec.header_lookup()
    key_column = next(i for i, f in mapped.items() if f == spec.key)
    key = spec.key_field
    # Only rows whose key cell reads as a header are looked at closely; a real key never does.
    names = {header[key_column], key.header, *key.aliases}
    candidates = np.flatnonzero(body[key_column].isin(names).to_numpy())
    repeated = np.zeros(len(body), dtype=bool)
    for at in candidates:
        cells = [(body.iat[at, body.columns.get_loc(i)], f) for i, f in mapped.items()]
        filled = [(v, f) for v, f in cells if v is not None]
        repeated[at] = len(filled) >= min(2, len(mapped)) and all(lookup.get(normalise_header(v)) == f for v, f in filled)
    return repeated


def _all_text(column: pd.Series) -> bool:
    return pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty")


def _extras_json(extras: pd.DataFrame) -> pd.Series:
    """Unknown columns are kept, as one JSON object per row (None where they are all empty)."""
    out = pd.Series(None, index=extras.index, dtype=object)
    filled = extras.notna().any(axis=1)
    if filled.any():
        columns = list(extras.columns)
        out[filled] = [
            json.dumps({c: v for c, v in zip(columns, row) if v is not None}, ensure_ascii=False)
            for row in extras[filled].itertuples(index=False, name=None)
        ]
    return out


def _note(
    check: str, severity: str, message: str, row_no: int | None = None, field: str | None = None, value: str | None = None
) -> dict:
    return {"check": check, "severity": severity, "message": message, "row_no": row_no, "field": field, "value": value}
