from django.apps import AppConfig
from django.contrib.auth.signals import user_login_failed
from django.db.models.signals import post_delete, post_migrate, post_save


class CommunityConfig(AppConfig):
    name = "paperfeed.community"
    verbose_name = "Community"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model

        from paperfeed.community import signals, signin

        post_save.connect(signals.create_profile, sender=get_user_model(),
                          dispatch_uid="community_profile")
        user_login_failed.connect(signin.count_failure, dispatch_uid="community_failed_signins")
        # What members do changes pages other readers see: retire the cached ones.
        from paperfeed.community.models import Comment, ModerationAction, Vote
        from paperfeed.community.pagestate import personalise
        from paperfeed.papers import memberpages

        for model in (Vote, Comment, ModerationAction):
            for signal in (post_save, post_delete):
                signal.connect(signals.pages_changed, sender=model,
                               dispatch_uid=f"pages-{model.__name__}-{signal is post_save}")
        memberpages.PERSONALISERS.append(personalise)
        # After migrate, because permissions only exist once post_migrate created them.
        post_migrate.connect(signals.ensure_curator_group, sender=self,
                             dispatch_uid="community_curators")
