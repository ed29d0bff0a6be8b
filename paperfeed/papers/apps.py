from django.apps import AppConfig


class PapersConfig(AppConfig):
    name = "paperfeed.papers"
    verbose_name = "Papers"

    def ready(self) -> None:
        from paperfeed.papers import pagecache, trending
        from paperfeed.papers.signals import papers_changed, papers_changed_since

        papers_changed.connect(trending.on_papers_changed, dispatch_uid="trending-changed")
        papers_changed_since.connect(trending.on_papers_changed_since,
                                     dispatch_uid="trending-changed-since")
        # Already sent after commit: retire the cached pages now.
        papers_changed.connect(pagecache.on_papers_changed, dispatch_uid="pages-changed")
        papers_changed_since.connect(pagecache.on_papers_changed,
                                     dispatch_uid="pages-changed-since")
