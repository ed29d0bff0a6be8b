"""paperfeed serve behind a real nginx with TLS, as docs/deploy.md lays it out.

Debian's nginx (scripts/setup.sh --test installs it) runs our own configuration
(paperfeed/deploy/nginx-site.conf) from a temporary directory, with a certificate the
test makes, in front of `paperfeed serve` on loopback. Clients connect from different
loopback source addresses (127.0.0.2, 127.0.0.3), so nginx's `$proxy_add_x_forwarded_for`
tells them apart exactly as it would tell apart visitors on the Internet.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time
from importlib import resources
from urllib.parse import urlencode

import pytest

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

pytestmark = [
    pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")),
                       reason="starts its own server on an SQLite file; run by the SQLite pass"),
    pytest.mark.skipif(not os.path.exists(NGINX),
                       reason=f"{NGINX} is missing: run scripts/setup.sh --test"),
]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _certificate(folder) -> tuple[str, str]:
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=localhost", "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


def nginx_config(folder, *, listen: str, upstream: str) -> str:
    """Our site configuration inside a main context that runs unprivileged from ``folder``."""
    cert, key = _certificate(folder)
    site = resources.files("paperfeed.deploy").joinpath("nginx-site.conf").read_text()
    for name, value in {"LISTEN": listen, "UPSTREAM": upstream, "SERVER_NAME": "localhost",
                        "CERT": cert, "KEY": key}.items():
        site = site.replace(f"@{name}@", value)
    temp = " ".join(f"{kind}_temp_path {folder}/{kind};"
                    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    return (f"daemon off; master_process off; pid {folder}/nginx.pid;\n"
            f"error_log {folder}/error.log warn;\n"
            f"events {{ worker_connections 256; }}\n"
            f"http {{ access_log off; {temp}\n{site}\n}}\n")


class Visitor:
    """A browser of sorts on one source address: keeps its cookies, speaks TLS to nginx."""

    def __init__(self, port: int, source: str):
        self.port, self.source, self.cookies = port, source, {}
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE

    def request(self, method: str, path: str, body: dict | None = None,
                headers: dict | None = None) -> http.client.HTTPResponse:
        connection = http.client.HTTPSConnection("localhost", self.port, timeout=30,
                                                 source_address=(self.source, 0),
                                                 context=self.context)
        headers = {"Host": f"localhost:{self.port}", **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        data = None
        if body is not None:
            data = urlencode(body)
            headers.update({"Content-Type": "application/x-www-form-urlencoded",
                            "Origin": f"https://localhost:{self.port}",
                            "Referer": f"https://localhost:{self.port}{path}"})
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        response.body = response.read()
        response.text = response.body.decode(errors="replace")
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, value = cookie.split(";", 1)[0].split("=", 1)
            self.cookies[name] = value
        connection.close()
        return response

    def fail_to_sign_in(self, **headers) -> http.client.HTTPResponse:
        page = self.request("GET", "/accounts/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        return self.request("POST", "/accounts/login/", {
            "csrfmiddlewaretoken": token, "username": "nobody", "password": "a wrong guess"},
            headers=headers)


@pytest.fixture(scope="module", params=["granian", "gunicorn", "waitress"])
def site(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp("nginx")
    app_port, tls_port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PAPERFEED_") and k != "DATABASE_URL"}
    env.update(PAPERFEED_DATA_DIR=str(folder / "data"), PAPERFEED_HTTPS="true",
               PAPERFEED_PROXY_COUNT="1", PAPERFEED_ALLOWED_HOSTS="localhost,127.0.0.1",
               PAPERFEED_RATE_FAILED_LOGINS_PER_IP="2/hour", PAPERFEED_API_RATE_LIMIT="3",
               PAPERFEED_API_RATE_WINDOW="3600", DJANGO_SETTINGS_MODULE="paperfeed.settings")
    server = subprocess.Popen(
        [sys.executable, "-m", "paperfeed.cli", "serve", "--no-demo", "--host", "127.0.0.1",
         "--port", str(app_port), "--server", request.param, "--workers", "2"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    (folder / "nginx.conf").write_text(nginx_config(
        folder, listen=f"127.0.0.1:{tls_port}", upstream=f"127.0.0.1:{app_port}"))
    proxy = subprocess.Popen([NGINX, "-p", str(folder), "-c", str(folder / "nginx.conf")],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        _wait_for_port(app_port, server, "paperfeed serve")
        _wait_for_port(tls_port, proxy, "nginx")
        yield {"tls": tls_port, "app": app_port}
    finally:
        for process in (proxy, server):
            process.terminate()
            process.wait(timeout=30)


def _wait_for_port(port: int, process: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{what} exited: {process.stdout.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{what} did not listen on {port}")


def test_https_behind_the_proxy_serves_pages_with_hsts_and_no_redirect_loop(site):
    response = Visitor(site["tls"], "127.0.0.2").request("GET", "/papers")
    assert response.status == 200, (response.status, response.headers.get("Location"))
    assert response.headers["Strict-Transport-Security"] == "max-age=2592000"
    # Straight to the app over plain HTTP, with no proxy saying https: sent to https.
    direct = http.client.HTTPConnection("127.0.0.1", site["app"], timeout=30)
    direct.request("GET", "/papers", headers={"Host": "localhost"})
    redirect = direct.getresponse()
    assert (redirect.status, redirect.headers["Location"]) == (301, "https://localhost/papers")
    assert "Strict-Transport-Security" not in redirect.headers


def test_one_client_locked_out_of_sign_in_does_not_lock_out_another(site):
    first, second = Visitor(site["tls"], "127.0.0.2"), Visitor(site["tls"], "127.0.0.3")
    assert [first.fail_to_sign_in().status for _ in range(2)] == [200, 200]
    refused = first.fail_to_sign_in()
    assert refused.status == 429 and "Too many failed sign-ins" in refused.text
    # A made-up X-Forwarded-For from the locked-out client does not get it through:
    # nginx appends the real source, and only that last entry is trusted.
    for spoofed in ("127.0.0.3", "203.0.113.9", "203.0.113.9, 127.0.0.3", "not an address"):
        assert first.fail_to_sign_in(**{"X-Forwarded-For": spoofed}).status == 429, spoofed
    assert second.fail_to_sign_in().status == 200


def test_the_api_limit_is_per_client_behind_the_proxy(site):
    first, second = Visitor(site["tls"], "127.0.0.4"), Visitor(site["tls"], "127.0.0.5")
    statuses = [first.request("GET", "/api/daily_papers").status for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    spoofed = first.request("GET", "/api/daily_papers", headers={"X-Forwarded-For": "10.1.1.1"})
    assert spoofed.status == 429
    assert second.request("GET", "/api/daily_papers").status == 200


def test_static_files_are_hashed_compressed_and_cached_for_a_year_or_more(site):
    visitor = Visitor(site["tls"], "127.0.0.6")
    page = visitor.request("GET", "/papers").text
    css = re.search(r'href="(/static/paperfeed/site\.[0-9a-f]{12}\.css)"', page).group(1)
    response = visitor.request("GET", css, headers={"Accept-Encoding": "gzip"})
    assert response.status == 200 and response.headers["Content-Encoding"] == "gzip"
    cache_control = response.headers["Cache-Control"]
    assert "immutable" in cache_control and int(re.search(r"max-age=(\d+)", cache_control)[1]) >= 31536000


def test_health_and_metrics_add_up_across_the_server_processes(site):
    visitor = Visitor(site["tls"], "127.0.0.7")
    assert visitor.request("GET", "/healthz").text == "ok\n"
    ready = visitor.request("GET", "/readyz")
    assert ready.status == 200 and '"ready": true' in ready.text
    for _ in range(12):  # new connections: either worker may answer each
        visitor.request("GET", "/papers/trending")
    scraped = visitor.request("GET", "/metrics").text
    served = [float(line.rsplit(" ", 1)[1]) for line in scraped.splitlines()
              if line.startswith("paperfeed_http_requests_total{")
              and 'route="papers/trending"' in line and 'status="200"' in line]
    assert sum(served) >= 12, scraped
    assert 'paperfeed_page_cache_requests_total{outcome="hits"}' in scraped
