from django.urls import path, re_path

from paperfeed.api import feeds
from paperfeed.api.http import conditional_view
from paperfeed.api.views import docs, exports, hf, members, v1

app_name = "api"

_feed = conditional_view  # feed readers poll: let them revalidate with ETags

urlpatterns = [
    # Hugging Face-compatible
    path("api/daily_papers", hf.daily_papers, name="hf-daily-papers"),
    path("api/papers/search", hf.search_papers, name="hf-search"),
    path("api/papers/<path:paper_id>", hf.paper, name="hf-paper"),
    # paperfeed's own
    path("api/v1/papers", v1.papers, name="v1-papers"),
    path("api/v1/papers.bib", exports.list_export, {"fmt": "bibtex"}, name="v1-papers-bibtex"),
    path("api/v1/papers.ris", exports.list_export, {"fmt": "ris"}, name="v1-papers-ris"),
    re_path(r"^api/v1/papers/(?P<paper_id>[\s\S]+)/related$", v1.related, name="v1-related"),
    re_path(r"^api/v1/papers/(?P<paper_id>[\s\S]+)/vote$", members.vote, name="v1-vote"),
    path("api/v1/papers/<path:paper_id>", v1.paper, name="v1-paper"),
    path("api/v1/search", v1.search_view, name="v1-search"),
    path("api/v1/search.bib", exports.search_export, {"fmt": "bibtex"}, name="v1-search-bibtex"),
    path("api/v1/search.ris", exports.search_export, {"fmt": "ris"}, name="v1-search-ris"),
    path("api/v1/categories", v1.categories, name="v1-categories"),
    path("api/v1/me", v1.me, name="v1-me"),
    path("api/v1/submissions", members.submit, name="v1-submit"),
    path("api/v1/users/<str:username>/upvotes", members.upvotes, name="v1-upvotes"),
    path("api/v1/users/<str:username>/upvotes.bib", members.upvotes_export, {"fmt": "bibtex"},
         name="v1-upvotes-bibtex"),
    path("api/v1/users/<str:username>/upvotes.ris", members.upvotes_export, {"fmt": "ris"},
         name="v1-upvotes-ris"),
    path("api/openapi.json", docs.openapi_json, name="openapi"),
    path("api/docs", docs.docs, name="docs"),
    path("api/", docs.docs),
    # Any other address under /api/ (even one with a newline) gets a JSON 404.
    re_path(r"^api/(?P<rest>[\s\S]*)$", v1.not_found, name="not-found"),
    # Exports of one paper, before papers' catch-all /papers/<id>; [\s\S]: an id with a
    # newline is still this route's (a JSON 404), not the site's HTML one.
    re_path(r"^papers/(?P<paper_id>[\s\S]+)\.bib$", exports.paper_export, {"fmt": "bibtex"},
            name="paper-bibtex"),
    re_path(r"^papers/(?P<paper_id>[\s\S]+)\.ris$", exports.paper_export, {"fmt": "ris"},
            name="paper-ris"),
    re_path(r"^papers/(?P<paper_id>[\s\S]+)\.md$", hf.paper_markdown, name="paper-markdown"),
    # Feeds
    path("feeds/daily.rss", _feed(feeds.DailyFeed()), name="feed-daily-rss"),
    path("feeds/daily.atom", _feed(feeds.DailyAtomFeed()), name="feed-daily-atom"),
    path("feeds/trending.rss", _feed(feeds.TrendingFeed()), name="feed-trending-rss"),
    path("feeds/trending.atom", _feed(feeds.TrendingAtomFeed()), name="feed-trending-atom"),
    path("feeds/category/<str:code>.rss", _feed(feeds.DailyFeed()), name="feed-category-rss"),
    path("feeds/category/<str:code>.atom", _feed(feeds.DailyAtomFeed()),
         name="feed-category-atom"),
    path("feeds/search.rss", _feed(feeds.SearchFeed()), name="feed-search-rss"),
    path("feeds/search.atom", _feed(feeds.SearchAtomFeed()), name="feed-search-atom"),
]
