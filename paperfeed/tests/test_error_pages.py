"""Error pages in the site's layout, with a search box and a way home; the 500 page even
with the database down; the CSRF failure page says what happened."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _assert_site_page(html: str, heading: str) -> None:
    assert '<header class="site-header">' in html and 'href="/static/paperfeed/site.css"' in html
    assert f"<h1>{heading}</h1>" in html
    assert 'action="/papers/search"' in html and 'id="error-q"' in html
    assert ">Today's papers</a>" in html


def test_a_mistyped_address_gets_the_404_page(client):
    response = client.get("/papers/date/2025-13-45x")
    assert response.status_code == 404
    _assert_site_page(response.content.decode(), "This page does not exist")
    assert "<code>/papers/date/2025-13-45x</code>" in response.content.decode()


def test_a_forbidden_page_gets_the_403_page(client):
    from paperfeed.community.tests import factories

    client.force_login(factories.member("ada"))
    response = client.get("/moderation/")
    assert response.status_code == 403
    _assert_site_page(response.content.decode(), "You may not open this page")


def test_a_bad_host_gets_the_400_page(client):
    response = client.get("/papers", headers={"host": "evil.example"})
    assert response.status_code == 400
    _assert_site_page(response.content.decode(), "That request could not be understood")


def test_a_stale_form_explains_itself_and_offers_a_reload():
    from paperfeed.community.tests import factories

    paper = factories.paper("A paper")
    client = Client(enforce_csrf_checks=True)
    client.force_login(factories.member("ada"))
    client.get(paper.get_absolute_url())  # sets the CSRF cookie
    client.cookies["csrftoken"] = "x" * 32  # another tab signed in again
    page = client.get(paper.get_absolute_url()).content.decode()
    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    client.cookies["csrftoken"] = "y" * 32
    referer = "http://testserver" + paper.get_absolute_url()
    response = client.post(f"/votes/{paper.pk}/", {"vote": "1", "csrfmiddlewaretoken": token},
                           headers={"referer": referer})
    assert response.status_code == 403
    html = response.content.decode()
    _assert_site_page(html, "This page was out of date")
    assert "signed in or out in another tab" in html
    assert f'<a class="button" href="{referer}">Reload the page</a>' in html
    # The vote script asks for JSON and gets a message it can show.
    response = client.post(f"/votes/{paper.pk}/", {"vote": "1", "csrfmiddlewaretoken": token},
                           headers={"accept": "application/json", "referer": referer})
    assert response.status_code == 403 and "Reload the page" in response.json()["error"]


def test_a_reload_link_never_points_off_site():
    from paperfeed.community.tests import factories

    paper = factories.paper("A paper")
    client = Client(enforce_csrf_checks=True)
    response = client.post(f"/votes/{paper.pk}/", {"vote": "1"},
                           headers={"referer": "https://evil.example/"})
    html = response.content.decode()
    assert response.status_code == 403 and "evil.example" not in html
    assert "Go back, reload the page" in html
    assert "cookies must be allowed" in html  # no cookie was sent at all


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.skipif(bool(os.environ.get("DATABASE_URL")),
                    reason="starts its own server; run once, by the SQLite pass")
def test_the_500_page_draws_with_the_database_down(tmp_path):
    """A real server whose PostgreSQL is unreachable (nothing listens on its port)."""
    env = {**os.environ, "PAPERFEED_DATA_DIR": str(tmp_path), "PAPERFEED_DEBUG": "false",
           "DATABASE_URL": f"postgres://paperfeed@127.0.0.1:{_free_port()}/paperfeed",
           "DJANGO_SETTINGS_MODULE": "paperfeed.settings"}
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "waitress", "--listen", f"127.0.0.1:{port}",
         "paperfeed.wsgi:application"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/papers", timeout=10) as ok:
                    status, html = ok.status, ok.read().decode()
                break
            except urllib.error.HTTPError as error:
                status, html = error.code, error.read().decode()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        server.terminate()
        output = server.communicate(timeout=30)[0]
    assert status == 500, output
    _assert_site_page(html, "Something went wrong on our side")
    assert "OperationalError" in output or "connection" in output.lower()
