from __future__ import annotations

from django.contrib.auth.management import create_permissions


def create_profile(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        from paperfeed.community.models import Profile

        Profile.objects.get_or_create(user=instance)


def ensure_curator_group(sender, using: str = "default", **kwargs) -> None:
    """The ``curator`` group, holding the ``community.moderate`` permission."""
    from django.contrib.auth.models import Group, Permission

    from paperfeed.community.moderation import CURATOR_GROUP

    create_permissions(sender, verbosity=0, using=using)
    permission = Permission.objects.using(using).get(
        content_type__app_label="community", codename="moderate"
    )
    group, _ = Group.objects.using(using).get_or_create(name=CURATOR_GROUP)
    group.permissions.add(permission)


def pages_changed(sender, instance=None, **kwargs) -> None:
    """A vote, comment or curator's action: cached pages show it after commit. A vote or
    comment retires the listings and its paper's own page; a curator's action (a hidden
    paper leaves every page it was on, a banned member's comments every paper) all pages."""
    from paperfeed.community.models import ModerationAction
    from paperfeed.papers.models import Paper
    from paperfeed.papers.pagegen import pages_changed as retire

    if sender is ModerationAction or getattr(instance, "paper_id", None) is None:
        retire()
        return
    names = Paper.objects.filter(pk=instance.paper_id).values_list("arxiv_id", "slug").first()
    retire(papers=[name for name in names or () if name])
