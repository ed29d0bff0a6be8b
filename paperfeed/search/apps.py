from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "paperfeed.search"
    verbose_name = "Search"

    def ready(self) -> None:
        from paperfeed.papers.signals import papers_changed, papers_changed_since
        from paperfeed.search.signals import index_changed_papers, index_changed_since

        papers_changed.connect(index_changed_papers, dispatch_uid="search-index-changed-papers")
        papers_changed_since.connect(index_changed_since,
                                     dispatch_uid="search-index-changed-since")
