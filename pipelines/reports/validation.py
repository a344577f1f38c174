"""The night's validation report: an offline Chinese HTML page, a JSON summary and a findings CSV."""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import re
import tempfile
from pathlib import Path
from string import Template

import pandas as pd

from pipelines.catalog.feeds import load_feeds

__all__ = [
    "CHECK_TEXT",
    "SAMPLE_PER_FEED",
    "build_findings_csv",
    "build_report_html",
    "build_report_json",
    "mask_id",
    "status_text",
    "write_validation_report",
]

TEMPLATE = Path(__file__).parent / "templates" / "validation.html"
SAMPLE_PER_FEED = 200
FINDING_KEYS = ["feed", "record_key", "row_no", "field", "check", "severity", "value", "message"]
CSV_HEADERS = {
    "feed": "数据项",
    "record_key": "记录编号",
    "field": "字段",
    "check": "检查",
    "severity": "严重程度",
    "value": "原值",
    "message": "说明",
}
_NUMBER = re.compile(r"[+-]?[0-9]+(?:\.[0-9]*)?")
SEVERITY_TEXT = {"error": "错误", "warning": "警告"}
CHECK_TEXT = {
    # ingest
    "file_rejected": "整份文件被拒收",
    "file_format": "文件格式",
    "encoding": "文件编码",
    "truncated": "文件末行不完整",
    "blank_rows": "空行",
    "title_rows": "标题行",
    "duplicate_column": "重复列",
    # validate
    "row_count": "没有数据行",
    "missing_column": "缺少列",
    "required": "必填项为空",
    "unique_key": "记录编号重复",
    "enum": "取值不在规定范围",
    "date_format": "日期无效",
    "date_range": "日期超出范围",
    "year_format": "年份无效",
    "year_range": "年份超出范围",
    "number_format": "数字无效",
    "number_range": "数值超出范围",
    "region_format": "区划代码格式错误",
    "region_known": "区划代码不在名录中",
    "region_level": "区划代码与级别不符",
    "id_format": "身份证号无效",
    "id_empty": "身份证号为空",
    "required_if": "条件必填项为空",
    "order": "先后顺序不合理",
    "credit_code_format": "信用代码格式不符",
}


def mask_id(value: object) -> object:
    """An ID number shown as its first 6 and last 4 characters; short values are hidden whole."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return value
    text = str(value)
    if not text:
        return text
    return f"{text[:6]}********{text[-4:]}" if len(text) > 10 else "********"


def status_text(feed: dict) -> str:
    """The Chinese status line of one feed, naming the snapshot the night falls back on."""
    status, message, effective = feed.get("status"), feed.get("message"), feed.get("effective_date")
    if status == "loaded":
        return "已载入"
    if status == "unchanged":
        return "与上次相同"
    if status == "absent_optional":
        return "可选数据未提供"
    # The caller's message may already name the fallback ("沿用 2026-11-19 的数据"); say it once.
    fallback = f"沿用 {effective} 的数据" if effective else "没有可沿用的数据"
    if message and ("沿用" in message):
        detail = message
    else:
        detail = "，".join(m for m in (message, fallback) if m)
    if status == "missing":
        return f"缺失，{detail}"
    if status == "rejected":
        return f"已拒收：{detail}"
    return "，".join(m for m in (str(status), message) if m)


def _id_fields(findings: pd.DataFrame) -> set[tuple[str, str]]:
    fields = {(name, f.name) for name, spec in load_feeds().items() for f in spec.fields if f.kind == "id"}
    flagged = findings[findings["check"].astype(str).str.startswith("id_")]
    fields |= set(zip(flagged["feed"], flagged["field"]))
    return fields


def _masked(findings: pd.DataFrame, id_fields: set[tuple[str, str]]) -> pd.DataFrame:
    """Findings with ID values masked (the mask_id rule, vectorised), in the value and wherever the
    message repeats them."""
    out = findings.copy()
    pairs = pd.MultiIndex.from_arrays([out["feed"].astype(str), out["field"].astype(str)])
    flagged = pairs.isin(list(id_fields)) & out["value"].notna().to_numpy() & (out["value"] != "").to_numpy()
    if flagged.any():
        raw = out.loc[flagged, "value"].astype(str)
        masked = (raw.str[:6] + "********" + raw.str[-4:]).where(raw.str.len() > 10, "********")
        out.loc[flagged, "message"] = [
            m.replace(r, k) if isinstance(m, str) else m for m, r, k in zip(out.loc[flagged, "message"], raw, masked)
        ]
        out.loc[flagged, "value"] = masked
    return out


def _normalised(findings: pd.DataFrame | None) -> pd.DataFrame:
    if findings is None or findings.empty:
        return pd.DataFrame(columns=FINDING_KEYS, dtype=object)
    body = findings.reindex(columns=FINDING_KEYS).astype(object)
    return body.where(body.notna(), None).reset_index(drop=True)


def _labels() -> tuple[dict[str, str], dict[tuple[str, str], str]]:
    specs = load_feeds()
    titles = {name: spec.title for name, spec in specs.items()}
    headers = {(name, f.name): f.header for name, spec in specs.items() for f in spec.fields}
    return titles, headers


def _counts(findings: pd.DataFrame) -> dict[str, dict[str, dict[str, int]]]:
    counts: dict[str, dict[str, dict[str, int]]] = {}
    grouped = findings.groupby(["feed", "check", "severity"], dropna=False, sort=True).size()
    for (feed, check, severity), n in grouped.items():
        counts.setdefault(str(feed), {}).setdefault(str(check), {})[str(severity)] = int(n)
    return counts


def build_report_json(delivery_date: str, feeds: list[dict], findings: pd.DataFrame) -> str:
    """The machine-readable report: the feeds as given, counts per feed × check × severity, every finding."""
    body = _normalised(findings)
    records = [
        {k: (int(v) if k == "row_no" and v is not None else v) for k, v in zip(FINDING_KEYS, row)}
        for row in body.itertuples(index=False, name=None)
    ]
    document = {"delivery_date": delivery_date, "feeds": feeds, "counts": _counts(body), "findings": records}
    # No indent: json's C encoder only runs on compact output, and a night can have a million findings.
    return json.dumps(document, ensure_ascii=False, default=str)


def _excel_text(value: object) -> object:
    """Delivered text Excel would run as a formula (=, +, -, @ not starting a number) gets a leading '."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@") and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def build_findings_csv(findings: pd.DataFrame) -> str:
    """Every finding with Chinese headers and labels, ID numbers masked (the caller adds the BOM)."""
    body = _normalised(findings)
    body = _masked(body, _id_fields(body))
    titles, headers = _labels()
    table = pd.DataFrame(
        {
            "数据项": [titles.get(f, f) for f in body["feed"]],
            "记录编号": body["record_key"].map(_excel_text),
            "字段": [headers.get((f, c), c) for f, c in zip(body["feed"], body["field"])],
            "检查": [CHECK_TEXT.get(c, c) for c in body["check"]],
            "严重程度": [SEVERITY_TEXT.get(s, s) for s in body["severity"]],
            "原值": body["value"].map(_excel_text),
            "说明": body["message"],
        },
        columns=list(CSV_HEADERS.values()),
    )
    return table.to_csv(index=False, lineterminator="\r\n")


def _e(value: object) -> str:
    return "" if value is None else html.escape(str(value))


def _table(head: list[str], rows: list[list[str]], classes: list[str] | None = None) -> str:
    """An HTML table from already-escaped cells."""
    out = ["<table>", "<tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>"]
    for i, row in enumerate(rows):
        css = f' class="{classes[i]}"' if classes else ""
        out.append(f"<tr{css}>" + "".join(row) + "</tr>")
    out.append("</table>")
    return "\n".join(out)


def _summary_section(feeds: list[dict], errors: dict[str, int], warnings: dict[str, int]) -> str:
    rows, classes = [], []
    for feed in feeds:
        name = feed.get("feed")
        rows.append(
            [
                f"<td>{_e(feed.get('title') or name)}</td>",
                f'<td class="status">{_e(status_text(feed))}</td>',
                f"<td>{_e(feed.get('source_file') or '-')}</td>",
                f"<td>{_e(feed.get('encoding') or '-')}</td>",
                f'<td class="num">{_e(feed.get("rows") if feed.get("rows") is not None else "-")}</td>',
                f'<td class="num">{_e(feed.get("bad_rows") if feed.get("bad_rows") is not None else "-")}</td>',
                f'<td class="num">{errors.get(name, 0)}</td>',
                f'<td class="num">{warnings.get(name, 0)}</td>',
                f"<td>{_e(feed.get('effective_date') or '-')}</td>",
            ]
        )
        classes.append(f"status-{_e(feed.get('status'))}")
    head = ["数据项", "状态", "文件", "编码", "行数", "有错误的行", "错误", "警告", "本次使用的数据日期"]
    return "<h2>各数据项接收情况</h2>\n" + _table(head, rows, classes)


def _counts_section(findings: pd.DataFrame, titles: dict[str, str]) -> str:
    if findings.empty:
        return "<h2>问题统计</h2>\n<p>本次未发现问题。</p>"
    rows = []
    for feed, checks in _counts(findings).items():
        for check, by_severity in checks.items():
            for severity, n in by_severity.items():
                rows.append(
                    [
                        f"<td>{_e(titles.get(feed, feed))}</td>",
                        f"<td>{_e(CHECK_TEXT.get(check, check))}（{_e(check)}）</td>",
                        f'<td class="{_e(severity)}">{_e(SEVERITY_TEXT.get(severity, severity))}</td>',
                        f'<td class="num">{n}</td>',
                    ]
                )
    return "<h2>问题统计（数据项 × 检查）</h2>\n" + _table(["数据项", "检查", "严重程度", "条数"], rows)


def _samples_section(
    findings: pd.DataFrame, feed_order: list[str], titles: dict[str, str], headers: dict[tuple[str, str], str]
) -> str:
    parts = ["<h2>问题示例</h2>"]
    present = list(dict.fromkeys([f for f in feed_order if f in set(findings["feed"])] + list(findings["feed"].unique())))
    for feed in present:
        rows_of_feed = findings[findings["feed"] == feed]
        # Errors first: they decide what the night can use.
        ordered = pd.concat(
            [rows_of_feed[rows_of_feed["severity"] == "error"], rows_of_feed[rows_of_feed["severity"] != "error"]]
        )
        sample = ordered.head(SAMPLE_PER_FEED)
        rows = [
            [
                f'<td class="num">{_e(r.row_no)}</td>',
                f"<td>{_e(r.record_key)}</td>",
                f"<td>{_e(headers.get((feed, r.field), r.field))}</td>",
                f"<td>{_e(CHECK_TEXT.get(r.check, r.check))}</td>",
                f'<td class="{_e(r.severity)}">{_e(SEVERITY_TEXT.get(r.severity, r.severity))}</td>',
                f"<td>{_e(r.value)}</td>",
                f"<td>{_e(r.message)}</td>",
            ]
            for r in sample.itertuples(index=False)
        ]
        note = f'<p class="note">共 {len(rows_of_feed)} 条，以下列出前 {len(sample)} 条（错误在前）；全部明细见 validation_findings.csv。</p>'
        parts.append(
            f"<h3>{_e(titles.get(feed, feed))}</h3>\n{note}\n"
            + _table(["行号", "记录编号", "字段", "检查", "严重程度", "原值", "说明"], rows)
        )
    if len(parts) == 1:
        parts.append("<p>本次未发现问题。</p>")
    return "\n".join(parts)


def build_report_html(delivery_date: str, feeds: list[dict], findings: pd.DataFrame) -> str:
    """The offline page: feed summary, finding counts, and up to SAMPLE_PER_FEED findings per feed."""
    body = _normalised(findings)
    body = _masked(body, _id_fields(body))
    titles, headers = _labels()
    titles.update({f["feed"]: f["title"] for f in feeds if f.get("title")})
    errors = body[body["severity"] == "error"].groupby("feed").size().to_dict()
    warnings = body[body["severity"] == "warning"].groupby("feed").size().to_dict()
    sections = [
        _summary_section(feeds, errors, warnings),
        _counts_section(body, titles),
        _samples_section(body, [f["feed"] for f in feeds], titles, headers),
    ]
    return Template(TEMPLATE.read_text(encoding="utf-8")).substitute(
        title=_e(f"数据校验报告（{delivery_date}）"),
        delivery_date=_e(delivery_date),
        generated_at=_e(dt.datetime.now().strftime("%Y-%m-%d %H:%M")),
        body="\n".join(sections),
    )


def _stage(path: Path, data: bytes) -> Path:
    """`data` in a temporary file beside `path`, flushed to disk."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temp, 0o644)  # mkstemp makes files private; the report is meant to be shared
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return Path(temp)


def write_validation_report(delivery_date: str, feeds: list[dict], findings: pd.DataFrame, out_dir: Path) -> dict[str, Path]:
    """Write validation.html, validation.json and validation_findings.csv into `out_dir`.

    Everything is built and staged in temporary files first, then renamed into place, so a failure
    leaves the previous report whole and never a half-written file.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    contents = {
        "html": ("validation.html", build_report_html(delivery_date, feeds, findings).encode("utf-8")),
        "json": ("validation.json", build_report_json(delivery_date, feeds, findings).encode("utf-8")),
        # The BOM is how Excel recognises UTF-8 when a CSV is double-clicked.
        "csv": ("validation_findings.csv", build_findings_csv(findings).encode("utf-8-sig")),
    }
    staged: dict[str, Path] = {}
    try:
        for kind, (name, data) in contents.items():
            staged[kind] = _stage(out_dir / name, data)
        paths = {}
        for kind, (name, _) in contents.items():
            os.replace(staged.pop(kind), out_dir / name)
            paths[kind] = out_dir / name
    finally:
        for temp in staged.values():
            temp.unlink(missing_ok=True)
    return paths
