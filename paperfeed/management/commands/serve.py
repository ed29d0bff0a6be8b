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
        parser.add_argument("--dev", action="store_true",
                            help="use Django's auto-reloading development server instead")

    def handle(self, *args, host: str, port: int, threads: int, no_demo: bool, no_embed: bool,
               dev: bool, **options):
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
        if dev:
            call_command("runserver", f"{host}:{port}")
            return
        import waitress

        from paperfeed.wsgi import application

        waitress.serve(application, **waitress_options(host, port, threads,
                                                     settings.PROXY_COUNT))


def waitress_options(host: str, port: int, threads: int, proxy_count: int) -> dict:
    """waitress's options: the proxy trust of ``PAPERFEED_PROXY_COUNT``, and room for
    hundreds of clients (waitress's default connection limit is 100)."""
    options = {"host": host, "port": port, "threads": threads, "ident": "paperfeed",
               "connection_limit": 1000, "backlog": 2048, "clear_untrusted_proxy_headers": True}
    if proxy_count:
        # waitress then sets REMOTE_ADDR and wsgi.url_scheme from the same entries that
        # paperfeed.lib.forwarded reads (it keeps the last N X-Forwarded-For entries, so
        # both agree); without a proxy it drops forwarded headers a client made up.
        # "*": any peer may be the proxy, so the app port must be reachable by it alone
        # (bind 127.0.0.1 or a private address; docs/deploy.md).
        options.update(trusted_proxy="*", trusted_proxy_count=proxy_count,
                       trusted_proxy_headers={"x-forwarded-for", "x-forwarded-proto"})
    return options
