"""The search page: results like listing rows, highlights, filters, sorts, paging, redirects."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from paperfeed.papers.models import Paper

URL = reverse("search:search")


def test_results_are_listing_rows_with_marked_words(client, indexed_demo,
                                                     django_assert_num_queries):
    with django_assert_num_queries(3):  # the page of papers + their categories + thumbnails
        response = client.get(URL, {"q": "video diffusion", "mode": "bm25"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'class="paper"' in html and "History-Guided <mark>Video</mark> <mark>Diffusion</mark>" in html
    first = response.context["papers"][0]
    assert first.title.startswith("History-Guided")


def test_pasting_an_arxiv_url_opens_the_paper(client, db):
    from paperfeed.papers.merge import apply_records
    from paperfeed.papers.records import PaperRecord

    apply_records([PaperRecord(source="arxiv-api", original_id="x", arxiv_id="2401.12345",
                               title="A paper with an id")])
    paper = Paper.objects.get(arxiv_id="2401.12345")
    response = client.get(URL, {"q": f"https://arxiv.org/abs/{paper.arxiv_id}v2"})
    assert response.status_code == 302 and response["Location"] == paper.get_absolute_url()
    response = client.get(URL, {"q": f"arXiv:{paper.arxiv_id}"})
    assert response["Location"] == paper.get_absolute_url()


def test_an_unknown_arxiv_id_is_searched_as_text(client, indexed_demo):
    response = client.get(URL, {"q": "2101.99999"})
    assert response.status_code == 200 and response.context["message"]


@pytest.mark.parametrize("q", ['"', "AND(", "*", "NEAR", "🎉", "x" * 5000, "-", "author:",
                               "year:99999", "cat:", "\\", "'; DROP TABLE papers; --"])
def test_hostile_input_gets_a_page_not_an_error(client, indexed_demo, q):
    response = client.get(URL, {"q": q, "mode": "nonsense", "sort": "??", "page": "-3",
                                "date_from": "yesterday", "category": "<script>"})
    assert response.status_code == 200
    assert b"<script>" not in response.content.split(b"</header>")[1]


def test_a_reversed_date_range_is_explained(client, indexed_demo):
    response = client.get(URL, {"q": "diffusion", "date_from": "2025-01-01",
                                "date_to": "2024-01-01"})
    assert b"The end date is before the start date." in response.content


def test_pages_carry_the_query(client, indexed_demo, settings):
    settings.PAPERFEED = {**settings.PAPERFEED, "PAGE_SIZE": 5}
    response = client.get(URL, {"q": "learning", "mode": "bm25"})
    html = response.content.decode()
    assert response.context["is_paginated"]
    assert 'href="?q=learning&amp;mode=bm25&amp;page=2"' in html
    second = client.get(URL, {"q": "learning", "mode": "bm25", "page": 2})
    first_ids = {p.pk for p in response.context["papers"]}
    assert first_ids and not first_ids & {p.pk for p in second.context["papers"]}


def test_sort_by_upvotes_orders_the_most_relevant_by_votes(client, indexed_demo):
    response = client.get(URL, {"q": "model", "sort": "upvotes", "mode": "bm25"})
    votes = [p.total_upvotes for p in response.context["papers"]]
    assert len(votes) > 3 and votes == sorted(votes, reverse=True)


def test_the_header_has_a_search_box_on_every_page(client, indexed_demo):
    html = client.get(reverse("papers:all")).content.decode()
    assert 'role="search"' in html and f'action="{URL}"' in html


def test_the_paper_page_lists_related_papers(client, indexed_demo):
    paper = Paper.objects.get(title="History-Guided Video Diffusion")
    html = client.get(paper.get_absolute_url()).content.decode()
    assert "Related papers" in html and html.count('<li><a href="/papers/') >= 1


def test_a_category_chip_narrows_the_search_and_keeps_the_query(client, db):
    from paperfeed.api.tests.factories import make_papers, record

    make_papers(record(arxiv_id="2511.00001", title="Chip diffusion for graphs",
                       categories=("cs.LG",)),
                record(arxiv_id="2511.00002", title="Chip diffusion for words",
                       categories=("cs.CL",)),
                record(arxiv_id="2511.00003", title="Unrelated", categories=("cs.LG",)))
    html = client.get(URL, {"q": "chip diffusion", "mode": "bm25", "page": "1"}).content.decode()
    chips = dict(re.findall(r'class="chip" href="([^"]+)"[^>]*>([^<]+)<', html))
    [href] = [h for h, code in chips.items() if code == "cs.LG"]
    assert "page=" not in href
    followed = client.get(URL + href.replace("&amp;", "&"))
    assert followed.context["q"] == "chip diffusion"
    assert [p.arxiv_id for p in followed.context["papers"]] == ["2511.00001"]
