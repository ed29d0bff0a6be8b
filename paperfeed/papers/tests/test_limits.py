"""Records are checked against the columns they go to (papers/limits.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from paperfeed.papers.models import Paper, Source, SourceRecord
from paperfeed.papers.records import InvalidRecord, PaperRecord, VersionRecord


def _record(**fields) -> PaperRecord:
    return PaperRecord(**{"source": Source.HF_DAILY, "original_id": "x", "title": "T", **fields})


def test_the_limits_are_the_model_fields():
    most = Paper._meta.get_field("doi").max_length
    assert _record(doi="d" * most).doi == "d" * most
    with pytest.raises(InvalidRecord, match=f"'doi' is {most + 1} characters, longer than "
                                            f"the {most}"):
        _record(doi="d" * (most + 1))
    longest_id = SourceRecord._meta.get_field("original_id").max_length
    with pytest.raises(InvalidRecord, match="'original_id'"):
        _record(original_id="i" * (longest_id + 1))


def test_display_names_are_shortened_to_their_column_with_an_ellipsis():
    most = Paper._meta.get_field("organization").max_length
    record = _record(organization="O" * 5_000, submitted_by="S " * 150)
    assert len(record.organization) == most and record.organization.endswith("O…")
    assert len(record.submitted_by) <= most and record.submitted_by.endswith("S…")


@pytest.mark.parametrize("fields, says", [
    ({"upvotes": -1}, "'upvotes' is -1, outside 0..2147483647"),
    ({"github_stars": 2**31}, "'github_stars' is 2147483648, outside"),
    ({"num_comments": 3.0}, "'num_comments' is a float, not a whole number"),
    ({"upvotes": True}, "'upvotes' is a bool, not a whole number"),
    ({"title": ["a", "b"]}, "'title' is a list, not text"),
    ({"authors": ("A", 5)}, "'authors' is not a list of texts"),
    ({"categories": ("cs.LG", "x" * 33)}, "category 'xxx"),
    ({"published_on": "2024-01-01"}, "'published_on' is a str, not a date"),
    ({"versions": (VersionRecord(-1),)}, "version -1 is not a whole number"),
    ({"versions": (VersionRecord(1, size="9" * 40),)}, "version 1's size is 40 characters"),
])
def test_values_no_column_can_hold_are_refused_naming_the_field(fields, says):
    with pytest.raises(InvalidRecord, match=says):
        _record(**fields)


def test_choices_and_other_str_subclasses_are_text():
    record = _record(published_on=dt.date(2024, 1, 1), authors=["A"], upvotes=0)
    assert record.source == "hf-daily"
