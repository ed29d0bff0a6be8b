"""Author and organisation pages (/papers/authors/<name>, /papers/organizations/<name>)."""

import datetime as dt

import pytest
from django.db import connection
from django.urls import reverse
from django.utils.html import escape

from paperfeed.papers.models import Paper
from paperfeed.papers.tests.factories import paper

pytestmark = pytest.mark.django_db


def _titles(response) -> list[str]:
    return [p.title for p in response.context["papers"]]


def test_an_author_page_lists_exactly_their_papers_newest_first(client):
    paper(title="Old", authors=("Ada Lovelace", "Alan Turing"), published_on=dt.date(2020, 1, 1))
    paper(title="New", authors=("Alan Turing", "Ada Lovelace"), published_on=dt.date(2025, 3, 1))
    paper(title="Undated", authors=("Ada Lovelace",), published_on=None, feed_date=None)
    # Near misses: a longer name, a part of the name, another case.
    paper(title="Not hers 1", authors=("Ada Lovelace-Byron",))
    paper(title="Not hers 2", authors=("Ada",))
    paper(title="Not hers 3", authors=("ada lovelace",))
    hidden = paper(title="Hidden", authors=("Ada Lovelace",))
    Paper.objects.filter(pk=hidden.pk).update(status=Paper.Status.HIDDEN)
    response = client.get("/papers/authors/Ada%20Lovelace")
    assert response.status_code == 200
    assert _titles(response) == ["New", "Old", "Undated"]
    html = response.content.decode()
    assert "<h1>Ada Lovelace</h1>" in html and "3 papers, newest first." in html


def test_names_with_any_character_round_trip_through_their_links(client):
    names = ["José Müller-Ñúñez", "O'Brien, Jr.", "A/B Team", "Ali? #1 & co 100%"]
    paper(title="Odd names", authors=tuple(names), organization="Lab / Group #2")
    html = client.get("/papers/date/2025-01-15").content.decode()
    for name in names[:3]:  # the row shows three, then "+1"
        url = reverse("papers:author", args=[name])
        assert f'href="{escape(url)}"' in html
        assert _titles(client.get(url)) == ["Odd names"], name
    assert _titles(client.get(reverse("papers:author", args=[names[3]]))) == ["Odd names"]
    assert "+1</span>" in html
    org = reverse("papers:organization", args=["Lab / Group #2"])
    assert f'href="{escape(org)}"' in html and _titles(client.get(org)) == ["Odd names"]


def test_names_are_found_whichever_way_their_json_was_written(client):
    """Bulk imports write JSON with orjson (UTF-8), the ORM with json.dumps (\\u escapes)."""
    bulk = paper(title="Bulk", authors=("Zoë Ünal", "Li 李"))
    orm = paper(title="ORM", authors=("Nobody",))
    Paper.objects.filter(pk=orm.pk).update(authors=["Zoë Ünal", "Li 李"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT authors FROM papers_paper WHERE id IN (%s, %s) ORDER BY id",
                       [bulk.pk, orm.pk])
        stored = [row[0] for row in cursor.fetchall()]
    if connection.vendor == "sqlite":
        assert "Zoë" in stored[0] and "Zo\\u00eb" in stored[1]  # really two spellings
    for name in ("Zoë Ünal", "Li 李"):
        assert sorted(_titles(client.get(reverse("papers:author", args=[name])))) == [
            "Bulk", "ORM"], name


def test_author_pages_are_paginated(client, settings):
    settings.PAPERFEED = {**settings.PAPERFEED, "PAGE_SIZE": 2}
    for year in range(2020, 2025):
        paper(title=f"Paper of {year}", authors=("Grace Hopper",),
              published_on=dt.date(year, 6, 1))
    first = client.get("/papers/authors/Grace%20Hopper")
    assert _titles(first) == ["Paper of 2024", "Paper of 2023"]
    assert first.context["paginator"].count == 5
    last = client.get("/papers/authors/Grace%20Hopper?page=3")
    assert _titles(last) == ["Paper of 2020"]
    assert 'rel="prev" href="?page=2"' in last.content.decode()
    assert client.get("/papers/authors/Grace%20Hopper?page=4").status_code == 404


def test_an_organization_page_lists_its_papers_newest_first(client):
    paper(title="Older", organization="Hugging Face", published_on=dt.date(2024, 1, 1))
    paper(title="Newer", organization="Hugging Face", published_on=dt.date(2025, 1, 1))
    paper(title="Elsewhere", organization="Hugging Face Research")
    response = client.get("/papers/organizations/Hugging%20Face")
    assert _titles(response) == ["Newer", "Older"]
    html = response.content.decode()
    assert "Organization" in html and "<h1>Hugging Face</h1>" in html


@pytest.mark.parametrize("url", [
    "/papers/authors/Nobody", "/papers/authors/%20", "/papers/organizations/Nowhere",
    "/papers/organizations/%20", "/papers/authors/" + "x" * 301,
])
def test_unknown_or_blank_names_are_404s(client, url):
    paper(title="Someone's paper", organization="Somewhere")
    assert client.get(url).status_code == 404


def test_a_paper_titled_like_the_new_pages_does_not_take_their_url(client):
    p = paper(title="Authors", arxiv_id=None, source="pages", original_id="authors-paper",
              version=None)
    assert p.slug != "authors"
    assert client.get(p.get_absolute_url()).status_code == 200
    assert client.get("/papers/authors/Ada%20Lovelace").status_code == 200


def test_on_postgresql_the_author_query_can_use_the_gin_index():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has no index for JSON list members (it scans)")
    paper(title="Indexed", authors=("Ada Lovelace",))
    # The lookup alone: with the status filter the planner may start from another index.
    query = Paper.objects.filter(authors__has_name="Ada Lovelace").query
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "paper_authors_gin" in plan, plan


def test_the_paper_page_links_every_author_and_the_organization(client):
    p = paper(title="Linked", authors=("Ada Lovelace", "Alan Turing", "Grace Hopper",
                                       "Edsger Dijkstra"), organization="Analytical Engines")
    html = client.get(p.get_absolute_url()).content.decode()
    for name in p.authors:
        assert f'<a href="{reverse("papers:author", args=[name])}">{name}</a>' in html
    assert reverse("papers:organization", args=["Analytical Engines"]) in html


def test_demo_rows_link_to_author_and_organization_pages_that_list_the_paper(client, demo_corpus):
    html = client.get("/papers").content.decode()
    askchem = Paper.objects.get(arxiv_id="2607.28618")
    for name in askchem.authors[:3]:
        assert f'href="{reverse("papers:author", args=[name])}"' in html
    # An author with three papers across the two Hugging Face days.
    response = client.get(reverse("papers:author", args=["Tao Zhou"]))
    assert response.context["paginator"].count == 3
    response = client.get(reverse("papers:organization", args=["New York University"]))
    assert askchem.title in _titles(response)
