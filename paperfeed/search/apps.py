from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "paperfeed.search"
    verbose_name = "Search"

    def ready(self) -> None:
        from paperfeed.papers.signals import papers_changed
        from paperfeed.search.signals import index_changed_papers

        papers_changed.connect(index_changed_papers, dispatch_uid="search-index-changed-papers")
