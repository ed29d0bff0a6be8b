from __future__ import annotations

from django.conf import settings
from django.http import Http404

from paperfeed.papers.models import Category, Paper, PaperQuerySet


class CategoryFilterMixin:
    """``?category=cs.LG`` (or an archive, ``?category=cs``) narrows any listing."""

    request = None

    def get_category(self) -> Category | None:
        if not hasattr(self, "_category"):
            code = (self.request.GET.get("category") or "").strip()
            self._category = None
            if code:
                self._category = Category.objects.filter(code=code).first()
                if self._category is None and not Category.objects.filter(archive=code).exists():
                    raise Http404(f"There is no arXiv category {code!r}.")
                if self._category is None:
                    self._category = Category(code=code, name=f"all of {code}", archive=code)
        return self._category

    def filter_category(self, queryset: PaperQuerySet) -> PaperQuerySet:
        category = self.get_category()
        return queryset.in_category(category.code) if category else queryset

    def category_query(self) -> str:
        category = self.get_category()
        return f"?category={category.code}" if category else ""


class PaperListMixin(CategoryFilterMixin):
    """Shared by every page that lists papers ranked by upvotes."""

    model = Paper
    date_field = "feed_date"
    allow_empty = True
    allow_future = True
    context_object_name = "papers"
    make_object_list = True

    def get_paginate_by(self, queryset) -> int:
        return settings.PAPERFEED["PAGE_SIZE"]

    def get_queryset(self) -> PaperQuerySet:
        return self.filter_category(Paper.objects.for_listing()).order_by(*self.get_ordering())

    def get_ordering(self):
        return ["-upvotes", "-featured", "-published_on", "title", "pk"]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["category"] = self.get_category()
        context["category_query"] = self.category_query()
        context["chips_filter_here"] = True  # a category chip narrows this very listing
        return context
