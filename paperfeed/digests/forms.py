"""Forms: the header's subscribe box and the preferences page."""

from __future__ import annotations

import re
import zoneinfo

from django import forms

from paperfeed.digests.models import Subscriber
from paperfeed.papers.models import Category

MAX_TOPICS = 20
_SPLIT = re.compile(r"[,;\n]")


def _split(raw: str) -> list[str]:
    seen: dict[str, None] = {}
    for item in _SPLIT.split(raw or ""):
        item = " ".join(item.split())
        if item and item.casefold() not in {s.casefold() for s in seen}:
            seen[item] = None
    return list(seen)


class SubscribeForm(forms.Form):
    email = forms.EmailField(max_length=254, label="E-mail address")

    def clean_email(self) -> str:
        return self.cleaned_data["email"].strip().lower()


class ListField(forms.CharField):
    """A comma-, semicolon- or line-separated list, kept as a JSON list on the model."""

    widget = forms.Textarea(attrs={"rows": 2})

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value) -> list[str]:
        items = _split(super().to_python(value))
        if len(items) > MAX_TOPICS:
            raise forms.ValidationError(f"At most {MAX_TOPICS} entries, please.")
        if any(len(item) > 100 for item in items):
            raise forms.ValidationError("Each entry can be at most 100 characters long.")
        return items


class PreferencesForm(forms.ModelForm):
    time_zone = forms.ChoiceField(choices=[])
    max_papers = forms.IntegerField(min_value=1, max_value=50, label="Papers per digest")
    keywords = ListField(required=False, help_text="Words or phrases in the title or abstract, "
                                                   "separated by commas.")
    categories = ListField(required=False, help_text="arXiv categories (cs.LG) or whole "
                                                     "archives (cs), separated by commas.")
    authors = ListField(required=False, help_text="Authors' full names, separated by commas "
                                                  "or one per line.")

    class Meta:
        model = Subscriber
        fields = ["cadence", "weekday", "send_hour", "time_zone", "max_papers",
                  "include_trending", "keywords", "categories", "authors"]
        labels = {"include_trending": "Include the trending papers", "weekday": "Weekly on"}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        zones = sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})
        self.fields["time_zone"].choices = [(z, z) for z in zones]

    def clean_categories(self) -> list[str]:
        codes = self.cleaned_data["categories"]
        known = set(Category.objects.filter(code__in=codes).values_list("code", flat=True))
        known |= set(Category.objects.filter(archive__in=codes).values_list("archive", flat=True))
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise forms.ValidationError(f"Unknown arXiv categories: {', '.join(unknown)}.")
        return codes

    def clean(self):
        cleaned = super().clean()
        topics = any(cleaned.get(name) for name in ("keywords", "categories", "authors"))
        if not cleaned.get("include_trending") and not topics and not self.errors:
            raise forms.ValidationError(
                "Choose the trending papers, some topics, or both — otherwise the digest is empty.")
        return cleaned
