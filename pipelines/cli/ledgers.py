"""`bidui ledgers …`: issue the county ledgers (问题台账) and import the filled ones that come back.

Both act for a signed-in user (`--user NAME`, password prompted or `--password-file`), whose
region scope limits which counties can be issued and which rows of a returned ledger apply.
"""

from __future__ import annotations

from pathlib import Path

import typer

from pipelines.cli.common import PASSWORD_FILE, USER, console, parse_date_option
from pipelines.cli.common import friendly_errors as _friendly_errors
from pipelines.cli.common import signed_in_scope as _scope
from pipelines.settings import load_settings

__all__ = ["ledgers_app"]

ledgers_app = typer.Typer(help="问题台账：按县下发（Excel），导入县里交回的核实、整改、签字结果", no_args_is_help=True)


@ledgers_app.command("issue")
def issue(
    date: str | None = typer.Option(None, "--date", help="下发日期 YYYY-MM-DD（默认今天）"),
    county: list[str] | None = typer.Option(
        None, "--county", help="只下发这个县（6 位代码，可重复）；默认管辖范围内所有有待下发线索的县"
    ),
    mask_ids: bool | None = typer.Option(
        None, "--mask-ids/--full-ids", help="身份证号脱敏或完整显示（默认脱敏；--full-ids 仅限可查看完整号码的用户）"
    ),
    out_dir: Path | None = typer.Option(None, "--out-dir", help="台账存放目录（默认 数据目录/ledgers/下发日期）"),
    user: str = USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """把待下发的线索按县生成问题台账（每县一个 Excel，每个乡镇一张表），线索状态改为“已下发待核实”。"""
    from pipelines.ledgers import issue_ledgers
    from pipelines.store import connect

    with _friendly_errors():
        day = parse_date_option(date, "下发日期", default_today=True)
        settings = load_settings()
        scope = _scope(settings, user, password_file)
        results = issue_ledgers(
            connect(settings), settings, scope, day, counties=county or None, out_dir=out_dir, mask_ids=mask_ids
        )
    if not results:
        console.print(f"{day} 没有待下发的线索。", highlight=False)
        return
    for r in results:
        extra = f"，其中本次新下发 {r['issued_now']} 条" if r["issued_now"] != r["clues"] else ""
        reopened = f"，随附退回或重新打开、需重新核实的线索 {r['carried_reopened']} 条" if r["carried_reopened"] else ""
        console.print(
            f"{r['county_name']}（{r['county_code']}）：台账 {r['clues']} 条线索{extra}{reopened}，"
            f"{len(r['sheets'])} 个乡镇，身份证号{'已脱敏' if r['masked'] else '完整显示'}\n  {r['file']}",
            highlight=False,
        )
    console.print(f"共下发 {len(results)} 个县的台账。", highlight=False)


@ledgers_app.command("import")
def import_(
    file: Path = typer.Argument(..., help="县里交回的台账文件（.xlsx）"),
    user: str = USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """导入填好的台账：逐行登记核实、整改、签字；有问题的行退回，原因写在导入报告里。"""
    from pipelines.ledgers import import_ledger
    from pipelines.store import connect

    with _friendly_errors():
        settings = load_settings()
        scope = _scope(settings, user, password_file)
        result = import_ledger(connect(settings), settings, scope, file)
    console.print(
        f"台账 {file.name}：共 {result['rows']} 行，已导入 {result['applied']} 行，无变化 {result['unchanged']} 行，"
        f"未填写 {result['blank']} 行，退回 {result['rejected']} 行。",
        highlight=False,
    )
    for item in result["rejections"][:20]:
        console.print(f"  退回：“{item['sheet']}”第 {item['row']} 行 {item['clue_id']}：{item['reason']}", highlight=False)
    if len(result["rejections"]) > 20:
        console.print(f"  ……另有 {len(result['rejections']) - 20} 行退回，见导入报告。", highlight=False)
    console.print(f"导入报告：{result['report']}", highlight=False)
