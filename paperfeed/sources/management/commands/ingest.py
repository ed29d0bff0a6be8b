"""``paperfeed ingest SOURCE``: run one source by hand (the worker runs the daily ones).

Every source prints progress, ends with one summary line (fetched / new / updated /
skipped) and exits non-zero when it could not do everything asked: 1 when a source
failed (unreachable, bad data), 2 for bad arguments. What was stored before a failure
stays stored (one transaction per page) and a rerun skips it.
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from paperfeed.lib.cli_args import (
    arxiv_id,
    category_code,
    http_url,
    iso_date,
    iso_month,
    iso_week,
    non_negative_float,
    non_negative_int,
    oai_set,
    positive_int,
)
from paperfeed.papers.merge import MergeStats
from paperfeed.papers.records import PaperRecord
from paperfeed.sources import arxiv_api, arxiv_oai, arxiv_rss, hf_daily, kaggle
from paperfeed.sources.http import PoliteClient, SourceError
from paperfeed.sources.importing import import_pages

log = logging.getLogger("paperfeed.sources")


class Command(BaseCommand):
    help = "Fetch papers from arXiv (OAI-PMH, API, RSS), Hugging Face or a Kaggle snapshot."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="source", metavar="SOURCE")
        sub.required = True

        oai = sub.add_parser("arxiv-oai", help="Harvest arXiv over OAI-PMH (resumable).")
        oai.add_argument("--from", dest="from_date", type=iso_date, metavar="DATE",
                         help="first datestamp (default: where the last harvest ended)")
        oai.add_argument("--until", type=iso_date, metavar="DATE")
        oai.add_argument("--set", dest="set_spec", default="", type=oai_set, metavar="SET",
                         help="an OAI set such as cs, math, physics:hep-th")
        oai.add_argument("--metadata-prefix", choices=arxiv_oai.FORMATS, default="arXiv")
        oai.add_argument("--restart", action="store_true",
                         help="ignore a checkpoint and start the harvest over")

        api = sub.add_parser("arxiv-api", help="Look papers up by id, or run a search.")
        what = api.add_mutually_exclusive_group(required=True)
        what.add_argument("--id", dest="ids", nargs="+", type=arxiv_id, metavar="ID")
        what.add_argument("--query", metavar="QUERY", help="e.g. 'cat:cs.LG AND ti:diffusion'")
        api.add_argument("--max", type=positive_int, default=100, help="most results of --query")

        rss = sub.add_parser("arxiv-rss", help="Today's arXiv announcements per category.")
        rss.add_argument("--category", dest="categories", nargs="+", required=True,
                         type=category_code,
                         metavar="CAT")
        rss.add_argument("--announce-type", dest="announce_types", nargs="+",
                         choices=arxiv_rss.ANNOUNCE_TYPES, default=list(arxiv_rss.ANNOUNCE_TYPES))
        rss.add_argument("--in-feed", action="store_true", default=None,
                         help="put new papers in the daily feed (PAPERFEED_RSS_IN_FEED)")

        hf = sub.add_parser("hf-daily", help="Hugging Face Daily Papers of a day/week/month.")
        period = hf.add_mutually_exclusive_group()
        period.add_argument("--date", type=iso_date, help="default: today (UTC)")
        period.add_argument("--week", type=iso_week, help="ISO week, e.g. 2026-W31")
        period.add_argument("--month", type=iso_month, help="e.g. 2026-07")

        kag = sub.add_parser("kaggle", help="Stream a Kaggle arXiv snapshot (.json or .json.gz).")
        kag.add_argument("file", metavar="FILE",
                         help="a path (a pipe such as /dev/stdin works too), or a path "
                              "under --base-url to stream over HTTP")
        kag.add_argument("--batch-size", type=positive_int, default=2000)
        kag.add_argument("--no-progress", action="store_true")
        kag.add_argument("--workers", type=non_negative_int, default=None, metavar="N",
                         help="processes that parse while this one writes (default: 1 "
                              "with two or more cores, else 0: parse in this process)")
        kag.add_argument("--index-while-importing", action="store_true",
                         help="update the search index every ~10,000 papers instead of "
                              "once at the end (new papers become searchable sooner; the "
                              "import is slower)")

        for command in (oai, api, rss, hf, kag):
            command.add_argument("--base-url", metavar="URL", type=http_url,
                                 help="endpoint to use instead of the configured one")
            command.add_argument("--delay", type=non_negative_float, metavar="SECONDS",
                                 help="seconds between requests (PAPERFEED_SOURCES_DELAY)")

    def handle(self, *args, source: str, **options):
        self.client = PoliteClient(delay=options["delay"])
        handler = getattr(self, "_" + source.replace("-", "_"))
        try:
            stats, extra = handler(options)
        except SourceError as exc:
            log.error("%s: %s", source, exc)
            raise CommandError(f"{source} failed: {exc}", returncode=1) from exc
        self.stdout.write(f"{source}: {stats.summary()}{extra}")

    def _page_printer(self, label: str):
        def on_page(number: int, page: list[PaperRecord], stats: MergeStats) -> None:
            self.stdout.write(f"{label} page {number}: {len(page)} records — {stats.summary()}")
        return on_page

    def _arxiv_oai(self, options) -> tuple[MergeStats, str]:
        if options["from_date"] and options["until"] and options["from_date"] > options["until"]:
            raise CommandError(f"--from {options['from_date']} is after --until "
                               f"{options['until']}", returncode=2)
        def on_page(result, page) -> None:
            state = result.state
            size = f"/{state.complete_list_size}" if state.complete_list_size else ""
            self.stdout.write(f"page {state.pages}: {len(page.records)} records "
                              f"({state.records}{size} this harvest) — {result.stats.summary()}")

        harvester = arxiv_oai.Harvester(
            set_spec=options["set_spec"], from_date=options["from_date"],
            until=options["until"], metadata_prefix=options["metadata_prefix"],
            restart=options["restart"], base_url=options["base_url"], client=self.client,
            on_page=on_page)
        result = harvester.run()
        resumed = " (resumed)" if result.resumed else ""
        extra = f" / deleted {result.deleted} / pages {result.pages}{resumed}"
        if result.rejected:
            self.stdout.write(f"arxiv-oai: {result.stats.summary()}{extra} / rejected "
                              f"{result.rejected}")
            raise CommandError(f"{result.rejected} record(s) could not be read and were "
                               f"skipped; `paperfeed rejected` lists them", returncode=1)
        return result.stats, extra

    def _arxiv_api(self, options) -> tuple[MergeStats, str]:
        if options["ids"]:
            records = arxiv_api.fetch_by_ids(options["ids"], base_url=options["base_url"],
                                             client=self.client)
            pages = [records]
        else:
            pages = (p.records for p in arxiv_api.search(
                options["query"], limit=options["max"], base_url=options["base_url"],
                client=self.client))
        return import_pages(pages, self._page_printer("arxiv-api")), ""

    def _arxiv_rss(self, options) -> tuple[MergeStats, str]:
        feeds = arxiv_rss.fetch(options["categories"],
                                announce_types=tuple(options["announce_types"]),
                                in_feed=options["in_feed"], base_url=options["base_url"],
                                client=self.client)

        def pages():
            for feed in feeds:
                self.stdout.write(f"{feed.category} ({feed.announced_on}): "
                                  f"{len(feed.records)} announcements")
                yield feed.records

        return import_pages(pages(), self._page_printer("arxiv-rss")), ""

    def _hf_daily(self, options) -> tuple[MergeStats, str]:
        try:
            period = hf_daily.period_params(date=options["date"], week=options["week"],
                                            month=options["month"])
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from exc
        pages = hf_daily.fetch(period, base_url=options["base_url"], client=self.client)
        return import_pages(pages, self._page_printer(f"hf-daily {period[1]}")), ""

    def _kaggle(self, options) -> tuple[MergeStats, str]:
        progress = not options["no_progress"]
        choices = {"workers": options["workers"],
                   "index_at_end": not options["index_while_importing"]}
        if options["base_url"]:
            result = kaggle.ingest_url(options["base_url"], options["file"],
                                       batch_size=options["batch_size"],
                                       client=self.client, **choices)
        else:
            path = Path(options["file"])
            if not path.exists() or path.is_dir():
                raise CommandError(f"{path}: no such file", returncode=2)
            result = kaggle.ingest_file(path, batch_size=options["batch_size"],
                                        progress=progress, **choices)
        extra = f" / lines {result.lines}"
        if result.errors or result.broken_off:
            self.stdout.write(f"kaggle: {result.stats.summary()}{extra} / bad lines "
                              f"{len(result.errors)}")
            problems = [result.broken_off] if result.broken_off else []
            if result.errors:
                problems.append(f"{len(result.errors)} bad line(s), first: {result.errors[0]}")
            raise CommandError("; ".join(problems), returncode=1)
        return result.stats, extra
