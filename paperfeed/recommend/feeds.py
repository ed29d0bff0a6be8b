"""A member's recommendations as a private RSS/Atom feed (secret URL, no sign-in).

Feed readers cannot sign in, so the URL carries a random token (``PrivateFeed``); a
member can replace it, which revokes the old URL. Items are the stored recommendations
of the daily job (``paperfeed recommend``), best first, each with its reason.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.urls import reverse
from django.utils.html import escape

from paperfeed.api.feeds import AtomFeedType, PaperFeed
from paperfeed.papers.models import Paper
from paperfeed.recommend.models import PrivateFeed, Recommendation


class ForYouFeed(PaperFeed):
    def __call__(self, request, *args, **kwargs):
        response = super().__call__(request, *args, **kwargs)
        response["Cache-Control"] = "private, max-age=300"  # one member's picks
        return response

    def get_object(self, request, token: str):
        feed = PrivateFeed.objects.select_related("user").filter(token=token, user__is_active=True).first()
        if feed is None:
            raise Http404("No such feed (the link may have been replaced).")
        return feed.user

    def title(self, user) -> str:
        return f"{settings.SITE_NAME}: papers for {user.get_username()}"

    def link(self, user) -> str:
        return reverse("recommend:for_you")

    description = "Recent papers picked for you, each with the reason."

    def items(self, user):
        rows = list(Recommendation.objects.filter(user=user, paper__status=Paper.Status.VISIBLE)
                    .order_by("-score", "pk").values_list("paper_id", "reason")[:100])
        reasons = dict(rows)
        order = {pid: i for i, (pid, _) in enumerate(rows)}
        papers = sorted(Paper.objects.for_listing().filter(pk__in=order), key=lambda p: order[p.pk])
        # On the paper, not on self: one Feed instance serves every request and thread.
        for paper in papers:
            paper.recommendation_reason = reasons[paper.pk]
        return papers

    def item_description(self, item: Paper) -> str:
        reason = getattr(item, "recommendation_reason", "")
        lead = f"<p><em>{escape(reason)}</em></p>" if reason else ""
        return lead + super().item_description(item)


class ForYouAtomFeed(ForYouFeed):
    feed_type = AtomFeedType
