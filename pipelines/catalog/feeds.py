"""The feed catalogue: canonical fields, headers and aliases, read from configuration."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

__all__ = [
    "DEFAULT_FEEDS_CONFIG",
    "PERSON_FEEDS",
    "FeedSpec",
    "FieldSpec",
    "load_feeds",
    "normalise_enum",
    "normalise_header",
]

DEFAULT_FEEDS_CONFIG = Path(__file__).parent / "feeds.toml"

KINDS = {"key", "string", "name", "id", "date", "year", "integer", "number", "enum", "region", "text", "phone"}

# Feeds whose rows describe one person each (linkage inputs); households are linked through heads.
PERSON_FEEDS = (
    "poverty_members",
    "hukou",
    "medical_insurance",
    "illness_registry",
    "school_enrolment",
    "minimum_living",
    "public_payroll",
)

_SPACES = re.compile(r"\s+")


def normalise_header(text: object) -> str:
    """Fold a header for matching: NFKC (full-width → half-width), no whitespace at all."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(text or "")))


def normalise_enum(text: object) -> str:
    """Fold an enumerated value for matching: NFKC and no whitespace (stray spaces are common)."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", str(text)))


@dataclass(frozen=True)
class FieldSpec:
    name: str
    header: str
    kind: str
    aliases: tuple[str, ...] = ()
    values: tuple[str, ...] = ()
    value_aliases: tuple[tuple[str, str], ...] = ()
    required: bool = False

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)

    def enum_lookup(self) -> dict[str, str]:
        """Folded spelling → canonical value, for every listed value and alias."""
        lookup = {normalise_enum(v): v for v in self.values}
        lookup.update({normalise_enum(a): v for a, v in self.value_aliases})
        return lookup


@dataclass(frozen=True)
class FeedSpec:
    name: str
    title: str
    key: str
    fields: tuple[FieldSpec, ...]
    optional: bool = False

    def field(self, name: str) -> FieldSpec:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"{self.name} has no field {name!r}")

    @property
    def key_field(self) -> FieldSpec:
        return self.field(self.key)

    @property
    def columns(self) -> list[str]:
        return [f.name for f in self.fields]

    def header_lookup(self) -> dict[str, str]:
        """Folded header → field name. A canonical header wins over another field's alias."""
        lookup: dict[str, str] = {}
        for f in self.fields:
            for alias in f.aliases:
                lookup.setdefault(normalise_header(alias), f.name)
        for f in self.fields:
            lookup[normalise_header(f.header)] = f.name
        return lookup


def _field(raw: dict) -> FieldSpec:
    kind = raw.get("kind", "string")
    if kind not in KINDS:
        raise ValueError(f"unknown field kind {kind!r} for {raw.get('name')!r}")
    return FieldSpec(
        name=raw["name"],
        header=raw["header"],
        kind=kind,
        aliases=tuple(raw.get("aliases", ())),
        values=tuple(raw.get("values", ())),
        value_aliases=tuple(raw.get("value_aliases", {}).items()),
        required=bool(raw.get("required", kind == "key")),
    )


@lru_cache(maxsize=8)
def load_feeds(path: Path | None = None) -> dict[str, FeedSpec]:
    """Read the feed catalogue (the packaged default unless a path is given)."""
    with open(path or DEFAULT_FEEDS_CONFIG, "rb") as fh:
        raw = tomllib.load(fh)["feeds"]
    feeds = {}
    for name, spec in raw.items():
        feed = FeedSpec(
            name=name,
            title=spec["title"],
            key=spec["key"],
            fields=tuple(_field(f) for f in spec["fields"]),
            optional=bool(spec.get("optional", False)),
        )
        _ = feed.key_field  # fail early on a key that names no field
        feeds[name] = feed
    return feeds
