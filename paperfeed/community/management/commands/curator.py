"""``paperfeed curator add|remove|list [USER]``: who may moderate, from the command line."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError

from paperfeed.community.moderation import CURATOR_GROUP


class Command(BaseCommand):
    help = "Give or take the curator role (feature, hide, withdraw papers; hide comments; block)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("action", choices=["add", "remove", "list"])
        parser.add_argument("username", nargs="?", help="user name or e-mail address")

    def handle(self, *args, action: str, username: str | None, **options) -> None:
        group = Group.objects.get(name=CURATOR_GROUP)
        if action == "list":
            for name in group.user_set.order_by("username").values_list("username", flat=True):
                self.stdout.write(name)
            return
        if not username:
            raise CommandError(f"curator {action} needs a user name.")
        users = get_user_model().objects
        user = (users.filter(username=username).first()
                or users.filter(email__iexact=username).first())
        if user is None:
            raise CommandError(f"There is no user {username!r}.")
        if action == "add":
            user.groups.add(group)
            self.stdout.write(f"{user.username} is now a curator.")
        else:
            user.groups.remove(group)
            self.stdout.write(f"{user.username} is no longer a curator.")
