"""Members submit papers by arXiv id; the paper enters the daily feed of that day.

Rules (docs/community.md, "Submitting a paper"), each with its own message:
a daily cap per member, one submission per paper, no paper already in the feed or
taken down by a curator, and only papers whose first version is at most
``PAPERFEED_SUBMISSION_WINDOW_DAYS`` old.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone

from paperfeed.community import comments
from paperfeed.community.models import Submission
from paperfeed.lib.arxiv_ids import ArxivId
from paperfeed.papers.merge import apply_records
from paperfeed.papers.models import Paper, Source
from paperfeed.papers.records import PaperRecord
from paperfeed.sources import arxiv_api
from paperfeed.sources.http import PoliteClient, SourceError


class Refused(Exception):
    """A submission rule said no; the message tells the member which and why.

    ``status`` is the HTTP status the JSON API answers with: 409 for a paper that cannot
    enter the feed again, 422 for one arXiv does not know or that is too old, 429 for the
    daily cap, 503 when arXiv cannot be reached.
    """

    def __init__(self, message: str, status: int = 409):
        super().__init__(message)
        self.status = status


def _day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = timezone.make_aware(dt.datetime.combine(day, dt.time()))
    return start, start + dt.timedelta(days=1)


def check_rules(user: AbstractBaseUser, arxiv_id: ArxivId, today: dt.date) -> None:
    """The rules we can check without asking arXiv (cheap, so they come first)."""
    cap = settings.COMMUNITY["SUBMISSIONS_PER_DAY"]
    start, end = _day_bounds(today)
    done = Submission.objects.filter(user=user, created_at__gte=start, created_at__lt=end).count()
    if done >= cap:
        raise Refused(f"You have submitted {done} paper{'s' if done != 1 else ''} today, the "
                      f"most allowed per day ({cap}). Please submit more tomorrow.", 429)
    paper = Paper.objects.filter(arxiv_id=arxiv_id.base).select_related("submission").first()
    if paper is None:
        return
    if hasattr(paper, "submission"):
        who = paper.submission.user.get_username() if paper.submission.user else "a member"
        raise Refused(f"arXiv:{arxiv_id.base} was already submitted by {who} on "
                      f"{paper.submission.feed_date:%B %-d, %Y}.")
    if paper.status != Paper.Status.VISIBLE:
        raise Refused(f"arXiv:{arxiv_id.base} was taken down by a curator and cannot be "
                      "submitted.")
    if paper.feed_date is not None:
        raise Refused(f"arXiv:{arxiv_id.base} is already in the daily feed of "
                      f"{paper.feed_date:%B %-d, %Y}.")


def fetch_record(arxiv_id: ArxivId) -> PaperRecord:
    try:
        # The API address is PAPERFEED_ARXIV_API_URL (declared by the sources app).
        # A member is waiting on the page: fail fast rather than retry for a minute.
        client = PoliteClient(timeout=15, max_retries=0)
        [record] = arxiv_api.fetch_by_ids([arxiv_id.versioned], client=client)
    except arxiv_api.MalformedIdError as exc:
        raise Refused(f"arXiv does not accept {arxiv_id.versioned!s} as an id ({exc}).",
                      422) from None
    except arxiv_api.UnknownIdError:
        raise Refused(f"arXiv has no paper {arxiv_id.versioned}. Check the id?", 422) from None
    except SourceError:
        raise Refused("arXiv could not be reached just now; nothing was saved. "
                      "Please try again in a few minutes.", 503) from None
    return record


def _check_window(record: PaperRecord, today: dt.date) -> None:
    days = settings.COMMUNITY["SUBMISSION_WINDOW_DAYS"]
    first = record.published_on
    if first is None and record.versions and record.versions[0].submitted_at:
        first = record.versions[0].submitted_at.date()
    if first is None:
        raise Refused("arXiv does not say when this paper first appeared, so it cannot be "
                      "submitted.", 422)
    if (today - first).days > days:
        raise Refused(f"This paper first appeared on arXiv on {first:%B %-d, %Y}. Only papers "
                      f"from the last {days} days can be submitted.", 422)


def submit(user: AbstractBaseUser, arxiv_id: ArxivId, comment: str = "") -> Paper:
    """Fetch, check every rule, and put the paper in today's feed; raises :class:`Refused`."""
    today = timezone.localdate()
    check_rules(user, arxiv_id, today)
    record = fetch_record(arxiv_id)  # outside the transaction: never hold a lock on the network
    _check_window(record, today)
    entry = PaperRecord(source=Source.SUBMISSION, original_id=record.arxiv_id or arxiv_id.base,
                        title=record.title, arxiv_id=record.arxiv_id, feed_date=today,
                        submitted_by=user.get_username(),
                        submitter_name=user.get_full_name().strip())
    try:
        with transaction.atomic():
            check_rules(user, arxiv_id, today)  # again: another member may have been quicker
            apply_records([record, entry])
            paper = Paper.objects.get(arxiv_id=record.arxiv_id)
            Submission.objects.create(user=user, paper=paper, feed_date=today)
            if comment.strip():
                comments.post_comment(user, paper, comment.strip())
    except IntegrityError:
        raise Refused(f"arXiv:{arxiv_id.base} was submitted by another member a moment "
                      "ago.") from None
    return paper
