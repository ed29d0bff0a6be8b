#!/usr/bin/env python
"""Screenshots of the main pages at a phone's and a laptop's size, for docs/screenshots/.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Builds a throwaway site (SQLite in a temporary folder: the demo corpus, its keyword index,
a member "ada" with a short comment thread), serves it with waitress on a free loopback
port and photographs each page's first screen in headless Chromium (/usr/bin/chromium).
PNGs are reduced to a 128-colour palette, so each is tens of kilobytes.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
PASSWORD = "screenshots-only-password"
COMMENT = ("## Nice result\n\n> Evolution strategies at this scale were out of reach.\n\n"
           "```\npython train.py --population 262144\n```\n\nDoes it hold for `int8` weights?")


def _prepare(data_dir: Path) -> dict[str, str]:
    """The site's data, made in this process; returns the pages to photograph."""
    os.environ.update(PAPERFEED_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="paperfeed.settings",
                      PAPERFEED_SEARCH_DIR=str(data_dir / "search"))
    os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from paperfeed.community import comments
    from paperfeed.community.models import Profile
    from paperfeed.papers.models import Paper
    from paperfeed.search.indexing import rebuild
    from paperfeed.search.service import get_engine
    from paperfeed.sources.demo import load_demo_corpus

    call_command("migrate", verbosity=0)
    load_demo_corpus()
    rebuild(get_engine())
    member = get_user_model().objects.create_user("ada", "ada@example.org", PASSWORD)
    Profile.objects.filter(user=member).update(email_verified_at=timezone.now())
    paper = Paper.objects.filter(feed_date__isnull=False).order_by("-feed_date", "pk").first()
    first = comments.post_comment(member, paper, COMMENT)
    comments.post_comment(member, paper, "It does, see section 5.", parent=first)
    return {"daily": "/papers", "trending": "/papers/trending",
            "paper": paper.get_absolute_url(), "comments": paper.get_absolute_url() + "#comments",
            "search": "/papers/search?q=diffusion", "for-you": "/papers/for-you"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _serve(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "waitress", "--listen", f"127.0.0.1:{port}", "--threads", "4",
         "paperfeed.wsgi:application"], env=os.environ.copy(),
        stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.json", timeout=5)
            return server
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the screenshot server did not start") from None
            time.sleep(0.3)


def _small_png(path: Path) -> None:
    try:
        from PIL import Image
    except ImportError:  # Pillow is optional: keep the full-colour PNG
        return
    with Image.open(path) as image:
        reduced = image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT)
    reduced.save(path, optimize=True)


def _photograph(base: str, pages: dict[str, str], out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                             args=["--no-sandbox", "--disable-gpu"])
        shots = [(size, "light") for size in SIZES] + [("phone", "dark")]
        for size, scheme in shots:
            context = browser.new_context(viewport=SIZES[size], color_scheme=scheme)
            page = context.new_page()
            page.goto(base + "/accounts/login/")
            page.fill("input[name=username]", "ada")
            page.fill("input[name=password]", PASSWORD)
            page.click("main form button[type=submit]")
            page.wait_for_load_state()
            for name, path in pages.items():
                if scheme == "dark" and name != "daily":
                    continue
                page.goto(base + path)
                page.wait_for_load_state("networkidle")
                file = out / f"{name}-{size}{'-dark' if scheme == 'dark' else ''}.png"
                page.screenshot(path=str(file))
                _small_png(file)
                written.append(file)
            context.close()
        browser.close()
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    sys.path.insert(0, str(REPO))
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO),
                                                               os.environ.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="paperfeed-shots-") as tmp:
        pages = _prepare(Path(tmp))
        port = _free_port()
        server = _serve(port)
        try:
            written = _photograph(f"http://127.0.0.1:{port}", pages, args.out)
        finally:
            server.terminate()
            server.wait(timeout=30)
    for file in written:
        print(f"{file.relative_to(REPO) if file.is_relative_to(REPO) else file}  "
              f"{file.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
