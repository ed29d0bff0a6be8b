from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "paperfeed.sources"
    verbose_name = "Sources"
