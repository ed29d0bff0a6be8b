"""The production WSGI servers `paperfeed serve` runs, with the proxy trust of
``PAPERFEED_PROXY_COUNT`` and room for hundreds of clients.

granian (one process per core, a few Python threads in each; connections, HTTP parsing and
keep-alive handled in Rust, outside the GIL) is the default. Measured on two cores at a
million papers, through the same Django stack, it answered a static file ~3x and a cached
page ~2x as fast as gunicorn's gthread workers, and at a steady 0.4x of its static rate its
p99 stayed under 100 ms where gunicorn's did not (docs/deploy.md, "The processes"; the runs in
docs/benchmarks.md): gunicorn's main thread takes the GIL to dispatch every request, and
its threads queue for it. Requests sent halfway and held open take none of granian's
Python threads (tests/test_server_inputs.py); each takes one of gunicorn's.
gunicorn stays (``--server gunicorn``), and waitress for systems without fork
(``--server waitress``).

Whom to trust for the client's address and scheme is decided in the application, for every
server alike: ``SECURE_PROXY_SSL_HEADER`` (settings) and :mod:`paperfeed.lib.forwarded`,
both from ``PAPERFEED_PROXY_COUNT``.
"""

from __future__ import annotations

import gc
import os


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def waitress_options(host: str, port: int, threads: int, proxy_count: int) -> dict:
    """waitress's options (its default connection limit, 100, turned 200 clients away)."""
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


# Python threads per granian process: a cached page needs no more than one per core, and a
# few more let renders and searches wait on the database without holding up the hits
# (8 threads queued on the GIL: p99 under a steady load doubled; docs/deploy.md).
GRANIAN_THREADS = 4
# Threads per gunicorn or waitress process: their own threads read and write the sockets.
THREADS = 8


def granian_options(host: str, port: int, workers: int, threads: int) -> dict:
    """granian's settings: ``threads`` Python threads in each of ``workers`` processes,
    each made by :func:`granian_application` (warmed up before it answers anyone)."""
    return {"target": "paperfeed.servers:granian_application", "factory": True,
            "address": host, "port": port, "interface": "wsgi", "workers": workers,
            "blocking_threads": threads, "backlog": 2048,
            # Kept for hundreds of clients: requests beyond this many per process wait
            # in the Rust side's queue, not in Python.
            "backpressure": 1000,
            "respawn_failed_workers": True, "workers_kill_timeout": 30,
            "log_access": False}


# What a request's environ must keep even if the server's environment has the same name.
_CGI_NAMES = frozenset({"REQUEST_METHOD", "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING",
                        "CONTENT_TYPE", "CONTENT_LENGTH", "SERVER_NAME", "SERVER_PORT",
                        "SERVER_PROTOCOL", "SERVER_SOFTWARE", "REMOTE_ADDR", "REMOTE_PORT",
                        "GATEWAY_INTERFACE"})


def granian_application():
    """The WSGI application for a granian worker (its factory): search warmed up and the
    loaded objects frozen first (:func:`warm_up`), the server's environment kept out of
    the requests (:func:`without_server_environment`)."""
    from paperfeed.wsgi import application

    warm_up()
    return without_server_environment(application, os.environ)


def without_server_environment(application, server_environment):
    """``application`` with the names of ``server_environment`` taken out of each
    request's environ, but a request's own (its headers, CGI's names).

    granian copies its process environment into every request's environ (CGI's habit):
    DATABASE_URL and the site's secrets would be in ``request.META``, and so in any error
    report."""
    inherited = frozenset(k for k in server_environment
                          if k not in _CGI_NAMES and not k.startswith("HTTP_"))

    def served(environ, start_response):
        for key in inherited.intersection(environ):
            del environ[key]
        return application(environ, start_response)

    return served


def run_granian(options: dict) -> None:
    from granian.server import Server

    Server(**options).serve()


def gunicorn_options(host: str, port: int, workers: int, threads: int, proxy_count: int) -> dict:
    return {
        "bind": f"{host}:{port}", "workers": workers, "worker_class": "gthread",
        "threads": threads, "worker_connections": 1000, "backlog": 2048, "keepalive": 5,
        "timeout": 60, "graceful_timeout": 30,
        # X-Forwarded-Proto decides wsgi.url_scheme only behind a declared proxy ("*": the
        # app port must be reachable by the proxy alone); gunicorn's default trusts
        # 127.0.0.1, which would let a local client claim https with no proxy at all.
        "forwarded_allow_ips": "*" if proxy_count else "",
        "accesslog": None, "errorlog": "-", "proc_name": "paperfeed",
        # Its control socket sits at one path per user: two servers would fight over it.
        "control_socket_disable": True,
    }


def warm_up() -> None:
    """What a worker loads before it answers anyone (search's model: see
    search.service.warm_up); its database connection is closed again, as after a request.

    Then everything loaded so far (Django, the templates, torch and the model: ~480,000
    objects) is frozen out of the garbage collector's sight: a full collection walked
    them all, 0.3 s on an idle core, with every thread of the process waiting for it,
    every time one came due. What requests allocate is still collected as usual."""
    from django.db import connections

    from paperfeed.search.service import warm_up as warm_search

    warm_search()
    connections.close_all()
    gc.collect()
    gc.freeze()


def run_waitress(application, options: dict) -> None:
    import waitress

    warm_up()
    waitress.serve(application, **options)


def run_gunicorn(options: dict) -> None:
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self):
            for name, value in options.items():
                if name in self.cfg.settings:  # control_socket_disable: gunicorn >= 25
                    self.cfg.set(name, value)

        def load(self):
            # Imported in each worker after the fork: no database connection is shared.
            from paperfeed.wsgi import application

            warm_up()
            return application

    Server().run()
