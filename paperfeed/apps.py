from django.apps import AppConfig


class PaperfeedConfig(AppConfig):
    """The project package itself, as an app: it owns the site-wide commands (serve)."""

    name = "paperfeed"
    verbose_name = "paperfeed"

    def ready(self) -> None:
        from paperfeed.cli import one_line_usage_errors

        one_line_usage_errors()
