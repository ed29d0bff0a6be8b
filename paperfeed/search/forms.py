"""The search page's parameters, validated (bad values fall back, they never error)."""

from __future__ import annotations

from django import forms

from paperfeed.search.engine import MODES

SORTS = ("relevance", "newest", "upvotes")


class SearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=5000, strip=True)
    mode = forms.ChoiceField(choices=[(m, m) for m in MODES], required=False)
    sort = forms.ChoiceField(choices=[(s, s) for s in SORTS], required=False)
    category = forms.CharField(required=False, max_length=40)
    author = forms.CharField(required=False, max_length=200)
    date_from = forms.DateField(required=False, label="From")
    date_to = forms.DateField(required=False, label="To")

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def value(self, name: str, default=""):
        """The cleaned value, or ``default`` when it was missing or invalid."""
        if not self.is_bound:
            return default
        cleaned = getattr(self, "cleaned_data", {})
        return cleaned.get(name) or default
