from django.apps import AppConfig


class PaperfeedConfig(AppConfig):
    """The project package itself, as an app: it owns the site-wide commands (serve)."""

    name = "paperfeed"
    verbose_name = "paperfeed"

    def ready(self) -> None:
        from paperfeed.cli import one_line_usage_errors

        one_line_usage_errors()
        from paperfeed import checks  # noqa: F401  (registers the checks)
        from paperfeed.papers import pagecache

        pagecache.OUTCOME_LISTENERS.append(_count_page_cache)


def _count_page_cache(outcome: str) -> None:
    # Imported here, not in ready(): `paperfeed serve` must choose prometheus_client's
    # multi-process mode before its first import.
    from paperfeed import ops

    ops.PAGE_CACHE.labels(outcome).inc()
