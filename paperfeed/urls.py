from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="papers:latest", permanent=False)),
    path("papers/", RedirectView.as_view(pattern_name="papers:latest", query_string=True)),
    path("", include("paperfeed.papers.urls")),
    path("admin/", admin.site.urls),
]
