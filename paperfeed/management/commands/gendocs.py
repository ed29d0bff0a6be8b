from django.core.management.base import BaseCommand

from paperfeed.docs import write_all


class Command(BaseCommand):
    help = "Regenerate docs/configuration.md and docs/cli.md from the code."

    def handle(self, *args, **options):
        for path in write_all():
            self.stdout.write(f"wrote {path}")
