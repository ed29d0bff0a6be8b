"""``paperfeed apitoken USER``: issue, list or revoke API tokens."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from paperfeed.api.models import ApiToken


class Command(BaseCommand):
    help = "Issue an API token for a user (printed once), or --list / --revoke PREFIX."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", default="", help="A label to tell tokens apart.")
        parser.add_argument("--list", action="store_true", help="List the user's tokens.")
        parser.add_argument("--revoke", metavar="PREFIX",
                            help="Delete the user's token whose prefix (as listed) is PREFIX.")

    def handle(self, *args, username: str, name: str, list: bool, revoke: str | None, **options):
        User = get_user_model()
        try:
            user = User.objects.get(**{User.USERNAME_FIELD: username})
        except User.DoesNotExist:
            raise CommandError(f"There is no user {username!r}.") from None
        if list:
            for token in user.api_tokens.order_by("created_at"):
                used = token.last_used_at.isoformat() if token.last_used_at else "never"
                self.stdout.write(f"{token.prefix}\t{token.name or '-'}\tlast used {used}")
            return
        if revoke:
            deleted, _ = user.api_tokens.filter(prefix=revoke).delete()
            if not deleted:
                raise CommandError(f"{username} has no token starting {revoke!r}.")
            self.stdout.write(f"Revoked {deleted} token(s).")
            return
        _, raw = ApiToken.objects.issue(user, name)
        self.stderr.write("Keep this token secret; it is shown only once:")
        self.stdout.write(raw)
