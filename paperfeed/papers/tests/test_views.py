import datetime as dt
import re

import pytest
import time_machine
from django.urls import reverse

from paperfeed.papers import trending
from paperfeed.papers.models import Paper
from paperfeed.papers.tests.factories import paper

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _titles(response) -> list[str]:
    return [p.title for p in response.context["papers"]]


def test_papers_opens_on_the_latest_day_a_full_hugging_face_day_with_names(client, demo_corpus):
    response = client.get("/papers")
    assert response.status_code == 200
    assert response.context["day"] == dt.date(2026, 7, 31)
    papers = list(response.context["papers"])
    assert len(papers) == 30
    assert [p.total_upvotes for p in papers] == sorted((p.total_upvotes for p in papers),
                                                       reverse=True)
    assert papers[0].title.startswith("AskChem: Claim-Centered Infrastructure")
    html = response.content.decode()
    assert "Friday, July 31, 2026" in html
    # The first row: three names, "+1", organisation, submitter, HF's comment count.
    assert ('<a href="/papers/authors/Bing%20Yan">Bing Yan</a>, '
            '<a href="/papers/authors/Gregory%20Wolfe">Gregory Wolfe</a>') in html
    assert 'title="4 authors">+1</span>' in html
    assert '<a class="organization" href="/papers/organizations/New%20York%20University">' in html
    assert "Submitted by bing-yan" in html
    assert 'href="/papers/2607.28618#comments"' in html and ">2 comments</a>" in html


def test_a_seed_day_without_names_shows_the_author_count(client, demo_corpus):
    response = client.get("/papers/date/2025-11-20")
    assert _titles(response) == ["Evolution Strategies at the Hyperscale"]
    html = response.content.decode()
    assert "16 authors" in html and "/papers/authors/" not in html


def test_a_day_lists_its_papers_most_upvoted_first(client, demo_corpus):
    response = client.get("/papers/date/2025-09-28")
    titles = _titles(response)
    assert any(t.startswith("Group-Relative REINFORCE") for t in titles)
    upvotes = [p.total_upvotes for p in response.context["papers"]]
    assert upvotes == sorted(upvotes, reverse=True)
    html = response.content.decode()
    assert "8 authors" in html and "Sep 28, 2025" in html


def test_weeks_and_months_collect_their_days(client, demo_corpus):
    month = client.get("/papers/month/2025-11")
    assert month.status_code == 200
    assert [p.total_upvotes for p in month.context["papers"]] == [5, 1, 0, 0]
    assert _titles(month)[0].startswith("DRIVE: Data Curation")
    week = client.get("/papers/week/2025-W45")  # Nov 3-9, 2025
    assert sorted(_titles(week)) == sorted([
        "DRIVE: Data Curation Best Practices for Reinforcement Learning with Verifiable Reward in Competitive Code Generation",
        "Unified Diffusion VLA: Vision-Language-Action Model via Joint Discrete Denoising Diffusion Process",
    ])
    assert all(dt.date(2025, 11, 3) <= p.feed_date <= dt.date(2025, 11, 9) for p in week.context["papers"])


def test_navigation_skips_to_the_nearest_periods_with_papers(client, demo_corpus):
    response = client.get("/papers/date/2025-11-20")
    assert response.context["previous_url"] == "/papers/date/2025-11-11"
    assert response.context["next_url"] == "/papers/date/2026-06-12"
    assert client.get("/papers/date/2026-07-31").context["next_url"] == ""
    month = client.get("/papers/month/2025-11")
    assert month.context["previous_url"] == "/papers/month/2025-10"
    week = client.get("/papers/week/2025-W47")
    assert week.context["previous_url"] == "/papers/week/2025-W46"
    html = week.content.decode()
    assert 'type="week"' in html and 'value="2025-W47"' in html


def test_an_empty_day_says_so_and_links_the_nearest_days(client, demo_corpus):
    response = client.get("/papers/date/2025-11-15")
    assert response.status_code == 200
    html = response.content.decode()
    assert "No papers on this day" in html
    assert 'href="/papers/date/2025-11-11"' in html and 'href="/papers/date/2025-11-20"' in html


def test_an_empty_site_explains_how_to_add_papers(client):
    html = client.get("/papers").content.decode()
    assert "There are no papers yet" in html


@pytest.mark.parametrize(
    "url",
    ["/papers/date/2025-02-30", "/papers/date/2025-13-01", "/papers/week/2025-W54",
     "/papers/week/2025-W00", "/papers/week/last", "/papers/month/2025-13", "/papers/month/soon",
     "/papers/no-such-paper", "/papers?category=no.such"],
)
def test_impossible_periods_and_unknown_things_are_404s(client, demo_corpus, url):
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    ("query", "target"),
    [("date=2025-09-28", "/papers/date/2025-09-28"), ("week=2025-W3", "/papers/week/2025-W03"),
     ("month=2025-7", "/papers/month/2025-07"), ("date=garbage", "/papers"),
     ("week=2025-W99", "/papers"), ("date=2025-09-28&category=cs.LG", "/papers/date/2025-09-28?category=cs.LG")],
)
def test_the_date_pickers_redirect_to_their_period(client, query, target):
    response = client.get(f"/papers/go?{query}")
    assert response.status_code == 302 and response["Location"] == target


def test_the_paper_page_shows_everything_known(client, demo_corpus):
    grpo = Paper.objects.get(title__startswith="Group-Relative REINFORCE")
    response = client.get(grpo.get_absolute_url())
    html = response.content.decode()
    assert response.status_code == 200
    assert grpo.title in html and grpo.abstract in html
    assert "8 authors" in html and "September 28, 2025" in html
    assert re.search(r'class="count">2</span>\s*<span class="label">upvotes', html)
    assert "Saved listing page" in html


def test_arxiv_papers_have_links_and_old_slugs_redirect(client):
    p = paper(arxiv_id="hep-th/9901001", title="Old Style Paper", code_url="https://github.com/a/b")
    response = client.get("/papers/hep-th/9901001")
    html = response.content.decode()
    assert "https://arxiv.org/abs/hep-th/9901001" in html and "https://arxiv.org/pdf/hep-th/9901001" in html
    assert "https://github.com/a/b" in html
    assert ('>Ada Lovelace</a>, <a href="/papers/authors/Alan%20Turing">Alan Turing</a>'
            in html)
    redirect = client.get(f"/papers/{p.slug}")
    assert redirect.status_code == 301 and redirect["Location"] == "/papers/hep-th/9901001"


def test_hidden_papers_are_not_shown(client):
    p = paper(title="Hidden paper")
    Paper.objects.filter(pk=p.pk).update(status=Paper.Status.HIDDEN)
    assert client.get(p.get_absolute_url()).status_code == 404
    assert "Hidden paper" not in client.get("/papers/date/2025-01-15").content.decode()


def test_html_in_titles_and_abstracts_is_shown_as_text(client):
    p = paper(title='<script>alert("x")</script><img src=x onerror=alert(1)>',
              abstract='Click <a href="javascript:alert(1)">here</a>.')
    for url in [p.get_absolute_url(), "/papers/date/2025-01-15", "/papers/all"]:
        html = client.get(url).content.decode()
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert" in html
        assert 'href="javascript:' not in html


def test_category_filter_narrows_listings_and_accepts_an_archive(client):
    paper(title="Learning paper", categories=("cs.LG",))
    paper(title="Astro paper", categories=("astro-ph.GA",))
    day = "/papers/date/2025-01-15"
    assert _titles(client.get(day + "?category=cs.LG")) == ["Learning paper"]
    assert _titles(client.get(day + "?category=astro-ph")) == ["Astro paper"]
    assert len(_titles(client.get(day))) == 2
    html = client.get(day + "?category=cs.LG").content.decode()
    assert "cs.LG</strong> — Learning" in html  # the category's name in arXiv's list


def test_trending_ranks_recent_upvotes_above_old_ones(client):
    paper(title="Old but popular", feed_date=dt.date(2026, 11, 13), upvotes=40)
    paper(title="Fresh and liked", feed_date=dt.date(2026, 11, 22), upvotes=12)
    paper(title="Fresh, no votes", feed_date=dt.date(2026, 11, 23), upvotes=0)
    paper(title="Too old", feed_date=dt.date(2026, 10, 1), upvotes=500)
    response = client.get("/papers/trending")
    assert _titles(response) == ["Fresh and liked", "Old but popular", "Fresh, no votes"]
    assert response.context["window"].stale is False


def test_trending_on_a_stale_archive_shows_its_last_window(client, demo_corpus):
    response = client.get("/papers/trending")
    window = response.context["window"]
    assert window.stale and window.last_day == dt.date(2026, 7, 31)
    assert _titles(response)[0].startswith("AskChem: Claim-Centered Infrastructure")
    assert "No papers entered the feed in the last 14 days" in response.content.decode()


def test_all_papers_includes_undated_ones_last(client, demo_corpus):
    response = client.get("/papers/all?page=last")
    assert response.context["paginator"].count == 517  # 389 seeds + 60 HF + 68 arXiv-only
    last = list(response.context["papers"])[-1]
    assert last.published_on is None
    first = client.get("/papers/all").context["papers"][0]
    assert first.published_on == dt.date(2026, 7, 30)


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # Each includes one query for the rows' thumbnails (thumbnails app's partial).
        ("/papers", 7),
        ("/papers/date/2025-09-28", 6),
        ("/papers/week/2025-W39", 6),
        ("/papers/month/2025-09", 6),
        ("/papers/trending", 5),  # the stored ranking's snapshot, count, page, categories
        ("/papers/all", 4),
        # count + page + categories + thumbnails
        ("/papers/authors/Ada%20Lovelace", 4),
        ("/papers/organizations/Extra%20Lab", 4),
    ],
)
def test_list_pages_use_a_fixed_number_of_queries(client, demo_corpus, django_assert_num_queries, url, queries):
    for i in range(40):  # more rows must not mean more queries
        paper(title=f"Extra {i}", feed_date=dt.date(2025, 9, 28), published_on=dt.date(2025, 9, 28),
              categories=("cs.LG", "cs.AI"), upvotes=i, organization="Extra Lab",
              submitted_by="ada", num_comments=i)
    trending.refresh()  # the worker's job, not the page's
    with django_assert_num_queries(queries):
        assert client.get(url).status_code == 200


def test_the_detail_page_uses_a_fixed_number_of_queries(client, django_assert_num_queries,
                                                        django_capture_on_commit_callbacks,
                                                        settings):
    # Renders counted, not the page cache (new papers do not retire another paper's page).
    settings.PAGE_CACHE_SECONDS = 0
    p = paper(categories=("cs.LG", "cs.AI", "stat.ML"))
    # paper + categories + versions + source records + its thumbnail
    with django_assert_num_queries(5):
        client.get(p.get_absolute_url())
    # Other apps' sections add one query each at most, however many related papers.
    with django_capture_on_commit_callbacks(execute=True):  # lets the search index see them
        for i in range(6):
            paper(title=f"A study of thing number {i} and more", categories=("cs.LG",))
    with django_assert_num_queries(6):
        html = client.get(p.get_absolute_url()).content.decode()
    assert "Related papers" in html


def test_root_and_trailing_slash_lead_to_papers(client):
    assert client.get("/")["Location"] == reverse("papers:latest")
    assert client.get("/papers/")["Location"] == "/papers"


def test_links_from_imported_data_must_be_web_urls(client):
    p = paper(title="Sneaky links", code_url="javascript:alert(1)", project_url="data:text/html,x",
              pdf_url="javascript:alert(2)")
    assert (p.code_url, p.project_url, p.pdf_url) == ("", "", "")
    Paper.objects.filter(pk=p.pk).update(code_url="javascript:alert(3)", project_url="JAVASCRIPT:x")
    html = client.get(p.get_absolute_url()).content.decode()
    assert "javascript:" not in html.lower()
