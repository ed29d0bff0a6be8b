"""paperfeed's settings, as data.

Every environment variable paperfeed reads is declared here once, with its type, default
and help. ``settings.py`` reads them through :func:`value`; ``paperfeed settings`` prints
them; ``docs/configuration.md`` is generated from them and a test fails when the two
differ, so no setting goes undocumented.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured


def _bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected one of 1/0, true/false, yes/no, on/off")


def _int(raw: str) -> int:
    return int(raw.strip())


def _float(raw: str) -> float:
    return float(raw.strip())


def _list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _str(raw: str) -> str:
    return raw


@dataclass(frozen=True)
class Setting:
    name: str
    parse: Callable[[str], Any]
    default: str | None
    help: str
    secret: bool = False  # may also be given as NAME_FILE (a path to read it from)

    @property
    def type_name(self) -> str:
        return {_bool: "boolean", _int: "integer", _float: "number", _list: "list"}.get(
            self.parse, "string"
        )


SETTINGS: tuple[Setting, ...] = (
    Setting("PAPERFEED_DATA_DIR", _str, "./var",
            "Directory for the SQLite database, search indexes and the generated secret key."),
    Setting("DATABASE_URL", _str, None,
            "Database to use instead of SQLite in the data directory, e.g. "
            "`postgres://user:pass@host:5432/paperfeed`."),
    Setting("PAPERFEED_SECRET_KEY", _str, None,
            "Django secret key. If unset, one is generated once and kept in "
            "`<data dir>/secret_key` (mode 0600).", secret=True),
    Setting("PAPERFEED_DEBUG", _bool, "false",
            "Django debug mode. Never enable on a public site."),
    Setting("PAPERFEED_ALLOWED_HOSTS", _list, "127.0.0.1,localhost,[::1]",
            "Comma-separated host names the site answers to."),
    Setting("PAPERFEED_SITE_URL", _str, "http://127.0.0.1:8000",
            "Public base URL, used in e-mails and feeds."),
    Setting("PAPERFEED_SITE_NAME", _str, "paperfeed", "Name shown in the header and titles."),
    Setting("PAPERFEED_HTTPS", _bool, "false",
            "Set when served over HTTPS: secure cookies, HSTS and a redirect to https."),
    Setting("PAPERFEED_TIME_ZONE", _str, "UTC",
            "Time zone for day boundaries of the daily feed shown to visitors."),
    Setting("PAPERFEED_PAGE_SIZE", _int, "50", "Papers per page on listing pages."),
    Setting("PAPERFEED_TRENDING_DAYS", _int, "14",
            "How many days back trending looks for candidates."),
    Setting("PAPERFEED_TRENDING_GRAVITY", _float, "1.5",
            "How fast trending scores decay with age (see docs/ranking.md)."),
    Setting("PAPERFEED_SQLITE_TIMEOUT", _int, "20",
            "Seconds an SQLite writer waits for the lock before giving up."),
    Setting("PAPERFEED_LOG_LEVEL", _str, "INFO", "Log level of paperfeed's own loggers."),
)

# Each app declares its own settings in its own tuple below (keeps merges apart).
SOURCES_SETTINGS: tuple[Setting, ...] = (
    # sources: ingestion
)

SEARCH_SETTINGS: tuple[Setting, ...] = (
    # search: keyword, semantic, hybrid
)

COMMUNITY_SETTINGS: tuple[Setting, ...] = (
    # community: accounts, votes, submissions, comments
)

DIGESTS_SETTINGS: tuple[Setting, ...] = (
    # digests: subscriptions and e-mail
)

API_SETTINGS: tuple[Setting, ...] = (
    # api: JSON API and feeds
    Setting("PAPERFEED_API_RATE_LIMIT", _int, "300",
            "Requests per window one anonymous client (IP address) may make to the JSON API "
            "and exports; 0 turns the limit off. Requests with an API token are not limited."),
    Setting("PAPERFEED_API_RATE_WINDOW", _int, "60",
            "Length in seconds of the API rate-limit window."),
    Setting("PAPERFEED_API_TRUSTED_PROXY", _bool, "false",
            "Take the client address for rate limiting from the first `X-Forwarded-For` entry "
            "(set only behind a reverse proxy that overwrites that header)."),
)

RECOMMEND_SETTINGS: tuple[Setting, ...] = (
    # recommendations
)

SETTINGS = (
    SETTINGS + SOURCES_SETTINGS + SEARCH_SETTINGS + COMMUNITY_SETTINGS + DIGESTS_SETTINGS
    + API_SETTINGS + RECOMMEND_SETTINGS
)
_BY_NAME = {s.name: s for s in SETTINGS}


def value(name: str, environ: dict[str, str] | None = None) -> Any:
    """The parsed value of a declared setting, or its default; raises on a bad value."""
    environ = os.environ if environ is None else environ
    setting = _BY_NAME[name]
    raw = environ.get(name)
    if raw is None and setting.secret and environ.get(name + "_FILE"):
        path = Path(environ[name + "_FILE"])
        try:
            raw = path.read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {path}: {exc}") from exc
    if raw is None:
        raw = setting.default
    if raw is None:
        return None
    try:
        return setting.parse(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a valid {setting.type_name}: {exc}") from exc


def markdown_table() -> str:
    """The settings table as it appears in docs/configuration.md."""
    rows = ["| Variable | Type | Default | Meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        default = f"`{s.default}`" if s.default is not None else "—"
        note = " Also read from `NAME_FILE`." if s.secret else ""
        rows.append(f"| `{s.name}` | {s.type_name} | {default} | {s.help}{note} |")
    return "\n".join(rows) + "\n"
