"""Pages and printable documents from Jinja2 templates (reports/templates/), every value escaped."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jinja2

__all__ = ["TEMPLATES_DIR", "render"]

TEMPLATES_DIR = Path(__file__).parent / "templates"


@functools.cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a missing value is a bug, never an empty cell
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **context: Any) -> str:
    """`template` (a file name in reports/templates/) filled with `context`."""
    return _environment().get_template(template).render(**context)
