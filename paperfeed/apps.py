from django.apps import AppConfig


class PaperfeedConfig(AppConfig):
    """The project package itself, as an app: it owns the site-wide commands (serve)."""

    name = "paperfeed"
    verbose_name = "paperfeed"

    def ready(self) -> None:
        from paperfeed import checks  # noqa: F401  (registers the checks)
