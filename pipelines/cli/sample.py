"""`bidui sample`: draw a county's cross-check sample (交叉检查抽样) by Anhui's 2019 scheme, write it as
a workbook with a printable HTML + PDF beside it, and keep it in the store for the site. The data
officer draws any county's; a county user its own."""

from __future__ import annotations

from pathlib import Path

import typer

from pipelines.cli.common import PASSWORD_FILE, USER, console, friendly_errors, parse_date_option, sign_in
from pipelines.settings import load_settings

__all__ = ["register", "sample"]


def sample(
    county: str = typer.Option(..., "--county", help="县（市、区）6 位代码"),
    year: int = typer.Option(..., "--year", help="考核年度 Y（例如 2026：抽 Y 年脱贫户、Y-3..Y-1 年脱贫户、Y-1..Y 年新识别户）"),
    seed: int = typer.Option(..., "--seed", help="随机种子（同一种子、同一数据日期抽出的样本相同）"),
    out: Path | None = typer.Option(
        None, "--out", help="抽样结果 Excel 文件（默认 数据目录/samples/…xlsx）；打印用的网页版和 PDF 写在它旁边"
    ),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="是否同时生成 PDF（打印版）"),
    as_of: str | None = typer.Option(None, "--as-of", help="数据日期 YYYY-MM-DD（默认库中最新一晚）"),
    distance_file: Path | None = typer.Option(
        None,
        "--distance-file",
        help="村到县城距离的 CSV（第一列 12 位区划代码，第二列公里数），代替区划参考中的“距县城公里数”",
    ),
    user: str = USER,
    password_file: Path | None = PASSWORD_FILE,
) -> None:
    """按安徽 2019 年交叉考核方案抽取 4 个村、每村 16 户（另加全部返贫户），写成 Excel 和打印版（网页、PDF），并在网站上列出。"""
    from pipelines.access import Scope
    from pipelines.documents import make_sample
    from pipelines.store import connect, read_distance_file

    with friendly_errors():
        day = parse_date_option(as_of, "数据日期") if as_of else None
        settings = load_settings()
        scope = Scope.from_user(sign_in(settings, user, password_file, ("prefecture", "county"), "抽取交叉检查样本"))
        distances = read_distance_file(distance_file) if distance_file is not None else None
        source = f"距离文件 {distance_file.name}" if distance_file is not None else None
        result = make_sample(
            connect(settings),
            settings,
            scope,
            county,
            year,
            seed,
            out=out,
            as_of=day,
            distances=distances,
            distance_source=source,
            pdf=pdf,
        )
    drawn = result["drawn"]
    console.print(
        f"{drawn['county_name']}（{county}）{year} 年交叉检查抽样：随机种子 {seed}，数据日期 {result['data_date']}，"
        f"抽样编号 {result['sample_id']}",
        highlight=False,
    )
    for v in drawn["villages"]:
        count = sum(1 for h in drawn["households"] if h["village_code"] == v["village_code"])
        console.print(f"  第 {v['number']} 村：{v['township']}{v['name']}（{v['kind']}），{count} 户", highlight=False)
    for note in drawn["fallbacks"]:
        console.print(f"  补抽：{note}", highlight=False)
    for path in result["documents"].values():
        console.print(f"已写入 {path}", highlight=False)


def register(app: typer.Typer) -> None:
    """`bidui sample`."""
    app.command("sample")(sample)
