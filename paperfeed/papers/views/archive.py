"""Daily, weekly and monthly pages: Django's date-based views with one mixin."""

from __future__ import annotations

import datetime as dt
import re

from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic.dates import DayArchiveView, MonthArchiveView, WeekArchiveView

from paperfeed.lib.periods import iso_week, month_bounds, week_bounds
from paperfeed.papers.models import Paper
from paperfeed.papers.views.mixins import PaperListMixin

_WEEK = re.compile(r"(\d{4})-?W(\d{1,2})", re.IGNORECASE)
_MONTH = re.compile(r"(\d{4})-(\d{1,2})")


def _bounds_or_404(match: re.Match | None, bounds, message: str) -> tuple[dt.date, dt.date]:
    """``bounds(year, number)`` of a week or month the URL spelled, or a 404."""
    try:
        if match:
            return bounds(int(match[1]), int(match[2]))
    except ValueError:
        pass
    raise Http404(message)


class PeriodMixin(PaperListMixin):
    """Adds the period's bounds, neighbours with papers, and a label to the context.

    The papers are those of ``period_bounds`` (first and last day, inclusive), not of
    Django's ``[start, next start)``: the next start of 9999-12 or of the week holding
    9999-12-31 is past the last date Python can hold. Django's naive previous/next
    day/week/month are not computed either (they would overflow at the same edges):
    the page links the nearest periods that have papers instead.
    """

    period = ""

    def period_bounds(self) -> tuple[dt.date, dt.date]:
        raise NotImplementedError

    def period_url(self, day: dt.date) -> str:
        raise NotImplementedError

    def get_period_queryset(self):
        start, end = self.period_bounds()
        return self.get_dated_queryset(feed_date__gte=start, feed_date__lte=end)

    def _no_neighbour(self, date):
        return None

    get_next_day = get_previous_day = _no_neighbour
    get_next_week = get_previous_week = _no_neighbour
    get_next_month = get_previous_month = _no_neighbour

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        start, end = self.period_bounds()
        days = self.filter_category(Paper.objects.all())
        before = days.visible().in_feed().filter(feed_date__lt=start).order_by("-feed_date")
        after = days.visible().in_feed().filter(feed_date__gt=end).order_by("feed_date")
        previous_day = before.values_list("feed_date", flat=True).first()
        next_day = after.values_list("feed_date", flat=True).first()
        query = self.category_query()
        context.update(
            nav="daily",
            period=self.period,
            week_slug=iso_week(start),
            month_slug=f"{start.year:04d}-{start.month:02d}",
            period_start=start,
            period_end=end,
            previous_day=previous_day,
            next_day=next_day,
            previous_url=self.period_url(previous_day) + query if previous_day else "",
            next_url=self.period_url(next_day) + query if next_day else "",
        )
        return context


class DayView(PeriodMixin, DayArchiveView):
    period = "day"
    month_format = "%m"
    template_name = "papers/day.html"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        if "date" in kwargs:
            year, month, day = kwargs["date"].split("-")
            self.kwargs.update(year=year, month=month, day=day)

    def period_bounds(self):
        day = self.get_day_date()
        return day, day

    def get_day_date(self) -> dt.date:
        try:
            return dt.date(int(self.get_year()), int(self.get_month()), int(self.get_day()))
        except ValueError:
            raise Http404("There is no such day.") from None

    def period_url(self, day: dt.date) -> str:
        return reverse("papers:day", args=[day.isoformat()])

    def get_dated_items(self):
        day = self.get_day_date()
        return None, self.get_period_queryset(), {"day": day}


class LatestView(DayView):
    """``/papers``: the latest day that has papers."""

    def get(self, request, *args, **kwargs):
        latest = self.filter_category(Paper.objects.all()).latest_feed_day()
        self.latest = latest
        if latest is None:
            latest = dt.date.today()
        self.kwargs.update(year=str(latest.year), month=f"{latest.month:02d}", day=str(latest.day))
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["is_latest"] = True
        context["no_papers_at_all"] = self.latest is None
        return context


class WeekView(PeriodMixin, WeekArchiveView):
    period = "week"
    year_format = "%G"
    week_format = "%V"
    template_name = "papers/week.html"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        match = _WEEK.fullmatch(kwargs.get("week", ""))
        self.bounds = _bounds_or_404(
            match, week_bounds, "Weeks look like 2025-W07 (and week 53 exists only in some years).")
        self.kwargs.update(year=match[1], week=match[2])

    def period_bounds(self):
        return self.bounds

    def period_url(self, day: dt.date) -> str:
        return reverse("papers:week", args=[iso_week(day)])

    def get_dated_items(self):
        return None, self.get_period_queryset(), {"week": self.bounds[0]}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["iso_week"] = f"{int(self.get_year()):04d}-W{int(self.get_week()):02d}"
        return context


class MonthView(PeriodMixin, MonthArchiveView):
    period = "month"
    month_format = "%m"
    template_name = "papers/month.html"

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        match = _MONTH.fullmatch(kwargs.get("month", ""))
        self.bounds = _bounds_or_404(match, month_bounds, "Months look like 2025-07.")
        self.kwargs.update(year=match[1], month=f"{int(match[2]):02d}")

    def period_bounds(self):
        return self.bounds

    def period_url(self, day: dt.date) -> str:
        return reverse("papers:month", args=[f"{day.year:04d}-{day.month:02d}"])

    def get_dated_items(self):
        # The page doesn't show the month's list of days: no date list, no query for it.
        return [], self.get_period_queryset(), {"month": self.bounds[0]}


def go_to_date(request):
    """Target of the date pickers (GET forms): redirect to the page for that period.

    Browsers without a native week/month picker send free text, so parsing is lenient
    and anything unreadable lands on the latest day with a note rather than an error.
    """
    category = request.GET.get("category", "").strip()
    suffix = f"?category={category}" if category else ""
    raw_date = request.GET.get("date", "").strip()
    raw_week = request.GET.get("week", "").strip()
    raw_month = request.GET.get("month", "").strip()
    try:
        if raw_date:
            day = dt.date.fromisoformat(raw_date)
            return redirect(reverse("papers:day", args=[day.isoformat()]) + suffix)
        if match := _WEEK.fullmatch(raw_week):
            week_bounds(int(match[1]), int(match[2]))
            return redirect(reverse("papers:week", args=[f"{match[1]}-W{int(match[2]):02d}"]) + suffix)
        if match := _MONTH.fullmatch(raw_month):
            month_bounds(int(match[1]), int(match[2]))
            return redirect(reverse("papers:month", args=[f"{match[1]}-{int(match[2]):02d}"]) + suffix)
    except ValueError:
        pass
    return redirect(reverse("papers:latest") + suffix)
