from __future__ import annotations

from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404, HttpResponsePermanentRedirect
from django.utils.functional import cached_property
from django.views.generic import DetailView, ListView

from paperfeed.papers import trending as stored
from paperfeed.papers.models import Paper, TrendingRank
from paperfeed.papers.views.mixins import CategoryFilterMixin, PaperListMixin


class _CountedPaginator(Paginator):
    """A paginator told its count instead of counting its query."""

    def __init__(self, object_list, per_page, *, count: int, **kwargs) -> None:
        super().__init__(object_list, per_page, **kwargs)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


class TrendingView(CategoryFilterMixin, ListView):
    template_name = "papers/trending.html"
    context_object_name = "papers"
    paginate_by = 50

    def get_paginator(self, queryset, per_page, orphans=0, allow_empty_first_page=True, **kwargs):
        if self.get_category() is not None:
            return super().get_paginator(queryset, per_page, orphans, allow_empty_first_page)
        # Every stored row is a visible paper's (a hide rescores the paper, which drops its
        # row), so the page count is the table's size: counting the ranked query joined all
        # ~30,000 candidates to the papers again, 63 ms at 1M papers.
        return _CountedPaginator(queryset, per_page, count=TrendingRank.objects.count(),
                                 orphans=orphans, allow_empty_first_page=allow_empty_first_page)

    def get_queryset(self):
        # Normally the worker keeps the stored ranking fresh; without one (a laptop's
        # `paperfeed serve`), a background thread refreshes it after twice the interval.
        self.window = stored.for_reader()
        return stored.ranked(self.filter_category(Paper.objects.for_listing()))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(window=self.window, category=self.get_category(),
                       category_query=self.category_query(), nav="trending",
                       gravity=settings.PAPERFEED["TRENDING_GRAVITY"],
                       days=settings.PAPERFEED["TRENDING_DAYS"])
        return context


class AllPapersView(PaperListMixin, ListView):
    """Every paper, dated or not: newest first, or most upvoted with ``?sort=upvotes``."""

    template_name = "papers/all.html"
    sorts = {
        "newest": ["-published_on", "-upvotes", "title", "pk"],
        "upvotes": ["-upvotes", "-published_on", "title", "pk"],
        "title": ["title", "pk"],
    }

    def get_sort(self) -> str:
        sort = self.request.GET.get("sort", "newest")
        return sort if sort in self.sorts else "newest"

    def get_ordering(self):
        from django.db.models import F

        ordering = self.sorts[self.get_sort()]
        if ordering[0] == "-published_on":
            # Undated papers last, on SQLite and PostgreSQL alike.
            return [F("published_on").desc(nulls_last=True), *ordering[1:]]
        return ordering

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sort"] = self.get_sort()
        context["sorts"] = list(self.sorts)
        context["nav"] = "all"
        return context


class PaperDetailView(DetailView):
    template_name = "papers/detail.html"
    context_object_name = "paper"

    def get_object(self, queryset=None):
        public_id = self.kwargs["public_id"]
        try:
            return (
                Paper.objects.visible().with_upvotes()
                .select_related("primary_category").prefetch_related("categories", "versions",
                                                                     "source_records")
                .lookup(public_id)
            )
        except Paper.DoesNotExist:
            raise Http404(f"No paper {public_id!r} here.") from None

    def get(self, request, *args, **kwargs):
        self.object = self.get_object()
        if self.object.public_id != self.kwargs["public_id"]:
            # Papers known by a slug keep working after they gain an arXiv id.
            return HttpResponsePermanentRedirect(self.object.get_absolute_url())
        return self.render_to_response(self.get_context_data(object=self.object))
