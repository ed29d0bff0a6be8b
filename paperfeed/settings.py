"""Django settings for paperfeed, driven by environment variables (see paperfeed/conf.py)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from paperfeed.conf import value

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(value("PAPERFEED_DATA_DIR")).expanduser().resolve()


def _secret_key() -> str:
    configured = value("PAPERFEED_SECRET_KEY")
    if configured:
        return configured
    path = DATA_DIR / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(50)
    # O_EXCL: two processes starting at once must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


SECRET_KEY = _secret_key()
DEBUG = value("PAPERFEED_DEBUG")
ALLOWED_HOSTS = value("PAPERFEED_ALLOWED_HOSTS")
SITE_URL = value("PAPERFEED_SITE_URL").rstrip("/")
SITE_NAME = value("PAPERFEED_SITE_NAME")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "paperfeed",
    "paperfeed.papers",
    "paperfeed.sources",
    "paperfeed.search",
    "paperfeed.community",
    "paperfeed.digests",
    "paperfeed.api",
    "paperfeed.recommend",
    "paperfeed.thumbnails",
    "paperfeed.deploy",
]

MIDDLEWARE = [
    "paperfeed.ops.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "paperfeed.middleware.SecurityHeadersMiddleware",
    # Above the fast path, so the pages it answers carry X-Frame-Options too.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Anonymous readers of cached pages, answered without the rest (papers/fastpath.py).
    "paperfeed.papers.fastpath.FastPathMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

ROOT_URLCONF = "paperfeed.urls"
WSGI_APPLICATION = "paperfeed.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "paperfeed.context_processors.site",
            ],
        },
    },
]


def _parse_database_url(name: str, url: str) -> dict:
    try:
        parsed = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} is not a database URL: {exc}") from exc
    if parsed["ENGINE"] == "django.db.backends.postgresql":
        parsed["ENGINE"] = "paperfeed.postgresql"  # its health check costs no round trip
    return parsed


def _replicas(primary: dict | None) -> dict[str, dict]:
    """``replica1``, ``replica2``...: the primary's options with each replica's address."""
    urls = value("DATABASE_REPLICA_URLS") or []
    if urls and (primary is None or "postgresql" not in primary["ENGINE"]):
        raise ImproperlyConfigured(
            "DATABASE_REPLICA_URLS needs DATABASE_URL to name a PostgreSQL primary "
            "(SQLite has no replicas)")
    replicas = {}
    for number, url in enumerate(urls, start=1):
        parsed = _parse_database_url(f"DATABASE_REPLICA_URLS (entry {number})", url)
        if parsed["ENGINE"] != primary["ENGINE"]:
            raise ImproperlyConfigured(
                f"DATABASE_REPLICA_URLS entry {number} is not a PostgreSQL URL: {url!r}")
        replicas[f"replica{number}"] = {
            **primary,
            **{key: parsed[key] for key in ("NAME", "USER", "PASSWORD", "HOST", "PORT")},
            # A replica that does not answer must not hold a request for long.
            "OPTIONS": {**primary.get("OPTIONS", {}), "connect_timeout": 3,
                        **parsed.get("OPTIONS", {})},
            # Under the test runner a mirror gets no test database of its own, only the
            # primary's test database NAME: on a real streaming replica, the streamed copy.
            "TEST": {"MIRROR": "default"},
        }
    return replicas


def _databases() -> dict:
    url = value("DATABASE_URL")
    if url:
        config = _parse_database_url("DATABASE_URL", url)
        return {"default": config, **_replicas(config)}
    _replicas(None)  # refuses replicas without a PostgreSQL primary
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": DATA_DIR / "paperfeed.sqlite3",
            "OPTIONS": {
                # IMMEDIATE: writers take the lock at BEGIN, so two writers queue on the
                # busy timeout instead of one failing with "database is locked" mid-way.
                "transaction_mode": "IMMEDIATE",
                "timeout": value("PAPERFEED_SQLITE_TIMEOUT"),
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536;"
                ),
            },
            "TEST": {"NAME": None},
        }
    }


DATABASES = _databases()
# Read replicas (paperfeed/replicas.py): only installed when there are some.
DATABASE_REPLICAS = [alias for alias in DATABASES if alias != "default"]
REPLICA_PIN_SECONDS = value("PAPERFEED_REPLICA_PIN_SECONDS")
REPLICA_MAX_LAG = value("PAPERFEED_REPLICA_MAX_LAG")
if DATABASE_REPLICAS:
    DATABASE_ROUTERS = ["paperfeed.replicas.PrimaryReplicaRouter"]
    # Outside every other middleware: the session and the signed-in user are reads too.
    MIDDLEWARE.insert(1, "paperfeed.replicas.ReplicaMiddleware")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Django's user table, with one limit on failed sign-ins for every way in (community/signin.py).
AUTHENTICATION_BACKENDS = ["paperfeed.community.signin.LimitedModelBackend"]


def _caches() -> dict:
    url = value("PAPERFEED_CACHE_URL")
    if not url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                            "LOCATION": "paperfeed", "OPTIONS": {"MAX_ENTRIES": 5000}}}
    if not url.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(
            f"PAPERFEED_CACHE_URL={url!r} is not a Redis URL (redis://host:port/db)")
    return {"default": {"BACKEND": "paperfeed.rediscache.RedisCache",  # Django's, faster
                        "LOCATION": url, "KEY_PREFIX": "paperfeed",
                        "OPTIONS": {"socket_timeout": 2, "socket_connect_timeout": 2}}}


CACHES = _caches()
if value("PAPERFEED_CACHE_URL"):
    # A member's request reads their session from Redis, not the database (written to
    # both, so a flushed cache loses no one's sign-in): one query less per member page.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
PAGE_CACHE_SECONDS = value("PAPERFEED_PAGE_CACHE_SECONDS")
PAGE_CACHE_MIN_SECONDS = value("PAPERFEED_PAGE_CACHE_MIN_SECONDS")
PAGE_CACHE_LOCAL_MB = value("PAPERFEED_PAGE_CACHE_LOCAL_MB")
PAPER_PAGE_CACHE_SECONDS = value("PAPERFEED_PAPER_PAGE_CACHE_SECONDS")

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = value("PAPERFEED_TIME_ZONE")
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# Only `collectstatic` writes here; whitenoise serves from the app folders (see below).
STATIC_ROOT = DATA_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "paperfeed.staticstorage.StaticStorage"},
}
# Serve static files straight from the app folders: `paperfeed serve` needs no
# collectstatic step, and a laptop install has nothing to forget.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STATIC_ROOT.mkdir(parents=True, exist_ok=True)


def _proxy_count() -> int:
    """PAPERFEED_PROXY_COUNT, or 1 from the deprecated PAPERFEED_API_TRUSTED_PROXY."""
    count = value("PAPERFEED_PROXY_COUNT")
    if count < 0:
        raise ImproperlyConfigured(f"PAPERFEED_PROXY_COUNT={count} must be 0 or more")
    if "PAPERFEED_PROXY_COUNT" not in os.environ and value("PAPERFEED_API_TRUSTED_PROXY"):
        return 1  # paperfeed.checks warns about the old name
    return count


# Whom to trust for the client's address and scheme (paperfeed/lib/forwarded.py):
# one setting for the rate limits, the logs, HTTPS detection and the WSGI server.
PROXY_COUNT = _proxy_count()
if PROXY_COUNT:
    # Only behind a proxy: without one, the client could claim https itself.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if value("PAPERFEED_HTTPS"):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 30
    # Load balancers and Prometheus reach the app port directly, over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$", r"^metrics$"]
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Error pages in the site's layout (paperfeed/errors.py; 403.html and 404.html are Django's).
CSRF_FAILURE_VIEW = "paperfeed.errors.csrf_failure"

# E-mail (shared): community (verification, password reset) and digests send through
# Django's mail framework. Without an SMTP host, mail goes to the console so a laptop
# install still shows the links it would have sent.
if value("PAPERFEED_SMTP_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = value("PAPERFEED_SMTP_HOST")
    EMAIL_PORT = value("PAPERFEED_SMTP_PORT")
    EMAIL_HOST_USER = value("PAPERFEED_SMTP_USER")
    EMAIL_HOST_PASSWORD = value("PAPERFEED_SMTP_PASSWORD")
    EMAIL_USE_TLS = value("PAPERFEED_SMTP_TLS")
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = value("PAPERFEED_FROM_EMAIL")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Digests
EMAIL_TIMEOUT = value("PAPERFEED_SMTP_TIMEOUT")
DIGESTS = {
    "BATCH_SIZE": value("PAPERFEED_DIGEST_BATCH_SIZE"),
    "LEASE_SECONDS": value("PAPERFEED_DIGEST_LEASE_SECONDS"),
    "RETRY_SECONDS": value("PAPERFEED_DIGEST_RETRY_SECONDS"),
    "MAX_ATTEMPTS": value("PAPERFEED_DIGEST_MAX_ATTEMPTS"),
    "LOOP_SECONDS": value("PAPERFEED_DIGEST_LOOP_SECONDS"),
    "MAILS_PER_ADDRESS": value("PAPERFEED_DIGEST_MAILS_PER_ADDRESS"),
    "SUBSCRIBE_PER_IP": value("PAPERFEED_DIGEST_SUBSCRIBE_PER_IP"),
}

PAPERFEED = {
    "PAGE_SIZE": value("PAPERFEED_PAGE_SIZE"),
    "TRENDING_DAYS": value("PAPERFEED_TRENDING_DAYS"),
    "TRENDING_GRAVITY": value("PAPERFEED_TRENDING_GRAVITY"),
    "TRENDING_REFRESH": value("PAPERFEED_TRENDING_REFRESH"),
    # api
    "API_RATE_LIMIT": value("PAPERFEED_API_RATE_LIMIT"),
    "API_RATE_WINDOW": value("PAPERFEED_API_RATE_WINDOW"),
}

# Community (accounts, votes, submissions, comments); see docs/community.md.
LOGIN_URL = "community:login"
LOGIN_REDIRECT_URL = "papers:latest"
LOGOUT_REDIRECT_URL = "papers:latest"
COMMUNITY = {
    "RATE_VOTES": value("PAPERFEED_RATE_VOTES"),
    "RATE_VOTES_PER_IP": value("PAPERFEED_RATE_VOTES_PER_IP"),
    "RATE_COMMENTS": value("PAPERFEED_RATE_COMMENTS"),
    "RATE_COMMENTS_PER_IP": value("PAPERFEED_RATE_COMMENTS_PER_IP"),
    "RATE_SUBMISSIONS": value("PAPERFEED_RATE_SUBMISSIONS"),
    "RATE_SUBMISSIONS_PER_IP": value("PAPERFEED_RATE_SUBMISSIONS_PER_IP"),
    "RATE_SIGNUPS_PER_IP": value("PAPERFEED_RATE_SIGNUPS_PER_IP"),
    "RATE_FAILED_LOGINS_PER_IP": value("PAPERFEED_RATE_FAILED_LOGINS_PER_IP"),
    "SUBMISSIONS_PER_DAY": value("PAPERFEED_SUBMISSIONS_PER_DAY"),
    "SUBMISSION_WINDOW_DAYS": value("PAPERFEED_SUBMISSION_WINDOW_DAYS"),
    "VERIFY_DAYS": value("PAPERFEED_VERIFY_DAYS"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "paperfeed": {"handlers": ["console"], "level": value("PAPERFEED_LOG_LEVEL")},
    },
}
