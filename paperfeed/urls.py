from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from paperfeed import ops
from paperfeed.community.signin import signin_limited

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
    path("", include("paperfeed.thumbnails.urls")),
    path("", include("paperfeed.papers.urls")),
    # The admin's password form shares the site's failed sign-in limit (a 429 past it).
    path("admin/login/", signin_limited(admin.site.login)),
    path("admin/", admin.site.urls),
]

# 400 and 500 render without the request's context, so they draw with the database down.
handler400 = "paperfeed.errors.bad_request"
handler500 = "paperfeed.errors.server_error"
