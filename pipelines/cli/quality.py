"""Placeholder (filled in by the documents work): `register(app)` adds this module's command."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Nothing yet."""
