"""Recommendations for a member: gather their papers, train, score recent papers, explain.

The member's papers are the positives: upvoted (community votes), saved, and imported
into their library. Papers they marked "not interested" are negatives with extra weight;
a sample of other papers is the background. A paper without a stored embedding is still
scored by its words: its semantic signals count as average (z = 0).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import numpy as np
from django.db.models import Q
from django.utils import timezone

from paperfeed.community.models import Vote
from paperfeed.conf import value
from paperfeed.papers import trending
from paperfeed.papers.models import Paper, TrendingRank
from paperfeed.recommend import model as rec
from paperfeed.recommend.features import lexical_features
from paperfeed.recommend.models import Feedback, Interest, UserModelState

BACKGROUND = 1000
DISMISSED_WEIGHT = 5.0
TOPIC_BONUS = 1.0  # in standard deviations of the member's background scores
_WHY = {"vote": "you upvoted", Feedback.Kind.SAVED: "you saved", Feedback.Kind.LIBRARY: "in your library"}


@dataclass
class Recommended:
    paper: Paper
    score: float
    reasons: list[str]


def _paper_text(paper: Paper) -> str:
    return f"{paper.title}. {paper.abstract}".strip(". ")


def positives_for(user) -> dict[int, str]:
    """Paper id -> why it is one of the member's papers (first reason wins)."""
    found: dict[int, str] = {}
    for pid in Vote.objects.filter(user=user).order_by("-created_at").values_list("paper_id", flat=True)[:500]:
        found.setdefault(pid, "vote")
    rows = Feedback.objects.filter(user=user, kind__in=[Feedback.Kind.SAVED, Feedback.Kind.LIBRARY])
    for pid, kind in rows.order_by("-created_at").values_list("paper_id", "kind")[:2000]:
        found.setdefault(pid, kind)
    return found


def dismissed_for(user) -> set[int]:
    return set(Feedback.objects.filter(user=user, kind=Feedback.Kind.NOT_INTERESTED)
               .values_list("paper_id", flat=True))


def _vectors(paper_ids: list[int]) -> dict[int, np.ndarray]:
    from paperfeed.search.embeddings import configured_model
    from paperfeed.search.models import PaperEmbedding

    rows = PaperEmbedding.objects.filter(paper_id__in=paper_ids, model=configured_model())
    return {pid: PaperEmbedding.unpack(vec) for pid, vec in rows.values_list("paper_id", "vector")}


def _semantic(papers: list[Paper], vectors: dict[int, np.ndarray], dim: int) -> np.ndarray:
    """Rows of embeddings; papers without one get NaN rows (scored as average)."""
    matrix = np.full((len(papers), dim), np.nan, dtype=np.float32)
    for i, paper in enumerate(papers):
        if paper.pk in vectors:
            matrix[i] = vectors[paper.pk]
    return matrix


def _signature(positives: dict[int, str], dismissed: set[int]) -> str:
    text = ",".join(map(str, sorted(positives))) + "|" + ",".join(map(str, sorted(dismissed)))
    return hashlib.sha256(text.encode()).hexdigest()


def model_for(user, *, retrain: bool = False) -> tuple[rec.UserModel | None, dict[int, str]]:
    """The member's model, trained now if their papers changed since it was stored."""
    positives, dismissed = positives_for(user), dismissed_for(user)
    if not positives:
        return None, positives
    signature = _signature(positives, dismissed)
    state = UserModelState.objects.filter(user=user).first()
    if state and state.signature == signature and not retrain:
        return rec.UserModel.from_bytes(bytes(state.data)), positives
    trained = _train(positives, dismissed)
    if trained is None:
        return None, positives
    data = trained.to_bytes()
    UserModelState.objects.update_or_create(
        user=user, defaults={"signature": signature, "data": data, "trained_at": timezone.now()})
    # Score with the stored form (float16 neighbours), exactly as later rounds will.
    return rec.UserModel.from_bytes(data), positives


def _train(positives: dict[int, str], dismissed: set[int]) -> rec.UserModel | None:
    pos_papers = list(Paper.objects.filter(pk__in=positives).only("pk", "title", "abstract"))
    excluded = set(positives) | dismissed
    # A random background, preferring papers that have embeddings (cheap: ids only).
    background_ids = list(
        Paper.objects.visible().exclude(pk__in=excluded).order_by("?").values_list("pk", flat=True)[:BACKGROUND]
    )
    neg_papers = list(Paper.objects.filter(pk__in=background_ids + sorted(dismissed)).only("pk", "title", "abstract"))
    if not pos_papers or not neg_papers:
        return None
    vectors = _vectors([p.pk for p in pos_papers + neg_papers])
    dim = next(iter(vectors.values())).shape[0] if vectors else 0
    # Papers without embeddings train the lexical part only; the semantic SVM needs
    # vectors on both sides, so without any we fall back to a model of words alone.
    pos_sem = _semantic(pos_papers, vectors, dim)
    neg_sem = _semantic(neg_papers, vectors, dim)
    weights = np.array([DISMISSED_WEIGHT if p.pk in dismissed else 1.0 for p in neg_papers])
    return rec.train(
        lexical_features([_paper_text(p) for p in pos_papers]), pos_sem,
        lexical_features([_paper_text(p) for p in neg_papers]), neg_sem, weights,
    )


def window(now: dt.datetime | None = None) -> tuple[dt.date, dt.date] | None:
    """The days recommendations are drawn from: the feed's last N days.

    As for trending, an archive that stopped being fed (like the demo corpus) uses the
    N days up to its newest feed day rather than showing nothing.
    """
    days = value("PAPERFEED_RECOMMEND_DAYS")
    latest = Paper.objects.latest_feed_day()
    if latest is None:
        return None
    today = (now or timezone.now()).date()
    last = latest if latest < today - dt.timedelta(days=days - 1) else today
    return last - dt.timedelta(days=days - 1), last


def _interest_reasons(paper: Paper, interests: list[Interest]) -> list[str]:
    reasons = []
    codes = {c.code for c in paper.categories.all()}
    text = f"{paper.title} {paper.abstract}".casefold()
    authors = {a.casefold() for a in paper.authors or []}
    for interest in interests:
        v = interest.value.casefold()
        if (interest.kind == Interest.Kind.CATEGORY and (interest.value in codes or any(c.startswith(interest.value + ".") for c in codes))) \
                or (interest.kind == Interest.Kind.KEYWORD and v in text) \
                or (interest.kind == Interest.Kind.AUTHOR and v in authors):
            reasons.append(f"Matches your topic “{interest.value}”")
    return reasons


@dataclass
class Candidates:
    """Recent papers with their features, loaded once and scored for many members."""

    papers: list[Paper]
    lexical: object
    vectors: dict[int, np.ndarray]
    span: tuple[dt.date, dt.date] | None

    @classmethod
    def load(cls, now: dt.datetime | None = None, limit: int = 20_000) -> Candidates:
        span = window(now)
        if span is None:
            return cls([], lexical_features([]), {}, None)
        papers = list(Paper.objects.for_listing().filter(feed_date__gte=span[0], feed_date__lte=span[1])
                      .order_by("-feed_date", "pk")[:limit])
        return cls(papers, lexical_features([_paper_text(p) for p in papers]),
                   _vectors([p.pk for p in papers]), span)

    @property
    def through(self) -> dt.date | None:
        """The newest feed day among the candidates."""
        return max((p.feed_date for p in self.papers), default=None)

    def newer_than(self, day: dt.date) -> Candidates:
        """The subset that entered the feed after ``day`` (what a daily round must score)."""
        keep = [i for i, p in enumerate(self.papers) if p.feed_date > day]
        return Candidates([self.papers[i] for i in keep], self.lexical[keep], self.vectors, self.span)


def recommendation_signature(user) -> str:
    """What stored recommendations depend on: the member's papers, dismissals and topics."""
    topics = ",".join(sorted(f"{k}:{v.casefold()}" for k, v in Interest.objects.filter(user=user)
                             .values_list("kind", "value")))
    base = _signature(positives_for(user), dismissed_for(user))
    return hashlib.sha256(f"{base}|{topics}".encode()).hexdigest()


def recommend(user, *, limit: int = 30, now: dt.datetime | None = None,
              candidates: Candidates | None = None) -> list[Recommended]:
    """Recent papers ranked for ``user``, each with the reasons shown to them."""
    candidates = candidates or Candidates.load(now)
    return recommend_many([user], limit=limit, now=now, candidates=candidates)[user.pk]


class _TopicMasks:
    """Which candidates match a topic, computed once per distinct topic and shared by
    every member who follows it (members' topics overlap a lot)."""

    def __init__(self, papers: list[Paper]):
        self.papers = papers
        self._texts = self._codes = self._authors = None
        self._cache: dict[tuple[str, str], np.ndarray] = {}

    def mask(self, interest: Interest) -> np.ndarray:
        key = (interest.kind, interest.value.casefold())
        if key not in self._cache:
            value = key[1]
            if interest.kind == Interest.Kind.CATEGORY:
                self._codes = self._codes or [{c.code.casefold() for c in p.categories.all()} for p in self.papers]
                hits = [value in codes or any(c.startswith(value + ".") for c in codes) for codes in self._codes]
            elif interest.kind == Interest.Kind.KEYWORD:
                self._texts = self._texts or [f"{p.title} {p.abstract}".casefold() for p in self.papers]
                hits = [value in text for text in self._texts]
            else:
                self._authors = self._authors or [{a.casefold() for a in p.authors or []} for p in self.papers]
                hits = [value in names for names in self._authors]
            self._cache[key] = np.array(hits, dtype=bool)
        return self._cache[key]

    def any(self, interests: list[Interest]) -> np.ndarray:
        result = np.zeros(len(self.papers), dtype=bool)
        for interest in interests:
            result |= self.mask(interest)
        return result


@dataclass
class _Member:
    user: object
    model: rec.UserModel | None
    positives: dict[int, str]
    excluded: set[int]
    interests: list[Interest]


def recommend_many(users, *, limit: int, candidates: Candidates,
                   now: dt.datetime | None = None) -> dict[int, list[Recommended]]:
    """Recommendations for many members at once: the daily job and the page share this.

    Members with a model are scored together (``model.score_many``); members without
    one get their topics, then what is trending.
    """
    results: dict[int, list[Recommended]] = {u.pk: [] for u in users}
    if not candidates.papers:
        return results
    topics = _TopicMasks(candidates.papers)
    position = {p.pk: i for i, p in enumerate(candidates.papers)}
    by_dim: dict[int, list[_Member]] = {}
    for user in users:
        model, positives = model_for(user)
        member = _Member(user, model, positives, set(positives) | dismissed_for(user),
                         list(Interest.objects.filter(user=user)))
        if model is None:
            results[user.pk] = _cold_start(member, candidates, topics, limit, now)
        else:
            by_dim.setdefault(model.sem_weight.shape[0], []).append(member)
    for dim, members in by_dim.items():
        semantic = _semantic(candidates.papers, candidates.vectors, dim)

        def adjust(i: int, scores: np.ndarray, members=members) -> None:
            member = members[i]
            # Following a topic is an explicit wish: a matching paper gets a fixed lift.
            scores += TOPIC_BONUS * topics.any(member.interests)
            scores[[position[pk] for pk in member.excluded if pk in position]] = -np.inf

        tops = rec.score_many([m.model for m in members], candidates.lexical, semantic,
                              top=limit, adjust=adjust)
        for member, (best, scores) in zip(members, tops, strict=True):
            picked = [(candidates.papers[i], float(s)) for i, s in zip(best, scores, strict=True)
                      if np.isfinite(s)]
            nearest = _nearest_reasons([p for p, _ in picked], candidates.vectors, member.positives)
            results[member.user.pk] = [
                Recommended(paper, score, _interest_reasons(paper, member.interests) + nearest[n])
                for n, (paper, score) in enumerate(picked)
            ]
    return results


def _nearest_reasons(papers: list[Paper], vectors, positives: dict[int, str]) -> list[list[str]]:
    """"Similar to X you upvoted": the member's paper closest to each recommendation."""
    vectors = {**vectors, **_vectors([pid for pid in positives if pid not in vectors])}
    pos_ids = [pid for pid in positives if pid in vectors]
    if not pos_ids:
        return [["Shares words with papers you liked"] for _ in papers]
    titles = dict(Paper.objects.filter(pk__in=pos_ids).values_list("pk", "title"))
    pos = np.stack([vectors[pid] for pid in pos_ids])
    reasons = []
    for paper in papers:
        if paper.pk not in vectors:
            reasons.append(["Shares words with papers you liked"])
            continue
        sims = pos @ vectors[paper.pk]
        best = pos_ids[int(sims.argmax())]
        reasons.append([f"Similar to “{titles.get(best, 'a paper')}” {_WHY.get(positives[best], 'you liked')}"])
    return reasons


def _cold_start(member: _Member, candidates: Candidates, topics: _TopicMasks, limit: int,
                now: dt.datetime | None) -> list[Recommended]:
    """No papers of theirs yet: their topics first, then what is trending."""
    papers = [p for p in candidates.papers if p.pk not in member.excluded]
    rank = _trending_order(now or timezone.now())
    matches = topics.any(member.interests)
    matched = {p.pk for p, hit in zip(candidates.papers, matches, strict=True) if hit}
    order = sorted(papers, key=lambda p: (p.pk not in matched, rank.get(p.pk, len(rank)), p.pk))
    fallback = "Trending this week" if not member.interests else "Trending; no topic of yours matched"
    return [Recommended(p, 0.0, _interest_reasons(p, member.interests) or [fallback])
            for p in order[:limit]]


def _trending_order(now: dt.datetime) -> dict[int, int]:
    """Each trending paper's place in the stored ranking (papers/trending.py: the
    documented formula, computed once); an overdue one is refreshed in the background
    (this runs in a member's request)."""
    trending.for_reader(now)
    order = (TrendingRank.objects.order_by("-score", "-feed_date", "paper_id")
             .values_list("paper_id", flat=True))
    return {pk: i for i, pk in enumerate(order)}


def followed_filter(user) -> Q:
    """Papers matching a member's topics, as a query (for digests and feeds)."""
    query = Q(pk__in=[])
    for interest in Interest.objects.filter(user=user):
        if interest.kind == Interest.Kind.CATEGORY:
            query |= Q(categories__code=interest.value) | Q(categories__archive=interest.value)
        elif interest.kind == Interest.Kind.KEYWORD:
            query |= Q(title__icontains=interest.value) | Q(abstract__icontains=interest.value)
    return query
