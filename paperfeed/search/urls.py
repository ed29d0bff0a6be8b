from django.urls import path

from paperfeed.search.views.search import search

app_name = "search"
urlpatterns = [
    path("papers/search", search, name="search"),
]
