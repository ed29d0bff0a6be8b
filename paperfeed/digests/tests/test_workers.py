"""Real ``paperfeed senddigests`` processes: two at once, and killed at random points.

These run against a database of their own (see paperfeed/digests/scratch.py) and the loopback SMTP server
in this process, and count what the server received.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from django.conf import settings as django_settings

from paperfeed.digests import scratch as external

pytestmark = pytest.mark.django_db  # only so the suite's database settings are in place


@pytest.fixture(scope="module")
def external_env(tmp_path_factory):
    base_url = os.environ.get("DATABASE_URL")
    on_postgres = django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    if on_postgres:
        name = django_settings.DATABASES["default"]["NAME"].removeprefix("test_") + "_digests_ext"
        env = external.postgres_env(base_url, name)
    else:
        env = external.sqlite_env(str(tmp_path_factory.mktemp("pf-digests-ext")))
    env["PAPERFEED_SECRET_KEY"] = "digests-worker-tests"
    external.command("migrate", "--verbosity", "0", env=env)
    yield env
    if on_postgres:
        external.drop_postgres(base_url, name)


@pytest.fixture
def world(external_env, smtp_server):
    """The external database, emptied of subscribers, and senders pointed at the server."""
    external.helper("reset", env=external_env)
    env = {**external_env, "PAPERFEED_SMTP_HOST": "127.0.0.1",
           "PAPERFEED_SMTP_PORT": str(smtp_server.port), "PAPERFEED_DIGEST_LEASE_SECONDS": "1",
           "PAPERFEED_DIGEST_BATCH_SIZE": "50", "PAPERFEED_LOG_LEVEL": "ERROR"}
    return env


def _sender(env) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "paperfeed.cli", "senddigests"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _ledger(env) -> list[list[str]]:
    return json.loads(external.helper("dump", env=env))["deliveries"]


def _received(smtp_server) -> Counter:
    with smtp_server.lock:
        items = list(smtp_server.received)
    return Counter((r.rcpt_tos[0], r.message()["X-Paperfeed-Edition"]) for r in items)


def test_two_workers_at_once_share_the_work_and_send_each_digest_once(world, smtp_server):
    external.helper("seed", "200", env=world)
    # The server holds the first worker's first message until the second worker has one in
    # flight too, so the two really overlap however long either takes to start. The second
    # starts once the first has claimed and begun sending: a one-shot run that starts while
    # another is still scheduling may rightly find nothing to do (SKIP LOCKED) and exit.
    peers: set = set()
    deadline = time.monotonic() + 60

    async def until_both_are_sending(session):
        peers.add(session.peer)
        while len(peers) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    smtp_server.data_gate = until_both_are_sending
    env = {**world, "PAPERFEED_SMTP_TIMEOUT": "90"}
    workers = [_sender(env)]
    while not peers and time.monotonic() < deadline and workers[0].poll() is None:
        time.sleep(0.01)
    workers.append(_sender(env))
    for worker in workers:
        _, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err[-2000:]

    ledger = _ledger(world)
    received = _received(smtp_server)
    assert len(ledger) == 200 and {row[2] for row in ledger} == {"sent"}
    assert len(received) == 200 and max(received.values()) == 1
    assert {(row[0], row[1]) for row in ledger} == set(received)
    # Both processes really sent some of them.
    assert len({row[3] for row in ledger}) == 2


def test_a_sender_killed_after_the_server_took_the_message_leaves_it_in_doubt_not_resent(
        world, smtp_server):
    external.helper("seed", "15", env=world)
    victim = {}

    def kill_on_tenth(item):
        if smtp_server.count == 10:
            os.kill(victim["pid"], signal.SIGKILL)  # the server has it; the ledger never hears

    smtp_server.on_data = kill_on_tenth
    first = _sender(world)
    victim["pid"] = first.pid
    first.wait(timeout=60)
    assert first.returncode == -signal.SIGKILL
    smtp_server.on_data = None
    time.sleep(1.1)  # the lease of the killed sender runs out
    external.command("senddigests", env=world)

    ledger = _ledger(world)
    states = Counter(row[2] for row in ledger)
    assert states == {"sent": 14, "in_doubt": 1}
    [doubtful] = [row for row in ledger if row[2] == "in_doubt"]
    assert _received(smtp_server)[(doubtful[0], doubtful[1])] == 1  # it did arrive, once
    assert max(_received(smtp_server).values()) == 1
    report = subprocess.run([sys.executable, "-m", "paperfeed.cli", "senddigests", "--report-in-doubt"],
                            env=world, capture_output=True, text=True, timeout=60)
    assert report.returncode == 3 and doubtful[0] in report.stdout
    # The report names the Message-ID to look up in the server's log: the one that arrived.
    [arrived] = smtp_server.messages_to(doubtful[0])
    assert f"\t{arrived['Message-ID']}\t" in report.stdout


def test_killing_the_sender_at_random_points_never_sends_a_digest_twice(world, smtp_server):
    subscribers = 1000
    external.helper("seed", str(subscribers), env=world)
    rng = random.Random(int(os.environ.get("PAPERFEED_KILL_TEST_SEED", "20261123")))
    kills, runs = 0, 0
    while runs < 30:
        runs += 1
        sender = _sender(world)
        if kills < 5:
            # Kill once the server has taken a random number of further messages (or after
            # a random time, which may land in start-up, claiming, or between batches).
            target = smtp_server.count + rng.randint(1, 150)
            deadline = time.monotonic() + rng.uniform(1.0, 6.0)
            while sender.poll() is None and smtp_server.count < target and time.monotonic() < deadline:
                time.sleep(0.002)
            if sender.poll() is None:
                sender.send_signal(signal.SIGKILL)
                sender.wait()
                kills += 1
                time.sleep(1.1)  # let its lease run out so the next run takes over its rows
                continue
        _, err = sender.communicate(timeout=120)
        assert sender.returncode == 0, err[-2000:]
        unfinished = [row for row in _ledger(world) if row[2] in ("pending", "claimed", "sending")]
        if not unfinished:
            break
        time.sleep(1.1)

    ledger = _ledger(world)
    received = _received(smtp_server)
    states = Counter(row[2] for row in ledger)
    print(f"{kills} kills, {runs} runs, ledger {dict(states)}")
    assert kills == 5
    assert len(ledger) == subscribers
    assert set(states) <= {"sent", "in_doubt"}
    assert max(received.values()) == 1, "a subscriber got the same digest twice"
    for email, edition, state, _ in ledger:
        if state == "sent":
            assert received[(email, edition)] == 1, f"{email} is recorded sent but got nothing"
    assert states["in_doubt"] <= kills
    assert set(received) <= {(row[0], row[1]) for row in ledger}


def test_the_loop_stops_cleanly_on_sigterm_between_rounds(world, smtp_server):
    external.helper("seed", "5", env=world)
    looping = subprocess.Popen([sys.executable, "-m", "paperfeed.cli", "senddigests", "--loop"],
                               env={**world, "PAPERFEED_DIGEST_LOOP_SECONDS": "30"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while smtp_server.count < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    looping.send_signal(signal.SIGTERM)
    out, err = looping.communicate(timeout=10)
    assert looping.returncode == 0, err[-2000:]
    assert "sent 5" in out
    assert Counter(row[2] for row in _ledger(world)) == {"sent": 5}
