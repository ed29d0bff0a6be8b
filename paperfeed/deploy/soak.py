"""The soak of ``paperfeed bench load``: members vote and comment through HTTP, as a browser.

Each member is a session cookie (made in the corpus database, as signing in would) plus
the CSRF cookie and form token its first page view hands out; votes and comments are the
site's own forms, POSTed with both, each on a fresh connection (a POST is never retried,
so the soak knows exactly which writes the site accepted). Writers keep a steady rate;
the probe measures how long an anonymous reader waits to see a vote on the daily page.

Pure HTTP on loopback: nothing here imports Django, so it runs in the bench's process
while the site runs in its own.
"""

from __future__ import annotations

import http.client
import json
import random
import re
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode, urlsplit

_CSRF_COOKIE = re.compile(r"csrftoken=([^;]+)")
_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


class Refused(Exception):
    """The site did not accept a write (status, or a redirect to the sign-in page)."""


def request(base: str, method: str, path: str, *, body: bytes | None = None,
            headers: dict | None = None, timeout: float = 30.0) -> tuple[int, dict, bytes]:
    """One request on its own connection: (status, lower-cased headers, body)."""
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        found: dict[str, str] = {}
        for name, value in response.getheaders():
            name = name.lower()
            found[name] = f"{found[name]}, {value}" if name in found else value
        return response.status, found, data
    finally:
        conn.close()


def count_on_page(html: str, paper_pk: int) -> int | None:
    """The upvote count a listing shows for paper ``paper_pk`` (None if not on it)."""
    found = re.search(rf'aria-labelledby="paper-{paper_pk}".*?class="count">([\d,]+)<', html,
                      re.S)
    return int(found.group(1).replace(",", "")) if found else None


def listed_pks(html: str) -> list[int]:
    """The papers a listing page shows, top first."""
    return [int(pk) for pk in dict.fromkeys(re.findall(r'aria-labelledby="paper-(\d+)"', html))]


@dataclass
class Member:
    """A signed-in member talking to the site like a browser."""

    base: str
    username: str
    session: str  # "sessionid=..."
    csrf_cookie: str = ""
    token: str = ""

    def _cookie(self) -> str:
        return f"{self.session}; csrftoken={self.csrf_cookie}" if self.csrf_cookie else self.session

    def sign_in(self, page: str) -> None:
        """View a page signed in: the CSRF cookie and the forms' token, as a browser gets them."""
        status, headers, body = request(self.base, "GET", page, headers={"Cookie": self._cookie()})
        cookie = _CSRF_COOKIE.search(headers.get("set-cookie", ""))
        token = _CSRF_INPUT.search(body.decode("utf-8", "replace"))
        if status != 200 or not cookie or not token:
            raise Refused(f"{self.username}: {page} answered {status} without a CSRF "
                          f"{'cookie' if not cookie else 'form token'}")
        self.csrf_cookie, self.token = cookie.group(1), token.group(1)

    def post(self, path: str, fields: dict, *, json_answer: bool = False) -> tuple[int, bytes]:
        body = urlencode({"csrfmiddlewaretoken": self.token, **fields}).encode()
        headers = {"Cookie": self._cookie(), "Origin": self.base, "Referer": self.base + "/papers",
                   "Content-Type": "application/x-www-form-urlencoded"}
        if json_answer:
            headers["Accept"] = "application/json"
        status, answer, data = request(self.base, "POST", path, body=body, headers=headers)
        if not 200 <= status < 400 or "/accounts/login" in answer.get("location", ""):
            raise Refused(f"{self.username} POST {path}: {status} "
                          f"{answer.get('location', '')} {data[:200]!r}")
        return status, data


@dataclass
class Tally:
    """What the writers did: the site's answers, and what the database must now hold."""

    votes_ok: int = 0
    comments_ok: int = 0
    failed: int = 0
    failures: list[str] = field(default_factory=list)
    # username -> {paper pk: the last wish the site accepted}
    votes: dict[str, dict[int, bool]] = field(default_factory=dict)
    comments: list[str] = field(default_factory=list)  # markers of accepted comments
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail(self, message: str) -> None:
        with self.lock:
            self.failed += 1
            if len(self.failures) < 10:
                self.failures.append(message[:300])


def write(members: list[Member], papers: list[int], rate: float, seconds: float, tally: Tally,
          run: str, stop: threading.Event, seed: int = 7, comment_share: float = 0.2) -> None:
    """One writer: ``rate`` writes a second for ``seconds`` (votes, and comments with a
    unique marker), each by one of ``members`` (its own: a member's writes stay in order)."""
    rng = random.Random(seed)
    next_at = time.monotonic()
    end = next_at + seconds
    number = 0
    while not stop.is_set() and time.monotonic() < end:
        member, paper = rng.choice(members), rng.choice(papers)
        number += 1
        try:
            if not member.token:
                member.sign_in("/papers")
            if rng.random() < comment_share:
                marker = f"soak-{run}-{seed}-{number}"
                member.post(f"/comments/on/{paper}/",
                            {"body": f"A soak comment ({marker}): reading this under load."})
                with tally.lock:
                    tally.comments_ok += 1
                    tally.comments.append(marker)
            else:
                up = rng.random() < 0.7
                member.post(f"/votes/{paper}/", {"vote": "1" if up else "0", "next": "/papers"})
                with tally.lock:
                    tally.votes_ok += 1
                    tally.votes.setdefault(member.username, {})[paper] = up
        except (Refused, OSError, http.client.HTTPException) as exc:
            tally.fail(f"{type(exc).__name__}: {exc}")
        next_at += 1 / rate
        pause = next_at - time.monotonic()
        if pause > 0:
            stop.wait(pause)


@dataclass
class Probe:
    """Votes whose appearance on the anonymous daily page was timed."""

    # Seconds from the vote's answer to the start of the first page request that showed
    # it (how stale the served page was), and to that page's arrival (what a reader waited).
    delays: list[float] = field(default_factory=list)
    waits: list[float] = field(default_factory=list)
    unseen: int = 0  # votes not shown within the probe's patience
    errors: list[str] = field(default_factory=list)
    polls: int = 0

    def summary(self, bound: float | None) -> dict:
        """The figures the report prints (``bound``: the documented staleness bound)."""
        return {"votes": len(self.delays) + self.unseen, "shown": len(self.delays),
                "p50_s": percentile(self.delays, 50), "max_s": max(self.delays, default=None),
                "wait_p50_s": percentile(self.waits, 50),
                "wait_max_s": max(self.waits, default=None), "unseen": self.unseen,
                "errors": self.errors[:5], "polls": self.polls, "bound_s": bound}


def _poll(base: str, listing: str, paper_pk: int, expected: int, answered: float,
          shows: list, lock: threading.Lock) -> None:
    started = time.monotonic()
    try:
        status, _, body = request(base, "GET", listing)
    except (OSError, http.client.HTTPException):
        return
    if status == 200 and count_on_page(body.decode("utf-8", "replace"), paper_pk) == expected:
        with lock:
            shows.append((started - answered, time.monotonic() - answered))


def probe_votes(member: Member, paper_pk: int, count: int, spacing: float, probe: Probe,
                stop: threading.Event, listing: str = "/papers", patience: float = 60.0,
                every: float = 0.05) -> None:
    """``count`` votes (up, down, up, ...) by ``member`` on ``paper_pk``, ``spacing`` seconds
    apart. After each, anonymous readers request ``listing`` every ``every`` seconds (each
    on its own connection, so a slow answer under load does not space the next request
    out) until one shows the count the vote's own answer gave."""
    try:
        member.sign_in(listing)
        member.post(f"/votes/{paper_pk}/", {"vote": "0"}, json_answer=True)  # a known start
    except (Refused, OSError, http.client.HTTPException) as exc:
        probe.errors.append(f"probe setup: {exc}")
        return
    up = True
    for _ in range(count):
        if stop.wait(spacing):
            return
        try:
            _, data = member.post(f"/votes/{paper_pk}/", {"vote": "1" if up else "0"},
                                  json_answer=True)
        except (Refused, OSError, http.client.HTTPException) as exc:
            probe.errors.append(f"probe vote: {type(exc).__name__}: {exc}")
            continue
        answered = time.monotonic()
        expected = json.loads(data)["upvotes"]
        shows: list[tuple[float, float]] = []
        lock = threading.Lock()
        polls: list[threading.Thread] = []
        while not shows and time.monotonic() - answered < patience:
            if sum(poll.is_alive() for poll in polls) >= 40:  # the server is that slow
                time.sleep(every)
                continue
            polls.append(threading.Thread(target=_poll, args=(
                member.base, listing, paper_pk, expected, answered, shows, lock), daemon=True))
            polls[-1].start()
            time.sleep(every)
        for poll in polls:
            poll.join(timeout=patience)
        probe.polls += len(polls)
        if shows:
            probe.delays.append(min(start for start, _ in shows))
            probe.waits.append(min(end for _, end in shows))
        else:
            probe.unseen += 1
            probe.errors.append(f"vote on {paper_pk} not shown after {patience:.0f} s "
                                f"(expected count {expected})")
        up = not up


def probe_paper(base: str) -> int:
    """The paper the probe votes on: the anonymous daily page's top one, which stays on
    the first page whatever one vote does."""
    status, _, body = request(base, "GET", "/papers")
    listed = listed_pks(body.decode())
    if status != 200 or not listed:
        raise RuntimeError(f"/papers answered {status} with no papers to vote on")
    return listed[0]


def start_probe(base: str, prober: tuple, paper_pk: int, votes: int, seconds: float,
                stop: threading.Event) -> tuple[Probe, threading.Thread]:
    """:func:`probe_votes` in a thread: ``votes`` spread over ``seconds``, by the member
    whose (username, session cookie) is ``prober``."""
    probe = Probe()
    member = Member(base, *prober)
    spacing = max(1.0, seconds / (votes + 1))
    thread = threading.Thread(target=probe_votes, args=(
        member, paper_pk, votes, spacing, probe, stop), daemon=True)
    thread.start()
    return probe, thread


def percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]
