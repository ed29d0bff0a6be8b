from django.apps import AppConfig


class PapersConfig(AppConfig):
    name = "paperfeed.papers"
    verbose_name = "Papers"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from paperfeed.papers import pagegen, trending
        from paperfeed.papers.models import Paper
        from paperfeed.papers.signals import papers_changed, papers_changed_since

        papers_changed.connect(trending.on_papers_changed, dispatch_uid="trending-changed")
        papers_changed_since.connect(trending.on_papers_changed_since,
                                     dispatch_uid="trending-changed-since")
        # Already sent after commit: retire the cached pages now.
        papers_changed.connect(pagegen.on_papers_changed, dispatch_uid="pages-changed")
        papers_changed_since.connect(pagegen.on_papers_changed,
                                     dispatch_uid="pages-changed-since")
        # The paths that bypass merge.py (the admin, a shell, tests): a saved or deleted
        # paper enters the change log too. Both signals run inside the writing
        # transaction when there is one (the admin's views are atomic).
        post_save.connect(_log_paper, sender=Paper, dispatch_uid="papers-log-saved")
        post_delete.connect(_log_paper, sender=Paper, dispatch_uid="papers-log-deleted")


def _log_paper(sender, instance, **kwargs) -> None:
    from paperfeed.papers import changelog

    changelog.record([instance.pk])
