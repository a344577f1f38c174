"""`bidui`: the command line, one module per command group."""

from pipelines.cli.main import app

__all__ = ["app"]
