"""The feed catalogue: every fact bidui keeps about a feed, read from feeds.toml.

How each department's file maps onto canonical fields (FeedSpec), its record key, the Great
Expectations suite that checks it, and for the feeds describing persons what linkage and the base
map take from them (RowSource, [[person_rows]]). Every other module takes these facts from here.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from pipelines.errors import BiduiError, read_problem

__all__ = [
    "ATTRIBUTE_SOURCES",
    "DEFAULT_FEEDS_CONFIG",
    "FACTS",
    "FACT_FIELDS",
    "FEEDS",
    "IDENTITY_ATTRIBUTES",
    "IDENTITY_ORDER",
    "LISTED_FEEDS",
    "PERSON_FEEDS",
    "ROW_SOURCES",
    "SPINE_FEED",
    "FeedSpec",
    "FieldSpec",
    "RowSource",
    "load_feeds",
    "normalise_enum",
    "normalise_header",
    "record_key",
]

DEFAULT_FEEDS_CONFIG = Path(__file__).parent / "feeds.toml"

KINDS = {"key", "string", "name", "id", "date", "year", "integer", "number", "enum", "region", "text", "phone"}

# The police household register: the spine every other person row is linked to, and the
# identity of record.
SPINE_FEED = "hukou"

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
    # The module of expectations/ holding the feed's suite; a feed without one gets the shared checks.
    suite: str = "generic"

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


def _read_feeds(raw: dict) -> dict[str, FeedSpec]:
    feeds = {}
    for name, spec in raw.items():
        feed = FeedSpec(
            name=name,
            title=spec["title"],
            key=spec["key"],
            fields=tuple(_field(f) for f in spec["fields"]),
            optional=bool(spec.get("optional", False)),
            suite=spec.get("suite", "generic"),
        )
        _ = feed.key_field  # fail early on a key that names no field
        feeds[name] = feed
    return feeds


@lru_cache(maxsize=1)
def _packaged() -> dict:
    with open(DEFAULT_FEEDS_CONFIG, "rb") as fh:
        return tomllib.load(fh)


def _configured(path: Path, packaged: dict[str, FeedSpec]) -> dict[str, FeedSpec]:
    """A prefecture's copy of the catalogue: its spellings of the packaged feeds. A feed the
    packaged catalogue lacks has no snapshot table and no suite, so it is refused."""
    try:
        with open(path, "rb") as fh:
            feeds = _read_feeds(tomllib.load(fh)["feeds"])
    except FileNotFoundError as exc:
        raise BiduiError(f"数据源配置文件 {path} 不存在（BIDUI_FEEDS_CONFIG），请改正路径或删去该设置") from exc
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise BiduiError(f"数据源配置文件 {path} 无法读取：{read_problem(exc)}（内置示例为 feeds.toml）") from exc
    except KeyError as exc:
        raise BiduiError(f"数据源配置文件 {path} 缺少 {exc}，请对照内置的 feeds.toml 改正") from exc
    except (TypeError, ValueError) as exc:
        raise BiduiError(f"数据源配置文件 {path} 中有写法不对的项，请对照内置的 feeds.toml 改正") from exc
    for name, feed in feeds.items():
        known = packaged.get(name)
        if known is None:
            raise BiduiError(
                f"数据源“{name}”没有对应的数据表和校验规则：新增数据源需要在 bidui 中登记（pipelines/catalog/feeds.toml），"
                f"新增数据库迁移建表（pipelines/store/migrations）并编写校验规则（expectations/{name}.py）。"
                f"数据源配置文件只能调整已有数据源的表头、别名和取值写法；请从 {path} 中删去“{name}”，或请开发人员添加该数据源。"
            )
        if feed.key != known.key:
            raise BiduiError(
                f"数据源“{name}”在 {path} 中以“{feed.key}”为记录编号，但它的数据表以“{known.key}”为记录编号："
                f'记录编号不能在配置文件中更改，请改回 key = "{known.key}"。'
            )
        feeds[name] = replace(feed, suite=known.suite)
    return feeds


@lru_cache(maxsize=8)
def load_feeds(path: Path | None = None) -> dict[str, FeedSpec]:
    """The feed catalogue: the packaged one, or a prefecture's copy (BIDUI_FEEDS_CONFIG) checked
    against it (BiduiError, in Chinese, for a feed bidui has no table and suite for)."""
    packaged = _read_feeds(_packaged()["feeds"])
    if path is None or Path(path).resolve() == DEFAULT_FEEDS_CONFIG.resolve():
        return packaged
    return _configured(Path(path), packaged)


# --- persons ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowSource:
    """What a person-level feed gives linkage and the base map ([[person_rows]] of feeds.toml):
    which fields describe the person a row is about (None = the feed has no such field), whether
    the feed lists persons, its authority rank and its facts."""

    feed: str
    role: str
    key: str
    name: str
    id_number: str
    sex: str | None = None
    birth_date: str | None = None
    village_code: str | None = None
    # (prefix, field): household_ref = prefix + ":" + value, e.g. "poverty:5227011012160001".
    household: tuple[str, str] | None = None
    # The field that says which period a row is for, when a feed lists a person once per period.
    period: str | None = None
    listed: bool = False
    authority: int = 0
    facts: tuple[tuple[str, str], ...] = ()  # (base-map fact, field)

    @property
    def fields(self) -> list[str]:
        """The snapshot fields linkage and the base map read, each once, the record key first."""
        named = (
            self.key,
            self.name,
            self.id_number,
            self.sex,
            self.birth_date,
            self.village_code,
            self.household[1] if self.household else None,
            self.period,
            *(field for _, field in self.facts),
        )
        return list(dict.fromkeys(f for f in named if f))


def _row_sources(raw: list[dict], feeds: dict[str, FeedSpec]) -> tuple[RowSource, ...]:
    sources = []
    for entry in raw:
        feed = feeds[entry["feed"]]
        household = entry.get("household")
        source = RowSource(
            feed=feed.name,
            role=entry["role"],
            key=feed.key,
            name=entry["name"],
            id_number=entry["id_number"],
            sex=entry.get("sex"),
            birth_date=entry.get("birth_date"),
            village_code=entry.get("village_code"),
            household=(household[0], household[1]) if household else None,
            period=entry.get("period"),
            listed=bool(entry.get("listed", False)),
            authority=int(entry["authority"]),
            facts=tuple(entry.get("facts", {}).items()),
        )
        unknown = [f for f in source.fields if f not in feed.columns]
        if unknown:
            raise ValueError(f"person_rows of {feed.name} name fields it lacks: {unknown}")
        sources.append(source)
    if not sources or sources[0].feed != SPINE_FEED:
        raise ValueError(f"person_rows must start with the spine, {SPINE_FEED}")
    if sorted(s.authority for s in sources) != list(range(1, len(sources) + 1)):
        raise ValueError("person_rows authority ranks must be 1, 2, … each once")
    return tuple(sources)


FEEDS: dict[str, FeedSpec] = load_feeds()
ROW_SOURCES: tuple[RowSource, ...] = _row_sources(_packaged()["person_rows"], FEEDS)
# Feeds whose rows describe one person each; households are linked through heads.
PERSON_FEEDS = tuple(source.feed for source in ROW_SOURCES if source.role == "person")
# Facts the person rows do not carry, read from the snapshots: feed → {fact: snapshot field}.
FACT_FIELDS: dict[str, dict[str, str]] = {source.feed: dict(source.facts) for source in ROW_SOURCES if source.facts}
FACTS = sorted({fact for fields in FACT_FIELDS.values() for fact in fields})
# Whose word a person's identity is, most authoritative first.
IDENTITY_ORDER = tuple(source.feed for source in sorted(ROW_SOURCES, key=lambda s: s.authority))
IDENTITY_ATTRIBUTES = ("name", "id_number", "sex", "birth_date", "village_code")
# Per attribute, the feeds whose word the base map may take, in authority order.
ATTRIBUTE_SOURCES: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(IDENTITY_ATTRIBUTES, IDENTITY_ORDER),
    **{fact: tuple(feed for feed in IDENTITY_ORDER if fact in FACT_FIELDS.get(feed, {})) for fact in FACTS},
}
# Feeds listing a person once (per period): feed → the person-row column holding the period, or None.
LISTED_FEEDS: dict[str, str | None] = {
    source.feed: ("period" if source.period else None) for source in ROW_SOURCES if source.listed
}


def record_key(feed: str) -> str:
    """The field that is a feed's record key (the department's own record number)."""
    return FEEDS[feed].key
