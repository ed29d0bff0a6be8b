from __future__ import annotations

import logging

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from paperfeed.papers.models import Paper

log = logging.getLogger("paperfeed")


class Command(BaseCommand):
    help = (
        "Run the site: apply migrations, load the demo corpus into an empty database, "
        "then serve with waitress (a production WSGI server)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--threads", type=int, default=8)
        parser.add_argument("--no-demo", action="store_true",
                            help="don't load the demo corpus into an empty database")
        parser.add_argument("--no-embed", action="store_true",
                            help="don't compute embeddings for a freshly loaded demo corpus "
                                 "(semantic search and related papers then wait for "
                                 "`paperfeed embed`)")
        parser.add_argument("--no-follow", action="store_true",
                            help="don't follow the change log in this process (run "
                                 "`paperfeed index follow --loop` beside it instead)")
        parser.add_argument("--dev", action="store_true",
                            help="use Django's auto-reloading development server instead")

    def handle(self, *args, host: str, port: int, threads: int, no_demo: bool, no_embed: bool,
               no_follow: bool, dev: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        if not no_demo and not Paper.objects.exists():
            from paperfeed.sources.demo import load_demo_corpus

            stats = load_demo_corpus()
            self.stdout.write(f"Loaded the demo corpus: {stats.summary()}")
            if not no_embed:
                # Once, before serving (a few hundred abstracts: well under a minute), so
                # semantic search, related papers and recommendations work from the start.
                self.stdout.write("Computing embeddings for the demo corpus (once):")
                call_command("embed", stdout=self.stdout, stderr=self.stderr)
        where = settings.DATABASES["default"]["NAME"]
        self.stdout.write(f"{Paper.objects.count()} papers in {where}")
        self.stdout.write(f"paperfeed is running at http://{host}:{port}/papers — Ctrl+C to stop")
        if not no_follow:
            _follow_in_background()
        if dev:
            call_command("runserver", f"{host}:{port}")
            return
        import waitress

        from paperfeed.wsgi import application

        waitress.serve(application, host=host, port=port, threads=threads, ident="paperfeed")


def _follow_in_background() -> None:
    """Keep this host's search indexes following the change log while the site runs.

    A thread is enough here: the follower's position is on disk and applying is
    idempotent, so stopping it at any point loses nothing (see search/follower.py).
    """
    import threading

    from paperfeed.search.follower import follower_for
    from paperfeed.search.management.commands.index import run_follower
    from paperfeed.search.service import get_engine

    follower = follower_for(get_engine())
    stopping = threading.Event()
    threading.Thread(target=run_follower, args=(follower, stopping), name="search-follower",
                     daemon=True).start()
