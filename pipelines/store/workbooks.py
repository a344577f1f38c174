"""Reading xlsx workbooks within bounds: a stray far-away cell never makes the reader allocate the
whole sheet.

calamine allocates rows × columns of a sheet's used range in Rust before Python sees a value, so one
cell at A1048576 or XFD3 costs gigabytes (or aborts the process). Each sheet's XML is first scanned
for the cell references that hold a value; cells beyond the bounds, or cut off from the data by a
wide band of empty rows, are cut out of the XML, and only then does calamine read the sheet.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import numpy as np

from pipelines.errors import BiduiError

__all__ = ["SheetCells", "WorkbookUnreadable", "read_sheets"]

# Rows further than this below the last data row are not part of the table: a stray cell typed at
# the bottom of the sheet, not data (real tables have no band of ten thousand empty rows).
ROW_GAP = 10_000
# A sheet's XML beyond this is refused rather than inflated into memory (a zip bomb, or a sheet far
# larger than any feed or ledger).
MAX_SHEET_XML_BYTES = 2 * 1024**3
NAMED_CELLS = 5  # far-away cells named one by one in the notes; the rest are counted

_SHEET_DATA = re.compile(rb"<(\w+:)?sheetData\b")


class WorkbookUnreadable(BiduiError):
    """An xlsx file that cannot be read at all; the message is Chinese."""


@dataclass
class SheetCells:
    """One sheet's cells from A1 on, trailing empty rows and columns dropped; empty cells are None."""

    name: str
    rows: list[list[object]]
    ignored: list[str] = field(default_factory=list)  # Chinese notes on cells left out


def read_sheets(path: Path, *, max_rows: int, max_cols: int, first_only: bool = False) -> list[SheetCells]:
    """The sheets of an xlsx file (only the first when `first_only`), each bounded to `max_rows` rows
    and `max_cols` columns: cells outside, or far below the data, are never read and are named in
    `ignored`. Raises WorkbookUnreadable with a Chinese message for a damaged or non-xlsx file."""
    from python_calamine import CalamineWorkbook

    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            parts = _sheet_parts(archive)
            wanted = parts[:1] if first_only else parts
            cuts = {part: _scan(archive, part, max_rows, max_cols) for _, part in wanted if part}
            if any(cut.spans for cut in cuts.values()):
                book = CalamineWorkbook.from_filelike(_rewritten(archive, cuts))
            else:
                book = CalamineWorkbook.from_path(str(path))
        names = book.sheet_names
        sheets = []
        for index, (name, part) in enumerate(wanted):
            try:
                values = book.get_sheet_by_name(name if name in names else names[index]).to_python(skip_empty_area=False)
            except Exception:
                if part:
                    raise
                # Not a worksheet (a chart sheet): no cells to read, and no reason to refuse the file.
                sheets.append(SheetCells(name, [], [f"工作表“{name}”不是数据表（如图表），已跳过"]))
                continue
            cut = cuts.get(part) if part else None
            sheets.append(_bounded(name, values, max_rows, max_cols, cut.notes if cut else []))
        return sheets
    except WorkbookUnreadable:
        raise
    except Exception as exc:  # zipfile, XML and calamine raise several types for damaged workbooks
        # Said in Chinese alone (it reaches county staff on the site); what the library said stays
        # on the exception's chain, for the log.
        raise WorkbookUnreadable(f"Excel 文件“{path.name}”无法打开（文件可能已损坏，或不是 .xlsx 格式）") from exc


# --- locating the sheets --------------------------------------------------------------------


def _sheet_parts(archive: zipfile.ZipFile) -> list[tuple[str, str | None]]:
    """(sheet name, its XML part in the zip, or None when it is not a plain worksheet), in book order."""
    book = ElementTree.fromstring(archive.read("xl/workbook.xml"))
    try:
        rels = ElementTree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    except KeyError:
        rels = ElementTree.Element("Relationships")
    # Matched by local name: Strict OOXML files name the same elements in other namespaces.
    targets = {r.get("Id"): r.get("Target", "") for r in rels.iter() if _local(r.tag) == "Relationship"}
    present = set(archive.namelist())
    parts = []
    for sheet in (e for e in book.iter() if _local(e.tag) == "sheet"):
        target = targets.get(next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None), "")
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(posixpath.join("xl", target))
        parts.append((sheet.get("name", ""), part if part in present else None))
    if not parts:
        raise WorkbookUnreadable("Excel 文件中没有任何工作表")
    return parts


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# --- finding far-away cells -----------------------------------------------------------------


@dataclass
class _Cut:
    spans: list[tuple[int, int]]  # byte ranges of the sheet XML to leave out
    notes: list[str]


def _scan(archive: zipfile.ZipFile, part: str, max_rows: int, max_cols: int) -> _Cut:
    if archive.getinfo(part).file_size > MAX_SHEET_XML_BYTES:
        size = archive.getinfo(part).file_size / 1024**3
        raise WorkbookUnreadable(f"工作表内容过大（解压后 {size:.1f} GB），超过上限，未读取")
    xml = archive.read(part)
    found = _SHEET_DATA.search(xml)
    prefix = found.group(1) or b"" if found else b""
    cells = re.compile(rb"<" + re.escape(prefix) + rb"c\b[^>]*?\sr=\"([A-Z]{1,3})(\d+)\"[^>]*?(/?)>")
    spans: list[tuple[int, int]] = []
    far: list[tuple[int, str]] = []  # (where in the XML, cell reference): named in the sheet's order
    first_far = _first_far_row(xml, prefix, max_rows)
    if first_far is not None:
        # Rows come in ascending order, so everything from the first far row to the end of the
        # sheet's data is far too: one span, whose few cells are named.
        stop = xml.index(b"</" + prefix + b"sheetData>", first_far)
        far.extend(_valued_refs(cells, xml, first_far, stop))
        if far:
            spans.append((first_far, stop))
    spans.extend(_far_columns(cells, xml, max_cols, spans, far))
    return _Cut(sorted(spans), _notes([ref for _, ref in sorted(far)], max_rows, max_cols))


def _first_far_row(xml: bytes, prefix: bytes, max_rows: int) -> int | None:
    """Where the first row beyond `max_rows`, or ROW_GAP rows below the previous row with cells,
    starts in the XML; None when every row is near the data."""
    # One pass in C (a Python loop over 200,000 rows would cost more), first for rows written as
    # Excel writes them, reference first, which a literal start finds fast; else for any order.
    found = re.findall(rb"<" + re.escape(prefix) + rb'row r="(\d+)"([^>]*)>', xml)
    if len(found) != xml.count(b"<" + prefix + b"row"):
        found = re.findall(rb"<" + re.escape(prefix) + rb'row\b[^>]*?\sr="(\d+)"([^>]*)>', xml)
    if not found:
        return None
    numbers = np.array([n for n, _ in found]).astype(np.int64)
    filled = np.array([not rest.endswith(b"/") for _, rest in found])
    previous = np.maximum.accumulate(np.where(filled, numbers, 0))
    previous = np.concatenate([[0], previous[:-1]])
    far = (numbers > max_rows) | ((previous > 0) & (numbers > previous + ROW_GAP))
    if not far.any():
        return None
    number = int(numbers[np.argmax(far)])
    match = re.compile(rb"<" + re.escape(prefix) + rb"row\b[^>]*?\sr=\"%d\"" % number).search(xml)
    return match.start() if match else None


def _valued_refs(cells: re.Pattern, xml: bytes, start: int, stop: int) -> list[tuple[int, str]]:
    return [(m.start(), _ref(m)) for m in cells.finditer(xml, start, stop) if not m.group(3)]


def _ref(match: re.Match) -> str:
    return match.group(1).decode() + match.group(2).decode()


def _far_columns(
    cells: re.Pattern, xml: bytes, max_cols: int, cut_rows: list[tuple[int, int]], far: list[tuple[int, str]]
) -> list[tuple[int, int]]:
    """Spans of the cells right of column `max_cols` (in rows not already cut out)."""
    width = len(column_letters(max_cols + 1))
    # Only references with at least as many letters as the first column beyond can lie beyond it, so
    # a sheet of a few dozen columns has none; a pattern that starts with a literal is searched for
    # twenty times faster than one that starts at every "<", and the element is checked afterwards.
    wide = re.compile(rb' r="([A-Z]{%d,3})(\d+)"' % width)
    spans = []
    for match in wide.finditer(xml):
        if column_number(match.group(1).decode()) <= max_cols:
            continue
        opened = xml.rindex(b"<", 0, match.start())
        cell = cells.match(xml, opened)
        if cell is None or cell.end() <= match.start() or any(a <= opened < b for a, b in cut_rows):
            continue  # not a cell's own reference (a merged range, a formula), or its row is cut already
        if cell.group(3):
            continue  # an empty styled cell: calamine leaves it out of the range anyway
        spans.append((opened, _cell_end(xml, cell.end())))
        far.append((opened, _ref(cell)))
    return spans


def _cell_end(xml: bytes, after_open: int) -> int:
    """End of the element opened just before `after_open`: its own closing tag, found by name."""
    open_start = xml.rindex(b"<", 0, after_open)
    name = re.match(rb"<([\w:]+)", xml[open_start:after_open]).group(1)  # type: ignore[union-attr]
    return xml.index(b"</" + name + b">", after_open) + len(name) + 3


def _notes(far: list[str], max_rows: int, max_cols: int) -> list[str]:
    notes = [f"工作表在 {ref} 处有远离数据区的单元格，已忽略" for ref in far[:NAMED_CELLS]]
    if len(far) > NAMED_CELLS:
        notes.append(
            f"另有 {len(far) - NAMED_CELLS} 个远离数据区的单元格（超出 {max_rows} 行 × {max_cols} 列或远离数据），已忽略"
        )
    return notes


def _rewritten(archive: zipfile.ZipFile, cuts: dict[str, _Cut]) -> io.BytesIO:
    """The workbook again, in memory, with the far-away cells cut out of the sheets' XML."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as copy:
        for info in archive.infolist():
            data = archive.read(info.filename)
            cut = cuts.get(info.filename)
            if cut and cut.spans:
                data = _without(data, cut.spans)
            copy.writestr(info.filename, data)
    out.seek(0)
    return out


def _without(xml: bytes, spans: list[tuple[int, int]]) -> bytes:
    kept, position = [], 0
    for start, stop in spans:
        if start >= position:
            kept.append(xml[position:start])
            position = stop
    kept.append(xml[position:])
    # calamine reads the dimension only as a hint, but a stale one should not outlive the cut.
    return re.sub(rb"<(\w+:)?dimension\b[^>]*/>", b"", b"".join(kept), count=1)


# --- the values -----------------------------------------------------------------------------


def _bounded(name: str, values: Sequence[Sequence[object]], max_rows: int, max_cols: int, notes: list[str]) -> SheetCells:
    """Empty cells as None, the bounds applied once more (a sheet whose XML carries no cell references
    is positioned by calamine alone), trailing empty rows and columns dropped."""
    # dict.get through map runs in C: a Python-level test per cell costs seconds on 200,000 rows.
    empty_as_none: dict[object, object] = {"": None}
    rows: list[list[object]] = [list(map(empty_as_none.get, row, row)) for row in values[:max_rows]]
    if len(values) > max_rows or (rows and len(rows[0]) > max_cols):
        notes = [*notes, f"工作表超出 {max_rows} 行 × {max_cols} 列的部分已忽略"]
        rows = [row[:max_cols] for row in rows]
    # calamine's range already ends at the last filled cell, unless the bounds cut into it.
    while rows and all(v is None for v in rows[-1]):
        rows.pop()
    width = max((_last_filled(row) for row in rows[-1:]), default=0)
    if rows and width < len(rows[0]):
        width = max(_last_filled(row) for row in rows)
        rows = [row[:width] for row in rows]
    return SheetCells(name, rows, notes)


def _last_filled(row: Sequence[object]) -> int:
    for index in range(len(row), 0, -1):
        if row[index - 1] is not None:
            return index
    return 0


def column_letters(number: int) -> str:
    """1 → A, 27 → AA, 16384 → XFD."""
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: str) -> int:
    """A → 1, AA → 27, XFD → 16384."""
    number = 0
    for char in letters:
        number = number * 26 + ord(char) - 64
    return number
