"""The core: papers, their versions, categories and where each record came from."""

from __future__ import annotations

import datetime as dt
import json

from django.db import models
from django.db.models import F, Q
from django.urls import reverse

from paperfeed.lib.text import snippet, web_url

# Names shown on a listing row before "+N".
ROW_AUTHORS = 3


@models.JSONField.register_lookup
class HasName(models.Lookup):
    """``authors__has_name="Ada Lovelace"``: the JSON list holds exactly that string.

    PostgreSQL answers with ``@>``, which the GIN index ``paper_authors_gin`` (migration
    0006, PostgreSQL only) serves. SQLite has no index for JSON list members, so it
    scans: ``instr`` on the stored text first (the quoted name, as json.dumps writes it
    through the ORM and as orjson writes it in bulk imports), then ``json_each`` for the
    exact match; instr first made a 1M-row scan ~3x faster (docs/pages.md).
    """

    lookup_name = "has_name"
    prepare_rhs = False

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} @> %s::jsonb", [*lhs_params, json.dumps([self.rhs])]

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        quoted = sorted({json.dumps(self.rhs), json.dumps(self.rhs, ensure_ascii=False)})
        found = " OR ".join(f"instr({lhs}, %s) > 0" for _ in quoted)
        return (f"({found}) AND EXISTS (SELECT 1 FROM json_each({lhs}) "
                f"WHERE json_each.value = %s)",
                [*(p for q in quoted for p in (*lhs_params, q)), *lhs_params, self.rhs])


class Category(models.Model):
    """An arXiv category (``cs.LG``) or, for old archives without subjects, the archive."""

    code = models.CharField(primary_key=True, max_length=32)
    name = models.CharField(max_length=200)
    archive = models.CharField(max_length=32, db_index=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return f"{self.code} ({self.name})"


class PaperQuerySet(models.QuerySet):
    def visible(self) -> PaperQuerySet:
        return self.filter(status=Paper.Status.VISIBLE)

    def with_upvotes(self) -> PaperQuerySet:
        """Annotate ``upvotes``: imported counts plus votes cast on this site."""
        return self.annotate(upvotes=F("upvotes_imported") + F("upvotes_local"))

    def for_listing(self) -> PaperQuerySet:
        """What a list row needs, in one query plus one for categories."""
        return (
            self.visible()
            .with_upvotes()
            .defer("ai_summary", "journal_ref", "doi", "arxiv_comments", "license")
            .prefetch_related("categories")
        )

    def ranked(self) -> PaperQuerySet:
        """Most upvoted first; ties broken by featured, then newest, then title."""
        return self.order_by("-upvotes", "-featured", "-published_on", "title", "pk")

    def in_feed(self) -> PaperQuerySet:
        return self.filter(feed_date__isnull=False)

    def for_day(self, day: dt.date) -> PaperQuerySet:
        return self.for_listing().filter(feed_date=day).ranked()

    def in_category(self, code: str) -> PaperQuerySet:
        # Matching the archive too lets ?category=cs list every cs.* paper.
        return self.filter(Q(categories__code=code) | Q(categories__archive=code)).distinct()

    def feed_days(self) -> models.QuerySet:
        return self.visible().in_feed().values_list("feed_date", flat=True).distinct()

    def latest_feed_day(self) -> dt.date | None:
        return self.visible().in_feed().aggregate(latest=models.Max("feed_date"))["latest"]

    def nearest_feed_days(self, day: dt.date) -> tuple[dt.date | None, dt.date | None]:
        """The closest days with papers strictly before and after ``day``."""
        days = self.visible().in_feed()
        before = days.filter(feed_date__lt=day).aggregate(d=models.Max("feed_date"))["d"]
        after = days.filter(feed_date__gt=day).aggregate(d=models.Min("feed_date"))["d"]
        return before, after

    def newest_first(self) -> PaperQuerySet:
        """By publication date (undated last), then feed day; the pk keeps pages stable."""
        return self.order_by(F("published_on").desc(nulls_last=True),
                             F("feed_date").desc(nulls_last=True), "-pk")

    def by_author(self, name: str) -> PaperQuerySet:
        """Papers whose byline holds exactly ``name`` (as the sources spell it)."""
        return self.for_listing().filter(authors__has_name=name).newest_first()

    def by_organization(self, name: str) -> PaperQuerySet:
        return self.for_listing().filter(organization=name).newest_first()

    def lookup(self, public_id: str) -> Paper:
        """Find a paper by the id shown in its URL: its arXiv id, else its slug."""
        return self.get(Q(arxiv_id=public_id) | Q(slug=public_id))


class Paper(models.Model):
    class Status(models.TextChoices):
        VISIBLE = "visible", "Visible"
        HIDDEN = "hidden", "Hidden by a curator"
        WITHDRAWN = "withdrawn", "Withdrawn"

    # arXiv id (version-less) when known; papers known only by title get a slug.
    arxiv_id = models.CharField(max_length=32, unique=True, null=True, blank=True)
    slug = models.SlugField(max_length=100, unique=True)
    title = models.TextField()
    title_key = models.CharField(max_length=300, db_index=True, editable=False)
    abstract = models.TextField(blank=True)
    authors = models.JSONField(default=list, blank=True)  # names, in byline order
    author_count = models.PositiveIntegerField(null=True, blank=True)
    categories = models.ManyToManyField(Category, related_name="papers", blank=True)
    primary_category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    published_on = models.DateField(null=True, blank=True, db_index=True)
    updated_on = models.DateField(null=True, blank=True)
    # Indexed by paper_feed_idx, which starts with it.
    feed_date = models.DateField(null=True, blank=True)
    latest_version = models.PositiveIntegerField(null=True, blank=True)

    # Counts from sources and counts from this site are kept apart so that a
    # re-import never overwrites local votes and local votes never hide a source's.
    upvotes_imported = models.PositiveIntegerField(default=0)
    upvotes_local = models.PositiveIntegerField(default=0)
    comments_imported = models.PositiveIntegerField(default=0)
    comments_local = models.PositiveIntegerField(default=0)

    pdf_url = models.URLField(max_length=500, blank=True)
    code_url = models.URLField(max_length=500, blank=True)
    project_url = models.URLField(max_length=500, blank=True)
    github_stars = models.PositiveIntegerField(null=True, blank=True)
    organization = models.CharField(max_length=200, blank=True)  # its full name
    organization_handle = models.CharField(max_length=100, blank=True)  # HF's org "name"
    submitted_by = models.CharField(max_length=200, blank=True)  # the submitter's user name
    submitter_name = models.CharField(max_length=200, blank=True)  # their full name
    # Whether an author takes part, as a source said (HF's isAuthorParticipating);
    # None: no source said, and the API works it out (api.serializers).
    author_participating = models.BooleanField(null=True, blank=True, default=None)
    ai_summary = models.TextField(blank=True)
    ai_keywords = models.JSONField(default=list, blank=True)
    journal_ref = models.TextField(blank=True)
    doi = models.CharField(max_length=200, blank=True)
    arxiv_comments = models.TextField(blank=True)
    license = models.CharField(max_length=200, blank=True)

    status = models.CharField(max_length=16, choices=Status.choices, default=Status.VISIBLE)
    featured = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PaperQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["feed_date", "upvotes_imported"], name="paper_feed_idx"),
            models.Index(fields=["status", "feed_date"], name="paper_status_feed_idx"),
            # Organisation pages; most papers have none, so only those that do are indexed.
            models.Index(fields=["organization", "published_on"], name="paper_org_idx",
                         condition=~Q(organization="")),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("papers:detail", args=[self.public_id])

    @property
    def public_id(self) -> str:
        return self.arxiv_id or self.slug

    @property
    def total_upvotes(self) -> int:
        annotated = getattr(self, "upvotes", None)
        return annotated if annotated is not None else self.upvotes_imported + self.upvotes_local

    @property
    def total_comments(self) -> int:
        return self.comments_imported + self.comments_local

    @property
    def shown_author_count(self) -> int | None:
        return len(self.authors) if self.authors else self.author_count

    @property
    def row_authors(self) -> list[str]:
        return self.authors[:ROW_AUTHORS] if self.authors else []

    @property
    def more_authors(self) -> int:
        """How many names the row leaves out ("+N")."""
        return max(0, len(self.authors) - ROW_AUTHORS) if self.authors else 0

    @property
    def abstract_snippet(self) -> str:
        return snippet(self.abstract, 300)

    @property
    def arxiv_url(self) -> str:
        return f"https://arxiv.org/abs/{self.arxiv_id}" if self.arxiv_id else ""

    @property
    def best_pdf_url(self) -> str:
        if web_url(self.pdf_url):
            return self.pdf_url
        return f"https://arxiv.org/pdf/{self.arxiv_id}" if self.arxiv_id else ""


class PaperVersion(models.Model):
    # Indexed by unique_paper_version, which starts with it.
    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="versions",
                              db_index=False)
    version = models.PositiveIntegerField()
    submitted_at = models.DateTimeField(null=True, blank=True)
    size = models.CharField(max_length=32, blank=True)
    # This version's own text; empty for the paper's latest version, whose text is the
    # paper's title and abstract (see ``text``).
    title = models.TextField(blank=True)
    abstract = models.TextField(blank=True)

    class Meta:
        ordering = ["paper", "version"]
        constraints = [
            models.UniqueConstraint(fields=["paper", "version"], name="unique_paper_version")
        ]

    def __str__(self) -> str:
        return f"{self.paper_id} v{self.version}"

    @property
    def text(self) -> tuple[str, str]:
        """(title, abstract) of this version, as far as any source told us."""
        if not (self.title or self.abstract) and self.version == self.paper.latest_version:
            return self.paper.title, self.paper.abstract
        return self.title, self.abstract


class Source(models.TextChoices):
    PAGES = "pages", "Saved listing page"
    ARXIV_OAI = "arxiv-oai", "arXiv OAI-PMH"
    ARXIV_API = "arxiv-api", "arXiv API"
    ARXIV_RSS = "arxiv-rss", "arXiv RSS"
    HF_DAILY = "hf-daily", "Hugging Face Daily Papers"
    KAGGLE = "kaggle", "Kaggle arXiv snapshot"
    SUBMISSION = "submission", "Community submission"


class SourceRecord(models.Model):
    """Provenance: one row per (source, the source's own id), pointing at the paper."""

    paper = models.ForeignKey(Paper, on_delete=models.CASCADE, related_name="source_records")
    source = models.CharField(max_length=32, choices=Source.choices)
    original_id = models.CharField(max_length=300)
    fetched_at = models.DateTimeField()
    content_hash = models.CharField(max_length=32)
    upvotes = models.PositiveIntegerField(null=True, blank=True)
    num_comments = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "original_id"], name="unique_source_record")
        ]

    def __str__(self) -> str:
        return f"{self.source}:{self.original_id}"


class PendingAnnouncement(models.Model):
    """A bulk import whose changes have not been announced (``papers_changed_since``) yet.

    Written when a deferred bulk block starts and deleted once its listeners have caught
    up, so an import killed half-way leaves this behind and the next one (or
    ``paperfeed reindex``) announces everything changed since then.
    """

    since = models.DateTimeField()
    label = models.CharField(max_length=300, blank=True)

    def __str__(self) -> str:
        return f"changes since {self.since:%Y-%m-%d %H:%M:%S} ({self.label})"


class TrendingRank(models.Model):
    """One candidate of the trending page with its score, computed once (papers/trending.py).

    Materialised so the page is an indexed read whatever the corpus size: the candidates
    of the last PAPERFEED_TRENDING_DAYS, scored at ``TrendingSnapshot.reference``.
    """

    paper = models.OneToOneField(Paper, primary_key=True, on_delete=models.CASCADE,
                                 related_name="trending_rank")
    score = models.FloatField()
    feed_date = models.DateField()  # copied for the tie-break, so the index covers the order

    class Meta:
        indexes = [models.Index(F("score").desc(), F("feed_date").desc(), "paper",
                                name="trending_rank_order_idx")]

    def __str__(self) -> str:
        return f"{self.paper_id}: {self.score:.4f}"


class TrendingSnapshot(models.Model):
    """The one row saying when and for which window ``TrendingRank`` was computed."""

    reference = models.DateTimeField()
    first_day = models.DateField()
    last_day = models.DateField()
    stale = models.BooleanField(default=False)
    gravity = models.FloatField()
    days = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"trending at {self.reference:%Y-%m-%d %H:%M} UTC"
class PaperChange(models.Model):
    """One entry of the change log: papers that followers of the core must read again.

    Written in the same transaction as the change (``papers.changelog.record``), so a
    committed change always has its entry and a rolled-back one never does. One row per
    batch, listing its papers: a bulk import of a million papers adds ~500 rows.
    ``txid`` orders entries across concurrent writers on PostgreSQL (see changelog.py).
    """

    txid = models.BigIntegerField(default=0)
    paper_ids = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["txid", "id"], name="paperchange_order_idx")]

    def __str__(self) -> str:
        return f"change {self.txid}/{self.pk}: {len(self.paper_ids)} papers"


class ChangeLogHorizon(models.Model):
    """The log position below which entries were pruned (one row): older readers start over."""

    txid = models.BigIntegerField(default=0)
    change_id = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"pruned up to {self.txid}/{self.change_id}"
