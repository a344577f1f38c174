"""The night's validation report: an offline Chinese HTML page, a JSON summary and a findings CSV."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pandas as pd

from pipelines import store
from pipelines.access.scope import mask_id
from pipelines.catalog.feeds import load_feeds
from pipelines.reports.render import render
from pipelines.store.snapshots import FINDING_COLUMNS

__all__ = [
    "CHECK_TEXT",
    "SAMPLE_PER_FEED",
    "build_findings_csv",
    "build_report_html",
    "build_report_json",
    "status_text",
    "write_validation_report",
]

SAMPLE_PER_FEED = 200
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
    """Findings with ID values masked (pipelines.access.scope.mask_id), in the value and wherever the
    message repeats them."""
    out = findings.copy()
    pairs = pd.MultiIndex.from_arrays([out["feed"].astype(str), out["field"].astype(str)])
    flagged = pairs.isin(list(id_fields)) & out["value"].notna().to_numpy() & (out["value"] != "").to_numpy()
    if flagged.any():
        raw = out.loc[flagged, "value"].astype(str)
        masked = raw.map(mask_id)
        out.loc[flagged, "message"] = [
            m.replace(r, k) if isinstance(m, str) else m for m, r, k in zip(out.loc[flagged, "message"], raw, masked)
        ]
        out.loc[flagged, "value"] = masked
    return out


def _normalised(findings: pd.DataFrame | None) -> pd.DataFrame:
    if findings is None or findings.empty:
        return pd.DataFrame(columns=FINDING_COLUMNS, dtype=object)
    body = findings.reindex(columns=FINDING_COLUMNS).astype(object)
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
        {k: (int(v) if k == "row_no" and v is not None else v) for k, v in zip(FINDING_COLUMNS, row)}
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


def _summary_rows(feeds: list[dict], errors: dict[str, int], warnings: dict[str, int]) -> list[dict]:
    def shown(value: object) -> object:
        return "-" if value is None or value == "" else value

    return [
        {
            "css": f"status-{feed.get('status')}",
            "title": feed.get("title") or feed.get("feed"),
            "status": status_text(feed),
            "source_file": shown(feed.get("source_file")),
            "encoding": shown(feed.get("encoding")),
            "rows": shown(feed.get("rows")),
            "bad_rows": shown(feed.get("bad_rows")),
            "errors": errors.get(feed.get("feed", ""), 0),
            "warnings": warnings.get(feed.get("feed", ""), 0),
            "effective_date": shown(feed.get("effective_date")),
        }
        for feed in feeds
    ]


def _count_rows(findings: pd.DataFrame, titles: dict[str, str]) -> list[dict]:
    return [
        {
            "feed": titles.get(feed, feed),
            "check": check,
            "check_text": CHECK_TEXT.get(check, check),
            "severity": severity,
            "severity_text": SEVERITY_TEXT.get(severity, severity),
            "count": n,
        }
        for feed, checks in _counts(findings).items()
        for check, by_severity in checks.items()
        for severity, n in by_severity.items()
    ]


def _samples(
    findings: pd.DataFrame, feed_order: list[str], titles: dict[str, str], headers: dict[tuple[str, str], str]
) -> list[dict]:
    present = list(dict.fromkeys([f for f in feed_order if f in set(findings["feed"])] + list(findings["feed"].unique())))
    samples = []
    for feed in present:
        rows_of_feed = findings[findings["feed"] == feed]
        # Errors first: they decide what the night can use.
        ordered = pd.concat(
            [rows_of_feed[rows_of_feed["severity"] == "error"], rows_of_feed[rows_of_feed["severity"] != "error"]]
        )
        sample = ordered.head(SAMPLE_PER_FEED)
        rows = [
            {
                "row_no": r.row_no,
                "record_key": r.record_key,
                "field": headers.get((feed, r.field), r.field),
                "check": CHECK_TEXT.get(r.check, r.check),
                "severity": r.severity,
                "severity_text": SEVERITY_TEXT.get(r.severity, r.severity),
                "value": r.value,
                "message": r.message,
            }
            for r in sample.itertuples(index=False)
        ]
        samples.append({"title": titles.get(feed, feed), "total": len(rows_of_feed), "shown": len(sample), "rows": rows})
    return samples


def build_report_html(delivery_date: str, feeds: list[dict], findings: pd.DataFrame) -> str:
    """The offline page: feed summary, finding counts, and up to SAMPLE_PER_FEED findings per feed."""
    body = _normalised(findings)
    body = _masked(body, _id_fields(body))
    titles, headers = _labels()
    titles.update({f["feed"]: f["title"] for f in feeds if f.get("title")})
    errors = body[body["severity"] == "error"].groupby("feed").size().to_dict()
    warnings = body[body["severity"] == "warning"].groupby("feed").size().to_dict()
    return render(
        "validation.html",
        title=f"数据校验报告（{delivery_date}）",
        delivery_date=delivery_date,
        generated_at=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        feeds=_summary_rows(feeds, errors, warnings),
        counts=_count_rows(body, titles),
        samples=_samples(body, [f["feed"] for f in feeds], titles, headers),
    )


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
    with store.staged_files() as stage:
        for name, data in contents.values():
            stage(out_dir / name).write_bytes(data)
    return {kind: out_dir / name for kind, (name, _) in contents.items()}
