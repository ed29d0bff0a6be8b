"""The production WSGI servers `paperfeed serve` runs, with the proxy trust of
``PAPERFEED_PROXY_COUNT`` and room for hundreds of clients.

gunicorn (gthread workers: one process per core, threads in each) is the default: on
two cores it served a static file ~1.7x and cached pages about as fast as waitress, which
runs one process and so one core (docs/benchmarks.md, "Server"). waitress stays for
systems without fork (``--server waitress``).
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
