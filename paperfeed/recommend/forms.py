from __future__ import annotations

from django import forms

from paperfeed.papers.models import Category
from paperfeed.recommend.models import Interest


class InterestForm(forms.Form):
    kind = forms.ChoiceField(choices=Interest.Kind.choices)
    value = forms.CharField(max_length=200, strip=True)

    def clean(self):
        data = super().clean()
        kind, value = data.get("kind"), data.get("value", "")
        if kind == Interest.Kind.CATEGORY and value and not (
            Category.objects.filter(code=value).exists() or Category.objects.filter(archive=value).exists()
        ):
            self.add_error("value", f"{value!r} is not an arXiv category (e.g. cs.LG, or cs for all of it).")
        if kind == Interest.Kind.KEYWORD and value and len(value) < 3:
            self.add_error("value", "Use a keyword of at least 3 letters.")
        return data


class RemoveInterestForm(forms.Form):
    """The "remove" button of a topic: its id, checked before it reaches a query."""

    remove = forms.IntegerField(min_value=1, max_value=2**63 - 1)


class LibraryForm(forms.Form):
    library = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}), max_length=2_000_000,
        help_text="arXiv ids or URLs (one per line), or a BibTeX export (e.g. from Zotero).",
    )
