from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from paperfeed import ops

urlpatterns = [
    path("healthz", ops.healthz, name="healthz"),
    path("readyz", ops.readyz, name="readyz"),
    path("metrics", ops.metrics, name="metrics"),
    path("", RedirectView.as_view(pattern_name="papers:latest", permanent=False)),
    path("papers/", RedirectView.as_view(pattern_name="papers:latest", query_string=True)),
    # Apps with routes under /papers/... come before papers' catch-all /papers/<id>.
    path("", include("paperfeed.search.urls")),
    path("", include("paperfeed.community.urls")),
    path("", include("paperfeed.digests.urls")),
    path("", include("paperfeed.api.urls")),
    path("", include("paperfeed.recommend.urls")),
    path("", include("paperfeed.papers.urls")),
    path("admin/", admin.site.urls),
]
