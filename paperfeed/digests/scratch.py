"""A scratch database for runs of ``paperfeed senddigests`` as real processes.

Used by the worker tests and ``paperfeed bench digests``. The test database pytest-django
makes is in memory (SQLite) or inside the test's transaction, where another process cannot
see it, and a benchmark must not fill the user's own database with 100,000 subscribers, so
these use a database of their own: a file in a temporary data dir on SQLite, a separate
database on PostgreSQL. Run as ``python -m paperfeed.digests.scratch seed N | dump |
counts | reset | baseline K PORT`` with that database's environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from urllib.parse import urlsplit, urlunsplit

import django


def command(*args: str, env: dict[str, str], timeout: float = 120) -> str:
    """Run ``paperfeed ARGS`` in a subprocess; its output, or an assertion error with stderr."""
    result = subprocess.run([sys.executable, "-m", "paperfeed.cli", *args], env=env,
                            capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"paperfeed {' '.join(args)} failed:\n{result.stderr[-3000:]}"
    return result.stdout


def helper(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run([sys.executable, "-m", "paperfeed.digests.scratch", *args],
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def sqlite_env(data_dir: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["PAPERFEED_DATA_DIR"] = data_dir
    return env


def postgres_env(base_url: str, name: str) -> dict[str, str]:
    """A fresh database ``name`` on the server of ``base_url`` (dropped first if left over)."""
    import psycopg

    with psycopg.connect(_with_db(base_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return {**os.environ, "DATABASE_URL": _with_db(base_url, name)}


def drop_postgres(base_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_with_db(base_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


def _seed(count: int) -> None:
    from paperfeed.digests.loadgen import seed_subscribers
    from paperfeed.papers.models import Paper
    from paperfeed.sources.demo import load_demo_corpus

    if not Paper.objects.exists():
        load_demo_corpus()
    seed_subscribers(count, quiet_hours=True)


def _baseline(count: int, port: int) -> dict:
    """Build ``count`` real digests, then time sending their bytes over one raw SMTP connection."""
    import smtplib
    import time

    from django.utils import timezone

    from paperfeed.digests import schedule
    from paperfeed.digests.emails import digest_message
    from paperfeed.digests.models import Subscriber
    from paperfeed.digests.selection import BatchContext, pick_papers

    started = time.perf_counter()
    context = BatchContext.build(timezone.now())
    messages = []
    for subscriber in Subscriber.objects.order_by("pk")[:count]:
        rule = subscriber.slot_rule
        key = schedule.edition(rule, schedule.latest_slot(rule, timezone.now()))
        papers = pick_papers(subscriber, key, context).papers
        message = digest_message(subscriber, key, papers).message()
        messages.append((subscriber.email, message.as_bytes(linesep="\r\n")))
    built = time.perf_counter() - started
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port) as smtp:
        for to, data in messages:
            smtp.sendmail("bench@localhost", [to], data)
    sent = time.perf_counter() - started
    return {"messages": len(messages), "build_seconds": built, "send_seconds": sent,
            "bytes": sum(len(d) for _, d in messages)}


def _counts() -> dict:
    from django.db.models import Count

    from paperfeed.digests.models import Delivery

    return dict(Delivery.objects.values_list("state").annotate(n=Count("pk")).order_by())


def _dump() -> dict:
    from paperfeed.digests.models import Delivery, Subscriber

    rows = Delivery.objects.values_list("subscriber__email", "edition", "state", "claimed_by")
    return {
        "subscribers": Subscriber.objects.count(),
        "deliveries": [list(r) for r in rows],
    }


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paperfeed.settings")
    django.setup()
    if sys.argv[1] == "seed":
        _seed(int(sys.argv[2]))
    elif sys.argv[1] == "dump":
        print(json.dumps(_dump()))
    elif sys.argv[1] == "counts":
        print(json.dumps(_counts()))
    elif sys.argv[1] == "baseline":
        print(json.dumps(_baseline(int(sys.argv[2]), int(sys.argv[3]))))
    elif sys.argv[1] == "reset":
        from paperfeed.digests.models import Subscriber

        Subscriber.objects.all().delete()


if __name__ == "__main__":
    main()
