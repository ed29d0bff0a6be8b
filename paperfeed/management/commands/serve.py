from __future__ import annotations

import logging
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from paperfeed.lib.cli_args import port, positive_int
from paperfeed.papers.models import Paper

log = logging.getLogger("paperfeed")


class Command(BaseCommand):
    help = (
        "Run the site: apply migrations, load the demo corpus into an empty database, "
        "then serve with waitress (a production WSGI server)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=port, default=8000)
        parser.add_argument("--threads", type=positive_int, default=8)
        parser.add_argument("--no-demo", action="store_true",
                            help="don't load the demo corpus into an empty database")
        parser.add_argument("--no-embed", action="store_true",
                            help="don't compute embeddings for a freshly loaded demo corpus "
                                 "in a background process (semantic search and related "
                                 "papers then wait for `paperfeed embed`)")
        parser.add_argument("--dev", action="store_true",
                            help="use Django's auto-reloading development server instead")

    def handle(self, *args, host: str, port: int, threads: int, no_demo: bool, no_embed: bool,
               dev: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        embedder = None
        if not no_demo and not Paper.objects.exists():
            from paperfeed.sources.demo import load_demo_corpus

            stats = load_demo_corpus()
            self.stdout.write(f"Loaded the demo corpus: {stats.summary()}")
            if not no_embed:
                embedder = self._start_embedding()
        try:
            self._serve(host, port, threads, dev)
        finally:
            if embedder is not None:
                _stop(embedder)

    def _start_embedding(self) -> subprocess.Popen:
        """``paperfeed embed`` in a child process, while the site already serves.

        Embedding the demo's ~500 abstracts takes about a minute of CPU; done before
        serving, a first start on two busy cores took over two minutes. Semantic search
        and related papers fall back to keywords until it finishes (the web process
        rereads the vector index when the file changes); it is resumable, so a stopped
        run is finished by ``paperfeed embed``. Not a thread: it must not share the
        web process's GIL or die with a request.
        """
        self.stdout.write("Computing embeddings for the demo corpus in the background "
                          "(once; semantic search works when it ends).")
        self.stdout.flush()
        return subprocess.Popen([sys.executable, "-m", "paperfeed.cli", "embed"])

    def _serve(self, host: str, port: int, threads: int, dev: bool) -> None:
        where = settings.DATABASES["default"]["NAME"]
        self.stdout.write(f"{Paper.objects.count()} papers in {where}")
        self.stdout.write(f"paperfeed is running at http://{host}:{port}/papers — Ctrl+C to stop")
        if dev:
            call_command("runserver", f"{host}:{port}")
            return
        import waitress

        from paperfeed.wsgi import application

        # SIGTERM (a service manager, a test) ends the server like Ctrl+C does, so the
        # background embedder is stopped too.
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
        waitress.serve(application, host=host, port=port, threads=threads, ident="paperfeed")


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(0)


def _stop(child: subprocess.Popen) -> None:
    """Ask the embedder to stop after its batch (it commits per batch), then make it."""
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
