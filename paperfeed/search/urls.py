from django.urls import path

from paperfeed.papers.pagecache import cached_page
from paperfeed.papers.pagegen import searches
from paperfeed.search.views.search import search

app_name = "search"
urlpatterns = [
    # Cached like the hot pages: a query's page is rendered once per change of which
    # papers match (ingests, curators' actions and this host's follower applying the
    # change log retire it; votes and comments do not: their counts here lag by up to
    # PAPERFEED_PAPER_PAGE_CACHE_SECONDS), members get their marks spliced in.
    path("papers/search", cached_page(members=True, scope=searches)(search), name="search"),
]
