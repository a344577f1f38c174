"""`bidui serve`: the monitoring site on this store, for the office network."""

from __future__ import annotations

import typer

from pipelines.cli.common import console
from pipelines.cli.common import friendly_errors as _friendly_errors
from pipelines.settings import load_settings

__all__ = ["serve"]


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="监听地址（办公网内其他电脑访问时用 0.0.0.0）"),
    port: int = typer.Option(8000, "--port", help="端口"),
    workers: int = typer.Option(1, "--workers", help="工作进程数（PostgreSQL 库时可多于 1）"),
) -> None:
    """启动监测网站（问题趋势、线索核实、台账上传下载、候选配对审核），账号即 bidui user 的用户。"""
    import uvicorn

    with _friendly_errors():
        settings = load_settings()
        from pipelines.web import create_app

        create_app(settings)  # the schema migrated and the site's key made once, before any worker starts
    console.print(
        f"监测网站：http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/（Ctrl+C 停止）", highlight=False
    )
    uvicorn.run(
        "pipelines.web.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=True,
        log_level="warning",
    )
