"""Author and organisation pages: every paper with that name on it, newest first."""

from __future__ import annotations

from django.conf import settings
from django.http import Http404
from django.views.generic import ListView

from paperfeed.papers.models import Paper, PaperQuerySet


class _NamedPapersView(ListView):
    """The papers of one name (from the URL, as the sources spell it); 404 if none."""

    template_name = "papers/named.html"
    context_object_name = "papers"
    # An empty first page is a 404 (paginate_queryset), which saves BaseListView's own
    # emptiness query.
    allow_empty = True
    kind = ""

    def get_paginate_by(self, queryset) -> int:
        return settings.PAPERFEED["PAGE_SIZE"]

    def papers_of(self, name: str) -> PaperQuerySet:
        raise NotImplementedError

    def get_queryset(self) -> PaperQuerySet:
        # Exactly as stored (and linked): stripping would break a name a source padded.
        name = self.kwargs["name"]
        if not name.strip() or len(name) > 300:
            raise Http404(f"No {self.kind} {name!r} here.")
        return self.papers_of(name)

    def paginate_queryset(self, queryset, page_size):
        result = super().paginate_queryset(queryset, page_size)
        if not result[0].count:
            raise Http404(f"No {self.kind} {self.kwargs['name']!r} here.")
        return result

    def get_context_data(self, **kwargs):
        return super().get_context_data(name=self.kwargs["name"], kind=self.kind,
                                        **kwargs)


class AuthorView(_NamedPapersView):
    kind = "author"

    def papers_of(self, name: str) -> PaperQuerySet:
        return Paper.objects.by_author(name)


class OrganizationView(_NamedPapersView):
    kind = "organization"

    def papers_of(self, name: str) -> PaperQuerySet:
        return Paper.objects.by_organization(name)
