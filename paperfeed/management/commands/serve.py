from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from paperfeed import servers
from paperfeed.lib.cli_args import port, positive_int
from paperfeed.papers.models import Paper

log = logging.getLogger("paperfeed")


class Command(BaseCommand):
    help = (
        "Run the site: apply migrations, load the demo corpus into an empty database, "
        "then serve with granian (one process per core, a few threads in each; or gunicorn, "
        "or waitress)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=port, default=8000)
        parser.add_argument("--server", choices=["granian", "gunicorn", "waitress"],
                            default="granian",
                            help="granian (default) or gunicorn: one process per core; "
                                 "waitress: one process (docs/deploy.md)")
        parser.add_argument("--workers", type=positive_int, default=None,
                            help="granian's or gunicorn's processes (default: the cores this "
                                 "process may use)")
        parser.add_argument("--threads", type=positive_int, default=None,
                            help=f"threads per process (default: {servers.GRANIAN_THREADS} "
                                 f"under granian, {servers.THREADS} under gunicorn and "
                                 "waitress)")
        parser.add_argument("--no-demo", action="store_true",
                            help="don't load the demo corpus into an empty database")
        parser.add_argument("--no-embed", action="store_true",
                            help="don't compute embeddings for a freshly loaded demo corpus "
                                 "in a background process (semantic search and related "
                                 "papers then wait for `paperfeed embed`)")
        parser.add_argument("--no-follow", action="store_true",
                            help="don't start this host's search follower beside the server "
                                 "(run `paperfeed index follow --loop` as a service instead)")
        parser.add_argument("--dev", action="store_true",
                            help="use Django's auto-reloading development server instead")

    def execute(self, *args, **options):
        if options.get("server", "granian") != "waitress" and not options.get("dev"):
            # Before prometheus_client is first imported (the URL checks import it): it
            # picks its multi-process mode then, and the forked workers inherit it.
            _prometheus_multiprocess_dir(options.get("port", 8000))
        return super().execute(*args, **options)

    def handle(self, *args, host: str, port: int, server: str, workers: int, threads: int,
               no_demo: bool, no_embed: bool, no_follow: bool, dev: bool, **options):
        workers = servers.cores() if workers is None else workers
        if threads is None:
            threads = servers.GRANIAN_THREADS if server == "granian" else servers.THREADS
        if workers < 1 or threads < 1:
            raise CommandError(f"--workers and --threads must be at least 1 (got {workers}, {threads})")
        call_command("migrate", interactive=False, verbosity=0)
        children = []
        if not no_demo and not Paper.objects.exists():
            from paperfeed.sources.demo import load_demo_corpus

            stats = load_demo_corpus()
            self.stdout.write(f"Loaded the demo corpus: {stats.summary()}")
            if not no_embed:
                children.append(self._start_embedding())
        if not no_follow and not dev:
            children.append(self._start_following())
        try:
            self._serve(host, port, server, workers, threads, dev)
        finally:
            for child in children:
                _stop(child)

    def _start_embedding(self) -> subprocess.Popen:
        """``paperfeed embed`` in a child process, while the site already serves.

        Embedding the demo's ~500 abstracts takes about a minute of CPU; done before
        serving, a first start on two busy cores took over two minutes. Semantic search
        and related papers fall back to keywords until it finishes (the web processes
        reread the vector index when it changes); it is resumable, so a stopped run is
        finished by ``paperfeed embed``. A child process, not a thread: torch started
        here would also hang granian's or gunicorn's forked workers (its thread pools do
        not survive a fork).
        """
        self.stdout.write("Computing embeddings for the demo corpus in the background "
                          "(once; semantic search works when it ends).")
        self.stdout.flush()
        return subprocess.Popen([sys.executable, "-m", "paperfeed.cli", "embed"])

    def _start_following(self) -> subprocess.Popen:
        """``paperfeed index follow --loop``: this host's search indexes follow the change
        log (papers ingested, hidden or embedded by any host) while the site runs.

        A child process, not a thread of this one: granian and gunicorn fork their workers
        from here, and a fork taken while a thread holds a lock (the index writer's,
        logging's) can leave a worker hung. The follower's position is on disk and applying
        is idempotent, so stopping it anywhere loses nothing (search/follower.py).
        """
        return subprocess.Popen([sys.executable, "-m", "paperfeed.cli", "index", "follow",
                                 "--loop"])

    def _serve(self, host: str, port: int, server: str, workers: int, threads: int,
               dev: bool) -> None:
        # Hashed, compressed copies that whitenoise serves with far-future cache headers.
        call_command("collectstatic", interactive=False, verbosity=0)
        where = settings.DATABASES["default"]["NAME"]
        self.stdout.write(f"{Paper.objects.count()} papers in {where}")
        self.stdout.write(f"paperfeed is running at http://{host}:{port}/papers — Ctrl+C to stop")
        self.stdout.flush()
        if dev:
            call_command("runserver", f"{host}:{port}")
            return
        # granian and gunicorn fork their workers: none may inherit this process's
        # database connection.
        connections.close_all()
        if server == "waitress":
            from paperfeed.wsgi import application

            # SIGTERM (a service manager, a test) ends the server like Ctrl+C does, so the
            # background children are stopped too (granian and gunicorn handle it
            # themselves).
            signal.signal(signal.SIGTERM, _exit_on_sigterm)
            servers.run_waitress(application, servers.waitress_options(
                host, port, threads, settings.PROXY_COUNT))
        elif server == "gunicorn":
            servers.run_gunicorn(servers.gunicorn_options(
                host, port, workers, threads, settings.PROXY_COUNT))
        else:
            servers.run_granian(servers.granian_options(host, port, workers, threads))


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(0)


def _stop(child: subprocess.Popen) -> None:
    """Ask a background child to stop after its batch (it commits per batch), then make it."""
    if child.poll() is not None:
        return
    child.terminate()
    try:
        child.wait(timeout=30)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _prometheus_multiprocess_dir(port: int) -> None:
    """Each granian or gunicorn worker writes its metrics there; /metrics sums them. One
    folder per port (two servers may share a data dir), emptied at start: files of
    processes from an earlier run would count twice."""
    import shutil
    from pathlib import Path

    if "prometheus_client" in sys.modules and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        log.warning("prometheus_client was imported before serve set its multi-process "
                    "folder: /metrics will show only the answering process")
        return
    folder = Path(os.environ.get("PROMETHEUS_MULTIPROC_DIR")
                  or Path(settings.DATA_DIR) / "prometheus" / str(port))
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)
