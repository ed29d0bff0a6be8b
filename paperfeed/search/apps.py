from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "paperfeed.search"
    verbose_name = "Search"
