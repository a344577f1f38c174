"""One typed settings object, built once from the environment and passed explicitly."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Settings", "load_settings"]


@dataclass(frozen=True)
class Settings:
    """Run-wide settings. Nothing else in bidui reads the environment."""

    data_dir: Path
    database_url: str
    feeds_config: Path | None = None
    # Where departments drop deliveries: one folder per data date, e.g. <drop_dir>/2026-11-20/.
    drop_dir: Path | None = None
    # The region reference used until a delivery brings its own regions.csv.
    regions_seed: Path = Path(__file__).resolve().parents[1] / "seeds" / "regions.csv"
    # A feed is rejected whole when more than this share of its rows carry a blocking finding.
    max_bad_row_share: float = 0.2
    # Delivery files larger than this are refused unread (a runaway export, not a feed).
    max_file_bytes: int = 4 * 1024**3
    show_progress: bool = True
    # Circuit breaker: a rule firing more than `clue_breaker_ratio` times its previous night's count
    # (and on at least `clue_breaker_min` subjects) is held back for the data officer, not sent down.
    clue_breaker_ratio: float = 3.0
    clue_breaker_min: int = 50
    # The monitoring site (bidui serve): the key that signs session cookies (BIDUI_SECRET_KEY; else
    # one made once and kept in <data_dir>/web-secret.key), how long a session lasts without use,
    # and whether cookies go over HTTPS only (behind an HTTPS proxy).
    web_secret: str | None = None
    session_hours: float = 8.0
    secure_cookies: bool = False
    # The monthly bulletin's indicator weights (BIDUI_BULLETIN_CONFIG, a TOML file); None uses the
    # packaged pipelines/documents/bulletin.toml.
    bulletin_config: Path | None = None
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
    """Build settings from BIDUI_* environment variables; keyword overrides win.

    A feed configuration (BIDUI_FEEDS_CONFIG) is read here, so that one naming a feed bidui has no
    table and suite for stops the start with a Chinese BiduiError rather than a later KeyError.
    """
    env = dict(os.environ if environ is None else environ)
    data_dir = Path(overrides.pop("data_dir", None) or env.get("BIDUI_DATA_DIR") or "data").resolve()
    database_url = (
        overrides.pop("database_url", None) or env.get("BIDUI_DATABASE_URL") or (f"sqlite:///{data_dir / 'bidui.sqlite3'}")
    )
    feeds_config = overrides.pop("feeds_config", None) or env.get("BIDUI_FEEDS_CONFIG")
    values: dict[str, Any] = dict(
        data_dir=data_dir,
        database_url=database_url,
        feeds_config=Path(feeds_config) if feeds_config else None,
        drop_dir=Path(env["BIDUI_DROP_DIR"]) if env.get("BIDUI_DROP_DIR") else data_dir / "drop",
        max_bad_row_share=float(env.get("BIDUI_MAX_BAD_ROW_SHARE", 0.2)),
        show_progress=env.get("BIDUI_PROGRESS", "1") not in ("0", "false", "no"),
        clue_breaker_ratio=float(env.get("BIDUI_CLUE_BREAKER_RATIO", 3.0)),
        clue_breaker_min=int(env.get("BIDUI_CLUE_BREAKER_MIN", 50)),
        web_secret=env.get("BIDUI_SECRET_KEY") or None,
        session_hours=float(env.get("BIDUI_SESSION_HOURS", 8.0)),
        secure_cookies=env.get("BIDUI_SECURE_COOKIES", "0") in ("1", "true", "yes"),
        bulletin_config=Path(env["BIDUI_BULLETIN_CONFIG"]) if env.get("BIDUI_BULLETIN_CONFIG") else None,
    )
    values.update(overrides)
    settings = Settings(**values)
    if settings.feeds_config is not None:
        from pipelines.catalog.feeds import load_feeds

        load_feeds(settings.feeds_config)
    return settings
